//! Scoring findings against gold spans: per-label recall and precision, category-blind recall,
//! and the share of PHI-free documents left untouched.

use crate::{Detector, Finding, PhiLabel};

/// A document with its gold PHI spans (byte offsets).
#[derive(Clone, Debug, Default)]
pub struct GoldDocument {
    pub text: String,
    pub spans: Vec<(usize, usize, PhiLabel)>,
}

/// Recall and precision for one label.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelScore {
    pub label: PhiLabel,
    /// Gold spans with this label.
    pub gold: usize,
    /// Of those, found by findings of any label (category-blind).
    pub found: usize,
    /// Findings with this label.
    pub predicted: usize,
    /// Of those, overlapping a gold span with the same label.
    pub predicted_correct: usize,
}

impl LabelScore {
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.gold)
    }

    pub fn precision(&self) -> f64 {
        ratio(self.predicted_correct, self.predicted)
    }
}

/// A gold span that no finding covered.
#[derive(Clone, Debug, PartialEq)]
pub struct Miss {
    pub document: usize,
    pub start: usize,
    pub end: usize,
    pub label: PhiLabel,
}

#[derive(Clone, Debug, Default)]
pub struct EvalReport {
    pub documents: usize,
    pub negative_documents: usize,
    pub untouched_negatives: usize,
    pub gold_spans: usize,
    pub found_spans: usize,
    pub predicted_spans: usize,
    /// Findings that overlap some gold span, whatever its label.
    pub predicted_on_phi: usize,
    pub labels: Vec<LabelScore>,
    pub misses: Vec<Miss>,
    /// PHI-free documents with at least one finding.
    pub flagged_negatives: Vec<usize>,
    /// Bytes of text scanned.
    pub bytes: usize,
}

impl EvalReport {
    /// Gold spans whose every letter and digit is covered by findings of any label.
    pub fn category_blind_recall(&self) -> f64 {
        ratio(self.found_spans, self.gold_spans)
    }

    /// Share of PHI-free documents with no finding at all.
    pub fn untouched_negative_rate(&self) -> f64 {
        ratio(self.untouched_negatives, self.negative_documents)
    }

    /// Findings that overlap PHI, whatever the labels.
    pub fn category_blind_precision(&self) -> f64 {
        ratio(self.predicted_on_phi, self.predicted_spans)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Runs `detector` over every document and scores it against the gold spans.
pub fn evaluate(documents: &[GoldDocument], detector: &Detector) -> EvalReport {
    let mut report = EvalReport {
        labels: PhiLabel::ALL
            .into_iter()
            .map(|label| LabelScore {
                label,
                gold: 0,
                found: 0,
                predicted: 0,
                predicted_correct: 0,
            })
            .collect(),
        ..EvalReport::default()
    };
    for (index, document) in documents.iter().enumerate() {
        let findings = detector.detect(&document.text);
        score_document(&mut report, index, document, &findings);
    }
    report
        .labels
        .retain(|score| score.gold > 0 || score.predicted > 0);
    report
}

fn score_document(
    report: &mut EvalReport,
    index: usize,
    document: &GoldDocument,
    findings: &[Finding],
) {
    report.documents += 1;
    report.bytes += document.text.len();
    if document.spans.is_empty() {
        report.negative_documents += 1;
        if findings.is_empty() {
            report.untouched_negatives += 1;
        } else {
            report.flagged_negatives.push(index);
        }
    }

    for &(start, end, label) in &document.spans {
        report.gold_spans += 1;
        report.labels[label.index()].gold += 1;
        if covered(&document.text, start, end, findings) {
            report.found_spans += 1;
            report.labels[label.index()].found += 1;
        } else {
            report.misses.push(Miss {
                document: index,
                start,
                end,
                label,
            });
        }
    }
    for finding in findings {
        report.predicted_spans += 1;
        let score = &mut report.labels[finding.label.index()];
        score.predicted += 1;
        let overlaps = |same_label: bool| {
            document.spans.iter().any(|&(start, end, label)| {
                finding.start < end
                    && start < finding.end
                    && (!same_label || label == finding.label)
            })
        };
        if overlaps(true) {
            score.predicted_correct += 1;
        }
        if overlaps(false) {
            report.predicted_on_phi += 1;
        }
    }
}

/// Whether every alphanumeric character of `text[start..end]` lies inside some finding.
fn covered(text: &str, start: usize, end: usize, findings: &[Finding]) -> bool {
    let Some(span) = text.get(start..end) else {
        return false;
    };
    span.char_indices()
        .filter(|(_, c)| c.is_alphanumeric())
        .all(|(offset, c)| {
            let (from, to) = (start + offset, start + offset + c.len_utf8());
            findings
                .iter()
                .any(|finding| finding.start <= from && to <= finding.end)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Recogniser;

    fn finding(start: usize, end: usize, label: PhiLabel) -> Finding {
        Finding::new(start, end, label, Recogniser::Name, 1.0)
    }

    #[test]
    fn a_span_is_found_when_its_letters_and_digits_are_covered_by_any_labels() {
        let text = "Dr. Ana Díaz, 03/05";
        let ana_diaz = (4, 13);
        assert!(covered(
            text,
            ana_diaz.0,
            ana_diaz.1,
            &[
                finding(4, 7, PhiLabel::Name),
                finding(8, 13, PhiLabel::Location)
            ]
        ));
        assert!(!covered(
            text,
            ana_diaz.0,
            ana_diaz.1,
            &[finding(4, 7, PhiLabel::Name)]
        ));
        // The slash needs no cover; the digits do.
        assert!(covered(
            text,
            15,
            20,
            &[
                finding(15, 17, PhiLabel::Date),
                finding(18, 20, PhiLabel::Date)
            ]
        ));
    }

    #[test]
    fn untouched_negatives_and_label_scores() {
        let documents = vec![
            GoldDocument {
                text: "metformin 500 mg BID".into(),
                spans: vec![],
            },
            GoldDocument {
                text: "MRN: 4827193".into(),
                spans: vec![(5, 12, PhiLabel::Mrn)],
            },
        ];
        let report = evaluate(&documents, Detector::shared());
        assert_eq!(
            (report.negative_documents, report.untouched_negatives),
            (1, 1)
        );
        assert_eq!(report.category_blind_recall(), 1.0);
        let mrn = report
            .labels
            .iter()
            .find(|score| score.label == PhiLabel::Mrn)
            .expect("MRN scored");
        assert_eq!(
            (mrn.gold, mrn.found, mrn.predicted, mrn.predicted_correct),
            (1, 1, 1, 1)
        );
    }
}
