//! The router's plain settings: backends, tiers and the routing table, as the binary hands them
//! over after reading `ward.toml` (this crate reads no files and no environment).

use std::fmt;
use std::time::Duration;

/// Where a backend runs, which decides whether PHI may reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locality {
    /// Inside the deployment's network: any request may go there.
    Local,
    /// Outside it: only requests the PHI gate cleared.
    Cloud,
}

impl Locality {
    pub fn parse(text: &str) -> Option<Locality> {
        match text {
            "local" => Some(Locality::Local),
            "cloud" => Some(Locality::Cloud),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locality::Local => "local",
            Locality::Cloud => "cloud",
        }
    }
}

/// The wire a remote backend speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteWire {
    /// `POST {url}/chat/completions` with a bearer key: vLLM, llama.cpp server, TGI, OpenAI.
    OpenAi,
    /// Azure OpenAI: `POST {url}/openai/deployments/{model}/chat/completions?api-version=…`
    /// with an `api-key` header.
    AzureOpenAi { api_version: String },
    /// `POST {url}/api/chat`, NDJSON.
    Ollama,
    /// `POST {url}/v1/messages`, Anthropic's SSE events.
    Anthropic,
}

impl RemoteWire {
    pub fn as_str(&self) -> &'static str {
        match self {
            RemoteWire::OpenAi => "openai",
            RemoteWire::AzureOpenAi { .. } => "azure-openai",
            RemoteWire::Ollama => "ollama",
            RemoteWire::Anthropic => "anthropic",
        }
    }
}

/// A credential. Its `Debug` and `Display` never show the value, so it cannot reach a log line
/// or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How long a remote backend may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP (and TLS) connection.
    pub connect: Duration,
    /// From sending the request to the first generated text.
    pub first_token: Duration,
    /// The whole generation.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            first_token: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
}

/// When replicas are taken out of rotation and how they come back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthSettings {
    /// Consecutive failures that open a replica's circuit.
    pub failure_threshold: u32,
    /// How long an open circuit waits before letting one probe request through.
    pub open_for: Duration,
    /// Interval of active health checks (`None`: passive ejection only).
    pub check_interval: Option<Duration>,
    /// Extra attempts on other replicas before the first byte, at most this share of requests
    /// (a retry budget, so that retries cannot multiply load on a failing pool).
    pub retry_ratio: f64,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            failure_threshold: 3,
            open_for: Duration::from_secs(10),
            check_interval: Some(Duration::from_secs(10)),
            retry_ratio: 0.2,
        }
    }
}

/// One remote backend: an engine reached over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSettings {
    pub name: String,
    pub wire: RemoteWire,
    pub locality: Locality,
    /// The upstream model name.
    pub model: String,
    /// Base URLs, one per replica.
    pub urls: Vec<String>,
    pub api_key: Option<Secret>,
    pub timeouts: Timeouts,
    pub health: HealthSettings,
    /// What it charges per token (`None`: nothing per call, e.g. owned hardware).
    pub price: Option<ward_core::TokenPrice>,
}

/// What may trigger a promotion to the next tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromoteOn {
    /// The answer has no text.
    Empty,
    /// The answer stopped at the token limit.
    Truncated,
    /// The answer was asked to be JSON and is not.
    InvalidJson,
}

impl PromoteOn {
    pub fn parse(text: &str) -> Option<PromoteOn> {
        match text {
            "empty" => Some(PromoteOn::Empty),
            "truncated" => Some(PromoteOn::Truncated),
            "invalid_json" => Some(PromoteOn::InvalidJson),
            _ => None,
        }
    }
}

/// A named, ordered fallback chain of backends.
#[derive(Debug, Clone, PartialEq)]
pub struct TierSettings {
    pub name: String,
    pub backends: Vec<String>,
    /// Pseudonymise PHI before a cloud backend of this tier sees it, and restore the answer.
    pub deidentify: bool,
    pub promote_on: Vec<PromoteOn>,
    /// The tier a promoted request goes to.
    pub promote_to: Option<String>,
}

impl TierSettings {
    pub fn new(name: impl Into<String>, backends: &[&str]) -> Self {
        TierSettings {
            name: name.into(),
            backends: backends.iter().map(|name| (*name).to_owned()).collect(),
            deidentify: false,
            promote_on: Vec::new(),
            promote_to: None,
        }
    }
}

/// What happens when a PHI request names a cloud model explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhiOnCloudModel {
    /// Answer 403 with a policy error.
    Refuse,
    /// Serve it from the PHI tier instead.
    Reroute,
}

/// Conversations larger than this are not scanned and count as PHI, unless configured otherwise.
pub const DEFAULT_MAX_SCAN_BYTES: usize = 4 * 1024 * 1024;

/// Which tier serves which class of request.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingSettings {
    pub phi: String,
    pub simple: String,
    pub moderate: String,
    pub complex: String,
    pub phi_on_cloud_model: PhiOnCloudModel,
    /// Inputs larger than this are not scanned and count as PHI.
    pub max_scan_bytes: usize,
    pub complexity: crate::complexity::Thresholds,
}

impl RoutingSettings {
    /// Every class to one tier.
    pub fn all_to(tier: &str) -> Self {
        RoutingSettings {
            phi: tier.to_owned(),
            simple: tier.to_owned(),
            moderate: tier.to_owned(),
            complex: tier.to_owned(),
            phi_on_cloud_model: PhiOnCloudModel::Refuse,
            max_scan_bytes: DEFAULT_MAX_SCAN_BYTES,
            complexity: crate::complexity::Thresholds::default(),
        }
    }
}
