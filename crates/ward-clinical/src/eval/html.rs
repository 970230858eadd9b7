//! The report as one self-contained HTML page (no script, no external asset): the targets side
//! by side with bars for scores and check pass rates, and every case as a row whose cells open
//! onto the failed checks and the judge's verdict. Rows where targets differ are marked.

use std::fmt::Write;

use super::report::{cost_text, Report, SCORE_BUCKETS};
use super::CaseResult;
use crate::fhir::escape_xml as escape;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d2330}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d5d9e0;padding:.3em .6em;\
text-align:left;vertical-align:top}th{background:#f1f3f6}\
.bar{background:#e8ebf0;width:10em;height:.8em;display:inline-block;margin-right:.4em}\
.bar span{display:block;height:100%;background:#3b7dd8}\
td.pass{background:#e6f4ea}td.fail{background:#fce8e6}tr.differs td:first-child{font-weight:bold}\
tr.differs td:first-child::after{content:' \\2260';color:#b3261e}\
details summary{cursor:pointer}pre{white-space:pre-wrap;max-width:50em;font-size:12px}\
.muted{color:#5f6b7a}";

/// A bar for a share from 0 to 1, with the figure after it.
fn bar(share: f64, label: &str) -> String {
    let width = (share.clamp(0.0, 1.0) * 100.0).round();
    format!(
        "<span class=\"bar\"><span style=\"width:{width}%\"></span></span>{}",
        escape(label)
    )
}

fn case_cell(result: Option<&CaseResult>) -> String {
    let Some(result) = result else {
        return "<td class=\"muted\">-</td>".to_owned();
    };
    let class = if result.passed { "pass" } else { "fail" };
    let mut detail = String::new();
    for check in result.checks.iter().filter(|check| !check.passed) {
        let _ = write!(
            detail,
            "<li>{}: {}</li>",
            escape(&check.check),
            escape(&check.detail)
        );
    }
    if !detail.is_empty() {
        detail = format!("<ul>{detail}</ul>");
    }
    let _ = write!(
        detail,
        "<div class=\"muted\">{:.0} ms, {}/{} tokens, {}{}</div>",
        result.latency_ms,
        result.prompt_tokens,
        result.completion_tokens,
        escape(&cost_text(result.cost_usd)),
        result
            .served
            .backend
            .as_deref()
            .map(|backend| format!(", served by {}", escape(backend)))
            .unwrap_or_default()
    );
    if let Some(verdict) = &result.judge {
        let score = verdict
            .score
            .map_or_else(|| "no score".to_owned(), |score| format!("{score}/5"));
        let prompt: Vec<String> = verdict
            .prompt
            .iter()
            .map(|message| format!("[{}] {}", message.role, message.content))
            .collect();
        let _ = write!(
            detail,
            "<details><summary>judge {}: {score}</summary><p>{}</p><pre>{}</pre><pre>{}</pre></details>",
            escape(&verdict.judge),
            escape(verdict.error.as_deref().unwrap_or(&verdict.reason)),
            escape(&prompt.join("\n\n")),
            escape(&verdict.answer)
        );
    }
    format!(
        "<td class=\"{class}\"><details><summary>{} {:.2}</summary>{detail}</details></td>",
        if result.passed { "pass" } else { "FAIL" },
        result.score
    )
}

impl Report {
    /// The report as a self-contained HTML page comparing the targets.
    pub fn html(&self) -> String {
        let mut out = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evaluation: {0}</title><style>{STYLE}</style></head><body><h1>Evaluation: {0}</h1>",
            escape(&self.suite)
        );
        let targets_header: String = self
            .targets
            .iter()
            .map(|target| format!("<th>{}</th>", escape(&target.target)))
            .collect();

        out.push_str("<h2>Targets</h2><table><tr><th>target</th><th>passed</th><th>mean score</th><th>min score</th><th>latency p50 / p95</th><th>tokens in / out</th><th>cost</th></tr>");
        for target in &self.targets {
            let s = &target.summary;
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.0} / {:.0} ms</td><td>{} / {}</td><td>{}</td></tr>",
                escape(&target.target),
                bar(s.pass_rate, &format!("{} of {}", s.passed, s.cases)),
                bar(s.mean_score, &format!("{:.2}", s.mean_score)),
                s.min_score,
                s.latency_p50_ms,
                s.latency_p95_ms,
                s.prompt_tokens,
                s.completion_tokens,
                escape(&cost_text(s.cost_usd))
            );
        }
        out.push_str("</table>");

        let _ = write!(
            out,
            "<h2>Score distribution</h2><table><tr><th>score</th>{targets_header}</tr>"
        );
        for (bucket, bound) in SCORE_BUCKETS.iter().enumerate() {
            let upper = SCORE_BUCKETS.get(bucket + 1).copied().unwrap_or(1.0);
            let _ = write!(out, "<tr><td>{bound:.1} to {upper:.1}</td>");
            for target in &self.targets {
                let count = target.summary.score_distribution[bucket];
                let share = count as f64 / target.summary.cases.max(1) as f64;
                let _ = write!(out, "<td>{}</td>", bar(share, &count.to_string()));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");

        let _ = write!(
            out,
            "<h2>Checks passed</h2><table><tr><th>check</th>{targets_header}</tr>"
        );
        for check in self.check_names() {
            let _ = write!(out, "<tr><td>{}</td>", escape(check));
            for target in &self.targets {
                match target.summary.check_pass_rates.get(check) {
                    Some(rate) => {
                        let _ = write!(
                            out,
                            "<td>{}</td>",
                            bar(*rate, &format!("{:.0}%", rate * 100.0))
                        );
                    }
                    None => out.push_str("<td class=\"muted\">-</td>"),
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");

        let differing: std::collections::BTreeSet<String> = self
            .differences()
            .into_iter()
            .map(|(case, _)| case)
            .collect();
        let _ = write!(
            out,
            "<h2>Cases</h2><p class=\"muted\">{} case(s) where targets differ, marked &#8800;. Open a cell for its failed checks and the judge's verdict.</p><table><tr><th>case</th>{targets_header}</tr>",
            differing.len()
        );
        for (case, results) in self.case_grid() {
            let _ = write!(
                out,
                "<tr{}><td><code>{}</code></td>",
                if differing.contains(case) {
                    " class=\"differs\""
                } else {
                    ""
                },
                escape(case)
            );
            for result in results {
                out.push_str(&case_cell(result));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table></body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{TargetReport, Verdict};

    fn result(case: &str, passed: bool) -> CaseResult {
        let score = if passed { 1.0 } else { 0.5 };
        CaseResult::with_one_check(case, passed, score, 12.0, "\"<b>\" not found")
    }

    #[test]
    fn the_page_compares_targets_and_escapes_what_models_wrote() {
        let mut judged = result("b", false);
        judged.judge = Some(Verdict::read(
            "judge-model",
            Vec::new(),
            "{\"reason\": \"adds <script>\", \"score\": 2}".into(),
        ));
        let report = Report {
            suite: "suite & co".into(),
            targets: vec![
                TargetReport::new("good", vec![result("a", true), result("b", true)]),
                TargetReport::new("bad", vec![result("a", true), judged]),
            ],
        };
        let page = report.html();
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<title>Evaluation: suite &amp; co</title>"));
        assert!(page.contains("<th>good</th><th>bad</th>"));
        assert_eq!(page.matches("class=\"differs\"").count(), 1);
        assert!(page.contains("contains: &quot;&lt;b&gt;&quot; not found"));
        assert!(page.contains("judge judge-model: 2/5"));
        assert!(page.contains("adds &lt;script&gt;"));
        assert!(!page.contains("<script") && !page.contains("http"));
    }
}
