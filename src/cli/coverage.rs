use std::path::Path;

use super::StorageArgs;
use crate::db::campaigns;
use crate::db::employees::{self, UnsignedFilter};
use crate::domain::{AreaCode, AreaScope, EmployeeType};
use crate::export;

pub fn unsigned(
    campaign_id: &str,
    area: Option<String>,
    agency: Option<String>,
    employee_type: Option<String>,
    format: &str,
    output: Option<&Path>,
    storage: &StorageArgs,
) -> anyhow::Result<i32> {
    let refuse = |message: String| {
        eprintln!("{message}");
        Ok(1)
    };
    let employee_type = match employee_type.as_deref().map(EmployeeType::parse) {
        Some(Err(e)) => return refuse(format!("--type: {e}")),
        other => other.map(|t| t.expect("checked").as_str().to_string()),
    };
    if !matches!(format, "csv" | "xlsx") || (format == "xlsx" && output.is_none()) {
        return refuse("--format harus csv atau xlsx; xlsx memerlukan --output BERKAS".into());
    }
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    let mut conn = db.read()?;
    let Some(campaign) = campaigns::find(&mut conn, campaign_id)? else {
        return refuse(format!(
            "--campaign: penandatanganan {campaign_id} tidak ditemukan"
        ));
    };
    let area_code = match area.as_deref() {
        None => campaign.scope_code.clone(),
        Some(raw) => match AreaCode::parse(raw) {
            Ok(code) if campaign.covers(&code) => AreaScope::Area(code),
            Ok(code) => {
                return refuse(format!(
                    "--area: {code} berada di luar cakupan penandatanganan"
                ))
            }
            Err(e) => return refuse(format!("--area: {e}")),
        },
    };
    let filter = UnsignedFilter {
        area_code: area_code.clone(),
        agency,
        employee_type,
    };
    let list = employees::unsigned(&mut conn, &campaign.id, &filter)?;
    let names = export::village_names(&mut conn, &list)?;
    match (format, output) {
        ("xlsx", Some(path)) => {
            let title = format!(
                "Belum menandatangani: {} (wilayah {})",
                campaign.title,
                if area_code.is_empty() {
                    "nasional"
                } else {
                    area_code.as_str()
                }
            );
            std::fs::write(path, export::xlsx_bytes(&list, &names, &title)?)?;
        }
        (_, Some(path)) => export::write_csv_file(std::fs::File::create(path)?, &list, &names)?,
        (_, None) => export::write_csv(std::io::stdout().lock(), &list, &names)?,
    }
    eprintln!("{} pegawai belum menandatangani", list.len());
    Ok(0)
}
