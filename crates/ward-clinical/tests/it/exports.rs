//! The FHIR and DOCX exports of a synthetic note, written out for the end-to-end checkers.

use std::path::PathBuf;

use ward_clinical::document::{CodeSuggestion, NoteDocument, NoteSection, NoteType, Reference};
use ward_clinical::{docx, fhir};

/// A synthetic SOAP progress note (no real patient) that exercises what the exports must handle:
/// `[CLARIFY: ...]` items, characters XML must escape, non-ASCII text, an invalid code.
fn sample_note() -> NoteDocument {
    let sections = [
        (
            "Subjective",
            "58-year-old reports 4 days of productive cough & low-grade fever.\n\
             Denies chest pain. Uses inhaler \"a few times\" a week. [CLARIFY: smoking history]",
        ),
        (
            "Objective",
            "T 38.1 °C, HR 92, BP 128/82, SpO2 96 % on room air.\n\
             Scattered expiratory wheeze, no focal crackles.",
        ),
        (
            "Assessment",
            "Acute bronchitis, likely viral (<2 weeks, no consolidation signs).\n\
             Mild intermittent asthma with exacerbation.",
        ),
        (
            "Plan",
            "Albuterol 90 µg/actuation, 2 puffs every 4-6 hours as needed.\n\
             Return if fever > 3 days or dyspnea worsens. Follow up in [CLARIFY: follow-up interval].",
        ),
    ];
    let text = sections
        .iter()
        .map(|(title, text)| format!("{title}:\n{text}"))
        .collect::<Vec<_>>()
        .join("\n\n");
    NoteDocument {
        title: "SOAP progress note".into(),
        note_type: NoteType::PROGRESS_NOTE,
        text,
        sections: sections
            .iter()
            .map(|(title, text)| NoteSection {
                title: (*title).into(),
                text: (*text).into(),
            })
            .collect(),
        flagged_items: vec!["smoking history".into(), "follow-up interval".into()],
        fabrication_warnings: vec!["\"HR 92\" does not appear in the dictation.".into()],
        codes: vec![
            CodeSuggestion {
                code: "J20.9".into(),
                description: Some("Acute bronchitis, unspecified".into()),
                valid: true,
                billable: true,
                evidence: "Acute bronchitis, likely viral".into(),
            },
            CodeSuggestion {
                code: "J45.21".into(),
                description: Some("Mild intermittent asthma with (acute) exacerbation".into()),
                valid: true,
                billable: true,
                evidence: "Mild intermittent asthma with exacerbation".into(),
            },
            CodeSuggestion {
                code: "J99.99".into(),
                description: None,
                valid: false,
                billable: false,
                evidence: "cough".into(),
            },
        ],
        profile: "soap-note".into(),
        profile_version: "1".into(),
        model: "qwen2.5-coder:1.5b".into(),
        created: "2025-03-04T10:20:30Z".into(),
        subject: Some(Reference {
            reference: "Patient/example-ward-1".into(),
            display: Some("Synthetic Patient".into()),
        }),
        author: Some(Reference {
            reference: "Practitioner/example-ward-2".into(),
            display: Some("Dr. Synthetic Clinician".into()),
        }),
    }
}

#[test]
fn exports_of_a_sample_note() {
    let note = sample_note();
    let document_reference = fhir::document_reference(&note, "ward-sample-note");
    let bundle = fhir::document_bundle(&note, "ward-sample-note");
    let docx = docx::note_docx(&note).expect("DOCX written");

    assert_eq!(document_reference["resourceType"], "DocumentReference");
    assert_eq!(
        bundle["entry"][0]["resource"]["resourceType"],
        "Composition"
    );
    assert!(docx.starts_with(b"PK"));

    // Set by `cargo xtask ci` so tests/e2e/test_exports.py can check these files.
    let Some(samples_dir) = std::env::var_os("WARD_EXPORT_SAMPLES_DIR").map(PathBuf::from) else {
        return;
    };
    std::fs::create_dir_all(&samples_dir).expect("samples folder");
    let write_json = |name: &str, value: &serde_json::Value| {
        let json = serde_json::to_vec_pretty(value).expect("JSON");
        std::fs::write(samples_dir.join(name), json).expect("sample written");
    };
    write_json("sample.document-reference.json", &document_reference);
    write_json("sample.bundle.json", &bundle);
    std::fs::write(samples_dir.join("sample.docx"), docx).expect("sample written");
}
