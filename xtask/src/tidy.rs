//! Conventions as tests: the crate dependency table, `unsafe` only in the engine's FFI module,
//! a `//!` line atop every file, the environment read only by the binary, and no log call that
//! names a field which could carry request text.

use std::fs;
use std::path::{Path, PathBuf};

/// Which internal crates each crate may depend on (from docs/conventions and ARCHITECTURE.md).
const ALLOWED_INTERNAL: &[(&str, &[&str])] = &[
    (
        "ward",
        &[
            "ward-core",
            "ward-server",
            "ward-router",
            "ward-engine",
            "ward-phi",
            "ward-audit",
            "ward-clinical",
            "ward-store",
        ],
    ),
    (
        "ward-server",
        &[
            "ward-core",
            "ward-phi",
            "ward-router",
            "ward-audit",
            "ward-clinical",
        ],
    ),
    ("ward-router", &["ward-core", "ward-phi"]),
    ("ward-engine", &["ward-core"]),
    ("ward-store", &["ward-core"]),
    ("ward-phi", &[]),
    ("ward-audit", &["ward-core"]),
    ("ward-clinical", &["ward-core"]),
    ("ward-core", &[]),
];

/// External crates reserved to one crate: the edge (`anyhow`, `clap`) and the C++ engine.
const RESERVED_EXTERNAL: &[(&str, &str)] = &[
    ("anyhow", "ward"),
    ("clap", "ward"),
    ("indicatif", "ward"),
    ("llama-cpp-2", "ward-engine"),
    ("llama-cpp-sys-2", "ward-engine"),
    ("axum", "ward-server"),
];

/// Field names that would put request or response text into a log line.
const FORBIDDEN_LOG_FIELDS: &[&str] = &["prompt", "content", "text", "body", "messages"];

pub fn check_workspace(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    check_dependencies(root, &mut problems);
    for file in rust_files(root) {
        let source =
            fs::read_to_string(&file).map_err(|error| format!("{}: {error}", file.display()))?;
        let relative = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        check_source(&relative, &source, &mut problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.join("crates"), root.join("xtask")];
    while let Some(directory) = pending.pop() {
        let Ok(entries) = fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "target") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Names listed in the `[dependencies]` and `[build-dependencies]` tables of a manifest.
fn dependency_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]" || line == "[build-dependencies]";
            continue;
        }
        if in_dependencies && !line.is_empty() && !line.starts_with('#') {
            if let Some(name) = line.split(['=', '.', ' ']).next() {
                names.push(name.trim().to_owned());
            }
        }
    }
    names
}

fn check_dependencies(root: &Path, problems: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(root.join("crates")) else {
        problems.push("no crates/ folder".into());
        return;
    };
    for entry in entries.flatten() {
        let crate_name = entry.file_name().to_string_lossy().into_owned();
        let Ok(manifest) = fs::read_to_string(entry.path().join("Cargo.toml")) else {
            continue;
        };
        if !manifest.contains(&format!("name = \"{crate_name}\"")) {
            problems.push(format!(
                "crates/{crate_name}: the folder must be named like its crate"
            ));
        }
        let Some((_, allowed)) = ALLOWED_INTERNAL
            .iter()
            .find(|(name, _)| *name == crate_name)
        else {
            problems.push(format!("crates/{crate_name}: not in tidy's dependency table; add it with its allowed dependencies"));
            continue;
        };
        for dependency in dependency_names(&manifest) {
            if dependency.starts_with("ward") && !allowed.contains(&dependency.as_str()) {
                problems.push(format!(
                    "crates/{crate_name} must not depend on {dependency}"
                ));
            }
            if let Some((_, owner)) = RESERVED_EXTERNAL
                .iter()
                .find(|(external, _)| *external == dependency)
            {
                if *owner != crate_name {
                    problems.push(format!(
                        "crates/{crate_name} must not depend on {dependency} (reserved to {owner})"
                    ));
                }
            }
        }
    }
}

fn check_source(relative: &str, source: &str, problems: &mut Vec<String>) {
    if !source.starts_with("//!") {
        problems.push(format!(
            "{relative}: must start with a `//!` line saying what the file is for"
        ));
    }
    if relative.starts_with("xtask/") {
        // xtask quotes the patterns it looks for.
        return;
    }
    let is_engine_ffi = relative == "crates/ward-engine/src/ffi.rs";
    let is_binary = relative.starts_with("crates/ward/");
    let is_test_code = relative.contains("/tests/");
    for (index, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if !is_engine_ffi && contains_word(code, "unsafe") {
            problems.push(format!(
                "{relative}:{}: `unsafe` is allowed only in crates/ward-engine/src/ffi.rs",
                index + 1
            ));
        }
        if !is_binary
            && !is_test_code
            && (code.contains("std::env::var") || code.contains("env::vars("))
        {
            problems.push(format!(
                "{relative}:{}: only the ward binary reads the environment",
                index + 1
            ));
        }
    }
    for (line_number, call) in log_calls(source) {
        for field in FORBIDDEN_LOG_FIELDS {
            if names_field(&call, field) {
                problems.push(format!("{relative}:{line_number}: log call names `{field}`; log ids, counts and timings only"));
            }
        }
    }
}

fn contains_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(start, _)| {
        let before = code[..start].chars().next_back();
        let after = code[start + word.len()..].chars().next();
        let is_identifier = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !is_identifier(before) && !is_identifier(after)
    })
}

/// The text of every `tracing` macro call (`info!(…)` and friends), with its first line number.
fn log_calls(source: &str) -> Vec<(usize, String)> {
    let mut calls = Vec::new();
    for macro_name in ["trace!(", "debug!(", "info!(", "warn!(", "error!("] {
        for (start, _) in source.match_indices(macro_name) {
            let line_number = source[..start].lines().count().max(1);
            let mut depth = 0usize;
            let mut end = start;
            for (offset, character) in source[start..].char_indices() {
                match character {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = start + offset;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            calls.push((line_number, source[start..end].to_owned()));
        }
    }
    calls
}

/// Whether a log call records `field` as a key (`field = …`, `%field`, `?field`, `field,`).
fn names_field(call: &str, field: &str) -> bool {
    let arguments = call.split_once('(').map_or("", |(_, rest)| rest);
    arguments.split(',').any(|argument| {
        let argument = argument.trim();
        let key = argument.split('=').next().unwrap_or("").trim();
        let key = key.trim_start_matches(['%', '?']);
        let key = key.rsplit('.').next().unwrap_or(key);
        key == field && !argument.starts_with('"')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(relative: &str, source: &str) -> Vec<String> {
        let mut problems = Vec::new();
        check_source(relative, source, &mut problems);
        problems
    }

    #[test]
    fn the_workspace_is_tidy() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        check_workspace(root).unwrap();
    }

    #[test]
    fn catches_missing_doc_line_and_stray_unsafe() {
        assert_eq!(
            problems_of("crates/ward-phi/src/lib.rs", "//! ok\nfn f() {}").len(),
            0
        );
        assert_eq!(
            problems_of("crates/ward-phi/src/lib.rs", "fn f() {}").len(),
            1
        );
        assert_eq!(
            problems_of("crates/ward-server/src/a.rs", "//! x\nunsafe fn f() {}").len(),
            1
        );
        assert_eq!(
            problems_of("crates/ward-engine/src/ffi.rs", "//! x\nunsafe fn f() {}").len(),
            0
        );
        assert_eq!(
            problems_of("crates/ward-server/src/a.rs", "//! x\nfn unsafe_name() {}").len(),
            0
        );
        assert_eq!(
            problems_of(
                "crates/ward-router/src/a.rs",
                "//! x\nlet v = std::env::var(\"X\");"
            )
            .len(),
            1
        );
    }

    #[test]
    fn catches_log_fields_that_could_carry_request_text() {
        let bad = [
            "//! x\ntracing::info!(prompt = %p, \"call\");",
            "//! x\ninfo!(%content, \"call\");",
            "//! x\nwarn!(\n    request_id = 1,\n    ?messages,\n    \"call\"\n);",
            "//! x\nerror!(body = request.body, \"x\");",
        ];
        for source in bad {
            assert_eq!(
                problems_of("crates/ward-server/src/a.rs", source).len(),
                1,
                "{source}"
            );
        }
        let good = "//! x\ninfo!(request_id = %id, tokens = 3, \"the prompt was long\");";
        assert!(problems_of("crates/ward-server/src/a.rs", good).is_empty());
    }

    #[test]
    fn reads_dependency_names() {
        let manifest = "[package]\nname = \"x\"\n[dependencies]\nward-core.workspace = true\naxum = { version = \"1\" }\n[dev-dependencies]\nward-engine = \"1\"\n";
        assert_eq!(dependency_names(manifest), vec!["ward-core", "axum"]);
    }
}
