//! The two databases behind one small interface: SQLite (one machine) and PostgreSQL (several
//! replicas). Everything above this module (chain, keys, purge) is written once against `Sql`;
//! statements use `$1, $2, ...` placeholders in order, which both databases bind by position.

use std::time::Duration;

use ward_core::WardError;

/// A parameter or column value; nulls carry their type because PostgreSQL needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(value) => *value,
            _ => None,
        }
    }

    pub fn text(&self) -> Option<String> {
        match self {
            Value::Text(value) => value.clone(),
            _ => None,
        }
    }

    pub fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(value) => value.clone(),
            _ => None,
        }
    }
}

/// The type of a column to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Int,
    Text,
    Bytes,
}

/// One connection to the audit database.
pub trait Sql: Send {
    /// Runs statements that take no parameters (schema, transaction control).
    fn batch(&mut self, sql: &str) -> Result<(), WardError>;
    /// Runs one statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, WardError>;
    /// Runs one query and reads each row's columns with the given types.
    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        columns: &[Column],
    ) -> Result<Vec<Vec<Value>>, WardError>;
    /// Starts a transaction that holds the chain's write lock until commit or rollback, so that
    /// writers in several processes (or replicas) append one after another.
    fn begin_exclusive(&mut self) -> Result<(), WardError>;
    /// The column type for binary data (`BLOB` or `BYTEA`).
    fn bytes_type(&self) -> &'static str;
}

pub(crate) fn database_error(action: &str, error: impl std::fmt::Display) -> WardError {
    WardError::internal(format!("audit database: {action} failed: {error}"))
}

/// SQLite in WAL mode with full fsync on commit.
pub struct Sqlite {
    connection: rusqlite::Connection,
}

/// Creates the directory `path` will be in, when it is missing.
pub(crate) fn create_parent_dir(path: &std::path::Path) -> Result<(), WardError> {
    match path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|error| {
            WardError::internal(format!("cannot create {}: {error}", parent.display()))
        }),
        None => Ok(()),
    }
}

impl Sqlite {
    /// Opens (or creates) the database file, and its directory when that is missing.
    pub fn open(path: &std::path::Path) -> Result<Self, WardError> {
        create_parent_dir(path)?;
        let connection = rusqlite::Connection::open(path).map_err(|error| {
            WardError::internal(format!(
                "cannot open the audit database {}: {error}",
                path.display()
            ))
        })?;
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(|error| database_error("setting the busy timeout", error))?;
        connection
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(|error| database_error("setting WAL mode", error))?;
        Ok(Sqlite { connection })
    }
}

fn sqlite_params(params: &[Value]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as Lite;
    params
        .iter()
        .map(|value| match value {
            Value::Int(Some(number)) => Lite::Integer(*number),
            Value::Text(Some(text)) => Lite::Text(text.clone()),
            Value::Bytes(Some(bytes)) => Lite::Blob(bytes.clone()),
            _ => Lite::Null,
        })
        .collect()
}

impl Sql for Sqlite {
    fn batch(&mut self, sql: &str) -> Result<(), WardError> {
        self.connection
            .execute_batch(sql)
            .map_err(|error| database_error("a statement", error))
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, WardError> {
        let params = sqlite_params(params);
        self.connection
            .execute(sql, rusqlite::params_from_iter(params.iter()))
            .map(|changed| changed as u64)
            .map_err(|error| database_error("a write", error))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        columns: &[Column],
    ) -> Result<Vec<Vec<Value>>, WardError> {
        let params = sqlite_params(params);
        let mut statement = self
            .connection
            .prepare_cached(sql)
            .map_err(|error| database_error("preparing a query", error))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(index, column)| {
                        Ok(match column {
                            Column::Int => Value::Int(row.get(index)?),
                            Column::Text => Value::Text(row.get(index)?),
                            Column::Bytes => Value::Bytes(row.get(index)?),
                        })
                    })
                    .collect::<Result<Vec<Value>, rusqlite::Error>>()
            })
            .map_err(|error| database_error("a query", error))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|error| database_error("reading a row", error))
    }

    fn begin_exclusive(&mut self) -> Result<(), WardError> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn bytes_type(&self) -> &'static str {
        "BLOB"
    }
}

/// PostgreSQL through the synchronous client; used from the writer thread and blocking tasks.
pub struct Postgres {
    client: postgres::Client,
}

/// The advisory lock that serialises appends to the chain across replicas.
const CHAIN_LOCK: i64 = 0x5741_5244_4155_4454; // "WARDAUDT"

impl Postgres {
    pub fn connect(url: &str) -> Result<Self, WardError> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|error| {
            // The URL may hold a password: only the error is shown.
            WardError::internal(format!(
                "cannot connect to the PostgreSQL audit store: {error}"
            ))
        })?;
        Ok(Postgres { client })
    }
}

fn postgres_params(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|value| match value {
            Value::Int(number) => number as &(dyn postgres::types::ToSql + Sync),
            Value::Text(text) => text as &(dyn postgres::types::ToSql + Sync),
            Value::Bytes(bytes) => bytes as &(dyn postgres::types::ToSql + Sync),
        })
        .collect()
}

impl Sql for Postgres {
    fn batch(&mut self, sql: &str) -> Result<(), WardError> {
        self.client
            .batch_execute(sql)
            .map_err(|error| database_error("a statement", error))
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, WardError> {
        self.client
            .execute(sql, &postgres_params(params))
            .map_err(|error| database_error("a write", error))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        columns: &[Column],
    ) -> Result<Vec<Vec<Value>>, WardError> {
        let rows = self
            .client
            .query(sql, &postgres_params(params))
            .map_err(|error| database_error("a query", error))?;
        rows.iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(index, column)| {
                        Ok(match column {
                            Column::Int => Value::Int(row.try_get(index)?),
                            Column::Text => Value::Text(row.try_get(index)?),
                            Column::Bytes => Value::Bytes(row.try_get(index)?),
                        })
                    })
                    .collect::<Result<Vec<Value>, postgres::Error>>()
                    .map_err(|error| database_error("reading a row", error))
            })
            .collect()
    }

    fn begin_exclusive(&mut self) -> Result<(), WardError> {
        self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({CHAIN_LOCK});"
        ))
    }

    fn bytes_type(&self) -> &'static str {
        "BYTEA"
    }
}

/// Where the audit store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    /// A `postgres://` URL.
    Postgres(String),
}

impl Location {
    pub fn connect(&self) -> Result<Box<dyn Sql>, WardError> {
        Ok(match self {
            Location::Sqlite(path) => Box::new(Sqlite::open(path)?),
            Location::Postgres(url) => Box::new(Postgres::connect(url)?),
        })
    }

    /// For messages: the path, or the PostgreSQL host and database without credentials.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => {
                let without_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
                let host = without_scheme
                    .rsplit_once('@')
                    .map_or(without_scheme, |(_, host)| host);
                format!("postgres://{host}")
            }
        }
    }
}
