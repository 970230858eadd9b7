//! The PHI gate: every text of a request (each message, the prompt, the system text, the stop
//! strings, and the JSON schema of a structured-output request, whose enums, descriptions and
//! property names travel upstream too) is scanned before routing, and the only way to obtain a
//! [`Cleared`] request, the one thing a cloud backend accepts, is through this module: no
//! findings, or every finding replaced by a surrogate. Input the gate could not scan (too large,
//! detector panic) counts as PHI.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use serde_json::Value;
use ward_core::{GenerationRequest, OutputFormat, Prompt};
use ward_phi::{Detector, Finding, PhiLabel, Pseudonymiser};

/// A value the PHI gate let through: it holds no PHI the detector can see, or only surrogates.
///
/// Its field is private to this module, so no other code can wrap a value in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleared<T>(T);

impl<T> Cleared<T> {
    pub fn get(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Cleared<GenerationRequest> {
    /// The same request addressed to the model a backend serves it under; the model name comes
    /// from configuration, never from request text.
    pub fn for_model(mut self, model: &str) -> Self {
        self.0.model = model.to_owned();
        self
    }
}

/// Why a request was not scanned; such a request is treated as PHI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unscreened {
    /// The texts together exceed `routing.max_scan_bytes`.
    Oversized,
    /// The detector failed (a bug); failing closed.
    DetectorFailed,
}

/// What the gate found: categories with counts, never values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhiSummary {
    pub categories: BTreeMap<PhiLabel, u32>,
    pub unscreened: Option<Unscreened>,
}

impl PhiSummary {
    /// Whether the request must be handled as PHI-bearing.
    pub fn is_phi(&self) -> bool {
        !self.categories.is_empty() || self.unscreened.is_some()
    }

    /// The `x-ward-phi` header value: the labels found, comma-separated, or `none`.
    pub fn header_value(&self) -> String {
        let mut labels: Vec<&str> = self.categories.keys().map(|label| label.as_str()).collect();
        match self.unscreened {
            Some(Unscreened::Oversized) => labels.push("UNSCREENED_OVERSIZED"),
            Some(Unscreened::DetectorFailed) => labels.push("UNSCREENED_DETECTOR_FAILED"),
            None => {}
        }
        if labels.is_empty() {
            "none".to_owned()
        } else {
            labels.join(",")
        }
    }
}

/// A request after screening.
#[derive(Debug, Clone)]
pub enum Screened {
    Clear(Cleared<GenerationRequest>),
    Phi(PhiRequest),
}

impl Screened {
    pub fn summary(&self) -> PhiSummary {
        match self {
            Screened::Clear(_) => PhiSummary::default(),
            Screened::Phi(phi) => phi.summary.clone(),
        }
    }

    /// The request as the client sent it, for local backends.
    pub fn request(&self) -> &GenerationRequest {
        match self {
            Screened::Clear(cleared) => cleared.get(),
            Screened::Phi(phi) => &phi.request,
        }
    }
}

/// A request with PHI (or not scanned), and where the findings are.
#[derive(Debug, Clone)]
pub struct PhiRequest {
    request: GenerationRequest,
    /// Findings per text, in the order `texts` lists them; `None` when unscreened.
    findings: Option<Vec<Vec<Finding>>>,
    summary: PhiSummary,
}

/// A pseudonymised request and the mapping that restores the answer.
#[derive(Debug)]
pub struct Deidentified {
    pub request: Cleared<GenerationRequest>,
    pub pseudonymiser: Pseudonymiser,
}

/// The gate: the shared detector and the scan limit.
#[derive(Debug, Clone, Copy)]
pub struct PhiGate {
    detector: &'static Detector,
    max_scan_bytes: usize,
}

impl PhiGate {
    pub fn new(max_scan_bytes: usize) -> Self {
        PhiGate {
            detector: Detector::shared(),
            max_scan_bytes,
        }
    }

    /// Scans every text of `request`.
    pub fn screen(&self, request: GenerationRequest) -> Screened {
        let texts = texts(&request);
        let total: usize = texts.iter().map(|text| text.len()).sum();
        if total > self.max_scan_bytes {
            return unscreened(request, Unscreened::Oversized);
        }
        let detector = self.detector;
        let scanned = std::panic::catch_unwind(AssertUnwindSafe(|| {
            texts
                .iter()
                .map(|text| detector.detect(text))
                .collect::<Vec<_>>()
        }));
        drop(texts);
        let Ok(findings) = scanned else {
            return unscreened(request, Unscreened::DetectorFailed);
        };
        let mut categories = BTreeMap::new();
        for finding in findings.iter().flatten() {
            *categories.entry(finding.label).or_insert(0) += 1;
        }
        if categories.is_empty() {
            return Screened::Clear(Cleared(request));
        }
        Screened::Phi(PhiRequest {
            request,
            findings: Some(findings),
            summary: PhiSummary {
                categories,
                unscreened: None,
            },
        })
    }

    /// Replaces every finding with a consistent surrogate (the same value gets the same
    /// surrogate across messages). `None` for a request that was not scanned: without findings
    /// there is nothing to replace, and it may not leave.
    pub fn deidentify(&self, phi: &PhiRequest, conversation_key: u64) -> Option<Deidentified> {
        let findings = phi.findings.as_ref()?;
        let mut pseudonymiser = Pseudonymiser::new(conversation_key);
        let mut request = phi.request.clone();
        let mut index = 0;
        rewrite_texts(&mut request, &mut |text| {
            if let Some(found) = findings.get(index).filter(|found| !found.is_empty()) {
                *text = pseudonymiser.pseudonymise(text, found);
            }
            index += 1;
        });
        Some(Deidentified {
            request: Cleared(request),
            pseudonymiser,
        })
    }
}

fn unscreened(request: GenerationRequest, reason: Unscreened) -> Screened {
    Screened::Phi(PhiRequest {
        request,
        findings: None,
        summary: PhiSummary {
            categories: BTreeMap::new(),
            unscreened: Some(reason),
        },
    })
}

/// Every text of a request that would travel to a backend, in a fixed order: the messages (or
/// the prompt and system text), the stop strings, then the output schema's name and, depth
/// first, each of its property names and string values.
fn texts(request: &GenerationRequest) -> Vec<&str> {
    let mut texts: Vec<&str> = Vec::new();
    match &request.prompt {
        Prompt::Chat(messages) => texts.extend(messages.iter().map(|m| m.content.as_str())),
        Prompt::Text { text, system, .. } => {
            texts.push(text);
            texts.extend(system.as_deref());
        }
    }
    texts.extend(request.stop.iter().map(String::as_str));
    if let OutputFormat::JsonSchema { name, schema, .. } = &request.format {
        texts.push(name);
        json_texts(schema, &mut texts);
    }
    texts
}

fn json_texts<'value>(value: &'value Value, texts: &mut Vec<&'value str>) {
    match value {
        Value::String(text) => texts.push(text),
        Value::Array(items) => items.iter().for_each(|item| json_texts(item, texts)),
        Value::Object(members) => {
            for (key, member) in members {
                texts.push(key);
                json_texts(member, texts);
            }
        }
        _ => {}
    }
}

/// Replaces each text `texts` lists, visiting them in the same order.
fn rewrite_texts(request: &mut GenerationRequest, rewrite: &mut dyn FnMut(&mut String)) {
    match &mut request.prompt {
        Prompt::Chat(messages) => messages
            .iter_mut()
            .for_each(|message| rewrite(&mut message.content)),
        Prompt::Text { text, system, .. } => {
            rewrite(text);
            if let Some(system) = system {
                rewrite(system);
            }
        }
    }
    for stop in &mut request.stop {
        rewrite(stop);
    }
    if let OutputFormat::JsonSchema { name, schema, .. } = &mut request.format {
        rewrite(name);
        rewrite_json(schema, rewrite);
    }
}

fn rewrite_json(value: &mut Value, rewrite: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(text) => rewrite(text),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_json(item, rewrite)),
        Value::Object(members) => {
            // Keys cannot be changed in place: the object is rebuilt, in the order it is read.
            for (mut key, mut member) in std::mem::take(members) {
                rewrite(&mut key);
                rewrite_json(&mut member, rewrite);
                members.insert(key, member);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use ward_core::{ChatMessage, ChatRole};

    use super::*;

    fn chat(messages: &[(ChatRole, &str)]) -> GenerationRequest {
        let messages = messages
            .iter()
            .map(|(role, text)| ChatMessage::new(*role, *text))
            .collect();
        GenerationRequest::chat("auto", messages)
    }

    #[test]
    fn clean_request_is_cleared_unchanged() {
        let request = chat(&[(
            ChatRole::User,
            "What is the usual adult dose of amoxicillin?",
        )]);
        let Screened::Clear(cleared) = PhiGate::new(1 << 20).screen(request.clone()) else {
            panic!("a PHI-free question was held");
        };
        assert_eq!(cleared.get(), &request);
    }

    #[test]
    fn phi_in_any_message_role_is_found() {
        for role in [
            ChatRole::System,
            ChatRole::User,
            ChatRole::Assistant,
            ChatRole::Tool,
        ] {
            let request = chat(&[
                (ChatRole::User, "Summarise the visit."),
                (
                    role,
                    "Patient John Whitfield, MRN 48213377, seen 03/14/2024.",
                ),
            ]);
            let screened = PhiGate::new(1 << 20).screen(request);
            let summary = screened.summary();
            assert!(summary.is_phi(), "{role:?}");
            assert!(summary.categories.contains_key(&PhiLabel::Mrn), "{role:?}");
            assert!(summary.header_value().contains("NAME"), "{role:?}");
        }
    }

    #[test]
    fn phi_in_stop_strings_and_system_text_is_found() {
        let mut request = chat(&[(ChatRole::User, "hello")]);
        request.stop = vec!["Call 617-555-0142".into()];
        assert!(PhiGate::new(1 << 20).screen(request).summary().is_phi());
        let request = GenerationRequest {
            prompt: Prompt::Text {
                text: "Continue:".into(),
                system: Some("Patient email: j.whitfield@example.org".into()),
                raw: false,
            },
            ..chat(&[])
        };
        assert!(PhiGate::new(1 << 20).screen(request).summary().is_phi());
    }

    fn with_schema(schema: Value) -> GenerationRequest {
        GenerationRequest {
            format: OutputFormat::JsonSchema {
                name: "triage".into(),
                schema,
                strict: false,
            },
            ..chat(&[(ChatRole::User, "Classify the referral.")])
        }
    }

    #[test]
    fn phi_in_an_output_schema_is_found_and_pseudonymised() {
        let gate = PhiGate::new(1 << 20);
        let clean = with_schema(serde_json::json!({
            "type": "object",
            "properties": {"urgency": {"enum": ["urgent", "routine"], "description": "How soon"}},
            "required": ["urgency"]
        }));
        assert!(matches!(gate.screen(clean), Screened::Clear(_)));
        for schema in [
            serde_json::json!({"properties": {"doctor": {"enum": ["Dr. Helen Okafor", "Dr. Ravi Patel"]}}}),
            serde_json::json!({"properties": {"John Whitfield MRN 48213377": {"type": "string"}}}),
        ] {
            let Screened::Phi(phi) = gate.screen(with_schema(schema)) else {
                panic!("PHI in the schema was not found");
            };
            let deidentified = gate.deidentify(&phi, 9).expect("scanned");
            let sent = format!("{:?}", deidentified.request.get().format);
            for value in ["Helen Okafor", "John Whitfield", "48213377"] {
                assert!(!sent.contains(value), "{value} left in {sent}");
            }
            // Everything else of the schema is as it was.
            assert!(sent.contains("properties"), "{sent}");
        }
    }

    #[test]
    fn texts_and_their_rewrite_visit_the_same_texts_in_the_same_order() {
        let mut request = with_schema(serde_json::json!({
            "b": {"z": "1", "a": ["x", {"k": "v"}]},
            "a": "first",
            "n": 3
        }));
        request.stop = vec!["END".into()];
        let listed: Vec<String> = texts(&request).into_iter().map(str::to_owned).collect();
        let mut visited = Vec::new();
        rewrite_texts(&mut request, &mut |text| visited.push(text.clone()));
        assert_eq!(listed, visited);
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "1",
                "Classify the referral.",
                "END",
                "a",
                "a",
                "b",
                "first",
                "k",
                "n",
                "triage",
                "v",
                "x",
                "z"
            ]
        );
    }

    #[test]
    fn oversized_input_counts_as_phi_and_cannot_be_deidentified() {
        let request = chat(&[(ChatRole::User, "a harmless question about dosing")]);
        let gate = PhiGate::new(8);
        let Screened::Phi(phi) = gate.screen(request) else {
            panic!("oversized input was cleared");
        };
        assert_eq!(phi.summary.unscreened, Some(Unscreened::Oversized));
        assert_eq!(phi.summary.header_value(), "UNSCREENED_OVERSIZED");
        assert!(gate.deidentify(&phi, 7).is_none());
    }

    #[test]
    fn deidentify_replaces_every_value_consistently_and_restores_them() {
        let request = chat(&[
            (ChatRole::System, "You write discharge letters."),
            (
                ChatRole::User,
                "Write to Dr. Helen Okafor about John Whitfield (MRN 48213377).",
            ),
            (ChatRole::Assistant, "Which hospital was John Whitfield in?"),
        ]);
        let gate = PhiGate::new(1 << 20);
        let Screened::Phi(phi) = gate.screen(request) else {
            panic!("PHI was not found");
        };
        let deidentified = gate.deidentify(&phi, 42).expect("scanned");
        let sent = format!("{:?}", deidentified.request.get().prompt);
        for value in ["Helen Okafor", "John Whitfield", "48213377"] {
            assert!(
                !sent.contains(value),
                "{value} left in the pseudonymised request"
            );
        }
        let mapping = deidentified.pseudonymiser.mapping();
        let john = mapping
            .iter()
            .find(|surrogate| surrogate.original == "John Whitfield")
            .expect("name mapped");
        assert_eq!(sent.matches(john.surrogate.as_str()).count(), 2);
        let answer = format!("Dear {}, about {}.", john.surrogate, john.surrogate);
        assert_eq!(
            deidentified.pseudonymiser.reidentify(&answer),
            "Dear John Whitfield, about John Whitfield."
        );
    }
}
