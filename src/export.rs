//! Lists of employees who have not signed yet, as the CSV and XLSX files admins chase them with.
//!
//! Spreadsheets open these files, so two things matter besides the data (docs/admin.md, "Ekspor"):
//!
//! - **Formula injection (OWASP "CSV Injection").** A roster value that begins with `=`, `+`, `-`,
//!   `@`, a tab or a carriage return would be run as a formula (`=HYPERLINK(…)`). Such a cell gets
//!   a leading `'`, which spreadsheets show as text, and every cell is quoted.
//! - **Identifiers stay text.** An 18-digit NIP read as a number loses its last digits. In the
//!   CSV a digits-only identifier (NIP, village code) starts with a tab: Excel and LibreOffice
//!   then keep it as text, and since only digits follow, nothing can be evaluated. The `="…"`
//!   trick is avoided on purpose: it is itself a formula. The XLSX writes every cell as a string.

use std::collections::HashMap;
use std::io::Write;

use crate::db::employees::Employee;
use crate::db::{areas, DbConnection, DbError};

/// The names of the villages a list mentions, looked up once each.
pub fn village_names(
    conn: &mut DbConnection,
    employees: &[Employee],
) -> Result<HashMap<String, String>, DbError> {
    let mut names: HashMap<String, String> = HashMap::new();
    for e in employees {
        if !names.contains_key(e.village_code.as_str()) {
            let name = areas::find(conn, &e.village_code)?
                .map(|a| a.name)
                .unwrap_or_default();
            names.insert(e.village_code.to_string(), name);
        }
    }
    Ok(names)
}

pub const HEADER: [&str; 10] = [
    "nip",
    "nik_tersamar",
    "nama",
    "jabatan",
    "instansi",
    "unit_kerja",
    "jenis_pegawai",
    "kode_desa",
    "desa_kelurahan",
    "surel",
];

/// One row per employee; the NIK is masked: the list travels by email and chat groups.
fn rows<'a>(
    employees: &'a [Employee],
    village_names: &'a HashMap<String, String>,
) -> impl Iterator<Item = [String; 10]> + 'a {
    employees.iter().map(|e| {
        [
            e.nip.as_deref().unwrap_or_default().to_string(),
            e.nik.masked(),
            e.full_name.clone(),
            e.position.clone(),
            e.agency.clone(),
            e.unit.clone(),
            e.employee_type.to_string(),
            e.village_code.to_string(),
            village_names
                .get(e.village_code.as_str())
                .cloned()
                .unwrap_or_default(),
            e.email.clone().unwrap_or_default(),
        ]
    })
}

/// The UTF-8 byte order mark: without it Excel reads the file as the machine's legacy code page
/// and breaks every name with an accent.
pub const BOM: &str = "\u{feff}";

/// The columns that hold identifiers made of digits (or digits and dots), kept as text.
const IDENTIFIER_COLUMNS: [usize; 2] = [0, 7];

/// A cell as it may go into a CSV opened by a spreadsheet: a value that would start a formula is
/// prefixed with `'` (OWASP's advice).
pub fn neutralised(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

/// An identifier cell: digits (and dots) get a leading tab so that spreadsheets keep them as text;
/// anything else is neutralised like any cell.
fn identifier(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        format!("\t{value}")
    } else {
        neutralised(value)
    }
}

/// The list as a file for spreadsheets: the byte order mark, then `write_csv`.
pub fn write_csv_file(
    mut out: impl Write,
    employees: &[Employee],
    village_names: &HashMap<String, String>,
) -> csv::Result<()> {
    out.write_all(BOM.as_bytes())?;
    write_csv(out, employees, village_names)
}

/// The list as CSV, every cell safe to open in a spreadsheet. Without the byte order mark: for a
/// pipe into another program (`ikrar coverage unsigned` without `--output`).
pub fn write_csv(
    out: impl Write,
    employees: &[Employee],
    village_names: &HashMap<String, String>,
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for row in rows(employees, village_names) {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(col, value)| {
                if IDENTIFIER_COLUMNS.contains(&col) {
                    identifier(value)
                } else {
                    neutralised(value)
                }
            })
            .collect();
        w.write_record(&cells)?;
    }
    w.flush()?;
    Ok(())
}

pub fn xlsx_bytes(
    employees: &[Employee],
    village_names: &HashMap<String, String>,
    title: &str,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Belum menandatangani")?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold)?;
    for (col, name) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(2, col as u16, *name, &bold)?;
    }
    for (i, row) in rows(employees, village_names).enumerate() {
        for (col, value) in row.iter().enumerate() {
            // Text, never numbers: an 18-digit NIP would lose its last digits as a number. A
            // string cell is never evaluated as a formula, so it keeps the value as it is.
            sheet.write_string(3 + i as u32, col as u16, value)?;
        }
    }
    sheet.set_freeze_panes(3, 0)?;
    sheet.autofit();
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_identifiers_stay_text() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralised(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralised("Andi"), "Andi");
        assert_eq!(identifier("198503302010012004"), "\t198503302010012004");
        assert_eq!(identifier("73.71.01.1001"), "\t73.71.01.1001");
        assert_eq!(identifier("=1+1"), "'=1+1");
        assert_eq!(identifier(""), "");
    }
}
