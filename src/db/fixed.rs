//! Statements of fixed SQL that run for every signing or every QR scan, kept prepared.
//!
//! diesel never keeps an `UPDATE` or an `ON CONFLICT … DO UPDATE` prepared (some of them make
//! different SQL for different values), so it parsed and planned each of these again on every
//! run. On SQLite they all run in the group-commit thread, one signing after another: the
//! counters, the log index and the coverage counters were 7–9% of the node's CPU while signing
//! (docs/performance.md, round 6). Here each statement is a type of its own with a static query
//! id: prepared once per connection, then only bound and stepped. The SQL is the same on both
//! backends; diesel writes each bind's placeholder (`?` or `$n`).
//!
//! A scan's snapshot (`db::in_one_snapshot`) is here too: diesel's transaction manager hands
//! `BEGIN` and `COMMIT` to `sqlite3_exec`, which parses them anew each time.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text};
use diesel::QueryResult;

/// `name { field: RustType as SqlType, … } = "SQL with one ? per field, in field order"`, or
/// `name = "SQL"` for a statement without parameters.
macro_rules! fixed_statement {
    ($(#[$doc:meta])* $name:ident = $text:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, QueryId)]
        pub struct $name;

        impl<DB: Backend> QueryFragment<DB> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                out.push_sql($text);
                Ok(())
            }
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $name {}
    };
    ($(#[$doc:meta])* $name:ident { $($field:ident: $rust:ty as $sql:ty),+ $(,)? } = $text:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a> {
            $(pub $field: $rust,)+
        }

        impl QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<'a, DB> QueryFragment<DB> for $name<'a>
        where
            DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
            $($rust: ToSql<$sql, DB>,)+
        {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                let mut pieces = $text.split('?');
                out.push_sql(pieces.next().unwrap_or_default());
                $(
                    out.push_bind_param::<$sql, _>(&self.$field)?;
                    out.push_sql(pieces.next().unwrap_or_default());
                )+
                Ok(())
            }
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $name<'_> {}
    };
}

fixed_statement! {
    /// Opens a read snapshot (SQLite).
    Begin = "BEGIN DEFERRED"
}

fixed_statement! {
    /// Ends a snapshot.
    Commit = "COMMIT"
}

fixed_statement! {
    /// Ends a snapshot whose reads failed.
    Rollback = "ROLLBACK"
}

fixed_statement! {
    /// Adds to a counter row (certificate numbers, the log's size, the audit sequence).
    AdvanceCounter { by: i64 as BigInt, name: &'a str as Text }
        = "UPDATE counters SET value = value + ? WHERE name = ?"
}

fixed_statement! {
    /// Records where a certificate's issuance sits in the log.
    SetLogIndex { index: i64 as BigInt, id: &'a str as Text }
        = "UPDATE certificates SET log_index = ? WHERE id = ?"
}

fixed_statement! {
    /// Adds employees to a roster counter row, creating it if needed.
    AddRosterCount {
        area_code: &'a str as Text,
        parent_code: &'a str as Text,
        agency: &'a str as Text,
        employee_type: &'a str as Text,
        employees: i64 as BigInt,
    } = "INSERT INTO roster_counts (area_code, parent_code, agency, employee_type, employees) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (area_code, agency, employee_type) \
         DO UPDATE SET employees = roster_counts.employees + excluded.employees"
}

fixed_statement! {
    /// Adds signatures to a signed counter row, creating it if needed.
    AddSignedCount {
        campaign_id: &'a str as Text,
        area_code: &'a str as Text,
        parent_code: &'a str as Text,
        agency: &'a str as Text,
        employee_type: &'a str as Text,
        signed: i64 as BigInt,
    } = "INSERT INTO signed_counts (campaign_id, area_code, parent_code, agency, employee_type, signed) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, area_code, agency, employee_type) \
         DO UPDATE SET signed = signed_counts.signed + excluded.signed"
}

fixed_statement! {
    /// Adds signings to an area's count for a day, creating the row if needed.
    AddDailySignings {
        campaign_id: &'a str as Text,
        area_code: &'a str as Text,
        day: i64 as BigInt,
        signings: i64 as BigInt,
    } = "INSERT INTO daily_signings (campaign_id, area_code, day, signings) \
         VALUES (?, ?, ?, ?) ON CONFLICT (campaign_id, area_code, day) \
         DO UPDATE SET signings = daily_signings.signings + excluded.signings"
}

/// Statements only PostgreSQL runs. There every statement is a round trip to the server, and a
/// group commit holds the certificate-number and log-size counter rows from its first signing to
/// its commit, so each round trip inside it delays every signing of every node. These do in one
/// trip what the shared statements above do in two or in hundreds.
pub mod pg {
    use diesel::pg::Pg;
    use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
    use diesel::sql_types::{Array, BigInt, Text};
    use diesel::QueryResult;

    /// Adds to a counter row and returns its new value (`AdvanceCounter` and a read, in one).
    #[derive(Debug, Clone, Copy)]
    pub struct AdvanceCounter<'a> {
        pub by: i64,
        pub name: &'a str,
    }

    impl QueryId for AdvanceCounter<'_> {
        type QueryId = AdvanceCounter<'static>;
        const HAS_STATIC_QUERY_ID: bool = true;
    }

    impl Query for AdvanceCounter<'_> {
        type SqlType = BigInt;
    }

    impl QueryFragment<Pg> for AdvanceCounter<'_> {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            out.push_sql("UPDATE counters SET value = value + ");
            out.push_bind_param::<BigInt, _>(&self.by)?;
            out.push_sql(" WHERE name = ");
            out.push_bind_param::<Text, _>(&self.name)?;
            out.push_sql(" RETURNING value");
            Ok(())
        }
    }

    impl<Conn> diesel::RunQueryDsl<Conn> for AdvanceCounter<'_> {}

    /// `name { column: Vec<RustType> as SqlType, … } = "INSERT … SELECT * FROM unnest(?, …) …"`: a
    /// statement that takes each column as one array, so that any number of rows is one
    /// statement, prepared once.
    macro_rules! column_statement {
        ($(#[$doc:meta])* $name:ident { $($field:ident: $rust:ty as $sql:ty),+ $(,)? } = $text:literal) => {
            $(#[$doc])*
            #[derive(Debug, Default)]
            pub struct $name<'a> {
                $(pub $field: Vec<$rust>,)+
            }

            impl QueryId for $name<'_> {
                type QueryId = $name<'static>;
                const HAS_STATIC_QUERY_ID: bool = true;
            }

            impl QueryFragment<Pg> for $name<'_> {
                fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
                    let mut pieces = $text.split('?');
                    out.push_sql(pieces.next().unwrap_or_default());
                    $(
                        out.push_bind_param::<Array<$sql>, _>(&self.$field)?;
                        out.push_sql(pieces.next().unwrap_or_default());
                    )+
                    Ok(())
                }
            }

            impl<Conn> diesel::RunQueryDsl<Conn> for $name<'_> {}
        };
    }

    column_statement! {
        /// `super::AddRosterCount` for many rows (each key once: ON CONFLICT may not touch a row
        /// twice in one statement).
        AddRosterCounts {
            area_code: &'a str as Text,
            parent_code: &'a str as Text,
            agency: &'a str as Text,
            employee_type: &'a str as Text,
            employees: i64 as BigInt,
        } = "INSERT INTO roster_counts (area_code, parent_code, agency, employee_type, employees) \
             SELECT * FROM unnest(?, ?, ?, ?, ?) ON CONFLICT (area_code, agency, employee_type) \
             DO UPDATE SET employees = roster_counts.employees + excluded.employees"
    }

    column_statement! {
        /// `super::AddSignedCount` for many rows, each key once.
        AddSignedCounts {
            campaign_id: &'a str as Text,
            area_code: &'a str as Text,
            parent_code: &'a str as Text,
            agency: &'a str as Text,
            employee_type: &'a str as Text,
            signed: i64 as BigInt,
        } = "INSERT INTO signed_counts (campaign_id, area_code, parent_code, agency, employee_type, signed) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, area_code, agency, employee_type) \
             DO UPDATE SET signed = signed_counts.signed + excluded.signed"
    }

    column_statement! {
        /// `super::AddDailySignings` for many rows, each key once.
        AddDailySignings {
            campaign_id: &'a str as Text,
            area_code: &'a str as Text,
            day: i64 as BigInt,
            signings: i64 as BigInt,
        } = "INSERT INTO daily_signings (campaign_id, area_code, day, signings) \
             SELECT * FROM unnest(?, ?, ?, ?) ON CONFLICT (campaign_id, area_code, day) \
             DO UPDATE SET signings = daily_signings.signings + excluded.signings"
    }
}
