//! FHIR R4 exports of a finished note: a US Core `DocumentReference` (the note as a base64 text
//! attachment) and a `document` Bundle (a `Composition` with one narrative section per note
//! section, the AI `Device` that wrote it, and the `DocumentReference`).
//!
//! Both are marked as AI-asserted (`meta.security` AIAST) and stay `preliminary`: Ward never signs
//! a note; a clinician does, in the EHR. References to the patient and the clinician are copied
//! from the note when the caller gave them and never invented. US Core requires a subject, so a
//! `DocumentReference` without one does not claim the US Core profile (it is still valid R4).
//! Identifiers and bundle `fullUrl`s are UUIDs derived from the caller's id (UUID v5), so the same
//! note and id always give the same JSON.

use base64::Engine as _;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::document::{NoteDocument, NoteSection, Reference};

/// The US Core (STU 6+) profile a `DocumentReference` with a subject conforms to.
pub const US_CORE_DOCUMENT_REFERENCE: &str =
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference";
const LOINC: &str = "http://loinc.org";
const US_CORE_CATEGORY: &str =
    "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category";
const IHE_FORMAT_CODE: &str = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode";
const MIME_TYPE_SUFFICIENT: &str = "urn:ihe:iti:xds:2017:mimeTypeSufficient";
/// HL7 v3 ObservationValue holds the integrity codes used as security labels, AIAST among them.
pub const OBSERVATION_VALUE: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
pub const AI_ASSERTED: &str = "AIAST";
const RFC_3986: &str = "urn:ietf:rfc:3986";
/// Identifier system for the Ward profile that produced a note (on the `Device`).
pub const WARD_PROFILE_SYSTEM: &str = "urn:ward:profile";
const CONTAINED_DEVICE_ID: &str = "ward-device";
const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// LOINC section codes (the C-CDA section codes) for common note headings, matched on the
/// normalised heading. Only codes that are standard for the heading are listed; other headings get
/// a section without a code.
const SECTION_LOINC: &[(&[&str], &str)] = &[
    (&["subjective"], "61150-9"),
    (&["objective"], "61149-1"),
    (&["assessment", "assessments"], "51848-0"),
    (&["plan", "plan of care", "treatment plan"], "18776-5"),
    (&["assessment and plan", "a/p"], "51847-2"),
    (&["history of present illness", "hpi"], "10164-2"),
    (&["chief complaint", "cc"], "10154-3"),
    (&["reason for visit"], "29299-5"),
    (&["reason for referral"], "42349-1"),
    (&["review of systems", "ros"], "10187-3"),
    (
        &[
            "physical exam",
            "physical examination",
            "exam",
            "examination",
        ],
        "29545-1",
    ),
    (&["vital signs", "vitals"], "8716-3"),
    (
        &[
            "medications",
            "medication",
            "current medications",
            "medication list",
            "home medications",
        ],
        "10160-0",
    ),
    (
        &[
            "allergies",
            "allergy",
            "allergies and adverse reactions",
            "allergies and intolerances",
        ],
        "48765-2",
    ),
    (&["past medical history", "pmh"], "11348-0"),
    (&["social history"], "29762-2"),
    (&["family history"], "10157-6"),
    (&["problem list", "problems"], "11450-4"),
    (&["results"], "30954-2"),
    (&["immunizations"], "11369-6"),
    (&["procedures"], "47519-4"),
    (&["hospital course"], "8648-8"),
    (&["discharge diagnosis", "discharge diagnoses"], "11535-2"),
    (&["discharge medications"], "10183-2"),
    (&["instructions", "patient instructions"], "69730-0"),
];

/// The note as a US Core `DocumentReference` whose resource id is `id` (a FHIR id:
/// `[A-Za-z0-9\-.]{1,64}`). The AI that wrote it is a contained `Device` listed as an author.
pub fn document_reference(note: &NoteDocument, id: &str) -> Value {
    let mut device = device(note);
    device.insert("id".into(), json!(CONTAINED_DEVICE_ID));
    let device_author = json!({
        "reference": format!("#{CONTAINED_DEVICE_ID}"),
        "display": device_display(note),
    });
    let identifier = derived_uuid(id, "document-reference");
    let mut resource = document_reference_resource(note, id, identifier, device_author);
    resource.insert("contained".into(), json!([Value::Object(device)]));
    Value::Object(resource)
}

/// The note as a FHIR `document` Bundle: the `Composition` first, then the AI `Device`, then the
/// `DocumentReference`. The Bundle's id is `id`; entries have `urn:uuid:` full URLs derived from it.
pub fn document_bundle(note: &NoteDocument, id: &str) -> Value {
    let composition_uuid = derived_uuid(id, "composition");
    let device_uuid = derived_uuid(id, "device");
    let document_reference_uuid = derived_uuid(id, "document-reference");
    let device_author = json!({
        "reference": urn(device_uuid),
        "display": device_display(note),
    });

    let mut composition = Map::new();
    composition.insert("resourceType".into(), json!("Composition"));
    composition.insert("id".into(), json!(composition_uuid.to_string()));
    composition.insert("meta".into(), json!({ "security": [ai_asserted()] }));
    composition.insert(
        "identifier".into(),
        json!({ "system": RFC_3986, "value": urn(composition_uuid) }),
    );
    composition.insert("status".into(), json!("preliminary"));
    composition.insert("type".into(), note_type(note));
    if let Some(subject) = &note.subject {
        composition.insert("subject".into(), reference(subject));
    }
    composition.insert("date".into(), json!(note.created));
    composition.insert("author".into(), authors(note, device_author.clone()));
    // Composition.title is required; the note type names the document when the note has no title.
    let title = non_empty(&note.title).unwrap_or(note.note_type.display);
    composition.insert("title".into(), json!(title));
    composition.insert("section".into(), composition_sections(note));

    let mut device = device(note);
    device.insert("id".into(), json!(device_uuid.to_string()));
    let document_reference = document_reference_resource(
        note,
        &document_reference_uuid.to_string(),
        document_reference_uuid,
        device_author,
    );

    let mut bundle = Map::new();
    bundle.insert("resourceType".into(), json!("Bundle"));
    bundle.insert("id".into(), json!(id));
    bundle.insert(
        "identifier".into(),
        json!({ "system": RFC_3986, "value": urn(derived_uuid(id, "bundle")) }),
    );
    bundle.insert("type".into(), json!("document"));
    bundle.insert("timestamp".into(), json!(note.created));
    bundle.insert(
        "entry".into(),
        json!([
            { "fullUrl": urn(composition_uuid), "resource": Value::Object(composition) },
            { "fullUrl": urn(device_uuid), "resource": Value::Object(device) },
            { "fullUrl": urn(document_reference_uuid), "resource": Value::Object(document_reference) },
        ]),
    );
    Value::Object(bundle)
}

/// The LOINC code of a note section with this heading, when one is standard.
fn section_loinc(title: &str) -> Option<&'static str> {
    let normalised = title
        .trim()
        .trim_end_matches([':', '.', ' '])
        .to_lowercase()
        .replace('&', " and ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    SECTION_LOINC
        .iter()
        .find(|(headings, _)| headings.contains(&normalised.as_str()))
        .map(|(_, code)| *code)
}

/// `text` as an XHTML narrative `div` (one `p` per non-blank line), escaped, without the control
/// characters XML does not allow.
fn xhtml_div(text: &str) -> String {
    let mut div = format!(r#"<div xmlns="{XHTML_NAMESPACE}">"#);
    let mut paragraphs = 0;
    for line in text
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
    {
        div.push_str("<p>");
        div.push_str(&escape_xml(line));
        div.push_str("</p>");
        paragraphs += 1;
    }
    // FHIR requires narrative to have some non-whitespace content.
    if paragraphs == 0 {
        div.push_str("<p>(no text)</p>");
    }
    div.push_str("</div>");
    div
}

/// Escapes text for XML or HTML content and attribute values, dropping characters XML 1.0
/// forbids.
pub fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            character if is_xml_char(character) => escaped.push(character),
            _ => {}
        }
    }
    escaped
}

/// XML 1.0 `Char`: a model's output can contain control characters that would make the XML
/// unreadable.
pub(crate) fn is_xml_char(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The `DocumentReference` both exports share; `identifier` is the same UUID in both, derived from
/// the caller's id, while the resource id is the caller's id alone or the entry's UUID in a bundle.
fn document_reference_resource(
    note: &NoteDocument,
    resource_id: &str,
    identifier: Uuid,
    device_author: Value,
) -> Map<String, Value> {
    let mut meta = Map::new();
    if note.subject.is_some() {
        meta.insert("profile".into(), json!([US_CORE_DOCUMENT_REFERENCE]));
    }
    meta.insert("security".into(), json!([ai_asserted()]));

    let mut attachment = Map::new();
    attachment.insert("contentType".into(), json!("text/plain; charset=utf-8"));
    attachment.insert("language".into(), json!("en-US"));
    if !note.text.is_empty() {
        let data = base64::engine::general_purpose::STANDARD.encode(note.text.as_bytes());
        attachment.insert("data".into(), json!(data));
    }
    attachment.insert("size".into(), json!(note.text.len()));
    if let Some(title) = non_empty(&note.title) {
        attachment.insert("title".into(), json!(title));
    }
    attachment.insert("creation".into(), json!(note.created));

    let mut resource = Map::new();
    resource.insert("resourceType".into(), json!("DocumentReference"));
    resource.insert("id".into(), json!(resource_id));
    resource.insert("meta".into(), Value::Object(meta));
    resource.insert(
        "identifier".into(),
        json!([{ "system": RFC_3986, "value": urn(identifier) }]),
    );
    resource.insert("status".into(), json!("current"));
    resource.insert("docStatus".into(), json!("preliminary"));
    resource.insert("type".into(), note_type(note));
    resource.insert(
        "category".into(),
        json!([{ "coding": [{
            "system": US_CORE_CATEGORY,
            "code": "clinical-note",
            "display": "Clinical Note",
        }] }]),
    );
    if let Some(subject) = &note.subject {
        resource.insert("subject".into(), reference(subject));
    }
    resource.insert("date".into(), json!(note.created));
    resource.insert("author".into(), authors(note, device_author));
    if let Some(title) = non_empty(&note.title) {
        resource.insert("description".into(), json!(title));
    }
    resource.insert(
        "content".into(),
        json!([{
            "attachment": Value::Object(attachment),
            "format": {
                "system": IHE_FORMAT_CODE,
                "code": MIME_TYPE_SUFFICIENT,
                "display": "mimeType Sufficient",
            },
        }]),
    );
    resource
}

/// Ward and the model as an authoring `Device`; the profile that shaped the note is its
/// identifier and the profile's version its version.
fn device(note: &NoteDocument) -> Map<String, Value> {
    let mut device = Map::new();
    device.insert("resourceType".into(), json!("Device"));
    if let Some(profile) = non_empty(&note.profile) {
        device.insert(
            "identifier".into(),
            json!([{ "system": WARD_PROFILE_SYSTEM, "value": profile }]),
        );
    }
    let mut names = Vec::new();
    if let Some(model) = non_empty(&note.model) {
        names.push(json!({ "name": model, "type": "model-name" }));
    }
    names.push(json!({ "name": "Ward", "type": "user-friendly-name" }));
    device.insert("deviceName".into(), Value::Array(names));
    device.insert(
        "type".into(),
        json!({ "text": "Generative AI clinical documentation assistant" }),
    );
    let mut versions = Vec::new();
    if let Some(profile_version) = non_empty(&note.profile_version) {
        versions
            .push(json!({ "type": { "text": "Ward profile version" }, "value": profile_version }));
    }
    versions.push(json!({ "type": { "text": "Ward" }, "value": env!("CARGO_PKG_VERSION") }));
    device.insert("version".into(), Value::Array(versions));
    device
}

fn device_display(note: &NoteDocument) -> String {
    match non_empty(&note.model) {
        Some(model) => format!("Ward AI draft ({model})"),
        None => "Ward AI draft".to_owned(),
    }
}

/// The caller's author (a clinician) first, when given, then the AI.
fn authors(note: &NoteDocument, device_author: Value) -> Value {
    let mut authors = Vec::new();
    if let Some(author) = &note.author {
        authors.push(reference(author));
    }
    authors.push(device_author);
    Value::Array(authors)
}

fn composition_sections(note: &NoteDocument) -> Value {
    let whole_note;
    let sections: &[NoteSection] = if note.sections.is_empty() {
        whole_note = [NoteSection {
            title: note.title.clone(),
            text: note.text.clone(),
        }];
        &whole_note
    } else {
        &note.sections
    };
    let sections = sections
        .iter()
        .map(|section| {
            let mut entry = Map::new();
            if let Some(title) = non_empty(&section.title) {
                entry.insert("title".into(), json!(title));
            }
            if let Some(code) = section_loinc(&section.title) {
                entry.insert(
                    "code".into(),
                    json!({ "coding": [{ "system": LOINC, "code": code }] }),
                );
            }
            entry.insert(
                "text".into(),
                json!({ "status": "generated", "div": xhtml_div(&section.text) }),
            );
            Value::Object(entry)
        })
        .collect();
    Value::Array(sections)
}

fn note_type(note: &NoteDocument) -> Value {
    json!({
        "coding": [{
            "system": LOINC,
            "code": note.note_type.loinc,
            "display": note.note_type.display,
        }],
        "text": note.note_type.display,
    })
}

fn reference(reference: &Reference) -> Value {
    let mut value = Map::new();
    value.insert("reference".into(), json!(reference.reference));
    if let Some(display) = reference.display.as_deref().and_then(non_empty) {
        value.insert("display".into(), json!(display));
    }
    Value::Object(value)
}

fn ai_asserted() -> Value {
    json!({
        "system": OBSERVATION_VALUE,
        "code": AI_ASSERTED,
        "display": "Artificial Intelligence asserted",
    })
}

fn derived_uuid(id: &str, part: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("urn:ward:note:{id}:{part}").as_bytes(),
    )
}

fn urn(uuid: Uuid) -> String {
    format!("urn:uuid:{uuid}")
}

/// FHIR forbids empty strings, so empty fields are left out instead.
fn non_empty(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then_some(trimmed)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::document::{CodeSuggestion, NoteType};

    /// A synthetic APSO progress note (no real patient) shared with the DOCX tests.
    pub(crate) fn sample_note() -> NoteDocument {
        let sections = [
            (
                "Subjective",
                "Cough for 3 days, worse at night. [CLARIFY: fever reported?]",
            ),
            (
                "Objective",
                "T 37.9 °C, SpO2 97 % on room air.\nScattered wheeze, no crackles.",
            ),
            (
                "Assessment",
                "Acute bronchitis <likely viral> & mild intermittent asthma.",
            ),
            (
                "Plan",
                "Albuterol 90 µg 2 puffs q4-6h PRN.\nReturn in [CLARIFY: follow-up interval].",
            ),
        ];
        let text = sections
            .iter()
            .map(|(title, text)| format!("{title}:\n{text}"))
            .collect::<Vec<_>>()
            .join("\n\n");
        NoteDocument {
            title: "APSO progress note".into(),
            note_type: NoteType::PROGRESS_NOTE,
            text,
            sections: sections
                .iter()
                .map(|(title, text)| NoteSection {
                    title: (*title).into(),
                    text: (*text).into(),
                })
                .collect(),
            flagged_items: vec!["fever reported?".into(), "follow-up interval".into()],
            fabrication_warnings: vec!["\"SpO2 97 %\" is not in the dictation.".into()],
            codes: vec![CodeSuggestion {
                code: "J20.9".into(),
                description: Some("Acute bronchitis, unspecified".into()),
                valid: true,
                billable: true,
                evidence: "Acute bronchitis".into(),
            }],
            profile: "apso-note".into(),
            profile_version: "2".into(),
            model: "qwen2.5-coder:1.5b".into(),
            created: "2025-03-04T10:20:30Z".into(),
            subject: Some(Reference {
                reference: "Patient/example-1".into(),
                display: Some("Test Patient".into()),
            }),
            author: Some(Reference {
                reference: "Practitioner/example-2".into(),
                display: None,
            }),
        }
    }

    fn decode(data: &Value) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("data is a string"))
            .expect("valid base64");
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn document_reference_has_the_us_core_fields() {
        let note = sample_note();
        let resource = document_reference(&note, "note-1");
        assert_eq!(resource["resourceType"], "DocumentReference");
        assert_eq!(resource["id"], "note-1");
        assert_eq!(
            resource["meta"]["profile"],
            json!([US_CORE_DOCUMENT_REFERENCE])
        );
        assert_eq!(resource["status"], "current");
        assert_eq!(resource["docStatus"], "preliminary");
        assert_eq!(
            resource["type"]["coding"][0],
            json!({ "system": LOINC, "code": "11506-3", "display": "Progress note" })
        );
        assert_eq!(
            resource["category"][0]["coding"][0]["system"],
            US_CORE_CATEGORY
        );
        assert_eq!(
            resource["category"][0]["coding"][0]["code"],
            "clinical-note"
        );
        assert_eq!(
            resource["subject"],
            json!({ "reference": "Patient/example-1", "display": "Test Patient" })
        );
        assert_eq!(resource["date"], "2025-03-04T10:20:30Z");
        assert_eq!(resource["description"], "APSO progress note");
        let identifier = resource["identifier"][0]["value"].as_str().unwrap();
        assert!(identifier.starts_with("urn:uuid:"), "{identifier}");

        let attachment = &resource["content"][0]["attachment"];
        assert_eq!(attachment["contentType"], "text/plain; charset=utf-8");
        assert_eq!(attachment["language"], "en-US");
        assert_eq!(attachment["title"], "APSO progress note");
        assert_eq!(attachment["creation"], "2025-03-04T10:20:30Z");
        assert_eq!(attachment["size"], note.text.len());
        assert_eq!(
            resource["content"][0]["format"]["code"],
            MIME_TYPE_SUFFICIENT
        );

        assert_eq!(
            resource["meta"]["security"][0],
            json!({
                "system": OBSERVATION_VALUE,
                "code": "AIAST",
                "display": "Artificial Intelligence asserted",
            })
        );
    }

    #[test]
    fn the_ai_is_a_contained_device_author() {
        let resource = document_reference(&sample_note(), "note-1");
        let authors = resource["author"].as_array().unwrap();
        assert_eq!(authors[0], json!({ "reference": "Practitioner/example-2" }));
        assert_eq!(authors[1]["reference"], "#ward-device");
        let device = &resource["contained"][0];
        assert_eq!(device["resourceType"], "Device");
        assert_eq!(device["id"], "ward-device");
        assert_eq!(
            device["deviceName"][0],
            json!({ "name": "qwen2.5-coder:1.5b", "type": "model-name" })
        );
        assert_eq!(device["version"][0]["value"], "2");
        assert_eq!(
            device["identifier"][0],
            json!({ "system": WARD_PROFILE_SYSTEM, "value": "apso-note" })
        );
    }

    #[test]
    fn attachment_data_round_trips_to_the_note_text() {
        let note = sample_note();
        let resource = document_reference(&note, "note-1");
        let data = &resource["content"][0]["attachment"]["data"];
        assert_eq!(decode(data), note.text);
        assert!(
            note.text.contains('µ'),
            "the sample exercises non-ASCII text"
        );
    }

    #[test]
    fn no_subject_or_author_is_invented() {
        let mut note = sample_note();
        note.subject = None;
        note.author = None;
        let resource = document_reference(&note, "note-1");
        assert!(resource.get("subject").is_none());
        // US Core requires a subject, so the profile is not claimed without one.
        assert!(resource["meta"].get("profile").is_none());
        assert_eq!(resource["author"].as_array().unwrap().len(), 1);
        assert_eq!(resource["author"][0]["reference"], "#ward-device");

        let bundle = document_bundle(&note, "note-1");
        let composition = &bundle["entry"][0]["resource"];
        assert!(composition.get("subject").is_none());
        assert_eq!(composition["author"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn bundle_is_a_document_with_the_composition_first() {
        let note = sample_note();
        let bundle = document_bundle(&note, "note-1");
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "document");
        assert_eq!(bundle["timestamp"], "2025-03-04T10:20:30Z");
        assert_eq!(bundle["identifier"]["system"], RFC_3986);
        let entries = bundle["entry"].as_array().unwrap();
        let types: Vec<&str> = entries
            .iter()
            .map(|entry| entry["resource"]["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["Composition", "Device", "DocumentReference"]);
        for entry in entries {
            let full_url = entry["fullUrl"].as_str().unwrap();
            let uuid = full_url
                .strip_prefix("urn:uuid:")
                .expect("urn:uuid full URL");
            assert_eq!(entry["resource"]["id"], uuid);
        }

        let composition = &entries[0]["resource"];
        assert_eq!(composition["status"], "preliminary");
        assert_eq!(composition["type"]["coding"][0]["code"], "11506-3");
        assert_eq!(composition["subject"]["reference"], "Patient/example-1");
        assert_eq!(composition["date"], "2025-03-04T10:20:30Z");
        assert_eq!(composition["title"], "APSO progress note");
        assert_eq!(composition["meta"]["security"][0]["code"], "AIAST");
        let authors: Vec<&str> = composition["author"]
            .as_array()
            .unwrap()
            .iter()
            .map(|author| author["reference"].as_str().unwrap())
            .collect();
        assert_eq!(
            authors,
            [
                "Practitioner/example-2",
                entries[1]["fullUrl"].as_str().unwrap()
            ]
        );

        // Inside the bundle the DocumentReference names the Device entry, not a contained copy.
        let entry_reference = &entries[2]["resource"];
        assert!(entry_reference.get("contained").is_none());
        assert_eq!(
            entry_reference["author"][1]["reference"],
            entries[1]["fullUrl"]
        );
        assert_eq!(
            entry_reference["identifier"],
            document_reference(&note, "note-1")["identifier"]
        );
        assert_eq!(
            decode(&entry_reference["content"][0]["attachment"]["data"]),
            note.text
        );
    }

    #[test]
    fn bundle_is_deterministic_given_the_id() {
        let note = sample_note();
        assert_eq!(
            document_bundle(&note, "note-1"),
            document_bundle(&note, "note-1")
        );
        let other = document_bundle(&note, "note-2");
        assert_ne!(
            document_bundle(&note, "note-1")["entry"][0]["fullUrl"],
            other["entry"][0]["fullUrl"]
        );
    }

    #[test]
    fn sections_carry_titles_codes_and_narrative() {
        let bundle = document_bundle(&sample_note(), "note-1");
        let sections = bundle["entry"][0]["resource"]["section"]
            .as_array()
            .unwrap();
        let summary: Vec<(&str, Option<&str>)> = sections
            .iter()
            .map(|section| {
                (
                    section["title"].as_str().unwrap(),
                    section["code"]["coding"][0]["code"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("Subjective", Some("61150-9")),
                ("Objective", Some("61149-1")),
                ("Assessment", Some("51848-0")),
                ("Plan", Some("18776-5")),
            ]
        );
        assert_eq!(sections[0]["code"]["coding"][0]["system"], LOINC);
        assert_eq!(sections[2]["text"]["status"], "generated");
        assert_eq!(
            sections[2]["text"]["div"],
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Acute bronchitis &lt;likely viral&gt; \
             &amp; mild intermittent asthma.</p></div>"
        );
    }

    #[test]
    fn a_note_without_sections_is_one_section() {
        let mut note = sample_note();
        note.sections.clear();
        note.text = "Free text letter.\nSecond line.".into();
        let bundle = document_bundle(&note, "note-1");
        let sections = bundle["entry"][0]["resource"]["section"]
            .as_array()
            .unwrap();
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0]["title"], "APSO progress note");
        assert!(sections[0].get("code").is_none());
        assert_eq!(
            sections[0]["text"]["div"],
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Free text letter.</p><p>Second line.</p></div>"
        );
    }

    #[test]
    fn section_codes_by_heading() {
        fn check(title: &str, expected: Option<&str>) {
            assert_eq!(section_loinc(title), expected, "{title:?}");
        }
        check("Assessment", Some("51848-0"));
        check("  PLAN: ", Some("18776-5"));
        check("Assessment & Plan", Some("51847-2"));
        check("History of Present Illness", Some("10164-2"));
        check("HPI", Some("10164-2"));
        check("Medications", Some("10160-0"));
        check("Allergies", Some("48765-2"));
        check("Subjective", Some("61150-9"));
        check("Objective", Some("61149-1"));
        check("Impression", None);
        check("", None);
    }

    #[test]
    fn xhtml_is_escaped() {
        assert_eq!(
            escape_xml("a < b & c > \"d\" 'e'\u{1}\u{FFFF}ok"),
            "a &lt; b &amp; c &gt; &quot;d&quot; &#39;e&#39;ok"
        );
        assert_eq!(
            xhtml_div("<script>alert(1)</script>\n\n  \n"),
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>&lt;script&gt;alert(1)&lt;/script&gt;</p></div>"
        );
        assert_eq!(
            xhtml_div(" \n"),
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>(no text)</p></div>"
        );
    }
}
