//! The clinical note workflow: `POST /v1/notes` turns a dictation into a note through a profile,
//! runs the profile's output checks and answers with the note, its sections, flags, ICD-10-CM
//! suggestions and quality score, or with the note as a DOCX or FHIR document. `GET /v1/profiles`
//! lists the profiles a client may use, here or as a model name.

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use ward_clinical::{CodeSet, NoteDocument, Profile, Reference, Review};
use ward_core::{ChatMessage, ChatRole, GenerationRequest, WardError};

use crate::auth::Caller;
use crate::body::parse_request;
use crate::call::{self, CallContext, BACKEND_HEADER, TIER_HEADER};
use crate::error::{ApiError, ApiFlavor};
use crate::routes::AppState;

/// Longest accepted dictation plus context, in bytes: far beyond any dictation, well inside a
/// model's context.
const MAX_INPUT_BYTES: usize = 200_000;

pub const QUALITY_HEADER: &str = "x-ward-quality";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteRequest {
    profile: String,
    dictation: String,
    patient_context: Option<String>,
    #[serde(default)]
    format: NoteFormat,
    subject: Option<WireReference>,
    author: Option<WireReference>,
    /// A model to use instead of the profile's own.
    model: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    seed: Option<u32>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum NoteFormat {
    #[default]
    Json,
    Docx,
    Fhir,
    FhirBundle,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireReference {
    reference: String,
    display: Option<String>,
}

impl WireReference {
    /// A FHIR literal reference (`Patient/123`) or an absolute URL/URN.
    fn validate(self, field: &str) -> Result<Reference, WardError> {
        let reference = self.reference.trim();
        let relative = reference.split_once('/').is_some_and(|(kind, id)| {
            kind.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && kind.chars().all(|c| c.is_ascii_alphabetic())
                && !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        });
        let absolute = reference.starts_with("urn:") || reference.starts_with("https://");
        if !(relative || absolute) {
            return Err(WardError::invalid_request(format!(
                "`{field}.reference` must be a FHIR reference such as Patient/123 or an absolute URL"
            ))
            .with_param(format!("{field}.reference")));
        }
        Ok(Reference {
            reference: reference.to_owned(),
            display: self.display,
        })
    }
}

fn error(error: WardError) -> ApiError {
    ApiError::new(ApiFlavor::OpenAi, error)
}

fn profile_json(profile: &Profile) -> Value {
    json!({
        "id": profile.name,
        "object": "profile",
        "title": profile.title,
        "description": profile.description,
        "version": profile.version,
        "model": profile.model,
        "tier": profile.tier,
        "note_type": {"loinc": profile.note_type.loinc, "display": profile.note_type.display},
        "sections": profile.sections,
        "checks": profile.checks.iter().map(|check| check.as_str()).collect::<Vec<_>>(),
        "schema": profile.schema,
        "origin": profile.origin,
    })
}

/// `GET /v1/profiles`.
pub async fn profiles(State(state): State<AppState>) -> Json<Value> {
    let data: Vec<Value> = state.profiles.iter().map(profile_json).collect();
    Json(json!({"object": "list", "data": data}))
}

/// `POST /v1/notes`.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: NoteRequest = parse_request(body, ApiFlavor::OpenAi)?;
    let Some(profile) = state.profiles.get(&request.profile) else {
        let known: Vec<&str> = state.profiles.iter().map(|p| p.name.as_str()).collect();
        return Err(error(
            WardError::not_found(format!(
                "profile '{}' not found; profiles here: {}",
                request.profile,
                known.join(", ")
            ))
            .with_param("profile"),
        ));
    };
    if request.dictation.trim().is_empty() {
        return Err(error(
            WardError::invalid_request("`dictation` is empty").with_param("dictation"),
        ));
    }
    let context_len = request.patient_context.as_ref().map_or(0, String::len);
    if request.dictation.len() + context_len > MAX_INPUT_BYTES {
        return Err(error(
            WardError::invalid_request(format!(
                "`dictation` and `patient_context` together exceed {MAX_INPUT_BYTES} bytes"
            ))
            .with_param("dictation"),
        ));
    }
    if request.max_tokens == Some(0) {
        return Err(error(
            WardError::invalid_request("max_tokens must be at least 1").with_param("max_tokens"),
        ));
    }
    if let Some(temperature) = request.temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(error(
            WardError::invalid_request(format!(
                "temperature must be between 0 and 2, not {temperature}"
            ))
            .with_param("temperature"),
        ));
    }
    let subject = request
        .subject
        .map(|subject| subject.validate("subject"))
        .transpose()
        .map_err(error)?;
    let author = request
        .author
        .map(|author| author.validate("author"))
        .transpose()
        .map_err(error)?;

    let patient_context = request
        .patient_context
        .as_deref()
        .filter(|c| !c.trim().is_empty());
    let user = profile.user_message(&request.dictation, patient_context);
    let mut generation = GenerationRequest::chat(
        profile.name.clone(),
        vec![ChatMessage::new(ChatRole::User, user.clone())],
    );
    generation.max_tokens = request.max_tokens;
    generation.sampling.temperature = request.temperature;
    generation.sampling.seed = request.seed;
    let context = CallContext {
        caller: &caller,
        endpoint: "/v1/notes",
        streaming: false,
        flavor: ApiFlavor::OpenAi,
        profile_model: request
            .model
            .as_deref()
            .filter(|model| !model.trim().is_empty()),
    };
    let started = call::start(&state, context, generation).await?;
    let request_id = started.request_id.clone();
    let model = started.model.clone();
    let headers = started.headers();
    let review_slot = started.review_slot();
    let (text, summary, mut headers) = started
        .collect()
        .await
        .map_err(|failure| error(failure).with_headers(headers))?;

    // Made once, when the audit record was committed; only a server without an audit log
    // reviews here.
    let review = review_slot
        .and_then(|slot| slot.get().cloned())
        .unwrap_or_else(|| ward_clinical::review(profile, CodeSet::builtin(), &user, &text));
    if let Ok(value) = HeaderValue::from_str(&format!("{:.2}", review.quality.score)) {
        headers.insert(QUALITY_HEADER, value);
    }
    let document = NoteDocument {
        title: profile.title.clone(),
        note_type: profile.note_type,
        text,
        sections: review.sections.clone(),
        flagged_items: review.flagged_items.clone(),
        fabrication_warnings: review.fabrication_warnings.clone(),
        codes: review.codes.clone(),
        profile: profile.name.clone(),
        profile_version: profile.version.clone(),
        model,
        created: ward_audit::record::rfc3339_micros(ward_audit::record::now_micros()),
        subject,
        author,
    };
    match request.format {
        NoteFormat::Json => {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            };
            let body = note_json(
                &request_id,
                &document,
                &review,
                header(TIER_HEADER),
                header(BACKEND_HEADER),
                &summary.usage,
            );
            Ok((headers, Json(body)).into_response())
        }
        NoteFormat::Docx => {
            let bytes = ward_clinical::docx::note_docx(&document).map_err(|failure| {
                tracing::error!(request_id = %request_id, error = %failure, "DOCX export failed");
                error(WardError::internal("the note could not be written as DOCX"))
                    .with_headers(headers.clone())
            })?;
            attach(
                &mut headers,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                &format!("note-{request_id}.docx"),
            );
            Ok((headers, bytes).into_response())
        }
        NoteFormat::Fhir | NoteFormat::FhirBundle => {
            let resource = if request.format == NoteFormat::Fhir {
                ward_clinical::fhir::document_reference(&document, &request_id)
            } else {
                ward_clinical::fhir::document_bundle(&document, &request_id)
            };
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/fhir+json"),
            );
            Ok((headers, resource.to_string()).into_response())
        }
    }
}

fn attach(headers: &mut HeaderMap, content_type: &'static str, filename: &str) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
}

fn note_json(
    request_id: &str,
    document: &NoteDocument,
    review: &Review,
    tier: Option<String>,
    backend: Option<String>,
    usage: &ward_core::Usage,
) -> Value {
    let sections: serde_json::Map<String, Value> = document
        .sections
        .iter()
        .filter(|section| !section.title.is_empty())
        .map(|section| (section.title.clone(), Value::String(section.text.clone())))
        .collect();
    json!({
        "id": request_id,
        "object": "clinical.note",
        "created": document.created,
        "profile": document.profile,
        "profile_version": document.profile_version,
        "model": document.model,
        "tier": tier,
        "backend": backend,
        "note": document.text,
        "sections": sections,
        "missing_sections": review.missing_sections,
        "flagged_items": document.flagged_items,
        "fabrication_warnings": document.fabrication_warnings,
        "icd10": document.codes,
        "schema_violations": review.schema_violations,
        "quality": review.quality,
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens(),
        },
    })
}
