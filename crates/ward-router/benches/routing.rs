//! The router's own cost per request, on one core: the complexity classifier over the labelled
//! prompts of `data/complexity.jsonl`, and the PHI gate (scan every message) on the same requests.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ward_core::{ChatMessage, ChatRole, GenerationRequest};
use ward_router::{ComplexityClassifier, PhiGate, DEFAULT_MAX_SCAN_BYTES};

fn requests() -> Vec<GenerationRequest> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/complexity.jsonl");
    let text = std::fs::read_to_string(&path).expect("data/complexity.jsonl exists");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
            let prompt = value["text"].as_str().expect("text").to_owned();
            GenerationRequest::chat("auto", vec![ChatMessage::new(ChatRole::User, prompt)])
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let requests = requests();
    let classifier = ComplexityClassifier::default();
    let gate = PhiGate::new(DEFAULT_MAX_SCAN_BYTES);
    let mut group = c.benchmark_group("routing");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function(format!("classify_{}_prompts", requests.len()), |b| {
        b.iter(|| {
            for request in &requests {
                black_box(classifier.classify(black_box(request)));
            }
        })
    });
    group.bench_function(format!("phi_gate_{}_prompts", requests.len()), |b| {
        b.iter(|| {
            for request in &requests {
                black_box(gate.screen(black_box(request.clone())));
            }
        })
    });
    group.finish();
}

criterion_group!(routing, benches);
criterion_main!(routing);
