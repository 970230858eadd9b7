//! One routing decision and its dispatch: screen the request, pick the tier (PHI first, then
//! complexity, or the explicitly named model within policy), then walk the tier's chain until a
//! backend produces its first event. Failures before the first event fall over to the next
//! backend; after it, the stream is the client's. A tier with `promote_on` buffers the answer and
//! re-runs the request on its `promote_to` tier when the answer fails a check.

use futures::StreamExt;
use ward_core::{
    ErrorKind, FinishReason, GenerationEvent, GenerationRequest, GenerationStream, WardError,
};
use ward_phi::Restorer;

use crate::backend::RoutedBackend;
use crate::complexity::{Assessment, ComplexityClassifier};
use crate::config::{PhiOnCloudModel, PromoteOn, RoutingSettings, TierSettings};
use crate::gate::{PhiGate, PhiSummary, Screened};
use crate::policy::{Policy, PolicyError};

/// The model name that lets the router choose.
pub const AUTO_MODEL: &str = "auto";

/// The tier name reported when a client named a model whose backend is in no tier.
pub const DIRECT_TIER: &str = "direct";

/// A request on its way: where it went and the answer's stream.
pub struct Dispatch {
    pub tier: String,
    pub backend_id: String,
    /// The served model's name.
    pub model: String,
    pub phi: PhiSummary,
    pub complexity: Option<Assessment>,
    /// Backends tried before the one that answered, and tiers promoted from.
    pub fallbacks: Vec<String>,
    pub stream: GenerationStream,
    /// When the PHI gate had finished and backends were first tried: what comes after is
    /// upstream time, what came before is Ward's own.
    pub upstream_started: std::time::Instant,
}

/// A request that could not be dispatched, with what is known about it for the response headers.
#[derive(Debug)]
pub struct DispatchError {
    pub error: WardError,
    pub phi: PhiSummary,
    pub tier: Option<String>,
    pub fallbacks: Vec<String>,
}

/// The router: policy, gate and classifier, shared by every request.
#[derive(Debug)]
pub struct Router {
    policy: Policy,
    gate: PhiGate,
    classifier: ComplexityClassifier,
}

impl Router {
    pub fn new(
        backends: Vec<RoutedBackend>,
        tiers: &[TierSettings],
        routing: &RoutingSettings,
    ) -> Result<Router, PolicyError> {
        Ok(Router {
            policy: Policy::new(backends, tiers, routing)?,
            gate: PhiGate::new(routing.max_scan_bytes),
            classifier: ComplexityClassifier::new(routing.complexity),
        })
    }

    /// The tiers Ward uses when `ward.toml` defines none: `local` (every local backend, in
    /// order) serves PHI, simple and moderate requests; with cloud backends, `cloud` (those, then
    /// the local ones as fallback) serves complex ones.
    pub fn with_default_tiers(backends: Vec<RoutedBackend>) -> Result<Router, PolicyError> {
        let (tiers, routing) = default_tiers(&backends);
        Router::new(backends, &tiers, &routing)
    }

    pub fn backends(&self) -> &[RoutedBackend] {
        &self.policy.backends
    }

    /// The token prices of the backend with this id, when it charges per token.
    pub fn price_of(&self, backend_id: &str) -> Option<ward_core::TokenPrice> {
        self.backends()
            .iter()
            .find(|backend| backend.backend_id() == backend_id)
            .and_then(RoutedBackend::price)
    }

    /// Whether a tier of this name exists (profiles may name one).
    pub fn has_tier(&self, name: &str) -> bool {
        self.policy.tiers.iter().any(|tier| tier.name == name)
    }

    /// Screens, routes and starts `request`. `request_key` seeds the surrogates of a
    /// de-identified request.
    pub async fn dispatch(
        &self,
        request: GenerationRequest,
        request_key: u64,
    ) -> Result<Dispatch, DispatchError> {
        self.dispatch_preferring(request, None, request_key).await
    }

    /// Like `dispatch`, with the tier an `auto` request without PHI goes to instead of the one
    /// its complexity picks (a profile's `tier`). PHI still goes to the PHI tier; an unknown
    /// tier name falls back to the complexity choice.
    pub async fn dispatch_preferring(
        &self,
        request: GenerationRequest,
        preferred_tier: Option<&str>,
        request_key: u64,
    ) -> Result<Dispatch, DispatchError> {
        let requested = request.model.clone();
        let screened = self.gate.screen(request);
        let upstream_started = std::time::Instant::now();
        let phi = screened.summary();
        let fail = |error: WardError, tier: Option<String>, fallbacks: Vec<String>| DispatchError {
            error,
            phi: phi.clone(),
            tier,
            fallbacks,
        };
        if requested != AUTO_MODEL {
            let Some((backend, model)) = self.policy.backend_serving(&requested) else {
                return Err(fail(
                    WardError::not_found(format!("model '{requested}' is not served here"))
                        .with_param("model"),
                    None,
                    Vec::new(),
                ));
            };
            let to_cloud = self.policy.backends[backend].locality() == crate::Locality::Cloud;
            if !(phi.is_phi() && to_cloud) {
                let tier_name = self.policy.tier_listing(backend).unwrap_or(DIRECT_TIER);
                let mut fallbacks = Vec::new();
                return match self
                    .try_backend(backend, &model, &screened, false, request_key)
                    .await
                {
                    Ok(started) => Ok(started.into_dispatch(
                        tier_name,
                        phi,
                        None,
                        fallbacks,
                        upstream_started,
                    )),
                    Err(error) => {
                        fallbacks.push(self.policy.backends[backend].backend_id().to_owned());
                        Err(fail(error, Some(tier_name.to_owned()), fallbacks))
                    }
                };
            }
            if self.policy.phi_on_cloud_model == PhiOnCloudModel::Refuse {
                return Err(fail(
                    WardError::new(
                        ErrorKind::PolicyViolation,
                        format!(
                            "this request contains PHI ({}) and model '{requested}' is served by cloud backend '{}'; \
                             PHI never leaves the network: use a local model or 'auto'",
                            phi.header_value(),
                            self.policy.backends[backend].backend_id()
                        ),
                    )
                    .with_param("model"),
                    None,
                    Vec::new(),
                ));
            }
        }
        let preferred = preferred_tier
            .and_then(|name| self.policy.tiers.iter().position(|tier| tier.name == name));
        let (tier, complexity) = if phi.is_phi() {
            (self.policy.phi_tier(), None)
        } else if let Some(tier) = preferred {
            (tier, None)
        } else {
            let assessment = self.classifier.classify(screened.request());
            (
                self.policy.tier_for(assessment.complexity),
                Some(assessment),
            )
        };
        self.run_tiers(tier, &screened, phi.clone(), complexity, request_key)
            .await
            .map_err(|(error, tier, fallbacks)| fail(error, Some(tier), fallbacks))
    }

    /// Runs the chain of `tier`, promoting while the tier asks for it.
    async fn run_tiers(
        &self,
        mut tier_index: usize,
        screened: &Screened,
        phi: PhiSummary,
        complexity: Option<Assessment>,
        request_key: u64,
    ) -> Result<Dispatch, (WardError, String, Vec<String>)> {
        let upstream_started = std::time::Instant::now();
        let mut fallbacks = Vec::new();
        let mut promotions = 0;
        loop {
            let tier = &self.policy.tiers[tier_index];
            let mut started = None;
            for &backend in &tier.chain {
                let model = match self.policy.backends[backend].default_model() {
                    Some(model) => model.to_owned(),
                    None => continue,
                };
                match self
                    .try_backend(backend, &model, screened, tier.deidentify, request_key)
                    .await
                {
                    Ok(dispatch) => {
                        started = Some(dispatch);
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(
                            tier = %tier.name,
                            backend_id = self.policy.backends[backend].backend_id(),
                            kind = error.kind.code(),
                            "backend failed before its first token; trying the next"
                        );
                        fallbacks.push(self.policy.backends[backend].backend_id().to_owned());
                    }
                }
            }
            let Some(started) = started else {
                let tried = if fallbacks.is_empty() {
                    "none was ready".to_owned()
                } else {
                    format!("tried {}", fallbacks.join(", "))
                };
                let message = if phi.is_phi() {
                    format!(
                        "no local backend of tier '{}' could take this PHI request ({tried}); PHI is never sent to a cloud backend, retry later",
                        tier.name
                    )
                } else {
                    format!(
                        "no backend of tier '{}' could take this request ({tried})",
                        tier.name
                    )
                };
                return Err((
                    WardError::new(ErrorKind::BackendUnavailable, message),
                    tier.name.clone(),
                    fallbacks,
                ));
            };
            let Some(next) = tier
                .promote_to
                .filter(|_| promotions < self.policy.tiers.len())
            else {
                return Ok(started.into_dispatch(
                    &tier.name,
                    phi,
                    complexity,
                    fallbacks,
                    upstream_started,
                ));
            };
            let buffered = started.buffer().await;
            let promote = match &buffered {
                Err(_) => true,
                Ok(answer) => tier.promote_on.iter().any(|check| match check {
                    PromoteOn::Empty => answer.text.trim().is_empty(),
                    PromoteOn::Truncated => answer.summary.finish_reason == FinishReason::Length,
                    PromoteOn::InvalidJson => {
                        serde_json::from_str::<serde_json::Value>(&answer.text).is_err()
                    }
                }),
            };
            if !promote {
                let started = buffered.expect("checked above").into_started();
                return Ok(started.into_dispatch(
                    &tier.name,
                    phi,
                    complexity,
                    fallbacks,
                    upstream_started,
                ));
            }
            tracing::info!(from = %tier.name, to = %self.policy.tiers[next].name, "promoting the request");
            fallbacks.push(format!("tier:{}", tier.name));
            promotions += 1;
            tier_index = next;
        }
    }

    /// Sends the request to one backend, within policy, and waits for its first event.
    async fn try_backend(
        &self,
        backend_index: usize,
        model: &str,
        screened: &Screened,
        deidentify: bool,
        request_key: u64,
    ) -> Result<Started, WardError> {
        let backend = &self.policy.backends[backend_index];
        if !backend.is_ready() {
            return Err(WardError::new(
                ErrorKind::BackendUnavailable,
                format!("backend '{}' is not ready", backend.backend_id()),
            ));
        }
        let mut restorer = None;
        let stream = match backend {
            RoutedBackend::Local(local) => {
                let mut request = screened.request().clone();
                request.model = model.to_owned();
                local.generate(request).await?
            }
            RoutedBackend::Cloud(cloud) => {
                let cleared = match screened {
                    Screened::Clear(cleared) => cleared.clone(),
                    Screened::Phi(phi) if deidentify => {
                        let deidentified =
                            self.gate.deidentify(phi, request_key).ok_or_else(|| {
                                WardError::new(
                                    ErrorKind::PolicyViolation,
                                    "the request could not be scanned, so it may not leave the network",
                                )
                            })?;
                        restorer = Some(deidentified.pseudonymiser.restorer());
                        deidentified.request
                    }
                    Screened::Phi(_) => {
                        // Policy validation keeps cloud backends out of PHI chains; this is the
                        // second lock on the same door.
                        return Err(WardError::new(
                            ErrorKind::PolicyViolation,
                            format!(
                                "backend '{}' is cloud and the request holds PHI",
                                backend.backend_id()
                            ),
                        ));
                    }
                };
                cloud.generate(cleared.for_model(model)).await?
            }
        };
        let stream = match restorer {
            Some(restorer) => restore_stream(stream, restorer),
            None => stream,
        };
        Started::first_event(stream, backend.backend_id(), model).await
    }
}

/// The default tiers for `backends` (see [`Router::with_default_tiers`]).
pub fn default_tiers(backends: &[RoutedBackend]) -> (Vec<TierSettings>, RoutingSettings) {
    let names = |locality: crate::Locality| -> Vec<String> {
        backends
            .iter()
            .filter(|backend| backend.locality() == locality)
            .map(|backend| backend.backend_id().to_owned())
            .collect()
    };
    let local = names(crate::Locality::Local);
    let cloud = names(crate::Locality::Cloud);
    let mut tiers = vec![TierSettings {
        backends: local.clone(),
        ..TierSettings::new("local", &[])
    }];
    let mut routing = RoutingSettings::all_to("local");
    if !cloud.is_empty() {
        tiers.push(TierSettings {
            backends: cloud.into_iter().chain(local).collect(),
            ..TierSettings::new("cloud", &[])
        });
        routing.complex = "cloud".to_owned();
    }
    (tiers, routing)
}

/// A backend that has produced its first event.
struct Started {
    backend_id: String,
    model: String,
    stream: GenerationStream,
}

impl Started {
    async fn first_event(
        mut stream: GenerationStream,
        backend_id: &str,
        model: &str,
    ) -> Result<Started, WardError> {
        let first = match stream.next().await {
            Some(Ok(event)) => event,
            Some(Err(error)) => return Err(error),
            None => {
                return Err(WardError::new(
                    ErrorKind::BackendUnavailable,
                    format!("backend '{backend_id}' ended the stream without an answer"),
                ))
            }
        };
        Ok(Started {
            backend_id: backend_id.to_owned(),
            model: model.to_owned(),
            stream: Box::pin(futures::stream::once(async { Ok(first) }).chain(stream)),
        })
    }

    fn into_dispatch(
        self,
        tier: &str,
        phi: PhiSummary,
        complexity: Option<Assessment>,
        fallbacks: Vec<String>,
        upstream_started: std::time::Instant,
    ) -> Dispatch {
        Dispatch {
            tier: tier.to_owned(),
            backend_id: self.backend_id,
            model: self.model,
            phi,
            complexity,
            fallbacks,
            stream: self.stream,
            upstream_started,
        }
    }

    /// Reads the whole answer, for the promotion checks.
    async fn buffer(mut self) -> Result<Buffered, WardError> {
        let mut text = String::new();
        while let Some(event) = self.stream.next().await {
            match event? {
                GenerationEvent::Delta(piece) => text.push_str(&piece),
                GenerationEvent::Done(summary) => {
                    return Ok(Buffered {
                        backend_id: self.backend_id,
                        model: self.model,
                        text,
                        summary,
                    })
                }
            }
        }
        Err(WardError::new(
            ErrorKind::BackendUnavailable,
            "the backend ended the generation without finishing it",
        ))
    }
}

struct Buffered {
    backend_id: String,
    model: String,
    text: String,
    summary: ward_core::GenerationSummary,
}

impl Buffered {
    fn into_started(self) -> Started {
        let events = [
            Ok(GenerationEvent::Delta(self.text)),
            Ok(GenerationEvent::Done(self.summary)),
        ];
        Started {
            backend_id: self.backend_id,
            model: self.model,
            stream: Box::pin(futures::stream::iter(events)),
        }
    }
}

/// Puts original values back into a de-identified answer as it streams.
fn restore_stream(mut stream: GenerationStream, mut restorer: Restorer) -> GenerationStream {
    Box::pin(async_stream::stream! {
        while let Some(event) = stream.next().await {
            match event {
                Ok(GenerationEvent::Delta(piece)) => {
                    let ready = restorer.push(&piece);
                    if !ready.is_empty() {
                        yield Ok(GenerationEvent::Delta(ready));
                    }
                }
                Ok(GenerationEvent::Done(summary)) => {
                    let rest = restorer.finish();
                    if !rest.is_empty() {
                        yield Ok(GenerationEvent::Delta(rest));
                    }
                    yield Ok(GenerationEvent::Done(summary));
                    break;
                }
                Err(error) => {
                    yield Err(error);
                    break;
                }
            }
        }
    })
}
