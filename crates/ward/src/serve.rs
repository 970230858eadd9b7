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

pub fn serve(config: Config, insecure_no_auth: bool) -> anyhow::Result<()> {
    // Open the audit store and decide on auth before anything slow: a refusal comes at once.
    let records = ward_audit::StoreHandle::open(&config.audit.location)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
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
    let log = security::open_log(&config, Arc::new(security::keyring(&config)?))?;
    let auth = if auth_on {
        if !has_keys {
            eprintln!("auth is on but no API key exists yet: create one with `ward keys create --name admin --role admin`");
        }
        let settings = ward_server::AuthSettings {
            refresh: config.auth.refresh,
        };
        Some(Arc::new(
            Auth::new(records.clone(), security::key_hasher(&config)?, settings)
                .map_err(|error| anyhow::anyhow!("{error}"))?,
        ))
    } else {
        if insecure_no_auth || !config.listen.ip().is_loopback() {
            eprintln!("WARNING: serving without API keys on {}", config.listen);
        }
        None
    };
    // Pull before starting the runtime: pulling is blocking work with its own progress bar.
    let store = open_store(&config)?;
    let mut models = Vec::new();
    for backend in &config.backends {
        if let BackendSettings::Embedded { name, model } = backend {
            models.push((name.clone(), ensure_model(&config, &store, model)?));
        }
    }
    runtime()?.block_on(async move {
        let mut backends: Vec<RoutedBackend> = Vec::new();
        for backend in &config.backends {
            match backend {
                BackendSettings::Embedded { name, .. } => {
                    let (_, manifest) = models
                        .iter()
                        .find(|(model_backend, _)| model_backend == name)
                        .expect("pulled above");
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
        let settings = ServerSettings {
            body_limit_bytes: config.body_limit_bytes,
        };
        let catalog: Arc<dyn ModelCatalog> = Arc::new(store);
        eprintln!(
            "audit log: {} (content {}); auth {}",
            config.audit.location.describe(),
            config.audit.content.as_str(),
            if auth.is_some() { "on" } else { "off" }
        );
        let app = ward_server::router(
            AppState {
                router: Arc::new(router),
                catalog,
                auth,
                audit: Some(log.clone()),
                records: Some(AuditAccess {
                    log,
                    store: records,
                }),
            },
            &settings,
        );
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
