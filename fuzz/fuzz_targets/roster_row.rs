//! One roster CSV file (a header row and data rows), checked row by row as an import checks it:
//! no row panics, and a row that passes has the fields the database needs.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let villages: HashSet<String> = ["73.72.01.1001", "11.01.01.2001"]
        .into_iter()
        .map(String::from)
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(data);
    let mut records = reader.records();
    // A header the fuzzer cannot easily guess comes first half the time, so rows get checked.
    let header = if data.first().is_some_and(|b| b & 1 == 1) {
        csv::StringRecord::from(ikrar::roster::COLUMNS.to_vec())
    } else {
        match records.next() {
            Some(Ok(h)) => h,
            _ => return,
        }
    };
    for record in records.take(64) {
        let Ok(record) = record else { return };
        if let Ok(employee) = ikrar::roster::check_row(&header, &record, &villages) {
            assert_eq!(employee.nik.len(), 16);
            assert!(villages.contains(employee.village_code.as_str()));
        }
    }
});
