//! Evaluation suites: cases (a profile and its input, or raw messages) with the checks their
//! answers must pass, the grading of one answer, and the report that compares targets (models)
//! case by case, with the gates CI uses to block a worse model or prompt.
//!
//! A suite is JSON Lines, one case per line (blank lines and lines starting with `#` are
//! skipped). Grading reuses the clinical output checks (`checks::review`) for profile cases.

use serde::{Deserialize, Serialize};

use crate::checks::schema;
#[cfg(test)]
use crate::checks::Review;

mod html;
mod judge;
mod report;

pub use judge::{judge_messages, judge_schema, Verdict, JUDGE_INSTRUCTIONS};
pub use report::{cost_text, gate, Report, Summary, TargetOutcome, TargetReport};

/// One case of a suite.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    /// The profile the input goes through (`/v1/notes`); without one, `messages` are sent as a
    /// chat completion.
    pub profile: Option<String>,
    /// The dictation, question or document (profile cases).
    #[serde(default)]
    pub input: String,
    pub patient_context: Option<String>,
    /// Raw chat messages (`{"role", "content"}`), for cases without a profile.
    #[serde(default)]
    pub messages: Vec<CaseMessage>,
    #[serde(default)]
    pub expect: Expectations,
    /// Upper bound on generated tokens.
    pub max_tokens: Option<u32>,
    /// Free labels; `ward eval --tag` runs only the cases that carry one of them.
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMessage {
    pub role: String,
    pub content: String,
}

/// What an answer must satisfy; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// The profile's required sections are present (profile cases).
    #[serde(default)]
    pub sections: bool,
    /// Substrings that must appear (case-insensitive).
    #[serde(default)]
    pub contains: Vec<String>,
    /// Substrings that must not appear (case-insensitive).
    #[serde(default)]
    pub not_contains: Vec<String>,
    /// Regular expressions the answer must match.
    #[serde(default)]
    pub regex: Vec<String>,
    /// A JSON schema the answer must satisfy.
    pub schema: Option<serde_json::Value>,
    /// Every ICD-10-CM code mentioned exists (profile cases with the icd10 check).
    #[serde(default)]
    pub icd10_valid: bool,
    /// No fabrication warning (profile cases with the fabrication check).
    #[serde(default)]
    pub no_fabrication: bool,
    /// For classification: the `label` of the JSON answer, or the whole answer, must equal this.
    pub label: Option<String>,
    /// The input holds PHI: Ward must have found it (and so kept the call local).
    #[serde(default)]
    pub phi: bool,
    pub max_latency_ms: Option<f64>,
    /// What a judge model grades the answer against (`judge` module), scoring 1 to 5.
    pub rubric: Option<String>,
    /// The judge's score the rubric needs; `judge::DEFAULT_RUBRIC_MIN` when absent.
    pub rubric_min: Option<u8>,
}

/// Why a suite could not be read; names the line.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("line {line}: {message}")]
    Invalid { line: usize, message: String },
    #[error("the suite has no cases")]
    Empty,
}

/// Reads a JSON Lines suite and checks each case can run.
pub fn parse_suite(text: &str) -> Result<Vec<Case>, SuiteError> {
    let mut cases: Vec<Case> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let invalid = |message: String| SuiteError::Invalid {
            line: line_number,
            message,
        };
        let case: Case =
            serde_json::from_str(trimmed).map_err(|error| invalid(error.to_string()))?;
        if case.id.trim().is_empty() {
            return Err(invalid("`id` is empty".into()));
        }
        if cases.iter().any(|known| known.id == case.id) {
            return Err(invalid(format!("a second case has id '{}'", case.id)));
        }
        match (&case.profile, case.messages.is_empty()) {
            (Some(_), true) if case.input.trim().is_empty() => {
                return Err(invalid(format!(
                    "case '{}' has a profile but no `input`",
                    case.id
                )))
            }
            (Some(_), false) => {
                return Err(invalid(format!(
                    "case '{}' has both a profile and messages; a profile case takes `input`",
                    case.id
                )))
            }
            (None, true) => {
                return Err(invalid(format!(
                    "case '{}' needs a `profile` with `input`, or `messages`",
                    case.id
                )))
            }
            _ => {}
        }
        for pattern in &case.expect.regex {
            regex::Regex::new(pattern).map_err(|error| {
                invalid(format!("case '{}': regex {pattern:?}: {error}", case.id))
            })?;
        }
        if let Some(minimum) = case.expect.rubric_min {
            if !judge::SCORES.contains(&minimum) || case.expect.rubric.is_none() {
                return Err(invalid(format!(
                    "case '{}': `rubric_min` must be 1 to 5 and needs a `rubric`",
                    case.id
                )));
            }
        }
        if let Some(expected) = &case.expect.schema {
            schema::compile(expected)
                .map_err(|error| invalid(format!("case '{}': schema: {error}", case.id)))?;
        }
        cases.push(case);
    }
    if cases.is_empty() {
        return Err(SuiteError::Empty);
    }
    Ok(cases)
}

/// The built-in suites, one per built-in profile: synthetic dictations and questions written for
/// Ward (no patient data), some holding PHI that must keep the call local. One case of each is
/// tagged `ci`.
pub const BUILTIN_SUITES: &[(&str, &str)] = &[
    ("apso-note", include_str!("../../suites/apso-note.jsonl")),
    ("classify", include_str!("../../suites/classify.jsonl")),
    (
        "consult-note",
        include_str!("../../suites/consult-note.jsonl"),
    ),
    (
        "discharge-summary",
        include_str!("../../suites/discharge-summary.jsonl"),
    ),
    (
        "extract-entities",
        include_str!("../../suites/extract-entities.jsonl"),
    ),
    (
        "icd10-suggest",
        include_str!("../../suites/icd10-suggest.jsonl"),
    ),
    (
        "patient-message",
        include_str!("../../suites/patient-message.jsonl"),
    ),
    (
        "prior-auth-letter",
        include_str!("../../suites/prior-auth-letter.jsonl"),
    ),
    (
        "progress-note",
        include_str!("../../suites/progress-note.jsonl"),
    ),
    ("soap-note", include_str!("../../suites/soap-note.jsonl")),
    ("summarize", include_str!("../../suites/summarize.jsonl")),
];

/// The built-in suite of `profile`, or all of them one after the other when `None`.
pub fn builtin_suite(profile: Option<&str>) -> Option<String> {
    match profile {
        Some(profile) => BUILTIN_SUITES
            .iter()
            .find(|(name, _)| *name == profile)
            .map(|(_, text)| (*text).to_owned()),
        None => Some(
            BUILTIN_SUITES
                .iter()
                .map(|(_, text)| text.trim_end())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

/// What one target answered for one case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub text: String,
    pub latency_ms: f64,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// The PHI categories Ward reported (`x-ward-phi`), empty for none.
    pub phi_categories: Vec<String>,
    /// What the profile's checks found (profile cases).
    pub profile_checks: Option<ProfileChecks>,
    /// Who served it, from Ward's answer.
    pub served: Served,
    /// What the call cost, when its backend has token prices.
    pub cost_usd: Option<f64>,
    /// The judge's verdict (cases with a rubric).
    pub judge: Option<Verdict>,
    /// The call failed: the error message, and no text.
    pub error: Option<String>,
}

/// Where Ward sent a call: what its answer says about routing and the profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Served {
    pub model: Option<String>,
    pub tier: Option<String>,
    pub backend: Option<String>,
    /// `name@version` of the profile that shaped the call.
    pub profile: Option<String>,
}

/// What a profile's output checks found in an answer, as `/v1/notes` reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChecks {
    pub missing_sections: Vec<String>,
    /// Codes the answer mentions that are not ICD-10-CM codes.
    pub invalid_codes: Vec<String>,
    pub fabrication_warnings: Vec<String>,
    pub quality_score: f64,
}

impl ProfileChecks {
    /// From a `/v1/notes` JSON answer; `None` when it is not one.
    pub fn from_note(note: &serde_json::Value) -> Option<ProfileChecks> {
        let strings = |field: &str| -> Vec<String> {
            note[field]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(ProfileChecks {
            missing_sections: strings("missing_sections"),
            invalid_codes: note["icd10"]
                .as_array()
                .map(|codes| {
                    codes
                        .iter()
                        .filter(|code| code["valid"] == false)
                        .filter_map(|code| code["code"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            fabrication_warnings: strings("fabrication_warnings"),
            quality_score: note["quality"]["score"].as_f64()?,
        })
    }
}

#[cfg(test)]
impl From<&Review> for ProfileChecks {
    fn from(review: &Review) -> ProfileChecks {
        ProfileChecks {
            missing_sections: review.missing_sections.clone(),
            invalid_codes: review
                .codes
                .iter()
                .filter(|code| !code.valid)
                .map(|code| code.code.clone())
                .collect(),
            fabrication_warnings: review.fabrication_warnings.clone(),
            quality_score: review.quality.score,
        }
    }
}

/// One check of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub check: String,
    pub passed: bool,
    /// Why it failed; empty when it passed.
    pub detail: String,
}

/// One case graded for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case: String,
    pub passed: bool,
    /// The profile checks' quality score, or the share of passed checks for raw cases.
    pub score: f64,
    pub checks: Vec<CheckOutcome>,
    pub latency_ms: f64,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    #[serde(default)]
    pub served: Served,
    pub cost_usd: Option<f64>,
    pub judge: Option<Verdict>,
    pub error: Option<String>,
}

fn outcome(check: &str, passed: bool, detail: impl FnOnce() -> String) -> CheckOutcome {
    CheckOutcome {
        check: check.to_owned(),
        passed,
        detail: if passed { String::new() } else { detail() },
    }
}

/// Grades `answer` against the case's expectations.
pub fn grade(case: &Case, answer: &Answer) -> CaseResult {
    let mut checks = Vec::new();
    if let Some(error) = &answer.error {
        checks.push(outcome("answered", false, || error.clone()));
    } else {
        let expect = &case.expect;
        let lower = answer.text.to_lowercase();
        let profile_checks = answer.profile_checks.as_ref();
        if expect.sections {
            let missing = profile_checks
                .map(|found| found.missing_sections.clone())
                .unwrap_or_default();
            checks.push(outcome(
                "sections",
                profile_checks.is_some() && missing.is_empty(),
                || {
                    if profile_checks.is_none() {
                        "no profile checks for this answer".to_owned()
                    } else {
                        format!("missing: {}", missing.join(", "))
                    }
                },
            ));
        }
        for needle in &expect.contains {
            let found = lower.contains(&needle.to_lowercase());
            checks.push(outcome("contains", found, || {
                format!("{needle:?} not found")
            }));
        }
        for needle in &expect.not_contains {
            let found = lower.contains(&needle.to_lowercase());
            checks.push(outcome("not_contains", !found, || {
                format!("{needle:?} found")
            }));
        }
        for pattern in &expect.regex {
            let matched =
                regex::Regex::new(pattern).is_ok_and(|regex| regex.is_match(&answer.text));
            checks.push(outcome("regex", matched, || {
                format!("{pattern:?} did not match")
            }));
        }
        if let Some(expected) = &expect.schema {
            let violations = schema::violations(expected, &answer.text);
            checks.push(outcome("schema", violations.is_empty(), || {
                violations.join("; ")
            }));
        }
        if expect.icd10_valid {
            let invalid: Vec<String> = profile_checks
                .map(|found| found.invalid_codes.clone())
                .unwrap_or_default();
            checks.push(outcome("icd10_valid", invalid.is_empty(), || {
                format!("not ICD-10-CM codes: {}", invalid.join(", "))
            }));
        }
        if expect.no_fabrication {
            let warnings: Vec<String> = profile_checks
                .map(|found| found.fabrication_warnings.clone())
                .unwrap_or_default();
            checks.push(outcome("no_fabrication", warnings.is_empty(), || {
                warnings.join("; ")
            }));
        }
        if let Some(label) = &expect.label {
            let given = answer_label(&answer.text);
            let matches = given
                .as_deref()
                .is_some_and(|given| given.eq_ignore_ascii_case(label));
            checks.push(outcome("label", matches, || {
                format!("expected {label:?}, got {:?}", given.unwrap_or_default())
            }));
        }
        if expect.phi {
            checks.push(outcome("phi", !answer.phi_categories.is_empty(), || {
                "Ward found no PHI in an input that holds it".to_owned()
            }));
        }
        if expect.rubric.is_some() {
            let minimum = expect.rubric_min.unwrap_or(judge::DEFAULT_RUBRIC_MIN);
            let verdict = answer.judge.as_ref();
            let score = verdict.and_then(|verdict| verdict.score);
            checks.push(outcome(
                "rubric",
                score.is_some_and(|score| score >= minimum),
                || match verdict {
                    None => "no judge graded this answer".to_owned(),
                    Some(Verdict {
                        judge,
                        error: Some(error),
                        ..
                    }) => format!("the judge ({judge}) gave no score: {error}"),
                    Some(verdict) => format!(
                        "judge {} scored {} of 5, below {minimum}: {}",
                        verdict.judge,
                        score.unwrap_or(0),
                        verdict.reason
                    ),
                },
            ));
        }
        if let Some(limit) = expect.max_latency_ms {
            checks.push(outcome("max_latency", answer.latency_ms <= limit, || {
                format!("{:.0} ms over the {limit:.0} ms limit", answer.latency_ms)
            }));
        }
    }
    let passed_checks = checks.iter().filter(|check| check.passed).count();
    let passed = passed_checks == checks.len();
    let share = if checks.is_empty() {
        1.0
    } else {
        passed_checks as f64 / checks.len() as f64
    };
    let score = match (&answer.error, &answer.profile_checks) {
        (Some(_), _) => 0.0,
        // The profile's quality score, capped by the share of the case's own checks passed.
        (None, Some(found)) => found.quality_score.min(share),
        (None, None) => share,
    };
    CaseResult {
        case: case.id.clone(),
        passed,
        score: (score * 100.0).round() / 100.0,
        checks,
        latency_ms: answer.latency_ms,
        prompt_tokens: answer.prompt_tokens,
        completion_tokens: answer.completion_tokens,
        served: answer.served.clone(),
        cost_usd: answer.cost_usd,
        judge: answer.judge.clone(),
        error: answer.error.clone(),
    }
}

#[cfg(test)]
impl CaseResult {
    /// A result with one `contains` check that failed with `detail` unless `passed`; 10 prompt
    /// and 5 completion tokens costing $0.001.
    pub(crate) fn with_one_check(
        case: &str,
        passed: bool,
        score: f64,
        latency_ms: f64,
        detail: &str,
    ) -> CaseResult {
        CaseResult {
            case: case.into(),
            passed,
            score,
            checks: vec![outcome("contains", passed, || detail.to_owned())],
            latency_ms,
            prompt_tokens: 10,
            completion_tokens: 5,
            served: Served::default(),
            cost_usd: Some(0.001),
            judge: None,
            error: None,
        }
    }
}

/// The label of a classification answer: `label` of its JSON, else the trimmed text.
fn answer_label(text: &str) -> Option<String> {
    if let Some(json) = schema::extract_json(text) {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
            if let Some(label) = value.get("label").and_then(|label| label.as_str()) {
                return Some(label.to_owned());
            }
        }
    }
    let trimmed = text.trim().trim_matches(['"', '.']);
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::review;
    use crate::icd10::CodeSet;
    use crate::profile::ProfileSet;

    const SUITE: &str = r#"
# a comment
{"id": "apso-1", "profile": "apso-note", "input": "Cough 3 days. Temp 38.1. Start amoxicillin 500 mg.", "expect": {"sections": true, "no_fabrication": true, "icd10_valid": true, "contains": ["amoxicillin"]}}
{"id": "triage-1", "messages": [{"role": "user", "content": "Chest pain now"}], "expect": {"label": "urgent-clinical", "max_latency_ms": 1000}}
"#;

    fn profile_answer(text: &str) -> Answer {
        let profiles = ProfileSet::builtin();
        let profile = profiles.get("apso-note").unwrap();
        let input = "Cough 3 days. Temp 38.1. Start amoxicillin 500 mg.";
        Answer {
            text: text.to_owned(),
            latency_ms: 100.0,
            profile_checks: Some(ProfileChecks::from(&review(
                profile,
                CodeSet::builtin(),
                input,
                text,
            ))),
            ..Answer::default()
        }
    }

    #[test]
    fn suites_parse_and_bad_lines_are_named() {
        let cases = parse_suite(SUITE).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].messages[0].content, "Chest pain now");
        for (text, mentioned) in [
            ("{\"id\": \"a\"}", "needs a `profile`"),
            ("{\"id\": \"a\", \"profile\": \"p\"}", "no `input`"),
            ("{\"id\": \"a\", \"profile\": \"p\", \"input\": \"x\", \"expect\": {\"regex\": [\"(\"]}}", "regex"),
            ("{\"id\": \"a\", \"profile\": \"p\", \"input\": \"x\", \"expect\": {\"sectons\": true}}", "sectons"),
            ("not json", "line 1"),
        ] {
            let error = parse_suite(text).unwrap_err().to_string();
            assert!(error.contains(mentioned), "{text}: {error}");
        }
        let twice = "{\"id\": \"a\", \"profile\": \"p\", \"input\": \"x\"}\n{\"id\": \"a\", \"profile\": \"p\", \"input\": \"y\"}";
        assert!(parse_suite(twice)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        assert!(matches!(
            parse_suite("# only a comment\n"),
            Err(SuiteError::Empty)
        ));
    }

    #[test]
    fn a_good_answer_passes_and_a_bad_one_fails_the_right_checks() {
        let cases = parse_suite(SUITE).unwrap();
        let good = profile_answer("Assessment: acute bronchitis, temp 38.1.\nICD-10-CM: J20.9\nPlan: amoxicillin 500 mg.\nSubjective: cough 3 days.\nObjective: Temp 38.1.");
        let result = grade(&cases[0], &good);
        assert!(result.passed, "{result:?}");
        assert_eq!(result.score, 1.0);

        let bad = profile_answer("Assessment: pneumonia.\nICD-10-CM: J18.99\nPlan: azithromycin 250 mg.\nSubjective: cough.");
        let result = grade(&cases[0], &bad);
        assert!(!result.passed);
        let failed: Vec<&str> = result
            .checks
            .iter()
            .filter(|check| !check.passed)
            .map(|check| check.check.as_str())
            .collect();
        assert_eq!(
            failed,
            ["sections", "contains", "icd10_valid", "no_fabrication"]
        );
        assert!(result.score < 0.5, "{}", result.score);
    }

    #[test]
    fn labels_latency_and_errors() {
        let cases = parse_suite(SUITE).unwrap();
        let answer = |text: &str, latency_ms: f64| Answer {
            text: text.into(),
            latency_ms,
            ..Answer::default()
        };
        assert!(
            grade(
                &cases[1],
                &answer(
                    "{\"label\": \"urgent-clinical\", \"reason\": \"now\"}",
                    10.0
                )
            )
            .passed
        );
        let slow_wrong = grade(&cases[1], &answer("routine-clinical", 5000.0));
        assert_eq!(slow_wrong.score, 0.0);
        assert_eq!(slow_wrong.checks.len(), 2);
        let failed = grade(
            &cases[1],
            &Answer {
                error: Some("backend unavailable".into()),
                ..Answer::default()
            },
        );
        assert!(!failed.passed && failed.score == 0.0);
        assert_eq!(failed.checks[0].check, "answered");
    }

    #[test]
    fn rubric_cases_pass_on_the_judges_score() {
        let cases = parse_suite(
            r#"{"id": "r", "messages": [{"role": "user", "content": "Explain BID."}], "expect": {"rubric": "Says twice a day.", "rubric_min": 3}}"#,
        )
        .unwrap();
        let judged = |answer: &str| Answer {
            text: "Twice a day.".into(),
            judge: Some(Verdict::read("judge", Vec::new(), answer.into())),
            ..Answer::default()
        };
        assert!(grade(&cases[0], &judged("{\"reason\": \"ok\", \"score\": 3}")).passed);
        let low = grade(&cases[0], &judged("{\"reason\": \"wrong\", \"score\": 2}"));
        assert_eq!(low.checks[0].check, "rubric");
        assert!(low.checks[0]
            .detail
            .contains("scored 2 of 5, below 3: wrong"));
        let unread = grade(&cases[0], &judged("I think it is fine"));
        assert!(
            unread.checks[0].detail.contains("gave no score"),
            "{unread:?}"
        );
        let unjudged = grade(&cases[0], &Answer::default());
        assert_eq!(unjudged.checks[0].detail, "no judge graded this answer");
        for bad in [
            r#"{"id": "r", "messages": [{"role": "user", "content": "x"}], "expect": {"rubric": "y", "rubric_min": 6}}"#,
            r#"{"id": "r", "messages": [{"role": "user", "content": "x"}], "expect": {"rubric_min": 3}}"#,
        ] {
            assert!(parse_suite(bad)
                .unwrap_err()
                .to_string()
                .contains("rubric_min"));
        }
    }

    #[test]
    fn every_built_in_profile_has_a_suite_with_one_ci_case() {
        let profiles = ProfileSet::builtin();
        assert_eq!(BUILTIN_SUITES.len(), profiles.len());
        for (name, text) in BUILTIN_SUITES {
            let cases = parse_suite(text).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert!(profiles.get(name).is_some(), "{name}");
            assert!(cases
                .iter()
                .all(|case| case.profile.as_deref() == Some(*name)));
            let ci = cases
                .iter()
                .filter(|case| case.tags.iter().any(|tag| tag == "ci"));
            assert_eq!(ci.count(), 1, "{name}");
            assert!(
                cases.iter().any(|case| case.expect.phi),
                "{name}: no PHI case"
            );
            assert!(
                cases.iter().any(|case| case.expect.rubric.is_some()),
                "{name}: no rubric"
            );
        }
        let every = parse_suite(&builtin_suite(None).unwrap()).unwrap();
        assert_eq!(every.len(), 56);
        assert_eq!(builtin_suite(Some("nope")), None);
    }
}
