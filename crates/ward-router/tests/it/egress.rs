//! The no-PHI-egress law over random policies and random requests: whatever the tiers, routing
//! table, de-identification flags, explicit model names and backend failures, no PHI value a
//! request carries ever reaches a cloud backend.

use std::sync::Arc;

use proptest::prelude::*;
use ward_core::{ChatMessage, ChatRole, ErrorKind, GenerationRequest};
use ward_router::fake::{Script, ScriptedBackend};
use ward_router::{
    Locality, PhiOnCloudModel, PromoteOn, RoutedBackend, Router, RoutingSettings, TierSettings,
};

/// Values the detector always finds, each with the text around it.
const PHI: &[(&str, &str)] = &[
    ("Patient John Whitfield was seen today.", "John Whitfield"),
    ("MRN 48213377 on file.", "48213377"),
    ("Call her at (617) 555-0142 tomorrow.", "555-0142"),
    (
        "Email: maria.okafor@example.org",
        "maria.okafor@example.org",
    ),
    ("SSN 219-09-9999 for billing.", "219-09-9999"),
    (
        "Lives at 42 Oak Street, Springfield, IL 62704.",
        "42 Oak Street",
    ),
    ("DOB: 03/14/1961.", "03/14/1961"),
];

const CLEAN: &[&str] = &[
    "What is the usual adult dose of amoxicillin?",
    "Explain the mechanism of metformin.",
    "Give a differential diagnosis for chest pain and justify the workup.",
    "Summarise the attached guideline in three bullet points.",
    "hello",
];

#[derive(Debug, Clone)]
struct Case {
    localities: Vec<bool>,
    tiers: Vec<(Vec<usize>, bool, Option<usize>)>,
    routing: [usize; 4],
    reroute: bool,
    scripts: Vec<u8>,
    messages: Vec<(u8, Option<usize>, usize)>,
    explicit: Option<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..5).prop_flat_map(|backends| {
        (1usize..4).prop_flat_map(move |tiers| {
            (
                proptest::collection::vec(any::<bool>(), backends),
                proptest::collection::vec(
                    (
                        proptest::collection::vec(0..backends, 1..4),
                        any::<bool>(),
                        proptest::option::of(0..tiers),
                    ),
                    tiers,
                ),
                [0..tiers, 0..tiers, 0..tiers, 0..tiers],
                any::<bool>(),
                proptest::collection::vec(0u8..4, backends),
                proptest::collection::vec(
                    (0u8..4, proptest::option::of(0..PHI.len()), 0..CLEAN.len()),
                    1..5,
                ),
                proptest::option::of(0..backends),
            )
                .prop_map(
                    |(localities, tiers, routing, reroute, scripts, messages, explicit)| Case {
                        localities,
                        tiers,
                        routing,
                        reroute,
                        scripts,
                        messages,
                        explicit,
                    },
                )
        })
    })
}

/// What one case exercised, so the test can show it was not vacuous.
#[derive(Debug, Default, Clone, Copy)]
struct Exercised {
    compiled: bool,
    phi_dispatched: bool,
    phi_reached_cloud_deidentified: bool,
    clean_reached_cloud: bool,
}

fn run(case: &Case, runtime: &tokio::runtime::Runtime) -> Result<Exercised, TestCaseError> {
    let mut exercised = Exercised::default();
    let scripted: Vec<Arc<ScriptedBackend>> = case
        .localities
        .iter()
        .enumerate()
        .map(|(index, _)| {
            Arc::new(ScriptedBackend::new(
                &format!("b{index}"),
                &format!("model-{index}"),
            ))
        })
        .collect();
    for (backend, script) in scripted.iter().zip(&case.scripts) {
        backend.set_script(match script {
            0 => Script::Reply(vec!["fine".into()], ward_core::FinishReason::Stop),
            1 => Script::FailToStart(ErrorKind::BackendUnavailable),
            2 => Script::FailAfterFirst(vec!["par".into()]),
            _ => Script::Reply(Vec::new(), ward_core::FinishReason::Length),
        });
    }
    let routed: Vec<RoutedBackend> = scripted
        .iter()
        .zip(&case.localities)
        .map(|(backend, cloud)| {
            if *cloud {
                RoutedBackend::cloud(backend.clone())
            } else {
                RoutedBackend::Local(backend.clone())
            }
        })
        .collect();
    let tiers: Vec<TierSettings> = case
        .tiers
        .iter()
        .enumerate()
        .map(|(index, (chain, deidentify, promote_to))| TierSettings {
            name: format!("t{index}"),
            backends: chain.iter().map(|backend| format!("b{backend}")).collect(),
            deidentify: *deidentify,
            promote_on: if promote_to.is_some() {
                vec![PromoteOn::Empty, PromoteOn::Truncated]
            } else {
                Vec::new()
            },
            promote_to: promote_to.map(|tier| format!("t{tier}")),
        })
        .collect();
    let mut routing = RoutingSettings::all_to("t0");
    routing.phi = format!("t{}", case.routing[0]);
    routing.simple = format!("t{}", case.routing[1]);
    routing.moderate = format!("t{}", case.routing[2]);
    routing.complex = format!("t{}", case.routing[3]);
    routing.phi_on_cloud_model = if case.reroute {
        PhiOnCloudModel::Reroute
    } else {
        PhiOnCloudModel::Refuse
    };
    // Policies that put a cloud backend where PHI can reach it without de-identification are
    // refused at start-up; that refusal is tested elsewhere, here only running policies matter.
    let Ok(router) = Router::new(routed, &tiers, &routing) else {
        return Ok(exercised);
    };
    exercised.compiled = true;
    let roles = [
        ChatRole::System,
        ChatRole::User,
        ChatRole::Assistant,
        ChatRole::Tool,
    ];
    let mut values = Vec::new();
    let messages: Vec<ChatMessage> = case
        .messages
        .iter()
        .map(|(role, phi, clean)| {
            let mut text = CLEAN[*clean].to_owned();
            if let Some(phi) = phi {
                text = format!("{} {text}", PHI[*phi].0);
                values.push(PHI[*phi].1);
            }
            ChatMessage::new(roles[*role as usize], text)
        })
        .collect();
    let model = match case.explicit {
        Some(backend) => format!("model-{backend}"),
        None => "auto".to_owned(),
    };
    let request = GenerationRequest::chat(model, messages);
    let dispatched = runtime.block_on(router.dispatch(request, 99));
    if let Ok(dispatch) = &dispatched {
        prop_assert_eq!(dispatch.phi.is_phi(), !values.is_empty());
        exercised.phi_dispatched |= !values.is_empty();
    }
    for (backend, cloud) in scripted.iter().zip(&case.localities) {
        if !cloud {
            continue;
        }
        for received in backend.received() {
            if values.is_empty() {
                exercised.clean_reached_cloud = true;
            } else {
                exercised.phi_reached_cloud_deidentified = true;
            }
            let sent = format!("{:?}", received.prompt);
            for value in &values {
                prop_assert!(
                    !sent.contains(value),
                    "{} reached cloud backend {}",
                    value,
                    backend.received().len()
                );
            }
        }
    }
    Ok(exercised)
}

#[test]
fn no_phi_value_ever_reaches_a_cloud_backend() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 1500,
        ..ProptestConfig::default()
    });
    let totals = std::cell::RefCell::new([0u32; 4]);
    runner
        .run(&case(), |case| {
            let exercised = run(&case, &runtime)?;
            let mut totals = totals.borrow_mut();
            for (total, flag) in totals.iter_mut().zip([
                exercised.compiled,
                exercised.phi_dispatched,
                exercised.phi_reached_cloud_deidentified,
                exercised.clean_reached_cloud,
            ]) {
                *total += u32::from(flag);
            }
            Ok(())
        })
        .unwrap();
    let totals = totals.into_inner();
    println!(
        "policies compiled, PHI dispatched, PHI de-identified to cloud, clean to cloud: {totals:?}"
    );
    assert!(
        totals.iter().all(|count| *count >= 20),
        "the generator rarely reaches some paths: {totals:?}"
    );
}

#[test]
fn every_phi_sample_is_detected() {
    for (text, value) in PHI {
        let findings = ward_phi::detect(text);
        assert!(
            findings
                .iter()
                .any(|finding| text[finding.start..finding.end].contains(value)),
            "{value} not found in {text:?}"
        );
    }
    for text in CLEAN {
        assert!(ward_phi::detect(text).is_empty(), "{text:?} flagged");
    }
}

#[test]
fn locality_of_a_routed_backend_follows_its_type() {
    let backend = Arc::new(ScriptedBackend::new("b", "m"));
    assert_eq!(
        RoutedBackend::cloud(backend.clone()).locality(),
        Locality::Cloud
    );
    assert_eq!(RoutedBackend::Local(backend).locality(), Locality::Local);
}
