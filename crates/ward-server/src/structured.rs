//! Structured output, in one place for both APIs: the wire spellings (OpenAI `response_format`,
//! Ollama `format`) parsed into an `OutputFormat`, and the rule that a call with a format is
//! answered only with an answer that satisfies it.
//!
//! The complete answer is checked before anything is sent: it must be JSON (the inside of a
//! Markdown fence, when a remote model adds one, is taken as the answer), an object for
//! `json_object`, and free of schema violations for `json_schema`. A failing answer (a remote
//! backend that ignored the format, an answer cut off by `max_tokens`) is asked for once more;
//! a second failure is a 503 that says so and never quotes the answer. Each attempt is its own
//! model call through `call::start`, so each has its own audit record. A streaming client gets
//! the checked answer as ordinary chunks once it is complete.

use serde_json::Value;
use ward_clinical::checks::schema;
use ward_core::{
    ErrorKind, FinishReason, GenerationRequest, GenerationSummary, OutputFormat, Timings, Usage,
    WardError,
};

use crate::call::{self, CallContext, StartedCall};
use crate::error::{ApiError, ApiFlavor};
use crate::routes::AppState;

/// Model calls per request before an answer that does not satisfy the format is an error.
const ATTEMPTS: u32 = 2;
/// Longest `json_schema.name`, as OpenAI allows.
const MAX_SCHEMA_NAME: usize = 64;
/// The schema name used for Ollama's `format`, which has none.
const OLLAMA_SCHEMA_NAME: &str = "response";

/// OpenAI's `response_format`: `{"type": "text"}`, `{"type": "json_object"}`, or
/// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`.
pub fn openai_response_format(value: &Value) -> Result<OutputFormat, WardError> {
    let refuse = |message: &str, param: &str| {
        Err(WardError::invalid_request(message.to_owned()).with_param(param.to_owned()))
    };
    let Some(object) = value.as_object() else {
        return refuse(
            r#"response_format must be an object such as {"type": "json_object"}"#,
            "response_format",
        );
    };
    match object.get("type").and_then(Value::as_str) {
        Some("text") => Ok(OutputFormat::Text),
        Some("json_object") => Ok(OutputFormat::JsonObject),
        Some("json_schema") => {
            let Some(spec) = object.get("json_schema").and_then(Value::as_object) else {
                return refuse(
                    "response_format.json_schema must be an object with a name and a schema",
                    "response_format.json_schema",
                );
            };
            let name = match spec.get("name").and_then(Value::as_str) {
                Some(name) if is_schema_name(name) => name.to_owned(),
                _ => {
                    return refuse(
                        "response_format.json_schema.name must be 1 to 64 letters, digits, underscores or dashes",
                        "response_format.json_schema.name",
                    )
                }
            };
            let strict = match spec.get("strict") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(strict)) => *strict,
                Some(_) => {
                    return refuse(
                        "response_format.json_schema.strict must be a boolean",
                        "response_format.json_schema.strict",
                    )
                }
            };
            let schema = checked_schema(spec.get("schema"), "response_format.json_schema.schema")?;
            Ok(OutputFormat::JsonSchema {
                name,
                schema,
                strict,
            })
        }
        _ => refuse(
            "response_format.type must be text, json_object or json_schema",
            "response_format.type",
        ),
    }
}

/// Ollama's `format`: absent or empty for text, `"json"` for a JSON object, or a JSON schema.
pub fn ollama_format(value: Option<&Value>) -> Result<OutputFormat, WardError> {
    match value {
        None | Some(Value::Null) => Ok(OutputFormat::Text),
        Some(Value::String(format)) if format.is_empty() => Ok(OutputFormat::Text),
        Some(Value::String(format)) if format == "json" => Ok(OutputFormat::JsonObject),
        Some(schema @ Value::Object(_)) => Ok(OutputFormat::JsonSchema {
            name: OLLAMA_SCHEMA_NAME.to_owned(),
            schema: checked_schema(Some(schema), "format")?,
            strict: true,
        }),
        Some(_) => Err(WardError::invalid_request(
            r#"format must be "json" or a JSON schema object"#,
        )
        .with_param("format")),
    }
}

fn is_schema_name(name: &str) -> bool {
    (1..=MAX_SCHEMA_NAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The schema, once it is known to compile; the error names the field, not the schema's text
/// (or the validator's description of it, which quotes it).
fn checked_schema(schema: Option<&Value>, param: &str) -> Result<Value, WardError> {
    match schema {
        Some(schema @ Value::Object(_)) if schema::compile(schema).is_ok() => Ok(schema.clone()),
        Some(Value::Object(_)) => Err(WardError::invalid_request(format!(
            "{param} is not a valid JSON schema"
        ))
        .with_param(param.to_owned())),
        _ => Err(
            WardError::invalid_request(format!("{param} must be a JSON schema object"))
                .with_param(param.to_owned()),
        ),
    }
}

/// Why an answer does not satisfy its format; never any part of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonconformity {
    NotJson,
    NotAnObject,
    SchemaViolations(usize),
}

impl Nonconformity {
    /// A stable name for logs.
    pub fn code(self) -> &'static str {
        match self {
            Nonconformity::NotJson => "not_json",
            Nonconformity::NotAnObject => "not_an_object",
            Nonconformity::SchemaViolations(_) => "schema_violations",
        }
    }

    fn describe(self) -> String {
        match self {
            Nonconformity::NotJson => "was not JSON".to_owned(),
            Nonconformity::NotAnObject => "was JSON but not an object".to_owned(),
            Nonconformity::SchemaViolations(1) => "broke 1 rule of the schema".to_owned(),
            Nonconformity::SchemaViolations(count) => {
                format!("broke {count} rules of the schema")
            }
        }
    }
}

/// What is delivered for `answer` under `format`: the answer itself for free text, otherwise
/// the JSON in it (without a Markdown fence or words around it), if that satisfies the format.
pub fn conforming_answer(format: &OutputFormat, answer: &str) -> Result<String, Nonconformity> {
    let json = match format {
        OutputFormat::Text => return Ok(answer.to_owned()),
        OutputFormat::JsonObject | OutputFormat::JsonSchema { .. } => {
            schema::extract_json(answer).ok_or(Nonconformity::NotJson)?
        }
    };
    match format {
        OutputFormat::JsonObject => {
            let value: Value = serde_json::from_str(json).map_err(|_| Nonconformity::NotJson)?;
            if !value.is_object() {
                return Err(Nonconformity::NotAnObject);
            }
        }
        OutputFormat::JsonSchema { schema, .. } => {
            let violations = schema::violations(schema, json);
            if !violations.is_empty() {
                return Err(Nonconformity::SchemaViolations(violations.len()));
            }
        }
        OutputFormat::Text => {}
    }
    Ok(json.to_owned())
}

/// Starts a model call; with an output format, the call is complete and its answer checked
/// (and asked for a second time if it fails) before this returns.
pub async fn start(
    state: &AppState,
    context: CallContext<'_>,
    request: GenerationRequest,
) -> Result<StartedCall, ApiError> {
    if request.format.is_text() {
        return call::start(state, context, request).await;
    }
    // Nothing is sent before the answer is checked, so even a streaming client gets a failure
    // as an HTTP status; its record must say that status.
    let context = CallContext {
        streaming: false,
        ..context
    };
    let flavor = context.flavor;
    let mut usage = Usage::default();
    let mut timings = Timings::default();
    // Each attempt at the price of the backend that made it.
    let mut cost: Option<f64> = None;
    let mut attempt = 1;
    loop {
        let started = call::start(state, context, request.clone()).await?;
        let request_id = started.request_id.clone();
        let model = started.model.clone();
        let headers = started.headers();
        let price = started.price();
        let (answer, summary, mut headers) = match started.collect().await {
            Ok(collected) => collected,
            Err(error) => return Err(ApiError::new(flavor, error).with_headers(headers)),
        };
        usage.prompt_tokens += summary.usage.prompt_tokens;
        usage.completion_tokens += summary.usage.completion_tokens;
        timings.queued += summary.timings.queued;
        timings.prompt_eval += summary.timings.prompt_eval;
        timings.generation += summary.timings.generation;
        if let Some(price) = price {
            *cost.get_or_insert(0.0) += price.cost_usd(&summary.usage);
        }
        let nonconformity = match conforming_answer(&request.format, &answer) {
            Ok(json) => {
                // Usage counts every attempt: each was generated and charged.
                let summary = GenerationSummary {
                    usage,
                    timings,
                    ..summary
                };
                if let Some(cost) = cost {
                    call::set_cost(&mut headers, cost);
                }
                return Ok(StartedCall::answered(
                    request_id, model, headers, json, summary,
                ));
            }
            Err(nonconformity) => nonconformity,
        };
        tracing::warn!(
            request_id = %request_id,
            attempt,
            problem = nonconformity.code(),
            finish_reason = summary.finish_reason.as_str(),
            "the answer did not satisfy the requested output format"
        );
        if attempt >= ATTEMPTS {
            let error = unsatisfied(flavor, nonconformity, summary.finish_reason);
            return Err(ApiError::new(flavor, error).with_headers(headers));
        }
        attempt += 1;
    }
}

/// The error after the last attempt: what was asked, how often, and what went wrong.
fn unsatisfied(flavor: ApiFlavor, last: Nonconformity, finish_reason: FinishReason) -> WardError {
    let (field, limit) = match flavor {
        ApiFlavor::OpenAi => ("response_format", "max_tokens"),
        ApiFlavor::Ollama => ("format", "options.num_predict"),
    };
    let cut_off = if finish_reason == FinishReason::Length {
        format!(", and it was cut off by the token limit ({limit})")
    } else {
        String::new()
    };
    WardError::new(
        ErrorKind::BackendUnavailable,
        format!(
            "the model's answer did not satisfy {field} after {ATTEMPTS} attempts: the last answer {}{cut_off}",
            last.describe()
        ),
    )
    .with_param(field)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema_format() -> OutputFormat {
        OutputFormat::JsonSchema {
            name: "triage".into(),
            schema: json!({
                "type": "object",
                "properties": {"urgency": {"enum": ["urgent", "routine"]}},
                "required": ["urgency"],
                "additionalProperties": false
            }),
            strict: true,
        }
    }

    fn refused_param(result: Result<OutputFormat, WardError>) -> String {
        let error = result.expect_err("refused");
        assert_eq!(error.kind, ErrorKind::InvalidRequest);
        error.param.expect("names the field")
    }

    #[test]
    fn openai_response_formats_parse_and_bad_ones_name_their_field() {
        assert_eq!(
            openai_response_format(&json!({"type": "text"})),
            Ok(OutputFormat::Text)
        );
        assert_eq!(
            openai_response_format(&json!({"type": "json_object"})),
            Ok(OutputFormat::JsonObject)
        );
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        assert_eq!(
            openai_response_format(
                &json!({"type": "json_schema", "json_schema": {"name": "a_b-1", "schema": schema, "strict": true}})
            ),
            Ok(OutputFormat::JsonSchema {
                name: "a_b-1".into(),
                schema: schema.clone(),
                strict: true
            })
        );
        let cases = [
            (json!("json_object"), "response_format"),
            (json!({"type": "yaml"}), "response_format.type"),
            (json!({}), "response_format.type"),
            (
                json!({"type": "json_schema"}),
                "response_format.json_schema",
            ),
            (
                json!({"type": "json_schema", "json_schema": {"schema": schema}}),
                "response_format.json_schema.name",
            ),
            (
                json!({"type": "json_schema", "json_schema": {"name": "has space", "schema": schema}}),
                "response_format.json_schema.name",
            ),
            (
                json!({"type": "json_schema", "json_schema": {"name": "n", "schema": schema, "strict": "yes"}}),
                "response_format.json_schema.strict",
            ),
            (
                json!({"type": "json_schema", "json_schema": {"name": "n"}}),
                "response_format.json_schema.schema",
            ),
            (
                json!({"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": 12}}}),
                "response_format.json_schema.schema",
            ),
        ];
        for (value, param) in cases {
            assert_eq!(
                refused_param(openai_response_format(&value)),
                param,
                "{value}"
            );
        }
    }

    #[test]
    fn ollama_formats_parse_and_bad_ones_name_the_field() {
        assert_eq!(ollama_format(None), Ok(OutputFormat::Text));
        assert_eq!(ollama_format(Some(&json!(""))), Ok(OutputFormat::Text));
        assert_eq!(
            ollama_format(Some(&json!("json"))),
            Ok(OutputFormat::JsonObject)
        );
        assert!(matches!(
            ollama_format(Some(&json!({"type": "object"}))),
            Ok(OutputFormat::JsonSchema { strict: true, .. })
        ));
        for value in [
            json!("yaml"),
            json!(3),
            json!(["json"]),
            json!({"type": "nope"}),
        ] {
            assert_eq!(
                refused_param(ollama_format(Some(&value))),
                "format",
                "{value}"
            );
        }
    }

    #[test]
    fn an_invalid_schema_is_refused_without_quoting_it() {
        let secret = json!({"type": "object", "properties": {"x": {"type": "John Whitfield"}}});
        let error = ollama_format(Some(&secret)).unwrap_err();
        assert!(!error.message.contains("Whitfield"), "{}", error.message);
    }

    #[test]
    fn answers_are_checked_and_the_json_in_them_delivered() {
        let format = schema_format();
        assert_eq!(
            conforming_answer(&format, "{\"urgency\": \"urgent\"}\n"),
            Ok("{\"urgency\": \"urgent\"}".to_owned())
        );
        assert_eq!(
            conforming_answer(&format, "```json\n{\"urgency\":\"routine\"}\n```"),
            Ok("{\"urgency\":\"routine\"}".to_owned())
        );
        assert_eq!(
            conforming_answer(&format, "{\"urgency\": \"maybe\", \"x\": 1}"),
            Err(Nonconformity::SchemaViolations(2))
        );
        assert_eq!(
            conforming_answer(&format, "{\"urgency\": \"urg"),
            Err(Nonconformity::NotJson)
        );
        assert_eq!(
            conforming_answer(&OutputFormat::JsonObject, "[1, 2]"),
            Err(Nonconformity::NotAnObject)
        );
        assert_eq!(
            conforming_answer(&OutputFormat::JsonObject, "Sure! {\"a\": 1}"),
            Ok("{\"a\": 1}".to_owned())
        );
        assert_eq!(
            conforming_answer(&OutputFormat::Text, " as is "),
            Ok(" as is ".to_owned())
        );
    }

    #[test]
    fn the_final_error_names_the_field_and_not_the_answer() {
        let error = unsatisfied(
            ApiFlavor::OpenAi,
            Nonconformity::SchemaViolations(2),
            FinishReason::Length,
        );
        assert_eq!(error.kind, ErrorKind::BackendUnavailable);
        assert_eq!(error.param.as_deref(), Some("response_format"));
        assert_eq!(
            error.message,
            "the model's answer did not satisfy response_format after 2 attempts: the last answer broke 2 rules of the schema, and it was cut off by the token limit (max_tokens)"
        );
        let error = unsatisfied(
            ApiFlavor::Ollama,
            Nonconformity::NotJson,
            FinishReason::Stop,
        );
        assert_eq!(error.param.as_deref(), Some("format"));
        assert!(error
            .message
            .ends_with("did not satisfy format after 2 attempts: the last answer was not JSON"));
    }
}
