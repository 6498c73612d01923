//! The certificate read as an official statement: the authority's letterhead, the statement
//! block, the signer's NIP, in reading order; and the letterhead of an issued certificate never
//! changes when the authority is edited later.

use reqwest::multipart::{Form, Part};

use crate::helpers::*;

crate::on_both_backends!(
    the_certificate_is_a_statement_under_the_authoritys_letterhead,
    the_authority_form_refuses_a_bad_logo_precisely
);

const LOGO: &[u8] = include_bytes!("../../assets/logo/kop-demo.png");

fn authority_form(csrf: &str, office: &str, logo: Option<(&'static [u8], &str)>) -> Form {
    let mut form = Form::new()
        .text("csrf", csrf.to_string())
        .text("name", "Pemerintah Provinsi Sulawesi Selatan")
        .text("office", office.to_string())
        .text("address", "Jalan Urip Sumoharjo Nomor 269, Makassar 90231")
        .text("place", "Makassar");
    if let Some((bytes, name)) = logo {
        form = form.part(
            "logo",
            Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str("image/png")
                .unwrap(),
        );
    }
    form
}

async fn set_authority(app: &TestApp, office: &str) {
    add_admin(app, "bkd@sulselprov.go.id", "provinsi", "73", None);
    let (browser, csrf) = admin_browser(app, "bkd@sulselprov.go.id", None).await;
    let url = app.url(&format!("/admin/kampanye/{}/penerbit", app.campaign_id));
    let saved = browser
        .post(&url)
        .multipart(authority_form(&csrf, office, Some((LOGO, "logo.png"))))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let page = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(office) && page.contains("data:image/png;base64,"));
}

fn page_text(pdf: &[u8]) -> String {
    let (ok, text) = tool_output("pdftotext", &[], pdf);
    assert!(ok);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn the_certificate_is_a_statement_under_the_authoritys_letterhead(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    set_authority(&app, "Badan Kepegawaian Daerah").await;
    // A revision is in force from the next second on.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (token, signed) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    let pdf = app.pdf(&token, &id).await;
    assert_eq!(pdf, app.pdf(&token, &id).await, "two renders, one file");

    // The verify page and the letter to the signer name the authority the letterhead names.
    let page = reqwest::get(app.url(&format!("/v/{id}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Penerbit dokumen") && page.contains("Badan Kepegawaian Daerah"),
        "{page}"
    );
    let mut letter = None;
    for _ in 0..80 {
        letter = std::fs::read_dir(app.outbox())
            .unwrap()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .find(|t| t.contains("rizal@contoh.go.id") && t.contains("application/pdf"));
        if letter.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let letter = letter.expect("the signer is mailed the certificate");
    assert!(
        letter.contains("Hormat kami,") && letter.contains("Badan Kepegawaian Daerah"),
        "{letter}"
    );

    let text = page_text(&pdf);
    let today = ikrar::domain::IndonesianZone::of_province("73")
        .format_date(chrono::DateTime::from_timestamp(ikrar::db::now(), 0).unwrap());
    // pdftotext without -layout reads in the order a screen reader does: this order.
    let in_order = [
        "PEMERINTAH PROVINSI SULAWESI SELATAN",
        "BADAN KEPEGAWAIAN DAERAH",
        "Jalan Urip Sumoharjo Nomor 269, Makassar 90231",
        "PAKTA INTEGRITAS",
        "Muhammad Rizal",
        "19900101 201903 1 002",
        "Saya yang bertanda tangan di bawah ini",
        "Bersikap netral",
        "Tidak menghadiri kegiatan yang diselenggarakan oleh partai politik.",
        &format!("Makassar, {today}"),
        "Yang menyatakan,",
        "Ditandatangani secara elektronik",
        "NIP 19900101 201903 1 002",
        "Dasar Hukum",
        "Undang-Undang Nomor 7 Tahun 2017",
        &app.document_sha256,
    ];
    let mut from = 0;
    for expected in in_order {
        let at = text[from..]
            .find(expected)
            .unwrap_or_else(|| panic!("{expected:?} missing after byte {from} of: {text}"));
        from += at + expected.len();
    }

    let (ok, check) = tool_output("qpdf", &["--check"], &pdf);
    assert!(
        ok && check.contains("No syntax or stream encoding errors found"),
        "{check}"
    );
    let (_, fonts) = tool_output("pdffonts", &[], &pdf);
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(columns[columns.len() - 5], "yes", "not embedded: {row}");
    }
    let (_, info) = tool_output("pdfinfo", &[], &pdf);
    let info = info.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        info.contains("Pages: 1"),
        "the built-in pact fits one page: {info}"
    );
    assert!(info.contains("Author: Badan Kepegawaian Daerah, Pemerintah Provinsi"));
    assert!(info.contains("Title: PAKTA INTEGRITAS"));
    assert!(String::from_utf8_lossy(&pdf).contains("/Lang(id-ID)"));
    assert_eq!(read_qr(&pdf, 72), signed["verify_url"].as_str().unwrap());

    // An edit of the authority is a new version: the issued certificate keeps its letterhead.
    let (browser, csrf) = admin_browser(&app, "bkd@sulselprov.go.id", None).await;
    let url = app.url(&format!("/admin/kampanye/{}/penerbit", app.campaign_id));
    let saved = browser
        .post(&url)
        .multipart(authority_form(
            &csrf,
            "Badan Kepegawaian dan Pengembangan SDM",
            None,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    assert_eq!(
        app.pdf(&token, &id).await,
        pdf,
        "an issued certificate never changes"
    );
}

async fn the_authority_form_refuses_a_bad_logo_precisely(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    add_admin(&app, "bkd@sulselprov.go.id", "provinsi", "73", None);
    let (browser, csrf) = admin_browser(&app, "bkd@sulselprov.go.id", None).await;
    let url = app.url(&format!("/admin/kampanye/{}/penerbit", app.campaign_id));
    let post = |form: Form| browser.post(&url).multipart(form).send();

    let gif: &'static [u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    let refused = post(authority_form(&csrf, "BKD", Some((gif, "logo.gif"))))
        .await
        .unwrap();
    assert_eq!(refused.status(), 415);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Berkas logo bukan gambar PNG"));

    let huge: &'static [u8] = Box::leak(vec![0u8; 300 * 1024].into_boxed_slice());
    let refused = post(authority_form(&csrf, "BKD", Some((huge, "logo.png"))))
        .await
        .unwrap();
    assert_eq!(refused.status(), 413);
    assert!(refused.text().await.unwrap().contains("terlalu besar"));

    let refused = post(authority_form(&csrf, " ", None)).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Nama perangkat daerah/kantor tidak boleh kosong"));
    assert_eq!(app.count("campaign_authorities"), 0, "nothing was stored");
}
