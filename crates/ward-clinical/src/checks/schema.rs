//! JSON schema checks: a profile's output schema, and `response_format` schemas of clients.
//! Models often wrap JSON in a Markdown fence or a sentence; `extract_json` finds the JSON value
//! itself so that only a genuinely wrong answer fails.

/// Compiles `schema`; the error says why it is not a usable JSON schema.
pub fn compile(schema: &serde_json::Value) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|error| error.to_string())
}

/// The JSON text inside `output`: the whole output, the inside of a ```json fence, or the span
/// from the first `{`/`[` to the last matching `}`/`]`.
pub fn extract_json(output: &str) -> Option<&str> {
    let trimmed = output.trim();
    if serde_json::from_str::<serde_json::Value>(trimmed).is_ok() {
        return Some(trimmed);
    }
    if let Some(fenced) = trimmed.split("```").nth(1) {
        let body = fenced
            .trim_start_matches("json")
            .trim_start_matches("JSON")
            .trim();
        if serde_json::from_str::<serde_json::Value>(body).is_ok() {
            return Some(body);
        }
    }
    for (open, close) in [('{', '}'), ('[', ']')] {
        if let (Some(start), Some(end)) = (trimmed.find(open), trimmed.rfind(close)) {
            if start < end {
                let body = &trimmed[start..=end];
                if serde_json::from_str::<serde_json::Value>(body).is_ok() {
                    return Some(body);
                }
            }
        }
    }
    None
}

/// Why `output` does not satisfy `schema`: one line per violation (with its JSON pointer), or
/// why it is not JSON at all. Empty when it conforms.
pub fn violations(schema: &serde_json::Value, output: &str) -> Vec<String> {
    let validator = match compile(schema) {
        Ok(validator) => validator,
        Err(error) => return vec![format!("the schema itself is invalid: {error}")],
    };
    let Some(json) = extract_json(output) else {
        return vec!["the output is not JSON".to_owned()];
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return vec!["the output is not JSON".to_owned()];
    };
    validator
        .iter_errors(&value)
        .map(|error| {
            let path = error.instance_path().to_string();
            let at = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            format!("{at}: {error}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "required": ["label"],
            "properties": {"label": {"enum": ["urgent", "routine"]}}
        })
    }

    #[test]
    fn conforming_output_in_a_fence_passes() {
        assert!(violations(&schema(), "```json\n{\"label\": \"urgent\"}\n```").is_empty());
        assert!(violations(&schema(), "Here you go: {\"label\": \"routine\"} Thanks.").is_empty());
    }

    #[test]
    fn violations_name_the_place() {
        let found = violations(&schema(), "{\"label\": \"maybe\"}");
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("/label"), "{found:?}");
        assert_eq!(violations(&schema(), "{}").len(), 1);
        assert_eq!(
            violations(&schema(), "not json"),
            ["the output is not JSON"]
        );
    }

    #[test]
    fn an_invalid_schema_is_refused() {
        assert!(compile(&json!({"type": 12})).is_err());
    }
}
