//! `ward serve`: open the audit store and decide on auth, make sure each embedded backend's model
//! is in the store and load it, connect the remote backends, compile the routing policy, then
//! serve HTTP until SIGTERM or SIGINT, letting in-flight streams finish.

use std::sync::Arc;

use anyhow::Context;
use ward_core::ModelCatalog;
use ward_engine::{EmbeddedEngine, EngineConfig};
use ward_router::RoutedBackend;
use ward_server::{AppState, AuditAccess, Auth, ServerSettings};
use ward_store::{Manifest, ModelStore};

use crate::config::{BackendSettings, Config, EngineSettings};
use crate::pull::{ensure_model, open_store};
use crate::security;

pub fn engine_config(
    store: &ModelStore,
    manifest: &Manifest,
    settings: &EngineSettings,
) -> EngineConfig {
    let mut engine = EngineConfig::new(store.model_path(manifest), manifest.to_card());
    engine.threads = settings.threads;
    engine.context_length = settings.context_length;
    engine.batch_size = settings.batch_size;
    engine.gpu_layers = settings.gpu_layers;
    engine.flash_attention = settings.flash_attention;
    engine
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// What the request path needs before the async runtime starts: the audit store and log, the
/// auth decision, and every embedded backend's model, pulled when missing.
pub struct Prepared {
    records: ward_audit::StoreHandle,
    log: ward_audit::AuditLog,
    auth: Option<Arc<Auth>>,
    store: ModelStore,
    models: Vec<(String, Manifest)>,
}

/// How a command takes API keys: `serve` decides by its listen address and the key table;
/// in-process commands (`ward notes`) act for the local operator and need none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Serve { insecure_no_auth: bool },
    LocalOperator,
}

pub fn prepare(config: &Config, keys: Keys) -> anyhow::Result<Prepared> {
    // Open the audit store and decide on auth before anything slow: a refusal comes at once.
    let records = ward_audit::StoreHandle::open(&config.audit.location)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let auth_on = match keys {
        Keys::LocalOperator => false,
        Keys::Serve { insecure_no_auth } => {
            let has_keys = !records
                .run_blocking(|store| store.keys())
                .map_err(|error| anyhow::anyhow!("{error}"))?
                .is_empty();
            let auth_on = security::auth_required(
                config.auth.required,
                config.listen,
                has_keys,
                insecure_no_auth,
            )?;
            if auth_on && !has_keys {
                eprintln!("auth is on but no API key exists yet: create one with `ward keys create --name admin --role admin`");
            }
            if !auth_on && (insecure_no_auth || !config.listen.ip().is_loopback()) {
                eprintln!("WARNING: serving without API keys on {}", config.listen);
            }
            auth_on
        }
    };
    let log = security::open_log(config, Arc::new(security::keyring(config)?))?;
    let auth = if auth_on {
        let settings = ward_server::AuthSettings {
            refresh: config.auth.refresh,
        };
        // A connection of its own: key lookups never wait behind audit reads (console reports,
        // `/v1/audit` listings), which run on `records`.
        let keys = ward_audit::StoreHandle::open(&config.audit.location)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        Some(Arc::new(
            Auth::new(keys, security::key_hasher(config)?, settings)
                .map_err(|error| anyhow::anyhow!("{error}"))?,
        ))
    } else {
        None
    };
    // Pull before starting the runtime: pulling is blocking work with its own progress bar.
    let store = open_store(config)?;
    let mut models = Vec::new();
    for backend in &config.backends {
        if let BackendSettings::Embedded { name, model } = backend {
            models.push((name.clone(), ensure_model(config, &store, model)?));
        }
    }
    Ok(Prepared {
        records,
        log,
        auth,
        store,
        models,
    })
}

/// Loads the engines, connects the remote backends, compiles the routing policy and loads the
/// profiles: the state every handler sees.
pub async fn gateway(config: &Config, prepared: Prepared) -> anyhow::Result<AppState> {
    let Prepared {
        records,
        log,
        auth,
        store,
        models,
    } = prepared;
    let profiles = crate::notes::load_profiles(&config.clinical)?;
    let mut backends: Vec<RoutedBackend> = Vec::new();
    for backend in &config.backends {
        match backend {
            BackendSettings::Embedded { name, .. } => {
                let (_, manifest) = models
                    .iter()
                    .find(|(model_backend, _)| model_backend == name)
                    .expect("pulled in prepare");
                eprintln!("loading {} into backend {name}", manifest.name);
                let engine = EmbeddedEngine::load(
                    name.clone(),
                    engine_config(&store, manifest, &config.engine),
                )
                .await
                .with_context(|| {
                    format!("backend {name} could not load model {}", manifest.name)
                })?;
                backends.push(RoutedBackend::Local(Arc::new(engine)));
            }
            BackendSettings::Remote(remote) => {
                eprintln!("{}", backend.describe());
                backends.push(
                    ward_router::remote_backend(remote.clone())
                        .map_err(|error| anyhow::anyhow!("{}", error.message))?,
                );
            }
        }
    }
    let router = match &config.tiers {
        Some((tiers, routing)) => ward_router::Router::new(backends, tiers, routing),
        None => ward_router::Router::with_default_tiers(backends),
    }
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    crate::notes::check_profiles(&profiles, &router)?;
    let catalog: Arc<dyn ModelCatalog> = Arc::new(store);
    eprintln!(
        "audit log: {} (content {}); auth {}; {} profiles",
        config.audit.location.describe(),
        config.audit.content.as_str(),
        if auth.is_some() { "on" } else { "off" },
        profiles.len()
    );
    Ok(AppState {
        router: Arc::new(router),
        catalog,
        auth,
        audit: Some(log.clone()),
        records: Some(AuditAccess {
            log,
            store: records,
        }),
        profiles: Arc::new(profiles),
        metrics: Arc::default(),
        costs: Arc::new(config.costs.clone()),
        traces: config.tracing.clone().map(|settings| {
            eprintln!(
                "tracing: spans to {} as {}",
                settings.endpoint, settings.service_name
            );
            Arc::new(ward_server::otlp::SpanExporter::start(settings))
        }),
    })
}

pub fn server_settings(config: &Config) -> ServerSettings {
    ServerSettings {
        body_limit_bytes: config.body_limit_bytes,
    }
}

pub fn serve(config: Config, insecure_no_auth: bool) -> anyhow::Result<()> {
    let prepared = prepare(&config, Keys::Serve { insecure_no_auth })?;
    runtime()?.block_on(async move {
        let app = ward_server::router(gateway(&config, prepared).await?, &server_settings(&config));
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (is another server using it? set --listen)",
                    config.listen
                )
            })?;
        let address = listener.local_addr()?;
        match config.tls.clone() {
            Some((cert, key)) => {
                eprintln!("Ward listening on https://{address} (SIGHUP reloads the certificate)");
                let files = ward_server::TlsFiles { cert, key };
                ward_server::serve_tls(
                    listener,
                    app,
                    shutdown_signal(),
                    config.shutdown_grace,
                    files,
                )
                .await
                .context("the HTTPS server stopped with an error")
            }
            None => {
                eprintln!("Ward listening on http://{address}");
                ward_server::serve(listener, app, shutdown_signal(), config.shutdown_grace)
                    .await
                    .context("the HTTP server stopped with an error")
            }
        }
    })
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
