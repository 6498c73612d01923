use std::path::{Path, PathBuf};

use anyhow::Context;

use super::StorageArgs;
use crate::db::campaigns::{self, Campaign};
use crate::db::{areas, now};
use crate::domain::{AreaCode, AreaScope, AuthorityLogo, IssuingAuthority, PactDocument};

/// The issuing authority printed on the letterhead of the campaign's certificates. The four text
/// flags go together; without them the certificates carry no letterhead.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthorityArgs {
    /// Issuing authority, e.g. "Pemerintah Provinsi Sulawesi Selatan".
    #[arg(long)]
    pub authority_name: Option<String>,
    /// Its office, e.g. "Badan Kepegawaian Daerah".
    #[arg(long)]
    pub authority_office: Option<String>,
    /// The office's address, one line.
    #[arg(long)]
    pub authority_address: Option<String>,
    /// The city statements are dated in ("Makassar, 15 November 2023").
    #[arg(long)]
    pub authority_place: Option<String>,
    /// Letterhead logo, a PNG file of at most 256 KB and 1024 px a side.
    #[arg(long)]
    pub authority_logo: Option<PathBuf>,
}

impl AuthorityArgs {
    /// The authority the flags name, `Ok(None)` when none is given, or the message to print.
    fn parse(&self) -> anyhow::Result<Result<Option<IssuingAuthority>, String>> {
        let texts = [
            &self.authority_name,
            &self.authority_office,
            &self.authority_address,
            &self.authority_place,
        ];
        if texts.iter().all(|t| t.is_none()) {
            return Ok(match self.authority_logo {
                None => Ok(None),
                Some(_) => Err(
                    "--authority-logo memerlukan --authority-name, --authority-office, \
                                --authority-address dan --authority-place"
                        .into(),
                ),
            });
        }
        let [Some(name), Some(office), Some(address), Some(place)] = texts else {
            return Ok(Err(
                "--authority-name, --authority-office, --authority-address dan \
                           --authority-place harus diberikan bersama"
                    .into(),
            ));
        };
        let logo = match &self.authority_logo {
            None => None,
            Some(path) => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("membaca {}", path.display()))?;
                match AuthorityLogo::parse(&bytes) {
                    Ok(logo) => Some(logo),
                    Err(e) => return Ok(Err(format!("--authority-logo {}: {e}", path.display()))),
                }
            }
        };
        Ok(IssuingAuthority::parse(name, office, address, place, logo)
            .map(Some)
            .map_err(|e| format!("--authority-*: {e}")))
    }
}

fn instant(flag: &str, raw: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.timestamp())
        .map_err(|e| {
            format!("--{flag} {raw:?} bukan waktu RFC 3339 (contoh 2024-01-08T08:00:00+08:00): {e}")
        })
}

pub fn create(
    title: &str,
    scope: &str,
    opens: &str,
    closes: &str,
    document: Option<&Path>,
    authority: &AuthorityArgs,
    storage: &StorageArgs,
) -> anyhow::Result<i32> {
    let refuse = |message: String| {
        eprintln!("{message}");
        Ok(1)
    };
    let title = title.trim();
    if title.is_empty() {
        return refuse("--title tidak boleh kosong".into());
    }
    // "ID" (Indonesia) opens a national campaign, stored with the empty scope "".
    let scope = match scope.trim() {
        "ID" | "id" | "nasional" => None,
        code => match AreaCode::parse(code) {
            Ok(s) => Some(s),
            Err(e) => return refuse(format!("--scope: {e}")),
        },
    };
    let (opens_at, closes_at) = match (instant("opens", opens), instant("closes", closes)) {
        (Ok(o), Ok(c)) if o < c => (o, c),
        (Ok(_), Ok(_)) => return refuse("--closes harus sesudah --opens".into()),
        (Err(e), _) | (_, Err(e)) => return refuse(e),
    };
    let document = match document {
        None => PactDocument::default_pact(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("membaca {}", path.display()))?;
            match PactDocument::parse(&text) {
                Ok(d) => d,
                Err(e) => return refuse(format!("{}: {e}", path.display())),
            }
        }
    };
    let authority = match authority.parse()? {
        Ok(authority) => authority,
        Err(message) => return refuse(message),
    };
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    let mut conn = db.write()?;
    if let Some(scope) = &scope {
        if areas::find(&mut conn, scope)?.is_none() {
            return refuse(format!(
                "--scope: kode wilayah {scope} tidak ada dalam data wilayah Kemendagri"
            ));
        }
    }
    let campaign = Campaign {
        id: Campaign::new_id(),
        title: title.to_string(),
        scope_code: AreaScope::from(scope),
        opens_at,
        closes_at,
        created_at: now(),
    };
    campaigns::create_with_authority(&mut conn, &campaign, &document, authority.as_ref())?;
    println!("{}", campaign.id);
    Ok(0)
}
