//! Synthetic civil servants for demos and benchmarks: valid NIPs and NIKs, plausible names,
//! positions and agencies. No real person is described; the word lists are in `assets/synth/`.

// The nation-scale loader is a benchmark tool; the demo's province only needs `RosterGenerator`.
#[cfg(feature = "bench")]
pub mod load;
#[cfg(feature = "bench")]
pub mod nation;

use std::collections::HashSet;

use crate::db::employees::EmployeeRecord;
use crate::domain::{AreaCode, EmployeeType, Nik, Nip};

const GIVEN: &str = include_str!("../../assets/synth/given_names.txt");
const FAMILY: &str = include_str!("../../assets/synth/family_names.txt");
const PREFIXES: &str = include_str!("../../assets/synth/name_prefixes.txt");
const DEGREES: &str = include_str!("../../assets/synth/degrees.txt");
const AGENCIES: &str = include_str!("../../assets/synth/agencies.txt");
const POSITIONS: &str = include_str!("../../assets/synth/positions.txt");

struct Weighted<T> {
    items: Vec<(T, u32)>,
    total: u32,
}

impl<T> Weighted<T> {
    fn new(items: Vec<(T, u32)>) -> Self {
        let total = items.iter().map(|(_, w)| w).sum();
        Self { items, total }
    }

    fn pick(&self, rng: &mut fastrand::Rng) -> &T {
        let mut n = rng.u32(0..self.total.max(1));
        for (item, w) in &self.items {
            if n < *w {
                return item;
            }
            n -= w;
        }
        &self.items[0].0
    }
}

fn fields(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

/// Makes employees one at a time, never repeating a NIP or NIK.
pub struct RosterGenerator {
    rng: fastrand::Rng,
    /// Given names by sex: `[male, female]`.
    given: [Vec<String>; 2],
    family: Vec<String>,
    prefixes: Vec<(String, u32)>,
    degrees: Weighted<String>,
    agencies: Weighted<(String, Vec<String>)>,
    positions: [Weighted<String>; 3],
    types: Weighted<EmployeeType>,
    used_nip: HashSet<u64>,
    used_nik: HashSet<u64>,
    serial: u64,
}

impl RosterGenerator {
    pub fn new(seed: u64) -> Self {
        let given = [false, true].map(|female| {
            fields(GIVEN)
                .filter(|f| (f[0] == "F") == female)
                .map(|f| f[1].to_string())
                .collect()
        });
        let family = fields(FAMILY).map(|f| f[0].to_string()).collect();
        let prefixes = fields(PREFIXES)
            .map(|f| (f[0].to_string(), f[1].parse().unwrap_or(0)))
            .collect();
        let degrees = Weighted::new(
            fields(DEGREES)
                .map(|f| (f[0].to_string(), f[1].parse().unwrap_or(1)))
                .collect(),
        );
        let agencies = Weighted::new(
            fields(AGENCIES)
                .map(|f| {
                    let units = f
                        .get(2)
                        .map(|u| u.split('|').map(str::to_string).collect())
                        .unwrap_or_default();
                    ((f[0].to_string(), units), f[1].parse().unwrap_or(1))
                })
                .collect(),
        );
        let positions = EmployeeType::ALL.map(|t| {
            Weighted::new(
                fields(POSITIONS)
                    .filter(|f| f[0] == t.as_str())
                    .map(|f| (f[1].to_string(), f[2].parse().unwrap_or(1)))
                    .collect(),
            )
        });
        // Roughly the national mix in 2024: 3.57 M PNS, 1.17 M PPPK, plus non-ASN staff.
        let types = Weighted::new(vec![
            (EmployeeType::Pns, 66),
            (EmployeeType::Pppk, 22),
            (EmployeeType::Ppnpn, 12),
        ]);
        Self {
            rng: fastrand::Rng::with_seed(seed),
            given,
            family,
            prefixes,
            degrees,
            agencies,
            positions,
            types,
            used_nip: HashSet::new(),
            used_nik: HashSet::new(),
            serial: 0,
        }
    }

    fn name(&mut self, female: bool) -> String {
        let rng = &mut self.rng;
        let pool = &self.given[usize::from(female)];
        let mut name = String::new();
        for (prefix, percent) in &self.prefixes {
            if rng.u32(0..100) < *percent {
                name.push_str(prefix);
                name.push(' ');
                break;
            }
        }
        name.push_str(&pool[rng.usize(0..pool.len())]);
        if rng.u32(0..100) < 85 {
            name.push(' ');
            name.push_str(&self.family[rng.usize(0..self.family.len())]);
        }
        if rng.u32(0..100) < 55 {
            name.push_str(", ");
            name.push_str(self.degrees.pick(rng));
        }
        name
    }

    /// How many employees were made so far.
    pub fn made(&self) -> u64 {
        self.serial
    }

    /// One employee working in `village_code` (a village of the reference).
    pub fn employee(&mut self, village_code: &AreaCode, updated_at: i64) -> EmployeeRecord {
        let employee_type = *self.types.pick(&mut self.rng);
        let female = self.rng.bool();
        let (year, month) = (self.rng.u32(1965..2001), self.rng.u32(1..13));
        let day = self.rng.u32(1..29);
        let nip = employee_type
            .requires_nip()
            .then(|| self.nip(year, month, day, female));
        let nik = self.nik(village_code, year, month, day, female);
        let name = self.name(female);
        let (agency, units) = self.agencies.pick(&mut self.rng).clone();
        let unit = if units.is_empty() {
            String::new()
        } else {
            units[self.rng.usize(0..units.len())].clone()
        };
        let position = self.positions[employee_type as usize]
            .pick(&mut self.rng)
            .clone();
        self.serial += 1;
        let login = name
            .split(',')
            .next()
            .unwrap_or("pegawai")
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == ' ')
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(".");
        EmployeeRecord {
            nip,
            nik,
            full_name: name,
            position,
            agency,
            unit,
            employee_type,
            village_code: village_code.clone(),
            email: Some(format!("{login}.{}@contoh.go.id", self.serial)),
            active: true,
            updated_at,
        }
    }

    fn nip(&mut self, year: u32, month: u32, day: u32, female: bool) -> Nip {
        loop {
            let appointed_year = (year + self.rng.u32(20..36)).min(2024);
            let appointed_month = if appointed_year == year + 18 {
                month.max(1)
            } else {
                self.rng.u32(1..13)
            };
            let candidate = format!(
                "{year:04}{month:02}{day:02}{appointed_year:04}{appointed_month:02}{}{:03}",
                if female { 2 } else { 1 },
                self.rng.u32(1..1000)
            );
            if let Ok(nip) = Nip::parse(&candidate) {
                if self.used_nip.insert(candidate.parse().expect("digits")) {
                    return nip;
                }
            }
        }
    }

    fn nik(&mut self, village_code: &str, year: u32, month: u32, day: u32, female: bool) -> Nik {
        let area: String = village_code.split('.').take(3).collect();
        loop {
            let candidate = format!(
                "{area}{:02}{month:02}{:02}{:04}",
                if female { day + 40 } else { day },
                year % 100,
                self.rng.u32(1..10_000)
            );
            if let Ok(nik) = Nik::parse(&candidate) {
                if self.used_nik.insert(candidate.parse().expect("digits")) {
                    return nik;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FullName;

    #[test]
    fn generated_employees_have_valid_distinct_identifiers() {
        let mut generator = RosterGenerator::new(7);
        let mut niks = HashSet::new();
        let village = AreaCode::parse("73.71.01.1001").unwrap();
        for _ in 0..2_000 {
            let e = generator.employee(&village, 0);
            assert!(Nik::parse(&e.nik).is_ok(), "{}", e.nik);
            assert!(niks.insert(e.nik.clone()));
            if let Some(nip) = &e.nip {
                assert!(Nip::parse(nip).is_ok(), "{nip}");
            }
            assert!(FullName::parse(&e.full_name).is_ok(), "{}", e.full_name);
            assert!(crate::domain::EmailAddress::parse(e.email.as_deref().unwrap()).is_ok());
        }
    }
}
