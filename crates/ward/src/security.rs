//! `ward keys ...` and `ward audit ...`, and what `ward serve` needs from them: the audit store,
//! its keyring, the auth secret, and the decision whether auth is on.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use ward_audit::record::{now_micros, parse_time, rfc3339_micros};
use ward_audit::{
    AuditEvent, AuditLog, AuditSettings, Filter, KeyHasher, KeyLimits, Keyring, Outcome, Role,
    Store,
};

use crate::config::{Config, SecretSource};

fn secret_text(source: &SecretSource, what: &str) -> anyhow::Result<String> {
    match source {
        SecretSource::Value(value) => Ok(value.clone()),
        SecretSource::File(path) => {
            let (text, created) = ward_audit::crypto::load_or_create_secret_file(path)
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            if created {
                eprintln!(
                    "created {what} {} (keep it safe and back it up; replicas need the same file)",
                    path.display()
                );
            }
            Ok(text)
        }
    }
}

/// The audit keyring, creating the key file on first use.
pub fn keyring(config: &Config) -> anyhow::Result<Keyring> {
    let text = secret_text(&config.audit.keys, "audit key file")?;
    Keyring::parse(&text).map_err(|error| anyhow::anyhow!("audit key: {error}"))
}

/// The secret API keys are hashed with, creating its file on first use.
pub fn key_hasher(config: &Config) -> anyhow::Result<KeyHasher> {
    let text = secret_text(&config.auth.secret, "auth secret")?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .unwrap_or_default();
    let secret = ward_audit::crypto::decode_secret(line, "the auth secret")
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(KeyHasher::new(secret))
}

pub fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.audit.location).map_err(|error| anyhow::anyhow!("{error}"))
}

pub fn open_log(config: &Config, keyring: Arc<Keyring>) -> anyhow::Result<AuditLog> {
    AuditLog::open(
        &AuditSettings {
            location: config.audit.location.clone(),
            content: config.audit.content,
        },
        keyring,
    )
    .map_err(|error| anyhow::anyhow!("{error}"))
}

/// Whether `ward serve` turns auth on: required unless it listens on loopback and no key exists;
/// serving open on any other address needs `--insecure-no-auth`.
pub fn auth_required(
    required: Option<bool>,
    listen: SocketAddr,
    has_keys: bool,
    insecure_no_auth: bool,
) -> anyhow::Result<bool> {
    let loopback = listen.ip().is_loopback();
    if insecure_no_auth {
        return Ok(false);
    }
    match required {
        Some(true) => Ok(true),
        Some(false) | None if loopback => Ok(required.unwrap_or(has_keys)),
        None => Ok(true),
        Some(false) => bail!(
            "auth.required = false on {listen}, which is not a loopback address: anyone who can reach it could use the models and read no audit trail of who did. Create a key (`ward keys create --name admin --role admin`) and keep auth on, or pass --insecure-no-auth if you really mean it"
        ),
    }
}

/// Parses `--expires`: a number of days (`30d`), hours (`12h`), or a date or RFC 3339 time.
fn expiry(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let relative = |suffix: char, micros: i64| {
        text.strip_suffix(suffix)
            .and_then(|number| number.parse::<i64>().ok())
            .filter(|number| *number > 0)
            .map(|number| now_micros() + number * micros)
    };
    relative('d', 86_400_000_000)
        .or_else(|| relative('h', 3_600_000_000))
        .or_else(|| parse_time(text))
        .with_context(|| {
            format!("--expires '{text}': give 30d, 12h, a date (2027-01-31) or an RFC 3339 time")
        })
}

pub fn time_flag(flag: &str, value: Option<&str>) -> anyhow::Result<Option<i64>> {
    value
        .map(|text| {
            parse_time(text).with_context(|| {
                format!("{flag} '{text}': give a date (2026-11-01) or an RFC 3339 time")
            })
        })
        .transpose()
}

/// What `ward keys create` is asked for.
#[derive(Debug, clap::Args)]
pub struct NewKey {
    #[arg(long)]
    pub name: String,
    /// clinician (model calls, own history), service (model calls, metrics), auditor (audit
    /// log, metrics), admin (everything).
    #[arg(long)]
    pub role: String,
    /// When the key stops working: 30d, 12h, a date (2027-01-31) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Requests per minute this key may make.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Prompt plus completion tokens per UTC day.
    #[arg(long, value_name = "N")]
    pub token_budget: Option<u64>,
    /// Auditor keys: may also read decrypted request and response text.
    #[arg(long)]
    pub decrypt: bool,
}

pub fn create_key(config: &Config, request: NewKey) -> anyhow::Result<()> {
    let role = Role::parse(&request.role).map_err(|error| anyhow::anyhow!("{error}"))?;
    let limits = KeyLimits {
        expires_us: request.expires.as_deref().map(expiry).transpose()?,
        rate_limit_per_minute: request.rate_limit,
        token_budget_per_day: request.token_budget,
        can_decrypt: request.decrypt,
    };
    let hasher = key_hasher(config)?;
    let mut store = open_store(config)?;
    let (key, secret) = store
        .create_key(&hasher, &request.name, role, &limits)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    eprintln!(
        "created key {} ({}, role {}); it is shown once, store it now:",
        key.id, key.name, key.role
    );
    println!("{secret}");
    Ok(())
}

pub fn list_keys(config: &Config, json: bool) -> anyhow::Result<()> {
    let keys = open_store(config)?
        .keys()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let now = now_micros();
    let mut out = std::io::stdout().lock();
    if !json {
        writeln!(
            out,
            "{:<12}  {:<20}  {:<9}  {:<7}  {:<20}  {:<10}  {:<12}  decrypt",
            "ID", "NAME", "ROLE", "STATUS", "EXPIRES", "RATE/MIN", "TOKENS/DAY"
        )?;
    }
    for key in keys {
        let expires = key.expires_us.map(rfc3339_micros);
        if json {
            let line = serde_json::json!({
                "id": key.id, "name": key.name, "role": key.role.as_str(), "status": key.status(now),
                "created": rfc3339_micros(key.created_us), "expires": expires,
                "rate_limit_per_minute": key.rate_limit_per_minute,
                "token_budget_per_day": key.token_budget_per_day, "decrypt": key.can_decrypt,
            });
            writeln!(out, "{line}")?;
        } else {
            let day: String = expires
                .unwrap_or_else(|| "never".into())
                .chars()
                .take(19)
                .collect();
            writeln!(
                out,
                "{:<12}  {:<20}  {:<9}  {:<7}  {:<20}  {:<10}  {:<12}  {}",
                key.id,
                key.name,
                key.role.as_str(),
                key.status(now),
                day,
                key.rate_limit_per_minute
                    .map_or("-".into(), |limit| limit.to_string()),
                key.token_budget_per_day
                    .map_or("-".into(), |budget| budget.to_string()),
                if key.can_decrypt { "yes" } else { "no" }
            )?;
        }
    }
    Ok(())
}

pub fn revoke_key(config: &Config, id: &str) -> anyhow::Result<()> {
    let key = open_store(config)?
        .revoke_key(id)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!(
        "revoked key {} ({}); servers refuse it within a second",
        key.id, key.name
    );
    Ok(())
}

pub fn rotate_key(config: &Config, id: &str) -> anyhow::Result<()> {
    let hasher = key_hasher(config)?;
    let (key, secret) = open_store(config)?
        .rotate_key(&hasher, id)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    eprintln!(
        "key {} ({}) has a new secret; the old one stops working within a second. Shown once:",
        key.id, key.name
    );
    println!("{secret}");
    Ok(())
}

/// `ward audit verify`: `Ok(false)` when the chain is broken (the caller exits non-zero).
pub fn verify(config: &Config) -> anyhow::Result<bool> {
    let keyring = keyring(config)?;
    let mut store = open_store(config)?;
    match store
        .verify(&keyring)
        .map_err(|error| anyhow::anyhow!("{error}"))?
    {
        Ok(verified) => {
            let range = match (verified.first_seq, verified.last_seq) {
                (Some(first), Some(last)) => format!(" (records {first} to {last})"),
                _ => String::new(),
            };
            let purged = verified.purged_through.map_or(String::new(), |seq| {
                format!("; records up to {seq} were purged under a signed anchor")
            });
            println!(
                "audit chain intact: {} records{range}, signed head matches{purged}",
                verified.records
            );
            Ok(true)
        }
        Err(broken) => {
            eprintln!("audit chain BROKEN at {broken}");
            Ok(false)
        }
    }
}

fn record_line(
    record: &ward_audit::StoredRecord,
    keyring: Option<&Keyring>,
) -> anyhow::Result<serde_json::Value> {
    record
        .to_json(keyring)
        .map_err(|error| anyhow::anyhow!("{error}"))
}

/// Records, before any content is read, that a CLI action (`action`, as its command line) reads
/// audit content.
pub fn record_reading(
    config: &Config,
    keyring: &Arc<Keyring>,
    action: String,
) -> anyhow::Result<()> {
    let log = open_log(config, keyring.clone())?;
    let event = AuditEvent {
        role: Some("cli".into()),
        endpoint: action,
        outcome: Outcome::Action,
        ..AuditEvent::default()
    };
    futures::executor::block_on(log.append(event, None)).map_err(|error| {
        anyhow::anyhow!("could not record this reading of the audit log: {error}")
    })?;
    Ok(())
}

pub fn export(
    config: &Config,
    since: Option<&str>,
    until: Option<&str>,
    decrypt: bool,
) -> anyhow::Result<()> {
    let since_us = time_flag("--since", since)?;
    let until_us = time_flag("--until", until)?;
    let keyring = Arc::new(keyring(config)?);
    if decrypt {
        record_reading(
            config,
            &keyring,
            format!(
                "cli:audit export --decrypt --since {} --until {}",
                since.unwrap_or("-"),
                until.unwrap_or("-")
            ),
        )?;
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    open_store(config)?.each_record(since_us, until_us, |record| {
        let line = record_line(&record, decrypt.then_some(&*keyring))?;
        writeln!(out, "{line}")?;
        Ok::<_, anyhow::Error>(())
    })?;
    out.flush()?;
    Ok(())
}

pub fn tail(config: &Config, count: usize, follow: bool) -> anyhow::Result<()> {
    let mut store = open_store(config)?;
    let mut newest = store
        .records(&Filter {
            limit: Some(count),
            newest_first: true,
            ..Filter::default()
        })
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    newest.reverse();
    let print = |records: &[ward_audit::StoredRecord]| -> anyhow::Result<Option<i64>> {
        let mut out = std::io::stdout().lock();
        for record in records {
            writeln!(out, "{}", record_line(record, None)?)?;
        }
        out.flush()?;
        Ok(records.last().map(|record| record.seq))
    };
    let mut last = print(&newest)?.unwrap_or(0);
    if !follow {
        return Ok(());
    }
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let fresh = store
            .records(&Filter {
                after_seq: Some(last),
                ..Filter::default()
            })
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        last = print(&fresh)?.unwrap_or(last);
    }
}

pub fn purge(config: &Config, before: &str) -> anyhow::Result<()> {
    let before_us = time_flag("--before", Some(before))?.expect("given");
    if before_us > now_micros() {
        bail!("--before {before} is in the future; purging would remove records of calls still to come");
    }
    let keyring = keyring(config)?;
    let purged = open_store(config)?
        .purge(before_us, &keyring)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    match purged.through_seq {
        Some(seq) => println!(
            "purged {} records (up to record {seq}); a signed anchor keeps the rest verifiable",
            purged.records
        ),
        None => println!("nothing to purge before {before}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn auth_is_on_off_loopback_and_when_keys_exist() {
        let loopback = address("127.0.0.1:8080");
        let public = address("0.0.0.0:8080");
        assert!(!auth_required(None, loopback, false, false).unwrap());
        assert!(auth_required(None, loopback, true, false).unwrap());
        assert!(auth_required(None, public, false, false).unwrap());
        assert!(auth_required(Some(true), loopback, false, false).unwrap());
        assert!(!auth_required(Some(false), loopback, true, false).unwrap());
        let refused = auth_required(Some(false), public, true, false).unwrap_err();
        assert!(refused.to_string().contains("--insecure-no-auth"));
        assert!(!auth_required(Some(false), public, true, true).unwrap());
        assert!(!auth_required(None, address("[::1]:8080"), false, false).unwrap());
    }

    #[test]
    fn expiry_accepts_days_hours_and_dates() {
        let now = now_micros();
        assert!((expiry("30d").unwrap() - now - 30 * 86_400_000_000).abs() < 60_000_000);
        assert!(expiry("12h").unwrap() > now);
        assert_eq!(
            expiry("2027-01-31").unwrap(),
            parse_time("2027-01-31").unwrap()
        );
        assert!(expiry("soon").unwrap_err().to_string().contains("30d"));
        assert!(expiry("-3d").is_err());
    }
}
