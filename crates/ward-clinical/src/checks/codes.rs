//! ICD-10-CM codes in a model's output, each checked against the code set: a code that does not
//! exist is reported invalid, never passed on as a suggestion.

use crate::document::CodeSuggestion;
use crate::icd10::{self, CodeSet};

/// The line of `text` around byte `at`, trimmed and cut to 200 bytes.
fn line_around(text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map_or(0, |index| index + 1);
    let end = text[at..].find('\n').map_or(text.len(), |index| at + index);
    let line = text[start..end].trim();
    let mut cut = line.len().min(200);
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    line[..cut].to_owned()
}

/// Evidence given by the model itself in JSON answers (`{"codes": [{"code", "evidence"}]}`).
fn json_evidence(output: &str) -> Vec<(String, String)> {
    let Some(json) = super::schema::extract_json(output) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    value
        .get("codes")
        .and_then(|codes| codes.as_array())
        .map(|codes| {
            codes
                .iter()
                .filter_map(|entry| {
                    let code = icd10::normalise(entry.get("code")?.as_str()?)?;
                    let evidence = entry.get("evidence").and_then(|e| e.as_str()).unwrap_or("");
                    Some((code, evidence.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every distinct code mentioned in `output`, in order, validated against `codes`.
pub fn suggestions(codes: &CodeSet, output: &str) -> Vec<CodeSuggestion> {
    let given = json_evidence(output);
    let mut suggestions: Vec<CodeSuggestion> = Vec::new();
    for (span, code) in icd10::find_codes_in(output) {
        if suggestions.iter().any(|known| known.code == code) {
            continue;
        }
        let entry = codes.lookup(&code);
        let evidence = given
            .iter()
            .find(|(known, evidence)| *known == code && !evidence.is_empty())
            .map(|(_, evidence)| evidence.clone())
            .unwrap_or_else(|| line_around(output, span.start));
        suggestions.push(CodeSuggestion {
            description: entry.map(|entry| entry.description.clone()),
            valid: entry.is_some(),
            billable: entry.is_some_and(|entry| entry.billable),
            code,
            evidence,
        });
    }
    suggestions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_are_valid_and_invented_ones_are_not() {
        let note = "Assessment: type 2 diabetes; essential hypertension.\nICD-10-CM: E11.9, I10, E11.99, Z99.999";
        let found = suggestions(CodeSet::builtin(), note);
        let summary: Vec<(&str, bool, bool)> = found
            .iter()
            .map(|suggestion| {
                (
                    suggestion.code.as_str(),
                    suggestion.valid,
                    suggestion.billable,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("E11.9", true, true),
                ("I10", true, true),
                ("E11.99", false, false),
                ("Z99.999", false, false)
            ]
        );
        assert!(found[0]
            .description
            .as_deref()
            .unwrap()
            .contains("Type 2 diabetes"));
        assert_eq!(found[2].description, None);
        assert!(found[0].evidence.starts_with("ICD-10-CM"));
    }

    #[test]
    fn a_category_is_valid_but_not_billable() {
        let found = suggestions(CodeSet::builtin(), "ICD-10-CM: E11");
        assert!(found[0].valid && !found[0].billable);
    }

    #[test]
    fn json_answers_keep_the_models_evidence() {
        let output = r#"{"codes": [{"code": "I10", "description": "Essential hypertension", "evidence": "BP 150/95 on three visits"}]}"#;
        let found = suggestions(CodeSet::builtin(), output);
        assert_eq!(found[0].evidence, "BP 150/95 on three visits");
    }
}
