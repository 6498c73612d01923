//! How the public dashboards show figures: small counts hidden, tables sorted on the server with
//! their sort state announced, and links that keep every choice of the reader.

use crate::db::coverage::Tally;

/// Counts below the threshold are shown as "< N" on public pages: in a village with one employee
/// of an agency, "1 pegawai, 0%" names a person. A percentage computed from a hidden count would
/// give it back, so it is hidden with it. Admin pages show exact figures to admins in scope.
#[derive(Debug, Clone, Copy)]
pub struct SmallCounts {
    threshold: i64,
}

impl SmallCounts {
    pub fn hidden_below(threshold: i64) -> Self {
        Self { threshold }
    }

    fn hides(&self, n: i64) -> bool {
        n < self.threshold
    }

    /// True if the tally's figures are not shown exactly.
    pub fn hides_tally(&self, t: &Tally) -> bool {
        self.hides(t.roster) || self.hides(t.signed)
    }

    /// "1.234" or "< 5".
    pub fn count(&self, n: i64) -> String {
        if self.hides(n) {
            format!("< {}", self.threshold)
        } else {
            crate::web::charts::thousands(n)
        }
    }

    /// "61,5" or "–" when a count behind it is hidden.
    pub fn percent(&self, t: &Tally) -> Option<String> {
        (!self.hides_tally(t)).then(|| crate::web::charts::percent_id(t.percent()))
    }

    /// The value a table is sorted on: hidden counts sort as equal (by name), so that the order
    /// of rows does not give back what the cells hide.
    pub fn sort_key(&self, t: &Tally, key: SortKey) -> f64 {
        match key {
            SortKey::Name => 0.0,
            SortKey::Roster if self.hides(t.roster) => -1.0,
            SortKey::Roster => t.roster as f64,
            SortKey::Signed if self.hides(t.signed) => -1.0,
            SortKey::Signed => t.signed as f64,
            SortKey::Percent if self.hides_tally(t) => -1.0,
            SortKey::Percent => t.percent(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Roster,
    Signed,
    Percent,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [Self::Name, Self::Roster, Self::Signed, Self::Percent];

    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some("pegawai") => Self::Roster,
            Some("sudah") => Self::Signed,
            Some("persen") => Self::Percent,
            _ => Self::Name,
        }
    }

    pub fn param(self) -> &'static str {
        match self {
            Self::Name => "nama",
            Self::Roster => "pegawai",
            Self::Signed => "sudah",
            Self::Percent => "persen",
        }
    }
}

/// The order of one table: which column, and whether descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub key: SortKey,
    pub descending: bool,
}

impl Order {
    pub fn parse(key: Option<&str>, direction: Option<&str>) -> Self {
        Self {
            key: SortKey::parse(key),
            descending: direction == Some("turun"),
        }
    }

    /// Sorts rows of (name, tally) in this order; ties stay in name order.
    pub fn sort<T>(
        &self,
        rows: &mut [T],
        small: SmallCounts,
        name: impl Fn(&T) -> &str,
        tally: impl Fn(&T) -> &Tally,
    ) {
        rows.sort_by(|a, b| name(a).cmp(name(b)));
        let key = self.key;
        if key != SortKey::Name {
            rows.sort_by(|a, b| {
                small
                    .sort_key(tally(a), key)
                    .total_cmp(&small.sort_key(tally(b), key))
            });
        }
        if self.descending {
            rows.reverse();
        }
    }

    /// `aria-sort` of a column header.
    pub fn aria(&self, column: SortKey) -> &'static str {
        match (column == self.key, self.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// The order a click on a column header asks for: that column ascending, or reversed if it
    /// is the current one.
    pub fn clicked(&self, column: SortKey) -> Self {
        Self {
            key: column,
            descending: column == self.key && !self.descending,
        }
    }
}

/// Everything a reader chose on the dashboard, so that each link keeps the rest.
#[derive(Debug, Clone)]
pub struct Choices {
    /// "" for the campaign's own scope.
    pub area: String,
    pub areas: Order,
    pub agencies: Order,
    pub projector: bool,
}

impl Choices {
    /// The dashboard's address with these choices; defaults are left out.
    pub fn href(&self, base: &str) -> String {
        let mut params: Vec<String> = Vec::new();
        if !self.area.is_empty() {
            params.push(format!("area={}", self.area));
        }
        for (order, key, direction) in [
            (self.areas, "urut", "arah"),
            (self.agencies, "urut_instansi", "arah_instansi"),
        ] {
            if order.key != SortKey::Name || order.descending {
                params.push(format!("{key}={}", order.key.param()));
                params.push(format!(
                    "{direction}={}",
                    if order.descending { "turun" } else { "naik" }
                ));
            }
        }
        if self.projector {
            params.push("layar=proyektor".into());
        }
        if params.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", params.join("&"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(roster: i64, signed: i64) -> Tally {
        Tally { roster, signed }
    }

    #[test]
    fn counts_below_the_threshold_and_their_percentages_are_hidden() {
        let small = SmallCounts::hidden_below(5);
        assert_eq!(small.count(1), "< 5");
        assert_eq!(small.count(0), "< 5");
        assert_eq!(small.count(1234), "1.234");
        assert_eq!(small.percent(&tally(1, 0)), None);
        assert_eq!(small.percent(&tally(100, 3)), None);
        assert_eq!(small.percent(&tally(8, 6)).as_deref(), Some("75,0"));
        let exact = SmallCounts::hidden_below(0);
        assert_eq!(exact.count(1), "1");
    }

    #[test]
    fn hidden_counts_do_not_order_the_rows() {
        let small = SmallCounts::hidden_below(5);
        let mut rows = vec![("C", tally(3, 0)), ("A", tally(10, 9)), ("B", tally(1, 1))];
        Order::parse(Some("pegawai"), Some("naik")).sort(&mut rows, small, |r| r.0, |r| &r.1);
        let names: Vec<&str> = rows.iter().map(|r| r.0).collect();
        assert_eq!(names, ["B", "C", "A"], "hidden rows by name, then by count");
    }

    #[test]
    fn links_keep_the_other_choices() {
        let choices = Choices {
            area: "73.71".into(),
            areas: Order::parse(Some("persen"), Some("turun")),
            agencies: Order::parse(None, None),
            projector: true,
        };
        assert_eq!(
            choices.href("/cakupan/k"),
            "/cakupan/k?area=73.71&urut=persen&arah=turun&layar=proyektor"
        );
        assert_eq!(choices.areas.aria(SortKey::Percent), "descending");
        assert_eq!(choices.areas.aria(SortKey::Name), "none");
        assert!(!choices.areas.clicked(SortKey::Percent).descending);
    }
}
