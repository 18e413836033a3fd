//! SQL text with its parameters, written once for both engines.
//!
//! Both engines take `$n` placeholders (SQLite reads `$1` as "parameter 1", as sqlx binds
//! it), so a statement's text is the same on both; what differs is said by [`Dialect`]
//! (a handful of snippets) and by how each engine binds a [`Param`] (times as INTEGER
//! milliseconds on SQLite, TIMESTAMPTZ on PostgreSQL; lists as JSON text or arrays).
//!
//! Why not `sqlx::Any` or a query builder: `Any` binds neither UUIDs nor times, and both
//! schemas use them natively; a builder such as `sea-query` would still need the same
//! per-engine binding of times and would hide SQL that reads better written out. What is
//! left per engine is small enough to say here.

use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use uuid::Uuid;

/// A value bound to a placeholder, bound by each engine in its own way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// A UUID (BLOB on SQLite, UUID on PostgreSQL).
    Uuid(Option<Uuid>),
    /// An integer.
    Int(Option<i64>),
    /// A floating-point number.
    Float(Option<f64>),
    /// An instant (INTEGER milliseconds on SQLite, TIMESTAMPTZ on PostgreSQL; both keep
    /// millisecond precision).
    Time(Option<DateTime<Utc>>),
    /// A boolean (0/1 on SQLite).
    Bool(bool),
    /// A text.
    Text(Option<String>),
    /// Bytes (BLOB, BYTEA).
    Bytes(Option<Vec<u8>>),
    /// A list of texts, for [`Dialect::in_list`] (JSON text on SQLite, `text[]` on
    /// PostgreSQL).
    Texts(Vec<String>),
}

macro_rules! param_from {
    ($variant:ident, $t:ty) => {
        impl From<$t> for Param {
            fn from(v: $t) -> Self {
                Param::$variant(Some(v.into()))
            }
        }
        impl From<Option<$t>> for Param {
            fn from(v: Option<$t>) -> Self {
                Param::$variant(v.map(Into::into))
            }
        }
    };
}

param_from!(Uuid, Uuid);
param_from!(Int, i64);
param_from!(Float, f64);
param_from!(Time, DateTime<Utc>);
param_from!(Text, String);
param_from!(Text, &str);
param_from!(Bytes, Vec<u8>);
param_from!(Bytes, &[u8]);

impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(Some(v.clone()))
    }
}

impl From<Option<&String>> for Param {
    fn from(v: Option<&String>) -> Self {
        Param::Text(v.cloned())
    }
}

impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}

impl From<u32> for Param {
    fn from(v: u32) -> Self {
        Param::Int(Some(v.into()))
    }
}

impl From<Vec<String>> for Param {
    fn from(v: Vec<String>) -> Self {
        Param::Texts(v)
    }
}

/// SQL text with its parameters, `$1` first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sql {
    /// The text so far.
    pub text: String,
    /// The parameters, in placeholder order.
    pub params: Vec<Param>,
}

impl Sql {
    /// A statement whose text already holds its placeholders; give their values with
    /// [`Sql::arg`], in order.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            params: Vec::new(),
        }
    }

    /// The value of the next placeholder already in the text.
    pub fn arg(mut self, param: impl Into<Param>) -> Self {
        self.params.push(param.into());
        self
    }

    /// Append `text`.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a new placeholder bound to `param`.
    pub fn bind(&mut self, param: impl Into<Param>) -> &mut Self {
        self.params.push(param.into());
        let _ = write!(self.text, "${}", self.params.len());
        self
    }
}

/// The few things the engines spell differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite: times are INTEGER milliseconds, one writer at a time.
    Sqlite,
    /// PostgreSQL: TIMESTAMPTZ, row locks between replicas.
    Postgres,
}

impl Dialect {
    /// The engine's name, for logs and metrics: `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// Milliseconds since midnight UTC of the time column `col`.
    pub fn time_of_day(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("({col} % 86400000)"),
            Dialect::Postgres => {
                format!("((EXTRACT(EPOCH FROM {col}) * 1000)::BIGINT % 86400000)")
            }
        }
    }

    /// The condition that text column `col` is one of the list bound at `$n`
    /// ([`Param::Texts`]).
    pub fn in_list(self, col: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("{col} IN (SELECT value FROM json_each(${n}))"),
            Dialect::Postgres => format!("{col} = ANY(${n})"),
        }
    }

    /// The clause a sub-select of rows to change ends with, so that concurrent replicas
    /// skip each other's rows instead of waiting (SQLite has one writer: nothing).
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The statement (parameter `$1`: the user's id) that a transaction writing one of the
    /// user's tombstones runs first: sequence numbers are taken at insert but seen at
    /// commit, so on PostgreSQL a lock held to the commit makes one user's tombstones
    /// commit in `seq` order (an agent that synced past a seq can never miss a smaller one
    /// that committed later). SQLite's write transactions are serial already.
    pub fn order_tombstones(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            // The first key is any constant no other lock of this database uses.
            Dialect::Postgres => {
                Some("SELECT pg_advisory_xact_lock(1685024098, hashtext($1::text))")
            }
        }
    }

    /// The statement that a transaction appending to the ledger runs first, so that
    /// appends take turns: on PostgreSQL a transaction-level advisory lock, held to the
    /// commit, so replicas appending at once each read the head the previous one committed
    /// and the ledger stays one chain (the primary key on `seq` would refuse a fork
    /// anyway). SQLite's write transactions are serial already.
    pub fn order_ledger(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            // The key is a constant no other lock of this database uses ("ledg").
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock(1818584167)"),
        }
    }

    /// The clause that locks the rows a transaction's `SELECT` reads until it ends
    /// (SQLite's write transactions already hold the database: nothing).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// How far apart the time column `col` and the time bound at `$n` are, as a number
    /// that orders by that distance (milliseconds on SQLite, seconds on PostgreSQL).
    pub fn time_distance(self, col: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("abs({col} - ${n})"),
            Dialect::Postgres => format!("abs(EXTRACT(EPOCH FROM ({col} - ${n})))"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_placeholders_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = $1").arg(5_i64);
        sql.push(" AND b = ").bind("x").push(" AND c = ").bind(true);
        assert_eq!(
            sql.text,
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3"
        );
        assert_eq!(
            sql.params,
            vec![
                Param::Int(Some(5)),
                Param::Text(Some("x".into())),
                Param::Bool(true)
            ]
        );
    }

    #[test]
    fn optional_values_bind_as_typed_nulls() {
        assert_eq!(Param::from(None::<DateTime<Utc>>), Param::Time(None));
        assert_eq!(Param::from(None::<&str>), Param::Text(None));
    }

    #[test]
    fn only_postgres_orders_ledger_appends_with_a_lock() {
        assert_eq!(Dialect::Sqlite.order_ledger(), None);
        assert_eq!(
            Dialect::Postgres.order_ledger(),
            Some("SELECT pg_advisory_xact_lock(1818584167)")
        );
    }

    #[test]
    fn dialects_spell_lists_and_locks() {
        assert_eq!(
            Dialect::Sqlite.in_list("kind", 2),
            "kind IN (SELECT value FROM json_each($2))"
        );
        assert_eq!(Dialect::Postgres.in_list("kind", 2), "kind = ANY($2)");
        assert_eq!(Dialect::Sqlite.skip_locked(), "");
        assert!(Dialect::Postgres.for_update().contains("FOR UPDATE"));
    }

    #[test]
    fn dialects_spell_time_distances() {
        assert_eq!(
            Dialect::Sqlite.time_distance("start_at", 4),
            "abs(start_at - $4)"
        );
        assert_eq!(
            Dialect::Postgres.time_distance("start_at", 4),
            "abs(EXTRACT(EPOCH FROM (start_at - $4)))"
        );
    }
}
