//! The ICD-10-CM code set on one core: loading the embedded table (decompress, parse, index),
//! lookup, and search with realistic queries.

use std::io::Read;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ward_clinical::icd10::CodeSet;

/// The same bytes `CodeSet::builtin` decompresses on first use.
const TABLE: &[u8] = include_bytes!("../data/icd10cm-2026.tsv.gz");

const QUERIES: &[&str] = &[
    "gestational diabetes diet controlled",
    "type 2 diabetes with diabetic chronic kidney disease",
    "hypertension",
    "fracture of lower end of right radius initial encounter",
    "copd exac",
];

fn load() -> CodeSet {
    let mut tsv = String::new();
    flate2::read::GzDecoder::new(TABLE)
        .read_to_string(&mut tsv)
        .expect("the table is gzip and UTF-8");
    CodeSet::parse(&tsv).expect("the table parses")
}

fn benches(c: &mut Criterion) {
    let started = std::time::Instant::now();
    let codes = CodeSet::builtin();
    eprintln!(
        "builtin code set loaded in {:?}: {} codes, {} billable",
        started.elapsed(),
        codes.len(),
        codes.billable_count()
    );

    c.bench_function("icd10_load", |b| b.iter(|| black_box(load())));

    c.bench_function("icd10_lookup_3_spellings", |b| {
        b.iter(|| {
            for code in ["E11.9", "s52521a", " o24.410 "] {
                black_box(codes.lookup(black_box(code)));
            }
        })
    });

    let mut group = c.benchmark_group("icd10_search");
    for query in QUERIES {
        group.bench_function(query.replace(' ', "_"), |b| {
            b.iter(|| black_box(codes.search(black_box(query), 10)))
        });
    }
    group.bench_function("code_prefix_O24.4", |b| {
        b.iter(|| black_box(codes.search(black_box("O24.4"), 10)))
    });
    group.finish();
}

criterion_group! {
    name = codes;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(codes);
