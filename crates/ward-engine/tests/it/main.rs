//! The embedded engine against a real model from the store. Runs when `WARD_TEST_MODEL_STORE`
//! names a model store and `WARD_TEST_MODEL` a model in it (`cargo xtask ci` sets both); without
//! them each test says so and returns.

mod structured;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ward_core::{
    Backend, ChatMessage, ChatRole, FinishReason, GenerationEvent, GenerationRequest,
    GenerationSummary, OutputFormat, Prompt, SamplingParams,
};
use ward_engine::{EmbeddedEngine, EngineConfig};

async fn engine() -> Option<Arc<EmbeddedEngine>> {
    let (Ok(store_root), Ok(model)) = (
        std::env::var("WARD_TEST_MODEL_STORE"),
        std::env::var("WARD_TEST_MODEL"),
    ) else {
        eprintln!("WARD_TEST_MODEL_STORE / WARD_TEST_MODEL not set; real-model test not run");
        return None;
    };
    let store = ward_store::ModelStore::open(store_root).expect("model store opens");
    let manifest = store
        .resolve(&model)
        .expect("store readable")
        .expect("test model is in the store");
    let mut config = EngineConfig::new(store.model_path(&manifest), manifest.to_card());
    config.context_length = Some(2048);
    Some(Arc::new(
        EmbeddedEngine::load("test-engine".into(), config)
            .await
            .expect("model loads"),
    ))
}

fn chat(
    engine: &EmbeddedEngine,
    text: &str,
    max_tokens: u32,
    sampling: SamplingParams,
    stop: &[&str],
) -> GenerationRequest {
    GenerationRequest {
        model: engine.loaded_models()[0].name.clone(),
        prompt: Prompt::Chat(vec![ChatMessage::new(ChatRole::User, text)]),
        sampling,
        max_tokens: Some(max_tokens),
        stop: stop.iter().map(|s| s.to_string()).collect(),
        format: OutputFormat::Text,
    }
}

fn greedy() -> SamplingParams {
    SamplingParams {
        temperature: Some(0.0),
        ..SamplingParams::default()
    }
}

async fn complete(
    engine: &EmbeddedEngine,
    request: GenerationRequest,
) -> (String, GenerationSummary) {
    let mut stream = engine.generate(request).await.expect("generation starts");
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event.expect("no stream error") {
            GenerationEvent::Delta(piece) => text.push_str(&piece),
            GenerationEvent::Done(summary) => return (text, summary),
        }
    }
    panic!("stream ended without Done");
}

#[tokio::test(flavor = "multi_thread")]
async fn generates_counts_tokens_and_respects_max_tokens() {
    let Some(engine) = engine().await else { return };
    let (text, summary) = complete(
        &engine,
        chat(
            &engine,
            "Count from one to twenty in words.",
            8,
            greedy(),
            &[],
        ),
    )
    .await;
    assert!(!text.is_empty());
    assert_eq!(summary.finish_reason, FinishReason::Length);
    assert_eq!(summary.usage.completion_tokens, 8);
    assert!(summary.usage.prompt_tokens > 5);
    assert!(summary.timings.generation > Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread")]
async fn greedy_is_deterministic_and_seeds_repeat() {
    let Some(engine) = engine().await else { return };
    let prompt = "Name three fruits.";
    let (first, _) = complete(&engine, chat(&engine, prompt, 12, greedy(), &[])).await;
    let (second, _) = complete(&engine, chat(&engine, prompt, 12, greedy(), &[])).await;
    assert_eq!(first, second);
    let seeded = SamplingParams {
        temperature: Some(1.0),
        seed: Some(42),
        ..SamplingParams::default()
    };
    let (a, _) = complete(&engine, chat(&engine, prompt, 12, seeded.clone(), &[])).await;
    let (b, _) = complete(&engine, chat(&engine, prompt, 12, seeded, &[])).await;
    assert_eq!(a, b);
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_strings_end_generation_and_are_not_emitted() {
    let Some(engine) = engine().await else { return };
    let counting = |stop: &[&str]| {
        let prompt = "Write the numbers 1 to 10 separated by commas.";
        chat(&engine, prompt, 40, greedy(), stop)
    };
    let (full, _) = complete(&engine, counting(&[])).await;
    // Stop at the first character the unconstrained answer contains after its start.
    let stop = full
        .chars()
        .skip(2)
        .find(|c| !c.is_whitespace())
        .map(String::from)
        .unwrap_or_else(|| panic!("the answer {full:?} is too short to test stop strings"));
    let (stopped, summary) = complete(&engine, counting(&[&stop])).await;
    assert_eq!(summary.finish_reason, FinishReason::Stop);
    assert!(!stopped.contains(&stop), "{stopped:?} contains {stop:?}");
    assert!(full.starts_with(&stopped), "{full:?} / {stopped:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_are_all_served_and_cancellation_frees_the_engine() {
    let Some(engine) = engine().await else { return };
    // A stream dropped after its first token stops the work it queued.
    let mut abandoned = engine
        .generate(chat(&engine, "Tell a long story.", 500, greedy(), &[]))
        .await
        .unwrap();
    let _ = abandoned.next().await;
    drop(abandoned);
    let tasks: Vec<_> = (0..3)
        .map(|index| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let request = chat(
                    &engine,
                    &format!("Say the number {index}."),
                    6,
                    greedy(),
                    &[],
                );
                complete(&engine, request).await
            })
        })
        .collect();
    let finished = tokio::time::timeout(Duration::from_secs(120), futures::future::join_all(tasks))
        .await
        .expect("served in time");
    for result in finished {
        let (_, summary) = result.expect("task ran");
        assert!(summary.usage.completion_tokens >= 1);
    }
    assert_eq!(engine.queue_depth(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_model_and_oversized_prompt_are_refused() {
    let Some(engine) = engine().await else { return };
    let mut request = chat(&engine, "hi", 4, greedy(), &[]);
    request.model = "no-such-model".into();
    assert_eq!(
        engine.generate(request).await.err().unwrap().kind,
        ward_core::ErrorKind::NotFound
    );
    let huge = "word ".repeat(5000);
    let error = engine
        .generate(chat(&engine, &huge, 4, greedy(), &[]))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, ward_core::ErrorKind::InvalidRequest);
    assert!(error.message.contains("context window"));
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_text_prompts_skip_the_template() {
    let Some(engine) = engine().await else { return };
    let raw = Prompt::Text {
        text: "The capital of France is".into(),
        system: None,
        raw: true,
    };
    assert_eq!(
        engine.render_prompt(&raw).unwrap(),
        "The capital of France is"
    );
    let templated = Prompt::Text {
        text: "Hello".into(),
        system: Some("Be brief.".into()),
        raw: false,
    };
    let rendered = engine.render_prompt(&templated).unwrap();
    assert!(
        rendered.contains("Hello")
            && rendered.contains("Be brief.")
            && rendered.len() > "HelloBe brief.".len()
    );
}
