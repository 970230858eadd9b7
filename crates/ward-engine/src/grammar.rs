//! JSON Schema to GBNF, llama.cpp's grammar language: how the embedded engine makes a model
//! write JSON of a requested shape. Pure and total: every schema yields a grammar, and what the
//! grammar does not express (`pattern`, `format`, numeric bounds, long enums, `allOf`, tuples)
//! falls back to the generic rule of its type, because the server validates every answer against
//! the schema afterwards anyway.
//!
//! The grammar is kept cheap on purpose. llama.cpp checks a rejected token's candidates against
//! every live alternative, so there are no large alternations (long enums and unions fall back),
//! optional properties may each appear once, in a fixed order after the required ones (instead
//! of in any order), counted repetitions are only used for small counts, and whitespace between
//! tokens is bounded so a model cannot pad forever.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use ward_core::OutputFormat;

/// Enums with more values than this use the generic rule of their type.
const MAX_ENUM_VALUES: usize = 64;
/// `anyOf` / `oneOf` / type lists with more branches than this use the generic value rule.
const MAX_UNION_BRANCHES: usize = 16;
/// `minItems`/`maxItems` and `minLength`/`maxLength` above this are left to validation.
const MAX_COUNTED_REPETITION: u64 = 16;
/// Schemas nested deeper than this use the generic value rule.
const MAX_DEPTH: usize = 32;
/// Longest rule name derived from property names.
const MAX_RULE_NAME: usize = 48;

/// The generic JSON rules, in the order they are written out, with their definitions. The
/// whitespace rule is llama.cpp's own: at most one space, or up to two newlines and 20 spaces.
const PRIMITIVES: [(&str, &str); 12] = [
    ("value", "object | array | string | number | boolean | null"),
    (
        "object",
        r#""{" space ( string ":" space value ( "," space string ":" space value )* )? "}" space"#,
    ),
    (
        "array",
        r#""[" space ( value ( "," space value )* )? "]" space"#,
    ),
    ("string", r#""\"" char* "\"" space"#),
    (
        "char",
        r#"[^"\\\x7F\x00-\x1F] | [\\] ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )"#,
    ),
    (
        "number",
        r#"( "-"? integral-part ) ( "." decimal-part )? ( [eE] [-+]? integral-part )? space"#,
    ),
    ("integer", r#"( "-"? integral-part ) space"#),
    ("integral-part", "[0] | [1-9] [0-9]{0,15}"),
    ("decimal-part", "[0-9]{1,16}"),
    ("boolean", r#"( "true" | "false" ) space"#),
    ("null", r#""null" space"#),
    ("space", r#"| " " | "\n"{1,2} [ \t]{0,20}"#),
];

/// The primitives each primitive refers to.
fn primitive_dependencies(name: &str) -> &'static [&'static str] {
    match name {
        "value" => &["object", "array", "string", "number", "boolean", "null"],
        "object" => &["space", "string", "value"],
        "array" => &["space", "value"],
        "string" => &["char", "space"],
        "number" | "integer" => &["integral-part", "decimal-part", "space"],
        "boolean" | "null" => &["space"],
        _ => &[],
    }
}

/// The grammar for an output format; `None` for free text.
pub fn for_format(format: &OutputFormat) -> Option<String> {
    match format {
        OutputFormat::Text => None,
        OutputFormat::JsonObject => Some(json_object()),
        OutputFormat::JsonSchema { schema, .. } => Some(from_schema(schema)),
    }
}

/// Any JSON object (OpenAI's `json_object`, Ollama's `"json"`).
pub fn json_object() -> String {
    let mut grammar = Grammar::new(&Value::Null);
    let object = grammar.primitive("object");
    grammar.write(object)
}

/// Any JSON value: the fallback when a schema's grammar is refused by llama.cpp.
pub fn any_json() -> String {
    let mut grammar = Grammar::new(&Value::Null);
    let value = grammar.primitive("value");
    grammar.write(value)
}

/// A grammar whose sentences are JSON documents shaped like `schema` (as far as the grammar
/// goes; see the module notes).
pub fn from_schema(schema: &Value) -> String {
    let mut grammar = Grammar::new(schema);
    let body = grammar.body(schema, "root");
    grammar.write(body)
}

/// A grammar under construction: named rules in the order they were made, the generic rules
/// they use, and the rule made for each `$ref` (so recursive schemas give recursive rules).
struct Grammar<'schema> {
    root_schema: &'schema Value,
    rules: Vec<(String, String)>,
    names: HashSet<String>,
    primitives: HashSet<&'static str>,
    references: HashMap<String, String>,
    depth: usize,
}

impl<'schema> Grammar<'schema> {
    fn new(root_schema: &'schema Value) -> Self {
        let mut names: HashSet<String> = PRIMITIVES
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        names.insert("root".to_owned());
        Grammar {
            root_schema,
            rules: Vec::new(),
            names,
            primitives: HashSet::new(),
            references: HashMap::new(),
            depth: 0,
        }
    }

    /// The grammar text: `root` first, then the schema's rules, then the generic ones.
    fn write(self, root_body: String) -> String {
        let mut text = format!("root ::= {root_body}\n");
        for (name, body) in &self.rules {
            text.push_str(&format!("{name} ::= {body}\n"));
        }
        for (name, body) in PRIMITIVES {
            if self.primitives.contains(name) {
                text.push_str(&format!("{name} ::= {body}\n"));
            }
        }
        text
    }

    /// Uses a generic rule (and what it refers to) and returns its name.
    fn primitive(&mut self, name: &'static str) -> String {
        if self.primitives.insert(name) {
            for dependency in primitive_dependencies(name) {
                self.primitive(dependency);
            }
        }
        name.to_owned()
    }

    /// A fresh rule name derived from `hint`.
    fn unique_name(&mut self, hint: &str) -> String {
        let mut base = String::new();
        for character in hint.chars() {
            if character.is_ascii_alphanumeric() {
                base.push(character.to_ascii_lowercase());
            } else if !base.ends_with('-') {
                base.push('-');
            }
        }
        let mut base = base.trim_matches('-').to_owned();
        base.truncate(MAX_RULE_NAME);
        let base = base.trim_end_matches('-');
        let base = if base.is_empty() { "rule" } else { base };
        let mut name = base.to_owned();
        let mut suffix = 1;
        while self.names.contains(&name) {
            suffix += 1;
            name = format!("{base}-{suffix}");
        }
        self.names.insert(name.clone());
        name
    }

    /// A named rule with `body`; returns the name.
    fn define(&mut self, hint: &str, body: String) -> String {
        let name = self.unique_name(hint);
        self.rules.push((name.clone(), body));
        name
    }

    /// `schema` as something that can stand in a sequence: a rule name.
    fn rule(&mut self, schema: &Value, hint: &str) -> String {
        let body = self.body(schema, hint);
        if is_rule_name(&body) {
            body
        } else {
            self.define(hint, body)
        }
    }

    /// The right-hand side of a rule for `schema`; may be an alternation.
    fn body(&mut self, schema: &Value, hint: &str) -> String {
        if self.depth >= MAX_DEPTH {
            return self.primitive("value");
        }
        self.depth += 1;
        let body = match schema {
            Value::Object(keywords) => self.keywords(keywords, hint),
            // `true`, `{}`: anything; `false` cannot be satisfied, and validation will say so.
            _ => self.primitive("value"),
        };
        self.depth -= 1;
        body
    }

    fn keywords(&mut self, schema: &Map<String, Value>, hint: &str) -> String {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return self.reference(reference);
        }
        if let Some(constant) = schema.get("const") {
            self.primitive("space");
            return format!("{} space", literal(constant));
        }
        if let Some(Value::Array(values)) = schema.get("enum") {
            if !values.is_empty() && values.len() <= MAX_ENUM_VALUES {
                self.primitive("space");
                let alternatives: Vec<String> = values.iter().map(literal).collect();
                return format!("( {} ) space", alternatives.join(" | "));
            }
        }
        for union in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = schema.get(union) {
                return self.union(branches, hint);
            }
        }
        if let Some(Value::Array(parts)) = schema.get("allOf") {
            if let [only] = parts.as_slice() {
                return self.body(only, hint);
            }
        }
        // OpenAPI's `nullable: true` adds `null` to whatever the type allows.
        let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
        let mut type_names: Vec<&str> = Vec::new();
        match schema.get("type") {
            Some(Value::String(name)) => type_names.push(name),
            Some(Value::Array(names)) => {
                for name in names.iter().filter_map(Value::as_str) {
                    if !type_names.contains(&name) {
                        type_names.push(name);
                    }
                }
            }
            _ if schema.contains_key("properties") || schema.contains_key("required") => {
                type_names.push("object")
            }
            _ if schema.contains_key("items") => type_names.push("array"),
            _ => {}
        }
        if nullable && !type_names.is_empty() && !type_names.contains(&"null") {
            type_names.push("null");
        }
        match type_names.as_slice() {
            [] => self.primitive("value"),
            [only] => self.typed(only, schema, hint),
            many if many.len() <= MAX_UNION_BRANCHES => {
                let mut branches = Vec::new();
                for name in many {
                    let branch_hint = format!("{hint}-{name}");
                    let typed = self.typed(name, schema, &branch_hint);
                    branches.push(self.as_rule(typed, &branch_hint));
                }
                branches.join(" | ")
            }
            _ => self.primitive("value"),
        }
    }

    /// A body turned into something that can stand in a sequence or alternation.
    fn as_rule(&mut self, body: String, hint: &str) -> String {
        if is_rule_name(&body) {
            body
        } else {
            self.define(hint, body)
        }
    }

    fn union(&mut self, branches: &[Value], hint: &str) -> String {
        if branches.is_empty() || branches.len() > MAX_UNION_BRANCHES {
            return self.primitive("value");
        }
        let rules: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(index, branch)| self.rule(branch, &format!("{hint}-{}", index + 1)))
            .collect();
        let mut distinct = Vec::new();
        for rule in rules {
            if !distinct.contains(&rule) {
                distinct.push(rule);
            }
        }
        distinct.join(" | ")
    }

    /// A rule for a local `$ref` (`#/$defs/…`, `#/definitions/…`, any JSON pointer into the
    /// schema), made once, so that recursive schemas give recursive rules.
    fn reference(&mut self, reference: &str) -> String {
        if let Some(name) = self.references.get(reference) {
            return name.clone();
        }
        let Some(pointer) = reference.strip_prefix('#').filter(|p| p.starts_with('/')) else {
            return self.primitive("value");
        };
        let Some(target) = self.root_schema.pointer(pointer) else {
            return self.primitive("value");
        };
        let hint = pointer.rsplit('/').next().unwrap_or("ref");
        let name = self.unique_name(&format!("ref-{hint}"));
        self.references.insert(reference.to_owned(), name.clone());
        // Outside the reference the nesting starts again; recursion goes through the name.
        let depth = std::mem::replace(&mut self.depth, 0);
        let body = self.body(target, &name);
        self.depth = depth;
        self.rules.push((name.clone(), body));
        name
    }

    fn typed(&mut self, type_name: &str, schema: &Map<String, Value>, hint: &str) -> String {
        match type_name {
            "object" => self.object(schema, hint),
            "array" => self.array(schema, hint),
            "string" => self.string(schema),
            "number" => self.primitive("number"),
            "integer" => self.primitive("integer"),
            "boolean" => self.primitive("boolean"),
            "null" => self.primitive("null"),
            _ => self.primitive("value"),
        }
    }

    fn object(&mut self, schema: &Map<String, Value>, hint: &str) -> String {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut required: Vec<&str> = Vec::new();
        if let Some(Value::Array(names)) = schema.get("required") {
            for name in names.iter().filter_map(Value::as_str) {
                if !required.contains(&name) {
                    required.push(name);
                }
            }
        }
        let additional = schema.get("additionalProperties");
        if properties.is_empty() && required.is_empty() {
            return match additional {
                Some(Value::Bool(false)) => {
                    self.primitive("space");
                    r#""{" space "}" space"#.to_owned()
                }
                // A map: any keys, each value of one schema.
                Some(value_schema @ Value::Object(_)) => {
                    let value = self.rule(value_schema, &format!("{hint}-value"));
                    let string = self.primitive("string");
                    format!(
                        r#""{{" space ( {string} ":" space {value} ( "," space {string} ":" space {value} )* )? "}}" space"#
                    )
                }
                _ => self.primitive("object"),
            };
        }
        self.primitive("space");
        // Properties beyond the named ones are never generated, even where the schema allows
        // them: an answer with fewer keys is still valid, and the grammar stays small.
        let member = |grammar: &mut Self, name: &str| {
            let value = match properties.get(name) {
                Some(property) => grammar.rule(property, &format!("{hint}-{name}")),
                None => grammar.primitive("value"),
            };
            let key = literal(&Value::String(name.to_owned()));
            format!(r#"{key} space ":" space {value}"#)
        };
        let required_members: Vec<String> =
            required.iter().map(|name| member(self, name)).collect();
        let optional_members: Vec<String> = properties
            .keys()
            .filter(|name| !required.contains(&name.as_str()))
            .map(|name| member(self, name))
            .collect();
        let mut body = String::from(r#""{" space "#);
        if required_members.is_empty() {
            // Any in-order subset of the optional members: the first one present has no comma,
            // each later one its own. `tail-i` is "members i.. each optional, with commas".
            let count = optional_members.len();
            let mut tails = vec![String::new(); count + 1];
            for index in (1..count).rev() {
                let next = if tails[index + 1].is_empty() {
                    String::new()
                } else {
                    format!(" {}", tails[index + 1])
                };
                let tail_body = format!(r#"( "," space {} )?{next}"#, optional_members[index]);
                tails[index] = self.define(&format!("{hint}-tail"), tail_body);
            }
            let alternatives: Vec<String> = optional_members
                .iter()
                .enumerate()
                .map(|(index, member)| {
                    if tails[index + 1].is_empty() {
                        member.clone()
                    } else {
                        format!("{member} {}", tails[index + 1])
                    }
                })
                .collect();
            body.push_str(&format!("( {} )? ", alternatives.join(" | ")));
        } else {
            body.push_str(&required_members.join(r#" "," space "#));
            body.push(' ');
            for member in &optional_members {
                body.push_str(&format!(r#"( "," space {member} )? "#));
            }
        }
        body.push_str(r#""}" space"#);
        body
    }

    fn array(&mut self, schema: &Map<String, Value>, hint: &str) -> String {
        if schema.contains_key("prefixItems")
            || matches!(schema.get("items"), Some(Value::Array(_)))
        {
            return self.primitive("array");
        }
        let item = match schema.get("items") {
            Some(items @ Value::Object(_)) => self.rule(items, &format!("{hint}-item")),
            _ => self.primitive("value"),
        };
        self.primitive("space");
        let count = |keyword: &str| schema.get(keyword).and_then(Value::as_u64);
        let (mut min, mut max) = (count("minItems").unwrap_or(0), count("maxItems"));
        if min > MAX_COUNTED_REPETITION || max.is_some_and(|max| max > MAX_COUNTED_REPETITION) {
            // Left to validation: a large count would expand into many llama.cpp rules.
            (min, max) = (0, None);
        }
        let rest = |more_min: u64, more_max: Option<u64>| {
            if more_max == Some(0) {
                return String::new();
            }
            let repeat = repetition(more_min, more_max);
            format!(r#" ( "," space {item} ){repeat}"#)
        };
        let inside = match (min, max) {
            (_, Some(0)) => String::new(),
            (0, max) => format!(
                "( {item}{} )? ",
                rest(0, max.map(|max| max.saturating_sub(1)))
            ),
            (min, max) => format!(
                "{item}{} ",
                rest(min - 1, max.map(|max| max.saturating_sub(1)))
            ),
        };
        format!(r#""[" space {inside}"]" space"#)
    }

    fn string(&mut self, schema: &Map<String, Value>) -> String {
        let string = self.primitive("string");
        if schema.contains_key("pattern") || schema.contains_key("format") {
            return string;
        }
        let count = |keyword: &str| schema.get(keyword).and_then(Value::as_u64);
        let (min, max) = (count("minLength").unwrap_or(0), count("maxLength"));
        if (min == 0 && max.is_none())
            || min > MAX_COUNTED_REPETITION
            || max.is_some_and(|max| max > MAX_COUNTED_REPETITION)
        {
            return string;
        }
        format!(r#""\"" char{} "\"" space"#, repetition(min, max))
    }
}

/// `{min,max}` in GBNF, with the short forms where they exist.
fn repetition(min: u64, max: Option<u64>) -> String {
    match (min, max) {
        (0, None) => "*".to_owned(),
        (1, None) => "+".to_owned(),
        (0, Some(1)) => "?".to_owned(),
        (min, None) => format!("{{{min},}}"),
        (min, Some(max)) => format!("{{{min},{}}}", max.max(min)),
    }
}

/// Whether `body` is a bare rule name (so it can stand anywhere without parentheses).
fn is_rule_name(body: &str) -> bool {
    !body.is_empty()
        && body
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '-')
}

/// A GBNF string literal matching the compact JSON text of `value`.
fn literal(value: &Value) -> String {
    let json = value.to_string();
    let mut literal = String::with_capacity(json.len() + 2);
    literal.push('"');
    for character in json.chars() {
        match character {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            '\n' => literal.push_str("\\n"),
            '\r' => literal.push_str("\\r"),
            '\t' => literal.push_str("\\t"),
            control if (control as u32) < 0x20 => {
                literal.push_str(&format!("\\x{:02X}", control as u32));
            }
            other => literal.push(other),
        }
    }
    literal.push('"');
    literal
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The rule named `name` in `grammar`.
    fn rule<'g>(grammar: &'g str, name: &str) -> &'g str {
        grammar
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ::= ")))
            .unwrap_or_else(|| panic!("no rule {name} in\n{grammar}"))
    }

    fn rule_names(grammar: &str) -> Vec<&str> {
        grammar
            .lines()
            .filter_map(|line| line.split(" ::= ").next())
            .collect()
    }

    /// Every rule referred to is defined, and every rule is defined once.
    fn assert_closed(grammar: &str) {
        let names = rule_names(grammar);
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "duplicate rules in\n{grammar}");
        for line in grammar.lines() {
            let body = line.split_once(" ::= ").unwrap().1;
            for word in identifiers(body) {
                assert!(names.contains(&word), "{word} undefined in\n{grammar}");
            }
        }
    }

    /// The rule names a body refers to (outside literals and character classes).
    fn identifiers(body: &str) -> Vec<&str> {
        let mut words = Vec::new();
        let bytes = body.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'"' | b'[' => {
                    let close = if bytes[index] == b'"' { b'"' } else { b']' };
                    index += 1;
                    while index < bytes.len() && bytes[index] != close {
                        index += if bytes[index] == b'\\' { 2 } else { 1 };
                    }
                    index += 1;
                }
                b'{' => {
                    while index < bytes.len() && bytes[index] != b'}' {
                        index += 1;
                    }
                    index += 1;
                }
                byte if byte.is_ascii_alphabetic() => {
                    let start = index;
                    while index < bytes.len()
                        && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'-')
                    {
                        index += 1;
                    }
                    words.push(&body[start..index]);
                }
                _ => index += 1,
            }
        }
        words
    }

    fn check(schema: Value, expected: &[(&str, &str)]) -> String {
        let grammar = from_schema(&schema);
        assert_closed(&grammar);
        for (name, body) in expected {
            assert_eq!(rule(&grammar, name), *body, "rule {name} in\n{grammar}");
        }
        grammar
    }

    #[test]
    fn json_object_is_the_generic_object() {
        let grammar = json_object();
        assert_closed(&grammar);
        assert_eq!(rule(&grammar, "root"), "object");
        assert!(rule(&grammar, "space").contains("[ \\t]{0,20}"));
        let any = any_json();
        assert_closed(&any);
        assert_eq!(rule(&any, "root"), "value");
        assert_eq!(for_format(&OutputFormat::Text), None);
        assert_eq!(for_format(&OutputFormat::JsonObject), Some(grammar));
    }

    #[test]
    fn required_properties_in_order_then_optional_ones() {
        check(
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
            &[
                (
                    "root",
                    r#""{" space "\"urgency\"" space ":" space root-urgency "," space "\"age\"" space ":" space integer ( "," space "\"note\"" space ":" space string )? "}" space"#,
                ),
                ("root-urgency", r#"( "\"urgent\"" | "\"routine\"" ) space"#),
            ],
        );
    }

    #[test]
    fn only_optional_properties_allow_any_in_order_subset() {
        let grammar = check(
            json!({"type": "object", "properties": {"a": {"type": "boolean"}, "b": {"type": "null"}, "c": {"type": "number"}}}),
            &[
                (
                    "root-tail",
                    r#"( "," space "\"c\"" space ":" space number )?"#,
                ),
                (
                    "root-tail-2",
                    r#"( "," space "\"b\"" space ":" space null )? root-tail"#,
                ),
            ],
        );
        assert_eq!(
            rule(&grammar, "root"),
            r#""{" space ( "\"a\"" space ":" space boolean root-tail-2 | "\"b\"" space ":" space null root-tail | "\"c\"" space ":" space number )? "}" space"#
        );
    }

    #[test]
    fn nested_objects_arrays_and_nullable_types() {
        let grammar = check(
            json!({
                "type": "object",
                "properties": {
                    "codes": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
                    "tags": {"type": "array", "items": {"type": "integer"}},
                    "owner": {"type": ["string", "null"]},
                    "legacy": {"type": "string", "nullable": true},
                    "visit": {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}, "required": ["day"]}
                },
                "required": ["codes", "tags", "owner", "legacy", "visit"]
            }),
            &[
                (
                    "root-codes",
                    r#""[" space string ( "," space string ){0,2} "]" space"#,
                ),
                (
                    "root-tags",
                    r#""[" space ( integer ( "," space integer )* )? "]" space"#,
                ),
                ("root-owner", "string | null"),
                ("root-legacy", "string | null"),
                (
                    "root-visit",
                    r#""{" space "\"day\"" space ":" space string "}" space"#,
                ),
            ],
        );
        assert!(rule(&grammar, "root")
            .starts_with(r#""{" space "\"codes\"" space ":" space root-codes "," space"#));
    }

    #[test]
    fn enum_const_any_of_and_one_of() {
        check(
            json!({"anyOf": [{"type": "integer"}, {"const": "none"}, {"type": "integer"}]}),
            &[
                ("root", "integer | root-2"),
                ("root-2", r#""\"none\"" space"#),
            ],
        );
        check(
            json!({"oneOf": [{"type": "object", "properties": {"x": {"const": 1}}, "required": ["x"]}, {"type": "null"}]}),
            &[
                ("root", "root-1 | null"),
                ("root-1-x", r#""1" space"#),
                (
                    "root-1",
                    r#""{" space "\"x\"" space ":" space root-1-x "}" space"#,
                ),
            ],
        );
        check(
            json!({"enum": ["a \"quoted\" b", 3, null, true]}),
            &[(
                "root",
                r#"( "\"a \\\"quoted\\\" b\"" | "3" | "null" | "true" ) space"#,
            )],
        );
    }

    #[test]
    fn references_into_defs_and_definitions_and_recursion() {
        check(
            json!({
                "$defs": {"Code": {"type": "string", "maxLength": 8}},
                "definitions": {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}}, "required": ["children"]}},
                "type": "object",
                "properties": {"code": {"$ref": "#/$defs/Code"}, "tree": {"$ref": "#/definitions/Node"}},
                "required": ["code", "tree"]
            }),
            &[
                (
                    "root",
                    r#""{" space "\"code\"" space ":" space ref-code "," space "\"tree\"" space ":" space ref-node "}" space"#,
                ),
                ("ref-code", r#""\"" char{0,8} "\"" space"#),
                (
                    "ref-node",
                    r#""{" space "\"children\"" space ":" space ref-node-children "}" space"#,
                ),
                (
                    "ref-node-children",
                    r#""[" space ( ref-node ( "," space ref-node )* )? "]" space"#,
                ),
            ],
        );
    }

    #[test]
    fn unsupported_keywords_fall_back_to_the_generic_rule() {
        check(
            json!({"type": "object", "properties": {
                "pattern": {"type": "string", "pattern": "^[A-Z]$"},
                "long": {"type": "string", "maxLength": 500},
                "big": {"type": "array", "items": {"type": "number"}, "minItems": 100},
                "tuple": {"type": "array", "prefixItems": [{"type": "string"}]},
                "bounded": {"type": "integer", "minimum": 3},
                "both": {"allOf": [{"type": "string"}, {"minLength": 2}]},
                "external": {"$ref": "https://example.invalid/schema.json"},
                "anything": {},
                "many": {"enum": (0..200).collect::<Vec<_>>()}
            }, "required": ["pattern", "long", "big", "tuple", "bounded", "both", "external", "anything", "many"]}),
            &[
                (
                    "root",
                    concat!(
                        r#""{" space "\"pattern\"" space ":" space string "," space "\"long\"" space ":" space string "#,
                        r#""," space "\"big\"" space ":" space root-big "," space "\"tuple\"" space ":" space array "#,
                        r#""," space "\"bounded\"" space ":" space integer "," space "\"both\"" space ":" space value "#,
                        r#""," space "\"external\"" space ":" space value "," space "\"anything\"" space ":" space value "#,
                        r#""," space "\"many\"" space ":" space value "}" space"#
                    ),
                ),
                (
                    "root-big",
                    r#""[" space ( number ( "," space number )* )? "]" space"#,
                ),
            ],
        );
    }

    #[test]
    fn maps_empty_objects_and_odd_property_names() {
        check(
            json!({"type": "object", "additionalProperties": {"type": "integer"}}),
            &[(
                "root",
                r#""{" space ( string ":" space integer ( "," space string ":" space integer )* )? "}" space"#,
            )],
        );
        check(
            json!({"type": "object", "additionalProperties": false}),
            &[("root", r#""{" space "}" space"#)],
        );
        let grammar = check(
            json!({"type": "object", "properties": {"Über name!": {"type": "object", "properties": {"x": {"type": "string", "minLength": 1, "maxLength": 4}}, "required": ["x"]}}, "required": ["Über name!"]}),
            &[("root-ber-name-x", r#""\"" char{1,4} "\"" space"#)],
        );
        assert!(rule(&grammar, "root").contains(r#""\"Über name!\"""#));
    }

    #[test]
    fn every_grammar_is_closed_and_deep_schemas_are_cut_off() {
        let mut deep = json!({"type": "string"});
        for _ in 0..100 {
            deep = json!({"type": "array", "items": deep});
        }
        let grammar = from_schema(&deep);
        assert_closed(&grammar);
        assert!(grammar.lines().count() < 60, "{grammar}");
        for schema in [
            json!(true),
            json!(false),
            json!({}),
            json!({"type": 12}),
            json!({"type": []}),
        ] {
            let grammar = from_schema(&schema);
            assert_closed(&grammar);
            assert_eq!(rule(&grammar, "root"), "value");
        }
    }
}
