//! Every name the roster accepts gets a certificate that downloads and whose QR reads back, from
//! one character to the roster's limit of 120, with titles, apostrophes, hyphens and the
//! non-Latin letters the certificate font covers; what the font cannot print is refused before
//! anything is signed; and the signer receives the PDF, and later the revocation, by mail.

use std::process::Command;

use ikrar::certificate::QrMatrix;
use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    names_of_every_length_sign_download_and_read_back,
    the_qr_reads_from_a_poor_scan,
    unprintable_names_are_refused_before_anything_is_signed,
    the_signer_gets_the_pdf_and_the_revocation_by_mail
);

/// A 40-character base URL, as the QR size figures assume.
const BASE_40: &str = "https://pakta.bkd.sulselprov.go.id/ikrar";

/// Names are cut from this text: academic and religious titles, apostrophes, hyphens, and Latin
/// Extended, Greek and Cyrillic letters.
const SOURCE: &str = "Prof. Dr. Ir. H. Andi Muhammad Ṣalāḥuddin O'Neil Daeng-Mappuji Ἀλέξανδρος \
Пётр Wa Ode Sitti Hasnah (Baso) Karaeng Lompo, S.H., M.Si., M.H., Dr. Hj. Nurul ’Aini Yusuf";

/// A name of exactly `len` characters as the roster keeps it (no leading, trailing or doubled
/// spaces), starting somewhere different for each length.
fn name_of(len: usize) -> String {
    let chars: Vec<char> = SOURCE.chars().collect();
    let start = (len * 7) % chars.len();
    let mut name: Vec<char> = chars
        .iter()
        .cycle()
        .skip(start)
        .take(len)
        .copied()
        .collect();
    for i in 0..len {
        let edge = i == 0 || i == len - 1;
        if name[i] == ' ' && (edge || name[i - 1] == ' ') {
            name[i] = 'a';
        }
    }
    name.into_iter().collect()
}

/// The titled ASCII name of the acceptance figures, cut to `len` characters.
fn titled(len: usize) -> String {
    let text = "Prof. Dr. Ir. H. Andi Muhammad Yusuf Baso Daeng Mappuji Karaeng Lompo \
                Nurul Aini Hidayatullah Pattimura Sitti Rahmawati, S.H., M.Si., M.H., Ph.D.";
    let name: String = text.chars().take(len).collect();
    name.trim_end().to_string() + &"a".repeat(len - name.trim_end().chars().count())
}

/// A valid NIK (Makassar, born 1 January 1990) with serial `n`.
fn nik(n: usize) -> String {
    format!("7371010101900{:03}", n)
}

fn roster_row(n: usize, name: &str, email: &str) -> String {
    format!(
        ",{},\"{}\",Pramu Bakti,Sekretariat Daerah,Bagian Umum,PPNPN,73.71.01.1001,{email}\n",
        nik(n),
        name.replace('"', "\"\"")
    )
}

fn import(app: &TestApp, rows: &str) -> Result<(), String> {
    let path = app.dir.path().join(format!("extra-{}.csv", rows.len()));
    std::fs::write(
        &path,
        format!("nip,nik,full_name,position,agency,unit,employee_type,village_code,email\n{rows}"),
    )
    .unwrap();
    ikrar::roster::import(&app.db, &path)
        .map(drop)
        .map_err(|e| match e {
            ikrar::roster::ImportError::Rows(rows) => rows
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.to_string(),
        })
}

/// The QR version of the link as it would be with a 40-character base URL (the claim does not
/// depend on the base URL).
fn version_at_base_40(link: &str) -> usize {
    let (page, claim) = link.split_once('#').unwrap();
    let id = page.rsplit('/').next().unwrap();
    QrMatrix::encode(&format!("{BASE_40}/v/{id}#{claim}"))
        .unwrap()
        .version()
}

async fn signs_with(app: &TestApp, n: usize, name: &str) -> (String, String, String) {
    let email = format!("pegawai{n}@contoh.go.id");
    let (token, signed) = app.signs(&nik(n), &email, name).await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    let link = signed["verify_url"].as_str().unwrap().to_string();
    (token, id, link)
}

async fn names_of_every_length_sign_download_and_read_back(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut names: Vec<String> = (1..=120).map(name_of).collect();
    names.push(titled(60));
    names.push(titled(120));
    let rows: String = names
        .iter()
        .enumerate()
        .map(|(i, name)| roster_row(i + 1, name, &format!("pegawai{}@contoh.go.id", i + 1)))
        .collect();
    import(&app, &rows).expect("every name imports");

    let mut widest = 0;
    for (i, name) in names.iter().enumerate() {
        let (token, id, link) = signs_with(&app, i + 1, name).await;
        // The PDF and the certificate page download every time.
        let pdf = app.pdf(&token, &id).await;
        assert!(pdf.starts_with(b"%PDF-"), "{name}");
        let page = app
            .api
            .get(app.url(&format!("/sertifikat/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "/sertifikat for {name:?}");
        // The QR that poppler draws and zbar reads is exactly the link, a plain https-able URL.
        assert_eq!(
            read_qr(&pdf, 100),
            link,
            "{} characters: {name:?}",
            name.chars().count()
        );
        assert!(link.starts_with(&format!("{}/v/{id}#", app.base_url)));
        assert!(link
            .split_once('#')
            .unwrap()
            .1
            .bytes()
            .all(|b| b.is_ascii_digit()));
        // The verification page agrees with the claim.
        let claim = link.split_once('#').unwrap().1;
        let verdict: Value = app
            .api
            .get(app.url(&format!("/api/v1/verify/{id}?claim={claim}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(verdict["status"], "genuine", "{name:?}");
        widest = widest.max(version_at_base_40(&link));
    }
    let v60 = version_at_base_40(&signs_with(&app, 121, &names[120]).await.2);
    let v120 = version_at_base_40(&signs_with(&app, 122, &names[121]).await.2);
    eprintln!("QR versions at a 40-character base URL: titled 60 → {v60}, titled 120 → {v120}, widest of the sweep → {widest}");
    assert!(v60 <= 10, "60 characters: version {v60}");
    assert!(v120 <= 13, "120 characters: version {v120}");
}

/// zbar reads the QR from a 72-dpi render, and from a 100-dpi render blurred (σ 1.0) and turned
/// 5°, as a cheap phone camera sees a printed certificate.
async fn the_qr_reads_from_a_poor_scan(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    import(&app, &roster_row(1, &titled(60), "pegawai1@contoh.go.id")).unwrap();
    let (token, id, link) = signs_with(&app, 1, &titled(60)).await;
    let pdf = app.pdf(&token, &id).await;
    assert_eq!(read_qr(&pdf, 72), link, "72 dpi");
    // To look at the certificate of a 60-character titled name: IKRAR_TEST_KEEP_PDF=/abs/file.pdf
    if let Ok(keep) = std::env::var("IKRAR_TEST_KEEP_PDF") {
        std::fs::write(keep, &pdf).unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let page = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", "100", "-png", "-singlefile", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(&page)
        .status()
        .unwrap();
    assert!(status.success());
    let degraded = dir.path().join("degraded.png");
    let status = Command::new("convert")
        .arg(page.with_extension("png"))
        .args(["-blur", "0x1.0", "-rotate", "5"])
        .arg(&degraded)
        .status()
        .expect("imagemagick is installed");
    assert!(status.success());
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&degraded)
        .output()
        .unwrap();
    let read = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        read, link,
        "zbar reads the QR from a 100-dpi render blurred (0x1.0) and turned 5 degrees"
    );
}

async fn unprintable_names_are_refused_before_anything_is_signed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // At import: the precise row and column, and the character.
    let refused = import(&app, &roster_row(1, "Andi 山田", "pegawai1@contoh.go.id")).unwrap_err();
    assert!(
        refused.contains("baris 2, kolom full_name") && refused.contains("U+5C71"),
        "{refused}"
    );
    // At signing, for a value that reached the roster another way: a 4xx and no certificate.
    import(&app, &roster_row(1, "Andi Baso", "pegawai1@contoh.go.id")).unwrap();
    use diesel::prelude::*;
    diesel::sql_query(format!(
        "UPDATE employees SET position = 'Pramu Bakti 山' WHERE nik = '{}'",
        nik(1)
    ))
    .execute(&mut *app.db.write().unwrap())
    .unwrap();
    let token = app.sign_in(&nik(1), "pegawai1@contoh.go.id").await;
    let before = app.count("certificates");
    let response = app
        .sign(&token, &app.campaign_id, "Andi Baso", &app.document_sha256)
        .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let body = response.text().await.unwrap();
    assert!(
        body.contains("U+5C71") && body.contains("Jabatan"),
        "{body}"
    );
    assert_eq!(app.count("certificates"), before);
}

/// The mail carrying `needle` to `email`, waiting up to 20 s for the node's letter queue.
async fn mail_to(app: &TestApp, email: &str, needle: &str) -> String {
    for _ in 0..80 {
        for entry in std::fs::read_dir(app.outbox()).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.contains(email) && text.contains(needle) {
                return text;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("no mail to {email} with {needle:?}");
}

/// The PDF attached to a mail (its base64 part), decoded.
fn attached_pdf(mail: &str) -> Vec<u8> {
    let mail = mail.replace("\r\n", "\n");
    let part = mail
        .split("\n--")
        .find(|p| p.contains("Content-Type: application/pdf"))
        .expect("a PDF attachment");
    let body = part.split_once("\n\n").unwrap().1;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    data_encoding::BASE64.decode(b64.as_bytes()).unwrap()
}

async fn the_signer_gets_the_pdf_and_the_revocation_by_mail(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    let mail = mail_to(&app, "andi@contoh.go.id", "application/pdf").await;
    assert!(
        mail.contains("Yth. Bapak/Ibu Andi Nurul Hidayah, S.Pd."),
        "{mail}"
    );
    let pdf = attached_pdf(&mail);
    assert!(pdf.starts_with(b"%PDF-"));
    let (ok, _) = tool_output("qpdf", &["--check"], &pdf);
    assert!(ok, "qpdf --check accepts the attached PDF");
    let (_, text) = tool_output("pdftotext", &[], &pdf);
    let (_, info) = tool_output("pdfinfo", &[], &pdf);
    assert!(
        text.contains(&id) || info.contains(&id),
        "the attachment names certificate {id}"
    );
    assert_eq!(
        pdf,
        app.pdf(&token, &id).await,
        "the same PDF as the download"
    );

    // An admin revokes it: the signer is told the public category, never the private note.
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    let (browser, csrf) = admin_browser(&app, "admin@sulselprov.go.id", None).await;
    let response = browser
        .post(app.url(&format!("/admin/sertifikat/{id}/cabut")))
        .form(&[
            ("reason", "data_keliru"),
            (
                "note",
                "Catatan rahasia: salah ketik NIP oleh operator Budi",
            ),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let notice = mail_to(&app, "andi@contoh.go.id", "dicabut").await;
    assert!(notice.contains(&id), "{notice}");
    assert!(
        notice.contains("Data pegawai pada sertifikat keliru"),
        "{notice}"
    );
    assert!(!notice.contains("rahasia") && !notice.contains("operator Budi"));
}
