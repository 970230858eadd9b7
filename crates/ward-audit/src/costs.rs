//! What model calls cost, per tier, read from their audit records; and what the same calls would
//! have cost at a reference cloud model's prices. Backends priced per token cost what their
//! records say (`cost_usd`); owned hardware costs its monthly figure over the period, shared
//! among the tiers in proportion to the calls it answered for each. `CostTally` is pure: it is
//! handed records one at a time; `Store::cost_report` reads a period's records into one
//! (`ward report costs`, the console).

use std::collections::BTreeMap;

use serde::Serialize;
use ward_core::{TokenPrice, WardError};

use crate::record::{rfc3339_micros, AuditEvent, Outcome};
use crate::store::Store;

/// The mean length of a month (365.2425 / 12 days): monthly costs are amortised by it.
pub const DAYS_PER_MONTH: f64 = 30.436_875;

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// How far back a report reaches when no start is given.
pub const DEFAULT_DAYS: i64 = 30;

/// The period a report covers, `[since, until)`: `until` defaults to `now` and is capped there
/// (owned hardware has not cost the future yet), `since` defaults to `DEFAULT_DAYS` before it.
/// `None` when it would be empty.
pub fn report_period(
    since_us: Option<i64>,
    until_us: Option<i64>,
    now_us: i64,
) -> Option<(i64, i64)> {
    let until = until_us.map_or(now_us, |until| until.min(now_us));
    let since = since_us.unwrap_or(until - DEFAULT_DAYS * 86_400_000_000);
    (since < until).then_some((since, until))
}

/// How a backend is paid for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BackendCost {
    /// Charged per token (a cloud API); each record carries its own `cost_usd`.
    PerToken(TokenPrice),
    /// Owned or rented hardware: a fixed sum per month, whatever it serves.
    Monthly { usd: f64 },
}

/// A configured backend as the cost report sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedBackend {
    pub name: String,
    pub cloud: bool,
    pub cost: Option<BackendCost>,
}

/// The cloud model every call is priced at for the counterfactual.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// What the report calls it (a backend or model name).
    pub name: String,
    pub input_usd_per_million: f64,
    pub output_usd_per_million: f64,
}

impl Reference {
    fn cost_usd(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        (prompt_tokens as f64 * self.input_usd_per_million
            + completion_tokens as f64 * self.output_usd_per_million)
            / 1_000_000.0
    }
}

/// Every backend's price and the reference, from the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostModel {
    pub backends: Vec<PricedBackend>,
    pub reference: Option<Reference>,
}

impl CostModel {
    fn backend(&self, name: &str) -> Option<&PricedBackend> {
        self.backends.iter().find(|backend| backend.name == name)
    }

    /// The first cloud backend priced per token: the default reference.
    pub fn first_priced_cloud(&self) -> Option<Reference> {
        self.backends.iter().find_map(|backend| match backend.cost {
            Some(BackendCost::PerToken(price)) if backend.cloud => Some(Reference {
                name: backend.name.clone(),
                input_usd_per_million: price.input_per_mtok,
                output_usd_per_million: price.output_per_mtok,
            }),
            _ => None,
        })
    }
}

/// One tier's figures (or the total's, with tier `total`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TierCosts {
    pub tier: String,
    /// `local`, `cloud`, `mixed` or `unknown` (a backend no longer configured).
    pub locality: String,
    /// Calls a backend answered (outcome `ok`).
    pub queries: u64,
    /// This tier's part of all answered calls, 0 to 1.
    pub share: f64,
    /// Tokens of every call in the tier (an abandoned or failed call may still be charged).
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Total latency of answered calls, nearest rank.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// What per-token backends charged: the sum of the records' `cost_usd`.
    pub token_cost_usd: f64,
    /// Owned hardware's monthly cost over the period, by this tier's share of its calls.
    pub fixed_cost_usd: f64,
    pub cost_usd: f64,
    /// The tier's tokens at the reference's prices.
    pub counterfactual_usd: Option<f64>,
}

/// When owned local hardware pays for itself against the reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakEven {
    /// The monthly cost of local backends with a fixed cost.
    pub monthly_fixed_usd: f64,
    /// What one call answered by a local backend would have cost at the reference, on average.
    pub reference_usd_per_local_query: f64,
    /// Local calls a day at which the hardware costs what the reference would have charged.
    pub queries_per_day: f64,
    /// Local calls a day in the period.
    pub local_queries_per_day: f64,
}

/// The whole report for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub since: String,
    pub until: String,
    pub days: f64,
    pub reference: Option<Reference>,
    pub tiers: Vec<TierCosts>,
    pub total: TierCosts,
    /// Fixed costs of backends that answered nothing in the period (in the total, in no tier).
    pub idle_fixed_usd: f64,
    pub idle_backends: Vec<String>,
    /// Answered calls served by local backends, 0 to 1.
    pub local_share: f64,
    /// Counterfactual minus actual cost.
    pub saving_usd: Option<f64>,
    /// The saving as a part of the counterfactual, 0 to 1.
    pub saving_share: Option<f64>,
    pub break_even: Option<BreakEven>,
}

#[derive(Default)]
struct TierTally {
    prompt_tokens: u64,
    completion_tokens: u64,
    token_cost_usd: f64,
    latencies: Vec<f64>,
    /// Answered calls per backend.
    answered: BTreeMap<String, u64>,
}

/// Adds records up; `finish` makes the report.
pub struct CostTally<'a> {
    model: &'a CostModel,
    since_us: i64,
    until_us: i64,
    tiers: BTreeMap<String, TierTally>,
    /// Calls answered by local backends, and what they would have cost at the reference.
    local_answered: u64,
    local_reference_usd: f64,
}

impl<'a> CostTally<'a> {
    /// A tally for calls in `[since_us, until_us)`; the caller reads only those.
    pub fn new(model: &'a CostModel, since_us: i64, until_us: i64) -> Self {
        CostTally {
            model,
            since_us,
            until_us,
            tiers: BTreeMap::new(),
            local_answered: 0,
            local_reference_usd: 0.0,
        }
    }

    /// Counts one record. CLI actions and calls refused before routing (no tier) cost nothing.
    pub fn add(&mut self, event: &AuditEvent) {
        let Some(tier) = &event.tier else { return };
        if event.outcome == Outcome::Action {
            return;
        }
        let tally = self.tiers.entry(tier.clone()).or_default();
        tally.prompt_tokens += u64::from(event.prompt_tokens.unwrap_or(0));
        tally.completion_tokens += u64::from(event.completion_tokens.unwrap_or(0));
        tally.token_cost_usd += event.cost_usd.unwrap_or(0.0);
        if event.outcome == Outcome::Ok {
            tally.latencies.push(event.latency.total_ms);
            let backend = event.backend.clone().unwrap_or_default();
            if self
                .model
                .backend(&backend)
                .is_some_and(|priced| !priced.cloud)
            {
                self.local_answered += 1;
                if let Some(reference) = &self.model.reference {
                    self.local_reference_usd += reference.cost_usd(
                        u64::from(event.prompt_tokens.unwrap_or(0)),
                        u64::from(event.completion_tokens.unwrap_or(0)),
                    );
                }
            }
            *tally.answered.entry(backend).or_default() += 1;
        }
    }

    pub fn finish(self) -> CostReport {
        let model = self.model;
        let days = (self.until_us - self.since_us).max(0) as f64 / MICROS_PER_DAY;
        let months = days / DAYS_PER_MONTH;
        let reference = model.reference.clone();

        // Answered calls per backend over every tier, to share out fixed costs.
        let mut per_backend: BTreeMap<&str, u64> = BTreeMap::new();
        for tally in self.tiers.values() {
            for (backend, calls) in &tally.answered {
                *per_backend.entry(backend).or_default() += calls;
            }
        }
        let amortised = |name: &str| match model.backend(name).and_then(|backend| backend.cost) {
            Some(BackendCost::Monthly { usd }) => usd * months,
            _ => 0.0,
        };
        let all_answered: u64 = per_backend.values().sum();
        let share_of = |part: u64| {
            if all_answered == 0 {
                0.0
            } else {
                part as f64 / all_answered as f64
            }
        };

        let mut tiers = Vec::new();
        for (name, tally) in &self.tiers {
            let queries: u64 = tally.answered.values().sum();
            let mut fixed = 0.0;
            let mut localities = Vec::new();
            for (backend, calls) in &tally.answered {
                fixed += amortised(backend) * *calls as f64 / per_backend[backend.as_str()] as f64;
                let locality = match model.backend(backend) {
                    Some(priced) if priced.cloud => "cloud",
                    Some(_) => "local",
                    None => "unknown",
                };
                if !localities.contains(&locality) {
                    localities.push(locality);
                }
            }
            let counterfactual = reference
                .as_ref()
                .map(|reference| reference.cost_usd(tally.prompt_tokens, tally.completion_tokens));
            let mut latencies = tally.latencies.clone();
            latencies.sort_by(f64::total_cmp);
            tiers.push(TierCosts {
                tier: name.clone(),
                locality: match localities.as_slice() {
                    [] => "unknown".into(),
                    [one] => (*one).into(),
                    _ => "mixed".into(),
                },
                queries,
                share: share_of(queries),
                prompt_tokens: tally.prompt_tokens,
                completion_tokens: tally.completion_tokens,
                p50_ms: nearest_rank(&latencies, 0.50),
                p95_ms: nearest_rank(&latencies, 0.95),
                token_cost_usd: tally.token_cost_usd,
                fixed_cost_usd: fixed,
                cost_usd: tally.token_cost_usd + fixed,
                counterfactual_usd: counterfactual,
            });
        }

        let idle_backends: Vec<String> = model
            .backends
            .iter()
            .filter(|backend| {
                matches!(backend.cost, Some(BackendCost::Monthly { .. }))
                    && !per_backend.contains_key(backend.name.as_str())
            })
            .map(|backend| backend.name.clone())
            .collect();
        let idle_fixed_usd: f64 = idle_backends.iter().map(|name| amortised(name)).sum();

        let mut latencies: Vec<f64> = self
            .tiers
            .values()
            .flat_map(|tally| tally.latencies.iter().copied())
            .collect();
        latencies.sort_by(f64::total_cmp);
        let sum = |field: fn(&TierCosts) -> f64| tiers.iter().map(field).sum::<f64>();
        let token_cost_usd = sum(|tier| tier.token_cost_usd);
        let fixed_cost_usd = sum(|tier| tier.fixed_cost_usd) + idle_fixed_usd;
        let total = TierCosts {
            tier: "total".into(),
            locality: String::new(),
            queries: all_answered,
            share: if all_answered == 0 { 0.0 } else { 1.0 },
            prompt_tokens: tiers.iter().map(|tier| tier.prompt_tokens).sum(),
            completion_tokens: tiers.iter().map(|tier| tier.completion_tokens).sum(),
            p50_ms: nearest_rank(&latencies, 0.50),
            p95_ms: nearest_rank(&latencies, 0.95),
            token_cost_usd,
            fixed_cost_usd,
            cost_usd: token_cost_usd + fixed_cost_usd,
            counterfactual_usd: reference
                .as_ref()
                .map(|_| sum(|tier| tier.counterfactual_usd.unwrap_or(0.0))),
        };

        let saving_usd = total
            .counterfactual_usd
            .map(|counterfactual| counterfactual - total.cost_usd);
        let saving_share = total
            .counterfactual_usd
            .zip(saving_usd)
            .filter(|(counterfactual, _)| *counterfactual > 0.0)
            .map(|(counterfactual, saving)| saving / counterfactual);
        let monthly_fixed_usd: f64 = model
            .backends
            .iter()
            .filter(|backend| !backend.cloud)
            .filter_map(|backend| match backend.cost {
                Some(BackendCost::Monthly { usd }) => Some(usd),
                _ => None,
            })
            .sum();
        let (local_answered, local_reference_usd) = (self.local_answered, self.local_reference_usd);
        let break_even = (reference.is_some()
            && monthly_fixed_usd > 0.0
            && local_answered > 0
            && local_reference_usd > 0.0
            && days > 0.0)
            .then(|| {
                let per_query = local_reference_usd / local_answered as f64;
                BreakEven {
                    monthly_fixed_usd,
                    reference_usd_per_local_query: per_query,
                    queries_per_day: monthly_fixed_usd / DAYS_PER_MONTH / per_query,
                    local_queries_per_day: local_answered as f64 / days,
                }
            });
        CostReport {
            since: rfc3339_micros(self.since_us),
            until: rfc3339_micros(self.until_us),
            days,
            reference,
            tiers,
            total,
            idle_fixed_usd,
            idle_backends,
            local_share: share_of(local_answered),
            saving_usd,
            saving_share,
            break_even,
        }
    }
}

impl Store {
    /// The cost report over the records of `[since_us, until_us)`.
    pub fn cost_report(
        &mut self,
        model: &CostModel,
        since_us: i64,
        until_us: i64,
    ) -> Result<CostReport, WardError> {
        let mut tally = CostTally::new(model, since_us, until_us);
        self.each_record(Some(since_us), Some(until_us), |record| {
            tally.add(&record.event()?);
            Ok::<(), WardError>(())
        })?;
        Ok(tally.finish())
    }
}

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], quantile: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Latency;

    const DAY: i64 = 86_400_000_000;

    fn call(
        tier: &str,
        backend: &str,
        tokens: (u32, u32),
        cost: Option<f64>,
        ms: f64,
    ) -> AuditEvent {
        AuditEvent {
            tier: Some(tier.into()),
            backend: Some(backend.into()),
            prompt_tokens: Some(tokens.0),
            completion_tokens: Some(tokens.1),
            cost_usd: cost,
            latency: Latency {
                total_ms: ms,
                ..Latency::default()
            },
            status: 200,
            ..AuditEvent::default()
        }
    }

    fn model() -> CostModel {
        CostModel {
            backends: vec![
                PricedBackend {
                    name: "gpu".into(),
                    cloud: false,
                    cost: Some(BackendCost::Monthly { usd: 608.7375 }),
                },
                PricedBackend {
                    name: "spare".into(),
                    cloud: false,
                    cost: Some(BackendCost::Monthly { usd: 304.36875 }),
                },
                PricedBackend {
                    name: "frontier".into(),
                    cloud: true,
                    cost: Some(BackendCost::PerToken(TokenPrice {
                        input_per_mtok: 3.0,
                        output_per_mtok: 15.0,
                    })),
                },
            ],
            reference: None,
        }
    }

    #[test]
    fn tiers_add_up_with_fixed_costs_shared_by_calls() {
        let mut model = model();
        model.reference = model.first_priced_cloud();
        assert_eq!(model.reference.as_ref().unwrap().name, "frontier");
        // Three days: the GPU costs 608.7375 * 3 / 30.436875 = 60 over the period.
        let mut tally = CostTally::new(&model, 0, 3 * DAY);
        for ms in [100.0, 200.0, 300.0] {
            tally.add(&call("phi", "gpu", (1000, 100), None, ms));
        }
        tally.add(&call("simple", "gpu", (1000, 100), None, 50.0));
        // A cloud call at 3/15 per million: 0.003 + 0.0015.
        tally.add(&call(
            "complex",
            "frontier",
            (1000, 100),
            Some(0.0045),
            900.0,
        ));
        // Refused before routing, a CLI action, a failed call: no queries; the failure's tokens count.
        tally.add(&AuditEvent::default());
        tally.add(&AuditEvent {
            outcome: Outcome::Action,
            ..call("phi", "gpu", (5, 5), None, 1.0)
        });
        tally.add(&AuditEvent {
            outcome: Outcome::Failed,
            ..call("complex", "frontier", (10, 0), Some(0.00003), 5.0)
        });
        let report = tally.finish();

        assert_eq!(report.days, 3.0);
        let tier = |name: &str| report.tiers.iter().find(|tier| tier.tier == name).unwrap();
        let phi = tier("phi");
        assert_eq!((phi.queries, phi.locality.as_str()), (3, "local"));
        assert_eq!((phi.p50_ms, phi.p95_ms), (Some(200.0), Some(300.0)));
        assert!((phi.share - 0.6).abs() < 1e-12);
        assert!((phi.fixed_cost_usd - 45.0).abs() < 1e-9, "{phi:?}");
        assert!((tier("simple").fixed_cost_usd - 15.0).abs() < 1e-9);
        let complex = tier("complex");
        assert_eq!((complex.queries, complex.prompt_tokens), (1, 1010));
        assert!((complex.cost_usd - 0.00453).abs() < 1e-12);
        // The spare server served nothing: its 30 is in the total alone.
        assert_eq!(report.idle_backends, ["spare"]);
        assert!((report.idle_fixed_usd - 30.0).abs() < 1e-9);
        assert!((report.total.cost_usd - (90.0 + 0.00453)).abs() < 1e-9);
        assert_eq!(report.total.queries, 5);
        assert_eq!(report.total.p95_ms, Some(900.0));
        assert!((report.local_share - 0.8).abs() < 1e-12);

        // Every call at the reference: 4 local calls of 0.0045, the complex tier's 0.00453.
        let counterfactual = report.total.counterfactual_usd.unwrap();
        assert!((counterfactual - (4.0 * 0.0045 + 0.00453)).abs() < 1e-12);
        assert!(
            (report.saving_usd.unwrap() - (counterfactual - report.total.cost_usd)).abs() < 1e-12
        );
        // The two local servers cost 913.10625 a month, 30 a day; a local call saves 0.0045.
        let even = report.break_even.unwrap();
        assert!((even.monthly_fixed_usd - 913.10625).abs() < 1e-9);
        assert!(
            (even.queries_per_day - 30.0 / 0.0045).abs() < 1e-6,
            "{even:?}"
        );
        assert!((even.local_queries_per_day - 4.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn without_a_reference_or_records_the_report_is_still_whole() {
        let report = CostTally::new(&model(), 0, DAY).finish();
        assert!(report.tiers.is_empty());
        assert_eq!(report.total.queries, 0);
        assert_eq!(report.total.counterfactual_usd, None);
        assert_eq!((report.saving_usd, report.break_even), (None, None));
        // Both owned servers are idle for the day: 20 + 10.
        assert!((report.total.cost_usd - 30.0).abs() < 1e-9);
        assert_eq!(nearest_rank(&[], 0.5), None);
        assert_eq!(nearest_rank(&[1.0, 2.0], 0.5), Some(1.0));
    }

    #[test]
    fn a_period_defaults_to_thirty_days_and_ends_no_later_than_now() {
        assert_eq!(report_period(None, None, 31 * DAY), Some((DAY, 31 * DAY)));
        assert_eq!(
            report_period(Some(DAY), Some(40 * DAY), 31 * DAY),
            Some((DAY, 31 * DAY))
        );
        assert_eq!(report_period(Some(32 * DAY), None, 31 * DAY), None);
    }

    #[test]
    fn a_tier_on_a_backend_no_longer_configured_is_unknown() {
        let model = model();
        let mut tally = CostTally::new(&model, 0, DAY);
        tally.add(&call("old", "retired", (1, 1), None, 1.0));
        tally.add(&call("mixed", "gpu", (1, 1), None, 1.0));
        tally.add(&call("mixed", "frontier", (1, 1), Some(0.0), 1.0));
        let report = tally.finish();
        assert_eq!(report.tiers[0].tier, "mixed");
        assert_eq!(report.tiers[0].locality, "mixed");
        assert_eq!(report.tiers[1].locality, "unknown");
        assert!((report.local_share - 1.0 / 3.0).abs() < 1e-12);
    }
}
