//! A finished clinical note as the exports see it: its text, sections, what the checks found,
//! and where it came from (profile, model). Built by the note workflow, read by `fhir` and `docx`.

use serde::Serialize;

/// One titled part of a note, e.g. "Assessment".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteSection {
    pub title: String,
    pub text: String,
}

/// An ICD-10-CM code proposed for a note, checked against the code set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeSuggestion {
    /// As written, normalised to upper case with its dot (`E11.9`).
    pub code: String,
    /// The code set's title; `None` when the code does not exist.
    pub description: Option<String>,
    /// The code exists in the code set.
    pub valid: bool,
    /// The code exists and may be billed (a leaf of the classification).
    pub billable: bool,
    /// The line of the note or input that supports the code.
    pub evidence: String,
}

/// The kind of clinical document, as LOINC names it (FHIR `DocumentReference.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NoteType {
    /// LOINC code, e.g. `11506-3`.
    pub loinc: &'static str,
    /// LOINC display, e.g. `Progress note`.
    pub display: &'static str,
}

impl NoteType {
    pub const PROGRESS_NOTE: NoteType = NoteType {
        loinc: "11506-3",
        display: "Progress note",
    };
    pub const CONSULT_NOTE: NoteType = NoteType {
        loinc: "11488-4",
        display: "Consult note",
    };
    pub const DISCHARGE_SUMMARY: NoteType = NoteType {
        loinc: "18842-5",
        display: "Discharge summary",
    };
    pub const HISTORY_AND_PHYSICAL: NoteType = NoteType {
        loinc: "34117-2",
        display: "History and physical note",
    };
    pub const LETTER: NoteType = NoteType {
        loinc: "68609-7",
        display: "Letter",
    };
    pub const SUMMARY: NoteType = NoteType {
        loinc: "60280-5",
        display: "Summary of episode note",
    };
}

/// A FHIR reference given by the caller, e.g. `Patient/123`; Ward never invents one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub reference: String,
    pub display: Option<String>,
}

/// Everything an export needs about one note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteDocument {
    /// Human title, e.g. "APSO note".
    pub title: String,
    pub note_type: NoteType,
    /// The whole note as the model wrote it (plain text with section headings).
    pub text: String,
    /// The note split into its sections, in order; empty when no heading was found.
    pub sections: Vec<NoteSection>,
    /// The `[CLARIFY: ...]` items, without the brackets.
    pub flagged_items: Vec<String>,
    /// One sentence per fact in the note that the input does not support.
    pub fabrication_warnings: Vec<String>,
    pub codes: Vec<CodeSuggestion>,
    /// Profile name and content version that produced the note.
    pub profile: String,
    pub profile_version: String,
    /// The served model's name.
    pub model: String,
    /// RFC 3339 UTC time of creation.
    pub created: String,
    pub subject: Option<Reference>,
    pub author: Option<Reference>,
}
