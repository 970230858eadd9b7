//! Laws of the PHI detector and redaction, checked on arbitrary text with proptest, plus the seed
//! corpus of the fuzz target run through the same entry point.

use proptest::prelude::*;
use ward_phi::{
    detect, redact, redact_text, scan_and_redact_for_fuzzing, Detector, PhiLabel, Pseudonymiser,
    RedactionMode,
};

/// Text that looks clinical enough to produce findings: PHI-shaped pieces glued with noise.
fn clinical_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "Dr. Okafor",
        "john smith",
        "MRN 4827193",
        "03/05/2024",
        "(555) 123-4567",
        "92-year-old",
        "42 Oak St.",
        "Springfield, IL 62704",
        "Riverside Medical Center",
        "j.doe@example.org",
        "192.168.1.20",
        "last Friday",
        "Parkinson's disease",
        "metformin 500 mg",
        "pain 7/10",
        "José Díaz",
        "SSN 123-45-6789",
        " ",
        "\n",
        ", ",
        "é",
        "[NAME]",
        "Ω",
        "日本",
        "🙂",
    ]);
    (prop::collection::vec(pieces, 0..24), ".{0,40}").prop_map(|(pieces, noise)| {
        let mut text = pieces.concat();
        text.push_str(&noise);
        text
    })
}

fn check_findings_are_well_formed(text: &str) {
    let findings = detect(text);
    let mut previous_end = 0;
    for finding in &findings {
        assert!(
            text.is_char_boundary(finding.start) && text.is_char_boundary(finding.end),
            "{finding:?} in {text:?}"
        );
        assert!(finding.start < finding.end && finding.end <= text.len());
        assert!(
            finding.start >= previous_end,
            "findings overlap in {text:?}"
        );
        assert!(finding.confidence > 0.0 && finding.confidence <= 1.0);
        previous_end = finding.end;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn findings_lie_on_char_boundaries_and_never_overlap(text in clinical_text()) {
        check_findings_are_well_formed(&text);
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,300}") {
        check_findings_are_well_formed(&text);
    }

    #[test]
    fn masking_removes_every_finding_and_keeps_the_rest(text in clinical_text()) {
        let findings = detect(&text);
        let masked = redact(&text, &findings, RedactionMode::Mask);
        // Text outside findings is unchanged, in order; each finding became its placeholder.
        let mut rebuilt = String::new();
        let mut cursor = 0;
        for finding in &findings {
            rebuilt.push_str(&text[cursor..finding.start]);
            rebuilt.push_str(&format!("[{}]", finding.label));
            cursor = finding.end;
        }
        rebuilt.push_str(&text[cursor..]);
        prop_assert_eq!(&masked, &rebuilt);
    }

    #[test]
    fn redaction_is_idempotent(text in clinical_text()) {
        let detector = Detector::shared();
        for mode in [RedactionMode::Mask, RedactionMode::Tag] {
            let once = redact_text(detector, &text, mode);
            prop_assert_eq!(redact_text(detector, &once, mode), once.clone());
            prop_assert!(detect(&once).is_empty(), "PHI left in {:?}", once);
        }
    }

    #[test]
    fn pseudonyms_map_back(text in clinical_text(), key in any::<u64>()) {
        let mut pseudonymiser = Pseudonymiser::new(key);
        let findings = detect(&text);
        let pseudonymised = pseudonymiser.pseudonymise(&text, &findings);
        // Relative dates ("last Friday") stay: they name no calendar day once dates are shifted.
        for surrogate in pseudonymiser.mapping().iter().filter(|s| s.label != PhiLabel::Date) {
            prop_assert_ne!(&surrogate.surrogate, &surrogate.original);
        }
        prop_assert_eq!(pseudonymised.is_empty(), text.is_empty());
    }

    #[test]
    fn restoring_a_stream_in_any_pieces_equals_restoring_it_whole(
        text in clinical_text(),
        key in any::<u64>(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut pseudonymiser = Pseudonymiser::new(key);
        let answer = pseudonymiser.pseudonymise(&text, &detect(&text));
        let mut boundaries: Vec<usize> = cuts.iter().map(|cut| cut.index(answer.len() + 1)).collect();
        boundaries.retain(|&at| answer.is_char_boundary(at));
        boundaries.extend([0, answer.len()]);
        boundaries.sort_unstable();
        boundaries.dedup();
        let mut restorer = pseudonymiser.restorer();
        let mut streamed = String::new();
        for pair in boundaries.windows(2) {
            streamed.push_str(&restorer.push(&answer[pair[0]..pair[1]]));
        }
        streamed.push_str(&restorer.finish());
        prop_assert_eq!(streamed, pseudonymiser.reidentify(&answer));
    }
}

#[test]
fn huge_inputs_are_scanned_without_panicking() {
    let block =
        "Pt John Smith, MRN 4827193, DOB 03/05/1961, lives at 42 Oak St., Springfield, IL 62704. ";
    let text = block.repeat(20_000) + &"x".repeat(1 << 20) + &"9".repeat(100_000);
    let findings = detect(&text);
    assert!(findings.len() >= 20_000 * 5);
    check_findings_are_well_formed(&text[..4096]);
}

#[test]
fn the_fuzz_seed_corpus_runs_through_the_fuzz_entry_point() {
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/phi_detect");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&corpus).expect("fuzz/corpus/phi_detect exists") {
        let bytes = std::fs::read(entry.expect("corpus entry").path()).expect("readable seed");
        scan_and_redact_for_fuzzing(&bytes);
        seeds += 1;
    }
    assert!(seeds >= 5, "the seed corpus has {seeds} files");
}
