//! `ward eval`: runs a suite against one or more targets (models) through the request path a
//! client takes (`/v1/notes` for profile cases, `/v1/chat/completions` for raw messages), in
//! process, with bounded concurrency and a progress bar; writes the report as Markdown and JSON
//! and fails when a gate (`--min-score`, `--max-regression` against a baseline) is missed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use futures::StreamExt;
use serde_json::{json, Value};
use ward_clinical::eval::{
    gate, grade, parse_suite, Answer, Case, CaseResult, ProfileChecks, Report, TargetReport,
};

use crate::config::Config;
use crate::serve::{gateway, prepare, runtime, server_settings, Keys};

/// What `ward eval` is asked for.
#[derive(Debug, clap::Args)]
pub struct EvalOptions {
    /// The suite: JSON Lines, one case per line (docs/eval.md).
    pub suite: PathBuf,
    /// A target: a model name or alias (repeat to compare several).
    #[arg(long = "model", value_name = "MODEL", required = true)]
    pub models: Vec<String>,
    /// Cases in flight at once, per target.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Folder for report.md and report.json.
    #[arg(long, value_name = "DIR", default_value = "ward-eval")]
    pub out: PathBuf,
    /// Fail when a target's mean score is below this (0 to 1).
    #[arg(long)]
    pub min_score: Option<f64>,
    /// A report.json from an earlier run to compare against.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: the largest drop of mean score allowed.
    #[arg(long, default_value_t = 0.0)]
    pub max_regression: f64,
    /// Seed for every call, so runs repeat.
    #[arg(long, default_value_t = 7)]
    pub seed: u32,
}

/// Sends one case to one target and grades the answer.
async fn run_case(app: ward_server::App, case: &Case, target: &str, seed: u32) -> CaseResult {
    let (path, body) = match &case.profile {
        Some(profile) => (
            "/v1/notes",
            json!({
                "profile": profile,
                "dictation": case.input,
                "patient_context": case.patient_context,
                "model": target,
                "max_tokens": case.max_tokens,
                "seed": seed,
            }),
        ),
        None => (
            "/v1/chat/completions",
            json!({
                "model": target,
                "messages": case.messages,
                "max_tokens": case.max_tokens,
                "seed": seed,
            }),
        ),
    };
    let started = Instant::now();
    let called = ward_server::call_in_process(app, path, body.to_string()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut answer = Answer {
        latency_ms,
        ..Answer::default()
    };
    match called {
        Err(error) => answer.error = Some(error),
        Ok((status, headers, bytes)) => {
            let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if !status.is_success() {
                let message = value["error"]["message"].as_str().unwrap_or("no message");
                answer.error = Some(format!("{status}: {message}"));
            } else {
                answer.phi_categories = headers
                    .get("x-ward-phi")
                    .and_then(|value| value.to_str().ok())
                    .filter(|value| *value != "none")
                    .map(|value| value.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                let usage = &value["usage"];
                answer.prompt_tokens = usage["prompt_tokens"].as_u64().unwrap_or(0) as u32;
                answer.completion_tokens = usage["completion_tokens"].as_u64().unwrap_or(0) as u32;
                answer.text = match case.profile {
                    Some(_) => value["note"].as_str().unwrap_or_default().to_owned(),
                    None => value["choices"][0]["message"]["content"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                };
                if case.profile.is_some() {
                    answer.profile_checks = ProfileChecks::from_note(&value);
                }
            }
        }
    }
    grade(case, &answer)
}

/// A suite and how to run it.
pub struct SuiteRun<'a> {
    pub name: &'a str,
    pub cases: &'a [Case],
    pub targets: &'a [String],
    /// Cases in flight at once, per target.
    pub concurrency: usize,
    pub seed: u32,
}

/// Every case against every target.
pub async fn run_suite(
    app: ward_server::App,
    run: SuiteRun<'_>,
    progress: &indicatif::ProgressBar,
) -> Report {
    let SuiteRun {
        name,
        cases,
        targets,
        concurrency,
        seed,
    } = run;
    let mut reports = Vec::new();
    for target in targets {
        let mut results: Vec<(usize, CaseResult)> = futures::stream::iter(cases.iter().enumerate())
            .map(|(index, case)| {
                let app = app.clone();
                async move {
                    let result = run_case(app, case, target, seed).await;
                    progress.inc(1);
                    (index, result)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        results.sort_by_key(|(index, _)| *index);
        reports.push(TargetReport::new(
            target,
            results.into_iter().map(|(_, result)| result).collect(),
        ));
    }
    Report {
        suite: name.to_owned(),
        targets: reports,
    }
}

fn read_report(path: &Path) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the baseline report {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a report.json written by ward eval",
            path.display()
        )
    })
}

/// `ward eval`.
pub fn eval(config: &Config, options: EvalOptions) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&options.suite)
        .with_context(|| format!("cannot read the suite {}", options.suite.display()))?;
    let cases = parse_suite(&text)
        .map_err(|error| anyhow::anyhow!("{}: {error}", options.suite.display()))?;
    let baseline = options.baseline.as_deref().map(read_report).transpose()?;
    let profiles = crate::notes::load_profiles(&config.clinical)?;
    for case in &cases {
        if let Some(profile) = &case.profile {
            if profiles.get(profile).is_none() {
                bail!("case '{}' names profile '{profile}', which does not exist (`ward profiles` lists them)", case.id);
            }
        }
    }
    let suite_name = options.suite.file_name().map_or_else(
        || "suite".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let prepared = prepare(config, Keys::LocalOperator)?;
    let report = runtime()?.block_on(async {
        let state = gateway(config, prepared).await?;
        let app = ward_server::router(state, &server_settings(config));
        let progress = indicatif::ProgressBar::new((cases.len() * options.models.len()) as u64);
        progress.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let run = SuiteRun {
            name: &suite_name,
            cases: &cases,
            targets: &options.models,
            concurrency: options.concurrency,
            seed: options.seed,
        };
        let report = run_suite(app, run, &progress).await;
        progress.finish_and_clear();
        anyhow::Ok(report)
    })?;
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let markdown = report.markdown();
    std::fs::write(options.out.join("report.md"), &markdown)?;
    std::fs::write(
        options.out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    for target in &report.targets {
        let summary = &target.summary;
        println!(
            "{}: {}/{} cases passed, mean score {:.3}, p50 {:.0} ms, p95 {:.0} ms",
            target.target,
            summary.passed,
            summary.cases,
            summary.mean_score,
            summary.latency_p50_ms,
            summary.latency_p95_ms
        );
    }
    println!("report: {}", options.out.join("report.md").display());
    let failures = gate(
        &report,
        options.min_score,
        baseline
            .as_ref()
            .map(|baseline| (baseline, options.max_regression)),
    );
    if !failures.is_empty() {
        bail!("the evaluation missed its gate:\n{}", failures.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ward_core::{FinishReason, ModelCard, ModelCatalog};
    use ward_router::fake::{Script, ScriptedBackend};
    use ward_server::AppState;

    use super::*;

    struct NoStore;

    impl ModelCatalog for NoStore {
        fn list(&self) -> Vec<ModelCard> {
            Vec::new()
        }
    }

    const SUITE: &str = r#"{"id": "apso-cough", "profile": "apso-note", "input": "Cough for 3 days, temp 38.1. Start amoxicillin 500 mg.", "expect": {"sections": true, "no_fabrication": true, "icd10_valid": true}}
{"id": "triage", "messages": [{"role": "user", "content": "I need a refill of my inhaler"}], "expect": {"contains": ["refill"]}}
"#;

    fn backend(name: &str, model: &str, answer: &str) -> ScriptedBackend {
        let backend = ScriptedBackend::new(name, model);
        backend.set_script(Script::Reply(vec![answer.to_owned()], FinishReason::Stop));
        backend
    }

    #[tokio::test]
    async fn the_worse_target_fails_the_right_checks_and_the_gate() {
        let good = backend(
            "good",
            "good-model",
            "Assessment: acute bronchitis, temp 38.1.\nICD-10-CM: J20.9\nPlan: amoxicillin 500 mg, refill not needed.\nSubjective: cough for 3 days.\nObjective: temp 38.1.",
        );
        let bad = backend(
            "bad",
            "bad-model",
            "Assessment: pneumonia.\nICD-10-CM: J18.99\nPlan: azithromycin 250 mg.",
        );
        let router =
            ward_router::Router::with_default_tiers(vec![good.into_local(), bad.into_local()])
                .unwrap();
        let state = AppState {
            router: Arc::new(router),
            catalog: Arc::new(NoStore),
            auth: None,
            audit: None,
            records: None,
            profiles: Arc::new(ward_clinical::ProfileSet::builtin()),
        };
        let app = ward_server::router(state, &ward_server::ServerSettings::default());
        let cases = parse_suite(SUITE).unwrap();
        let targets = vec!["good-model".to_owned(), "bad-model".to_owned()];
        let run = SuiteRun {
            name: "test",
            cases: &cases,
            targets: &targets,
            concurrency: 2,
            seed: 7,
        };
        let report = run_suite(app, run, &indicatif::ProgressBar::hidden()).await;
        let good = &report.targets[0];
        assert_eq!(good.summary.passed, 2, "{:?}", good.cases);
        let bad = &report.targets[1];
        let failed: Vec<&str> = bad.cases[0]
            .checks
            .iter()
            .filter(|check| !check.passed)
            .map(|check| check.check.as_str())
            .collect();
        assert_eq!(failed, ["sections", "icd10_valid", "no_fabrication"]);
        assert!(!bad.cases[1].passed, "the bad model never says refill");
        assert_eq!(report.differences().len(), 2);
        assert!(gate(&report, Some(0.9), None)
            .iter()
            .any(|failure| failure.starts_with("bad-model")));
        assert!(gate(&report, Some(0.0), None).is_empty());
    }
}
