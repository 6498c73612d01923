//! Who an administrator is and whom they may see. The scope is decided here once, as a range of
//! area codes and an agency, and both the check in Rust (`covers`) and the filter in SQL
//! (`sql_filter`) are derived from that one value, so a list can never show a row that the check
//! would refuse, nor hide one it would allow.

use std::fmt;

use diesel::backend::Backend;
use diesel::dsl;
use diesel::expression::{AsExpression, BoxableExpression};
use diesel::prelude::*;
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, Text};

use super::{AreaCode, AreaLevel, AreaScope};

/// What an administrator is: the level of government they answer for, or one agency (instansi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminRole {
    National,
    Province,
    Regency,
    District,
    Village,
    Agency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminScopeError {
    #[error("peran \"{0}\" tidak dikenal; pilih nasional, provinsi, kabupaten, kecamatan, desa atau instansi")]
    Role(String),
    #[error("{0}")]
    Area(#[from] super::AreaCodeError),
    #[error("peran {role} memerlukan kode wilayah tingkat {level}, bukan \"{code}\"")]
    LevelMismatch {
        role: &'static str,
        level: &'static str,
        code: String,
    },
    #[error("peran instansi memerlukan nama instansi")]
    AgencyMissing,
    #[error("nama instansi hanya untuk peran instansi")]
    AgencyNotAllowed,
}

impl AdminRole {
    pub const ALL: [AdminRole; 6] = [
        Self::National,
        Self::Province,
        Self::Regency,
        Self::District,
        Self::Village,
        Self::Agency,
    ];

    /// Accepts the stored Indonesian names and the English ones of the command line's help.
    pub fn parse(raw: &str) -> Result<Self, AdminScopeError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "nasional" | "national" => Ok(Self::National),
            "provinsi" | "province" => Ok(Self::Province),
            "kabupaten" | "kota" | "kabupaten/kota" | "regency" | "city" => Ok(Self::Regency),
            "kecamatan" | "district" => Ok(Self::District),
            "desa" | "kelurahan" | "village" => Ok(Self::Village),
            "instansi" | "agency" => Ok(Self::Agency),
            other => Err(AdminScopeError::Role(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::National => "nasional",
            Self::Province => "provinsi",
            Self::Regency => "kabupaten",
            Self::District => "kecamatan",
            Self::Village => "desa",
            Self::Agency => "instansi",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::National => "Admin nasional",
            Self::Province => "Admin provinsi",
            Self::Regency => "Admin kabupaten/kota",
            Self::District => "Admin kecamatan",
            Self::Village => "Admin desa/kelurahan",
            Self::Agency => "Admin instansi",
        }
    }

    fn level(self) -> Option<AreaLevel> {
        match self {
            Self::Province => Some(AreaLevel::Province),
            Self::Regency => Some(AreaLevel::Regency),
            Self::District => Some(AreaLevel::District),
            Self::Village => Some(AreaLevel::Village),
            Self::National | Self::Agency => None,
        }
    }
}

impl fmt::Display for AdminRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The people an administrator may see and act on: an area subtree (the nation when `area` is
/// `None`), optionally narrowed to one agency. Every admin request is checked against one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminScope {
    role: AdminRole,
    area: Option<AreaCode>,
    agency: Option<String>,
}

impl AdminScope {
    /// `scope` is an area code or `ID` for the whole nation; the role must fit its level.
    pub fn parse(
        role: AdminRole,
        scope: &str,
        agency: Option<&str>,
    ) -> Result<Self, AdminScopeError> {
        let area = match scope.trim() {
            "" | "ID" | "id" | "nasional" => None,
            code => Some(AreaCode::parse(code)?),
        };
        Self::new(role, area, agency)
    }

    /// The scope of an area already parsed (a stored admin's), with the checks of `parse`: the
    /// role must fit the area's level, and only an agency admin names an agency.
    pub fn new(
        role: AdminRole,
        area: Option<AreaCode>,
        agency: Option<&str>,
    ) -> Result<Self, AdminScopeError> {
        let agency = agency
            .map(|a| a.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|a| !a.is_empty());
        let shown = area.as_ref().map_or("ID".to_string(), |a| a.to_string());
        match (role, role.level(), &area) {
            (AdminRole::National, _, Some(_)) => {
                return Err(AdminScopeError::LevelMismatch {
                    role: role.as_str(),
                    level: "nasional (ID)",
                    code: shown,
                })
            }
            (_, Some(level), Some(code)) if code.level() != level => {
                return Err(AdminScopeError::LevelMismatch {
                    role: role.as_str(),
                    level: level.label(),
                    code: shown,
                })
            }
            (_, Some(level), None) => {
                return Err(AdminScopeError::LevelMismatch {
                    role: role.as_str(),
                    level: level.label(),
                    code: shown,
                })
            }
            _ => {}
        }
        match (role, &agency) {
            (AdminRole::Agency, None) => Err(AdminScopeError::AgencyMissing),
            (AdminRole::Agency, Some(_)) => Ok(Self { role, area, agency }),
            (_, Some(_)) => Err(AdminScopeError::AgencyNotAllowed),
            (_, None) => Ok(Self { role, area, agency }),
        }
    }

    pub fn role(&self) -> AdminRole {
        self.role
    }

    pub fn area(&self) -> Option<&AreaCode> {
        self.area.as_ref()
    }

    /// The stored form of the area: `""` for the nation.
    pub fn scope_code(&self) -> &str {
        self.area.as_ref().map_or("", AreaCode::as_str)
    }

    /// The area as it is stored: the nation, or the area.
    pub fn area_scope(&self) -> AreaScope {
        AreaScope::from(self.area.clone())
    }

    pub fn agency(&self) -> Option<&str> {
        self.agency.as_deref()
    }

    /// The codes of this scope's subtree as one half-open range; `None` for the whole nation.
    pub fn area_range(&self) -> Option<AreaRange> {
        self.area.as_ref().map(AreaRange::of)
    }

    /// True if the area (any level, or `""` for the nation) lies inside this scope's subtree.
    pub fn covers_area(&self, code: &str) -> bool {
        match self.area_range() {
            None => true,
            // Parsed first: the range is only exact for well-formed codes.
            Some(range) => AreaCode::parse(code).is_ok() && range.holds(code),
        }
    }

    /// True if an employee placed in this village and agency is this admin's to see.
    pub fn covers(&self, village_code: &str, agency: &str) -> bool {
        self.covers_area(village_code) && self.agency.as_deref().is_none_or(|a| a == agency)
    }

    /// The same rule as `covers`, as a condition on a table's area-code and agency columns:
    /// `area >= from AND area < to [AND agency = …]`. Both backends answer it from an index on
    /// the area column. The nation without an agency is `TRUE`.
    pub fn sql_filter<QS, DB, A, G>(&self, area: A, agency: G) -> BoolBox<QS, DB>
    where
        DB: Backend + 'static,
        QS: 'static,
        A: BoxableExpression<QS, DB, SqlType = Text> + Clone + 'static,
        G: BoxableExpression<QS, DB, SqlType = Text> + 'static,
        String: ToSql<Text, DB>,
        bool: ToSql<Bool, DB>,
        <String as AsExpression<Text>>::Expression: BoxableExpression<QS, DB, SqlType = Text>,
        <bool as AsExpression<Bool>>::Expression: BoxableExpression<QS, DB, SqlType = Bool>,
        // The two conditions built below, which every diesel backend can render.
        dsl::And<
            dsl::GtEq<TextBox<QS, DB>, TextBox<QS, DB>>,
            dsl::Lt<TextBox<QS, DB>, TextBox<QS, DB>>,
        >: BoxableExpression<QS, DB, SqlType = Bool>,
        dsl::And<BoolBox<QS, DB>, dsl::Eq<TextBox<QS, DB>, TextBox<QS, DB>>>:
            BoxableExpression<QS, DB, SqlType = Bool>,
    {
        let text = |value: &str| -> TextBox<QS, DB> {
            Box::new(AsExpression::<Text>::as_expression(value.to_string()))
        };
        let mut condition: BoolBox<QS, DB> = Box::new(AsExpression::<Bool>::as_expression(true));
        if let Some(range) = self.area_range() {
            let column: TextBox<QS, DB> = Box::new(area.clone());
            let upper: TextBox<QS, DB> = Box::new(area);
            condition = Box::new(column.ge(text(&range.from)).and(upper.lt(text(&range.to))));
        }
        if let Some(mine) = &self.agency {
            let column: TextBox<QS, DB> = Box::new(agency);
            condition = Box::new(condition.and(column.eq(text(mine))));
        }
        condition
    }

    /// True if `other` is narrower than this scope: inside its subtree and agency, and not equal.
    /// Administrators may only invite such admins, so no one can widen their own reach.
    pub fn strictly_contains(&self, other: &AdminScope) -> bool {
        let area_inside = self.covers_area(other.scope_code());
        let agency_inside = match (&self.agency, &other.agency) {
            (None, _) => true,
            (Some(mine), Some(theirs)) => mine == theirs,
            (Some(_), None) => false,
        };
        area_inside && agency_inside && (self.area != other.area || self.agency != other.agency)
    }
}

type TextBox<QS, DB> = Box<dyn BoxableExpression<QS, DB, SqlType = Text>>;
type BoolBox<QS, DB> = Box<dyn BoxableExpression<QS, DB, SqlType = Bool>>;

/// An area and everything below it, as the codes `from <= code < to`. Codes are fixed-width digit
/// groups joined by '.', so every code below `73.71` starts with `73.71.` and sorts before `73.71/`
/// ('/' follows '.'): one range holds the area itself and its whole subtree, on both backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaRange {
    pub from: String,
    pub to: String,
}

impl AreaRange {
    pub fn of(area: &AreaCode) -> Self {
        Self {
            from: area.as_str().to_string(),
            to: format!("{}/", area.as_str()),
        }
    }

    /// The range of the area, or every code (`""` up to `~`) for the nation.
    pub fn of_optional(area: Option<&AreaCode>) -> Self {
        area.map_or_else(
            || Self {
                from: String::new(),
                to: "~".to_string(),
            },
            Self::of,
        )
    }

    pub fn holds(&self, code: &str) -> bool {
        self.from.as_str() <= code && code < self.to.as_str()
    }
}

impl fmt::Display for AdminScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.area {
            None => f.write_str("nasional")?,
            Some(a) => write!(f, "wilayah {a}")?,
        }
        if let Some(agency) = &self.agency {
            write!(f, ", instansi {agency}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(role: &str, code: &str, agency: Option<&str>) -> AdminScope {
        AdminScope::parse(AdminRole::parse(role).unwrap(), code, agency).unwrap()
    }

    #[test]
    fn a_role_must_fit_the_level_of_its_area() {
        assert!(AdminScope::parse(AdminRole::Province, "73.72", None).is_err());
        assert!(AdminScope::parse(AdminRole::National, "73", None).is_err());
        assert!(AdminScope::parse(AdminRole::Village, "ID", None).is_err());
        assert!(AdminScope::parse(AdminRole::Agency, "73", None).is_err());
        assert!(AdminScope::parse(AdminRole::Regency, "73.72", Some("Dinas")).is_err());
        assert_eq!(scope("kabupaten", "73.72", None).scope_code(), "73.72");
        assert_eq!(scope("nasional", "ID", None).scope_code(), "");
    }

    #[test]
    fn scopes_nest_and_never_widen() {
        let province = scope("provinsi", "73", None);
        let regency = scope("kabupaten", "73.72", None);
        let agency = scope("instansi", "73.72", Some("Dinas Pendidikan"));
        assert!(province.strictly_contains(&regency));
        assert!(regency.strictly_contains(&agency));
        assert!(!regency.strictly_contains(&regency));
        assert!(!regency.strictly_contains(&province));
        assert!(!agency.strictly_contains(&scope("kecamatan", "73.72.01", None)));
        assert!(agency.covers("73.72.01.1001", "Dinas Pendidikan"));
        assert!(!agency.covers("73.72.01.1001", "Dinas Kesehatan"));
        assert!(!regency.covers("73.71.01.1001", "Dinas Pendidikan"));
        assert!(scope("nasional", "ID", None).covers("11.01.01.2001", "x"));
    }

    #[test]
    fn the_range_holds_the_area_and_its_subtree_only() {
        let range = AreaRange::of(&AreaCode::parse("73.71").unwrap());
        for inside in ["73.71", "73.71.01", "73.71.01.1001", "73.71.99.2099"] {
            assert!(range.holds(inside), "{inside}");
        }
        for outside in ["73.7", "73.70.01", "73.72", "73", "74.71", "", "7"] {
            assert!(!range.holds(outside), "{outside}");
        }
        let village = AreaRange::of(&AreaCode::parse("73.71.01.1001").unwrap());
        assert!(village.holds("73.71.01.1001"));
        assert!(!village.holds("73.71.01.1002"));
    }
}
