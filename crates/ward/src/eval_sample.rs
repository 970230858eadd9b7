//! `ward eval sample --from-audit`: a suite skeleton from recorded traffic, so evaluation
//! reflects the practice's own work. Answered model calls in the window are sampled evenly
//! (by a keyed hash of their ids under `--seed`), their content decrypted with the audit keyring
//! (so only where content was kept encrypted, and only by an operator holding the keyring; the
//! reading is itself recorded first) and pseudonymised with ward-phi: realistic surrogates,
//! consistent within one record, dates shifted, under a key drawn afresh for each run so no one
//! can recompute them. Profile calls become profile cases with the profile's checks; other
//! calls become message cases whose expectations are left to fill in. The judge calls of
//! `ward eval` itself are left out.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use ward_audit::{AuditEvent, Outcome};
use ward_clinical::{CheckName, ProfileSet};

use crate::config::Config;
use crate::security::{keyring, open_store, record_reading, time_flag};

#[derive(Debug, clap::Args)]
pub struct SampleOptions {
    /// Sample the audit log of this deployment (the only source for now).
    #[arg(long, required = true)]
    pub from_audit: bool,
    /// Records from this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// Records before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// How many cases at most.
    #[arg(long, default_value_t = 200)]
    pub n: usize,
    /// Changes which records are picked (surrogates are drawn afresh on every run).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Write the suite here instead of to standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// A pseudo-random number for a record under `key` (HMAC-SHA256, the same in every build): the
/// same seed picks the same records.
fn keyed_rank(key: u64, id: &str) -> u64 {
    let tag = ward_audit::crypto::tag(&key.to_le_bytes(), id.as_bytes());
    tag.get(..8)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The case a recorded call becomes, pseudonymised with surrogates drawn under
/// `surrogate_key`; `None` when its request has no text or it was a `ward eval` judge call.
fn case_from_record(
    event: &AuditEvent,
    request: &Value,
    profiles: &ProfileSet,
    surrogate_key: u64,
) -> Option<Value> {
    let mut pseudonymiser = ward_phi::Pseudonymiser::new(keyed_rank(surrogate_key, &event.id));
    let detector = ward_phi::Detector::shared();
    let mut clean = |text: &str| pseudonymiser.pseudonymise(text, &detector.detect(text));
    let mut messages: Vec<(String, String)> = match &request["messages"] {
        Value::Array(messages) => messages
            .iter()
            .filter_map(|message| {
                let content = message["content"].as_str()?;
                Some((message["role"].as_str()?.to_owned(), content.to_owned()))
            })
            .collect(),
        _ => Vec::new(),
    };
    if let Some(prompt) = request["prompt"].as_str() {
        if let Some(system) = request["system"].as_str() {
            messages.push(("system".into(), system.to_owned()));
        }
        messages.push(("user".into(), prompt.to_owned()));
    }
    let short_id = event.id.get(event.id.len().saturating_sub(12)..);
    let id = format!("audit/{}", short_id.unwrap_or(&event.id));
    let profile_name = event
        .profile
        .as_deref()
        .map(|named| named.split('@').next().unwrap_or(named));
    if let Some(profile) = profile_name.and_then(|name| profiles.get(name)) {
        // The profile wrote the system text; the dictation is in the last user message.
        let (_, message) = messages.iter().rev().find(|(role, _)| role == "user")?;
        let (dictation, context) = profile.dictation_of(message);
        let mut expect = serde_json::Map::new();
        for (check, field) in [
            (CheckName::Sections, "sections"),
            (CheckName::Icd10, "icd10_valid"),
            (CheckName::Fabrication, "no_fabrication"),
        ] {
            if profile.runs(check) {
                expect.insert(field.into(), json!(true));
            }
        }
        if let Some(schema) = &profile.schema {
            expect.insert("schema".into(), schema.clone());
        }
        let mut case = json!({
            "id": id,
            "profile": profile.name,
            "input": clean(&dictation),
            "expect": expect,
            "tags": ["from-audit"],
        });
        if let Some(context) = context {
            case["patient_context"] = json!(clean(&context));
        }
        return Some(case);
    }
    let judged = messages.first().is_some_and(|(role, content)| {
        role == "system" && content == ward_clinical::eval::JUDGE_INSTRUCTIONS
    });
    if messages.is_empty() || judged {
        return None;
    }
    let messages: Vec<Value> = messages
        .iter()
        .map(|(role, content)| json!({"role": role, "content": clean(content)}))
        .collect();
    Some(json!({
        "id": id,
        "messages": messages,
        "expect": {},
        "tags": ["from-audit"],
    }))
}

/// `ward eval sample --from-audit`.
pub fn sample(config: &Config, options: SampleOptions) -> anyhow::Result<()> {
    if options.n == 0 {
        bail!("--n must be at least 1");
    }
    let since_us = time_flag("--since", options.since.as_deref())?;
    let until_us = time_flag("--until", options.until.as_deref())?;
    let profiles = crate::notes::load_profiles(&config.clinical)?;
    let keyring = Arc::new(keyring(config)?);
    record_reading(
        config,
        &keyring,
        format!(
            "cli:eval sample --from-audit --since {} --until {} --n {}",
            options.since.as_deref().unwrap_or("-"),
            options.until.as_deref().unwrap_or("-"),
            options.n
        ),
    )?;
    // Only ranks and ids are kept while scanning; the chosen records are read again.
    let mut store = open_store(config)?;
    let mut answered: Vec<(u64, i64, String)> = Vec::new();
    let mut without_content = 0usize;
    store.each_record(since_us, until_us, |record| {
        let event = record.event().map_err(|error| anyhow::anyhow!("{error}"))?;
        if event.outcome != Outcome::Ok || event.endpoint.starts_with("cli:") {
            return Ok::<_, anyhow::Error>(());
        }
        // Content kept as a hash has no key: it cannot be read back.
        if record.content_key.is_none() {
            without_content += 1;
        } else {
            answered.push((keyed_rank(options.seed, &record.id), record.seq, record.id));
        }
        Ok(())
    })?;
    let eligible = answered.len();
    answered.sort_unstable();
    let surrogate_key = crate::phi::random_key();
    // In rank order until n cases are made: a call that makes none (a judge's) takes no place.
    let mut chosen: Vec<(i64, String)> = Vec::new();
    for (_, seq, id) in &answered {
        if chosen.len() == options.n {
            break;
        }
        let record = store
            .record(id)
            .map_err(|error| anyhow::anyhow!("{error}"))?
            .with_context(|| format!("record {id} is gone from the audit log"))?;
        let event = record.event().map_err(|error| anyhow::anyhow!("{error}"))?;
        let content = record
            .decrypt(&keyring)
            .map_err(|error| anyhow::anyhow!("record {id}: {error}"))?;
        if let Some(content) = content {
            if let Some(case) = case_from_record(&event, &content.request, &profiles, surrogate_key)
            {
                chosen.push((*seq, case.to_string()));
            }
        }
    }
    // Chain order reads better and keeps the file stable between runs.
    chosen.sort_by_key(|(seq, _)| *seq);
    let lines: Vec<String> = chosen.into_iter().map(|(_, line)| line).collect();
    if lines.is_empty() {
        bail!(
            "no answered call with readable content in the audit log{} ({} without content: audit content is kept only with `content = \"encrypted\"`)",
            match (&options.since, &options.until) {
                (None, None) => String::new(),
                _ => " in that window".to_owned(),
            },
            without_content
        );
    }
    let header = format!(
        "# Sampled by `ward eval sample --from-audit`: {} cases from {eligible} answered calls with content; content pseudonymised by ward-phi (surrogate names and identifiers, dates shifted). Review every case and fill in its expectations before use.\n",
        lines.len()
    );
    let text = format!("{header}{}\n", lines.join("\n"));
    match &options.out {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} cases to {}", lines.len(), path.display());
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    if without_content > 0 {
        eprintln!(
            "{without_content} calls had no readable content (hash or off) and were left out"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_calls_become_profile_cases_without_their_phi() {
        let profiles = ProfileSet::builtin();
        let apso = profiles.get("apso-note").unwrap();
        let dictation =
            "Jonathan Quillfeather, MRN 48213377, seen 03/14/2025: cough 3 days, temp 38.1.";
        let request = json!({"model": "m", "messages": [
            {"role": "system", "content": "profile prompt"},
            {"role": "user", "content": apso.user_message(dictation, Some("Lives at 14 Birchwood Lane"))},
        ]});
        let event = AuditEvent {
            id: "0190f1e2-aaaa-7bbb-8ccc-0123456789ab".into(),
            profile: Some(format!("apso-note@{}", apso.version)),
            ..AuditEvent::default()
        };
        let case = case_from_record(&event, &request, &profiles, 7).unwrap();
        assert_eq!(case["id"], "audit/0123456789ab");
        assert_eq!(case["profile"], "apso-note");
        let input = case["input"].as_str().unwrap();
        assert!(input.contains("cough 3 days, temp 38.1"), "{input}");
        for value in ["Quillfeather", "48213377", "03/14/2025"] {
            assert!(!input.contains(value), "{value} survived: {input}");
        }
        assert!(!case["patient_context"]
            .as_str()
            .unwrap()
            .contains("Birchwood"));
        assert_eq!(case["expect"]["sections"], true);
        assert_eq!(case["expect"]["icd10_valid"], true);
        // The same key gives the same surrogates; the skeleton is a valid suite line.
        assert_eq!(
            case_from_record(&event, &request, &profiles, 7).unwrap(),
            case
        );
        assert!(ward_clinical::eval::parse_suite(&case.to_string()).is_ok());
        assert_ne!(
            case_from_record(&event, &request, &profiles, 8).unwrap(),
            case
        );

        let judge = json!({"messages": [
            {"role": "system", "content": ward_clinical::eval::JUDGE_INSTRUCTIONS},
            {"role": "user", "content": "Rubric: ..."},
        ]});
        assert_eq!(
            case_from_record(&AuditEvent::default(), &judge, &profiles, 7),
            None
        );

        let chat = json!({"model": "m", "messages": [{"role": "user", "content": "Call Ms. Oriana Velasquez-Thorne at 617-555-0142 about her results"}]});
        let case = case_from_record(&AuditEvent::default(), &chat, &profiles, 7).unwrap();
        let text = case["messages"][0]["content"].as_str().unwrap();
        assert!(
            !text.contains("Velasquez") && !text.contains("555-0142"),
            "{text}"
        );
        assert!(ward_clinical::eval::parse_suite(&case.to_string()).is_ok());
    }
}
