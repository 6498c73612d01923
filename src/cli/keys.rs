//! `ikrar keys`: rotating the issuer key and revoking a compromised one.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::StorageArgs;
use crate::db::{keys, now, Db};
use crate::signing::{IssuerKey, KeyId};

/// Where a retired key file is kept: next to the key file, named by its key id, still mode 0600.
fn retired_path(key_file: &Path, id: KeyId) -> PathBuf {
    let mut name = key_file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".retired-{}", id.to_hex()));
    key_file.with_file_name(name)
}

/// Makes a new key the signing key: registered in the database (the old one retired there, in the
/// same transaction), then swapped in for the key file. Running nodes use the new key after they
/// restart; a node restarted with the old key file refuses to start.
pub fn rotate(storage: &StorageArgs) -> anyhow::Result<i32> {
    let settings = storage.settings()?;
    let key_file = &settings.key_file;
    let old = match IssuerKey::load(key_file) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("ditolak: {e}; `keys rotate` mengganti kunci yang sudah ada");
            return Ok(1);
        }
    };
    let db = Db::connect(&settings.database_url)?;
    let mut pending = key_file.clone().into_os_string();
    pending.push(".new");
    let pending = PathBuf::from(pending);
    // A leftover from an interrupted rotation was never registered: it can go.
    let _ = std::fs::remove_file(&pending);
    let new = IssuerKey::create(&pending)?;
    keys::rotate(&mut *db.write()?, &old, &new, now())?;
    let swap = std::fs::rename(key_file, retired_path(key_file, old.id()))
        .and_then(|()| std::fs::rename(&pending, key_file));
    swap.with_context(|| {
        format!(
            "kunci baru {} sudah terdaftar dan tersimpan di {}; pindahkan berkas itu ke {}",
            new.id().to_hex(),
            pending.display(),
            key_file.display()
        )
    })?;
    println!(
        "kunci penerbit baru {} menggantikan {} (berkas lama disimpan sebagai {})",
        new.id().to_hex(),
        old.id().to_hex(),
        retired_path(key_file, old.id()).display()
    );
    println!(
        "salin {} ke setiap node, lalu mulai ulang node-node itu",
        key_file.display()
    );
    Ok(0)
}

/// Marks a key compromised from an instant on.
pub fn revoke(key_id: &str, from: &str, storage: &StorageArgs) -> anyhow::Result<i32> {
    let Some(id) = KeyId::parse_hex(key_id.trim()) else {
        eprintln!("ditolak: KEY_ID harus 16 digit heksadesimal, seperti pada /.well-known/ikrar-keys.json; bukan {key_id:?}");
        return Ok(1);
    };
    let from = match chrono::DateTime::parse_from_rfc3339(from.trim()) {
        Ok(t) => t.timestamp(),
        Err(e) => {
            eprintln!("ditolak: --from harus waktu RFC 3339 seperti 2024-02-01T00:00:00+08:00 ({e}); bukan {from:?}");
            return Ok(1);
        }
    };
    let settings = storage.settings()?;
    if let Ok(signing) = IssuerKey::load(&settings.key_file) {
        if signing.id() == id {
            eprintln!(
                "ditolak: kunci {} masih menjadi kunci penandatangan di {}; jalankan `ikrar keys rotate` lebih dahulu",
                id.to_hex(),
                settings.key_file.display()
            );
            return Ok(1);
        }
    }
    let db = Db::connect(&settings.database_url)?;
    let Some(row) = keys::revoke(&mut *db.write()?, &id.to_hex(), from, now())? else {
        eprintln!("ditolak: kunci {} tidak dikenal", id.to_hex());
        return Ok(1);
    };
    let until = row.valid_until.unwrap_or(from);
    let affected = crate::db::certificates::signed_by_after(&mut *db.read()?, &row.key_id, until)?;
    println!(
        "kunci {} dicabut: sertifikat yang ditandatanganinya sesudah {} tidak lagi sah ({affected} sertifikat)",
        row.key_id,
        crate::web::rfc3339(until)
    );
    Ok(0)
}
