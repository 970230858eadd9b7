//! Clinical workflows on top of generation: profiles (a baked, server-fixed system prompt with its
//! parameters and checks), the output checks a clinical text must pass (sections, `[CLARIFY: ...]`
//! items, fabricated facts, ICD-10-CM validity, JSON schema, the quality score that sums them
//! up), the ICD-10-CM code set, and the FHIR and DOCX exports of a finished note.
//!
//! Everything here is a pure function of its inputs: no IO, no network, no runtime.

pub mod checks;
mod codes_index;
pub mod cpt;
pub mod document;
pub mod docx;
pub mod eval;
pub mod fhir;
pub mod icd10;
pub mod profile;

pub use checks::{review, Quality, Review};
pub use document::{CodeSuggestion, NoteDocument, NoteSection, NoteType, Reference};
pub use icd10::{Code, CodeSet};
pub use profile::{CheckName, Profile, ProfileError, ProfileSet};
