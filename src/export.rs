//! Lists of employees who have not signed yet, as the CSV and XLSX files admins chase them with.

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

pub fn write_csv(
    out: impl Write,
    employees: &[Employee],
    village_names: &HashMap<String, String>,
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for row in rows(employees, village_names) {
        w.write_record(&row)?;
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
            // Text, never numbers: an 18-digit NIP would lose its last digits as a number.
            sheet.write_string(3 + i as u32, col as u16, value)?;
        }
    }
    sheet.set_freeze_panes(3, 0)?;
    sheet.autofit();
    book.save_to_buffer()
}
