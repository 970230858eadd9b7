//! Remote backends: an engine reached over HTTP (OpenAI-compatible, Azure OpenAI, Ollama,
//! Anthropic), with replicas, timeouts (connect, first token, total), retries on another replica
//! before the first token within the retry budget, and active health checks.
//!
//! A remote backend becomes a `RoutedBackend` by its configured locality; a cloud one is wrapped
//! by `RoutedBackend::cloud` and so takes only `Cleared` requests.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Response, Version};
use ward_core::{
    Backend, ErrorKind, FinishReason, GenerationEvent, GenerationRequest, GenerationStream,
    GenerationSummary, ModelCard, Timings, Usage, WardError,
};

use crate::backend::RoutedBackend;
use crate::client::{http_client, ConnectionClock, HttpClient};
use crate::config::{Locality, RemoteSettings, RemoteWire};
use crate::replicas::{Lease, ReplicaSet};
use crate::wire::{self, Decoded, LineSplitter};

/// An HTTP engine with its replicas.
pub struct RemoteBackend {
    settings: RemoteSettings,
    client: HttpClient,
    replicas: ReplicaSet,
    cards: Vec<ModelCard>,
}

impl std::fmt::Debug for RemoteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteBackend")
            .field("name", &self.settings.name)
            .field("wire", &self.settings.wire.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds the backend for `settings`, typed by its locality. Active health checks start when a
/// Tokio runtime is running and stop when the backend is dropped.
pub fn remote_backend(settings: RemoteSettings) -> Result<RoutedBackend, WardError> {
    let locality = settings.locality;
    let remote = Arc::new(RemoteBackend::new(settings)?);
    if tokio::runtime::Handle::try_current().is_ok() {
        remote.start_health_checks();
    }
    Ok(match locality {
        Locality::Local => RoutedBackend::Local(remote),
        Locality::Cloud => RoutedBackend::cloud(remote),
    })
}

impl RemoteBackend {
    pub fn new(settings: RemoteSettings) -> Result<RemoteBackend, WardError> {
        if settings.urls.is_empty() {
            return Err(WardError::invalid_request(format!(
                "backend '{}' needs at least one url",
                settings.name
            )));
        }
        let client = http_client(settings.timeouts.connect)?;
        let mut card = ModelCard::named(settings.model.clone());
        card.aliases.push(settings.name.clone());
        Ok(RemoteBackend {
            replicas: ReplicaSet::new(&settings.urls, settings.health),
            client,
            cards: vec![card],
            settings,
        })
    }

    fn start_health_checks(self: &Arc<Self>) {
        let Some(interval) = self.replicas.check_interval() else {
            return;
        };
        if wire::health_url(&self.settings.wire, "").is_none() {
            return;
        }
        let weak: Weak<RemoteBackend> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(backend) = weak.upgrade() else {
                    return;
                };
                backend.check_health().await;
                drop(backend);
                tokio::time::sleep(interval).await;
            }
        });
    }

    /// One round of active health checks over every replica.
    pub async fn check_health(&self) {
        for index in 0..self.replicas.len() {
            let Some(url) = wire::health_url(&self.settings.wire, self.replicas.url(index)) else {
                return;
            };
            let healthy = match self.request(Method::GET, &url, Bytes::new()) {
                Ok(request) => {
                    let limit = self.settings.timeouts.connect.max(Duration::from_secs(1));
                    let check = tokio::time::timeout(limit, self.client.request(request)).await;
                    matches!(&check, Ok(Ok(response)) if response.status().is_success())
                }
                Err(_) => false,
            };
            if healthy != self.replicas.is_healthy(index) {
                tracing::warn!(backend_id = %self.settings.name, replica = index, healthy, "replica health changed");
            }
            self.replicas.set_healthy(index, healthy);
        }
    }

    /// A request to `url` with the backend's credentials and, for a POST, a JSON `body`.
    fn request(
        &self,
        method: Method,
        url: &str,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, WardError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| self.error(ErrorKind::BackendUnavailable, "its url is not a valid URL"))?;
        let post = method == Method::POST;
        let mut builder = Request::builder().method(method).uri(uri);
        if post {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        if matches!(self.settings.wire, RemoteWire::Anthropic) {
            builder = builder.header("anthropic-version", wire::ANTHROPIC_VERSION);
        }
        if let Some(key) = &self.settings.api_key {
            let (name, value) = match self.settings.wire {
                RemoteWire::OpenAi | RemoteWire::Ollama => {
                    (AUTHORIZATION.as_str(), format!("Bearer {}", key.expose()))
                }
                RemoteWire::AzureOpenAi { .. } => ("api-key", key.expose().to_owned()),
                RemoteWire::Anthropic => ("x-api-key", key.expose().to_owned()),
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                self.error(
                    ErrorKind::BackendUnavailable,
                    "its api key is not a valid header value",
                )
            })?;
            value.set_sensitive(true);
            builder = builder.header(name, value);
        }
        builder
            .body(Full::new(body))
            .map_err(|_| self.error(ErrorKind::BackendUnavailable, "cannot build its request"))
    }

    fn error(&self, kind: ErrorKind, what: &str) -> WardError {
        WardError::new(kind, format!("backend '{}': {what}", self.settings.name))
    }

    /// Sends `request`, trying other replicas while no token has arrived and the retry budget
    /// allows, and returns the stream once its first event is in hand.
    async fn send(&self, request: GenerationRequest) -> Result<GenerationStream, WardError> {
        self.replicas.deposit_retry_credit();
        let started = Instant::now();
        let mut tried = Vec::new();
        let mut last_error = self.error(ErrorKind::BackendUnavailable, "no replica is available");
        loop {
            if !tried.is_empty() && !self.replicas.withdraw_retry() {
                return Err(last_error);
            }
            let Some(lease) = self.replicas.acquire(&tried) else {
                return Err(last_error);
            };
            tried.push(lease.index);
            match self
                .attempt(&request, lease, started, tried.len() > 1)
                .await
            {
                Ok(stream) => return Ok(stream),
                Err(error) => {
                    tracing::warn!(
                        backend_id = %self.settings.name,
                        kind = error.kind.code(),
                        "replica failed before the first token"
                    );
                    // A request the upstream rejects as invalid fails the same way everywhere.
                    if error.kind == ErrorKind::InvalidRequest {
                        return Err(error);
                    }
                    last_error = error;
                }
            }
        }
    }

    async fn attempt(
        &self,
        request: &GenerationRequest,
        lease: Lease<'_>,
        started: Instant,
        retried: bool,
    ) -> Result<GenerationStream, WardError> {
        // Time on replicas that failed counts as the upstream's.
        let earlier = if retried {
            started.elapsed()
        } else {
            Duration::ZERO
        };
        let timeouts = self.settings.timeouts;
        let url = wire::generation_url(&self.settings.wire, lease.url(), &self.settings.model);
        let extensions = self.settings.locality == Locality::Local;
        let body = wire::request_body(
            &self.settings.wire,
            request,
            &self.settings.model,
            extensions,
        );
        let request = match self.request(Method::POST, &url, Bytes::from(body.to_string())) {
            Ok(request) => request,
            Err(error) => {
                lease.fail();
                return Err(error);
            }
        };
        let first_token_deadline = tokio::time::Instant::now() + timeouts.first_token;
        let sending = self.client.request(request);
        let response = match tokio::time::timeout_at(first_token_deadline, sending).await {
            Err(_) => {
                lease.fail();
                return Err(self.error(
                    ErrorKind::BackendTimeout,
                    "no response before the first-token timeout",
                ));
            }
            Ok(Err(error)) => {
                lease.fail();
                let what = if error.is_connect() {
                    "cannot connect"
                } else {
                    "the request failed"
                };
                return Err(self.error(ErrorKind::BackendUnavailable, what));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            // The upstream's error body is not read: it may quote the request. A replica that
            // answers 4xx is healthy; the request or the configuration is at fault.
            let (kind, what) = match status.as_u16() {
                400 | 413 | 422 => (ErrorKind::InvalidRequest, format!("upstream answered HTTP {status}")),
                401 | 403 => (ErrorKind::BackendUnavailable, format!("upstream refused the credentials (HTTP {status}); check the backend's api key")),
                404 => (ErrorKind::BackendUnavailable, format!("upstream has no such model or path (HTTP {status}); check the backend's model and url")),
                429 => (ErrorKind::Overloaded, format!("upstream answered HTTP {status}")),
                _ => (ErrorKind::BackendUnavailable, format!("upstream answered HTTP {status}")),
            };
            if status.is_client_error() {
                lease.succeed();
            } else {
                lease.fail();
            }
            return Err(self.error(kind, &what));
        }
        let mut events = self.events(response, started, earlier);
        let first = match tokio::time::timeout_at(first_token_deadline, events.next()).await {
            Err(_) => {
                lease.fail();
                return Err(self.error(
                    ErrorKind::BackendTimeout,
                    "no token before the first-token timeout",
                ));
            }
            Ok(None) => {
                lease.fail();
                return Err(self.error(
                    ErrorKind::BackendUnavailable,
                    "the stream ended before any token",
                ));
            }
            Ok(Some(Err(error))) => {
                lease.fail();
                return Err(error);
            }
            Ok(Some(Ok(first))) => first,
        };
        lease.succeed();
        let total_deadline =
            tokio::time::Instant::now() + timeouts.total.saturating_sub(started.elapsed());
        let timeout_error = self.error(
            ErrorKind::BackendTimeout,
            "the generation ran past the total timeout",
        );
        let rest = async_stream::stream! {
            loop {
                match tokio::time::timeout_at(total_deadline, events.next()).await {
                    Ok(Some(event)) => {
                        let last = !matches!(event, Ok(GenerationEvent::Delta(_)));
                        yield event;
                        if last {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        yield Err(timeout_error);
                        break;
                    }
                }
            }
        };
        Ok(Box::pin(
            futures::stream::once(async { Ok(first) }).chain(rest),
        ))
    }

    /// Decodes the response body into generation events, ending with exactly one `Done` or an
    /// error. `earlier`: the time spent on replicas that failed before this one.
    fn events(
        &self,
        response: Response<Incoming>,
        started: Instant,
        earlier: Duration,
    ) -> GenerationStream {
        let wire = self.settings.wire.clone();
        let interrupted = self.error(ErrorKind::BackendUnavailable, "the stream broke off");
        let upstream_error = self.error(
            ErrorKind::BackendUnavailable,
            "upstream reported an error mid-stream",
        );
        // One request at a time on an HTTP/1.1 connection: its clock times this exchange.
        let clock = response
            .extensions()
            .get::<ConnectionClock>()
            .filter(|_| response.version() <= Version::HTTP_11)
            .cloned();
        let mut body = response.into_body().into_data_stream();
        Box::pin(async_stream::stream! {
            let mut splitter = LineSplitter::default();
            let mut usage = Usage::default();
            let mut finish = None;
            let mut first_token_at = None;
            let mut ended = false;
            'read: loop {
                let (lines, at_end) = match body.next().await {
                    Some(Ok(bytes)) => (splitter.push(&bytes), false),
                    Some(Err(_)) => {
                        yield Err(interrupted.clone());
                        return;
                    }
                    None => (splitter.finish().into_iter().collect(), true),
                };
                for line in &lines {
                    for decoded in wire::decode_line(&wire, line) {
                        match decoded {
                            Decoded::Text(text) => {
                                first_token_at.get_or_insert_with(Instant::now);
                                yield Ok(GenerationEvent::Delta(text));
                            }
                            Decoded::Finish(reason) => finish = Some(reason),
                            Decoded::Usage(counted) => {
                                usage.prompt_tokens = usage.prompt_tokens.max(counted.prompt_tokens);
                                usage.completion_tokens = usage.completion_tokens.max(counted.completion_tokens);
                            }
                            Decoded::End => {
                                ended = true;
                                break 'read;
                            }
                            Decoded::Error => {
                                yield Err(upstream_error.clone());
                                return;
                            }
                        }
                    }
                }
                if at_end {
                    break;
                }
            }
            if !ended && finish.is_none() {
                yield Err(interrupted);
                return;
            }
            let first = first_token_at.unwrap_or_else(Instant::now);
            yield Ok(GenerationEvent::Done(GenerationSummary {
                finish_reason: finish.unwrap_or(FinishReason::Stop),
                usage,
                timings: Timings {
                    queued: Duration::ZERO,
                    prompt_eval: first.saturating_duration_since(started),
                    generation: first.elapsed(),
                    upstream: clock
                        .and_then(|clock| clock.0.last_exchange())
                        .map(|exchange| earlier + exchange),
                },
            }));
        })
    }
}

#[async_trait::async_trait]
impl Backend for RemoteBackend {
    fn backend_id(&self) -> &str {
        &self.settings.name
    }

    fn price(&self) -> Option<ward_core::TokenPrice> {
        self.settings.price
    }

    fn loaded_models(&self) -> &[ModelCard] {
        &self.cards
    }

    fn is_ready(&self) -> bool {
        self.replicas.any_available()
    }

    async fn generate(&self, request: GenerationRequest) -> Result<GenerationStream, WardError> {
        self.send(request).await
    }
}
