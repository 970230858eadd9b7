//! Ward's router: the PHI gate, the two-axis routing policy (PHI, complexity), tiers as ordered
//! fallback chains, promotion, and the remote backends (OpenAI, Azure OpenAI, Ollama and
//! Anthropic wires) with replicas, health and circuit breaking.
//!
//! The no-PHI-egress invariant lives in the types: a cloud backend (`CloudBackend`) only accepts
//! a `Cleared` request, and only the gate (`gate.rs`) can make one. `Policy::new` refuses a
//! configuration that puts a cloud backend in a tier PHI requests can reach.

mod backend;
mod client;
pub mod complexity;
mod config;
pub mod fake;
mod gate;
mod policy;
mod remote;
mod replicas;
mod router;
pub mod stamped;
mod wire;

pub use backend::{CloudBackend, RoutedBackend};
pub use complexity::{Assessment, Complexity, ComplexityClassifier, Thresholds};
pub use config::{
    HealthSettings, Locality, PhiOnCloudModel, PromoteOn, RemoteSettings, RemoteWire,
    RoutingSettings, Secret, TierSettings, Timeouts, DEFAULT_MAX_SCAN_BYTES,
};
pub use gate::{Cleared, PhiGate, PhiRequest, PhiSummary, Screened, Unscreened};
pub use policy::{check_policy, Policy, PolicyError};
pub use remote::{remote_backend, RemoteBackend};
pub use router::{default_tiers, Dispatch, DispatchError, Router, AUTO_MODEL, DIRECT_TIER};
