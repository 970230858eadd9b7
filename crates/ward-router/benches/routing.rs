//! The router's own cost per request, on one core: the complexity classifier over the labelled
//! prompts of `data/complexity.jsonl`, and the PHI gate (scan every message) on the same requests.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ward_core::{ChatMessage, ChatRole, GenerationRequest};
use ward_router::{ComplexityClassifier, PhiGate, DEFAULT_MAX_SCAN_BYTES};

#[path = "../tests/it/labelled.rs"]
#[allow(dead_code)] // the bench reads only the prompts
mod labelled;

fn requests() -> Vec<GenerationRequest> {
    labelled::cases()
        .into_iter()
        .map(|case| {
            GenerationRequest::chat("auto", vec![ChatMessage::new(ChatRole::User, case.text)])
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
