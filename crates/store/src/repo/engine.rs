//! What the SQL written once ([`Sql`]) needs from an engine: running a statement on the
//! pool or in a transaction, and reading a row's columns. Each engine (`sqlite.rs`,
//! `postgres.rs`) implements these for itself; every repository trait is then implemented
//! once for any [`Engine`].

use super::convert::to_u64;
use super::sql::{Dialect, Sql};
use super::upload_lock::UploadLock;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// An engine's metadata repository: its pool, its transactions and its dialect.
#[async_trait]
pub(crate) trait Engine: Send + Sync + 'static {
    /// A row as the engine returns it.
    type Row: Columns + Send + Sync;
    /// Statements on the pool, each in its own implicit transaction.
    type Db: Exec<Row = Self::Row>;
    /// An explicit transaction.
    type Tx: Transaction<Row = Self::Row>;
    /// How this engine spells what differs.
    const DIALECT: Dialect;

    /// The pool, to run single statements on.
    fn db(&self) -> Self::Db;

    /// Start a transaction that will write (SQLite takes its write lock at once, so two
    /// such transactions queue instead of failing on a lock upgrade).
    async fn begin(&self) -> Result<Self::Tx>;

    /// The right to write upload `id` ([`super::UploadRepo::lock_upload`]): on PostgreSQL
    /// a session advisory lock that every replica sees; SQLite is served by one process,
    /// whose own guard is the lock.
    async fn upload_lock(&self, id: Uuid) -> Result<Option<UploadLock>>;
}

/// Runs statements.
#[async_trait]
pub(crate) trait Exec: Send {
    /// A row as the engine returns it.
    type Row: Columns + Send + Sync;
    /// Run a statement; the number of rows it changed.
    async fn execute(&mut self, sql: Sql) -> Result<u64>;
    /// All rows of a query.
    async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Self::Row>>;
    /// The first row of a query, if any.
    async fn fetch_optional(&mut self, sql: Sql) -> Result<Option<Self::Row>>;

    /// The first row of a query that always returns one.
    async fn fetch_one(&mut self, sql: Sql) -> Result<Self::Row> {
        self.fetch_optional(sql)
            .await?
            .ok_or(Error::Database(sqlx::Error::RowNotFound))
    }

    /// The first row of a query, if any, as a record (`read` decodes it).
    async fn optional<T: Send>(
        &mut self,
        sql: Sql,
        read: for<'r> fn(&'r Self::Row) -> Result<T>,
    ) -> Result<Option<T>> {
        self.fetch_optional(sql)
            .await?
            .as_ref()
            .map(read)
            .transpose()
    }

    /// All rows of a query, as records (`read` decodes each).
    async fn all<T: Send>(
        &mut self,
        sql: Sql,
        read: for<'r> fn(&'r Self::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.fetch_all(sql).await?.iter().map(read).collect()
    }
}

/// An explicit transaction: rolled back when dropped without [`Transaction::commit`].
#[async_trait]
pub(crate) trait Transaction: Exec {
    /// Make its changes durable.
    async fn commit(self) -> Result<()>;
}

/// How one engine reads a column of a row.
pub(crate) trait Columns {
    /// A text column.
    fn text(&self, col: &'static str) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, col: &'static str) -> Result<Option<String>>;
    /// An integer column (INTEGER or BIGINT).
    fn int(&self, col: &'static str) -> Result<i64>;
    /// A nullable integer column.
    fn opt_int(&self, col: &'static str) -> Result<Option<i64>>;
    /// A UUID column.
    fn uuid(&self, col: &'static str) -> Result<Uuid>;
    /// A nullable UUID column.
    fn opt_uuid(&self, col: &'static str) -> Result<Option<Uuid>>;
    /// A boolean column.
    fn flag(&self, col: &'static str) -> Result<bool>;
    /// A time column.
    fn time(&self, col: &'static str) -> Result<DateTime<Utc>>;
    /// A nullable time column.
    fn opt_time(&self, col: &'static str) -> Result<Option<DateTime<Utc>>>;
    /// A floating-point column.
    fn float(&self, col: &'static str) -> Result<f64>;
    /// A bytes column.
    fn bytes(&self, col: &'static str) -> Result<Vec<u8>>;

    /// A non-negative integer column.
    fn count(&self, col: &'static str) -> Result<u64> {
        to_u64(self.int(col)?, col)
    }

    /// A nullable non-negative integer column.
    fn opt_count(&self, col: &'static str) -> Result<Option<u64>> {
        self.opt_int(col)?.map(|v| to_u64(v, col)).transpose()
    }

    /// A JSON text column.
    fn json<T: DeserializeOwned>(&self, col: &'static str) -> Result<T> {
        let text = self.text(col)?;
        serde_json::from_str(&text).map_err(|e| Error::Corrupt {
            column: col,
            value: format!("{e}: {text}"),
        })
    }
}

/// Statements on an engine's pool, each in its own implicit transaction.
pub(crate) struct Db<DB: sqlx::Database>(pub(crate) sqlx::Pool<DB>);

/// An explicit transaction of an engine.
pub(crate) struct Tx<DB: sqlx::Database>(pub(crate) sqlx::Transaction<'static, DB>);

#[async_trait]
impl<DB: sqlx::Database> Transaction for Tx<DB>
where
    Tx<DB>: Exec,
{
    async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }
}

/// Wire an engine's repository (`$repo`, holding `pool`) to [`Engine`]: its statements
/// are bound by a `query` function (times through `$time`, text lists through `$list`,
/// everything else as sqlx encodes it), run on [`Db`] and [`Tx`]; transactions open with
/// `$begin`; `$lock` (a block of `$this`, `$id`) takes an upload's lock.
macro_rules! native_engine {
    (
        $repo:ty, $db:ty, $row:ty, $args:ty, $dialect:expr,
        begin: $begin:literal, time: $time:expr, list: $list:expr,
        upload_lock: |$this:ident, $id:ident| $lock:expr
    ) => {
        /// `sql` as a sqlx query, its parameters bound as this engine stores them.
        fn query(sql: &$crate::repo::sql::Sql) -> sqlx::query::Query<'_, $db, $args> {
            use $crate::repo::sql::Param;
            sql.params
                .iter()
                .fold(sqlx::query(&sql.text), |query, param| match param {
                    Param::Uuid(v) => query.bind(*v),
                    Param::Int(v) => query.bind(*v),
                    Param::Float(v) => query.bind(*v),
                    Param::Time(v) => query.bind(v.map($time)),
                    Param::Bool(v) => query.bind(*v),
                    Param::Text(v) => query.bind(v.clone()),
                    Param::Bytes(v) => query.bind(v.clone()),
                    Param::Texts(v) => query.bind($list(v)),
                })
        }

        $crate::repo::engine::exec_on!($crate::repo::engine::Db<$db>, $row, query, |s| &s.0);
        $crate::repo::engine::exec_on!($crate::repo::engine::Tx<$db>, $row, query, |s| &mut *s.0);

        #[async_trait::async_trait]
        impl $crate::repo::engine::Engine for $repo {
            type Row = $row;
            type Db = $crate::repo::engine::Db<$db>;
            type Tx = $crate::repo::engine::Tx<$db>;
            const DIALECT: $crate::repo::sql::Dialect = $dialect;

            fn db(&self) -> Self::Db {
                $crate::repo::engine::Db(self.pool.clone())
            }

            async fn begin(&self) -> $crate::Result<Self::Tx> {
                Ok($crate::repo::engine::Tx(
                    self.pool.begin_with($begin).await?,
                ))
            }

            async fn upload_lock(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::repo::UploadLock>> {
                let ($this, $id) = (self, id);
                $lock
            }
        }
    };
}
pub(crate) use native_engine;

/// Implement [`Exec`] for `$ty` (a pool or transaction wrapper) by running each statement
/// built by `$query` on `$executor` (an expression of `$s`, the wrapper).
macro_rules! exec_on {
    ($ty:ty, $row:ty, $query:path, |$s:ident| $executor:expr) => {
        #[async_trait::async_trait]
        impl $crate::repo::engine::Exec for $ty {
            type Row = $row;

            async fn execute(&mut self, sql: $crate::repo::sql::Sql) -> $crate::Result<u64> {
                let $s = self;
                Ok($query(&sql).execute($executor).await?.rows_affected())
            }

            async fn fetch_all(
                &mut self,
                sql: $crate::repo::sql::Sql,
            ) -> $crate::Result<Vec<$row>> {
                let $s = self;
                Ok($query(&sql).fetch_all($executor).await?)
            }

            async fn fetch_optional(
                &mut self,
                sql: $crate::repo::sql::Sql,
            ) -> $crate::Result<Option<$row>> {
                let $s = self;
                Ok($query(&sql).fetch_optional($executor).await?)
            }
        }
    };
}
pub(crate) use exec_on;

/// The [`Columns`] methods that both engines read as sqlx decodes them, for the body of
/// an engine's `impl Columns`.
macro_rules! decoded_columns {
    () => {
        fn text(&self, col: &'static str) -> $crate::Result<String> {
            Ok(sqlx::Row::try_get(self, col)?)
        }
        fn opt_text(&self, col: &'static str) -> $crate::Result<Option<String>> {
            Ok(sqlx::Row::try_get(self, col)?)
        }
        fn uuid(&self, col: &'static str) -> $crate::Result<uuid::Uuid> {
            Ok(sqlx::Row::try_get(self, col)?)
        }
        fn opt_uuid(&self, col: &'static str) -> $crate::Result<Option<uuid::Uuid>> {
            Ok(sqlx::Row::try_get(self, col)?)
        }
        fn flag(&self, col: &'static str) -> $crate::Result<bool> {
            Ok(sqlx::Row::try_get(self, col)?)
        }
        fn float(&self, col: &'static str) -> $crate::Result<f64> {
            Ok(sqlx::Row::try_get(self, col)?)
        }
        fn bytes(&self, col: &'static str) -> $crate::Result<Vec<u8>> {
            Ok(sqlx::Row::try_get(self, col)?)
        }
    };
}
pub(crate) use decoded_columns;
