//! The complexity classifier against the labelled set in `data/complexity.jsonl`: accuracy per
//! class on the dev split (used to set the weights) and the held-out test split (reported in
//! `docs/routing.md`). Run with `--nocapture` to see the confusion matrices.

use ward_core::{ChatMessage, ChatRole, GenerationRequest};
use ward_router::ComplexityClassifier;

use crate::labelled::cases;

/// Confusion matrix `[truth][predicted]` of one split.
fn confusion(split: &str) -> [[u32; 3]; 3] {
    let classifier = ComplexityClassifier::default();
    let mut matrix = [[0u32; 3]; 3];
    for case in cases().iter().filter(|case| case.split == split) {
        let request = GenerationRequest::chat(
            "auto",
            vec![ChatMessage::new(ChatRole::User, case.text.clone())],
        );
        let predicted = classifier.classify(&request).complexity;
        matrix[case.label as usize][predicted as usize] += 1;
    }
    matrix
}

fn report(split: &str) -> f64 {
    let matrix = confusion(split);
    let total: u32 = matrix.iter().flatten().sum();
    let correct: u32 = (0..3).map(|class| matrix[class][class]).sum();
    println!(
        "{split}: {correct}/{total} = {:.1}%",
        100.0 * f64::from(correct) / f64::from(total)
    );
    for (class, row) in ["simple", "moderate", "complex"].iter().zip(matrix) {
        let count: u32 = row.iter().sum();
        let own = row[["simple", "moderate", "complex"]
            .iter()
            .position(|c| c == class)
            .unwrap()];
        println!(
            "  {class:>8}: {:.1}% of {count} (predicted simple {}, moderate {}, complex {})",
            100.0 * f64::from(own) / f64::from(count),
            row[0],
            row[1],
            row[2]
        );
    }
    f64::from(correct) / f64::from(total)
}

#[test]
fn accuracy_on_the_labelled_set() {
    let dev = report("dev");
    let test = report("test");
    // Floors a little under the figures in docs/routing.md, so a weight change that makes the
    // classifier clearly worse fails here.
    assert!(dev >= 0.80, "dev accuracy {dev:.3}");
    assert!(test >= 0.75, "test accuracy {test:.3}");
}

#[test]
fn complex_requests_are_rarely_taken_for_simple() {
    // The costly mistake: a hard question sent to the small model.
    let matrix = confusion("test");
    let complex: u32 = matrix[2].iter().sum();
    assert!(
        f64::from(matrix[2][0]) / f64::from(complex) <= 0.10,
        "complex predicted simple: {:?}",
        matrix[2]
    );
}
