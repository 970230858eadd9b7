//! `ward eval`: runs a suite against one or more targets (models, optionally with edited
//! profiles) through the request path a client takes (`/v1/notes` for profile cases,
//! `/v1/chat/completions` for raw messages), in process or against a running Ward by URL, with
//! bounded concurrency and a progress bar. Rubric cases are graded by a judge model through the
//! same path. Writes the report as Markdown, JSON and HTML and fails when a gate
//! (`--min-score`, `--max-regression` against a baseline) is missed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use futures::StreamExt;
use serde_json::{json, Value};
use ward_clinical::eval::{
    gate, grade, judge_messages, judge_schema, parse_suite, Answer, Case, CaseResult,
    ProfileChecks, Report, Served, TargetReport, Verdict,
};

use crate::config::Config;
use crate::serve::{gateway, prepare, runtime, server_settings, Keys};

/// What `ward eval` is asked for.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvalOptions {
    #[command(subcommand)]
    pub command: Option<EvalCommand>,
    /// The suite: a JSON Lines file (docs/eval.md), `builtin` for every built-in suite, or
    /// `builtin:PROFILE` for one.
    #[arg(required = true)]
    pub suite: Option<String>,
    /// A target: a model name or alias (repeat to compare several).
    #[arg(long = "model", value_name = "MODEL", required = true)]
    pub models: Vec<String>,
    /// Edited profiles to compare with the ones in use: a profile .toml file or a folder of
    /// them (on top of the built-ins). Each adds a target per model; repeatable; in process only.
    #[arg(long = "profile-version", value_name = "PATH")]
    pub profile_versions: Vec<PathBuf>,
    /// Run only the cases carrying one of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// The model that grades rubric cases; by default the first local backend's model.
    #[arg(long, value_name = "MODEL")]
    pub judge: Option<String>,
    /// Send cases to a running Ward at this base URL (e.g. http://127.0.0.1:8080) instead of
    /// running it in process.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// With --url: the API key to send.
    #[arg(long, env = "WARD_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Cases in flight at once, per target.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Folder for report.md, report.json and report.html.
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

#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// Build a suite skeleton from recorded traffic, pseudonymised (docs/eval.md).
    Sample(crate::eval_sample::SampleOptions),
}

/// Where cases are sent: Ward in this process, or a running Ward by URL.
#[derive(Clone)]
pub enum Gateway {
    InProcess(ward_server::App),
    Url {
        client: reqwest::Client,
        base: String,
        api_key: Option<String>,
    },
}

/// Status, headers and body of one answer.
type Reply = (u16, reqwest::header::HeaderMap, Vec<u8>);

impl Gateway {
    async fn post(&self, path: &str, body: &Value) -> Result<Reply, String> {
        match self {
            Gateway::InProcess(app) => {
                let (status, headers, bytes) =
                    ward_server::call_in_process(app.clone(), path, body.to_string()).await?;
                Ok((status.as_u16(), headers, bytes.to_vec()))
            }
            Gateway::Url {
                client,
                base,
                api_key,
            } => {
                let mut request = client
                    .post(format!("{base}{path}"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string());
                if let Some(key) = api_key {
                    request = request.bearer_auth(key);
                }
                let response = request
                    .send()
                    .await
                    .map_err(|error| format!("{base}{path}: {error}"))?;
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|error| format!("{base}{path}: {error}"))?;
                Ok((status, headers, bytes.to_vec()))
            }
        }
    }
}

/// One column of the report: a model, reached through a gateway (which may carry edited
/// profiles).
#[derive(Clone)]
pub struct Target {
    /// The name in the report.
    pub label: String,
    pub model: String,
    pub gateway: Gateway,
}

/// The judge: a model reached through the gateway with the profiles in use.
#[derive(Clone)]
pub struct Judge {
    pub model: String,
    pub gateway: Gateway,
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// What the answer says about routing, the profile and cost.
fn served(value: &Value, headers: &reqwest::header::HeaderMap) -> Served {
    let text = |field: &str| value[field].as_str().map(str::to_owned);
    let header_pair = || {
        Some((
            header(headers, ward_server::PROFILE_HEADER)?,
            header(headers, ward_server::PROFILE_VERSION_HEADER)?,
        ))
    };
    let profile = text("profile")
        .zip(text("profile_version"))
        .or_else(header_pair)
        .map(|(name, version)| format!("{name}@{version}"));
    Served {
        model: text("model"),
        tier: text("tier").or_else(|| header(headers, ward_server::TIER_HEADER)),
        backend: text("backend").or_else(|| header(headers, ward_server::BACKEND_HEADER)),
        profile,
    }
}

/// Sends one case to one target, has the judge grade it when it has a rubric, and grades it.
async fn run_case(target: &Target, case: &Case, seed: u32, judge: Option<&Judge>) -> CaseResult {
    let (path, body) = match &case.profile {
        Some(profile) => (
            "/v1/notes",
            json!({
                "profile": profile,
                "dictation": case.input,
                "patient_context": case.patient_context,
                "model": target.model,
                "max_tokens": case.max_tokens,
                "seed": seed,
            }),
        ),
        None => (
            "/v1/chat/completions",
            json!({
                "model": target.model,
                "messages": case.messages,
                "max_tokens": case.max_tokens,
                "seed": seed,
            }),
        ),
    };
    let started = Instant::now();
    let called = target.gateway.post(path, &body).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut answer = Answer {
        latency_ms,
        ..Answer::default()
    };
    match called {
        Err(error) => answer.error = Some(error),
        Ok((status, headers, bytes)) => {
            let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if !(200..300).contains(&status) {
                let message = value["error"]["message"].as_str().unwrap_or("no message");
                answer.error = Some(format!("{status}: {message}"));
            } else {
                answer.phi_categories = header(&headers, ward_server::PHI_HEADER)
                    .filter(|value| value != "none")
                    .map(|value| value.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                let usage = &value["usage"];
                answer.prompt_tokens = usage["prompt_tokens"].as_u64().unwrap_or(0) as u32;
                answer.completion_tokens = usage["completion_tokens"].as_u64().unwrap_or(0) as u32;
                answer.cost_usd =
                    header(&headers, ward_server::COST_HEADER).and_then(|cost| cost.parse().ok());
                answer.served = served(&value, &headers);
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
    if answer.error.is_none() {
        if let (Some(judge), Some(messages)) = (judge, judge_messages(case, &answer.text)) {
            answer.judge = Some(run_judge(judge, messages, seed).await);
        }
    }
    grade(case, &answer)
}

/// Asks the judge for a verdict, its answer decoded under the verdict schema.
async fn run_judge(
    judge: &Judge,
    messages: Vec<ward_clinical::eval::CaseMessage>,
    seed: u32,
) -> Verdict {
    let body = json!({
        "model": judge.model,
        "messages": messages,
        "temperature": 0.0,
        "max_tokens": 200,
        "seed": seed,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": judge_schema()}
        },
    });
    match judge.gateway.post("/v1/chat/completions", &body).await {
        Err(error) => Verdict::failed(&judge.model, messages, error),
        Ok((status, _, bytes)) => {
            let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                let text = value["choices"][0]["message"]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                Verdict::read(&judge.model, messages, text)
            } else {
                let message = value["error"]["message"].as_str().unwrap_or("no message");
                Verdict::failed(&judge.model, messages, format!("{status}: {message}"))
            }
        }
    }
}

/// A suite and how to run it.
pub struct SuiteRun<'a> {
    pub name: &'a str,
    pub cases: &'a [Case],
    pub targets: &'a [Target],
    pub judge: Option<&'a Judge>,
    /// Cases in flight at once, per target.
    pub concurrency: usize,
    pub seed: u32,
}

/// Every case against every target.
pub async fn run_suite(run: SuiteRun<'_>, progress: &indicatif::ProgressBar) -> Report {
    let SuiteRun {
        name,
        cases,
        targets,
        judge,
        concurrency,
        seed,
    } = run;
    let mut reports = Vec::new();
    for target in targets {
        let mut results: Vec<(usize, CaseResult)> = futures::stream::iter(cases.iter().enumerate())
            .map(|(index, case)| async move {
                let result = run_case(target, case, seed, judge).await;
                progress.inc(1);
                (index, result)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        results.sort_by_key(|(index, _)| *index);
        reports.push(TargetReport::new(
            &target.label,
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

/// The suite's name and text: a file, or built-in suites.
fn suite_text(suite: &str) -> anyhow::Result<(String, String)> {
    let builtin = match suite.strip_prefix("builtin:") {
        Some(profile) => Some(Some(profile)),
        None => (suite == "builtin").then_some(None),
    };
    if let Some(profile) = builtin {
        let text = ward_clinical::eval::builtin_suite(profile).with_context(|| {
            format!(
                "there is no built-in suite '{suite}'; use `builtin` or `builtin:PROFILE` with a built-in profile ({})",
                ward_clinical::eval::BUILTIN_SUITES
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        return Ok((suite.to_owned(), text));
    }
    let path = Path::new(suite);
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the suite {}", path.display()))?;
    Ok((variant_label(path), text))
}

/// A label for the profiles at `path` in target names: its file or folder name.
fn variant_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// An HTTP client for a Ward by URL: a server that stops answering fails the case, not the run.
fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(900))
        .build()
        .context("cannot build an HTTP client")
}

/// The profiles the Ward at `url` serves; also proves, before any case runs, that it answers
/// and takes the key.
fn remote_profiles(url: &str, api_key: Option<&str>) -> anyhow::Result<Vec<String>> {
    let parsed = reqwest::Url::parse(url)
        .ok()
        .filter(|parsed| matches!(parsed.scheme(), "http" | "https"))
        .with_context(|| {
            format!("--url {url}: give the base URL of a Ward, e.g. http://127.0.0.1:8080")
        })?;
    let endpoint = format!("{}/v1/profiles", parsed.as_str().trim_end_matches('/'));
    runtime()?.block_on(async {
        let mut request = http_client()?.get(&endpoint);
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the Ward at {url}"))?;
        match response.status().as_u16() {
            200 => {}
            401 | 403 => bail!("the Ward at {url} refused the key (set --api-key or WARD_API_KEY to a key with model access)"),
            status => bail!("GET {endpoint} answered {status}; is {url} a Ward?"),
        }
        let body = response
            .bytes()
            .await
            .with_context(|| format!("GET {endpoint} did not answer"))?;
        let listing: Value = serde_json::from_slice(&body).with_context(|| {
            format!("GET {endpoint} did not answer a profile list; is {url} a Ward?")
        })?;
        Ok(listing["data"]
            .as_array()
            .map(|profiles| {
                profiles
                    .iter()
                    .filter_map(|profile| profile["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    })
}

/// The profiles in use with each `--profile-version` file or folder on top, labelled by its
/// name.
fn profile_variants(
    config: &Config,
    paths: &[PathBuf],
) -> anyhow::Result<Vec<(String, ward_clinical::ProfileSet)>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let base = crate::notes::load_profiles(&config.clinical)?;
    let mut variants: Vec<(String, ward_clinical::ProfileSet)> = Vec::new();
    for path in paths {
        if !path.exists() {
            bail!(
                "--profile-version {}: no such profile file or folder",
                path.display()
            );
        }
        let files = crate::notes::profile_files(path)?;
        if files.is_empty() {
            bail!(
                "--profile-version {}: the folder holds no .toml profile",
                path.display()
            );
        }
        let label = variant_label(path);
        if variants.iter().any(|(known, _)| *known == label) {
            bail!(
                "--profile-version {}: a second version named '{label}'; rename the file or folder",
                path.display()
            );
        }
        let profiles = base
            .clone()
            .overlaid(&config.clinical.variables, &files)
            .map_err(|error| anyhow::anyhow!("--profile-version {}: {error}", path.display()))?;
        variants.push((label, profiles));
    }
    Ok(variants)
}

/// `ward eval`.
pub fn eval(config: &Config, options: EvalOptions) -> anyhow::Result<()> {
    if let Some(EvalCommand::Sample(sample)) = options.command {
        return crate::eval_sample::sample(config, sample);
    }
    let suite = options.suite.as_deref().unwrap_or_default();
    let (suite_name, text) = suite_text(suite)?;
    let mut cases = parse_suite(&text).map_err(|error| anyhow::anyhow!("{suite_name}: {error}"))?;
    if !options.tags.is_empty() {
        cases.retain(|case| case.tags.iter().any(|tag| options.tags.contains(tag)));
        if cases.is_empty() {
            bail!(
                "no case of {suite_name} carries a tag among: {}",
                options.tags.join(", ")
            );
        }
    }
    let baseline = options.baseline.as_deref().map(read_report).transpose()?;
    let known_profiles = match &options.url {
        Some(url) => remote_profiles(url, options.api_key.as_deref())?,
        None => crate::notes::load_profiles(&config.clinical)?
            .iter()
            .map(|profile| profile.name.clone())
            .collect(),
    };
    for case in &cases {
        if let Some(profile) = &case.profile {
            if !known_profiles.contains(profile) {
                bail!("case '{}' names profile '{profile}', which is not served (`ward profiles` or GET /v1/profiles list them)", case.id);
            }
        }
    }
    let has_rubrics = cases.iter().any(|case| case.expect.rubric.is_some());
    let rt = runtime()?;
    let (targets, judge) = match &options.url {
        Some(url) => {
            if !options.profile_versions.is_empty() {
                bail!("--profile-version runs in process only; the Ward at {url} serves its own profiles (leave out --url)");
            }
            let gateway = Gateway::Url {
                client: http_client()?,
                base: url.trim_end_matches('/').to_owned(),
                api_key: options.api_key.clone(),
            };
            let judge = match (&options.judge, has_rubrics) {
                (Some(model), _) => Some(model.clone()),
                (None, true) => bail!("the suite has rubric cases: name the judge model with --judge when evaluating a Ward by URL"),
                (None, false) => None,
            };
            let targets = options
                .models
                .iter()
                .map(|model| Target {
                    label: model.clone(),
                    model: model.clone(),
                    gateway: gateway.clone(),
                })
                .collect::<Vec<_>>();
            (targets, judge.map(|model| Judge { model, gateway }))
        }
        None => {
            let variants = profile_variants(config, &options.profile_versions)?;
            let prepared = prepare(config, Keys::LocalOperator)?;
            let state = rt.block_on(gateway(config, prepared))?;
            let settings = server_settings(config);
            let first_local = state
                .router
                .backends()
                .iter()
                .find(|backend| backend.locality() == ward_router::Locality::Local)
                .and_then(|backend| backend.default_model().map(str::to_owned));
            let judge_model = match (&options.judge, has_rubrics) {
                (Some(model), _) => Some(model.clone()),
                (None, true) => Some(first_local.context(
                    "the suite has rubric cases and no local backend can judge them; name the judge model with --judge",
                )?),
                (None, false) => None,
            };
            let base = Gateway::InProcess(ward_server::router(state.clone(), &settings));
            let mut targets = Vec::new();
            for model in &options.models {
                targets.push(Target {
                    label: model.clone(),
                    model: model.clone(),
                    gateway: base.clone(),
                });
                for (label, profiles) in &variants {
                    let mut edited = state.clone();
                    edited.profiles = std::sync::Arc::new(profiles.clone());
                    targets.push(Target {
                        label: format!("{model} @ {label}"),
                        model: model.clone(),
                        gateway: Gateway::InProcess(ward_server::router(edited, &settings)),
                    });
                }
            }
            (
                targets,
                judge_model.map(|model| Judge {
                    model,
                    gateway: base,
                }),
            )
        }
    };
    let report = rt.block_on(async {
        let progress = indicatif::ProgressBar::new((cases.len() * targets.len()) as u64);
        progress.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let run = SuiteRun {
            name: &suite_name,
            cases: &cases,
            targets: &targets,
            judge: judge.as_ref(),
            concurrency: options.concurrency,
            seed: options.seed,
        };
        let report = run_suite(run, &progress).await;
        progress.finish_and_clear();
        report
    });
    write_report(&report, &options.out)?;
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

/// Writes report.md, report.json and report.html into `out` and prints a line per target.
fn write_report(report: &Report, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(out.join("report.md"), report.markdown())?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(report)?,
    )?;
    std::fs::write(out.join("report.html"), report.html())?;
    for target in &report.targets {
        let summary = &target.summary;
        println!(
            "{}: {}/{} cases passed, mean score {:.3}, p50 {:.0} ms, p95 {:.0} ms, cost {}",
            target.target,
            summary.passed,
            summary.cases,
            summary.mean_score,
            summary.latency_p50_ms,
            summary.latency_p95_ms,
            ward_clinical::eval::cost_text(summary.cost_usd)
        );
    }
    println!("report: {}", out.join("report.md").display());
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
{"id": "triage", "messages": [{"role": "user", "content": "I need a refill of my inhaler"}], "expect": {"contains": ["refill"], "rubric": "Offers to arrange the refill."}}
"#;

    fn backend(name: &str, model: &str, answer: &str) -> ScriptedBackend {
        let backend = ScriptedBackend::new(name, model);
        backend.set_script(Script::Reply(vec![answer.to_owned()], FinishReason::Stop));
        backend
    }

    fn app_over(backends: Vec<ScriptedBackend>, profiles: ward_clinical::ProfileSet) -> Gateway {
        let router = ward_router::Router::with_default_tiers(
            backends
                .into_iter()
                .map(ScriptedBackend::into_local)
                .collect(),
        )
        .unwrap();
        let state = AppState {
            router: Arc::new(router),
            catalog: Arc::new(NoStore),
            auth: None,
            audit: None,
            records: None,
            profiles: Arc::new(profiles),
            metrics: Arc::default(),
            costs: Arc::default(),
            traces: None,
        };
        Gateway::InProcess(ward_server::router(
            state,
            &ward_server::ServerSettings::default(),
        ))
    }

    fn target(label: &str, model: &str, gateway: &Gateway) -> Target {
        Target {
            label: label.into(),
            model: model.into(),
            gateway: gateway.clone(),
        }
    }

    #[tokio::test]
    async fn the_worse_target_fails_the_right_checks_and_the_gate() {
        let good = backend(
            "good",
            "good-model",
            "Assessment: acute bronchitis, temp 38.1.\nICD-10-CM: J20.9\nPlan: amoxicillin 500 mg, refill not needed.\nSubjective: cough for 3 days.\nObjective: temp 38.1.",
        )
        .priced(3.0, 15.0);
        let bad = backend(
            "bad",
            "bad-model",
            "Assessment: pneumonia.\nICD-10-CM: J18.99\nPlan: azithromycin 250 mg.",
        );
        let judge = backend(
            "judge",
            "judge-model",
            "{\"reason\": \"It offers the refill.\", \"score\": 4}",
        );
        let gateway = app_over(vec![good, bad, judge], ward_clinical::ProfileSet::builtin());
        let cases = parse_suite(SUITE).unwrap();
        let targets = [
            target("good-model", "good-model", &gateway),
            target("bad-model", "bad-model", &gateway),
        ];
        let judge = Judge {
            model: "judge-model".into(),
            gateway: gateway.clone(),
        };
        let run = SuiteRun {
            name: "test",
            cases: &cases,
            targets: &targets,
            judge: Some(&judge),
            concurrency: 2,
            seed: 7,
        };
        let report = run_suite(run, &indicatif::ProgressBar::hidden()).await;
        let good = &report.targets[0];
        assert_eq!(good.summary.passed, 2, "{:?}", good.cases);
        // Only the priced backend's calls have a cost; the judge's are not the target's.
        assert!(good
            .cases
            .iter()
            .all(|case| case.cost_usd.is_some_and(|cost| cost > 0.0)));
        assert!(report.targets[1].summary.cost_usd.is_none());
        let verdict = good.cases[1].judge.as_ref().unwrap();
        assert_eq!(verdict.score, Some(4));
        assert!(verdict.prompt[1]
            .content
            .contains("I need a refill of my inhaler"));
        assert!(verdict.prompt[1].content.contains("refill not needed"));
        assert_eq!(good.cases[0].served.backend.as_deref(), Some("good"));
        assert!(good.cases[0]
            .served
            .profile
            .as_deref()
            .is_some_and(|profile| profile.starts_with("apso-note@")));
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

        let out = tempfile::tempdir().unwrap();
        write_report(&report, out.path()).unwrap();
        let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
        assert!(html.contains("<th>good-model</th><th>bad-model</th>"));
        let saved = read_report(&out.path().join("report.json")).unwrap();
        assert_eq!(saved, report);
    }

    #[tokio::test]
    async fn an_edited_profile_is_a_target_of_its_own() {
        // The edited apso-note asks for a section the model never writes.
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ward-clinical/profiles/apso-note.toml"
        ))
        .unwrap()
        .replace(
            "sections = [\"Assessment\",",
            "sections = [\"Follow-up\", \"Assessment\",",
        );
        let edited = ward_clinical::ProfileSet::load(
            &Default::default(),
            &[("edited/apso-note.toml".into(), text)],
        )
        .unwrap();
        let answer = "Assessment: acute bronchitis, temp 38.1.\nICD-10-CM: J20.9\nPlan: amoxicillin 500 mg.\nSubjective: cough for 3 days.\nObjective: temp 38.1.";
        let current = app_over(
            vec![backend("local", "model", answer)],
            ward_clinical::ProfileSet::builtin(),
        );
        let variant = app_over(vec![backend("local", "model", answer)], edited);
        let cases = parse_suite(SUITE).unwrap();
        let targets = [
            target("model", "model", &current),
            target("model @ edited", "model", &variant),
        ];
        let run = SuiteRun {
            name: "test",
            cases: &cases[..1],
            targets: &targets,
            judge: None,
            concurrency: 1,
            seed: 7,
        };
        let report = run_suite(run, &indicatif::ProgressBar::hidden()).await;
        assert!(report.targets[0].cases[0].passed);
        let with_edit = &report.targets[1].cases[0];
        assert!(!with_edit.passed);
        assert!(with_edit.checks[0].detail.contains("Follow-up"));
        assert_ne!(
            report.targets[0].cases[0].served.profile, with_edit.served.profile,
            "the two profile versions differ"
        );
    }

    #[test]
    fn built_in_suites_are_named_and_unknown_ones_refused() {
        let (name, text) = suite_text("builtin:classify").unwrap();
        assert_eq!(name, "builtin:classify");
        assert!(parse_suite(&text)
            .unwrap()
            .iter()
            .all(|case| case.profile.as_deref() == Some("classify")));
        let every = parse_suite(&suite_text("builtin").unwrap().1).unwrap();
        assert!(every.len() > 11 * 3);
        let error = suite_text("builtin:nope").unwrap_err().to_string();
        assert!(error.contains("apso-note"), "{error}");
    }

    #[test]
    fn profile_versions_go_on_top_of_the_profiles_in_use() {
        let home = tempfile::tempdir().unwrap();
        let own = home.path().join("profiles");
        std::fs::create_dir(&own).unwrap();
        let apso = include_str!("../../ward-clinical/profiles/apso-note.toml");
        let custom = apso.replace("name = \"apso-note\"", "name = \"clinic-note\"");
        std::fs::write(own.join("clinic-note.toml"), &custom).unwrap();
        let edit = home.path().join("edit");
        std::fs::create_dir(&edit).unwrap();
        let edited = apso.replace("title = \"APSO note\"", "title = \"APSO note, edited\"");
        std::fs::write(edit.join("apso-note.toml"), edited).unwrap();
        let env: std::collections::HashMap<String, String> = [
            ("WARD_HOME", home.path().to_str().unwrap()),
            ("WARD_PROFILES_DIR", own.to_str().unwrap()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        let config = Config::load(None, &env, &crate::config::Overrides::default()).unwrap();

        let variants = profile_variants(&config, std::slice::from_ref(&edit)).unwrap();
        assert_eq!(variants[0].0, "edit");
        let profiles = &variants[0].1;
        assert!(
            profiles.get("clinic-note").is_some(),
            "the practice's own profile stays"
        );
        assert_eq!(
            profiles.get("apso-note").unwrap().title,
            "APSO note, edited"
        );

        let empty = home.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let again = home.path().join("other").join("edit");
        std::fs::create_dir_all(&again).unwrap();
        std::fs::write(again.join("apso-note.toml"), apso).unwrap();
        for (paths, named) in [
            (vec![home.path().join("missing")], "no such profile"),
            (vec![empty], "holds no .toml"),
            (vec![edit, again], "a second version named 'edit'"),
        ] {
            let error = profile_variants(&config, &paths).unwrap_err().to_string();
            assert!(error.contains(named), "{error}");
        }
    }
}
