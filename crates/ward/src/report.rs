//! `ward report costs`: what each tier cost over a period, read from the audit store, against
//! what every call would have cost at the reference cloud model's prices.

use std::fmt::Write as _;

use anyhow::Context;
use ward_audit::costs::{report_period, TierCosts};
use ward_audit::record::now_micros;
use ward_audit::CostReport;

use crate::config::Config;
use crate::security::{open_store, time_flag};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// What `ward report costs` is asked for.
#[derive(Debug, clap::Args)]
pub struct CostOptions {
    /// Start of the period: a date (2026-11-01, midnight UTC) or an RFC 3339 time. Default: 30
    /// days before the end of the period (--until, or now if that is earlier).
    #[arg(long)]
    pub since: Option<String>,
    /// End of the period, not included. Default: now (a later end is costed up to now).
    #[arg(long)]
    pub until: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn costs(config: &Config, options: &CostOptions) -> anyhow::Result<()> {
    let (since_us, until_us) = report_period(
        time_flag("--since", options.since.as_deref())?,
        time_flag("--until", options.until.as_deref())?,
        now_micros(),
    )
    .context("--since must be before --until and before now")?;
    let report = open_store(config)?
        .cost_report(&config.costs, since_us, until_us)
        .context("cannot read the audit store")?;
    let text = match options.format {
        Format::Table => table(&report),
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Csv => csv(&report),
    };
    print!("{text}");
    Ok(())
}

/// The columns of the table and the CSV file, with each row's values.
const COLUMNS: [&str; 12] = [
    "tier",
    "locality",
    "queries",
    "share",
    "prompt_tokens",
    "completion_tokens",
    "p50_ms",
    "p95_ms",
    "token_cost_usd",
    "fixed_cost_usd",
    "cost_usd",
    "all_cloud_usd",
];

fn optional(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(String::new, |value| format!("{value:.digits$}"))
}

fn cells(row: &TierCosts, csv: bool) -> [String; 12] {
    let money = if csv { 6 } else { 4 };
    [
        row.tier.clone(),
        row.locality.clone(),
        row.queries.to_string(),
        if csv {
            format!("{:.4}", row.share)
        } else {
            format!("{:.1}%", row.share * 100.0)
        },
        row.prompt_tokens.to_string(),
        row.completion_tokens.to_string(),
        optional(row.p50_ms, 1),
        optional(row.p95_ms, 1),
        format!("{:.money$}", row.token_cost_usd),
        format!("{:.money$}", row.fixed_cost_usd),
        format!("{:.money$}", row.cost_usd),
        optional(row.counterfactual_usd, money),
    ]
}

fn rows(report: &CostReport) -> impl Iterator<Item = &TierCosts> {
    report.tiers.iter().chain(std::iter::once(&report.total))
}

/// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn csv(report: &CostReport) -> String {
    let mut text = COLUMNS.join(",") + "\n";
    for row in rows(report) {
        let fields: Vec<String> = cells(row, true)
            .iter()
            .map(|cell| csv_field(cell))
            .collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

fn table(report: &CostReport) -> String {
    let mut text = format!(
        "Costs from {} to {} ({:.1} days)\n",
        report.since, report.until, report.days
    );
    let _ = match &report.reference {
        Some(reference) => writeln!(
            text,
            "All-cloud reference: {} at ${:.2} in / ${:.2} out per million tokens\n",
            reference.name, reference.input_usd_per_million, reference.output_usd_per_million
        ),
        None => writeln!(
            text,
            "No reference price: set [costs] reference, or a cloud backend's cost, for the all-cloud figures\n"
        ),
    };
    let header = [
        "tier",
        "where",
        "queries",
        "share",
        "tokens in",
        "tokens out",
        "p50 ms",
        "p95 ms",
        "token $",
        "fixed $",
        "cost $",
        "all-cloud $",
    ];
    let body: Vec<[String; 12]> = rows(report).map(|row| cells(row, false)).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            body.iter()
                .map(|row| row[column].len())
                .chain(std::iter::once(header[column].len()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let mut line = String::new();
        for (column, cell) in cells.iter().enumerate() {
            if column < 2 {
                let _ = write!(line, "{cell:<width$}  ", width = widths[column]);
            } else {
                let _ = write!(line, "{cell:>width$}  ", width = widths[column]);
            }
        }
        line.trim_end().to_owned() + "\n"
    };
    text.push_str(&line(&header));
    for row in &body {
        text.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    text.push('\n');
    if !report.idle_backends.is_empty() {
        let _ = writeln!(
            text,
            "Fixed cost of backends that answered nothing: ${:.2} ({}), in the total",
            report.idle_fixed_usd,
            report.idle_backends.join(", ")
        );
    }
    let _ = writeln!(
        text,
        "Answered locally: {:.1}% of {} queries",
        report.local_share * 100.0,
        report.total.queries
    );
    if let (Some(all_cloud), Some(saving)) = (report.total.counterfactual_usd, report.saving_usd) {
        let _ = writeln!(
            text,
            "All-cloud would have cost ${all_cloud:.2}; Ward's cost ${:.2}: {} ${:.2}{}",
            report.total.cost_usd,
            if saving >= 0.0 { "saving" } else { "extra" },
            saving.abs(),
            report
                .saving_share
                .filter(|share| *share >= 0.0)
                .map_or_else(String::new, |share| format!(" ({:.1}%)", share * 100.0))
        );
    }
    if let Some(even) = &report.break_even {
        let _ = writeln!(
            text,
            "Break-even: local hardware at ${:.2} a month pays for itself above {:.0} local queries a day (${:.5} each at the reference); this period had {:.1} a day",
            even.monthly_fixed_usd,
            even.queries_per_day,
            even.reference_usd_per_local_query,
            even.local_queries_per_day
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_audit::{AuditEvent, BackendCost, CostModel, CostTally, PricedBackend, Reference};

    fn report() -> CostReport {
        let model = CostModel {
            backends: vec![PricedBackend {
                name: "gpu".into(),
                cloud: false,
                cost: Some(BackendCost::Monthly { usd: 304.36875 }),
            }],
            reference: Some(Reference {
                name: "frontier, large".into(),
                input_usd_per_million: 3.0,
                output_usd_per_million: 15.0,
            }),
        };
        let mut tally = CostTally::new(&model, 0, 86_400_000_000);
        tally.add(&AuditEvent {
            tier: Some("phi".into()),
            backend: Some("gpu".into()),
            prompt_tokens: Some(1000),
            completion_tokens: Some(100),
            status: 200,
            ..AuditEvent::default()
        });
        tally.finish()
    }

    #[test]
    fn the_table_has_every_tier_the_total_and_the_saving() {
        let text = table(&report());
        assert!(
            text.contains("All-cloud reference: frontier, large at $3.00"),
            "{text}"
        );
        let phi = text.lines().find(|line| line.starts_with("phi")).unwrap();
        // One query, all of the share, the day's 10 dollars of GPU, 0.0045 at the reference.
        for cell in ["local", "100.0%", "1000", "10.0000", "0.0045"] {
            assert!(phi.contains(cell), "{phi}");
        }
        assert!(text.lines().any(|line| line.starts_with("total")), "{text}");
        assert!(text.contains("extra $10.00"), "{text}");
        assert!(text.contains("above 2222 local queries a day"), "{text}");
    }

    #[test]
    fn csv_quotes_what_needs_it_and_keeps_full_precision() {
        let text = csv(&report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].starts_with("phi,local,1,1.0000,1000,100,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with(",10.000000,10.000000,0.004500"),
            "{}",
            lines[1]
        );
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
