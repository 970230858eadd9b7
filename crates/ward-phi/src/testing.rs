//! Test helpers: run the shared detector and compare its findings with expected spans.

use crate::{detect, PhiLabel};

/// Asserts that the findings in `text` are exactly `expected`, as (substring, label) in text order.
pub(crate) fn check(text: &str, expected: &[(&str, PhiLabel)]) {
    let found: Vec<(&str, PhiLabel)> = detect(text)
        .iter()
        .map(|finding| (&text[finding.start..finding.end], finding.label))
        .collect();
    assert_eq!(found, expected, "findings in {text:?}");
}

/// The labels found in `text`, in text order.
pub(crate) fn labels(text: &str) -> Vec<PhiLabel> {
    detect(text).iter().map(|finding| finding.label).collect()
}
