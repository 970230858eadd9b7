//! Rubric grading by a judge model: the messages Ward sends the judge, the JSON schema its
//! answer is decoded under, and reading its verdict. The judge's prompt, answer and score are
//! kept in the report (`Verdict`) so a reviewer can see why a case passed or failed.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Case, CaseMessage};
use crate::checks::schema;

/// The lowest and highest rubric scores.
pub const SCORES: std::ops::RangeInclusive<u8> = 1..=5;

/// The score a rubric case needs when it names none.
pub const DEFAULT_RUBRIC_MIN: u8 = 4;

/// The judge's system message.
pub const JUDGE_INSTRUCTIONS: &str = "You grade the output of a clinical documentation assistant \
against a rubric. Judge only what the rubric asks, using the source input as the truth: an \
output that states facts the input does not contain fails the rubric. Length and style earn \
nothing. Scores: 5 meets the rubric fully; 4 meets it with a minor slip; 3 meets part of it; 2 \
misses most of it; 1 misses it or contradicts the input. Answer with JSON only: \
{\"reason\": \"<one sentence>\", \"score\": <1-5>}.";

/// What the judge said about one answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The model that judged.
    pub judge: String,
    /// The messages the judge was sent (system, then user).
    pub prompt: Vec<CaseMessage>,
    /// The judge's raw answer.
    pub answer: String,
    /// 1 to 5; `None` when the judge failed or its answer could not be read.
    pub score: Option<u8>,
    pub reason: String,
    /// Why there is no score.
    pub error: Option<String>,
}

impl Verdict {
    /// Reads the judge's answer to `prompt`.
    pub fn read(judge: &str, prompt: Vec<CaseMessage>, answer: String) -> Verdict {
        let (score, reason, error) = match parse_verdict(&answer) {
            Ok((score, reason)) => (Some(score), reason, None),
            Err(error) => (None, String::new(), Some(error)),
        };
        Verdict {
            judge: judge.to_owned(),
            prompt,
            answer,
            score,
            reason,
            error,
        }
    }

    /// The judge call itself failed.
    pub fn failed(judge: &str, prompt: Vec<CaseMessage>, error: String) -> Verdict {
        Verdict {
            judge: judge.to_owned(),
            prompt,
            error: Some(error),
            ..Verdict::default()
        }
    }
}

/// What the judge is asked about `answer` for a case with a rubric; `None` without one.
pub fn judge_messages(case: &Case, answer: &str) -> Option<Vec<CaseMessage>> {
    let rubric = case.expect.rubric.as_deref()?;
    let source = if case.profile.is_some() {
        let mut source = case.input.clone();
        if let Some(context) = &case.patient_context {
            source = format!("{source}\n\nPatient context: {context}");
        }
        source
    } else {
        case.messages
            .iter()
            .map(|message| format!("{}: {}", message.role, message.content))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let user = format!(
        "Rubric: {rubric}\n\nSource input:\n<<<\n{source}\n>>>\n\nOutput to grade:\n<<<\n{}\n>>>",
        answer.trim()
    );
    Some(vec![
        CaseMessage {
            role: "system".into(),
            content: JUDGE_INSTRUCTIONS.into(),
        },
        CaseMessage {
            role: "user".into(),
            content: user,
        },
    ])
}

/// The JSON schema the judge's answer is decoded under (reason first, so the score follows it).
pub fn judge_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "reason": {"type": "string"},
            "score": {"enum": SCORES.collect::<Vec<u8>>()}
        },
        "required": ["reason", "score"]
    })
}

/// The score (1 to 5) and reason in a judge's answer.
pub fn parse_verdict(answer: &str) -> Result<(u8, String), String> {
    let json = schema::extract_json(answer).ok_or("the judge's answer holds no JSON object")?;
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|error| format!("the judge's JSON: {error}"))?;
    let score = match &value["score"] {
        serde_json::Value::Number(number) => number.as_f64(),
        serde_json::Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or("the judge's answer has no numeric `score`")?;
    let whole = score.fract() == 0.0 && (0.0..=255.0).contains(&score);
    if !whole || !SCORES.contains(&(score as u8)) {
        return Err(format!(
            "the judge's score {score} is not a whole number from 1 to 5"
        ));
    }
    let reason = value["reason"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_owned();
    Ok((score as u8, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::parse_suite;

    #[test]
    fn the_judge_sees_rubric_source_and_answer() {
        let cases = parse_suite(
            r#"{"id": "a", "profile": "apso-note", "input": "Cough 3 days.", "patient_context": "Asthma.", "expect": {"rubric": "Mentions the cough."}}
{"id": "b", "messages": [{"role": "user", "content": "What is BID?"}], "expect": {"contains": ["twice"]}}"#,
        )
        .unwrap();
        let messages = judge_messages(&cases[0], "  Assessment: cough.  ").unwrap();
        assert_eq!(messages[0].role, "system");
        let user = &messages[1].content;
        assert!(user.starts_with("Rubric: Mentions the cough."), "{user}");
        assert!(user.contains("<<<\nCough 3 days.\n\nPatient context: Asthma.\n>>>"));
        assert!(user.ends_with("<<<\nAssessment: cough.\n>>>"));
        assert_eq!(judge_messages(&cases[1], "twice daily"), None);
        assert!(schema::compile(&judge_schema()).is_ok());
    }

    #[test]
    fn verdicts_are_read_and_bad_ones_named() {
        assert_eq!(
            parse_verdict("{\"reason\": \"Plan kept.\", \"score\": 5}"),
            Ok((5, "Plan kept.".into()))
        );
        assert_eq!(
            parse_verdict("```json\n{\"score\": \"3\", \"reason\": \"x\"}\n```"),
            Ok((3, "x".into()))
        );
        for (answer, named) in [
            ("no json here", "no JSON"),
            ("{\"reason\": \"x\"}", "no numeric"),
            ("{\"score\": 7}", "from 1 to 5"),
            ("{\"score\": 3.5}", "whole number"),
        ] {
            let error = parse_verdict(answer).unwrap_err();
            assert!(error.contains(named), "{answer}: {error}");
        }
        let verdict = Verdict::read("judge", Vec::new(), "{\"score\": 0}".into());
        assert_eq!(verdict.score, None);
        assert!(verdict.error.is_some());
    }
}
