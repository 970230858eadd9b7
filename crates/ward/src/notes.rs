//! Clinical profiles at the edge: reading `profiles/*.toml`, `ward profiles` to list them, and
//! `ward notes`, which turns a dictation file into a note (JSON, DOCX or FHIR) in process, through
//! the same `/v1/notes` handler, PHI gate, router and audit log a client of `ward serve` gets.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::json;
use ward_clinical::ProfileSet;

use crate::config::{ClinicalConfig, Config};
use crate::serve::{gateway, prepare, runtime, server_settings, Keys};

/// The built-in profiles plus every `*.toml` in the profiles folder (sorted by file name).
pub fn load_profiles(clinical: &ClinicalConfig) -> anyhow::Result<ProfileSet> {
    let folder = &clinical.profiles_dir;
    if !folder.is_dir() && clinical.profiles_dir_required {
        bail!(
            "clinical.profiles_dir: {} is not a folder (set it to the folder holding your profile .toml files)",
            folder.display()
        );
    }
    let files = if folder.is_dir() {
        profile_files(folder)?
    } else {
        Vec::new()
    };
    ProfileSet::load(&clinical.variables, &files).map_err(|error| anyhow::anyhow!("{error}"))
}

/// The profile file at `path`, or every .toml file in the folder at `path`, as (origin, text).
pub fn profile_files(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read profiles folder {}", path.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read profile {}", file.display()))?;
            Ok((file.display().to_string(), text))
        })
        .collect()
}

/// Start-up checks of the loaded profiles against the deployment: a named tier must exist, and a
/// prompt the PHI detector flags (a practice name can read as a facility) is worth a warning,
/// because every request with that profile then counts as PHI and stays on local models.
pub fn check_profiles(profiles: &ProfileSet, router: &ward_router::Router) -> anyhow::Result<()> {
    for profile in profiles.iter() {
        if let Some(tier) = &profile.tier {
            if !router.has_tier(tier) {
                bail!(
                    "profile {} ({}) names tier '{tier}', which ward.toml does not define",
                    profile.name,
                    profile.origin
                );
            }
        }
        let findings = ward_phi::detect(&profile.system_prompt);
        if !findings.is_empty() {
            let mut labels: Vec<&str> = findings
                .iter()
                .map(|finding| finding.label.as_str())
                .collect();
            labels.sort_unstable();
            labels.dedup();
            eprintln!(
                "warning: profile {}'s prompt holds text the PHI detector flags ({}); its requests will count as PHI and stay on local models",
                profile.name,
                labels.join(", ")
            );
        }
    }
    // The code set the icd10 check reads, built now so the first note does not wait for it.
    ward_clinical::CodeSet::builtin();
    Ok(())
}

/// `ward profiles`: name, version, model and description of each profile.
pub fn list_profiles(config: &Config, as_json: bool) -> anyhow::Result<()> {
    let profiles = load_profiles(&config.clinical)?;
    for profile in profiles.iter() {
        if as_json {
            let line = json!({
                "name": profile.name,
                "version": profile.version,
                "model": profile.model,
                "description": profile.description,
                "sections": profile.sections,
                "checks": profile.checks.iter().map(|check| check.as_str()).collect::<Vec<_>>(),
                "origin": profile.origin,
            });
            println!("{line}");
        } else {
            println!(
                "{:<20} {}  {:<8} {}",
                profile.name, profile.version, profile.model, profile.description
            );
        }
    }
    Ok(())
}

/// What `ward notes` is asked for.
#[derive(Debug, clap::Args)]
pub struct NoteOptions {
    /// The profile, e.g. apso-note (see `ward profiles`).
    #[arg(long)]
    pub profile: String,
    /// The dictation, a text file (- reads standard input).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Patient context (problem list, medications), a text file.
    #[arg(long, value_name = "FILE")]
    pub context: Option<PathBuf>,
    /// Where to write the note; the name picks the format: .docx, .fhir.json
    /// (DocumentReference), .bundle.json (FHIR document Bundle), else JSON.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// json, docx, fhir or fhir-bundle (overrides the --out name).
    #[arg(long)]
    pub format: Option<String>,
    /// FHIR reference of the patient, e.g. Patient/123.
    #[arg(long, value_name = "REFERENCE")]
    pub subject: Option<String>,
    /// FHIR reference of the clinician, e.g. Practitioner/456.
    #[arg(long, value_name = "REFERENCE")]
    pub author: Option<String>,
    /// Model to load: a store name or alias (default: the configured backends).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    #[arg(long)]
    pub max_tokens: Option<u32>,
    #[arg(long)]
    pub seed: Option<u32>,
}

/// The export format a file name asks for: `.docx`, `.fhir.json` / `.bundle.json`, else JSON.
fn format_of(out: &Path) -> &'static str {
    let name = out
        .file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".docx") {
        "docx"
    } else if name.ends_with(".bundle.json") {
        "fhir-bundle"
    } else if name.ends_with(".fhir.json") {
        "fhir"
    } else {
        "json"
    }
}

/// A text file, or standard input for `-`.
fn read_text(path: &Path) -> anyhow::Result<String> {
    crate::phi::read_all((path != Path::new("-")).then_some(path))
}

/// `ward notes`: one note from one dictation.
pub fn create_note(config: &Config, options: NoteOptions) -> anyhow::Result<()> {
    let profiles = load_profiles(&config.clinical)?;
    if profiles.get(&options.profile).is_none() {
        let names: Vec<&str> = profiles
            .iter()
            .map(|profile| profile.name.as_str())
            .collect();
        bail!(
            "no profile named '{}'; `ward profiles` lists them: {}",
            options.profile,
            names.join(", ")
        );
    }
    let dictation = read_text(&options.input)?;
    let context = options.context.as_deref().map(read_text).transpose()?;
    let format = match (&options.format, &options.out) {
        (Some(format), _) => format.clone(),
        (None, Some(out)) => format_of(out).to_owned(),
        (None, None) => "json".to_owned(),
    };
    let reference = |text: &Option<String>| {
        text.as_ref()
            .map(|reference| json!({"reference": reference}))
    };
    let body = json!({
        "profile": options.profile,
        "dictation": dictation,
        "patient_context": context,
        "format": format,
        "subject": reference(&options.subject),
        "author": reference(&options.author),
        "max_tokens": options.max_tokens,
        "seed": options.seed,
    });
    let prepared = prepare(config, Keys::LocalOperator)?;
    let (status, bytes) = runtime()?.block_on(async {
        let state = gateway(config, prepared).await?;
        let app = ward_server::router(state, &server_settings(config));
        ward_server::call_in_process(app, "/v1/notes", body.to_string())
            .await
            .map(|(status, _, bytes)| (status, bytes))
            .map_err(|error| anyhow::anyhow!("the note request failed: {error}"))
    })?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|value| value["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        bail!("the note could not be made ({status}): {message}");
    }
    if format == "json" {
        if let Ok(note) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            eprintln!(
                "quality {}; {} flagged, {} fabrication warnings, {} codes ({} invalid)",
                note["quality"]["score"],
                note["flagged_items"].as_array().map_or(0, Vec::len),
                note["fabrication_warnings"].as_array().map_or(0, Vec::len),
                note["icd10"].as_array().map_or(0, Vec::len),
                note["icd10"].as_array().map_or(0, |codes| codes
                    .iter()
                    .filter(|code| code["valid"] == false)
                    .count()),
            );
        }
    }
    match &options.out {
        Some(out) => {
            std::fs::write(out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote {} ({format})", out.display());
        }
        None if format == "docx" => bail!("a DOCX note needs --out FILE.docx"),
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout();
            stdout.write_all(&bytes)?;
            stdout.write_all(b"\n")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_name_picks_the_format() {
        assert_eq!(format_of(Path::new("note.docx")), "docx");
        assert_eq!(format_of(Path::new("out/note.fhir.json")), "fhir");
        assert_eq!(format_of(Path::new("note.bundle.json")), "fhir-bundle");
        assert_eq!(format_of(Path::new("note.json")), "json");
    }

    #[test]
    fn profile_files_replace_builtins_and_a_missing_required_folder_is_an_error() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(
            folder.path().join("apso.toml"),
            "name = \"apso-note\"\ndescription = \"ours\"\nsystem_prompt = \"Write it for {{ practice_name }}.\"\n",
        )
        .unwrap();
        std::fs::write(folder.path().join("readme.md"), "not a profile").unwrap();
        let mut clinical = ClinicalConfig {
            profiles_dir: folder.path().to_path_buf(),
            profiles_dir_required: true,
            variables: [("practice_name".to_owned(), "Hillside Clinic".to_owned())].into(),
        };
        let profiles = load_profiles(&clinical).unwrap();
        let apso = profiles.get("apso-note").unwrap();
        assert_eq!(apso.system_prompt, "Write it for Hillside Clinic.");
        assert!(profiles.get("soap-note").is_some());

        clinical.profiles_dir = folder.path().join("missing");
        let error = load_profiles(&clinical).unwrap_err().to_string();
        assert!(error.contains("clinical.profiles_dir"), "{error}");
        clinical.profiles_dir_required = false;
        assert!(load_profiles(&clinical).is_ok());
    }
}
