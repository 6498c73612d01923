//! `ikrar invitations print`: the admin page's slips from the command line, for an operator who
//! prints a whole district's offices in one sitting. The operator acts with national reach, and
//! the printing is recorded in the audit trail as `cli:<user>`.

use std::path::Path;

use diesel::Connection;

use super::StorageArgs;
use crate::db::audit::{self, AuditEvent};
use crate::db::campaigns;
use crate::db::employees::UnsignedFilter;
use crate::db::now;
use crate::domain::{AdminRole, AdminScope, AreaCode, AreaScope};
use crate::invitations::{self, InvitationError, PrintRequest};

pub struct PrintArgs<'a> {
    pub campaign: &'a str,
    pub area: &'a str,
    pub agency: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub helpdesk: Option<&'a str>,
    pub base_url: &'a str,
    pub output: &'a Path,
}

pub fn print(args: &PrintArgs<'_>, storage: &StorageArgs) -> anyhow::Result<i32> {
    let refuse = |message: String| {
        eprintln!("ditolak: {message}");
        Ok(1)
    };
    let area = match AreaCode::parse(args.area) {
        Ok(area) => area,
        Err(e) => return refuse(format!("--area: {e}")),
    };
    if !(args.base_url.starts_with("https://") || args.base_url.starts_with("http://")) {
        return refuse(format!(
            "--base-url: \"{}\" bukan alamat http(s); kartu memerlukan alamat publik layanan, misalnya https://ikrar.sulselprov.go.id",
            args.base_url
        ));
    }
    let helpdesk = args
        .helpdesk
        .map(|h| h.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| invitations::DEFAULT_HELPDESK.to_string());
    if helpdesk.chars().count() > 120 {
        return refuse("--helpdesk: paling banyak 120 karakter agar muat pada kartu".into());
    }
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    let mut conn = db.read()?;
    let Some(campaign) = campaigns::find(&mut conn, args.campaign)? else {
        return refuse(format!(
            "--campaign: penandatanganan {} tidak ditemukan",
            args.campaign
        ));
    };
    if !campaign.covers(&area) {
        return refuse(format!(
            "--area: {area} berada di luar cakupan penandatanganan {}",
            campaign.id
        ));
    }
    let scope = AdminScope::parse(AdminRole::National, "ID", None)?;
    let filter = UnsignedFilter {
        area_code: AreaScope::Area(area.clone()),
        agency: args
            .agency
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        employee_type: None,
    };
    let operator = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    );
    let detail = format!(
        "wilayah={}; instansi={}; unit={}",
        area,
        filter.agency.as_deref().unwrap_or(""),
        args.unit.unwrap_or("")
    );
    let printed = invitations::print(
        &mut conn,
        &PrintRequest {
            campaign: &campaign,
            scope: &scope,
            filter: &filter,
            unit: args.unit.map(str::trim).filter(|u| !u.is_empty()),
            helpdesk: &helpdesk,
            base_url: args.base_url,
            printed_by: &operator,
        },
    );
    drop(conn);
    let printed = printed.and_then(|printed| {
        db.write()?
            .transaction(|conn| -> Result<_, InvitationError> {
                invitations::store(conn, &printed)?;
                audit::append(
                    conn,
                    &AuditEvent {
                        actor: &operator,
                        action: invitations::PRINTED,
                        target: &campaign.id,
                        scope_code: area.as_str(),
                        agency: filter.agency.as_deref().unwrap_or(""),
                        client_addr: "baris perintah",
                        detail: &format!("{detail}; {} kartu", printed.count),
                    },
                    now(),
                )?;
                Ok(())
            })?;
        Ok(printed)
    });
    match printed {
        Ok(printed) => {
            std::fs::write(args.output, &printed.pdf)?;
            eprintln!(
                "{} kartu undangan dicetak ke {}",
                printed.count,
                args.output.display()
            );
            Ok(0)
        }
        Err(e @ (InvitationError::NoOne | InvitationError::TooMany | InvitationError::Closed)) => {
            refuse(e.to_string())
        }
        Err(e) => Err(e.into()),
    }
}
