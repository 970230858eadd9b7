//! Who is calling: API keys to roles, what each role may reach, per-key rate limits and daily
//! token budgets. Keys are read from the audit store into a cache that is refreshed in the
//! background, so a request costs one hash-map lookup and one HMAC; a key created or revoked by
//! `ward keys` in another process is seen within `refresh`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ward_audit::record::now_micros;
use ward_audit::{key_id_of, ApiKey, KeyHasher, Role, StoreHandle};
use ward_core::{ErrorKind, WardError};

use crate::arrival::{Arrived, Peer};
use crate::error::{ApiError, ApiFlavor};
use crate::metrics::AnswerClock;
use crate::routes::AppState;

/// Who made a request, as handlers see it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` when auth is off (or on `/health`).
    pub key: Option<CallerKey>,
    pub client_ip: Option<IpAddr>,
    /// When the request's first bytes were received (`arrival::Arrived`): a call's latency
    /// counts from here.
    pub arrived: Instant,
    /// Where a call's latency waits for its answer to be sent (`arrival::stamp` puts it on every
    /// request that comes through the router).
    pub answer_clock: Option<AnswerClock>,
}

#[derive(Debug, Clone)]
pub struct CallerKey {
    pub id: String,
    pub role: Role,
    pub can_decrypt: bool,
}

impl Caller {
    pub fn key_id(&self) -> Option<String> {
        self.key.as_ref().map(|key| key.id.clone())
    }

    pub fn role(&self) -> Option<Role> {
        self.key.as_ref().map(|key| key.role)
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No key at all (`/health`, the console's sign-in, sign-out and assets).
    Open,
    /// Any valid key (model lists, version, readiness).
    AnyRole,
    /// Model calls and PHI detection: clinician, service, admin.
    ModelCall,
    /// Audit records: auditor and admin; a clinician sees their own.
    AuditRead,
    /// Operations (`/metrics`): service (a monitoring system), auditor and admin.
    Operations,
    /// The web console (`/ui`): auditor and admin.
    Console,
    /// Admin only (the console's key list).
    Admin,
}

/// The one table of which route needs what.
pub fn access_of(path: &str) -> Access {
    match path {
        "/health" => Access::Open,
        "/v1/chat/completions"
        | "/v1/completions"
        | "/v1/embeddings"
        | "/v1/phi/detect"
        | "/v1/notes"
        | "/api/chat"
        | "/api/generate"
        | "/api/embed" => Access::ModelCall,
        _ if path == "/v1/audit" || path.starts_with("/v1/audit/") => Access::AuditRead,
        "/metrics" => Access::Operations,
        "/ui/login" | "/ui/logout" => Access::Open,
        _ if path.starts_with("/ui/assets/") => Access::Open,
        // "/ui/keys/" is the same page: the console serves its pages with or without the slash.
        _ if matches!(path.trim_end_matches('/'), "/ui/keys" | "/ui/api/keys") => Access::Admin,
        _ if crate::console::is_console(path) => Access::Console,
        _ => Access::AnyRole,
    }
}

pub fn allows(role: Role, access: Access) -> bool {
    match access {
        Access::Open | Access::AnyRole => true,
        Access::ModelCall => matches!(role, Role::Clinician | Role::Service | Role::Admin),
        Access::AuditRead => matches!(role, Role::Clinician | Role::Auditor | Role::Admin),
        Access::Operations => matches!(role, Role::Service | Role::Auditor | Role::Admin),
        Access::Console => matches!(role, Role::Auditor | Role::Admin),
        Access::Admin => role == Role::Admin,
    }
}

/// Auth settings the binary fills.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How often the key cache is reloaded from the store.
    pub refresh: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            refresh: Duration::from_secs(1),
        }
    }
}

/// A token bucket: `per_minute` requests, refilled continuously.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct DayUsage {
    day: i64,
    tokens: u64,
}

const DAY_MICROS: i64 = 86_400_000_000;

/// Keys, limits and the store they come from.
pub struct Auth {
    store: StoreHandle,
    hasher: KeyHasher,
    settings: AuthSettings,
    keys: RwLock<HashMap<String, ApiKey>>,
    loaded_at: Mutex<Instant>,
    reloading: AtomicBool,
    buckets: Mutex<HashMap<String, Bucket>>,
    usage: Mutex<HashMap<String, DayUsage>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field(
                "keys",
                &self.keys.read().map(|keys| keys.len()).unwrap_or(0),
            )
            .finish()
    }
}

/// Locks `mutex`, taking over its data when another thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Auth {
    /// Loads every key once; later loads happen in the background.
    pub fn new(
        store: StoreHandle,
        hasher: KeyHasher,
        settings: AuthSettings,
    ) -> Result<Self, WardError> {
        let keys = store.run_blocking(|store| store.keys())?;
        Ok(Auth {
            store,
            hasher,
            settings,
            keys: RwLock::new(keys.into_iter().map(|key| (key.id.clone(), key)).collect()),
            loaded_at: Mutex::new(Instant::now()),
            reloading: AtomicBool::new(false),
            buckets: Mutex::new(HashMap::new()),
            usage: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, id: &str) -> Option<ApiKey> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(id)
            .cloned()
    }

    fn remember(&self, key: ApiKey) {
        self.keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key.id.clone(), key);
    }

    /// Starts a background reload when the cache is older than `refresh`.
    fn refresh_in_background(self: &Arc<Self>) {
        if lock(&self.loaded_at).elapsed() < self.settings.refresh
            || self.reloading.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let auth = self.clone();
        tokio::spawn(async move {
            let loaded = auth.store.run(|store| store.keys()).await;
            match loaded {
                Ok(keys) => {
                    *auth
                        .keys
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                        keys.into_iter().map(|key| (key.id.clone(), key)).collect();
                }
                Err(error) => tracing::warn!(error = %error.message, "could not reload API keys"),
            }
            *lock(&auth.loaded_at) = Instant::now();
            auth.reloading.store(false, Ordering::Release);
        });
    }

    /// The key behind a presented secret, or why it is refused.
    pub(crate) async fn identify(self: &Arc<Self>, presented: &str) -> Result<ApiKey, WardError> {
        let unauthorized = |message: &str| WardError::new(ErrorKind::Unauthorized, message);
        let id = key_id_of(presented).ok_or_else(|| unauthorized("invalid API key"))?;
        self.refresh_in_background();
        let key = match self.cached(id) {
            Some(key) => key,
            None => {
                // Not seen yet (created a moment ago by `ward keys create`): one store lookup.
                let id = id.to_owned();
                let found = self.store.run(move |store| store.key(&id)).await?;
                let key = found.ok_or_else(|| unauthorized("invalid API key"))?;
                self.remember(key.clone());
                key
            }
        };
        if !self.hasher.matches(presented, &key.hash) {
            return Err(unauthorized("invalid API key"));
        }
        if key.revoked_us.is_some() {
            return Err(unauthorized("this API key has been revoked"));
        }
        if !key.is_active(now_micros()) {
            return Err(unauthorized("this API key has expired"));
        }
        Ok(key)
    }

    /// Takes one request from the key's rate limit; `Err(seconds)` to wait when it is spent.
    fn take_request(&self, key: &ApiKey) -> Result<(), u64> {
        let Some(per_minute) = key.rate_limit_per_minute.filter(|limit| *limit > 0) else {
            return Ok(());
        };
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        let bucket = buckets.entry(key.id.clone()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second)
            .min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }

    /// Checks the key's daily token budget (UTC days); `Err(seconds)` until it renews.
    async fn check_budget(self: &Arc<Self>, key: &ApiKey) -> Result<(), u64> {
        let Some(budget) = key.token_budget_per_day else {
            return Ok(());
        };
        let now = now_micros();
        let today = now.div_euclid(DAY_MICROS);
        let known = lock(&self.usage).get(&key.id).copied();
        let used = match known {
            Some(usage) if usage.day == today => usage.tokens,
            _ => {
                // First request of the day here: count what the audit log already holds.
                let id = key.id.clone();
                let counted = self
                    .store
                    .run(move |store| store.tokens_used(&id, today * DAY_MICROS))
                    .await
                    .unwrap_or(0);
                lock(&self.usage).insert(
                    key.id.clone(),
                    DayUsage {
                        day: today,
                        tokens: counted,
                    },
                );
                counted
            }
        };
        if used < budget {
            Ok(())
        } else {
            Err((((today + 1) * DAY_MICROS - now) / 1_000_000).max(1) as u64)
        }
    }

    /// Adds a finished call's tokens to its key's day.
    pub fn spend(&self, key_id: &str, tokens: u64) {
        let today = now_micros().div_euclid(DAY_MICROS);
        let mut usage = lock(&self.usage);
        if let Some(day) = usage.get_mut(key_id) {
            if day.day == today {
                day.tokens += tokens;
            } else {
                *day = DayUsage { day: today, tokens };
            }
        }
    }
}

/// The key a request presents: `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key`;
/// on the console, also the cookie its sign-in set.
fn presented_key<'a>(headers: &'a HeaderMap, path: &str) -> Option<&'a str> {
    bearer_key(headers).or_else(|| {
        crate::console::is_console(path)
            .then(|| crate::console::cookie_key(headers))
            .flatten()
    })
}

fn bearer_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        let value = value.trim();
        if let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        {
            return Some(token.trim());
        }
    }
    headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
}

fn too_many(flavor: ApiFlavor, message: &str, retry_after: u64) -> Response {
    let mut response =
        ApiError::new(flavor, WardError::new(ErrorKind::Overloaded, message)).into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The middleware on every route: identifies the caller, checks the role, applies limits.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let arrived = request
        .extensions()
        .get::<Arrived>()
        .map_or_else(Instant::now, |arrived| arrived.0);
    let client_ip = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|info| info.0.addr.ip());
    let path = request.uri().path().to_owned();
    let access = access_of(&path);
    let mut caller = Caller {
        key: None,
        client_ip,
        arrived,
        answer_clock: request.extensions().get::<AnswerClock>().cloned(),
    };
    if let (Some(auth), false) = (&state.auth, access == Access::Open) {
        let flavor = ApiFlavor::of_path(&path);
        let refuse = |error: WardError| {
            if crate::console::is_console_page(&path) {
                crate::console::sign_in_page(&error)
            } else {
                ApiError::new(flavor, error).into_response()
            }
        };
        let Some(presented) = presented_key(request.headers(), &path) else {
            return refuse(WardError::new(
                ErrorKind::Unauthorized,
                "an API key is required: send `Authorization: Bearer <key>` (create one with `ward keys create`)",
            ));
        };
        let key = match auth.identify(presented).await {
            Ok(key) => key,
            Err(error) => return refuse(error),
        };
        if !allows(key.role, access) {
            return refuse(WardError::new(
                ErrorKind::Forbidden,
                format!("a {} key may not use {path}", key.role),
            ));
        }
        if access == Access::ModelCall {
            if let Err(seconds) = auth.take_request(&key) {
                return too_many(
                    flavor,
                    "this API key's rate limit is reached; retry later",
                    seconds,
                );
            }
            if let Err(seconds) = auth.check_budget(&key).await {
                return too_many(
                    flavor,
                    "this API key's daily token budget is spent",
                    seconds,
                );
            }
        }
        caller.key = Some(CallerKey {
            id: key.id.clone(),
            role: key.role,
            can_decrypt: key.can_decrypt,
        });
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reaches_what_it_should() {
        let cases = [
            ("/health", [true, true, true, true]),
            ("/v1/models", [true, true, true, true]),
            ("/v1/chat/completions", [true, true, false, true]),
            ("/api/generate", [true, true, false, true]),
            ("/v1/phi/detect", [true, true, false, true]),
            ("/v1/audit", [true, false, true, true]),
            ("/v1/audit/0192", [true, false, true, true]),
            ("/metrics", [false, true, true, true]),
            ("/ui", [false, false, true, true]),
            ("/ui/audit", [false, false, true, true]),
            ("/ui/api/costs", [false, false, true, true]),
            ("/ui/api/keys", [false, false, false, true]),
        ];
        for (path, expected) in cases {
            let got: Vec<bool> = Role::ALL
                .iter()
                .map(|role| allows(*role, access_of(path)))
                .collect();
            assert_eq!(got, expected, "{path}");
        }
        assert_eq!(access_of("/health"), Access::Open);
        assert_eq!(access_of("/v1/auditx"), Access::AnyRole);
        assert_eq!(access_of("/ui/assets/console.js"), Access::Open);
        assert_eq!(access_of("/ui/login"), Access::Open);
        assert_eq!(access_of("/uix"), Access::AnyRole);
        assert_eq!(access_of("/ui/keys/"), Access::Admin);
        assert_eq!(access_of("/ui/costs"), Access::Console);
    }

    #[test]
    fn keys_are_read_from_bearer_or_x_api_key() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_key(&headers, "/v1/models"), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; ward_console=ward_e_f"),
        );
        // The console's cookie counts on the console only.
        assert_eq!(presented_key(&headers, "/v1/models"), None);
        assert_eq!(presented_key(&headers, "/ui/api/costs"), Some("ward_e_f"));
        headers.insert("x-api-key", HeaderValue::from_static("ward_a_b"));
        assert_eq!(presented_key(&headers, "/v1/models"), Some("ward_a_b"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  ward_c_d "),
        );
        assert_eq!(presented_key(&headers, "/v1/models"), Some("ward_c_d"));
    }
}
