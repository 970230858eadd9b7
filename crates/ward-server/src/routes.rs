//! The router: every route, the shared state, the body limit, the 404/405 fallbacks, panic
//! catching, and serving with a graceful shutdown that lets in-flight streams finish.

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use ward_core::{ErrorKind, ModelCatalog, WardError};

use crate::audit::AuditAccess;
use crate::auth::Auth;
use crate::error::{error_body, status_of, ApiError, ApiFlavor};
use crate::{arrival, audit, auth, console, notes, ollama, openai, phi};

/// Settings the server needs; the binary fills them from `ward.toml`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            body_limit_bytes: 4 * 1024 * 1024,
        }
    }
}

/// What every handler can see.
#[derive(Clone)]
pub struct AppState {
    /// The PHI gate, the routing policy and every backend behind it.
    pub router: Arc<ward_router::Router>,
    /// Every model the deployment knows (the model store), loaded or not.
    pub catalog: Arc<dyn ModelCatalog>,
    /// API keys and limits; `None` serves without auth (loopback only, or explicitly insecure).
    pub auth: Option<Arc<Auth>>,
    /// Where model calls are recorded; `None` only in tests that do not look at records.
    pub audit: Option<ward_audit::AuditLog>,
    /// Read access to the audit store for `/v1/audit`.
    pub records: Option<AuditAccess>,
    /// Clinical profiles, selectable as a model name.
    pub profiles: Arc<ward_clinical::ProfileSet>,
    /// What `GET /metrics` exports; every model call is counted here.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Backend prices and the all-cloud reference, for the console's costs.
    pub costs: Arc<ward_audit::CostModel>,
    /// Where each call's spans go; `None`: tracing export is off.
    pub traces: Option<Arc<crate::otlp::SpanExporter>>,
}

pub fn router(state: AppState, settings: &ServerSettings) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/completions", post(openai::completions))
        .route("/v1/models", get(openai::models))
        .route("/v1/phi/detect", post(phi::detect))
        .route("/v1/profiles", get(notes::profiles))
        .route("/v1/notes", post(notes::create))
        .route("/v1/audit", get(audit::list))
        .route("/v1/audit/{id}", get(audit::show))
        .route("/api/chat", post(ollama::chat))
        .route("/api/generate", post(ollama::generate))
        .route("/api/tags", get(ollama::tags))
        .route("/api/show", post(ollama::show))
        .route("/api/ps", get(ollama::ps))
        .route("/api/version", get(ollama::version))
        .route("/ui", get(console::page))
        .route("/ui/", get(console::page))
        .route("/ui/{page}", get(console::page))
        .route("/ui/assets/{name}", get(console::asset))
        .route("/ui/login", post(console::sign_in))
        .route("/ui/logout", post(console::sign_out))
        .route("/ui/api/overview", get(console::overview))
        .route("/ui/api/costs", get(console::costs))
        .route("/ui/api/backends", get(console::backends))
        .route("/ui/api/keys", get(console::keys))
        .route("/ui/api/audit", get(audit::list))
        .route("/ui/api/audit/{id}", get(audit::show))
        .route("/ui/api/profiles", get(notes::profiles))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(console::secure_headers))
        .layer(axum::middleware::from_fn(arrival::stamp))
        .with_state(state)
}

/// One request to `app` without a socket, for CLI commands that run the request path in process
/// (`ward notes`, `ward eval`): the status, the headers and the body.
pub async fn call_in_process(
    app: Router,
    path: &str,
    json_body: String,
) -> Result<(StatusCode, axum::http::HeaderMap, bytes::Bytes), String> {
    use tower::ServiceExt;
    let request = Request::post(path)
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(json_body))
        .map_err(|error| error.to_string())?;
    let response = app
        .oneshot(request)
        .await
        .map_err(|error| error.to_string())?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|error| error.to_string())?;
    Ok((status, headers, body))
}

/// Serves until `shutdown` resolves, then stops accepting and gives in-flight requests (streams
/// included) up to `grace` to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stop_accepting, stopped) = tokio::sync::watch::channel(false);
    let app = app.into_make_service_with_connect_info::<arrival::Peer>();
    let server =
        axum::serve(arrival::Listener::new(listener), app).with_graceful_shutdown(async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => return result,
        () = shutdown => {
            tracing::info!(grace_seconds = grace.as_secs_f64(), "shutting down; finishing in-flight requests");
            let _ = stop_accepting.send(true);
        }
    }
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("grace period over; closing remaining connections");
            Ok(())
        }
    }
}

/// The certificate chain and private key (PEM files) `serve_tls` presents.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// Like `serve`, over TLS (rustls). On SIGHUP the certificate and key are read again, so a
/// renewed certificate takes effect without a restart; a bad file keeps the old one in use.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    files: TlsFiles,
) -> std::io::Result<()> {
    // Only the ring provider is compiled in; installing it makes the choice explicit.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(|error| {
            std::io::Error::new(
                error.kind(),
                format!(
                    "cannot load TLS certificate {} and key {}: {error}",
                    files.cert.display(),
                    files.key.display()
                ),
            )
        })?;
    #[cfg(unix)]
    tokio::spawn(reload_on_hangup(config.clone(), files));
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener.into_std()?, config)?
        .handle(handle.clone())
        .serve(app.into_make_service_with_connect_info::<arrival::Peer>());
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => return result,
        () = shutdown => {
            tracing::info!(grace_seconds = grace.as_secs_f64(), "shutting down; finishing in-flight requests");
            handle.graceful_shutdown(Some(grace));
        }
    }
    server.await
}

#[cfg(unix)]
async fn reload_on_hangup(config: axum_server::tls_rustls::RustlsConfig, files: TlsFiles) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; TLS certificates will not be reloaded");
        return;
    };
    while hangups.recv().await.is_some() {
        match config.reload_from_pem_file(&files.cert, &files.key).await {
            Ok(()) => tracing::info!("TLS certificate and key reloaded"),
            Err(error) => {
                tracing::error!(error = %error, "TLS reload failed; still serving the previous certificate");
            }
        }
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        state.metrics.encode(&state.router),
    )
        .into_response()
}

async fn ready(State(state): State<AppState>) -> Response {
    let models: Vec<String> = state
        .router
        .backends()
        .iter()
        .filter(|backend| backend.is_ready())
        .flat_map(|backend| backend.loaded_models())
        .map(|card| card.name.clone())
        .collect();
    if models.is_empty() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "loading", "models": models})),
        )
            .into_response()
    } else {
        Json(json!({"status": "ready", "models": models})).into_response()
    }
}

async fn unknown_route(request: Request) -> ApiError {
    let path = request.uri().path().to_owned();
    ApiError::new(
        ApiFlavor::of_path(&path),
        WardError::not_found(format!("no route {path}")),
    )
}

async fn wrong_method(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let error = WardError::invalid_request(format!(
        "method {} is not allowed on {path}",
        request.method()
    ));
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(error_body(ApiFlavor::of_path(&path), &error)),
    )
        .into_response()
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic payload may quote request data; it is not logged or returned.
    tracing::error!("a request handler panicked");
    let error = WardError::new(ErrorKind::Internal, "internal error");
    (
        status_of(ErrorKind::Internal).0,
        Json(error_body(ApiFlavor::OpenAi, &error)),
    )
        .into_response()
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

pub(crate) fn rfc3339(at: SystemTime) -> String {
    let at: time::OffsetDateTime = at.into();
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn rfc3339_unix(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
