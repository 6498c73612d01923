//! Administrators from the command line: the first national or provincial admin is made here;
//! the rest are invited from the web pages.

use super::StorageArgs;
use crate::db::admins;
use crate::db::audit::{self, AuditEvent};
use crate::db::{is_unique_violation, now};
use crate::domain::{AdminRole, AdminScope, EmailAddress, FullName};

pub fn add(
    email: &str,
    name: &str,
    role: &str,
    scope: &str,
    agency: Option<&str>,
    storage: &StorageArgs,
) -> anyhow::Result<i32> {
    let refuse = |message: String| {
        eprintln!("{message}");
        Ok(1)
    };
    let email = match EmailAddress::parse(email) {
        Ok(e) => e,
        Err(e) => return refuse(format!("--email: {e}")),
    };
    let name = match FullName::parse(name) {
        Ok(n) => n,
        Err(e) => return refuse(format!("--name: {e}")),
    };
    let role = match AdminRole::parse(role) {
        Ok(r) => r,
        Err(e) => return refuse(format!("--role: {e}")),
    };
    let scope = match AdminScope::parse(role, scope, agency) {
        Ok(s) => s,
        Err(e) => return refuse(format!("--scope: {e}")),
    };
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    let mut conn = db.write()?;
    if let Some(area) = scope.area() {
        if crate::db::areas::find(&mut conn, area)?.is_none() {
            return refuse(format!(
                "--scope: kode wilayah {area} tidak ada dalam data wilayah Kemendagri"
            ));
        }
    }
    let admin = crate::web::admin::new_admin(&email, &name, &scope, None);
    let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let outcome = insert_recorded(&mut conn, &admin, &scope, &format!("cli:{operator}"));
    match outcome {
        Ok(()) => {
            println!("{}", admin.id);
            eprintln!(
                "{} ditambahkan sebagai {} ({scope}); masuk di /admin/masuk",
                email.as_str(),
                role.label()
            );
            Ok(0)
        }
        Err(e) if is_unique_violation(&e) => refuse(format!(
            "--email: {} sudah terdaftar sebagai admin",
            email.as_str()
        )),
        Err(e) => Err(e.into()),
    }
}

/// Adds an administrator and its audit row in one transaction: an admin nobody recorded never exists.
pub(super) fn insert_recorded(
    conn: &mut crate::db::DbConnection,
    admin: &admins::AdminRow,
    scope: &AdminScope,
    actor: &str,
) -> diesel::QueryResult<()> {
    diesel::Connection::transaction(conn, |conn| {
        admins::insert(conn, admin)?;
        audit::append(
            conn,
            &AuditEvent {
                actor,
                action: "tambah_admin",
                target: &admin.email,
                scope_code: scope.scope_code(),
                agency: scope.agency().unwrap_or(""),
                client_addr: "baris perintah",
                detail: &format!("{} untuk {scope}", scope.role().as_str()),
            },
            now(),
        )?;
        Ok(())
    })
}

pub fn verify_audit(storage: &StorageArgs) -> anyhow::Result<i32> {
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    match audit::verify_chain(&mut *db.read()?)? {
        Ok(entries) => {
            println!("jejak audit utuh: {entries} entri, semua mata rantai cocok");
            Ok(0)
        }
        Err(broken) => {
            println!(
                "jejak audit RUSAK mulai entri #{}: {}",
                broken.seq, broken.reason
            );
            Ok(1)
        }
    }
}
