//! The nation or one area below it, as campaigns, admins and the unsigned list name a scope.

use std::fmt;

use super::{AreaCode, AreaCodeError};

/// The whole nation, or one area and everything below it: where a campaign runs and what an area
/// administrator answers for. Stored as the area's code, or `""` for the nation, the text the
/// columns held when they were `String`s.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
// A text column; its `FromSql` parses (db::types).
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum AreaScope {
    /// The default: a filter that names no area lists the whole nation.
    #[default]
    National,
    Area(AreaCode),
}

impl AreaScope {
    /// The stored form: `""` is the nation, anything else must be an area code. Forms that also
    /// accept "ID" for the nation map it themselves.
    pub fn parse(raw: &str) -> Result<Self, AreaCodeError> {
        match raw.trim() {
            "" => Ok(Self::National),
            code => AreaCode::parse(code).map(Self::Area),
        }
    }

    /// `""` for the nation, else the area's code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::National => "",
            Self::Area(area) => area.as_str(),
        }
    }

    /// `None` for the nation.
    pub fn area(&self) -> Option<&AreaCode> {
        match self {
            Self::National => None,
            Self::Area(area) => Some(area),
        }
    }

    pub fn is_national(&self) -> bool {
        matches!(self, Self::National)
    }

    /// True for every area inside the scope, the scope's own area included.
    pub fn covers(&self, area: &AreaCode) -> bool {
        match self {
            Self::National => true,
            Self::Area(scope) => scope.contains(area),
        }
    }
}

impl From<Option<AreaCode>> for AreaScope {
    fn from(area: Option<AreaCode>) -> Self {
        area.map_or(Self::National, Self::Area)
    }
}

/// Reads as its stored text wherever a `&str` is taken, as `AreaCode` does.
impl std::ops::Deref for AreaScope {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// The stored text: `""` for the nation, as audit details and the API have always shown it.
impl fmt::Display for AreaScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_text_is_the_nation_and_round_trips() {
        assert_eq!(AreaScope::parse("").unwrap(), AreaScope::National);
        for stored in ["", "73", "73.72.01.1001"] {
            assert_eq!(AreaScope::parse(stored).unwrap().as_str(), stored);
        }
        assert!(AreaScope::parse("ID").is_err());
        assert!(AreaScope::parse("73.7").is_err());
    }

    #[test]
    fn a_scope_covers_its_subtree_and_the_nation_covers_all() {
        let village = AreaCode::parse("73.72.01.1001").unwrap();
        let regency = AreaScope::parse("73.72").unwrap();
        assert!(regency.covers(&village));
        assert!(regency.covers(&AreaCode::parse("73.72").unwrap()));
        assert!(!regency.covers(&AreaCode::parse("73.71.01").unwrap()));
        assert!(!regency.covers(&AreaCode::parse("73").unwrap()));
        assert!(AreaScope::National.covers(&village));
    }
}
