use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Timelike, Utc};

/// The three Indonesian time zones; none observes daylight saving, so a fixed offset is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndonesianZone {
    Wib,
    Wita,
    Wit,
}

const DAYS: [&str; 7] = [
    "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu",
];
const MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

impl IndonesianZone {
    /// The zone of a province, from the two leading digits of any area code inside it.
    pub fn of_province(province_code: &str) -> Self {
        match province_code
            .get(..2)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
        {
            51..=53 | 63..=65 | 71..=76 => Self::Wita,
            81 | 82 | 91..=96 => Self::Wit,
            _ => Self::Wib,
        }
    }

    pub fn offset_hours(self) -> i32 {
        match self {
            Self::Wib => 7,
            Self::Wita => 8,
            Self::Wit => 9,
        }
    }

    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::Wib => "WIB",
            Self::Wita => "WITA",
            Self::Wit => "WIT",
        }
    }

    /// "Rabu, 15 November 2023 pukul 10.30 WITA", the form an Indonesian official letter uses.
    pub fn format_long(self, at: DateTime<Utc>) -> String {
        let offset = FixedOffset::east_opt(self.offset_hours() * 3600).expect("valid offset");
        let local = offset.from_utc_datetime(&at.naive_utc());
        format!(
            "{}, {} {} {} pukul {:02}.{:02} {}",
            DAYS[local.weekday().num_days_from_monday() as usize],
            local.day(),
            MONTHS[local.month0() as usize],
            local.year(),
            local.hour(),
            local.minute(),
            self.abbreviation()
        )
    }

    /// "15 November 2023", for dates without a time.
    pub fn format_date(self, at: DateTime<Utc>) -> String {
        let offset = FixedOffset::east_opt(self.offset_hours() * 3600).expect("valid offset");
        let local = offset.from_utc_datetime(&at.naive_utc());
        format!(
            "{} {} {}",
            local.day(),
            MONTHS[local.month0() as usize],
            local.year()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_time_reads_in_the_signers_zone() {
        let at = Utc.with_ymd_and_hms(2023, 11, 15, 2, 30, 0).unwrap();
        assert_eq!(
            IndonesianZone::of_province("73").format_long(at),
            "Rabu, 15 November 2023 pukul 10.30 WITA"
        );
        assert_eq!(
            IndonesianZone::of_province("31").format_long(at),
            "Rabu, 15 November 2023 pukul 09.30 WIB"
        );
        assert_eq!(
            IndonesianZone::of_province("91").format_long(at),
            "Rabu, 15 November 2023 pukul 11.30 WIT"
        );
    }
}
