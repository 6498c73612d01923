//! `ikrar keys`: rotating the claim key or the log key and revoking a compromised one, each change
//! logged in the public log (`signing::keyring`); rotating the PDF seal or importing an
//! operator's CA-issued e-seal.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::StorageArgs;
use crate::db::{now, Db};
use crate::signing::keyring::{self, Revocation};
use crate::signing::{seal, IssuerKey, KeyId, Role, Seal};

/// Where a retired key file is kept: next to the key file, named by its key id, still mode 0600.
fn retired_path(key_file: &Path, id: KeyId) -> PathBuf {
    let mut name = key_file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".retired-{}", id.to_hex()));
    key_file.with_file_name(name)
}

/// Makes a new key the key for `role`: registered in the database and logged (the old one
/// retired from that role, in the same transaction), then swapped in for its key file. The first
/// `--role log` rotation of a deployment whose key does both jobs creates the log key file and
/// leaves the key file alone: that key goes on signing claims. Running nodes use the new key
/// after they restart; a node restarted with a retired key file refuses to start.
pub fn rotate(role: Role, storage: &StorageArgs) -> anyhow::Result<i32> {
    let settings = storage.settings()?;
    let shared = role == Role::Log && !settings.log_key_file.exists();
    let key_file = match role {
        Role::Log => &settings.log_key_file,
        Role::Claim => &settings.key_file,
    };
    let old = match IssuerKey::load(if shared { &settings.key_file } else { key_file }) {
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
    keyring::rotate(&mut *db.write()?, role, &old, &new, now())?;
    let swap = if shared {
        std::fs::rename(&pending, key_file)
    } else {
        std::fs::rename(key_file, retired_path(key_file, old.id()))
            .and_then(|()| std::fs::rename(&pending, key_file))
    };
    swap.with_context(|| {
        format!(
            "kunci baru {} sudah terdaftar dan tersimpan di {}; pindahkan berkas itu ke {}",
            new.id().to_hex(),
            pending.display(),
            key_file.display()
        )
    })?;
    match (role, shared) {
        (Role::Log, true) => println!(
            "kunci log baru {} kini menandatangani checkpoint dan daftar kunci; kunci {} tetap menjadi kunci penerbit",
            new.id().to_hex(),
            old.id().to_hex()
        ),
        (Role::Log, false) => println!(
            "kunci log baru {} menggantikan {} (berkas lama disimpan sebagai {})",
            new.id().to_hex(),
            old.id().to_hex(),
            retired_path(key_file, old.id()).display()
        ),
        (Role::Claim, _) => println!(
            "kunci penerbit baru {} menggantikan {} (berkas lama disimpan sebagai {})",
            new.id().to_hex(),
            old.id().to_hex(),
            retired_path(key_file, old.id()).display()
        ),
    }
    println!(
        "salin {} ke setiap node, lalu mulai ulang node-node itu",
        key_file.display()
    );
    Ok(0)
}

/// Marks a key compromised from an instant on: whatever it signed at or after that instant is
/// not genuine. The instant can only move earlier; each change is logged.
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
    for (file, rotate) in [
        (&settings.key_file, "ikrar keys rotate"),
        (&settings.log_key_file, "ikrar keys rotate --role log"),
    ] {
        if IssuerKey::load(file).is_ok_and(|signing| signing.id() == id) {
            eprintln!(
                "ditolak: kunci {} masih dipakai untuk menandatangani di {}; jalankan `{rotate}` lebih dahulu",
                id.to_hex(),
                file.display()
            );
            return Ok(1);
        }
    }
    let db = Db::connect(&settings.database_url)?;
    let row = match keyring::revoke(&mut *db.write()?, &id.to_hex(), from, now())? {
        Revocation::UnknownKey => {
            eprintln!("ditolak: kunci {} tidak dikenal", id.to_hex());
            return Ok(1);
        }
        Revocation::Later { current } => {
            eprintln!(
                "ditolak: kunci {} sudah dicabut sejak {}; waktu mulai pencabutan hanya dapat dimajukan, tidak dapat dimundurkan ke {}",
                id.to_hex(),
                crate::web::rfc3339(current),
                crate::web::rfc3339(from)
            );
            return Ok(1);
        }
        Revocation::Unchanged(row) => {
            println!(
                "kunci {} sudah dicabut sejak {}; tidak ada yang berubah",
                row.key_id,
                crate::web::rfc3339(from)
            );
            return Ok(0);
        }
        Revocation::Revoked(row) => row,
    };
    let until = row.valid_until.unwrap_or(from);
    let affected = crate::db::certificates::signed_by_from(&mut *db.read()?, &row.key_id, until)?;
    println!(
        "kunci {} dicabut: sertifikat yang ditandatanganinya pada atau sesudah {} tidak lagi sah ({affected} sertifikat); pencabutan tercatat di log publik",
        row.key_id,
        crate::web::rfc3339(until)
    );
    Ok(0)
}

/// Where `keys import-seal` reads the operator's e-seal from.
pub enum SealSource {
    Pkcs12 {
        file: PathBuf,
        password_file: Option<PathBuf>,
    },
    Pem {
        key: PathBuf,
        chain: PathBuf,
    },
}

impl SealSource {
    /// Clap guarantees either `pkcs12` or both `key` and `chain`.
    pub fn from_args(
        pkcs12: Option<PathBuf>,
        password_file: Option<PathBuf>,
        key: Option<PathBuf>,
        chain: Option<PathBuf>,
    ) -> Self {
        match (pkcs12, key, chain) {
            (Some(file), _, _) => Self::Pkcs12 {
                file,
                password_file,
            },
            (None, Some(key), Some(chain)) => Self::Pem { key, chain },
            _ => unreachable!("clap requires --pkcs12, or --key with --chain"),
        }
    }

    fn read(&self, now: i64) -> anyhow::Result<Result<Seal, String>> {
        let read = |path: &Path| {
            std::fs::read(path).with_context(|| format!("membaca {}", path.display()))
        };
        Ok(match self {
            Self::Pkcs12 {
                file,
                password_file,
            } => {
                let password = match password_file {
                    Some(path) => String::from_utf8_lossy(&read(path)?)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    None => match std::env::var("IKRAR_SEAL_PASSWORD") {
                        Ok(p) => p,
                        Err(_) => {
                            return Ok(Err(
                                "kata sandi PKCS #12 tidak diberikan: pakai --password-file atau IKRAR_SEAL_PASSWORD".into(),
                            ))
                        }
                    },
                };
                let password = zeroize::Zeroizing::new(password);
                seal::read_pkcs12(&read(file)?, &password, now).map_err(|e| e.to_string())
            }
            Self::Pem { key, chain } => {
                let key = zeroize::Zeroizing::new(String::from_utf8_lossy(&read(key)?).to_string());
                let chain = String::from_utf8_lossy(&read(chain)?).to_string();
                seal::read_pem_files(&key, &chain, now).map_err(|e| e.to_string())
            }
        })
    }
}

/// Makes a CA-issued e-seal the PDF seal: checked (key type and size, key matching the leaf,
/// key usage, expiry), registered in the database, then written over the seal files, whose
/// previous versions are kept beside them.
pub fn import_seal(source: SealSource, storage: &StorageArgs) -> anyhow::Result<i32> {
    let settings = storage.settings()?;
    let seal = match source.read(now())? {
        Ok(seal) => seal,
        Err(message) => {
            eprintln!("ditolak: {message}");
            return Ok(1);
        }
    };
    install_seal(&settings, &seal)?;
    println!(
        "segel PDF kini {}; rantai {} sertifikat",
        seal.describe(),
        seal.chain().len()
    );
    println!(
        "salin {} dan {} ke setiap node, lalu mulai ulang node-node itu",
        settings.seal_key_file.display(),
        settings.seal_certificate_file.display()
    );
    Ok(0)
}

/// Replaces a self-made seal by a new ECDSA P-256 key and self-issued certificate. PDFs
/// downloaded afterwards carry the new seal, with a signing time no earlier than its
/// certificate; the old certificate stays registered, so earlier downloads still check.
pub fn rotate_seal(storage: &StorageArgs) -> anyhow::Result<i32> {
    let settings = storage.settings()?;
    let old = match Seal::load(&settings.seal_key_file, &settings.seal_certificate_file) {
        Ok(seal) => seal,
        Err(e) => {
            eprintln!("ditolak: {e}; `keys rotate-seal` mengganti segel yang sudah ada");
            return Ok(1);
        }
    };
    if !old.is_self_issued() {
        eprintln!(
            "ditolak: segel saat ini ({}) diterbitkan CA; pasang e-seal penggantinya dengan `ikrar keys import-seal`",
            old.subject()
        );
        return Ok(1);
    }
    let organisation = storage
        .seal_organisation
        .clone()
        .or_else(|| old.organisation())
        .unwrap_or_else(|| seal::DEFAULT_ORGANISATION.into());
    let new = Seal::self_made(&organisation, now())?;
    install_seal(&settings, &new)?;
    println!(
        "segel PDF baru {} menggantikan {}",
        new.describe(),
        old.fingerprint_hex()
    );
    println!(
        "salin {} dan {} ke setiap node, lalu mulai ulang node-node itu",
        settings.seal_key_file.display(),
        settings.seal_certificate_file.display()
    );
    Ok(0)
}

/// Registers `seal` and writes it over the seal files, keeping the replaced files beside them.
fn install_seal(settings: &crate::config::Settings, seal: &Seal) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database_url)?;
    crate::db::seals::register(&mut *db.write()?, seal.certificate_row(now()))?;
    let (key_file, chain_file) = (&settings.seal_key_file, &settings.seal_certificate_file);
    let pending = |path: &Path| {
        let mut name = path.as_os_str().to_os_string();
        name.push(".new");
        PathBuf::from(name)
    };
    let (key_new, chain_new) = (pending(key_file), pending(chain_file));
    // Leftovers of an interrupted import were never installed: they can go.
    let _ = std::fs::remove_file(&key_new);
    let _ = std::fs::remove_file(&chain_new);
    seal.write(&key_new, &chain_new)?;
    let tag = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    for (current, new) in [(key_file, &key_new), (chain_file, &chain_new)] {
        if current.exists() {
            let retired = seal::retired_path(current, &tag);
            std::fs::rename(current, &retired).with_context(|| {
                format!(
                    "menyimpan {} sebagai {}",
                    current.display(),
                    retired.display()
                )
            })?;
        }
        std::fs::rename(new, current)
            .with_context(|| format!("memasang {} sebagai {}", new.display(), current.display()))?;
    }
    Ok(())
}
