//! PHI detection, redaction and pseudonymisation for Ward: pure functions over text, no IO.
//!
//! [`detect`] finds every HIPAA Safe Harbor identifier (plus facility names) in a text and returns
//! [`Finding`]s: byte spans on character boundaries, disjoint and sorted, each with a
//! [`PhiLabel`], the [`Recogniser`] that fired and a confidence. It never fails and never logs.
//! The detector is built once (word lists, automata, patterns) and shared by every thread.
//!
//! [`redact`] masks or tags findings; [`Pseudonymiser`] swaps them for consistent surrogates and
//! maps a model's answer back. [`evaluate`] scores findings against gold spans.

mod eval;
mod finding;
mod label;
mod lexicon;
mod recognisers;
mod redact;
mod scan;
#[cfg(test)]
mod testing;

use std::sync::OnceLock;

pub use eval::{evaluate, EvalReport, GoldDocument, LabelScore};
pub use finding::{merge, Finding, Recogniser};
pub use label::{PhiLabel, UnknownLabel};
pub use redact::{redact, redact_text, Pseudonymiser, RedactionMode, Restorer, Surrogate};

use lexicon::Lexicon;
use recognisers::{
    address::AddressRecogniser, age::AgeRecogniser, dates::DateRecogniser,
    facility::FacilityRecogniser, identifiers::IdentifierRecogniser, location::LocationRecogniser,
    names::NameRecogniser, phone::PhoneRecogniser, ssn::SsnRecogniser, web::WebRecogniser,
};
use scan::Scan;

/// Every recogniser, compiled. Build one with [`Detector::new`] or share [`Detector::shared`].
pub struct Detector {
    lexicon: Lexicon,
    ssn: SsnRecogniser,
    phone: PhoneRecogniser,
    web: WebRecogniser,
    identifiers: IdentifierRecogniser,
    dates: DateRecogniser,
    age: AgeRecogniser,
    address: AddressRecogniser,
    location: LocationRecogniser,
    facility: FacilityRecogniser,
    names: NameRecogniser,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Detector")
    }
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector {
    /// Builds the word lists, automata and patterns (tens of milliseconds).
    pub fn new() -> Self {
        Detector {
            lexicon: Lexicon::new(),
            ssn: SsnRecogniser::new(),
            phone: PhoneRecogniser::new(),
            web: WebRecogniser::new(),
            identifiers: IdentifierRecogniser::new(),
            dates: DateRecogniser::new(),
            age: AgeRecogniser::new(),
            address: AddressRecogniser::new(),
            location: LocationRecogniser::new(),
            facility: FacilityRecogniser::new(),
            names: NameRecogniser,
        }
    }

    /// The process-wide detector, built on first use.
    pub fn shared() -> &'static Detector {
        static SHARED: OnceLock<Detector> = OnceLock::new();
        SHARED.get_or_init(Detector::new)
    }

    /// The PHI in `text`: sorted, disjoint findings on character boundaries.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        if text.is_empty() {
            return Vec::new();
        }
        let mut scan = Scan::new(text, &self.lexicon);
        self.ssn.scan(&mut scan);
        self.phone.scan(&mut scan);
        self.web.scan(&mut scan);
        self.identifiers.scan(&mut scan);
        self.dates.scan(&mut scan);
        self.age.scan(&mut scan);
        self.address.scan(&mut scan);
        self.location.scan(&mut scan, &self.lexicon);
        self.facility.scan(&mut scan, &self.lexicon);
        self.names.scan(&mut scan, &self.lexicon);
        let placeholders = redact::placeholders(text);
        let mut findings = scan.findings;
        if !placeholders.is_empty() {
            findings.retain(|finding| {
                !placeholders
                    .iter()
                    .any(|(start, end)| finding.start < *end && *start < finding.end)
            });
        }
        merge(findings)
    }
}

/// The PHI in `text`, found by the shared detector.
pub fn detect(text: &str) -> Vec<Finding> {
    Detector::shared().detect(text)
}

/// The fuzz target's entry point (`fuzz/fuzz_targets/phi_detect.rs`), also run by the tests over
/// the seed corpus: any bytes, read as UTF-8 where they are, detected and redacted both ways.
pub fn scan_and_redact_for_fuzzing(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let findings = detect(&text);
    let _ = redact(&text, &findings, RedactionMode::Mask);
    let _ = redact_text(Detector::shared(), &text, RedactionMode::Tag);
    let mut pseudonymiser = Pseudonymiser::new(bytes.len() as u64);
    let pseudonymised = pseudonymiser.pseudonymise(&text, &findings);
    let _ = pseudonymiser.reidentify(&pseudonymised);
}
