//! `GET /metrics`: Prometheus metrics in the OpenMetrics text format. Every model call is
//! counted once, from its audit record when it is committed (so the figures agree with the
//! audit log), plus the audit write itself, the in-flight calls per backend, and, at scrape
//! time, each backend's readiness. Labels take only values from the configuration and fixed
//! vocabularies (routes, tiers, backends, served models, status codes, PHI categories, error
//! codes): never ids or text. The families are documented in `docs/metrics.md`.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use ward_audit::{AuditEvent, Outcome};
use ward_core::GenerationSummary;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    endpoint: String,
    tier: String,
    backend: String,
    model: String,
    status: String,
    phi: String,
}

/// What `observe_call` leaves for `observe_latency`: the call's route, when it started and how
/// long its upstream took.
#[derive(Debug)]
pub struct CallLatency {
    route: RouteLabels,
    started: Instant,
    upstream_ms: Option<f64>,
}

/// Where a call's total latency and overhead wait for its answer to be handed to the connection
/// (the `arrival::stamp` middleware ends it when the response body ends or is dropped), so that
/// they count building and sending the answer, as the client's clock does.
#[derive(Clone, Default)]
pub struct AnswerClock(Arc<Mutex<AnswerState>>);

#[derive(Default)]
enum AnswerState {
    #[default]
    Open,
    Waiting(Arc<Metrics>, CallLatency),
    Ended,
}

impl std::fmt::Debug for AnswerClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnswerClock")
    }
}

impl AnswerClock {
    fn state(&self) -> std::sync::MutexGuard<'_, AnswerState> {
        crate::auth::lock(&self.0)
    }

    /// Observes `call` when the answer ends, or now if it already has.
    pub fn observe_at_end(&self, metrics: Arc<Metrics>, call: CallLatency) {
        let mut state = self.state();
        match *state {
            AnswerState::Open => *state = AnswerState::Waiting(metrics, call),
            _ => {
                drop(state);
                metrics.observe_latency(call, Instant::now());
            }
        }
    }

    /// The answer was handed over (or given up): a call waiting for it is observed now.
    pub fn end(&self) {
        let ended = Instant::now();
        let state = std::mem::replace(&mut *self.state(), AnswerState::Ended);
        if let AnswerState::Waiting(metrics, call) = state {
            metrics.observe_latency(call, ended);
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    endpoint: String,
    tier: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    tier: String,
    backend: String,
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabels {
    category: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabels {
    tier: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendStateLabels {
    backend: String,
    locality: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds, from 1 ms to about 9 minutes.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// Ward's own share of a call: from 10 µs to about 0.16 s.
fn overhead_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.000_01, 2.0, 15))
}

/// Tokens per second, from 1 to about 4,000.
fn rates() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

/// Every metric Ward exports, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    requests: Family<CallLabels, Counter>,
    duration: Histograms<RouteLabels>,
    first_token: Histograms<BackendLabels>,
    inter_token: Histograms<BackendLabels>,
    upstream: Histograms<BackendLabels>,
    overhead: Histograms<RouteLabels>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<TierLabels, Counter<f64, AtomicU64>>,
    phi_findings: Family<CategoryLabels, Counter>,
    refusals: Family<ReasonLabels, Counter>,
    fallbacks: Family<BackendLabels, Counter>,
    promotions: Family<TierLabels, Counter>,
    in_flight: Family<BackendLabels, Gauge>,
    queue_wait: Histograms<BackendLabels>,
    generation_rate: Histograms<BackendLabels>,
    backend_ready: Family<BackendStateLabels, Gauge>,
    audit_write: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn histograms<L: Clone + std::hash::Hash + Eq>(constructor: fn() -> Histogram) -> Histograms<L> {
    Family::new_with_constructor(constructor)
}

fn text(value: Option<&String>) -> String {
    value.cloned().unwrap_or_default()
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("ward");
        let metrics = Metrics {
            requests: Family::default(),
            duration: histograms(seconds),
            first_token: histograms(seconds),
            inter_token: histograms(seconds),
            upstream: histograms(seconds),
            overhead: histograms(overhead_seconds),
            tokens: Family::default(),
            cost: Family::default(),
            phi_findings: Family::default(),
            refusals: Family::default(),
            fallbacks: Family::default(),
            promotions: Family::default(),
            in_flight: Family::default(),
            queue_wait: histograms(seconds),
            generation_rate: histograms(rates),
            backend_ready: Family::default(),
            audit_write: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            registry: Registry::default(),
        };
        registry.register(
            "requests",
            "Model calls, by route, tier, backend, served model, HTTP status and whether PHI was found",
            metrics.requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Total time of a model call, as the client saw it",
            metrics.duration.clone(),
        );
        registry.register(
            "time_to_first_token_seconds",
            "From the request to the first token",
            metrics.first_token.clone(),
        );
        registry.register(
            "inter_token_seconds",
            "Mean time between tokens of one answer",
            metrics.inter_token.clone(),
        );
        registry.register(
            "upstream_duration_seconds",
            "From dispatch to the backend's last event",
            metrics.upstream.clone(),
        );
        registry.register(
            "overhead_seconds",
            "Ward's own share of a call: total minus upstream",
            metrics.overhead.clone(),
        );
        registry.register(
            "tokens",
            "Tokens by kind (prompt, completion)",
            metrics.tokens.clone(),
        );
        registry.register(
            "cost_usd",
            "What calls to backends with token prices cost, in US dollars",
            metrics.cost.clone(),
        );
        registry.register(
            "phi_findings",
            "PHI findings in requests, by category",
            metrics.phi_findings.clone(),
        );
        registry.register(
            "refusals",
            "Calls refused or failed, by error code",
            metrics.refusals.clone(),
        );
        registry.register(
            "fallbacks",
            "Backends that failed before another one answered",
            metrics.fallbacks.clone(),
        );
        registry.register(
            "promotions",
            "Answers re-run on the next tier, by the tier promoted from",
            metrics.promotions.clone(),
        );
        registry.register(
            "in_flight_requests",
            "Model calls in progress, by backend",
            metrics.in_flight.clone(),
        );
        registry.register(
            "queue_wait_seconds",
            "Time a call waited for its backend (queue and loading)",
            metrics.queue_wait.clone(),
        );
        registry.register(
            "generation_tokens_per_second",
            "Completion tokens per second of generation, per answer",
            metrics.generation_rate.clone(),
        );
        registry.register(
            "backend_ready",
            "1 when the backend takes requests (health checks and circuit breakers agree), else 0",
            metrics.backend_ready.clone(),
        );
        registry.register(
            "audit_write_seconds",
            "Time to commit one audit record",
            metrics.audit_write.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// A call is under way on `backend`.
    pub fn call_started(&self, backend: &str) {
        self.in_flight
            .get_or_create(&BackendLabels {
                backend: backend.to_owned(),
            })
            .inc();
    }

    /// The call under way on `backend` has ended.
    pub fn call_ended(&self, backend: &str) {
        self.in_flight
            .get_or_create(&BackendLabels {
                backend: backend.to_owned(),
            })
            .dec();
    }

    /// Calls under way on `backend` now.
    pub fn in_flight_of(&self, backend: &str) -> i64 {
        self.in_flight
            .get_or_create(&BackendLabels {
                backend: backend.to_owned(),
            })
            .get()
    }

    /// Counts one finished call, started at `started`, from its audit record; `summary` when it
    /// was answered.
    ///
    /// Its total latency and Ward's overhead are left to `observe_latency`, once the answer is
    /// sent: the client waits for the record's commit and the answer too.
    #[must_use = "pass it to observe_latency once the answer is sent"]
    pub fn observe_call(
        &self,
        event: &AuditEvent,
        summary: Option<&GenerationSummary>,
        started: Instant,
    ) -> CallLatency {
        let tier = text(event.tier.as_ref());
        let backend = text(event.backend.as_ref());
        self.requests
            .get_or_create(&CallLabels {
                endpoint: event.endpoint.clone(),
                tier: tier.clone(),
                backend: backend.clone(),
                model: text(event.served_model.as_ref()),
                status: event.status.to_string(),
                phi: if event.phi.is_empty() { "no" } else { "yes" }.to_owned(),
            })
            .inc();
        let route = RouteLabels {
            endpoint: event.endpoint.clone(),
            tier: tier.clone(),
        };
        let by_backend = BackendLabels {
            backend: backend.clone(),
        };
        let latency = &event.latency;
        if let Some(upstream) = latency.upstream_ms {
            self.upstream
                .get_or_create(&by_backend)
                .observe(upstream / 1000.0);
        }
        if let (Some(first), Outcome::Ok) = (latency.first_token_ms, event.outcome) {
            self.first_token
                .get_or_create(&by_backend)
                .observe(first / 1000.0);
        }
        for (kind, count) in [
            ("prompt", event.prompt_tokens),
            ("completion", event.completion_tokens),
        ] {
            if let Some(count) = count {
                self.tokens
                    .get_or_create(&TokenLabels {
                        tier: tier.clone(),
                        backend: backend.clone(),
                        kind: kind.to_owned(),
                    })
                    .inc_by(u64::from(count));
            }
        }
        if let Some(cost) = event.cost_usd {
            self.cost
                .get_or_create(&TierLabels { tier: tier.clone() })
                .inc_by(cost);
        }
        for (category, count) in &event.phi {
            self.phi_findings
                .get_or_create(&CategoryLabels {
                    category: category.clone(),
                })
                .inc_by(u64::from(*count));
        }
        if let Some(reason) = &event.error {
            self.refusals
                .get_or_create(&ReasonLabels {
                    reason: reason.clone(),
                })
                .inc();
        }
        for fallback in &event.fallbacks {
            match fallback.strip_prefix("tier:") {
                Some(tier) => self.promotions.get_or_create(&TierLabels {
                    tier: tier.to_owned(),
                }),
                None => self.fallbacks.get_or_create(&BackendLabels {
                    backend: fallback.clone(),
                }),
            }
            .inc();
        }
        if let Some(summary) = summary {
            self.queue_wait
                .get_or_create(&by_backend)
                .observe(summary.timings.queued.as_secs_f64());
            let generation = summary.timings.generation.as_secs_f64();
            let completion = summary.usage.completion_tokens;
            if generation > 0.0 && completion > 1 {
                self.generation_rate
                    .get_or_create(&by_backend)
                    .observe(f64::from(completion) / generation);
                self.inter_token
                    .get_or_create(&by_backend)
                    .observe(generation / f64::from(completion - 1));
            }
        }
        CallLatency {
            route,
            started,
            upstream_ms: latency.upstream_ms,
        }
    }

    /// A call's total latency, up to `ended`, and Ward's overhead: the total less the upstream.
    pub fn observe_latency(&self, call: CallLatency, ended: Instant) {
        let total = ended.saturating_duration_since(call.started).as_secs_f64();
        self.duration.get_or_create(&call.route).observe(total);
        if let Some(upstream) = call.upstream_ms {
            self.overhead
                .get_or_create(&call.route)
                .observe((total - upstream / 1000.0).max(0.0));
        }
    }

    /// One audit record took `elapsed` to commit.
    pub fn observe_audit_write(&self, elapsed: Duration) {
        self.audit_write.observe(elapsed.as_secs_f64());
    }

    /// The metrics as OpenMetrics text, with each backend's readiness as of now.
    pub fn encode(&self, router: &ward_router::Router) -> String {
        for backend in router.backends() {
            self.backend_ready
                .get_or_create(&BackendStateLabels {
                    backend: backend.backend_id().to_owned(),
                    locality: backend.locality().as_str().to_owned(),
                })
                .set(i64::from(backend.is_ready()));
        }
        self.exposition()
    }

    /// The metrics as OpenMetrics text, as they stand.
    pub(crate) fn exposition(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
