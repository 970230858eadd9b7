//! Detector throughput on one core: short chat-style queries (queries/s) and clinical notes (MB/s).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ward_phi::Detector;

/// Short queries, about 150 bytes each, half with PHI.
const QUERIES: &[&str] = &[
    "Summarize the visit for john smith dob 4/12/1961, mrn 4827193, seen for chest pain and shortness of breath.",
    "What is the maximum daily dose of acetaminophen for an adult with mild hepatic impairment and CKD stage 3?",
    "Draft a letter to Mrs. Hope Brown at 42 Oak St., Springfield, IL 62704 about her A1c results from March 5th.",
    "ICD-10 code for type 2 diabetes mellitus with diabetic chronic kidney disease, stage 3a, on insulin therapy.",
    "pt maria gonzalez 92 yo F, call back at (555) 123-4567 re: warfarin dosing, INR 3.4 today, last dose 5 mg.",
    "Explain the difference between Parkinson's disease and essential tremor for a patient handout at grade 6.",
];

/// A clinical note of about 6 KB, built from typical sections.
fn note() -> String {
    let block = "HISTORY OF PRESENT ILLNESS: Ms. Anna Kowalski is a 67-year-old woman with a history of \
hypertension, type 2 diabetes and Hodgkin lymphoma in remission who presents on 03/14/2024 with two days \
of fever, productive cough and pleuritic chest pain. She was seen at Riverside Medical Center last Friday \
and started on azithromycin 500 mg daily. Her daughter, Claire, called (555) 234-8890 with concerns. \
MEDICATIONS: metformin 1000 mg BID, lisinopril 20 mg daily, atorvastatin 40 mg nightly. \
EXAM: T 101.2 F, HR 104, BP 128/82, RR 22, SpO2 93% on RA. Crackles at the right base; strength 5/5. \
LABS: WBC 14.2, Hgb 11.8, Na 134, K 4.1, Cr 1.3, eGFR 54, lactate 1.9, procalcitonin 0.8. \
ASSESSMENT AND PLAN: community-acquired pneumonia, CURB-65 score 2; admit to medicine. MRN 00482719. \
Follow up with Dr. Okafor at Lakeview Family Practice, 1200 N. Main Street, Apt 4B, in 2 weeks.\n";
    block.repeat(6)
}

fn benches(c: &mut Criterion) {
    let started = std::time::Instant::now();
    let detector = Detector::new();
    eprintln!("detector built in {:?}", started.elapsed());

    let mut group = c.benchmark_group("phi");
    let bytes: usize = QUERIES.iter().map(|q| q.len()).sum();
    group.throughput(Throughput::Elements(QUERIES.len() as u64));
    group.bench_function(
        format!("short_queries_{}B_avg", bytes / QUERIES.len()),
        |b| {
            b.iter(|| {
                for query in QUERIES {
                    black_box(detector.detect(black_box(query)));
                }
            })
        },
    );
    let note = note();
    group.throughput(Throughput::Bytes(note.len() as u64));
    group.bench_function(format!("note_{}KB", note.len() / 1024), |b| {
        b.iter(|| black_box(detector.detect(black_box(&note))))
    });
    group.finish();

    c.bench_function("detector_build", |b| b.iter(|| black_box(Detector::new())));
}

criterion_group! {
    name = phi;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(phi);
