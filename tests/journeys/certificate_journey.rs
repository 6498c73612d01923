use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    an_employee_signs_and_the_qr_verifies,
    the_pdf_is_a_clean_a4_with_embedded_fonts_and_the_full_record,
    a_changed_byte_in_the_claim_says_tampered,
    double_submits_give_one_certificate,
    an_uploaded_certificate_is_checked_by_its_pdf_signature,
    the_keys_endpoint_lets_an_independent_program_check_the_claim
);

async fn an_employee_signs_and_the_qr_verifies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;

    let me = app.me(&token).await;
    assert_eq!(me["employee"]["full_name"], "Andi Nurul Hidayah, S.Pd.");
    let campaign = &me["campaigns"][0];
    assert_eq!(campaign["id"], app.campaign_id.as_str());
    assert_eq!(campaign["document_sha256"], app.document_sha256.as_str());
    assert!(campaign["certificate_id"].is_null());
    assert!(campaign["document"]["text"]
        .as_str()
        .unwrap()
        .contains("Tidak berkampanye dengan menggunakan fasilitas negara."));

    // Case and spacing of the typed name do not matter.
    let response = app
        .sign(
            &token,
            &app.campaign_id,
            "andi nurul  hidayah, s.pd.",
            &app.document_sha256,
        )
        .await;
    assert_eq!(response.status(), 201);
    let signed: Value = response.json().await.unwrap();
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    let verify_url = signed["verify_url"].as_str().unwrap().to_string();
    assert!(verify_url.starts_with(&format!("{}/v/{id}#", app.base_url)));

    let pdf = app.pdf(&token, &id).await;
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        pdf,
        app.pdf(&token, &id).await,
        "rendering is deterministic"
    );

    let (claim_path, claim) = verify_url.split_once('#').unwrap();
    let verdict: Value = app
        .api
        .get(app.url(&format!("/api/v1/verify/{id}?claim={claim}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["status"], "genuine");
    assert_eq!(verdict["signer"]["full_name"], "Andi Nurul Hidayah, S.Pd.");
    assert_eq!(verdict["signer"]["id_masked"], "1985**********2004");
    assert!(
        !verdict.to_string().contains(ANDI_NIP),
        "the public answer never holds the full NIP"
    );
    assert!(
        !verdict.to_string().contains("7371015503850001"),
        "nor the NIK"
    );
    assert_eq!(verdict["document_sha256"], app.document_sha256.as_str());
    assert!(verdict["signed_at_local"]
        .as_str()
        .unwrap()
        .ends_with("WITA"));

    // What a phone shows: the page the QR opens says ASLI once the claim has been checked.
    let page = app
        .api
        .get(format!("{claim_path}?claim={claim}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("ASLI") && html.contains("Data bertanda tangan yang dibawa kode QR"));
    assert!(html.contains("1985**********2004") && !html.contains(ANDI_NIP));

    let me = app.me(&token).await;
    assert_eq!(me["campaigns"][0]["certificate_id"], id.as_str());

    // The QR, read back by zbar from poppler's rendering, is exactly the verification link,
    // also at the 72 dpi of a poor scan. Last: on a loaded machine the two renders take longer
    // than the server keeps an idle connection open, and the next request would meet it closed.
    assert_eq!(read_qr(&pdf, 100), verify_url);
    assert_eq!(read_qr(&pdf, 72), verify_url);
}

async fn the_pdf_is_a_clean_a4_with_embedded_fonts_and_the_full_record(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let pdf = app
        .pdf(&token, signed["certificate_id"].as_str().unwrap())
        .await;

    let (ok, check) = tool_output("qpdf", &["--check"], &pdf);
    assert!(
        ok && check.contains("No syntax or stream encoding errors found"),
        "{check}"
    );
    let (_, fonts) = tool_output("pdffonts", &[], &pdf);
    let font_rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!font_rows.is_empty());
    for row in font_rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            columns[columns.len() - 5],
            "yes",
            "font not embedded: {row}"
        );
    }
    let (_, text) = tool_output("pdftotext", &["-layout"], &pdf);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Muhammad Rizal",
        "19900101 201903 1 002",
        "Penata Kelola Sistem Informasi",
        "Dinas Komunikasi dan Informatika",
        "Pemilu dan Pilkada Serentak 2024",
        "WITA",
        &app.document_sha256,
        "Tidak menghadiri kegiatan yang diselenggarakan oleh partai politik.",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from the PDF text"
        );
    }
}

async fn a_changed_byte_in_the_claim_says_tampered(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap();
    let claim = signed["verify_url"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .1
        .to_string();

    // Change one digit in the middle of the claim (the signer's name region).
    let mut forged: Vec<char> = claim.chars().collect();
    let at = forged.len() / 2;
    forged[at] = if forged[at] == '1' { '2' } else { '1' };
    let forged: String = forged.into_iter().collect();

    let response = app
        .api
        .get(app.url(&format!("/api/v1/verify/{id}?claim={forged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let verdict: Value = response.json().await.unwrap();
    assert_eq!(verdict["status"], "tampered");
    assert!(verdict["problem"].as_str().unwrap().contains("tidak cocok"));

    let page = app
        .api
        .get(app.url(&format!("/v/{id}?claim={forged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 422);
    assert!(page.text().await.unwrap().contains("TIDAK SAH"));

    // A record changed behind the issuer's back is caught by the stored signature.
    use diesel::prelude::*;
    diesel::sql_query("UPDATE certificates SET position = 'Kepala Dinas'")
        .execute(&mut *app.db.write().unwrap())
        .unwrap();
    let verdict: Value = app
        .api
        .get(app.url(&format!("/api/v1/verify/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["status"], "tampered");

    let missing = app
        .api
        .get(app.url("/api/v1/verify/AAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["status"],
        "not_found"
    );
    let page = app
        .api
        .get(app.url("/v/AAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("TIDAK DITEMUKAN"));
}

async fn double_submits_give_one_certificate(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    let attempts = (0..8).map(|_| {
        app.sign(
            &token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256,
        )
    });
    let responses = futures_util::future::join_all(attempts).await;
    let mut statuses = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for r in responses {
        statuses.push(r.status().as_u16());
        ids.insert(
            r.json::<Value>().await.unwrap()["certificate_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    assert_eq!(ids.len(), 1);
    assert_eq!(app.count("certificates"), 1);
}

async fn an_uploaded_certificate_is_checked_by_its_pdf_signature(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(HASNAH_NIK, "hasnah@contoh.go.id", "Wa Ode Sitti Hasnah")
        .await;
    let pdf = app
        .pdf(&token, signed["certificate_id"].as_str().unwrap())
        .await;

    let csrf = csrf_token(&app.browser, &app.url("/v")).await;
    let upload = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "berkas",
                reqwest::multipart::Part::bytes(bytes).file_name("sertifikat.pdf"),
            );
        app.browser.post(app.url("/v")).multipart(form).send()
    };
    let original = upload(pdf.clone()).await.unwrap();
    assert_eq!(original.status(), 200);
    let html = original.text().await.unwrap();
    assert!(html.contains("ASLI") && html.contains("tidak berubah sejak ditandatangani"));
    assert!(
        html.contains("7371********0003"),
        "staff without NIP are shown by masked NIK"
    );

    // One flipped bit anywhere: in the page, in the signature's own dictionary, inside the CMS;
    // or bytes added after the signature.
    let contents = pdf.windows(10).position(|w| w == b"/Contents<").unwrap();
    let reason = pdf.windows(8).position(|w| w == b"/Reason(").unwrap();
    let mut appended = pdf.clone();
    appended.extend_from_slice(b"%%EOF\n");
    let flipped = |at: usize| {
        let mut altered = pdf.clone();
        altered[at] ^= 0x01;
        altered
    };
    for (altered, problem) in [
        (
            flipped(pdf.len() / 2),
            "isi berkas berubah setelah ditandatangani",
        ),
        (
            flipped(reason + 12),
            "isi berkas berubah setelah ditandatangani",
        ),
        (flipped(contents + 400), "tanda tangan PDF"),
        (appended, "tidak mencakup seluruh isi berkas"),
    ] {
        let response = upload(altered).await.unwrap();
        assert_eq!(response.status(), 422);
        let html = response.text().await.unwrap();
        assert!(html.contains("TIDAK SAH"), "{html}");
        assert!(html.contains(problem), "{problem}: {html}");
    }

    let response = upload(b"bukan pdf".to_vec()).await.unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("bukan PDF"));

    let response = upload(vec![b'%'; 3 * 1024 * 1024]).await.unwrap();
    assert_eq!(response.status(), 413);
}

async fn the_keys_endpoint_lets_an_independent_program_check_the_claim(backend: Backend) {
    if !require(Tool::Pyhanko) {
        return;
    }
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let keys: Value = app
        .api
        .get(app.url("/.well-known/ikrar-keys.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["keys"][0]["algorithm"], "Ed25519");

    // A verifier written in Python from docs/certificate-format.md alone.
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    let run = |link: &str| {
        python3()
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/independent_verifier.py"
            ))
            .arg(&keys_file)
            .arg(link)
            .output()
            .expect("python3 is installed")
    };
    let link = signed["verify_url"].as_str().unwrap();
    let out = run(link);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("VALID") && stdout.contains("Andi Nurul Hidayah, S.Pd."),
        "{stdout}"
    );

    let mut forged: Vec<char> = link.chars().collect();
    let at = forged.len() - 40;
    forged[at] = if forged[at] == '1' { '2' } else { '1' };
    assert!(!run(&forged.into_iter().collect::<String>())
        .status
        .success());
}
