//! The public log as a sceptic checks it: entries recomputed from the QR link alone, proofs and
//! checkpoints checked by a separate, minimal RFC 6962 implementation written here from the RFC
//! (not the server's code), and `ikrar log verify` finding rows altered or removed behind its back.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use diesel::prelude::*;
use ed25519_dalek::{Signature, VerifyingKey};
use ikrar::domain::CertificateId;
use ikrar::signing::revoke_certificate;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::*;

crate::on_both_backends!(
    certificates_and_revocations_are_logged_with_proofs_an_independent_checker_accepts,
    log_verify_names_the_first_altered_or_removed_certificate,
    certificates_from_before_the_log_are_logged_when_a_node_starts
);

// ---- An independent RFC 6962 implementation: recursive, from the RFC's definitions. ----

type H = [u8; 32];

fn sha(parts: &[&[u8]]) -> H {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn leaf(entry: &[u8]) -> H {
    sha(&[&[0], entry])
}

fn node(l: &H, r: &H) -> H {
    sha(&[&[1], l, r])
}

/// k: the largest power of two smaller than n.
fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(leaves: &[H]) -> H {
    match leaves.len() {
        0 => sha(&[]),
        1 => leaves[0],
        n => {
            let k = k_of(n);
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// Rebuilds the root from a leaf and its audit path by following PATH(m, D[n]) backwards.
fn root_from_path(m: usize, n: usize, leaf: H, path: &[H]) -> Option<H> {
    if n == 1 {
        return path.is_empty().then_some(leaf);
    }
    let (last, rest) = path.split_last()?;
    let k = k_of(n);
    if m < k {
        Some(node(&root_from_path(m, k, leaf, rest)?, last))
    } else {
        Some(node(last, &root_from_path(m - k, n - k, leaf, rest)?))
    }
}

/// Checks a consistency proof as RFC 9162 §2.1.4.2 prescribes.
fn check_consistency(
    first: usize,
    second: usize,
    proof: &[H],
    first_hash: &H,
    second_hash: &H,
) -> bool {
    if first == second {
        return proof.is_empty() && first_hash == second_hash;
    }
    let mut path = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_hash);
    }
    let Some((start, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    &fr == first_hash && &sr == second_hash && s == 0
}

fn b64(v: &Value) -> H {
    STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// The claim's digits as bytes (docs/certificate-format.md): 17 digits per 7 bytes, a shorter
/// last group of 3, 5, 8, 10, 13 or 15 digits for 1 to 6 bytes.
fn digits_to_bytes(text: &str) -> Vec<u8> {
    let widths = [0, 3, 5, 8, 10, 13, 15, 17];
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let k = if rest.len() >= 17 {
            7
        } else {
            widths.iter().position(|w| *w == rest.len()).unwrap()
        };
        let value: u64 = rest[..widths[k]].parse().unwrap();
        out.extend((0..k).rev().map(|i| (value >> (8 * i)) as u8));
        rest = &rest[widths[k]..];
    }
    out
}

/// The issuance entry as docs/log.md defines it, from nothing but the QR link.
fn issuance_entry_from_link(link: &str) -> (String, Vec<u8>) {
    let (path, claim) = link.split_once('#').unwrap();
    let id = path.rsplit('/').next().unwrap().to_string();
    let blob = digits_to_bytes(claim);
    let claim_bytes = &blob[..blob.len() - 64];
    let mut entry = vec![1u8, 1];
    entry.extend_from_slice(&data_encoding::BASE32_NOPAD.decode(id.as_bytes()).unwrap());
    // signed_at: unsigned 32-bit in the claim, signed 64-bit in the entry.
    let at = u32::from_be_bytes(claim_bytes[3..7].try_into().unwrap());
    entry.extend_from_slice(&i64::from(at).to_be_bytes());
    entry.extend_from_slice(&sha(&[&blob]));
    (id, entry)
}

/// Opens a C2SP signed note with the key from the keys document, independently of ikrar's code.
fn open_checkpoint(note: &str, public_key: &[u8; 32]) -> (String, usize, H) {
    let (text, sigs) = note.split_once("\n\n").unwrap();
    let text = format!("{text}\n");
    let lines: Vec<&str> = text.lines().collect();
    let origin = lines[0].to_string();
    let size: usize = lines[1].parse().unwrap();
    let root: H = STANDARD.decode(lines[2]).unwrap().try_into().unwrap();
    let key_hash = &sha(&[origin.as_bytes(), b"\n", &[1], public_key])[..4];
    let line = sigs
        .lines()
        .find(|l| l.starts_with(&format!("\u{2014} {origin} ")))
        .expect("a signature line by the log's key name");
    let sig = STANDARD.decode(line.rsplit(' ').next().unwrap()).unwrap();
    assert_eq!(&sig[..4], key_hash, "the key hash names the issuer key");
    let signature = Signature::from_bytes(&sig[4..].try_into().unwrap());
    VerifyingKey::from_bytes(public_key)
        .unwrap()
        .verify_strict(text.as_bytes(), &signature)
        .expect("the checkpoint is signed by the issuer key");
    (origin, size, root)
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let r = app.api.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Waits (at most 10 s) for the node to publish a checkpoint of at least `size` entries.
pub async fn checkpoint_covering(app: &TestApp, size: usize) -> String {
    for _ in 0..100 {
        let r = app
            .api
            .get(app.url("/log/checkpoint"))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let note = r.text().await.unwrap();
            if note.lines().nth(1).and_then(|s| s.parse::<usize>().ok()) >= Some(size) {
                return note;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint covering {size} entries within 10 s");
}

async fn issuer_public_key(app: &TestApp) -> [u8; 32] {
    let (_, keys) = get_json(app, "/.well-known/ikrar-keys.json").await;
    let key = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["status"] == "active")
        .unwrap();
    data_encoding::HEXLOWER
        .decode(key["public_key_hex"].as_str().unwrap().as_bytes())
        .unwrap()
        .try_into()
        .unwrap()
}

async fn certificates_and_revocations_are_logged_with_proofs_an_independent_checker_accepts(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let r = app
        .api
        .get(app.url("/log/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "no checkpoint before the first entry");

    let mut links = Vec::new();
    for (id, email, name) in [
        (ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd."),
        (RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal"),
        (HASNAH_NIK, "hasnah@contoh.go.id", "Wa Ode Sitti Hasnah"),
    ] {
        let (_, signed) = app.signs(id, email, name).await;
        links.push(signed["verify_url"].as_str().unwrap().to_string());
    }
    let (rizal_id, _) = issuance_entry_from_link(&links[1]);
    let revoked_at = ikrar::db::now();
    assert!(revoke_certificate(
        &mut app.db.write().unwrap(),
        &CertificateId::parse(&rizal_id).unwrap(),
        revoked_at,
        "salah ketik jabatan",
    )
    .unwrap());

    let public_key = issuer_public_key(&app).await;
    let note = checkpoint_covering(&app, 4).await;
    let (origin, size, root) = open_checkpoint(&note, &public_key);
    assert_eq!(size, 4);
    assert!(origin.ends_with("/log") && !origin.contains("://"));

    // Every entry, fetched and hashed here; the issuance entries equal what the QR links imply.
    let mut entries = Vec::new();
    for i in 0..size {
        let (status, e) = get_json(&app, &format!("/log/entries/{i}")).await;
        assert_eq!(status, 200);
        entries.push(STANDARD.decode(e["entry"].as_str().unwrap()).unwrap());
    }
    for (i, link) in links.iter().enumerate() {
        let (_, expected) = issuance_entry_from_link(link);
        assert_eq!(
            entries[i], expected,
            "entry {i} is the hash of the QR claim"
        );
        assert_eq!(expected.len(), 52, "no personal data, only hashes");
    }
    let mut revocation = vec![1u8, 2];
    revocation.extend_from_slice(
        &data_encoding::BASE32_NOPAD
            .decode(rizal_id.as_bytes())
            .unwrap(),
    );
    revocation.extend_from_slice(&revoked_at.to_be_bytes());
    revocation.extend_from_slice(&issuance_entry_from_link(&links[1]).1[20..52]);
    // Only the public category, one byte: the admin's note is in no public artefact, not even
    // hashed. A stored reason without a category counts as "other" (0x04).
    revocation.push(4);
    assert_eq!(entries[3], revocation);
    assert!(
        !entries[3]
            .windows(32)
            .any(|w| w == sha(&["salah ketik jabatan".as_bytes()]).as_slice()),
        "no hash of the note"
    );

    let leaves: Vec<H> = entries.iter().map(|e| leaf(e)).collect();
    assert_eq!(
        mth(&leaves),
        root,
        "the checkpoint's root is the tree of the entries"
    );

    // Inclusion of every entry in every tree size, by index; and by certificate id.
    for n in 1..=size {
        for m in 0..n {
            let (status, p) =
                get_json(&app, &format!("/log/proof/inclusion?index={m}&size={n}")).await;
            assert_eq!(status, 200);
            let path: Vec<H> = p["hashes"].as_array().unwrap().iter().map(b64).collect();
            assert_eq!(
                root_from_path(m, n, leaves[m], &path),
                Some(mth(&leaves[..n])),
                "inclusion of {m} in {n}"
            );
        }
    }
    let (andi_id, _) = issuance_entry_from_link(&links[0]);
    let (_, p) = get_json(&app, &format!("/log/proof/inclusion?certificate={andi_id}")).await;
    assert_eq!(p["index"], 0);
    assert_eq!(p["tree_size"], 4);
    let path: Vec<H> = p["hashes"].as_array().unwrap().iter().map(b64).collect();
    assert_eq!(root_from_path(0, 4, leaves[0], &path), Some(root));

    // Consistency between every pair of sizes.
    for n in 1..=size {
        for m in 1..=n {
            let (status, p) = get_json(
                &app,
                &format!("/log/proof/consistency?first={m}&second={n}"),
            )
            .await;
            assert_eq!(status, 200);
            let proof: Vec<H> = p["hashes"].as_array().unwrap().iter().map(b64).collect();
            assert!(
                check_consistency(m, n, &proof, &mth(&leaves[..m]), &mth(&leaves[..n])),
                "consistency {m} → {n}"
            );
        }
    }

    let r = app
        .api
        .get(app.url("/log/checkpoint/4"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        note,
        "each published checkpoint stays retrievable"
    );
    let (status, _) = get_json(&app, "/log/entries/99").await;
    assert_eq!(status, 404);

    // Bad requests are named precisely, never a 500.
    for (path, field) in [
        ("/log/proof/inclusion?index=9&size=4", "index"),
        ("/log/proof/inclusion?index=0&size=99", "size"),
        ("/log/proof/inclusion?index=x", "index"),
        ("/log/proof/inclusion", "index"),
        ("/log/proof/consistency?first=3&second=2", "first"),
        ("/log/proof/consistency?first=0&second=2", "first"),
        ("/log/proof/consistency?first=1&second=50", "second"),
        ("/log/entries/minus-one", "index"),
        ("/log/checkpoint/0", "size"),
    ] {
        let (status, body) = get_json(&app, path).await;
        assert!(status == 400 || status == 404, "{path}: {status}");
        if status == 400 {
            assert_eq!(body["error"]["field"], field, "{path}: {body}");
        }
    }

    // The verification API and page report the index and the checked inclusion.
    let (_, v) = get_json(&app, &format!("/api/v1/verify/{andi_id}")).await;
    assert_eq!(v["status"], "genuine");
    assert_eq!(v["log"]["index"], 0);
    assert_eq!(v["log"]["checkpoint_size"], 4);
    assert_eq!(v["log"]["inclusion_verified"], true);
    let (_, v) = get_json(&app, &format!("/api/v1/verify/{rizal_id}")).await;
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["log"]["index"], 1);
    assert_eq!(v["log"]["revocation_index"], 3);
    let page = app
        .api
        .get(app.url(&format!("/v/{andi_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Tercatat pada indeks 0."), "{page}");
    assert!(page.contains("Bukti inklusinya telah diperiksa dan cocok dengan akar log terbaru"));

    // The keys document names the key that signs checkpoints in the note verifier format.
    let (_, keys) = get_json(&app, "/.well-known/ikrar-keys.json").await;
    assert_eq!(keys["log"]["origin"], origin.as_str());
    let vkey = keys["keys"][0]["log_verifier_key"].as_str().unwrap();
    assert!(vkey.starts_with(&format!("{origin}+")));
}

fn log_verify(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["log", "verify", "--database-url", &app.database_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .output()
        .unwrap()
}

async fn log_verify_names_the_first_altered_or_removed_certificate(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut ids = Vec::new();
    for (id, email, name) in [
        (ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd."),
        (RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal"),
        (HASNAH_NIK, "hasnah@contoh.go.id", "Wa Ode Sitti Hasnah"),
    ] {
        let (_, signed) = app.signs(id, email, name).await;
        ids.push(signed["certificate_id"].as_str().unwrap().to_string());
    }
    checkpoint_covering(&app, 3).await;
    let out = log_verify(&app);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A loaded machine may publish a checkpoint between the signings as well as after them.
    assert!(
        stdout.contains("log konsisten: 3 entri dan ") && stdout.contains(" checkpoint diperiksa"),
        "{stdout}"
    );

    use ikrar::db::schema::certificates::dsl as c;
    // Someone edits a signer's position straight in the database.
    diesel::update(c::certificates.find(&ids[1]))
        .set(c::position.eq("Kepala Dinas"))
        .execute(&mut *app.db.write().unwrap())
        .unwrap();
    let out = log_verify(&app);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Ketidakcocokan pertama: indeks 1: sertifikat {}",
            ids[1]
        )),
        "{stderr}"
    );
    // The verification page does not call it genuine either.
    let (_, v) = get_json(&app, &format!("/api/v1/verify/{}", ids[1])).await;
    assert_eq!(v["status"], "tampered");

    diesel::update(c::certificates.find(&ids[1]))
        .set(c::position.eq("Penata Kelola Sistem Informasi"))
        .execute(&mut *app.db.write().unwrap())
        .unwrap();
    assert!(
        log_verify(&app).status.success(),
        "restored: consistent again"
    );

    // Someone removes the last certificate.
    diesel::delete(c::certificates.find(&ids[2]))
        .execute(&mut *app.db.write().unwrap())
        .unwrap();
    let out = log_verify(&app);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Ketidakcocokan pertama: indeks 2: sertifikat {}: sertifikat ini sudah tidak ada",
            ids[2]
        )),
        "{stderr}"
    );

    // And removes its log entry too, hoping the tree just got shorter: the checkpoint remembers.
    use ikrar::db::schema::log_entries::dsl as l;
    diesel::delete(l::log_entries.filter(l::idx.eq(2)))
        .execute(&mut *app.db.write().unwrap())
        .unwrap();
    let out = log_verify(&app);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{:?} {stderr}", out.status);
    assert!(
        stderr.contains("Ketidakcocokan pertama: indeks 2: entri log ini hilang"),
        "{stderr}"
    );
}

async fn certificates_from_before_the_log_are_logged_when_a_node_starts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, a) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let (_, b) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let b_id = b["certificate_id"].as_str().unwrap();
    assert!(revoke_certificate(
        &mut app.db.write().unwrap(),
        &CertificateId::parse(b_id).unwrap(),
        ikrar::db::now(),
        "dicabut",
    )
    .unwrap());
    // The database as it was before the log existed.
    {
        use ikrar::db::schema::{counters, log_checkpoints, log_entries, log_nodes};
        let mut conn = app.db.write().unwrap();
        diesel::delete(log_checkpoints::table)
            .execute(&mut *conn)
            .unwrap();
        diesel::delete(log_nodes::table)
            .execute(&mut *conn)
            .unwrap();
        diesel::delete(log_entries::table)
            .execute(&mut *conn)
            .unwrap();
        diesel::update(counters::table.find("log_size"))
            .set(counters::value.eq(0))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(
        log_verify(&app).status.code(),
        Some(1),
        "unlogged certificates are named"
    );

    drop(app.open_storage());
    assert_eq!(app.count("log_entries"), 3, "two issued, one revoked");
    let out = log_verify(&app);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a_id = a["certificate_id"].as_str().unwrap();
    let (_, v) = get_json(&app, &format!("/api/v1/verify/{a_id}")).await;
    assert_eq!(v["log"]["index"], 0, "logged in serial order");
}
