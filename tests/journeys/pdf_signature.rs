//! The seal on every certificate PDF, judged by independent validators: poppler's `pdfsig`
//! (with NSS, as Evince and Okular use) and pyHanko, each trusting only the seal certificate
//! the server publishes, or the CA that issued an imported e-seal.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    pdfsig_and_pyhanko_accept_the_default_seal_and_refuse_a_changed_byte,
    the_seal_certificate_is_published_as_pem_and_der,
    a_ca_issued_e_seal_imported_from_pkcs12_validates_with_its_chain,
);

/// Fails (never skips) when a Debian tool the check needs is missing.
fn require_program(program: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{program}` is missing: install the Debian package {package} (apt-get install -y {package})"
    );
}

/// Whether the pyHanko parts are switched off (`IKRAR_TEST_SKIP` naming `pyhanko`); fails,
/// saying what to install, when pyHanko is missing and not skipped.
fn pyhanko_skipped() -> bool {
    !require(Tool::Pyhanko)
}

/// Runs `tests/pdf_signature_check.py` on a PDF with `anchors` (PEM files) as the only trust
/// roots; `None` when pyHanko is skipped.
pub(crate) fn pyhanko(pdf: &[u8], anchors: &[&Path]) -> Option<(bool, Value)> {
    if pyhanko_skipped() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf_file = dir.path().join("cert.pdf");
    std::fs::write(&pdf_file, pdf).unwrap();
    let out = python3()
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/pdf_signature_check.py"
        ))
        .arg(&pdf_file)
        .args(anchors)
        .output()
        .expect("python3 is installed");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "pyHanko check printed no report (install pyHanko: pip install pyhanko \
             pyhanko-certvalidator, and set IKRAR_TEST_PYTHONPATH, or set IKRAR_TEST_SKIP=pyhanko): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Some((out.status.success(), report))
}

/// An NSS database trusting `anchor` (PEM) as a CA, as `pdfsig -nssdir` reads it.
fn nss_trusting(dir: &Path, anchor: &Path) {
    require_program("certutil", "libnss3-tools");
    let run = |args: &[&str]| {
        let out = Command::new("certutil").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "certutil {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let dir = dir.to_str().unwrap();
    run(&["-N", "--empty-password", "-d", dir]);
    run(&[
        "-A",
        "-n",
        "ikrar",
        "-t",
        "CT,C,C",
        "-i",
        anchor.to_str().unwrap(),
        "-d",
        dir,
    ]);
}

/// `pdfsig`'s report on a PDF, with an NSS database when given.
fn pdfsig(pdf: &[u8], nss: Option<&Path>) -> String {
    require_program("pdfsig", "poppler-utils");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cert.pdf");
    std::fs::write(&file, pdf).unwrap();
    let mut command = Command::new("pdfsig");
    if let Some(nss) = nss {
        command.arg("-nssdir").arg(nss);
    } else {
        // An empty database of our own: nothing is trusted, whatever the machine has.
        let empty = dir.path().join("nss");
        std::fs::create_dir(&empty).unwrap();
        Command::new("certutil")
            .args(["-N", "--empty-password", "-d", empty.to_str().unwrap()])
            .output()
            .unwrap();
        command.arg("-nssdir").arg(&empty);
    }
    let out = command.arg(&file).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

async fn get_text(app: &TestApp, path: &str) -> String {
    app.api
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn pdfsig_and_pyhanko_accept_the_default_seal_and_refuse_a_changed_byte(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap();
    let pdf = app.pdf(&token, id).await;
    assert_eq!(
        pdf,
        app.pdf(&token, id).await,
        "the same record, the same bytes"
    );
    // Asked now: the external checks below take long enough for the server to close an idle
    // keep-alive connection.
    let record: Value = app
        .api
        .get(app.url(&format!("/api/v1/verify/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("seal.pem");
    std::fs::write(&anchor, get_text(&app, "/.well-known/ikrar-seal.pem").await).unwrap();

    let (clean, check) = tool_output("qpdf", &["--check"], &pdf);
    assert!(clean, "qpdf --check: {check}");

    // poppler: the signature holds; the signer is not trusted until the seal is.
    let report = pdfsig(&pdf, None);
    assert!(
        report.contains("Signature Validation: Signature is Valid."),
        "{report}"
    );
    assert!(report.contains("ikrar segel elektronik"), "{report}");
    assert!(
        report.contains("Signature Type: ETSI.CAdES.detached"),
        "{report}"
    );
    assert!(!report.contains("Certificate is Trusted"), "{report}");
    let nss = dir.path().join("nss");
    std::fs::create_dir(&nss).unwrap();
    nss_trusting(&nss, &anchor);
    let report = pdfsig(&pdf, Some(&nss));
    assert!(
        report.contains("Signature Validation: Signature is Valid.")
            && report.contains("Certificate Validation: Certificate is Trusted."),
        "{report}"
    );
    let reason = pdf.windows(8).position(|w| w == b"/Reason(").unwrap();
    let mut altered = pdf.clone();
    altered[reason + 12] ^= 0x01;
    let report = pdfsig(&altered, Some(&nss));
    assert!(
        !report.contains("Signature is Valid."),
        "pdfsig accepted a changed byte: {report}"
    );

    // pyHanko: valid, intact, trusted under the published seal certificate, PAdES-shaped.
    if let Some((ok, report)) = pyhanko(&pdf, &[&anchor]) {
        assert!(ok, "pyHanko refused a genuine certificate: {report}");
        assert_eq!(report["intact"], true, "{report}");
        assert_eq!(report["trusted"], true, "{report}");
        assert_eq!(report["coverage"], "ENTIRE_FILE", "{report}");
        assert_eq!(report["sub_filter"], "/ETSI.CAdES.detached", "{report}");
        assert_eq!(report["digest_algorithm"], "sha256", "{report}");
        assert_eq!(report["signature_algorithm"], "sha256_ecdsa", "{report}");
        assert!(
            report["signer"]
                .as_str()
                .unwrap()
                .contains("ikrar segel elektronik"),
            "{report}"
        );
        // The CMS claims the certificate's own signing time, which keeps the PDF
        // deterministic (the seal was made before the signing, so no later time is needed).
        let reported = report["signer_reported_time"].as_str().unwrap();
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(reported).unwrap(),
            chrono::DateTime::parse_from_rfc3339(record["signed_at"].as_str().unwrap()).unwrap()
        );
        for at in [pdf.len() / 3, reason + 12] {
            let mut altered = pdf.clone();
            altered[at] ^= 0x01;
            let (ok, report) = pyhanko(&altered, &[&anchor]).unwrap();
            assert!(!ok, "pyHanko accepted a PDF changed at byte {at}: {report}");
        }
        // Someone else's self-made seal is not a trust anchor for ours.
        let other = dir.path().join("other.pem");
        std::fs::write(
            &other,
            ikrar::signing::Seal::self_made("lain", 1_700_000_000)
                .unwrap()
                .chain_pem(),
        )
        .unwrap();
        let (ok, _) = pyhanko(&pdf, &[&other]).unwrap();
        assert!(!ok, "pyHanko trusted the seal under a foreign anchor");
    }
}

async fn the_seal_certificate_is_published_as_pem_and_der(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let der = app
        .api
        .get(app.url("/.well-known/ikrar-seal.crt"))
        .send()
        .await
        .unwrap();
    assert_eq!(der.status(), 200);
    assert_eq!(der.headers()["content-type"], "application/pkix-cert");
    let der = der.bytes().await.unwrap();
    let pem = get_text(&app, "/.well-known/ikrar-seal.pem").await;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap(),
        der.to_vec(),
        "the PEM and DER forms are the same certificate"
    );
    // openssl reads it as an ECDSA P-256 certificate naming the service's seal, kept in the
    // data folder (mode 0600 for the key).
    require_program("openssl", "openssl");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seal.pem");
    std::fs::write(&file, &pem).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
    assert!(
        text.contains("NIST CURVE: P-256") || text.contains("prime256v1"),
        "{text}"
    );
    assert!(
        text.contains("Subject: C = ID, O = ikrar, CN = ikrar segel elektronik"),
        "{text}"
    );
    assert!(
        text.contains("Digital Signature, Non Repudiation"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = app.dir.path().join("seal-key.pem");
        assert_eq!(
            std::fs::metadata(key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let response = app
        .api
        .get(app.url("/.well-known/ikrar-issuer/0000000000000000.pem"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// Runs openssl in `dir`, failing with its message.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A root CA and an e-seal it issued, as a province receives from BSrE: `ca.pem`,
/// `seal.key` and `seal.pem` in `dir`; `key_args` chooses the seal's key type.
pub fn make_ca_and_e_seal(dir: &Path, key_args: &[&str]) {
    require_program("openssl", "openssl");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=Uji Root CA/O=Balai Uji Sertifikasi/C=ID",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let mut genkey = vec!["genpkey", "-out", "seal.key"];
    genkey.extend_from_slice(key_args);
    openssl(dir, &genkey);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "seal.key",
            "-out",
            "seal.csr",
            "-subj",
            "/CN=Segel Elektronik BKD/O=Pemerintah Provinsi Sulawesi Selatan/C=ID",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "seal.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "seal.pem",
            "-days",
            "825",
            "-extfile",
            "ext.cnf",
        ],
    );
}

async fn a_ca_issued_e_seal_imported_from_pkcs12_validates_with_its_chain(backend: Backend) {
    let ca = tempfile::tempdir().unwrap();
    make_ca_and_e_seal(
        ca.path(),
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    openssl(
        ca.path(),
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "seal.key",
            "-in",
            "seal.pem",
            "-certfile",
            "ca.pem",
            "-out",
            "seal.p12",
            "-passout",
            "pass:rahasia negara",
        ],
    );
    std::fs::write(ca.path().join("password"), "rahasia negara\n").unwrap();
    // Imported with the command line into a data folder of its own; the server then starts
    // with those seal files.
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let out = ikrar(&[
        "keys",
        "import-seal",
        "--pkcs12",
        ca.path().join("seal.p12").to_str().unwrap(),
        "--password-file",
        ca.path().join("password").to_str().unwrap(),
        "--data-dir",
        data_dir,
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("RSA 2048") && said.contains("rantai 2 sertifikat"),
        "{said}"
    );

    let (key, chain) = (
        data.path().join("seal-key.pem"),
        data.path().join("seal-certificate.pem"),
    );
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.seal_key_file = key.clone();
        settings.seal_certificate_file = chain.clone();
    })
    .await
    else {
        return;
    };
    let (token, signed) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let pdf = app
        .pdf(&token, signed["certificate_id"].as_str().unwrap())
        .await;
    let (clean, check) = tool_output("qpdf", &["--check"], &pdf);
    assert!(clean, "qpdf --check: {check}");

    let nss = ca.path().join("nss");
    std::fs::create_dir(&nss).unwrap();
    nss_trusting(&nss, &ca.path().join("ca.pem"));
    let report = pdfsig(&pdf, Some(&nss));
    assert!(
        report.contains("Signature Validation: Signature is Valid.")
            && report.contains("Certificate Validation: Certificate is Trusted.")
            && report.contains("Segel Elektronik BKD"),
        "{report}"
    );
    if let Some((ok, report)) = pyhanko(&pdf, &[&ca.path().join("ca.pem")]) {
        assert!(ok, "pyHanko refused the e-seal under its CA: {report}");
        assert_eq!(report["trusted"], true, "{report}");
        assert_eq!(report["signature_algorithm"], "sha256_rsa", "{report}");
        assert_eq!(
            report["embedded_certificates"], 2,
            "the chain rides in the CMS: {report}"
        );
    }

    // The upload check knows the imported seal as ours.
    let csrf = csrf_token(&app.browser, &app.url("/v")).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "berkas",
            reqwest::multipart::Part::bytes(pdf).file_name("sertifikat.pdf"),
        );
    let response = app
        .browser
        .post(app.url("/v"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("ASLI"));
}

/// Runs `ikrar keys import-seal` on PEM files into a fresh data folder.
fn import_pem(data: &Path, key: &Path, chain: &Path) -> std::process::Output {
    ikrar(&[
        "keys",
        "import-seal",
        "--key",
        key.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ])
}

#[test]
fn import_seal_refuses_weak_foreign_and_unsupported_keys_with_a_precise_message() {
    let refusals: [(&[&str], &str); 2] = [
        (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
            "hanya 1024 bit; minimal 2048 bit",
        ),
        (
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "hanya P-256 (prime256v1) yang diterima",
        ),
    ];
    for (key_args, message) in refusals {
        let ca = tempfile::tempdir().unwrap();
        make_ca_and_e_seal(ca.path(), key_args);
        let data = tempfile::tempdir().unwrap();
        let out = import_pem(
            data.path(),
            &ca.path().join("seal.key"),
            &ca.path().join("seal.pem"),
        );
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.contains(message), "{message}: {said}");
        assert!(!data.path().join("seal-key.pem").exists());
    }

    // A P-256 e-seal imports; its key with someone else's certificate does not.
    let ca = tempfile::tempdir().unwrap();
    make_ca_and_e_seal(
        ca.path(),
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let data = tempfile::tempdir().unwrap();
    let out = import_pem(
        data.path(),
        &ca.path().join("seal.key"),
        &ca.path().join("seal.pem"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ECDSA P-256"));
    let other = tempfile::tempdir().unwrap();
    make_ca_and_e_seal(
        other.path(),
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let out = import_pem(
        data.path(),
        &other.path().join("seal.key"),
        &ca.path().join("seal.pem"),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("bukan pasangan sertifikat"), "{said}");

    // An e-seal from a CA is replaced by importing its successor, not by rotate-seal.
    let out = ikrar(&[
        "keys",
        "rotate-seal",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("diterbitkan CA"));
}

#[test]
fn rotate_seal_makes_a_new_self_made_seal_and_keeps_the_old_files() {
    let data = tempfile::tempdir().unwrap();
    let (key, chain) = (
        data.path().join("seal-key.pem"),
        data.path().join("seal-certificate.pem"),
    );
    let old = ikrar::signing::Seal::self_made("Pemerintah Kota Parepare", 1_700_000_000).unwrap();
    old.write(&key, &chain).unwrap();
    let out = ikrar(&[
        "keys",
        "rotate-seal",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = ikrar::signing::Seal::load(&key, &chain).unwrap();
    assert_ne!(new.fingerprint(), old.fingerprint());
    assert_eq!(
        new.organisation().as_deref(),
        Some("Pemerintah Kota Parepare"),
        "the organisation carries over"
    );
    // A certificate signed before the new seal existed is re-sealed at the seal's start.
    assert_eq!(new.signing_time_for(1_700_000_500), new.not_before());
    let retired: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.contains(".retired-"))
        .collect();
    assert_eq!(retired.len(), 2, "{retired:?}");
}
