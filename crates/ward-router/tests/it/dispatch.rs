//! Routing decisions end to end over scripted backends: the two axes, fallbacks, failing closed
//! for PHI, explicit models within policy, de-identification with restored answers, promotion.

use std::sync::Arc;

use futures::StreamExt;
use ward_core::{
    ChatMessage, ChatRole, ErrorKind, FinishReason, GenerationEvent, GenerationRequest,
};
use ward_router::fake::{Script, ScriptedBackend};
use ward_router::{
    Complexity, Dispatch, PhiOnCloudModel, PromoteOn, RoutedBackend, Router, RoutingSettings,
    TierSettings,
};

struct Deployment {
    small: Arc<ScriptedBackend>,
    large: Arc<ScriptedBackend>,
    cloud: Arc<ScriptedBackend>,
}

impl Deployment {
    fn new() -> Self {
        Deployment {
            small: Arc::new(ScriptedBackend::new("local-small", "small-1b")),
            large: Arc::new(ScriptedBackend::new("local-large", "large-8b")),
            cloud: Arc::new(ScriptedBackend::new("frontier", "frontier-model")),
        }
    }

    fn router_with(&self, tiers: &[TierSettings], routing: &RoutingSettings) -> Router {
        let backends = vec![
            RoutedBackend::Local(self.small.clone()),
            RoutedBackend::Local(self.large.clone()),
            RoutedBackend::cloud(self.cloud.clone()),
        ];
        Router::new(backends, tiers, routing).unwrap()
    }

    fn router(&self) -> Router {
        self.router_with(&tiers(), &routing())
    }
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

fn chat(model: &str, messages: &[(ChatRole, &str)]) -> GenerationRequest {
    let messages = messages
        .iter()
        .map(|(role, text)| ChatMessage::new(*role, *text))
        .collect();
    GenerationRequest::chat(model, messages)
}

const SIMPLE: &str = "What does BID stand for?";
const COMPLEX: &str = "Give a differential diagnosis for exertional chest pain with a normal ECG, weigh the workup options, and justify each step considering CKD.";
const PHI_NOTE: &str = "Patient John Whitfield (MRN 48213377) has exertional chest pain. Give a differential diagnosis and justify the workup.";

async fn text_of(dispatch: Dispatch) -> (String, FinishReason) {
    let mut stream = dispatch.stream;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            GenerationEvent::Delta(piece) => text.push_str(&piece),
            GenerationEvent::Done(summary) => return (text, summary.finish_reason),
        }
    }
    panic!("stream ended without Done");
}

#[tokio::test]
async fn the_two_axes_pick_the_tier() {
    let deployment = Deployment::new();
    let router = deployment.router();
    let simple = router
        .dispatch(chat("auto", &[(ChatRole::User, SIMPLE)]), 1)
        .await
        .unwrap();
    assert_eq!(
        (simple.tier.as_str(), simple.backend_id.as_str()),
        ("small", "local-small")
    );
    assert_eq!(simple.complexity.unwrap().complexity, Complexity::Simple);
    assert_eq!(simple.phi.header_value(), "none");
    let complex = router
        .dispatch(chat("auto", &[(ChatRole::User, COMPLEX)]), 2)
        .await
        .unwrap();
    assert_eq!(
        (complex.tier.as_str(), complex.backend_id.as_str()),
        ("frontier", "frontier")
    );
    assert_eq!(complex.model, "frontier-model");
    let phi = router
        .dispatch(chat("auto", &[(ChatRole::User, PHI_NOTE)]), 3)
        .await
        .unwrap();
    assert_eq!(
        (phi.tier.as_str(), phi.backend_id.as_str()),
        ("phi", "local-large")
    );
    assert!(phi.complexity.is_none());
    assert!(phi.phi.header_value().contains("NAME") && phi.phi.header_value().contains("MRN"));
    assert_eq!(
        deployment.cloud.received().len(),
        1,
        "only the PHI-free complex request"
    );
}

#[tokio::test]
async fn a_preferred_tier_takes_requests_without_phi_only() {
    let deployment = Deployment::new();
    let router = deployment.router();
    assert!(router.has_tier("frontier") && !router.has_tier("nowhere"));
    let simple = router
        .dispatch_preferring(
            chat("auto", &[(ChatRole::User, SIMPLE)]),
            Some("frontier"),
            1,
        )
        .await
        .unwrap();
    assert_eq!(
        simple.tier, "frontier",
        "the preference beats the complexity choice"
    );
    let phi = router
        .dispatch_preferring(
            chat("auto", &[(ChatRole::User, PHI_NOTE)]),
            Some("frontier"),
            2,
        )
        .await
        .unwrap();
    assert_eq!(
        phi.tier, "phi",
        "PHI never follows a preference to another tier"
    );
    let unknown = router
        .dispatch_preferring(
            chat("auto", &[(ChatRole::User, SIMPLE)]),
            Some("nowhere"),
            3,
        )
        .await
        .unwrap();
    assert_eq!(unknown.tier, "small");
    assert_eq!(deployment.cloud.received().len(), 1);
}

#[tokio::test]
async fn failures_before_the_first_token_fall_over_along_the_chain() {
    let deployment = Deployment::new();
    deployment
        .large
        .set_script(Script::FailToStart(ErrorKind::BackendUnavailable));
    let router = deployment.router();
    let dispatch = router
        .dispatch(chat("auto", &[(ChatRole::User, PHI_NOTE)]), 1)
        .await
        .unwrap();
    assert_eq!(dispatch.backend_id, "local-small");
    assert_eq!(dispatch.fallbacks, vec!["local-large".to_owned()]);
    // A not-ready backend is skipped the same way.
    deployment
        .large
        .set_script(Script::Reply(vec!["ok".into()], FinishReason::Stop));
    deployment.large.set_ready(false);
    let dispatch = router
        .dispatch(chat("auto", &[(ChatRole::User, PHI_NOTE)]), 2)
        .await
        .unwrap();
    assert_eq!(dispatch.backend_id, "local-small");
}

#[tokio::test]
async fn phi_fails_closed_when_every_local_backend_fails() {
    let deployment = Deployment::new();
    deployment
        .large
        .set_script(Script::FailToStart(ErrorKind::BackendUnavailable));
    deployment
        .small
        .set_script(Script::FailAfterFirst(Vec::new()));
    deployment.small.set_ready(false);
    let router = deployment.router();
    let error = router
        .dispatch(chat("auto", &[(ChatRole::User, PHI_NOTE)]), 1)
        .await
        .err()
        .unwrap();
    assert_eq!(error.error.kind, ErrorKind::BackendUnavailable);
    assert!(
        error
            .error
            .message
            .contains("never sent to a cloud backend"),
        "{}",
        error.error.message
    );
    assert_eq!(error.tier.as_deref(), Some("phi"));
    assert!(deployment.cloud.received().is_empty());
    // The message names no PHI.
    assert!(!error.error.message.contains("Whitfield"));
}

#[tokio::test]
async fn explicit_models_are_honoured_within_policy() {
    let deployment = Deployment::new();
    let router = deployment.router();
    let direct = router
        .dispatch(chat("small-1b", &[(ChatRole::User, COMPLEX)]), 1)
        .await
        .unwrap();
    assert_eq!(
        (direct.tier.as_str(), direct.backend_id.as_str()),
        ("phi", "local-small")
    );
    let cloud_clean = router
        .dispatch(chat("frontier-model", &[(ChatRole::User, SIMPLE)]), 2)
        .await
        .unwrap();
    assert_eq!(cloud_clean.backend_id, "frontier");
    let refused = router
        .dispatch(chat("frontier-model", &[(ChatRole::User, PHI_NOTE)]), 3)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.error.kind, ErrorKind::PolicyViolation);
    assert_eq!(refused.error.param.as_deref(), Some("model"));
    assert_eq!(deployment.cloud.received().len(), 1);

    let mut reroute = routing();
    reroute.phi_on_cloud_model = PhiOnCloudModel::Reroute;
    let router = deployment.router_with(&tiers(), &reroute);
    let rerouted = router
        .dispatch(chat("frontier-model", &[(ChatRole::User, PHI_NOTE)]), 4)
        .await
        .unwrap();
    assert_eq!(
        (rerouted.tier.as_str(), rerouted.backend_id.as_str()),
        ("phi", "local-large")
    );
    assert_eq!(deployment.cloud.received().len(), 1);

    let unknown = router
        .dispatch(chat("nope", &[(ChatRole::User, SIMPLE)]), 5)
        .await
        .err()
        .unwrap();
    assert_eq!(unknown.error.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn deidentify_sends_surrogates_and_restores_the_answer_as_it_streams() {
    let deployment = Deployment::new();
    deployment.cloud.set_script(Script::Echo);
    let mut tiers = tiers();
    tiers[2].deidentify = true;
    let mut routing = routing();
    routing.phi = "frontier".into();
    let router = deployment.router_with(&tiers, &routing);
    let note = "Write a letter to Dr. Helen Okafor about John Whitfield, MRN 48213377, seen on 03/14/2024.";
    let dispatch = router
        .dispatch(
            chat(
                "auto",
                &[
                    (ChatRole::System, "You write letters."),
                    (ChatRole::User, note),
                ],
            ),
            7,
        )
        .await
        .unwrap();
    assert_eq!(dispatch.backend_id, "frontier");
    let (answer, _) = text_of(dispatch).await;
    assert_eq!(answer, note, "the echoed surrogates were restored");
    let sent = format!("{:?}", deployment.cloud.received()[0].prompt);
    for value in ["Helen Okafor", "John Whitfield", "48213377", "03/14/2024"] {
        assert!(!sent.contains(value), "{value} reached the cloud");
    }
}

#[tokio::test]
async fn oversized_input_is_treated_as_phi() {
    let deployment = Deployment::new();
    let mut routing = routing();
    routing.max_scan_bytes = 16;
    let router = deployment.router_with(&tiers(), &routing);
    let dispatch = router
        .dispatch(chat("auto", &[(ChatRole::User, COMPLEX)]), 1)
        .await
        .unwrap();
    assert_eq!(dispatch.tier, "phi");
    assert_eq!(dispatch.phi.header_value(), "UNSCREENED_OVERSIZED");
    assert!(deployment.cloud.received().is_empty());
}

#[tokio::test]
async fn an_empty_or_truncated_answer_is_promoted_to_the_next_tier() {
    let deployment = Deployment::new();
    deployment
        .small
        .set_script(Script::Reply(Vec::new(), FinishReason::Stop));
    let mut tiers = tiers();
    tiers[1].promote_on = vec![PromoteOn::Empty, PromoteOn::Truncated];
    tiers[1].promote_to = Some("frontier".into());
    let router = deployment.router_with(&tiers, &routing());
    let dispatch = router
        .dispatch(chat("auto", &[(ChatRole::User, SIMPLE)]), 1)
        .await
        .unwrap();
    assert_eq!(
        (dispatch.tier.as_str(), dispatch.backend_id.as_str()),
        ("frontier", "frontier")
    );
    assert_eq!(dispatch.fallbacks, vec!["tier:small".to_owned()]);
    assert_eq!(text_of(dispatch).await.0, "ok");
    // A good answer stays, buffered and replayed whole.
    deployment.small.set_script(Script::Reply(
        vec!["B".into(), "ID".into()],
        FinishReason::Stop,
    ));
    let dispatch = router
        .dispatch(chat("auto", &[(ChatRole::User, SIMPLE)]), 2)
        .await
        .unwrap();
    assert_eq!(dispatch.backend_id, "local-small");
    assert_eq!(text_of(dispatch).await.0, "BID");
}
