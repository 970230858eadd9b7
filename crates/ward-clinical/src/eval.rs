//! Evaluation suites: cases (a profile and its input, or raw messages) with the checks their
//! answers must pass, the grading of one answer, and the report that compares targets (models)
//! case by case, with the gates CI uses to block a worse model or prompt.
//!
//! A suite is JSON Lines, one case per line (blank lines and lines starting with `#` are
//! skipped). Grading reuses the clinical output checks (`checks::review`) for profile cases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checks::{schema, Review};

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
    /// The call failed: the error message, and no text.
    pub error: Option<String>,
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
        error: answer.error.clone(),
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

/// Everything one target did on the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    pub target: String,
    pub cases: Vec<CaseResult>,
    pub summary: Summary,
}

/// A target's figures over the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub cases: usize,
    pub passed: usize,
    pub pass_rate: f64,
    pub mean_score: f64,
    pub min_score: f64,
    pub p50_score: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Check name -> share of its runs that passed.
    pub check_pass_rates: BTreeMap<String, f64>,
}

/// The `p`-th percentile (nearest rank) of `values`; 0 for none.
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

impl TargetReport {
    pub fn new(target: &str, cases: Vec<CaseResult>) -> TargetReport {
        let scores: Vec<f64> = cases.iter().map(|case| case.score).collect();
        let latencies: Vec<f64> = cases
            .iter()
            .filter(|case| case.error.is_none())
            .map(|case| case.latency_ms)
            .collect();
        let passed = cases.iter().filter(|case| case.passed).count();
        let mut runs: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for check in cases.iter().flat_map(|case| case.checks.iter()) {
            let entry = runs.entry(check.check.clone()).or_default();
            entry.0 += usize::from(check.passed);
            entry.1 += 1;
        }
        let count = cases.len().max(1) as f64;
        let summary = Summary {
            cases: cases.len(),
            passed,
            pass_rate: round(passed as f64 / count),
            mean_score: round(scores.iter().sum::<f64>() / count),
            min_score: scores
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .min(1.0),
            p50_score: percentile(&scores, 50.0),
            latency_p50_ms: round(percentile(&latencies, 50.0)),
            latency_p95_ms: round(percentile(&latencies, 95.0)),
            prompt_tokens: cases.iter().map(|case| u64::from(case.prompt_tokens)).sum(),
            completion_tokens: cases
                .iter()
                .map(|case| u64::from(case.completion_tokens))
                .sum(),
            check_pass_rates: runs
                .into_iter()
                .map(|(check, (passed, total))| (check, round(passed as f64 / total as f64)))
                .collect(),
        };
        TargetReport {
            target: target.to_owned(),
            cases,
            summary,
        }
    }
}

/// One target's result on one case, for comparisons: target, passed, score.
pub type TargetOutcome = (String, bool, f64);

/// The whole evaluation: every target on the same suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub suite: String,
    pub targets: Vec<TargetReport>,
}

impl Report {
    /// Cases whose pass/fail differs between targets, with each target's result.
    pub fn differences(&self) -> Vec<(String, Vec<TargetOutcome>)> {
        let Some(first) = self.targets.first() else {
            return Vec::new();
        };
        first
            .cases
            .iter()
            .filter_map(|case| {
                let results: Vec<TargetOutcome> = self
                    .targets
                    .iter()
                    .filter_map(|target| {
                        target
                            .cases
                            .iter()
                            .find(|other| other.case == case.case)
                            .map(|other| (target.target.clone(), other.passed, other.score))
                    })
                    .collect();
                let differ = results.iter().any(|(_, passed, _)| *passed != results[0].1);
                differ.then(|| (case.case.clone(), results))
            })
            .collect()
    }

    /// The report as Markdown: a summary table per target, check pass rates, the cases where
    /// targets differ, and each failed check.
    pub fn markdown(&self) -> String {
        let mut out = format!("# Evaluation: {}\n\n", self.suite);
        out.push_str("| target | cases | passed | pass rate | mean score | min score | p50 latency ms | p95 latency ms | tokens in/out |\n|---|---|---|---|---|---|---|---|---|\n");
        for target in &self.targets {
            let s = &target.summary;
            out.push_str(&format!(
                "| {} | {} | {} | {:.1}% | {:.2} | {:.2} | {:.0} | {:.0} | {}/{} |\n",
                target.target,
                s.cases,
                s.passed,
                s.pass_rate * 100.0,
                s.mean_score,
                s.min_score,
                s.latency_p50_ms,
                s.latency_p95_ms,
                s.prompt_tokens,
                s.completion_tokens
            ));
        }
        out.push_str("\n## Checks\n\n| check |");
        for target in &self.targets {
            out.push_str(&format!(" {} |", target.target));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(self.targets.len()));
        out.push('\n');
        let checks: std::collections::BTreeSet<&String> = self
            .targets
            .iter()
            .flat_map(|target| target.summary.check_pass_rates.keys())
            .collect();
        for check in checks {
            out.push_str(&format!("| {check} |"));
            for target in &self.targets {
                match target.summary.check_pass_rates.get(check) {
                    Some(rate) => out.push_str(&format!(" {:.1}% |", rate * 100.0)),
                    None => out.push_str(" - |"),
                }
            }
            out.push('\n');
        }
        let differences = self.differences();
        if !differences.is_empty() {
            out.push_str("\n## Where targets differ\n\n");
            for (case, results) in differences {
                let shown: Vec<String> = results
                    .iter()
                    .map(|(target, passed, score)| {
                        format!(
                            "{target}: {} ({score:.2})",
                            if *passed { "pass" } else { "FAIL" }
                        )
                    })
                    .collect();
                out.push_str(&format!("- `{case}`: {}\n", shown.join(", ")));
            }
        }
        out.push_str("\n## Failures\n\n");
        let mut any = false;
        for target in &self.targets {
            for case in &target.cases {
                for check in case.checks.iter().filter(|check| !check.passed) {
                    any = true;
                    out.push_str(&format!(
                        "- {} / `{}` / {}: {}\n",
                        target.target, case.case, check.check, check.detail
                    ));
                }
            }
        }
        if !any {
            out.push_str("None.\n");
        }
        out
    }
}

/// Why a gate failed, one line per target that missed it.
pub fn gate(
    report: &Report,
    min_score: Option<f64>,
    baseline: Option<(&Report, f64)>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for target in &report.targets {
        let score = target.summary.mean_score;
        if let Some(minimum) = min_score {
            if score < minimum {
                failures.push(format!(
                    "{}: mean score {score:.3} is below --min-score {minimum:.3}",
                    target.target
                ));
            }
        }
        if let Some((baseline, allowed)) = baseline {
            let before = baseline
                .targets
                .iter()
                .find(|known| known.target == target.target)
                .or(baseline.targets.first());
            if let Some(before) = before {
                let drop = before.summary.mean_score - score;
                if drop > allowed + 1e-9 {
                    failures.push(format!(
                        "{}: mean score fell {drop:.3} from the baseline's {:.3} ({}), more than --max-regression {allowed:.3}",
                        target.target, before.summary.mean_score, before.target
                    ));
                }
            }
        }
    }
    failures
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
    fn reports_compare_targets_and_gates_block_regressions() {
        let result = |case: &str, passed: bool, score: f64, latency_ms: f64| CaseResult {
            case: case.into(),
            passed,
            score,
            checks: vec![CheckOutcome {
                check: "contains".into(),
                passed,
                detail: if passed {
                    String::new()
                } else {
                    "\"x\" not found".into()
                },
            }],
            latency_ms,
            prompt_tokens: 10,
            completion_tokens: 5,
            error: None,
        };
        let good = TargetReport::new(
            "good",
            vec![result("a", true, 1.0, 100.0), result("b", true, 1.0, 300.0)],
        );
        let bad = TargetReport::new(
            "bad",
            vec![
                result("a", true, 1.0, 100.0),
                result("b", false, 0.0, 200.0),
            ],
        );
        assert_eq!(good.summary.latency_p50_ms, 100.0);
        assert_eq!(good.summary.latency_p95_ms, 300.0);
        assert_eq!(bad.summary.pass_rate, 0.5);
        assert_eq!(bad.summary.check_pass_rates["contains"], 0.5);
        let report = Report {
            suite: "s".into(),
            targets: vec![good.clone(), bad.clone()],
        };
        let differences = report.differences();
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].0, "b");
        let markdown = report.markdown();
        assert!(markdown.contains("| good | 2 | 2 | 100.0%"), "{markdown}");
        assert!(
            markdown.contains("- `b`: good: pass (1.00), bad: FAIL (0.00)"),
            "{markdown}"
        );
        assert!(markdown.contains("bad / `b` / contains"), "{markdown}");

        assert!(gate(&report, Some(0.9), None)
            .iter()
            .any(|failure| failure.starts_with("bad:")));
        assert_eq!(gate(&report, Some(0.5), None), Vec::<String>::new());
        let baseline = Report {
            suite: "s".into(),
            targets: vec![TargetReport::new("bad", good.cases.clone())],
        };
        let now = Report {
            suite: "s".into(),
            targets: vec![bad],
        };
        assert_eq!(
            gate(&now, None, Some((&baseline, 0.6))),
            Vec::<String>::new()
        );
        assert_eq!(gate(&now, None, Some((&baseline, 0.1))).len(), 1);
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
    }
}
