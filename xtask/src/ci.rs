//! `cargo xtask up` and `cargo xtask ci`: the README's two set-up commands. Each installs what a
//! fresh Debian machine lacks (apt packages, a Python virtual environment for the official
//! clients), so the same command works on a laptop and in CI.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian packages llama.cpp's build needs.
const APT_PACKAGES: &[&str] = &["cmake", "clang", "libclang-dev"];
/// Debian packages only CI's tests need, so `cargo xtask up` does not install them: the
/// PostgreSQL server the audit tests run against; openssl makes the certificates of the TLS
/// tests (tests/e2e/test_tls.py); LibreOffice renders the DOCX export to PDF
/// (tests/e2e/test_exports.py); headless Chromium renders the evaluation report page
/// (tests/e2e/test_eval.py) and the console (tests/e2e/test_console.py); a real Prometheus
/// scrapes Ward (tests/e2e/test_metrics.py); `hey` is the external load generator Ward's own
/// overhead figures are checked against (tests/e2e/test_overhead.py, bench/overhead.py).
const CI_APT_PACKAGES: &[&str] = &[
    "postgresql",
    "openssl",
    "libreoffice-writer-nogui",
    "chromium",
    "prometheus",
    "hey",
];
/// Programs CI's export tests need, with the Debian package installed when one is missing: Node.js
/// runs the FHIR schema validator (tests/fhir). A Node.js installed otherwise (NodeSource's brings
/// its own npm) is used as it is, since Debian's npm package would conflict with it.
const CI_PROGRAMS: &[(&str, &str)] = &[("node", "nodejs"), ("npm", "npm")];
/// Python packages of the end-to-end tests: the official clients and pytest.
/// `faker` feeds the synthetic PHI corpus generator (bench/phi/generate_corpus.py);
/// `python-docx` reads the DOCX export; `prometheus-client` parses `/metrics`; `playwright`
/// drives Debian's chromium through the console (its own browser downloads are never used).
const PYTHON_TEST_PACKAGES: &[&str] = &[
    "openai",
    "ollama",
    "pytest",
    "faker==40.54.0",
    "python-docx",
    "prometheus-client",
    "playwright",
];
/// Small model for engine mechanics tests; the default model drives the end-to-end tests.
const MECHANICS_MODEL: &str = "smollm2:135m";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let status = command
        .status()
        .map_err(|error| format!("could not start {shown}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

fn has_program(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Whether `path` exists and was modified no earlier than `than`.
fn is_newer(path: &Path, than: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|metadata| metadata.modified());
    match (modified(path), modified(than)) {
        (Ok(path), Ok(than)) => path >= than,
        _ => false,
    }
}

/// Installs the apt packages that are missing (as root, or with sudo when available).
fn install_system_packages(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| {
            !Command::new("dpkg")
                .args(["-s", package])
                .output()
                .is_ok_and(|output| output.status.success())
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0"));
    let prefix: Vec<&str> = if is_root {
        vec![]
    } else if has_program("sudo") {
        vec!["sudo"]
    } else {
        return Err(format!(
            "please install these Debian packages first: apt-get install {}",
            missing.join(" ")
        ));
    };
    let apt = |arguments: &[&str]| {
        let mut all: Vec<&str> = prefix.clone();
        all.push("apt-get");
        all.extend_from_slice(arguments);
        let mut command = Command::new(all[0]);
        command
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command)
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing.iter());
    apt(&install)
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn ward_binary(root: &Path, profile: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    target.join(profile).join("ward")
}

pub fn up(args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let native = args.iter().any(|arg| arg == "--native");
    let serve_args: Vec<&String> = args.iter().skip_while(|arg| *arg != "--").skip(1).collect();
    install_system_packages(APT_PACKAGES)?;
    let mut build = cargo();
    build
        .current_dir(&root)
        .args(["build", "--release", "--package", "ward"]);
    if native {
        // Faster prompt processing on this CPU; the binary will not run on older CPUs.
        build.env("RUSTFLAGS", "-C target-cpu=native");
    }
    run(&mut build)?;
    let mut serve = Command::new(ward_binary(&root, "release"));
    serve.current_dir(&root).arg("serve").args(serve_args);
    run(&mut serve)
}

/// Where CI keeps models and Python packages between runs on the same machine.
fn ci_cache() -> PathBuf {
    if let Ok(cache) = std::env::var("WARD_CI_CACHE") {
        return PathBuf::from(cache);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    PathBuf::from(home).join(".cache").join("ward-ci")
}

pub fn ci() -> Result<(), String> {
    let root = workspace_root();
    let cache = ci_cache();
    std::fs::create_dir_all(&cache)
        .map_err(|error| format!("cannot create {}: {error}", cache.display()))?;
    let mut packages = APT_PACKAGES.to_vec();
    packages.extend_from_slice(CI_APT_PACKAGES);
    packages.extend(
        CI_PROGRAMS
            .iter()
            .filter(|(program, _)| !has_program(program))
            .map(|(_, package)| *package),
    );
    install_system_packages(&packages)?;

    run(cargo().current_dir(&root).args(["fmt", "--all", "--check"]))?;
    run(cargo().current_dir(&root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "--deny",
        "warnings",
    ]))?;
    // The test profile keeps one llama.cpp build for the binary and the tests; llama.cpp itself
    // is always compiled optimised.
    run(cargo()
        .current_dir(&root)
        .args(["build", "--package", "ward"]))?;
    let ward = ward_binary(&root, "debug");
    let ward_home = cache.join("ward-home");
    let ward_command = |arguments: &[&str]| {
        let mut command = Command::new(&ward);
        command
            .current_dir(&root)
            .env("WARD_HOME", &ward_home)
            .args(arguments);
        command
    };
    run(&mut ward_command(&["pull", MECHANICS_MODEL]))?;
    run(&mut ward_command(&["pull", "qwen2.5-coder:1.5b"]))?;
    let store = ward_home.join("models");

    // The audit store's tests run against SQLite and this PostgreSQL, stopped when CI ends.
    let postgres = crate::postgres::Postgres::start()?;

    // Rust tests, including the real-model engine and server tests (gated by WARD_TEST_MODEL_STORE).
    // ward-clinical's `it` test writes sample FHIR and DOCX exports for tests/e2e/test_exports.py.
    let export_samples = cache.join("export-samples");
    // Stale samples must not pass for fresh ones.
    let _ = std::fs::remove_dir_all(&export_samples);
    run(cargo()
        .current_dir(&root)
        .args(["test", "--workspace"])
        .env("WARD_TEST_MODEL_STORE", &store)
        .env("WARD_TEST_MODEL", MECHANICS_MODEL)
        .env("WARD_TEST_POSTGRES_URL", &postgres.url)
        .env("WARD_EXPORT_SAMPLES_DIR", &export_samples))?;
    // Benches are tests too: each criterion bench runs once, in test mode.
    run(cargo().current_dir(&root).args([
        "test",
        "-p",
        "ward-phi",
        "-p",
        "ward-router",
        "-p",
        "ward-audit",
        "-p",
        "ward-clinical",
        "--benches",
    ]))?;

    // End-to-end: the real `ward serve` driven by the official openai and ollama packages.
    let venv = cache.join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--upgrade"])
        .args(PYTHON_TEST_PACKAGES))?;
    // The FHIR R4 schema validator the export tests run (tests/fhir), reinstalled only when its
    // lock file is newer than the installed tree.
    let fhir_tests = root.join("tests").join("fhir");
    let installed_lock = fhir_tests.join("node_modules").join(".package-lock.json");
    if !is_newer(&installed_lock, &fhir_tests.join("package-lock.json")) {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&fhir_tests))?;
    }
    run(Command::new(&python)
        .current_dir(&root)
        .args(["-m", "pytest", "-q", "tests/e2e"])
        .env("WARD_BIN", &ward)
        .env("WARD_HOME", &ward_home)
        .env("WARD_TEST_POSTGRES_URL", &postgres.url)
        .env("WARD_EXPORT_SAMPLES_DIR", &export_samples))?;
    // The built-in evaluation suites' `ci` cases against the default model, with the report kept
    // in the build folder for review. The gate is loose: it catches a broken pipeline, not a
    // small model's weaker notes, which the report shows.
    let eval_report = root.join("target").join("ward-eval").join("builtin");
    run(ward_command(&[
        "eval",
        "builtin",
        "--tag",
        "ci",
        "--model",
        "qwen2.5-coder:1.5b",
        "--min-score",
        "0.5",
        "--out",
    ])
    .arg(&eval_report))?;
    eprintln!(
        "xtask: evaluation report in {}",
        eval_report.join("report.md").display()
    );
    eprintln!("xtask: ci passed");
    Ok(())
}
