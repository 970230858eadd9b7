//! Structured output on the real grammar engine: every grammar the converter makes parses in
//! llama.cpp and admits the documents it should (and not the others), and generation under a
//! grammar gives answers of the requested shape, greedy and sampled.

use serde_json::{json, Value};
use ward_core::{FinishReason, OutputFormat, SamplingParams};
use ward_engine::grammar;

use super::{chat, complete, engine, greedy};

/// Schemas with documents their grammar must admit and documents it must refuse.
fn cases() -> Vec<(Value, Vec<&'static str>, Vec<&'static str>)> {
    vec![
        (
            json!({
                "type": "object",
                "properties": {
                    "urgency": {"enum": ["urgent", "routine"]},
                    "age": {"type": "integer"},
                    "note": {"type": "string"}
                },
                "required": ["urgency", "age"],
                "additionalProperties": false
            }),
            vec![
                r#"{"urgency":"urgent","age":54}"#,
                "{\n  \"urgency\": \"routine\",\n  \"age\": -3,\n  \"note\": \"caf\u{e9} \\\"ok\\\" \\u00e9\"\n}",
            ],
            vec![
                r#"{"urgency":"maybe","age":54}"#,
                r#"{"age":54,"urgency":"urgent"}"#,
                r#"{"urgency":"urgent"}"#,
                r#"{"urgency":"urgent","age":5.5}"#,
                r#"{"urgency":"urgent","age":54,"extra":1}"#,
                r#"{"urgency":"urgent","age":54"#,
            ],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "boolean"}, "b": {"type": "null"}, "c": {"type": "number"}}}),
            vec!["{}", r#"{"b":null}"#, r#"{"a":true,"c":1.5e3}"#, r#"{"a":false,"b":null,"c":0}"#],
            vec![r#"{"c":1,"a":true}"#, r#"{,"a":true}"#, r#"{"a":true,}"#],
        ),
        (
            json!({
                "$defs": {"Code": {"type": "string", "maxLength": 8}},
                "definitions": {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}}, "required": ["children"]}},
                "type": "object",
                "properties": {
                    "code": {"$ref": "#/$defs/Code"},
                    "tree": {"$ref": "#/definitions/Node"},
                    "codes": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
                    "owner": {"type": ["string", "null"]},
                    "kind": {"anyOf": [{"type": "integer"}, {"const": "none"}]}
                },
                "required": ["code", "tree", "codes", "owner", "kind"]
            }),
            vec![
                r#"{"code":"I10","tree":{"children":[{"children":[]}]},"codes":["a"],"owner":null,"kind":"none"}"#,
                r#"{"code":"","tree":{"children":[]},"codes":["a","b","c"],"owner":"Dr X","kind":12}"#,
            ],
            vec![
                r#"{"code":"TOO-LONG-CODE","tree":{"children":[]},"codes":["a"],"owner":null,"kind":1}"#,
                r#"{"code":"I10","tree":{"children":[]},"codes":[],"owner":null,"kind":1}"#,
                r#"{"code":"I10","tree":{"children":[]},"codes":["a","b","c","d"],"owner":null,"kind":1}"#,
                r#"{"code":"I10","tree":{"children":[]},"codes":["a"],"owner":null,"kind":"some"}"#,
            ],
        ),
        (
            json!({"type": "array", "items": {"type": "object", "additionalProperties": {"type": "integer"}}, "maxItems": 2}),
            vec!["[]", r#"[{"x":1,"y":2},{}]"#],
            vec![r#"[{"x":"1"}]"#, "[{},{},{}]"],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn converter_grammars_parse_in_llama_cpp_and_admit_the_right_documents() {
    let Some(engine) = engine().await else { return };
    let object = grammar::json_object();
    assert_eq!(
        engine.grammar_admits(&object, r#"{"a": [1, {"b": null}]}"#),
        Some(true)
    );
    assert_eq!(engine.grammar_admits(&object, "[1]"), Some(false));
    assert_eq!(
        engine.grammar_admits(&object, "```json\n{}\n```"),
        Some(false)
    );
    assert_eq!(
        engine.grammar_admits(&grammar::any_json(), "\"text\""),
        Some(true)
    );
    assert_eq!(engine.grammar_admits("root ::= undefined-rule", "{}"), None);
    for (schema, admitted, refused) in cases() {
        let grammar = grammar::from_schema(&schema);
        for document in admitted {
            assert_eq!(
                engine.grammar_admits(&grammar, document),
                Some(true),
                "{document}\n{grammar}"
            );
        }
        for document in refused {
            assert_eq!(
                engine.grammar_admits(&grammar, document),
                Some(false),
                "{document}\n{grammar}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schema_constrains_greedy_generation() {
    let Some(engine) = engine().await else { return };
    let schema = json!({
        "type": "object",
        "properties": {
            "urgency": {"enum": ["urgent", "routine"]},
            "tachycardia": {"type": "boolean"}
        },
        "required": ["urgency", "tachycardia"],
        "additionalProperties": false
    });
    let mut request = chat(
        &engine,
        "Chest pain and a heart rate of 130. Triage this.",
        60,
        greedy(),
        &[],
    );
    request.format = OutputFormat::JsonSchema {
        name: "triage".into(),
        schema,
        strict: true,
    };
    let (text, summary) = complete(&engine, request).await;
    assert_eq!(summary.finish_reason, FinishReason::Stop, "{text}");
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert!(
        ["urgent", "routine"].contains(&value["urgency"].as_str().unwrap()),
        "{text}"
    );
    assert!(value["tachycardia"].is_boolean(), "{text}");
    assert_eq!(value.as_object().unwrap().len(), 2, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sampled_generation_stays_inside_the_grammar() {
    let Some(engine) = engine().await else { return };
    for seed in 1..=4 {
        let sampling = SamplingParams {
            temperature: Some(1.2),
            seed: Some(seed),
            repeat_penalty: Some(1.1),
            ..SamplingParams::default()
        };
        let mut request = chat(&engine, "Describe a patient as JSON.", 48, sampling, &[]);
        request.format = OutputFormat::JsonObject;
        let (text, summary) = complete(&engine, request).await;
        assert!(text.starts_with('{'), "seed {seed}: {text}");
        if summary.finish_reason == FinishReason::Stop {
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("seed {seed}: not JSON: {text}"));
            assert!(value.is_object(), "seed {seed}: {text}");
        }
    }
    // The engine serves free text as before, right after constrained requests.
    let (text, _) = complete(&engine, chat(&engine, "Say hello.", 8, greedy(), &[])).await;
    assert!(!text.is_empty());
}
