//! `ward pull` and `ward models`: the model store seen from the terminal, with a progress bar.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ward_store::{Manifest, ModelStore, PullOptions, PullProgress, CATALOGUE};

use crate::config::Config;

/// Draws pull progress on stderr (hidden automatically when stderr is not a terminal, in which
/// case each stage is printed as a line instead).
struct TerminalProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl TerminalProgress {
    fn new() -> Self {
        TerminalProgress {
            bar: Mutex::new(None),
        }
    }
}

impl PullProgress for TerminalProgress {
    fn stage(&self, message: &str) {
        eprintln!("{message}");
    }

    fn start(&self, label: &str, total_bytes: Option<u64>) {
        let bar = match total_bytes {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(label.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, bytes: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(bytes);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish();
            }
        }
    }
}

pub fn open_store(config: &Config) -> anyhow::Result<ModelStore> {
    ModelStore::open(&config.store_root).with_context(|| {
        format!(
            "cannot open the model store at {}",
            config.store_root.display()
        )
    })
}

fn pull_options(config: &Config, name: Option<String>, sha256: Option<String>) -> PullOptions {
    PullOptions {
        name,
        hf_endpoint: config.hf_endpoint.clone(),
        hf_token: config.hf_token.clone(),
        pip_command: config.pip_command.clone(),
        expected_sha256: sha256,
        ..PullOptions::default()
    }
}

pub fn pull(
    config: &Config,
    store: &ModelStore,
    reference: &str,
    name: Option<String>,
    sha256: Option<String>,
) -> anyhow::Result<Manifest> {
    let (model_ref, _) = ward_store::resolve_reference(reference)?;
    let manifest = store
        .pull(
            &model_ref,
            &pull_options(config, name, sha256),
            &TerminalProgress::new(),
        )
        .with_context(|| format!("could not pull {reference}"))?;
    Ok(manifest)
}

/// Finds `model` in the store, pulling it first when it is one of the built-in short names.
pub fn ensure_model(config: &Config, store: &ModelStore, model: &str) -> anyhow::Result<Manifest> {
    if let Some(manifest) = store.resolve(model)? {
        return Ok(manifest);
    }
    if !matches!(ward_store::resolve_reference(model), Ok((_, Some(_)))) {
        anyhow::bail!(
            "model '{model}' is not in the store at {}; run `ward pull <ref>` first (`ward models --available` lists short names)",
            store.root().display()
        );
    }
    eprintln!("model '{model}' is not in the store yet; pulling it now (first run only)");
    pull(config, store, model, None, None)
}

pub fn human_size(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

pub fn list_models(config: &Config, available: bool) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let models = store.list()?;
    if models.is_empty() {
        println!(
            "no models in {}; `ward pull {}` fetches the default one",
            store.root().display(),
            ward_store::DEFAULT_MODEL
        );
    } else {
        println!(
            "{:<24} {:>10} {:<10} {:>8} {:<9} SOURCE",
            "NAME", "SIZE", "ARCH", "CONTEXT", "TEMPLATE"
        );
        for model in &models {
            println!(
                "{:<24} {:>10} {:<10} {:>8} {:<9} {}",
                model.name,
                human_size(model.size_bytes),
                model.architecture,
                model.context_length,
                if model.has_chat_template { "yes" } else { "no" },
                model.source
            );
        }
    }
    if available {
        println!();
        println!("{:<24} {:<40} DESCRIPTION", "SHORT NAME", "SOURCE");
        for entry in CATALOGUE {
            println!(
                "{:<24} {:<40} {}",
                entry.name, entry.source, entry.description
            );
        }
    }
    Ok(())
}
