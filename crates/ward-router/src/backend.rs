//! Backends as the router holds them: a local backend takes any request, a cloud backend only a
//! [`Cleared`] one. The split is in the types, so no code path can hand a PHI request to a
//! cloud backend without going through the gate.

use std::sync::Arc;

use ward_core::{Backend, GenerationRequest, GenerationStream, ModelCard, TokenPrice, WardError};

use crate::config::Locality;
use crate::gate::Cleared;

/// A backend outside the deployment's network.
#[async_trait::async_trait]
pub trait CloudBackend: Send + Sync {
    fn backend_id(&self) -> &str;
    fn loaded_models(&self) -> &[ModelCard];
    fn is_ready(&self) -> bool;
    async fn generate(
        &self,
        request: Cleared<GenerationRequest>,
    ) -> Result<GenerationStream, WardError>;
    /// Its token prices, when it charges per token.
    fn price(&self) -> Option<TokenPrice> {
        None
    }
}

/// Puts an engine outside the network: the wrapped backend is reachable only through
/// `CloudBackend::generate`, which takes a `Cleared` request.
struct CloudOnly(Arc<dyn Backend>);

#[async_trait::async_trait]
impl CloudBackend for CloudOnly {
    fn backend_id(&self) -> &str {
        self.0.backend_id()
    }

    fn loaded_models(&self) -> &[ModelCard] {
        self.0.loaded_models()
    }

    fn is_ready(&self) -> bool {
        self.0.is_ready()
    }

    async fn generate(
        &self,
        request: Cleared<GenerationRequest>,
    ) -> Result<GenerationStream, WardError> {
        self.0.generate(request.into_inner()).await
    }

    fn price(&self) -> Option<TokenPrice> {
        self.0.price()
    }
}

/// A configured backend with its locality fixed by its type.
#[derive(Clone)]
pub enum RoutedBackend {
    Local(Arc<dyn Backend>),
    Cloud(Arc<dyn CloudBackend>),
}

impl std::fmt::Debug for RoutedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.locality().as_str(), self.backend_id())
    }
}

impl RoutedBackend {
    /// `backend` as a cloud backend: from here on it only receives cleared requests.
    pub fn cloud(backend: Arc<dyn Backend>) -> RoutedBackend {
        RoutedBackend::Cloud(Arc::new(CloudOnly(backend)))
    }

    pub fn backend_id(&self) -> &str {
        match self {
            RoutedBackend::Local(backend) => backend.backend_id(),
            RoutedBackend::Cloud(backend) => backend.backend_id(),
        }
    }

    /// Its token prices, when it charges per token.
    pub fn price(&self) -> Option<TokenPrice> {
        match self {
            RoutedBackend::Local(backend) => backend.price(),
            RoutedBackend::Cloud(backend) => backend.price(),
        }
    }

    pub fn loaded_models(&self) -> &[ModelCard] {
        match self {
            RoutedBackend::Local(backend) => backend.loaded_models(),
            RoutedBackend::Cloud(backend) => backend.loaded_models(),
        }
    }

    pub fn is_ready(&self) -> bool {
        match self {
            RoutedBackend::Local(backend) => backend.is_ready(),
            RoutedBackend::Cloud(backend) => backend.is_ready(),
        }
    }

    pub fn locality(&self) -> Locality {
        match self {
            RoutedBackend::Local(_) => Locality::Local,
            RoutedBackend::Cloud(_) => Locality::Cloud,
        }
    }

    /// The model this backend serves under `requested`: by model name or alias, or by the
    /// backend's own name.
    pub fn serves(&self, requested: &str) -> Option<&ModelCard> {
        let models = self.loaded_models();
        models
            .iter()
            .find(|card| card.answers_to(requested))
            .or_else(|| models.first().filter(|_| self.backend_id() == requested))
    }

    /// The model to ask this backend for when the router chose it.
    pub fn default_model(&self) -> Option<&str> {
        self.loaded_models().first().map(|card| card.name.as_str())
    }
}
