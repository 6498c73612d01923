//! The standard PDF signature inside every certificate, judged by an independent validator
//! (pyHanko) that trusts only the issuer certificate the server publishes.

use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    pyhanko_trusts_a_downloaded_certificate_and_refuses_it_after_a_one_byte_change,
    the_issuer_certificate_is_published_as_pem_and_der
);

/// Runs `tests/pdf_signature_check.py` on a PDF with the issuer certificate as trust anchor.
fn pyhanko(pdf: &[u8], anchor_pem: &str) -> (bool, Value) {
    let dir = tempfile::tempdir().unwrap();
    let (pdf_file, anchor_file) = (dir.path().join("cert.pdf"), dir.path().join("issuer.pem"));
    std::fs::write(&pdf_file, pdf).unwrap();
    std::fs::write(&anchor_file, anchor_pem).unwrap();
    let out = python3()
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/pdf_signature_check.py"
        ))
        .arg(&pdf_file)
        .arg(&anchor_file)
        .output()
        .expect("python3 is installed");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "pyHanko check printed no report: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}

async fn current_key_id(app: &TestApp) -> String {
    let keys: Value = app
        .api
        .get(app.url("/.well-known/ikrar-keys.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    keys["keys"][0]["key_id"].as_str().unwrap().to_string()
}

async fn pyhanko_trusts_a_downloaded_certificate_and_refuses_it_after_a_one_byte_change(
    backend: Backend,
) {
    if !require(Tool::Pyhanko) {
        return;
    }
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let pdf = app
        .pdf(&token, signed["certificate_id"].as_str().unwrap())
        .await;
    let key_id = current_key_id(&app).await;
    let anchor = app
        .api
        .get(app.url(&format!("/.well-known/ikrar-issuer/{key_id}.pem")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let (ok, report) = pyhanko(&pdf, &anchor);
    assert!(ok, "pyHanko refused a genuine certificate: {report}");
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["signature_ok"], true, "{report}");
    assert_eq!(report["trusted"], true, "{report}");
    assert_eq!(report["coverage"], "ENTIRE_FILE", "{report}");
    assert_eq!(report["sub_filter"], "/ETSI.CAdES.detached", "{report}");
    assert_eq!(report["digest_algorithm"], "sha512", "{report}");
    assert!(
        report["signer"]
            .as_str()
            .unwrap()
            .contains(&format!("ikrar issuer {key_id}")),
        "{report}"
    );
    // The CMS claims the certificate's own signing time, which keeps the PDF deterministic.
    let id = signed["certificate_id"].as_str().unwrap();
    let record: Value = app
        .api
        .get(app.url(&format!("/api/v1/verify/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reported = report["signer_reported_time"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(reported).unwrap(),
        chrono::DateTime::parse_from_rfc3339(record["signed_at"].as_str().unwrap()).unwrap()
    );

    let (clean, check) = tool_output("qpdf", &["--check"], &pdf);
    assert!(clean, "qpdf --check: {check}");

    // One flipped bit in the signed range: in the drawn page, and in the appended signature
    // dictionary itself.
    let reason = find(&pdf, b"/Reason (").unwrap();
    for at in [pdf.len() / 3, reason + 12] {
        let mut altered = pdf.clone();
        altered[at] ^= 0x01;
        let (ok, report) = pyhanko(&altered, &anchor);
        assert!(!ok, "pyHanko accepted a PDF changed at byte {at}: {report}");
    }

    // Someone else's self-made certificate is not a trust anchor for ours.
    let (ok, _) = pyhanko(&pdf, OTHER_ED25519_CERTIFICATE);
    assert!(!ok, "pyHanko trusted the signature under a foreign anchor");
}

async fn the_issuer_certificate_is_published_as_pem_and_der(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key_id = current_key_id(&app).await;
    let get = |file: String| {
        app.api
            .get(app.url(&format!("/.well-known/ikrar-issuer/{file}")))
            .send()
    };

    let der = get(format!("{key_id}.crt")).await.unwrap();
    assert_eq!(der.status(), 200);
    assert_eq!(der.headers()["content-type"], "application/pkix-cert");
    let der = der.bytes().await.unwrap();
    let pem = get(format!("{key_id}.pem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap(),
        der.to_vec(),
        "the PEM and DER forms are the same certificate"
    );
    assert_eq!(
        get(format!("{key_id}.crt"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        der,
        "the certificate is derived deterministically"
    );

    for unknown in [
        "0000000000000000.crt",
        "certificate.pem",
        &format!("{key_id}.txt"),
    ] {
        let response = get(unknown.to_string()).await.unwrap();
        assert_eq!(response.status(), 404, "{unknown}");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A self-signed Ed25519 certificate made with `openssl req -x509` for another key.
const OTHER_ED25519_CERTIFICATE: &str = "\
-----BEGIN CERTIFICATE-----
MIIBoTCCAVOgAwIBAgIUGuSbCTkV8x4UVfo+J1NtUw9GSgYwBQYDK2VwMEUxJjAk
BgNVBAMMHWlrcmFyIGlzc3VlciAwMDAwMDAwMDAwMDAwMDAwMQ4wDAYDVQQKDAVp
a3JhcjELMAkGA1UEBhMCSUQwIBcNMjYxMTIzMDc1NjUzWhgPMjEyNjEwMzAwNzU2
NTNaMEUxJjAkBgNVBAMMHWlrcmFyIGlzc3VlciAwMDAwMDAwMDAwMDAwMDAwMQ4w
DAYDVQQKDAVpa3JhcjELMAkGA1UEBhMCSUQwKjAFBgMrZXADIQCKEiG4aO2u/h1U
ze0hfVL6G70urjQ9CkLigUBPI9Mg5KNTMFEwHQYDVR0OBBYEFE5g7TltXxSGjJsp
nHnQb5p4RHo4MB8GA1UdIwQYMBaAFE5g7TltXxSGjJspnHnQb5p4RHo4MA8GA1Ud
EwEB/wQFMAMBAf8wBQYDK2VwA0EAkFlLSL80McZOOoaj23YtbeMl7mYrOQ9+Lr/S
JXyN4YSjdYDkQNmPtnINu1ddbwcf+CtKXP0cSQrkJOcf4xeiAA==
-----END CERTIFICATE-----
";
