//! `ward.toml` in two phases: a raw serde struct that rejects unknown keys, then a validated
//! `Config` with typed values. Precedence: defaults < file < `WARD_*` environment < flags.
//! The environment is passed in as a map, so tests never touch the process environment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use ward_audit::BackendCost;
use ward_router::{
    HealthSettings, Locality, PhiOnCloudModel, PromoteOn, RemoteSettings, RemoteWire,
    RoutingSettings, Secret, Thresholds, TierSettings, Timeouts,
};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    models: RawModels,
    #[serde(default)]
    engine: RawEngine,
    #[serde(default)]
    backends: Vec<RawBackend>,
    #[serde(default)]
    tiers: Vec<RawTier>,
    routing: Option<RawRouting>,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    clinical: RawClinical,
    #[serde(default)]
    costs: RawCosts,
    #[serde(default)]
    tracing: RawTracing,
}

/// `[tracing]`: OpenTelemetry export of each call's spans, off unless an endpoint is given.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTracing {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClinical {
    profiles_dir: Option<PathBuf>,
    #[serde(default)]
    variables: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    required: Option<bool>,
    secret_file: Option<PathBuf>,
    refresh_seconds: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    path: Option<PathBuf>,
    url: Option<String>,
    content: Option<String>,
    key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    body_limit_bytes: Option<usize>,
    shutdown_grace_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModels {
    store: Option<PathBuf>,
    default: Option<String>,
    pip_command: Option<Vec<String>>,
    hf_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    threads: Option<usize>,
    context_length: Option<u32>,
    batch_size: Option<u32>,
    gpu_layers: Option<u32>,
    flash_attention: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackend {
    name: String,
    kind: String,
    #[serde(default = "local")]
    locality: String,
    model: String,
    #[serde(default)]
    urls: Vec<String>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    /// Azure OpenAI: with `kind = "openai"`, the deployment's api-version.
    api_version: Option<String>,
    connect_timeout_seconds: Option<f64>,
    first_token_timeout_seconds: Option<f64>,
    total_timeout_seconds: Option<f64>,
    /// 0 turns active health checks off.
    health_check_seconds: Option<f64>,
    failure_threshold: Option<u32>,
    circuit_open_seconds: Option<f64>,
    retry_ratio: Option<f64>,
    /// What the backend costs: token prices, or a fixed sum a month (owned hardware).
    cost: Option<RawCost>,
}

/// `cost = { input_per_million = 3.0, output_per_million = 15.0 }` or `{ fixed_per_month = 620.0 }`,
/// in US dollars.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCost {
    input_per_million: Option<f64>,
    output_per_million: Option<f64>,
    fixed_per_month: Option<f64>,
}

/// `[costs]`: the cloud model every call is priced at for the all-cloud counterfactual.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCosts {
    reference: Option<RawReference>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    name: String,
    input_per_million: f64,
    output_per_million: f64,
}

fn local() -> String {
    "local".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: String,
    backends: Vec<String>,
    #[serde(default)]
    deidentify: bool,
    #[serde(default)]
    promote_on: Vec<String>,
    promote_to: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRouting {
    phi: String,
    simple: String,
    moderate: String,
    complex: String,
    phi_on_cloud_model: Option<String>,
    max_scan_bytes: Option<usize>,
    moderate_from: Option<f32>,
    complex_from: Option<f32>,
}

/// The validated configuration `ward` runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// Certificate chain and key (PEM) to serve HTTPS with; `None` serves plain HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub body_limit_bytes: usize,
    pub shutdown_grace: Duration,
    pub store_root: PathBuf,
    pub pip_command: Vec<String>,
    pub hf_endpoint: String,
    pub hf_token: Option<String>,
    pub engine: EngineSettings,
    pub backends: Vec<BackendSettings>,
    /// `None`: the default tiers (`ward_router::default_tiers`).
    pub tiers: Option<(Vec<TierSettings>, RoutingSettings)>,
    pub auth: AuthConfig,
    pub audit: AuditConfig,
    pub clinical: ClinicalConfig,
    /// Every backend's price and the reference for `ward report costs` and the console.
    pub costs: ward_audit::CostModel,
    /// Where spans go (`[tracing]`, `OTEL_EXPORTER_OTLP_ENDPOINT`); `None`: off.
    pub tracing: Option<ward_server::otlp::OtlpSettings>,
}

/// Where extra profiles live and the variables their prompts are rendered with.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicalConfig {
    /// `*.toml` profiles in this folder are loaded after the built-ins.
    pub profiles_dir: PathBuf,
    /// Set explicitly (config or `WARD_PROFILES_DIR`): then the folder must exist.
    pub profiles_dir_required: bool,
    pub variables: std::collections::BTreeMap<String, String>,
}

/// A secret given in the environment, or the file that holds it (created when missing).
#[derive(Clone, PartialEq)]
pub enum SecretSource {
    Value(String),
    File(PathBuf),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("Value(..)"),
            SecretSource::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    /// `None`: required unless Ward listens on loopback and no key exists.
    pub required: Option<bool>,
    /// The server secret API keys are hashed with (`WARD_AUTH_SECRET`, or `auth.secret_file`).
    pub secret: SecretSource,
    pub refresh: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    pub location: ward_audit::Location,
    pub content: ward_audit::ContentMode,
    /// The keyring (`WARD_AUDIT_KEY`, or `audit.key_file`).
    pub keys: SecretSource,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    pub threads: Option<usize>,
    pub context_length: Option<u32>,
    pub batch_size: u32,
    pub gpu_layers: u32,
    /// `None`: llama.cpp decides per device.
    pub flash_attention: Option<bool>,
}

/// One backend: llama.cpp in this process, or an engine reached over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendSettings {
    Embedded { name: String, model: String },
    Remote(RemoteSettings),
}

impl BackendSettings {
    pub fn name(&self) -> &str {
        match self {
            BackendSettings::Embedded { name, .. } => name,
            BackendSettings::Remote(remote) => &remote.name,
        }
    }

    pub fn locality(&self) -> Locality {
        match self {
            BackendSettings::Embedded { .. } => Locality::Local,
            BackendSettings::Remote(remote) => remote.locality,
        }
    }

    /// One line for `ward serve --check-config`; never the key.
    pub fn describe(&self) -> String {
        match self {
            BackendSettings::Embedded { name, model } => {
                format!("backend {name}: embedded, local, model {model}")
            }
            BackendSettings::Remote(remote) => format!(
                "backend {}: {}, {}, model {}, {} replica(s){}",
                remote.name,
                remote.wire.as_str(),
                remote.locality.as_str(),
                remote.model,
                remote.urls.len(),
                if remote.api_key.is_some() {
                    ", api key set"
                } else {
                    ""
                }
            ),
        }
    }
}

/// Command-line values that override the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub model: Option<String>,
}

/// Where Ward keeps its data when nothing says otherwise: `$WARD_HOME`, else
/// `$XDG_DATA_HOME/ward`, else `~/.local/share/ward`. Models go in `models/`, the audit store,
/// its key file and the auth secret beside it.
fn default_data_root(env: &HashMap<String, String>) -> PathBuf {
    if let Some(home) = env.get("WARD_HOME") {
        return PathBuf::from(home);
    }
    if let Some(data) = env.get("XDG_DATA_HOME") {
        return PathBuf::from(data).join("ward");
    }
    let home = env
        .get("HOME")
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local").join("share").join("ward")
}

impl Config {
    /// Reads `path` (if given) and applies the environment and flags.
    pub fn load(
        path: Option<&Path>,
        env: &HashMap<String, String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let raw = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<RawConfig>(&text).map_err(|error| {
                    anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim_end())
                })?
            }
            None => RawConfig::default(),
        };
        Config::validate(raw, env, overrides)
    }

    fn validate(
        raw: RawConfig,
        env: &HashMap<String, String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let env_value = |key: &str| env.get(key).filter(|value| !value.is_empty()).cloned();
        let parse_env = |key: &str| -> anyhow::Result<Option<u64>> {
            env_value(key)
                .map(|value| {
                    value
                        .parse::<u64>()
                        .with_context(|| format!("{key} must be a whole number"))
                })
                .transpose()
        };

        let listen_text = overrides
            .listen
            .clone()
            .or_else(|| env_value("WARD_LISTEN"))
            .or(raw.server.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().with_context(|| {
            format!("server.listen: '{listen_text}' is not an address like 127.0.0.1:8080")
        })?;
        let tls_cert = env_value("WARD_TLS_CERT")
            .map(PathBuf::from)
            .or(raw.server.tls_cert);
        let tls_key = env_value("WARD_TLS_KEY")
            .map(PathBuf::from)
            .or(raw.server.tls_key);
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => bail!("server.tls_cert and server.tls_key: give both (PEM files) or neither"),
        };
        let body_limit_bytes = raw.server.body_limit_bytes.unwrap_or(4 * 1024 * 1024);
        if body_limit_bytes < 1024 {
            bail!("server.body_limit_bytes: must be at least 1024");
        }
        let shutdown_grace = Duration::from_secs(raw.server.shutdown_grace_seconds.unwrap_or(30));

        let store_root = env_value("WARD_MODEL_STORE")
            .map(PathBuf::from)
            .or(raw.models.store)
            .unwrap_or_else(|| default_data_root(env).join("models"));
        // `--model` / WARD_MODEL choose the model of a config without backends, and replace the
        // model of the first backend otherwise.
        let requested_model = overrides.model.clone().or_else(|| env_value("WARD_MODEL"));
        let pip_command = match env_value("WARD_PIP") {
            Some(command) => command.split_whitespace().map(str::to_owned).collect(),
            None => raw
                .models
                .pip_command
                .unwrap_or_else(|| vec!["python3".into(), "-m".into(), "pip".into()]),
        };
        if pip_command.is_empty() {
            bail!("models.pip_command: must name a program, e.g. [\"python3\", \"-m\", \"pip\"]");
        }
        let hf_endpoint = env_value("WARD_HF_ENDPOINT")
            .or(raw.models.hf_endpoint)
            .unwrap_or_else(|| "https://huggingface.co".to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !hf_endpoint.starts_with("http://") && !hf_endpoint.starts_with("https://") {
            bail!("models.hf_endpoint: '{hf_endpoint}' must start with http:// or https://");
        }

        let threads = parse_env("WARD_THREADS")?
            .map(|threads| threads as usize)
            .or(raw.engine.threads);
        if threads == Some(0) {
            bail!("engine.threads: must be at least 1 (leave it out to use every physical core)");
        }
        let context_length = parse_env("WARD_CONTEXT_LENGTH")?
            .map(|length| length as u32)
            .or(raw.engine.context_length);
        if context_length.is_some_and(|length| length < 256) {
            bail!("engine.context_length: must be at least 256 tokens");
        }
        let batch_size = raw.engine.batch_size.unwrap_or(512);
        if batch_size == 0 {
            bail!("engine.batch_size: must be at least 1");
        }
        let flash_attention = match env_value("WARD_FLASH_ATTENTION").as_deref() {
            None => raw.engine.flash_attention,
            Some("1" | "true" | "on") => Some(true),
            Some("0" | "false" | "off") => Some(false),
            Some(_) => bail!("WARD_FLASH_ATTENTION must be on or off"),
        };
        let engine = EngineSettings {
            threads,
            context_length,
            batch_size,
            gpu_layers: raw.engine.gpu_layers.unwrap_or(0),
            flash_attention,
        };

        let mut backends: Vec<BackendSettings> = Vec::new();
        let mut costs = Vec::new();
        for (index, backend) in raw.backends.into_iter().enumerate() {
            let key = format!("backends[{index}]");
            if backends
                .iter()
                .any(|existing| existing.name() == backend.name)
            {
                bail!("{key}.name: '{}' is used twice", backend.name);
            }
            let (settings, cost) = backend_settings(&key, backend, env)?;
            costs.push(cost);
            backends.push(settings);
        }
        let has_embedded = backends
            .iter()
            .any(|backend| matches!(backend, BackendSettings::Embedded { .. }));
        match (backends.first_mut(), requested_model) {
            (Some(BackendSettings::Embedded { model, .. }), Some(requested)) => *model = requested,
            (Some(_), Some(_)) if !has_embedded => {
                bail!("--model / WARD_MODEL choose the model of an embedded backend, and ward.toml has none")
            }
            (Some(_), _) => {}
            (None, model) => backends.push(BackendSettings::Embedded {
                name: "embedded".into(),
                model: model
                    .or(raw.models.default)
                    .unwrap_or_else(|| ward_store::DEFAULT_MODEL.to_owned()),
            }),
        }
        let tiers = tier_settings(raw.tiers, raw.routing)?;
        if let Some((tiers, routing)) = &tiers {
            let described: Vec<(&str, Locality)> = backends
                .iter()
                .map(|backend| (backend.name(), backend.locality()))
                .collect();
            ward_router::check_policy(&described, tiers, routing)?;
        }

        let auth = auth_config(raw.auth, env, &default_data_root(env))?;
        let audit = audit_config(raw.audit, env, &default_data_root(env))?;
        let explicit_profiles = env_value("WARD_PROFILES_DIR")
            .map(PathBuf::from)
            .or(raw.clinical.profiles_dir);
        let clinical = ClinicalConfig {
            profiles_dir_required: explicit_profiles.is_some(),
            profiles_dir: explicit_profiles
                .unwrap_or_else(|| default_data_root(env).join("profiles")),
            variables: raw.clinical.variables,
        };
        let costs = cost_model(&backends, costs, raw.costs)?;
        let tracing = match env_value("OTEL_EXPORTER_OTLP_ENDPOINT").or(raw.tracing.otlp_endpoint) {
            Some(endpoint)
                if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") =>
            {
                bail!("tracing.otlp_endpoint: '{endpoint}' must be an http:// or https:// URL (the collector's OTLP/HTTP port, usually 4318)")
            }
            Some(endpoint) => Some(ward_server::otlp::OtlpSettings {
                endpoint,
                service_name: env_value("OTEL_SERVICE_NAME")
                    .or(raw.tracing.service_name)
                    .unwrap_or_else(|| "ward".to_owned()),
            }),
            None => None,
        };
        Ok(Config {
            listen,
            tls,
            body_limit_bytes,
            shutdown_grace,
            store_root,
            pip_command,
            hf_endpoint,
            hf_token: env_value("HF_TOKEN"),
            engine,
            backends,
            tiers,
            auth,
            audit,
            clinical,
            costs,
            tracing,
        })
    }
}

fn auth_config(
    raw: RawAuth,
    env: &HashMap<String, String>,
    data_root: &Path,
) -> anyhow::Result<AuthConfig> {
    let required = match env.get("WARD_AUTH_REQUIRED").map(String::as_str) {
        None | Some("") => raw.required,
        Some("1" | "true" | "on") => Some(true),
        Some("0" | "false" | "off") => Some(false),
        Some(_) => bail!("WARD_AUTH_REQUIRED must be true or false"),
    };
    let secret = match env
        .get("WARD_AUTH_SECRET")
        .filter(|value| !value.is_empty())
    {
        Some(value) => SecretSource::Value(value.clone()),
        None => SecretSource::File(
            raw.secret_file
                .unwrap_or_else(|| data_root.join("ward-auth.secret")),
        ),
    };
    Ok(AuthConfig {
        required,
        secret,
        refresh: seconds(
            "auth.refresh_seconds",
            raw.refresh_seconds,
            Duration::from_secs(1),
        )?,
    })
}

fn audit_config(
    raw: RawAudit,
    env: &HashMap<String, String>,
    data_root: &Path,
) -> anyhow::Result<AuditConfig> {
    let env_value = |key: &str| env.get(key).filter(|value| !value.is_empty()).cloned();
    let url = env_value("WARD_AUDIT_URL").or(raw.url);
    let path = env_value("WARD_AUDIT_PATH").map(PathBuf::from).or(raw.path);
    let location = match (url, path) {
        (Some(_), Some(_)) => {
            bail!("audit: give either path (SQLite) or url (PostgreSQL), not both")
        }
        (Some(url), None) => {
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                bail!("audit.url: must be a postgres:// URL (for SQLite use audit.path)");
            }
            ward_audit::Location::Postgres(url)
        }
        (None, path) => {
            ward_audit::Location::Sqlite(path.unwrap_or_else(|| data_root.join("ward-audit.db")))
        }
    };
    let content_text = env_value("WARD_AUDIT_CONTENT")
        .or(raw.content)
        .unwrap_or_else(|| "encrypted".to_owned());
    let Some(content) = ward_audit::ContentMode::parse(&content_text) else {
        bail!("audit.content: '{content_text}' must be encrypted, hash or off");
    };
    let keys = match env_value("WARD_AUDIT_KEY") {
        Some(value) => SecretSource::Value(value),
        None => SecretSource::File(
            raw.key_file
                .unwrap_or_else(|| data_root.join("ward-audit.key")),
        ),
    };
    Ok(AuditConfig {
        location,
        content,
        keys,
    })
}

fn seconds(key: &str, value: Option<f64>, default: Duration) -> anyhow::Result<Duration> {
    match value {
        None => Ok(default),
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Ok(Duration::from_secs_f64(seconds))
        }
        Some(_) => bail!("{key}: must be a positive number of seconds"),
    }
}

/// A price in US dollars: finite and not negative.
fn dollars(key: &str, value: f64) -> anyhow::Result<f64> {
    if !value.is_finite() || value < 0.0 {
        bail!("{key}: must be 0 or more (US dollars)");
    }
    Ok(value)
}

fn backend_cost(key: &str, raw: Option<RawCost>) -> anyhow::Result<Option<BackendCost>> {
    let Some(raw) = raw else { return Ok(None) };
    let key = format!("{key}.cost");
    Ok(Some(
        match (raw.input_per_million, raw.output_per_million, raw.fixed_per_month) {
            (Some(input), Some(output), None) => BackendCost::PerToken(ward_core::TokenPrice {
                input_per_mtok: dollars(&format!("{key}.input_per_million"), input)?,
                output_per_mtok: dollars(&format!("{key}.output_per_million"), output)?,
            }),
            (None, None, Some(monthly)) => BackendCost::Monthly {
                usd: dollars(&format!("{key}.fixed_per_month"), monthly)?,
            },
            _ => bail!("{key}: give input_per_million and output_per_million (a price per token), or fixed_per_month (owned hardware), not both"),
        },
    ))
}

/// Every backend's cost (the default embedded one has none) and the reference: `[costs]`, else
/// the first cloud backend priced per token.
fn cost_model(
    backends: &[BackendSettings],
    costs: Vec<Option<BackendCost>>,
    raw: RawCosts,
) -> anyhow::Result<ward_audit::CostModel> {
    let backends = backends
        .iter()
        .zip(costs.into_iter().chain(std::iter::repeat(None)))
        .map(|(backend, cost)| ward_audit::PricedBackend {
            name: backend.name().to_owned(),
            cloud: backend.locality() == Locality::Cloud,
            cost,
        })
        .collect();
    let mut model = ward_audit::CostModel {
        backends,
        reference: None,
    };
    model.reference = match raw.reference {
        Some(reference) => Some(ward_audit::Reference {
            input_usd_per_million: dollars(
                "costs.reference.input_per_million",
                reference.input_per_million,
            )?,
            output_usd_per_million: dollars(
                "costs.reference.output_per_million",
                reference.output_per_million,
            )?,
            name: reference.name,
        }),
        None => model.first_priced_cloud(),
    };
    Ok(model)
}

fn backend_settings(
    key: &str,
    raw: RawBackend,
    env: &HashMap<String, String>,
) -> anyhow::Result<(BackendSettings, Option<BackendCost>)> {
    let cost = backend_cost(key, raw.cost)?;
    let Some(locality) = Locality::parse(&raw.locality) else {
        bail!(
            "{key}.locality: '{}' must be \"local\" or \"cloud\"",
            raw.locality
        );
    };
    let remote_only = !raw.urls.is_empty()
        || raw.api_key_env.is_some()
        || raw.api_key_file.is_some()
        || raw.api_version.is_some();
    let wire = match raw.kind.as_str() {
        "embedded" => {
            if locality != Locality::Local {
                bail!("{key}.locality: an embedded backend is always \"local\"");
            }
            if remote_only {
                bail!("{key}: urls, api_key_env, api_key_file and api_version apply to remote kinds, not \"embedded\"");
            }
            if matches!(cost, Some(BackendCost::PerToken(_))) {
                bail!("{key}.cost: an embedded backend runs on owned hardware: give fixed_per_month, not token prices");
            }
            let embedded = BackendSettings::Embedded {
                name: raw.name,
                model: raw.model,
            };
            return Ok((embedded, cost));
        }
        "openai" => match raw.api_version.clone() {
            Some(api_version) => RemoteWire::AzureOpenAi { api_version },
            None => RemoteWire::OpenAi,
        },
        "ollama" => RemoteWire::Ollama,
        "anthropic" => RemoteWire::Anthropic,
        other => bail!("{key}.kind: '{other}' is not one of embedded, openai, ollama, anthropic"),
    };
    if raw.api_version.is_some() && !matches!(wire, RemoteWire::AzureOpenAi { .. }) {
        bail!("{key}.api_version: only kind = \"openai\" (Azure OpenAI) takes an api_version");
    }
    if raw.urls.is_empty() {
        bail!(
            "{key}.urls: a {} backend needs at least one url, e.g. [\"http://127.0.0.1:8000/v1\"]",
            raw.kind
        );
    }
    for url in &raw.urls {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            bail!("{key}.urls: '{url}' must start with http:// or https://");
        }
    }
    let api_key = match (raw.api_key_env, raw.api_key_file) {
        (Some(_), Some(_)) => bail!("{key}: set api_key_env or api_key_file, not both"),
        (Some(variable), None) => match env.get(&variable).filter(|value| !value.is_empty()) {
            Some(value) => Some(Secret::new(value.trim())),
            None => bail!("{key}.api_key_env: the environment variable {variable} is not set"),
        },
        (None, Some(path)) => {
            let value = std::fs::read_to_string(&path)
                .with_context(|| format!("{key}.api_key_file: cannot read {}", path.display()))?;
            if value.trim().is_empty() {
                bail!("{key}.api_key_file: {} is empty", path.display());
            }
            Some(Secret::new(value.trim()))
        }
        (None, None) => None,
    };
    let defaults = Timeouts::default();
    let timeouts = Timeouts {
        connect: seconds(
            &format!("{key}.connect_timeout_seconds"),
            raw.connect_timeout_seconds,
            defaults.connect,
        )?,
        first_token: seconds(
            &format!("{key}.first_token_timeout_seconds"),
            raw.first_token_timeout_seconds,
            defaults.first_token,
        )?,
        total: seconds(
            &format!("{key}.total_timeout_seconds"),
            raw.total_timeout_seconds,
            defaults.total,
        )?,
    };
    let health_defaults = HealthSettings::default();
    let check_interval = match raw.health_check_seconds {
        Some(0.0) => None,
        other => Some(seconds(
            &format!("{key}.health_check_seconds"),
            other,
            health_defaults
                .check_interval
                .unwrap_or(Duration::from_secs(10)),
        )?),
    };
    let retry_ratio = raw.retry_ratio.unwrap_or(health_defaults.retry_ratio);
    if !(0.0..=1.0).contains(&retry_ratio) {
        bail!("{key}.retry_ratio: must be between 0 and 1");
    }
    let failure_threshold = raw
        .failure_threshold
        .unwrap_or(health_defaults.failure_threshold);
    if failure_threshold == 0 {
        bail!("{key}.failure_threshold: must be at least 1");
    }
    let price = match cost {
        Some(BackendCost::PerToken(price)) => Some(price),
        _ => None,
    };
    let remote = BackendSettings::Remote(RemoteSettings {
        price,
        name: raw.name,
        wire,
        locality,
        model: raw.model,
        urls: raw.urls,
        api_key,
        timeouts,
        health: HealthSettings {
            failure_threshold,
            open_for: seconds(
                &format!("{key}.circuit_open_seconds"),
                raw.circuit_open_seconds,
                health_defaults.open_for,
            )?,
            check_interval,
            retry_ratio,
        },
    });
    Ok((remote, cost))
}

fn tier_settings(
    raw_tiers: Vec<RawTier>,
    raw_routing: Option<RawRouting>,
) -> anyhow::Result<Option<(Vec<TierSettings>, RoutingSettings)>> {
    let routing = match (raw_tiers.is_empty(), raw_routing) {
        (true, None) => return Ok(None),
        (false, None) => bail!("routing: [[tiers]] need a [routing] table naming the tier for phi, simple, moderate and complex requests"),
        (true, Some(_)) => bail!("routing: names tiers, but no [[tiers]] are defined"),
        (false, Some(routing)) => routing,
    };
    let mut tiers = Vec::new();
    for (index, raw) in raw_tiers.into_iter().enumerate() {
        let promote_on = raw
            .promote_on
            .iter()
            .map(|check| {
                PromoteOn::parse(check).with_context(|| {
                    format!("tiers[{index}].promote_on: '{check}' is not one of empty, truncated, invalid_json")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        tiers.push(TierSettings {
            name: raw.name,
            backends: raw.backends,
            deidentify: raw.deidentify,
            promote_on,
            promote_to: raw.promote_to,
        });
    }
    let phi_on_cloud_model = match routing.phi_on_cloud_model.as_deref() {
        None | Some("refuse") => PhiOnCloudModel::Refuse,
        Some("reroute") => PhiOnCloudModel::Reroute,
        Some(other) => {
            bail!("routing.phi_on_cloud_model: '{other}' must be \"refuse\" or \"reroute\"")
        }
    };
    let thresholds = Thresholds {
        moderate_from: routing
            .moderate_from
            .unwrap_or(Thresholds::default().moderate_from),
        complex_from: routing
            .complex_from
            .unwrap_or(Thresholds::default().complex_from),
    };
    if thresholds.complex_from < thresholds.moderate_from {
        bail!("routing.complex_from: must not be below routing.moderate_from");
    }
    let settings = RoutingSettings {
        phi: routing.phi,
        simple: routing.simple,
        moderate: routing.moderate,
        complex: routing.complex,
        phi_on_cloud_model,
        max_scan_bytes: routing
            .max_scan_bytes
            .unwrap_or(ward_router::DEFAULT_MAX_SCAN_BYTES),
        complexity: thresholds,
    };
    Ok(Some((tiers, settings)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn parse(
        text: &str,
        env_pairs: &[(&str, &str)],
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| anyhow::anyhow!("{error}"))?;
        Config::validate(raw, &env(env_pairs), overrides)
    }

    fn embedded_model(config: &Config) -> &str {
        match &config.backends[0] {
            BackendSettings::Embedded { model, .. } => model,
            BackendSettings::Remote(_) => panic!("the first backend is remote"),
        }
    }

    #[test]
    fn defaults_need_no_file() {
        let config = parse("", &[("HOME", "/home/ana")], &Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            config.store_root,
            PathBuf::from("/home/ana/.local/share/ward/models")
        );
        assert_eq!(
            config.backends,
            vec![BackendSettings::Embedded {
                name: "embedded".into(),
                model: ward_store::DEFAULT_MODEL.into()
            }]
        );
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = "[server]\nlisten = \"127.0.0.1:9000\"\n[models]\ndefault = \"gemma3:270m\"\n";
        let from_file = parse(file, &[], &Overrides::default()).unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(embedded_model(&from_file), "gemma3:270m");
        let from_env = parse(
            file,
            &[
                ("WARD_LISTEN", "127.0.0.1:9100"),
                ("WARD_MODEL", "smollm2:135m"),
            ],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(from_env.listen.port(), 9100);
        assert_eq!(embedded_model(&from_env), "smollm2:135m");
        let flags = Overrides {
            listen: Some("127.0.0.1:9200".into()),
            model: Some("qwen".into()),
        };
        let from_flags = parse(file, &[("WARD_LISTEN", "127.0.0.1:9100")], &flags).unwrap();
        assert_eq!(from_flags.listen.port(), 9200);
        assert_eq!(embedded_model(&from_flags), "qwen");
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[server]\nlisten = \"nowhere\"", "server.listen"),
            ("[server]\nport = 1", "unknown field `port`"),
            ("[engine]\nthreads = 0", "engine.threads"),
            ("[[backends]]\nname = \"a\"\nkind = \"ollama\"\nmodel = \"m\"", "backends[0].urls"),
            ("[[backends]]\nname = \"a\"\nkind = \"tgi\"\nmodel = \"m\"", "backends[0].kind"),
            ("[[backends]]\nname = \"a\"\nkind = \"openai\"\nmodel = \"m\"\nurls = [\"http://h\"]\napi_key_env = \"NOPE\"", "environment variable NOPE is not set"),
            ("[[tiers]]\nname = \"t\"\nbackends = [\"embedded\"]", "need a [routing] table"),
            ("[[backends]]\nname = \"a\"\nkind = \"embedded\"\nlocality = \"cloud\"\nmodel = \"m\"", "backends[0].locality"),
            ("[models]\nhf_endpoint = \"ftp://x\"", "models.hf_endpoint"),
            ("[server]\ntls_cert = \"c.pem\"", "server.tls_key"),
            ("[audit]\ncontent = \"plain\"", "audit.content"),
            ("[audit]\nurl = \"mysql://db\"", "audit.url"),
            ("[audit]\nurl = \"postgres://db/w\"\npath = \"a.db\"", "either path"),
            ("[auth]\nrefresh_seconds = 0", "auth.refresh_seconds"),
        ];
        for (text, expected) in cases {
            let error = parse(text, &[], &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
        let error = parse("", &[("WARD_THREADS", "many")], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("WARD_THREADS"), "{error}");
    }

    const TWO_AXIS: &str = r#"
[[backends]]
name = "local-small"
kind = "embedded"
model = "gemma3:270m"

[[backends]]
name = "vllm"
kind = "openai"
locality = "local"
model = "qwen2.5-7b"
urls = ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"]
first_token_timeout_seconds = 5

[[backends]]
name = "frontier"
kind = "anthropic"
locality = "cloud"
model = "claude-x"
urls = ["https://cloud.invalid"]
api_key_env = "CLOUD_KEY"
cost = { input_per_million = 3.0, output_per_million = 15.0 }

[[tiers]]
name = "phi"
backends = ["vllm", "local-small"]

[[tiers]]
name = "small"
backends = ["local-small"]

[[tiers]]
name = "frontier"
backends = ["frontier", "vllm"]

[routing]
phi = "phi"
simple = "small"
moderate = "small"
complex = "frontier"
"#;

    #[test]
    fn two_axis_routing_config() {
        let config = parse(
            TWO_AXIS,
            &[("CLOUD_KEY", "sk-test-123")],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(config.backends.len(), 3);
        let BackendSettings::Remote(cloud) = &config.backends[2] else {
            panic!("remote expected");
        };
        assert_eq!(cloud.wire, RemoteWire::Anthropic);
        assert_eq!(cloud.locality, Locality::Cloud);
        assert_eq!(cloud.api_key.as_ref().unwrap().expose(), "sk-test-123");
        // The key never shows in Debug output or the check-config description.
        assert!(!format!("{config:?}").contains("sk-test-123"));
        assert!(!config.backends[2].describe().contains("sk-test-123"));
        let BackendSettings::Remote(vllm) = &config.backends[1] else {
            panic!("remote expected");
        };
        assert_eq!(vllm.timeouts.first_token, Duration::from_secs(5));
        assert_eq!(vllm.price, None);
        assert_eq!(
            cloud.price,
            Some(ward_core::TokenPrice {
                input_per_mtok: 3.0,
                output_per_mtok: 15.0
            })
        );
        // The cloud backend is the reference; the others have no cost.
        let reference = config.costs.reference.as_ref().unwrap();
        assert_eq!(reference.name, "frontier");
        assert_eq!(reference.output_usd_per_million, 15.0);
        assert_eq!(config.costs.backends[0].cost, None);
        for (from, to, named) in [
            (", output_per_million = 15.0", "", "not both"),
            ("output_per_million = 15.0", "output_per_million = -1.0", "0 or more"),
            (
                "output_per_million = 15.0 }",
                "output_per_million = 15.0, fixed_per_month = 9.0 }",
                "not both",
            ),
            (
                "model = \"gemma3:270m\"",
                "model = \"gemma3:270m\"\ncost = { input_per_million = 1.0, output_per_million = 1.0 }",
                "fixed_per_month, not token prices",
            ),
            ("[routing]", "[costs]\nreference = { name = \"x\" }\n\n[routing]", "missing field"),
        ] {
            let error = parse(
                &TWO_AXIS.replace(from, to),
                &[("CLOUD_KEY", "k")],
                &Overrides::default(),
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains(named), "{error}");
        }
        let (tiers, routing) = config.tiers.unwrap();
        assert_eq!(tiers.len(), 3);
        assert_eq!(routing.complex, "frontier");

        // Owned hardware costs a sum a month; `[costs]` names the reference.
        let text = TWO_AXIS
            .replace(
                "model = \"gemma3:270m\"",
                "model = \"gemma3:270m\"\ncost = { fixed_per_month = 620.0 }",
            )
            .replace(
                "[routing]",
                "[costs]\nreference = { name = \"gpt-4o\", input_per_million = 2.5, output_per_million = 10.0 }\n\n[routing]",
            );
        let config = parse(&text, &[("CLOUD_KEY", "k")], &Overrides::default()).unwrap();
        assert_eq!(
            config.costs.backends[0].cost,
            Some(BackendCost::Monthly { usd: 620.0 })
        );
        assert_eq!(config.costs.reference.unwrap().name, "gpt-4o");
    }

    #[test]
    fn tracing_is_off_unless_an_endpoint_is_given() {
        let config = parse("", &[], &Overrides::default()).unwrap();
        assert_eq!(config.tracing, None);
        let text = "[tracing]\notlp_endpoint = \"http://127.0.0.1:4318\"\n";
        let config = parse(
            text,
            &[("OTEL_SERVICE_NAME", "ward-east")],
            &Overrides::default(),
        )
        .unwrap();
        let tracing = config.tracing.unwrap();
        assert_eq!(
            (tracing.endpoint.as_str(), tracing.service_name.as_str()),
            ("http://127.0.0.1:4318", "ward-east")
        );
        let error = parse(
            "",
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("must be an http:// or https:// URL"),
            "{error}"
        );
    }

    #[test]
    fn a_cloud_backend_in_the_phi_tier_is_refused_at_load() {
        let text = TWO_AXIS.replace(
            "backends = [\"vllm\", \"local-small\"]",
            "backends = [\"vllm\", \"frontier\"]",
        );
        let error = parse(&text, &[("CLOUD_KEY", "k")], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("tiers 'phi'") && error.contains("cloud backend 'frontier'"),
            "{error}"
        );
    }

    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/ward.example.toml");
        let config =
            Config::load(Some(&path), &env(&[("HOME", "/h")]), &Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert!(!config.backends.is_empty());
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/ward.routing.example.toml");
        let environment = env(&[("HOME", "/h"), ("CLOUD_API_KEY", "sk-example")]);
        let config = Config::load(Some(&path), &environment, &Overrides::default()).unwrap();
        assert_eq!(config.backends.len(), 4);
        assert_eq!(config.tiers.unwrap().0.len(), 3);
        assert_eq!(
            config.costs.backends[1].cost,
            Some(BackendCost::Monthly { usd: 620.0 })
        );
        assert!(config.costs.reference.is_some());
    }
}
