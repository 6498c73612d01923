use std::path::Path;

use anyhow::Context;

use super::StorageArgs;
use crate::db::campaigns::{self, Campaign};
use crate::db::{areas, now};
use crate::domain::{AreaCode, PactDocument};

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
        scope_code: scope.map(|s| s.as_str().to_string()).unwrap_or_default(),
        opens_at,
        closes_at,
        created_at: now(),
    };
    campaigns::create(&mut conn, &campaign, &document)?;
    println!("{}", campaign.id);
    Ok(0)
}
