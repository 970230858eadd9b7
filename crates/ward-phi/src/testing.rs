//! Test helpers: run the shared detector and compare its findings with expected spans.

use regex::Regex;

use crate::{detect, PhiLabel};

/// Asserts that the findings in `text` are exactly `expected`, as (substring, label) in text order.
pub(crate) fn check(text: &str, expected: &[(&str, PhiLabel)]) {
    let found: Vec<(&str, PhiLabel)> = detect(text)
        .iter()
        .map(|finding| (&text[finding.start..finding.end], finding.label))
        .collect();
    assert_eq!(found, expected, "findings in {text:?}");
}

/// The whole-text search of an anchored pattern (`^(?:body)`): `body` alone.
pub(crate) fn unanchored(anchored: &Regex) -> Regex {
    let pattern = anchored.as_str();
    let body = pattern
        .strip_prefix("^(?:")
        .and_then(|rest| rest.strip_suffix(')'))
        .expect("an anchored pattern");
    Regex::new(body).expect("valid pattern")
}

/// The labels found in `text`, in text order.
pub(crate) fn labels(text: &str) -> Vec<PhiLabel> {
    detect(text).iter().map(|finding| finding.label).collect()
}
