//! `ward.toml` in two phases: a raw serde struct that rejects unknown keys, then a validated
//! `Config` with typed values. Precedence: defaults < file < `WARD_*` environment < flags.
//! The environment is passed in as a map, so tests never touch the process environment.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    models: RawModels,
    #[serde(default)]
    engine: RawEngine,
    #[serde(default)]
    backends: Vec<RawBackend>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    body_limit_bytes: Option<usize>,
    shutdown_grace_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModels {
    store: Option<PathBuf>,
    default: Option<String>,
    pip_command: Option<Vec<String>>,
    hf_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    threads: Option<usize>,
    context_length: Option<u32>,
    batch_size: Option<u32>,
    gpu_layers: Option<u32>,
    flash_attention: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackend {
    name: String,
    kind: String,
    #[serde(default = "local")]
    locality: String,
    model: String,
    #[serde(default)]
    urls: Vec<String>,
    api_key_env: Option<String>,
}

fn local() -> String {
    "local".to_owned()
}

/// The validated configuration `ward` runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
    pub shutdown_grace: Duration,
    pub store_root: PathBuf,
    pub pip_command: Vec<String>,
    pub hf_endpoint: String,
    pub hf_token: Option<String>,
    pub engine: EngineSettings,
    pub backends: Vec<BackendSettings>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    pub threads: Option<usize>,
    pub context_length: Option<u32>,
    pub batch_size: u32,
    pub gpu_layers: u32,
    /// `None`: llama.cpp decides per device.
    pub flash_attention: Option<bool>,
}

/// One backend; only `embedded` exists so far.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendSettings {
    pub name: String,
    pub model: String,
}

/// Command-line values that override the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub model: Option<String>,
}

/// Where the model store lives when nothing says otherwise: `$WARD_HOME/models`, else
/// `$XDG_DATA_HOME/ward/models`, else `~/.local/share/ward/models`.
fn default_store_root(env: &HashMap<String, String>) -> PathBuf {
    if let Some(home) = env.get("WARD_HOME") {
        return PathBuf::from(home).join("models");
    }
    if let Some(data) = env.get("XDG_DATA_HOME") {
        return PathBuf::from(data).join("ward").join("models");
    }
    let home = env
        .get("HOME")
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local")
        .join("share")
        .join("ward")
        .join("models")
}

impl Config {
    /// Reads `path` (if given) and applies the environment and flags.
    pub fn load(
        path: Option<&Path>,
        env: &HashMap<String, String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let raw = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<RawConfig>(&text).map_err(|error| {
                    anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim_end())
                })?
            }
            None => RawConfig::default(),
        };
        Config::validate(raw, env, overrides)
    }

    fn validate(
        raw: RawConfig,
        env: &HashMap<String, String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let env_value = |key: &str| env.get(key).filter(|value| !value.is_empty()).cloned();
        let parse_env = |key: &str| -> anyhow::Result<Option<u64>> {
            env_value(key)
                .map(|value| {
                    value
                        .parse::<u64>()
                        .with_context(|| format!("{key} must be a whole number"))
                })
                .transpose()
        };

        let listen_text = overrides
            .listen
            .clone()
            .or_else(|| env_value("WARD_LISTEN"))
            .or(raw.server.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().with_context(|| {
            format!("server.listen: '{listen_text}' is not an address like 127.0.0.1:8080")
        })?;
        let body_limit_bytes = raw.server.body_limit_bytes.unwrap_or(4 * 1024 * 1024);
        if body_limit_bytes < 1024 {
            bail!("server.body_limit_bytes: must be at least 1024");
        }
        let shutdown_grace = Duration::from_secs(raw.server.shutdown_grace_seconds.unwrap_or(30));

        let store_root = env_value("WARD_MODEL_STORE")
            .map(PathBuf::from)
            .or(raw.models.store)
            .unwrap_or_else(|| default_store_root(env));
        // `--model` / WARD_MODEL choose the model of a config without backends, and replace the
        // model of the first backend otherwise.
        let requested_model = overrides.model.clone().or_else(|| env_value("WARD_MODEL"));
        let pip_command = match env_value("WARD_PIP") {
            Some(command) => command.split_whitespace().map(str::to_owned).collect(),
            None => raw
                .models
                .pip_command
                .unwrap_or_else(|| vec!["python3".into(), "-m".into(), "pip".into()]),
        };
        if pip_command.is_empty() {
            bail!("models.pip_command: must name a program, e.g. [\"python3\", \"-m\", \"pip\"]");
        }
        let hf_endpoint = env_value("WARD_HF_ENDPOINT")
            .or(raw.models.hf_endpoint)
            .unwrap_or_else(|| "https://huggingface.co".to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !hf_endpoint.starts_with("http://") && !hf_endpoint.starts_with("https://") {
            bail!("models.hf_endpoint: '{hf_endpoint}' must start with http:// or https://");
        }

        let threads = parse_env("WARD_THREADS")?
            .map(|threads| threads as usize)
            .or(raw.engine.threads);
        if threads == Some(0) {
            bail!("engine.threads: must be at least 1 (leave it out to use every physical core)");
        }
        let context_length = parse_env("WARD_CONTEXT_LENGTH")?
            .map(|length| length as u32)
            .or(raw.engine.context_length);
        if context_length.is_some_and(|length| length < 256) {
            bail!("engine.context_length: must be at least 256 tokens");
        }
        let batch_size = raw.engine.batch_size.unwrap_or(512);
        if batch_size == 0 {
            bail!("engine.batch_size: must be at least 1");
        }
        let flash_attention = match env_value("WARD_FLASH_ATTENTION").as_deref() {
            None => raw.engine.flash_attention,
            Some("1" | "true" | "on") => Some(true),
            Some("0" | "false" | "off") => Some(false),
            Some(_) => bail!("WARD_FLASH_ATTENTION must be on or off"),
        };
        let engine = EngineSettings {
            threads,
            context_length,
            batch_size,
            gpu_layers: raw.engine.gpu_layers.unwrap_or(0),
            flash_attention,
        };

        let mut backends = Vec::new();
        for (index, backend) in raw.backends.into_iter().enumerate() {
            let key = format!("backends[{index}]");
            if backend.kind != "embedded" {
                bail!("{key}.kind: '{}' is not available yet; this version serves kind = \"embedded\" only", backend.kind);
            }
            if backend.locality != "local" {
                bail!("{key}.locality: an embedded backend is always \"local\"");
            }
            if !backend.urls.is_empty() || backend.api_key_env.is_some() {
                bail!("{key}: urls and api_key_env apply to remote kinds, not \"embedded\"");
            }
            if backends
                .iter()
                .any(|existing: &BackendSettings| existing.name == backend.name)
            {
                bail!("{key}.name: '{}' is used twice", backend.name);
            }
            backends.push(BackendSettings {
                name: backend.name,
                model: backend.model,
            });
        }
        match (backends.first_mut(), requested_model) {
            (Some(first), Some(model)) => first.model = model,
            (Some(_), None) => {}
            (None, model) => backends.push(BackendSettings {
                name: "embedded".into(),
                model: model
                    .or(raw.models.default)
                    .unwrap_or_else(|| ward_store::DEFAULT_MODEL.to_owned()),
            }),
        }

        Ok(Config {
            listen,
            body_limit_bytes,
            shutdown_grace,
            store_root,
            pip_command,
            hf_endpoint,
            hf_token: env_value("HF_TOKEN"),
            engine,
            backends,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    fn parse(
        text: &str,
        env_pairs: &[(&str, &str)],
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| anyhow::anyhow!("{error}"))?;
        Config::validate(raw, &env(env_pairs), overrides)
    }

    #[test]
    fn defaults_need_no_file() {
        let config = parse("", &[("HOME", "/home/ana")], &Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            config.store_root,
            PathBuf::from("/home/ana/.local/share/ward/models")
        );
        assert_eq!(
            config.backends,
            vec![BackendSettings {
                name: "embedded".into(),
                model: ward_store::DEFAULT_MODEL.into()
            }]
        );
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = "[server]\nlisten = \"127.0.0.1:9000\"\n[models]\ndefault = \"gemma3:270m\"\n";
        let from_file = parse(file, &[], &Overrides::default()).unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.backends[0].model, "gemma3:270m");
        let from_env = parse(
            file,
            &[
                ("WARD_LISTEN", "127.0.0.1:9100"),
                ("WARD_MODEL", "smollm2:135m"),
            ],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(from_env.listen.port(), 9100);
        assert_eq!(from_env.backends[0].model, "smollm2:135m");
        let flags = Overrides {
            listen: Some("127.0.0.1:9200".into()),
            model: Some("qwen".into()),
        };
        let from_flags = parse(file, &[("WARD_LISTEN", "127.0.0.1:9100")], &flags).unwrap();
        assert_eq!(from_flags.listen.port(), 9200);
        assert_eq!(from_flags.backends[0].model, "qwen");
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[server]\nlisten = \"nowhere\"", "server.listen"),
            ("[server]\nport = 1", "unknown field `port`"),
            ("[engine]\nthreads = 0", "engine.threads"),
            ("[[backends]]\nname = \"a\"\nkind = \"ollama\"\nmodel = \"m\"", "backends[0].kind"),
            ("[[backends]]\nname = \"a\"\nkind = \"embedded\"\nlocality = \"cloud\"\nmodel = \"m\"", "backends[0].locality"),
            ("[models]\nhf_endpoint = \"ftp://x\"", "models.hf_endpoint"),
        ];
        for (text, expected) in cases {
            let error = parse(text, &[], &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
        let error = parse("", &[("WARD_THREADS", "many")], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("WARD_THREADS"), "{error}");
    }

    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/ward.example.toml");
        let config =
            Config::load(Some(&path), &env(&[("HOME", "/h")]), &Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert!(!config.backends.is_empty());
    }
}
