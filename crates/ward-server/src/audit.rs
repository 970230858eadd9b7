//! The audit log over HTTP. `GET /v1/audit` lists record metadata, newest first (a clinician
//! sees only their own calls; auditors and admins see all); `GET /v1/audit/{id}` shows one
//! record, and with `?content=true` its decrypted request and response, for keys with the decrypt
//! right only. Reading content is itself recorded before the content is returned.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use ward_audit::record::parse_time;
use ward_audit::{AuditEvent, Filter, Outcome, Role, Store, StoreHandle};
use ward_core::{ErrorKind, WardError};

use crate::auth::Caller;
use crate::error::{ApiError, ApiFlavor};
use crate::routes::AppState;

/// The audit log and a read connection to its store.
#[derive(Clone, Debug)]
pub struct AuditAccess {
    pub log: ward_audit::AuditLog,
    pub store: StoreHandle,
}

fn error(error: WardError) -> ApiError {
    ApiError::new(ApiFlavor::OpenAi, error)
}

/// The audit store, or a 404 on a server that keeps no audit log.
pub(crate) fn store_access(state: &AppState) -> Result<&AuditAccess, ApiError> {
    state
        .records
        .as_ref()
        .ok_or_else(|| error(WardError::not_found("this server keeps no audit log")))
}

async fn read<T: Send + 'static>(
    store: &StoreHandle,
    work: impl FnOnce(&mut Store) -> Result<T, WardError> + Send + 'static,
) -> Result<T, ApiError> {
    store.run(work).await.map_err(error)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    since: Option<String>,
    until: Option<String>,
    key_id: Option<String>,
    limit: Option<usize>,
}

/// A time query parameter; empty counts as absent.
pub(crate) fn time_param(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .filter(|text| !text.is_empty())
        .map(|text| {
            parse_time(text).ok_or_else(|| {
                error(
                    WardError::invalid_request(format!(
                        "`{name}` must be an RFC 3339 time or a date (YYYY-MM-DD)"
                    ))
                    .with_param(name),
                )
            })
        })
        .transpose()
}

/// A clinician reads only their own records; others may filter by key.
fn key_scope(caller: &Caller, asked: Option<String>) -> Option<String> {
    match &caller.key {
        Some(key) if key.role == Role::Clinician => Some(key.id.clone()),
        _ => asked,
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let access = store_access(&state)?;
    let filter = Filter {
        since_us: time_param("since", query.since.as_deref())?,
        until_us: time_param("until", query.until.as_deref())?,
        key_id: key_scope(&caller, query.key_id),
        limit: Some(query.limit.unwrap_or(100).clamp(1, 1000)),
        newest_first: true,
        ..Filter::default()
    };
    let records = read(&access.store, move |store| store.records(&filter)).await?;
    let data = records
        .iter()
        .map(|record| record.to_json(None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    Ok(Json(json!({"object": "list", "data": data})))
}

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    content: bool,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Json<Value>, ApiError> {
    let access = store_access(&state)?;
    let lookup = id.clone();
    let record = read(&access.store, move |store| store.record(&lookup))
        .await?
        .filter(|record| {
            let scope = key_scope(&caller, None);
            scope.is_none() || record.key_id == scope
        })
        .ok_or_else(|| error(WardError::not_found(format!("no audit record {id}"))))?;
    // Without auth there is no key to hold the right: content stays closed.
    if query.content && !caller.key.as_ref().is_some_and(|key| key.can_decrypt) {
        return Err(error(
            WardError::new(
                ErrorKind::Forbidden,
                "reading audit content needs a key with the decrypt right (`ward keys create --role auditor --decrypt`)",
            )
            .with_param("content"),
        ));
    }
    let keyring = query.content.then(|| access.log.keyring().as_ref());
    let value = record.to_json(keyring).map_err(error)?;
    if query.content {
        let action = AuditEvent {
            key_id: caller.key_id(),
            role: caller.role().map(|role| role.as_str().to_owned()),
            client_ip: caller.client_ip.map(|ip| ip.to_string()),
            endpoint: format!("/v1/audit/{id}?content=true"),
            status: 200,
            outcome: Outcome::Action,
            ..AuditEvent::default()
        };
        access.log.append(action, None).await.map_err(|_| {
            error(WardError::internal(
                "the access to this content could not be recorded",
            ))
        })?;
    }
    Ok(Json(value))
}
