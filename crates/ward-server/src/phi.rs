//! `POST /v1/phi/detect`: the PHI detector over HTTP (`{"text"}` -> `{"spans": [...]}`).

use axum::extract::rejection::BytesRejection;
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use ward_core::{ErrorKind, WardError};
use ward_phi::Detector;

use crate::body::parse_request;
use crate::error::{ApiError, ApiFlavor};

#[derive(Deserialize)]
pub struct DetectRequest {
    text: String,
}

/// Texts above this size are scanned on a blocking thread so the runtime keeps serving.
const INLINE_SCAN_BYTES: usize = 32 * 1024;

pub async fn detect(body: Result<Bytes, BytesRejection>) -> Result<Json<Value>, ApiError> {
    let request: DetectRequest = parse_request(body, ApiFlavor::OpenAi)?;
    let text = request.text;
    let findings = if text.len() <= INLINE_SCAN_BYTES {
        Detector::shared().detect(&text)
    } else {
        tokio::task::spawn_blocking(move || Detector::shared().detect(&text))
            .await
            .map_err(|_| {
                ApiError::new(
                    ApiFlavor::OpenAi,
                    WardError::new(ErrorKind::Internal, "the PHI scan failed"),
                )
            })?
    };
    let spans: Vec<Value> = findings
        .iter()
        .map(|finding| {
            json!({
                "start": finding.start,
                "end": finding.end,
                "label": finding.label.as_str(),
                "recogniser": finding.recogniser.as_str(),
                "confidence": (f64::from(finding.confidence) * 100.0).round() / 100.0,
            })
        })
        .collect();
    Ok(Json(json!({ "spans": spans })))
}
