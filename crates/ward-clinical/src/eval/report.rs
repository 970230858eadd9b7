//! The report over a suite: figures per target, the cases where targets differ, and the gates
//! CI uses to block a worse model or prompt.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CaseResult;

/// Everything one target did on the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    pub target: String,
    pub cases: Vec<CaseResult>,
    pub summary: Summary,
}

/// A target's figures over the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub cases: usize,
    pub passed: usize,
    pub pass_rate: f64,
    pub mean_score: f64,
    pub min_score: f64,
    pub p50_score: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Check name -> share of its runs that passed.
    pub check_pass_rates: BTreeMap<String, f64>,
    /// Cases by score: below 0.2, 0.4, 0.6, 0.8, and 0.8 up to 1.
    #[serde(default)]
    pub score_distribution: [usize; 5],
    /// What the calls cost, summed over the cases whose backend has token prices; `None` when
    /// none has.
    pub cost_usd: Option<f64>,
}

/// The lower bounds of the buckets of `Summary::score_distribution`.
pub const SCORE_BUCKETS: [f64; 5] = [0.0, 0.2, 0.4, 0.6, 0.8];

/// The `p`-th percentile (nearest rank) of `values`; 0 for none.
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

impl TargetReport {
    pub fn new(target: &str, cases: Vec<CaseResult>) -> TargetReport {
        let scores: Vec<f64> = cases.iter().map(|case| case.score).collect();
        let latencies: Vec<f64> = cases
            .iter()
            .filter(|case| case.error.is_none())
            .map(|case| case.latency_ms)
            .collect();
        let passed = cases.iter().filter(|case| case.passed).count();
        let mut runs: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for check in cases.iter().flat_map(|case| case.checks.iter()) {
            let entry = runs.entry(check.check.clone()).or_default();
            entry.0 += usize::from(check.passed);
            entry.1 += 1;
        }
        let count = cases.len().max(1) as f64;
        let summary = Summary {
            cases: cases.len(),
            passed,
            pass_rate: round(passed as f64 / count),
            mean_score: round(scores.iter().sum::<f64>() / count),
            min_score: scores
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .min(1.0),
            p50_score: percentile(&scores, 50.0),
            latency_p50_ms: round(percentile(&latencies, 50.0)),
            latency_p95_ms: round(percentile(&latencies, 95.0)),
            prompt_tokens: cases.iter().map(|case| u64::from(case.prompt_tokens)).sum(),
            completion_tokens: cases
                .iter()
                .map(|case| u64::from(case.completion_tokens))
                .sum(),
            check_pass_rates: runs
                .into_iter()
                .map(|(check, (passed, total))| (check, round(passed as f64 / total as f64)))
                .collect(),
            score_distribution: scores.iter().fold([0; 5], |mut buckets, score| {
                let bucket = SCORE_BUCKETS
                    .iter()
                    .rposition(|bound| *score >= *bound)
                    .unwrap_or(0);
                buckets[bucket] += 1;
                buckets
            }),
            cost_usd: cases
                .iter()
                .filter_map(|case| case.cost_usd)
                .reduce(|sum, cost| sum + cost),
        };
        TargetReport {
            target: target.to_owned(),
            cases,
            summary,
        }
    }
}

/// One target's result on one case, for comparisons: target, passed, score.
pub type TargetOutcome = (String, bool, f64);

/// The whole evaluation: every target on the same suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub suite: String,
    pub targets: Vec<TargetReport>,
}

impl Report {
    /// Cases whose pass/fail differs between targets, with each target's result.
    pub fn differences(&self) -> Vec<(String, Vec<TargetOutcome>)> {
        self.case_grid()
            .into_iter()
            .filter_map(|(case, results)| {
                let results: Vec<TargetOutcome> = self
                    .targets
                    .iter()
                    .zip(results)
                    .filter_map(|(target, result)| {
                        result.map(|result| (target.target.clone(), result.passed, result.score))
                    })
                    .collect();
                let differ = results.iter().any(|(_, passed, _)| *passed != results[0].1);
                differ.then(|| (case.to_owned(), results))
            })
            .collect()
    }

    /// Every check name that ran, in order.
    pub fn check_names(&self) -> Vec<&str> {
        let names: std::collections::BTreeSet<&str> = self
            .targets
            .iter()
            .flat_map(|target| target.summary.check_pass_rates.keys())
            .map(String::as_str)
            .collect();
        names.into_iter().collect()
    }

    /// Each case of the suite with every target's result on it, in suite order.
    pub fn case_grid(&self) -> Vec<(&str, Vec<Option<&CaseResult>>)> {
        let Some(first) = self.targets.first() else {
            return Vec::new();
        };
        first
            .cases
            .iter()
            .map(|case| {
                let results = self
                    .targets
                    .iter()
                    .map(|target| target.cases.iter().find(|other| other.case == case.case))
                    .collect();
                (case.case.as_str(), results)
            })
            .collect()
    }

    /// The report as Markdown: a summary table per target, the score distribution, check pass
    /// rates, every case side by side, the cases where targets differ, each failed check and
    /// the judge's verdicts.
    pub fn markdown(&self) -> String {
        let mut out = format!("# Evaluation: {}\n\n", self.suite);
        out.push_str("| target | cases | passed | pass rate | mean score | min score | p50 latency ms | p95 latency ms | tokens in/out | cost |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for target in &self.targets {
            let s = &target.summary;
            out.push_str(&format!(
                "| {} | {} | {} | {:.1}% | {:.2} | {:.2} | {:.0} | {:.0} | {}/{} | {} |\n",
                target.target,
                s.cases,
                s.passed,
                s.pass_rate * 100.0,
                s.mean_score,
                s.min_score,
                s.latency_p50_ms,
                s.latency_p95_ms,
                s.prompt_tokens,
                s.completion_tokens,
                cost_text(s.cost_usd),
            ));
        }
        let header = |first: &str| {
            let mut header = format!("| {first} |");
            for target in &self.targets {
                header.push_str(&format!(" {} |", target.target));
            }
            header.push_str("\n|---|");
            header.push_str(&"---|".repeat(self.targets.len()));
            header.push('\n');
            header
        };
        out.push_str("\n## Score distribution\n\n");
        out.push_str(&header("score"));
        for (bucket, bound) in SCORE_BUCKETS.iter().enumerate() {
            let upper = SCORE_BUCKETS.get(bucket + 1).copied().unwrap_or(1.0);
            let closing = if bucket + 1 == SCORE_BUCKETS.len() {
                ']'
            } else {
                ')'
            };
            out.push_str(&format!("| [{bound:.1}, {upper:.1}{closing} |"));
            for target in &self.targets {
                out.push_str(&format!(" {} |", target.summary.score_distribution[bucket]));
            }
            out.push('\n');
        }
        out.push_str("\n## Checks\n\n");
        out.push_str(&header("check"));
        for check in self.check_names() {
            out.push_str(&format!("| {check} |"));
            for target in &self.targets {
                match target.summary.check_pass_rates.get(check) {
                    Some(rate) => out.push_str(&format!(" {:.1}% |", rate * 100.0)),
                    None => out.push_str(" - |"),
                }
            }
            out.push('\n');
        }
        out.push_str("\n## Cases\n\n");
        out.push_str(&header("case"));
        for (case, results) in self.case_grid() {
            out.push_str(&format!("| `{case}` |"));
            for result in results {
                match result {
                    Some(result) if result.passed => {
                        out.push_str(&format!(" pass {:.2} |", result.score))
                    }
                    Some(result) => out.push_str(&format!(" **FAIL** {:.2} |", result.score)),
                    None => out.push_str(" - |"),
                }
            }
            out.push('\n');
        }
        let differences = self.differences();
        if !differences.is_empty() {
            out.push_str("\n## Where targets differ\n\n");
            for (case, results) in differences {
                let shown: Vec<String> = results
                    .iter()
                    .map(|(target, passed, score)| {
                        format!(
                            "{target}: {} ({score:.2})",
                            if *passed { "pass" } else { "FAIL" }
                        )
                    })
                    .collect();
                out.push_str(&format!("- `{case}`: {}\n", shown.join(", ")));
            }
        }
        out.push_str("\n## Failures\n\n");
        let mut any = false;
        for target in &self.targets {
            for case in &target.cases {
                for check in case.checks.iter().filter(|check| !check.passed) {
                    any = true;
                    out.push_str(&format!(
                        "- {} / `{}` / {}: {}\n",
                        target.target, case.case, check.check, check.detail
                    ));
                }
            }
        }
        if !any {
            out.push_str("None.\n");
        }
        let verdicts: Vec<(&str, &CaseResult)> = self
            .targets
            .iter()
            .flat_map(|target| {
                target
                    .cases
                    .iter()
                    .map(|case| (target.target.as_str(), case))
            })
            .filter(|(_, case)| case.judge.is_some())
            .collect();
        if !verdicts.is_empty() {
            out.push_str("\n## Judge verdicts\n\n| target | case | judge | score | reason |\n|---|---|---|---|---|\n");
            for (target, case) in verdicts {
                let Some(verdict) = &case.judge else { continue };
                let score = verdict
                    .score
                    .map_or_else(|| "-".to_owned(), |score| format!("{score}/5"));
                let reason = verdict.error.as_deref().unwrap_or(&verdict.reason);
                out.push_str(&format!(
                    "| {target} | `{}` | {} | {score} | {} |\n",
                    case.case,
                    verdict.judge,
                    reason.replace('|', "\\|").replace('\n', " ")
                ));
            }
        }
        out
    }
}

/// A cost for people: dollars with cents below one cent shown, or "-" when unknown.
pub fn cost_text(cost_usd: Option<f64>) -> String {
    match cost_usd {
        None => "-".to_owned(),
        Some(cost) if cost < 0.01 => format!("${cost:.5}"),
        Some(cost) => format!("${cost:.2}"),
    }
}

/// Why a gate failed, one line per target that missed it.
pub fn gate(
    report: &Report,
    min_score: Option<f64>,
    baseline: Option<(&Report, f64)>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for target in &report.targets {
        let score = target.summary.mean_score;
        if let Some(minimum) = min_score {
            if score < minimum {
                failures.push(format!(
                    "{}: mean score {score:.3} is below --min-score {minimum:.3}",
                    target.target
                ));
            }
        }
        if let Some((baseline, allowed)) = baseline {
            let before = baseline
                .targets
                .iter()
                .find(|known| known.target == target.target)
                .or(baseline.targets.first());
            if let Some(before) = before {
                let drop = before.summary.mean_score - score;
                if drop > allowed + 1e-9 {
                    failures.push(format!(
                        "{}: mean score fell {drop:.3} from the baseline's {:.3} ({}), more than --max-regression {allowed:.3}",
                        target.target, before.summary.mean_score, before.target
                    ));
                }
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_compare_targets_and_gates_block_regressions() {
        let result = |case: &str, passed: bool, score: f64, latency_ms: f64| {
            CaseResult::with_one_check(case, passed, score, latency_ms, "\"x\" not found")
        };
        let good = TargetReport::new(
            "good",
            vec![result("a", true, 1.0, 100.0), result("b", true, 1.0, 300.0)],
        );
        let bad = TargetReport::new(
            "bad",
            vec![
                result("a", true, 1.0, 100.0),
                result("b", false, 0.0, 200.0),
            ],
        );
        assert_eq!(good.summary.latency_p50_ms, 100.0);
        assert_eq!(good.summary.latency_p95_ms, 300.0);
        assert_eq!(bad.summary.pass_rate, 0.5);
        assert_eq!(bad.summary.check_pass_rates["contains"], 0.5);
        let report = Report {
            suite: "s".into(),
            targets: vec![good.clone(), bad.clone()],
        };
        let differences = report.differences();
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].0, "b");
        let markdown = report.markdown();
        assert!(markdown.contains("| good | 2 | 2 | 100.0%"), "{markdown}");
        assert!(
            markdown.contains("- `b`: good: pass (1.00), bad: FAIL (0.00)"),
            "{markdown}"
        );
        assert!(markdown.contains("bad / `b` / contains"), "{markdown}");
        assert!(markdown.contains("| [0.8, 1.0] | 2 | 1 |"), "{markdown}");
        assert!(
            markdown.contains("| `b` | pass 1.00 | **FAIL** 0.00 |"),
            "{markdown}"
        );
        assert_eq!(good.summary.cost_usd, Some(0.002));
        assert!(markdown.contains("| 20/10 | $0.00200 |"), "{markdown}");

        assert!(gate(&report, Some(0.9), None)
            .iter()
            .any(|failure| failure.starts_with("bad:")));
        assert_eq!(gate(&report, Some(0.5), None), Vec::<String>::new());
        let baseline = Report {
            suite: "s".into(),
            targets: vec![TargetReport::new("bad", good.cases.clone())],
        };
        let now = Report {
            suite: "s".into(),
            targets: vec![bad],
        };
        assert_eq!(
            gate(&now, None, Some((&baseline, 0.6))),
            Vec::<String>::new()
        );
        assert_eq!(gate(&now, None, Some((&baseline, 0.1))).len(), 1);
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
    }
}
