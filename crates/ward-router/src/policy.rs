//! The compiled routing policy: tiers as chains of backend indexes, the two-axis routing table
//! (PHI, complexity), and the start-up checks. The central one: no tier that a PHI request can
//! reach (the PHI tier and every tier it promotes to) may list a cloud backend, unless the tier
//! pseudonymises (`deidentify = true`).

use crate::backend::RoutedBackend;
use crate::complexity::Complexity;
use crate::config::{Locality, PhiOnCloudModel, PromoteOn, RoutingSettings, TierSettings};

/// A configuration the router refuses to run with; the message names the key to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

/// One tier, compiled.
#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    /// Indexes into the policy's backends, in fallback order.
    pub chain: Vec<usize>,
    pub deidentify: bool,
    pub promote_on: Vec<PromoteOn>,
    pub promote_to: Option<usize>,
}

/// Backends, tiers and the routing table, checked.
#[derive(Debug, Clone)]
pub struct Policy {
    pub backends: Vec<RoutedBackend>,
    pub tiers: Vec<Tier>,
    phi_tier: usize,
    by_complexity: [usize; 3],
    pub phi_on_cloud_model: PhiOnCloudModel,
}

impl Policy {
    pub fn new(
        backends: Vec<RoutedBackend>,
        tiers: &[TierSettings],
        routing: &RoutingSettings,
    ) -> Result<Policy, PolicyError> {
        let described: Vec<(&str, Locality)> = backends
            .iter()
            .map(|backend| (backend.backend_id(), backend.locality()))
            .collect();
        let compiled = compile(&described, tiers, routing)?;
        Ok(Policy {
            backends,
            ..compiled
        })
    }

    /// The tiers a PHI request can reach, in order: the PHI tier, then its promotions.
    pub fn phi_reachable(&self) -> Vec<usize> {
        let mut reached = vec![self.phi_tier];
        while let Some(next) = self.tiers[*reached.last().expect("non-empty")].promote_to {
            if reached.contains(&next) {
                break;
            }
            reached.push(next);
        }
        reached
    }

    fn check_phi_reachable(&self, backends: &[(&str, Locality)]) -> Result<(), PolicyError> {
        for tier_index in self.phi_reachable() {
            let tier = &self.tiers[tier_index];
            if tier.deidentify {
                continue;
            }
            let cloud = tier
                .chain
                .iter()
                .map(|&index| backends[index])
                .find(|(_, locality)| *locality == Locality::Cloud);
            if let Some((cloud, _)) = cloud {
                let how = if tier_index == self.phi_tier {
                    "it is routing.phi".to_owned()
                } else {
                    format!(
                        "PHI requests are promoted to it from tier '{}'",
                        self.tiers[self.phi_tier].name
                    )
                };
                return Err(PolicyError(format!(
                    "tiers '{}': PHI requests reach this tier ({how}) but it lists cloud backend '{}'; \
                     PHI never goes to a cloud backend: remove it from the tier, or set deidentify = true \
                     so it only sees pseudonymised text",
                    tier.name, cloud
                )));
            }
        }
        Ok(())
    }

    pub fn phi_tier(&self) -> usize {
        self.phi_tier
    }

    pub fn tier_for(&self, complexity: Complexity) -> usize {
        self.by_complexity[complexity as usize]
    }

    /// The first tier whose chain lists `backend`.
    pub fn tier_listing(&self, backend: usize) -> Option<&str> {
        self.tiers
            .iter()
            .find(|tier| tier.chain.contains(&backend))
            .map(|tier| tier.name.as_str())
    }

    /// The backend that serves an explicitly requested model.
    pub fn backend_serving(&self, model: &str) -> Option<(usize, String)> {
        self.backends
            .iter()
            .enumerate()
            .find_map(|(index, backend)| {
                backend.serves(model).map(|card| (index, card.name.clone()))
            })
    }
}

/// Checks backends (by name and locality), tiers and the routing table without building any
/// backend: what `ward serve --check-config` runs.
pub fn check_policy(
    backends: &[(&str, Locality)],
    tiers: &[TierSettings],
    routing: &RoutingSettings,
) -> Result<(), PolicyError> {
    compile(backends, tiers, routing).map(|_| ())
}

/// The policy without its backends.
fn compile(
    backends: &[(&str, Locality)],
    tiers: &[TierSettings],
    routing: &RoutingSettings,
) -> Result<Policy, PolicyError> {
    for (index, (name, _)) in backends.iter().enumerate() {
        if backends[..index].iter().any(|(other, _)| other == name) {
            return Err(PolicyError(format!(
                "backends: the name '{name}' is used twice"
            )));
        }
    }
    let backend_index = |tier: &str, name: &str| {
        backends
            .iter()
            .position(|(backend, _)| *backend == name)
            .ok_or_else(|| {
                PolicyError(format!(
                    "tiers '{tier}': backend '{name}' is not defined in [[backends]]"
                ))
            })
    };
    let tier_index = |key: &str, name: &str| {
        tiers
            .iter()
            .position(|tier| tier.name == name)
            .ok_or_else(|| PolicyError(format!("{key}: tier '{name}' is not defined in [[tiers]]")))
    };
    let mut compiled = Vec::with_capacity(tiers.len());
    for (index, tier) in tiers.iter().enumerate() {
        if tiers[..index].iter().any(|other| other.name == tier.name) {
            return Err(PolicyError(format!(
                "tiers: the name '{}' is used twice",
                tier.name
            )));
        }
        if tier.backends.is_empty() {
            return Err(PolicyError(format!(
                "tiers '{}': backends must list at least one backend",
                tier.name
            )));
        }
        let chain = tier
            .backends
            .iter()
            .map(|name| backend_index(&tier.name, name))
            .collect::<Result<Vec<_>, _>>()?;
        let promote_to = match &tier.promote_to {
            Some(target) => Some(tier_index(
                &format!("tiers '{}'.promote_to", tier.name),
                target,
            )?),
            None if !tier.promote_on.is_empty() => {
                return Err(PolicyError(format!(
                    "tiers '{}': promote_on needs promote_to, the tier to re-run on",
                    tier.name
                )))
            }
            None => None,
        };
        compiled.push(Tier {
            name: tier.name.clone(),
            chain,
            deidentify: tier.deidentify,
            promote_on: tier.promote_on.clone(),
            promote_to,
        });
    }
    let policy = Policy {
        phi_tier: tier_index("routing.phi", &routing.phi)?,
        by_complexity: [
            tier_index("routing.simple", &routing.simple)?,
            tier_index("routing.moderate", &routing.moderate)?,
            tier_index("routing.complex", &routing.complex)?,
        ],
        phi_on_cloud_model: routing.phi_on_cloud_model,
        backends: Vec::new(),
        tiers: compiled,
    };
    policy.check_phi_reachable(backends)?;
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::fake::ScriptedBackend;

    fn backends() -> Vec<RoutedBackend> {
        vec![
            ScriptedBackend::new("local-small", "small").into_local(),
            ScriptedBackend::new("local-large", "large").into_local(),
            RoutedBackend::cloud(Arc::new(ScriptedBackend::new("frontier", "gpt-x"))),
        ]
    }

    fn tiers() -> Vec<TierSettings> {
        vec![
            TierSettings::new("phi", &["local-large", "local-small"]),
            TierSettings::new("small", &["local-small"]),
            TierSettings::new("frontier", &["frontier", "local-large"]),
        ]
    }

    fn routing() -> RoutingSettings {
        RoutingSettings {
            simple: "small".into(),
            moderate: "small".into(),
            complex: "frontier".into(),
            ..RoutingSettings::all_to("phi")
        }
    }

    fn error(tiers: &[TierSettings], routing: &RoutingSettings) -> String {
        Policy::new(backends(), tiers, routing).unwrap_err().0
    }

    #[test]
    fn a_sound_policy_compiles() {
        let policy = Policy::new(backends(), &tiers(), &routing()).unwrap();
        assert_eq!(policy.tiers[policy.phi_tier()].name, "phi");
        assert_eq!(
            policy.tiers[policy.tier_for(Complexity::Complex)].name,
            "frontier"
        );
        assert_eq!(policy.backend_serving("gpt-x").unwrap().0, 2);
        assert_eq!(policy.backend_serving("local-small").unwrap().1, "small");
        assert!(policy.backend_serving("nothing").is_none());
    }

    #[test]
    fn cloud_backend_in_the_phi_tier_is_refused_naming_tier_and_backend() {
        let mut routing = routing();
        routing.phi = "frontier".into();
        let message = error(&tiers(), &routing);
        assert!(message.contains("tiers 'frontier'"), "{message}");
        assert!(message.contains("cloud backend 'frontier'"), "{message}");
    }

    #[test]
    fn cloud_backend_reached_by_promotion_from_the_phi_tier_is_refused() {
        let mut tiers = tiers();
        tiers[0].promote_on = vec![PromoteOn::Empty];
        tiers[0].promote_to = Some("frontier".into());
        let message = error(&tiers, &routing());
        assert!(
            message.contains("promoted to it from tier 'phi'"),
            "{message}"
        );
    }

    #[test]
    fn deidentifying_tier_may_list_a_cloud_backend() {
        let mut tiers = tiers();
        tiers[2].deidentify = true;
        let mut routing = routing();
        routing.phi = "frontier".into();
        assert!(Policy::new(backends(), &tiers, &routing).is_ok());
    }

    #[test]
    fn unknown_names_and_empty_chains_are_refused() {
        let mut bad = tiers();
        bad[1].backends = vec!["missing".into()];
        assert!(error(&bad, &routing()).contains("backend 'missing' is not defined"));
        let mut bad = tiers();
        bad[1].backends.clear();
        assert!(error(&bad, &routing()).contains("at least one backend"));
        let mut bad_routing = routing();
        bad_routing.moderate = "medium".into();
        assert!(error(&tiers(), &bad_routing).contains("routing.moderate: tier 'medium'"));
        let mut bad = tiers();
        bad[1].promote_on = vec![PromoteOn::Truncated];
        assert!(error(&bad, &routing()).contains("promote_on needs promote_to"));
        let mut bad = tiers();
        bad.push(TierSettings::new("phi", &["local-small"]));
        assert!(error(&bad, &routing()).contains("'phi' is used twice"));
    }
}
