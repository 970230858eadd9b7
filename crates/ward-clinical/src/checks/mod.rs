//! Output checks: pure functions over a model's answer and the input it was given. `review` runs
//! the ones a profile asks for and sums them up in a quality score.
//!
//! The score is a weighted mean, between 0 and 1, of the checks that ran:
//! - sections (weight 3): the share of required sections present and not empty;
//! - fabrication (weight 3): 1 with no warning, minus 0.25 per warning, not below 0;
//! - icd10 (weight 2): valid billable codes count 1, valid category codes 0.5, invalid codes 0,
//!   averaged over the codes mentioned (1 when none is);
//! - schema (weight 3): 1 when the output is JSON satisfying the schema, else 0.
//!
//! Flagged items (the model's `[CLARIFY: ...]` items, and medications that neither the note nor
//! the input gives a dose for) are reported but do not lower the score: flagging what is missing
//! is what the model is asked to do instead of inventing it.

pub mod clarify;
pub mod codes;
pub mod fabrication;
pub mod schema;
pub mod sections;

use std::ops::Range;

use serde::Serialize;

use crate::document::{CodeSuggestion, NoteSection};
use crate::icd10::CodeSet;
use crate::profile::{CheckName, Profile};

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub name: &'static str,
    pub passed: bool,
    /// Between 0 and 1.
    pub score: f64,
    /// How much it counts in the quality score (0: reported only).
    pub weight: f64,
    /// What failed, one line each (may quote the output, never the input).
    pub details: Vec<String>,
}

/// Quality of one answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    /// Weighted mean of the check scores, rounded to 0.01; 1 when no weighted check ran.
    pub score: f64,
    pub checks: Vec<CheckResult>,
}

/// Everything the checks found in one answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub sections: Vec<NoteSection>,
    pub missing_sections: Vec<String>,
    pub flagged_items: Vec<String>,
    pub fabrication_warnings: Vec<String>,
    pub codes: Vec<CodeSuggestion>,
    pub schema_violations: Vec<String>,
    pub quality: Quality,
}

impl Review {
    /// Short, text-free labels of what failed, for audit records and metrics
    /// (`missing_section`, `fabrication`, `invalid_code`, `schema`, `clarify`).
    pub fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        let mut add = |flag: &str, count: usize| {
            if count > 0 {
                flags.push(format!("{flag}:{count}"));
            }
        };
        add("missing_section", self.missing_sections.len());
        add("fabrication", self.fabrication_warnings.len());
        add(
            "invalid_code",
            self.codes.iter().filter(|code| !code.valid).count(),
        );
        add("schema", self.schema_violations.len());
        add("clarify", self.flagged_items.len());
        flags
    }
}

/// Byte spans of the `[CLARIFY: ...]` items of `text`.
pub(crate) fn clarify_spans(text: &str) -> Vec<Range<usize>> {
    clarify::spans(text)
        .into_iter()
        .map(|(span, _)| span)
        .collect()
}

/// Runs the checks `profile` asks for on `output`, with `input` (dictation plus any context)
/// as the only acceptable source of facts.
pub fn review(profile: &Profile, codes: &CodeSet, input: &str, output: &str) -> Review {
    let sections = sections::split(output, &profile.sections);
    let mut review = Review {
        missing_sections: Vec::new(),
        flagged_items: Vec::new(),
        fabrication_warnings: Vec::new(),
        codes: Vec::new(),
        schema_violations: Vec::new(),
        sections,
        quality: Quality {
            score: 1.0,
            checks: Vec::new(),
        },
    };
    let mut results = Vec::new();
    for check in &profile.checks {
        let result = match check {
            CheckName::Sections => {
                review.missing_sections = sections::missing(&review.sections, &profile.sections);
                let required = profile.sections.len().max(1) as f64;
                let present = profile.sections.len() - review.missing_sections.len();
                CheckResult {
                    name: check.as_str(),
                    passed: review.missing_sections.is_empty(),
                    score: present as f64 / required,
                    weight: 3.0,
                    details: review
                        .missing_sections
                        .iter()
                        .map(|title| format!("section \"{title}\" is missing or empty"))
                        .collect(),
                }
            }
            CheckName::Clarify => {
                review.flagged_items = clarify::items(output);
                let doses = fabrication::missing_doses(input, output, &review.flagged_items);
                review.flagged_items.extend(doses);
                CheckResult {
                    name: check.as_str(),
                    passed: true,
                    score: 1.0,
                    weight: 0.0,
                    details: review.flagged_items.clone(),
                }
            }
            CheckName::Fabrication => {
                review.fabrication_warnings = fabrication::warnings(input, output);
                let count = review.fabrication_warnings.len() as f64;
                CheckResult {
                    name: check.as_str(),
                    passed: count == 0.0,
                    score: (1.0 - 0.25 * count).max(0.0),
                    weight: 3.0,
                    details: review.fabrication_warnings.clone(),
                }
            }
            CheckName::Icd10 => {
                review.codes = codes::suggestions(codes, output);
                let total = review.codes.len();
                let points: f64 = review
                    .codes
                    .iter()
                    .map(|code| match (code.valid, code.billable) {
                        (true, true) => 1.0,
                        (true, false) => 0.5,
                        _ => 0.0,
                    })
                    .sum();
                CheckResult {
                    name: check.as_str(),
                    passed: review.codes.iter().all(|code| code.valid),
                    score: if total == 0 {
                        1.0
                    } else {
                        points / total as f64
                    },
                    weight: 2.0,
                    details: review
                        .codes
                        .iter()
                        .filter(|code| !code.valid || !code.billable)
                        .map(|code| {
                            if code.valid {
                                format!("{} is a category, not a billable code", code.code)
                            } else {
                                format!("{} is not an ICD-10-CM code", code.code)
                            }
                        })
                        .collect(),
                }
            }
            CheckName::Schema => {
                review.schema_violations = match &profile.schema {
                    Some(schema) => schema::violations(schema, output),
                    None => Vec::new(),
                };
                CheckResult {
                    name: check.as_str(),
                    passed: review.schema_violations.is_empty(),
                    score: if review.schema_violations.is_empty() {
                        1.0
                    } else {
                        0.0
                    },
                    weight: 3.0,
                    details: review.schema_violations.clone(),
                }
            }
        };
        results.push(result);
    }
    let weight: f64 = results.iter().map(|result| result.weight).sum();
    let weighted: f64 = results
        .iter()
        .map(|result| result.weight * result.score)
        .sum();
    review.quality = Quality {
        score: if weight > 0.0 {
            (weighted / weight * 100.0).round() / 100.0
        } else {
            1.0
        },
        checks: results,
    };
    review
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileSet;

    const DICTATION: &str = "Follow-up for type 2 diabetes. Feels well, no hypoglycemia. A1c 6.9 today. BP 128/76. Continue metformin 500 mg twice daily. Recheck in 3 months.";

    fn apso_review(note: &str) -> Review {
        let profiles = ProfileSet::builtin();
        review(
            profiles.get("apso-note").unwrap(),
            CodeSet::builtin(),
            DICTATION,
            note,
        )
    }

    #[test]
    fn a_complete_faithful_note_scores_one() {
        let note = "Assessment: Type 2 diabetes, well controlled (A1c 6.9).\nICD-10-CM: E11.9\nPlan: Continue metformin 500 mg twice daily. Recheck in 3 months.\nSubjective: Feels well, no hypoglycemia.\nObjective: BP 128/76.";
        let review = apso_review(note);
        assert!(review.missing_sections.is_empty());
        assert!(
            review.fabrication_warnings.is_empty(),
            "{:?}",
            review.fabrication_warnings
        );
        assert_eq!(review.codes.len(), 1);
        assert_eq!(review.quality.score, 1.0);
        assert!(review.flags().is_empty());
    }

    #[test]
    fn each_failure_lowers_the_score_and_is_flagged() {
        let note = "Assessment: Type 2 diabetes.\nICD-10-CM: E11.99\nPlan: Increase metformin to 1000 mg. [CLARIFY: next visit date]\nSubjective: Feels well.";
        let review = apso_review(note);
        assert_eq!(review.missing_sections, ["Objective"]);
        assert_eq!(review.fabrication_warnings.len(), 1);
        assert!(!review.codes[0].valid);
        assert_eq!(review.flagged_items, ["next visit date"]);
        // sections 3/4 (w3), fabrication 0.75 (w3), icd10 0 (w2), clarify (w0): 4.5/8.
        assert_eq!(review.quality.score, 0.56);
        assert_eq!(
            review.flags(),
            [
                "missing_section:1",
                "fabrication:1",
                "invalid_code:1",
                "clarify:1"
            ]
        );
    }

    #[test]
    fn schema_profiles_check_the_json() {
        let profiles = ProfileSet::builtin();
        let classify = profiles.get("classify").unwrap();
        let good = review(
            classify,
            CodeSet::builtin(),
            "refill please",
            r#"{"label": "medication-refill", "reason": "asks for a refill"}"#,
        );
        assert_eq!(good.quality.score, 1.0);
        let bad = review(
            classify,
            CodeSet::builtin(),
            "refill please",
            r#"{"label": "pharmacy"}"#,
        );
        assert_eq!(bad.quality.score, 0.0);
        assert!(!bad.schema_violations.is_empty());
    }
}
