//! The `hf:` source: a resumable download of one file from a Hugging Face model repository.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tempfile::TempPath;
use ureq::http::{HeaderMap, StatusCode};
use ureq::Agent;

use crate::error::StoreError;
use crate::pull::{hex_digest, normalize_sha256, Download, Fetched, PullOptions, PullProgress};
use crate::transfer::{copy_observed, CopyError};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// A stalled download fails (and can be resumed) instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A file in a model repository.
pub(crate) struct HubFile<'a> {
    pub owner: &'a str,
    pub repo: &'a str,
    pub file: &'a str,
    pub revision: &'a str,
}

/// What the hub says about a file before we download it.
struct FileInfo {
    download_url: String,
    sha256: Option<String>,
    size: Option<u64>,
}

pub(crate) fn fetch(
    hub_file: &HubFile<'_>,
    options: &PullOptions,
    expected_sha256: Option<&str>,
    partial_dir: &Path,
    blob_exists: impl Fn(&str) -> bool,
    progress: &dyn PullProgress,
) -> Result<Fetched, StoreError> {
    let endpoint = options.hf_endpoint.trim_end_matches('/');
    let url = format!(
        "{endpoint}/{}/{}/resolve/{}/{}",
        hub_file.owner, hub_file.repo, hub_file.revision, hub_file.file
    );
    progress.stage(&format!("asking {url}"));
    let info = file_info(&url, endpoint, options.hf_token.as_deref())?;
    let expected_sha256 = expected_sha256.map(str::to_string).or(info.sha256);
    if let Some(sha256) = expected_sha256
        .as_deref()
        .filter(|sha256| blob_exists(sha256))
    {
        return Ok(Fetched::AlreadyStored {
            sha256: sha256.to_string(),
        });
    }

    let part_path = partial_dir.join(part_file_name(expected_sha256.as_deref(), hub_file));
    let mut existing = fs::metadata(&part_path).map_or(0, |metadata| metadata.len());
    if info.size.is_some_and(|size| existing > size) {
        existing = 0;
    }

    // A part that already holds every byte needs no request at all.
    let sha256 = if info.size == Some(existing) && existing > 0 {
        progress.stage("the download is already complete");
        hash_file(&part_path)?
    } else {
        // Only the hub itself gets the token, never a CDN it redirects to.
        let token = options
            .hf_token
            .as_deref()
            .filter(|_| info.download_url.starts_with(endpoint));
        download(
            &info.download_url,
            token,
            &part_path,
            existing,
            info.size,
            hub_file.file,
            progress,
        )?
    };

    // From here on the part file is complete; if it turns out wrong it must not be resumed.
    let file =
        TempPath::try_from_path(&part_path).map_err(StoreError::io("could not use", &part_path))?;
    let actual_size = fs::metadata(&file)
        .map_err(StoreError::io("could not read", file.to_path_buf()))?
        .len();
    if let Some(expected) = info.size.filter(|size| *size != actual_size) {
        return Err(StoreError::SizeMismatch {
            file: hub_file.file.to_string(),
            expected,
            actual: actual_size,
        });
    }
    Ok(Fetched::Downloaded(Download {
        file,
        sha256,
        expected_sha256,
    }))
}

/// The HEAD request: redirects are not followed because the hub's redirect carries the
/// `x-linked-*` headers that describe the stored file.
fn file_info(url: &str, endpoint: &str, token: Option<&str>) -> Result<FileInfo, StoreError> {
    let agent: Agent = Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(RESPONSE_TIMEOUT))
        .build()
        .into();
    let mut request = agent.head(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.call().map_err(|error| StoreError::Http {
        url: url.to_string(),
        reason: error.to_string(),
    })?;
    let status = response.status();
    if !status.is_success() && !status.is_redirection() {
        return Err(status_error(url, status));
    }
    let headers = response.headers();
    let sha256 = header(headers, "x-linked-etag")
        .or_else(|| header(headers, "etag"))
        .and_then(|etag| normalize_sha256(etag.trim_start_matches("W/").trim_matches('"')));
    let size = header(headers, "x-linked-size")
        .or_else(|| header(headers, "content-length"))
        .and_then(|size| size.trim().parse().ok());
    let download_url = match header(headers, "location").filter(|_| status.is_redirection()) {
        Some(location) => absolute_url(location, endpoint),
        None => url.to_string(),
    };
    Ok(FileInfo {
        download_url,
        sha256,
        size,
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Resolves a `location` header: absolute, or relative to the endpoint's origin.
fn absolute_url(location: &str, endpoint: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let after_scheme = endpoint.find("://").map_or(0, |index| index + 3);
    let origin_end = endpoint[after_scheme..]
        .find('/')
        .map_or(endpoint.len(), |index| after_scheme + index);
    let origin = &endpoint[..origin_end];
    if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        format!("{origin}/{location}")
    }
}

fn status_error(url: &str, status: StatusCode) -> StoreError {
    let hint = match status.as_u16() {
        401 | 403 => "; the repository may be gated or private: accept its licence on the hub and give a token",
        404 => "; check the owner, repository, file path and revision",
        429 => "; the hub is rate limiting, try again later or give a token",
        _ => "",
    };
    StoreError::HttpStatus {
        url: url.to_string(),
        status: status.as_u16(),
        hint,
    }
}

/// GETs `url` into `part_path`, resuming after `existing` bytes when the server allows it, and
/// returns the sha256 of the whole file.
fn download(
    url: &str,
    token: Option<&str>,
    part_path: &Path,
    existing: u64,
    total_bytes: Option<u64>,
    label: &str,
    progress: &dyn PullProgress,
) -> Result<String, StoreError> {
    let agent: Agent = Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(RESPONSE_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if existing > 0 {
        request = request.header("Range", format!("bytes={existing}-"));
    }
    let http_error = |reason: String| StoreError::Http {
        url: url.to_string(),
        reason,
    };
    let response = request
        .call()
        .map_err(|error| http_error(error.to_string()))?;
    let resumed = match response.status() {
        StatusCode::PARTIAL_CONTENT => {
            let start = header(response.headers(), "content-range")
                .and_then(|range| range.strip_prefix("bytes "))
                .and_then(|range| range.split('-').next())
                .and_then(|start| start.parse::<u64>().ok());
            if start != Some(existing) {
                return Err(http_error(format!(
                    "asked to resume at byte {existing} but the server answered with another range"
                )));
            }
            true
        }
        StatusCode::OK => false,
        StatusCode::RANGE_NOT_SATISFIABLE => {
            // The part no longer fits the file on the server; resuming it would never succeed.
            fs::remove_file(part_path).map_err(StoreError::io("could not delete", part_path))?;
            return Err(http_error(
                "the server refused to resume the partial download, which was discarded; pull again".into(),
            ));
        }
        status => return Err(status_error(url, status)),
    };

    let mut hasher = Sha256::new();
    let mut part = if resumed {
        hash_into(part_path, &mut hasher)?;
        OpenOptions::new().append(true).open(part_path)
    } else {
        File::create(part_path)
    }
    .map_err(StoreError::io("could not open", part_path))?;

    progress.start(label, total_bytes);
    if resumed {
        progress.advance(existing);
    }
    let mut received = if resumed { existing } else { 0 };
    let mut body = response.into_body().into_reader();
    let copied = copy_observed(&mut body, &mut part, |block| {
        hasher.update(block);
        received += block.len() as u64;
        progress.advance(block.len() as u64);
    });
    progress.finish();
    copied.map_err(|error| match error {
        CopyError::Read(error) => http_error(format!(
            "the connection broke after {received} bytes ({error}); the partial download is kept, pull again to resume"
        )),
        CopyError::Write(error) => StoreError::io("could not write", part_path)(error),
    })?;
    part.sync_all()
        .map_err(StoreError::io("could not write", part_path))?;
    Ok(hex_digest(hasher))
}

fn hash_into(path: &Path, hasher: &mut Sha256) -> Result<(), StoreError> {
    let mut file = File::open(path).map_err(StoreError::io("could not open", path))?;
    copy_observed(&mut file, &mut io::sink(), |block| hasher.update(block)).map_err(|error| {
        let (CopyError::Read(error) | CopyError::Write(error)) = error;
        StoreError::io("could not read", path)(error)
    })?;
    Ok(())
}

fn hash_file(path: &Path) -> Result<String, StoreError> {
    let mut hasher = Sha256::new();
    hash_into(path, &mut hasher)?;
    Ok(hex_digest(hasher))
}

/// The partial download's file name: the sha256 when known, so a resume never mixes two
/// versions of a file, else the file's path made of safe characters.
fn part_file_name(expected_sha256: Option<&str>, hub_file: &HubFile<'_>) -> String {
    let stem = match expected_sha256 {
        Some(sha256) => sha256.to_string(),
        None => format!("{}_{}_{}", hub_file.owner, hub_file.repo, hub_file.file)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    };
    format!("{stem}.part")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_endpoint_origin() {
        for (location, endpoint, expected) in [
            (
                "https://cdn.example/x",
                "https://huggingface.co",
                "https://cdn.example/x",
            ),
            (
                "/cdn/file.gguf",
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/cdn/file.gguf",
            ),
            (
                "/cdn/file.gguf",
                "https://mirror.example/hf",
                "https://mirror.example/cdn/file.gguf",
            ),
            (
                "cdn/file.gguf",
                "https://mirror.example",
                "https://mirror.example/cdn/file.gguf",
            ),
        ] {
            assert_eq!(
                absolute_url(location, endpoint),
                expected,
                "{location} on {endpoint}"
            );
        }
    }

    #[test]
    fn part_names_keep_only_safe_characters() {
        let hub_file = HubFile {
            owner: "Qwen",
            repo: "Repo",
            file: "sub/model q4.gguf",
            revision: "main",
        };
        assert_eq!(
            part_file_name(None, &hub_file),
            "Qwen_Repo_sub_model_q4.gguf.part"
        );
        let sha256 = "a".repeat(64);
        assert_eq!(
            part_file_name(Some(&sha256), &hub_file),
            format!("{sha256}.part")
        );
    }
}
