//! `ward phi detect|redact|eval`: the PHI detector on JSONL or plain text, from a file or stdin.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::{json, Map, Value};
use ward_phi::{
    redact_text, Detector, EvalReport, Finding, GoldDocument, PhiLabel, Pseudonymiser,
    RedactionMode,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `[NAME]`
    Mask,
    /// `[NAME_1]`, one number per distinct value
    Tag,
    /// realistic surrogates, dates shifted by one offset for the whole input
    #[value(alias = "pseudonymize")]
    Pseudonymise,
}

pub struct Input {
    pub path: Option<PathBuf>,
    /// Read the whole input as one plain-text document instead of JSONL.
    pub plain_text: bool,
}

fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn BufRead>> {
    Ok(match path {
        Some(path) => Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )),
        None => Box::new(BufReader::new(io::stdin().lock())),
    })
}

/// All of `path`, or of standard input when `None`.
pub(crate) fn read_all(path: Option<&Path>) -> anyhow::Result<String> {
    let mut text = String::new();
    open(path)?
        .read_to_string(&mut text)
        .context("the input is not UTF-8 text")?;
    Ok(text)
}

fn spans_json(findings: &[ward_phi::Finding]) -> Value {
    Value::Array(
        findings
            .iter()
            .map(|f| json!({"start": f.start, "end": f.end, "label": f.label.as_str()}))
            .collect(),
    )
}

/// One JSONL record `{"id": ..., "text": "..."}`; the error never repeats the line's content.
/// A record's text and its other fields, or why the line is not a record.
type Parsed = Result<(String, Map<String, Value>), String>;

/// Its id (null when absent or unreadable) and the parsed rest.
fn parse_record(line: &str) -> (Value, Parsed) {
    let mut object = match serde_json::from_str(line) {
        Ok(Value::Object(object)) => object,
        Ok(_) => {
            let reason = "expected a JSON object like {\"id\": 1, \"text\": \"...\"}";
            return (Value::Null, Err(reason.into()));
        }
        Err(error) => {
            return (
                Value::Null,
                Err(format!("not valid JSON (column {})", error.column())),
            )
        }
    };
    let id = object.remove("id").unwrap_or(Value::Null);
    let text = match object.remove("text") {
        Some(Value::String(text)) => Ok((text, object)),
        Some(_) => Err("field \"text\" must be a string".into()),
        None => Err("missing field \"text\"".into()),
    };
    (id, text)
}

/// Runs `per_record` over each JSONL line; a bad line gets an `{"id", "error"}` line in its place so
/// output lines stay aligned with input lines, and the command fails at the end.
fn each_record(
    input: &Input,
    mut per_record: impl FnMut(&Value, &str, &mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let reader = open(input.path.as_deref())?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut bad_lines = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line =
            line.with_context(|| format!("line {}: cannot read (is the input UTF-8?)", index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_record(&line) {
            (id, Ok((text, _))) => per_record(&id, &text, &mut out)?,
            (id, Err(reason)) => {
                writeln!(out, "{}", json!({"id": id, "error": reason}))?;
                bad_lines.push(format!("line {}: {reason}", index + 1));
            }
        }
    }
    out.flush()?;
    if !bad_lines.is_empty() {
        bail!(
            "{} input line(s) could not be read:\n  {}",
            bad_lines.len(),
            bad_lines
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    Ok(())
}

pub fn detect(input: &Input) -> anyhow::Result<()> {
    let detector = Detector::shared();
    if input.plain_text {
        let text = read_all(input.path.as_deref())?;
        let id = input
            .path
            .as_ref()
            .map_or("-".to_string(), |path| path.display().to_string());
        println!(
            "{}",
            json!({"id": id, "spans": spans_json(&detector.detect(&text))})
        );
        return Ok(());
    }
    each_record(input, |id, text, out| {
        writeln!(
            out,
            "{}",
            json!({"id": id, "spans": spans_json(&detector.detect(text))})
        )?;
        Ok(())
    })
}

pub fn redact_command(
    input: &Input,
    mode: Mode,
    key: Option<u64>,
    mapping: Option<&Path>,
) -> anyhow::Result<()> {
    if mapping.is_some() && mode != Mode::Pseudonymise {
        bail!("--mapping only applies to --mode pseudonymise");
    }
    let detector = Detector::shared();
    let key = key.unwrap_or_else(random_key);
    let mut pseudonymiser = Pseudonymiser::new(key);
    let mut transform = |text: &str| -> String {
        match mode {
            Mode::Mask => redact_text(detector, text, RedactionMode::Mask),
            Mode::Tag => redact_text(detector, text, RedactionMode::Tag),
            Mode::Pseudonymise => pseudonymiser.pseudonymise(text, &detector.detect(text)),
        }
    };
    if input.plain_text {
        let text = read_all(input.path.as_deref())?;
        let mut out = io::stdout().lock();
        out.write_all(transform(&text).as_bytes())?;
        out.flush()?;
    } else {
        each_record(input, |id, text, out| {
            writeln!(out, "{}", json!({"id": id, "text": transform(text)}))?;
            Ok(())
        })?;
    }
    if let Some(path) = mapping {
        let pairs: Vec<Value> = pseudonymiser
            .mapping()
            .iter()
            .map(|s| json!({"label": s.label.as_str(), "original": s.original, "surrogate": s.surrogate}))
            .collect();
        let document =
            json!({"date_shift_days": pseudonymiser.date_shift_days(), "surrogates": pairs});
        std::fs::write(path, serde_json::to_vec_pretty(&document)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "mapping written to {} (it re-identifies the output: keep it as safe as the input)",
            path.display()
        );
    }
    Ok(())
}

pub(crate) fn random_key() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// Reads a gold file: one `{"id", "text", "spans": [{"start", "end", "label"}]}` per line.
fn read_gold(path: &Path) -> anyhow::Result<(Vec<Value>, Vec<GoldDocument>)> {
    let reader = open(Some(path))?;
    let (mut ids, mut documents) = (Vec::new(), Vec::new());
    for (index, line) in reader.lines().enumerate() {
        let line =
            line.with_context(|| format!("{}: line {}: cannot read", path.display(), index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let where_ = || format!("{}: line {}", path.display(), index + 1);
        let (id, parsed) = parse_record(&line);
        let (text, fields) = parsed.map_err(|reason| anyhow::anyhow!("{}: {reason}", where_()))?;
        let mut spans = Vec::new();
        for span in fields
            .get("spans")
            .and_then(Value::as_array)
            .with_context(|| format!("{}: missing array \"spans\"", where_()))?
        {
            let start = span
                .get("start")
                .and_then(Value::as_u64)
                .with_context(|| format!("{}: span without integer \"start\"", where_()))?
                as usize;
            let end = span
                .get("end")
                .and_then(Value::as_u64)
                .with_context(|| format!("{}: span without integer \"end\"", where_()))?
                as usize;
            let label_name = span.get("label").and_then(Value::as_str).unwrap_or("");
            let label: PhiLabel = label_name
                .parse()
                .map_err(|_| anyhow::anyhow!("{}: unknown label {label_name:?}", where_()))?;
            if start >= end
                || end > text.len()
                || !text.is_char_boundary(start)
                || !text.is_char_boundary(end)
            {
                bail!("{}: span {start}..{end} is not a byte range on character boundaries of the text", where_());
            }
            spans.push((start, end, label));
        }
        ids.push(id);
        documents.push(GoldDocument { text, spans });
    }
    if documents.is_empty() {
        bail!("{} holds no documents", path.display());
    }
    Ok((ids, documents))
}

pub fn eval(path: &Path, as_json: bool, show_errors: usize) -> anyhow::Result<()> {
    let (ids, documents) = read_gold(path)?;
    let detector = Detector::shared();
    let started = Instant::now();
    let report = ward_phi::evaluate(&documents, detector);
    let seconds = started.elapsed().as_secs_f64();
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report_json(&report, seconds))?
        );
    } else {
        print_report(&report, seconds);
    }
    if show_errors > 0 {
        print_errors(&report, &ids, &documents, show_errors);
    }
    Ok(())
}

fn report_json(report: &EvalReport, seconds: f64) -> Value {
    let labels: Vec<Value> = report
        .labels
        .iter()
        .map(|s| json!({"label": s.label.as_str(), "gold": s.gold, "found": s.found, "recall": s.recall(), "predicted": s.predicted, "precision": s.precision()}))
        .collect();
    json!({
        "documents": report.documents,
        "phi_free_documents": report.negative_documents,
        "gold_spans": report.gold_spans,
        "found_spans": report.found_spans,
        "category_blind_recall": report.category_blind_recall(),
        "untouched_negative_rate": report.untouched_negative_rate(),
        "category_blind_precision": report.category_blind_precision(),
        "predicted_spans": report.predicted_spans,
        "bytes": report.bytes,
        "seconds": seconds,
        "labels": labels,
    })
}

fn print_report(report: &EvalReport, seconds: f64) {
    println!(
        "documents {} ({} PHI-free), {:.2} MB in {:.3} s ({:.1} MB/s, {:.0} documents/s, one thread)",
        report.documents,
        report.negative_documents,
        report.bytes as f64 / 1e6,
        seconds,
        report.bytes as f64 / 1e6 / seconds.max(1e-9),
        report.documents as f64 / seconds.max(1e-9)
    );
    println!(
        "category-blind recall      {:>7.2}%  ({}/{} gold spans)",
        100.0 * report.category_blind_recall(),
        report.found_spans,
        report.gold_spans
    );
    println!(
        "PHI-free left untouched    {:>7.2}%  ({}/{} documents)",
        100.0 * report.untouched_negative_rate(),
        report.untouched_negatives,
        report.negative_documents
    );
    println!(
        "category-blind precision   {:>7.2}%  ({}/{} findings on PHI)",
        100.0 * report.category_blind_precision(),
        report.predicted_on_phi,
        report.predicted_spans
    );
    println!();
    println!(
        "{:<16} {:>6} {:>8} {:>9} {:>9}",
        "label", "gold", "recall", "findings", "precision"
    );
    for score in &report.labels {
        println!(
            "{:<16} {:>6} {:>7.2}% {:>9} {:>8.2}%",
            score.label.as_str(),
            score.gold,
            100.0 * score.recall(),
            score.predicted,
            100.0 * score.precision()
        );
    }
}

/// Misses and flagged PHI-free documents, with their text: for synthetic evaluation sets only.
fn print_errors(report: &EvalReport, ids: &[Value], documents: &[GoldDocument], limit: usize) {
    let detector = Detector::shared();
    let mut findings_by_document: HashMap<usize, Vec<Finding>> = HashMap::new();
    let mut findings_of = |document: usize| {
        findings_by_document
            .entry(document)
            .or_insert_with(|| detector.detect(&documents[document].text))
            .clone()
    };
    println!("\nmissed gold spans (first {limit}):");
    for miss in report.misses.iter().take(limit) {
        let text = &documents[miss.document].text;
        let found: Vec<String> = findings_of(miss.document)
            .iter()
            .filter(|f| f.start < miss.end + 40 && miss.start < f.end + 40)
            .map(|f| format!("{}={}", &text[f.start..f.end], f.label))
            .collect();
        let context_start = floor_boundary(text, miss.start.saturating_sub(40));
        let context_end = floor_boundary(text, (miss.end + 40).min(text.len()));
        println!(
            "  {} {} {:?} in {:?} | found nearby: {}",
            ids[miss.document],
            miss.label,
            &text[miss.start..miss.end],
            &text[context_start..context_end],
            found.join("; ")
        );
    }
    println!("\nflagged PHI-free documents (first {limit}):");
    for &index in report.flagged_negatives.iter().take(limit) {
        let text = &documents[index].text;
        let found: Vec<String> = findings_of(index)
            .iter()
            .map(|f| {
                format!(
                    "{:?}={}({})",
                    &text[f.start..f.end],
                    f.label,
                    f.recogniser.as_str()
                )
            })
            .collect();
        println!("  {} {}", ids[index], found.join("; "));
    }
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
