//! A finding (byte span, label, recogniser, confidence) and the merge that makes findings disjoint.

use crate::PhiLabel;

/// Which recogniser produced a finding: useful to explain a decision without showing the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recogniser {
    Ssn,
    Phone,
    Email,
    Url,
    IpAddress,
    CuedIdentifier,
    CheckedIdentifier,
    LongNumber,
    Date,
    Age,
    Address,
    Location,
    Facility,
    Name,
}

impl Recogniser {
    pub fn as_str(self) -> &'static str {
        match self {
            Recogniser::Ssn => "ssn",
            Recogniser::Phone => "phone",
            Recogniser::Email => "email",
            Recogniser::Url => "url",
            Recogniser::IpAddress => "ip_address",
            Recogniser::CuedIdentifier => "cued_identifier",
            Recogniser::CheckedIdentifier => "checked_identifier",
            Recogniser::LongNumber => "long_number",
            Recogniser::Date => "date",
            Recogniser::Age => "age",
            Recogniser::Address => "address",
            Recogniser::Location => "location",
            Recogniser::Facility => "facility",
            Recogniser::Name => "name",
        }
    }
}

/// One piece of PHI: `text[start..end]`, byte offsets on UTF-8 character boundaries.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub label: PhiLabel,
    pub recogniser: Recogniser,
    /// How sure the recogniser is, in (0, 1].
    pub confidence: f32,
}

impl Finding {
    pub fn new(
        start: usize,
        end: usize,
        label: PhiLabel,
        recogniser: Recogniser,
        confidence: f32,
    ) -> Self {
        Finding {
            start,
            end,
            label,
            recogniser,
            confidence,
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// Sorts findings and unites the ones that overlap or touch without a gap, so the result is
/// disjoint. A united finding keeps the label of its most confident (then longest) part.
pub fn merge(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.retain(|finding| !finding.is_empty());
    findings.sort_by_key(|finding| (finding.start, std::cmp::Reverse(finding.end)));
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for finding in findings {
        match merged.last_mut() {
            Some(last) if finding.start < last.end => {
                if outranks(&finding, last) {
                    last.label = finding.label;
                    last.recogniser = finding.recogniser;
                    last.confidence = finding.confidence;
                }
                last.end = last.end.max(finding.end);
            }
            _ => merged.push(finding),
        }
    }
    merged
}

fn outranks(candidate: &Finding, incumbent: &Finding) -> bool {
    candidate.confidence > incumbent.confidence
        || (candidate.confidence == incumbent.confidence && candidate.len() > incumbent.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(start: usize, end: usize, label: PhiLabel, confidence: f32) -> Finding {
        Finding::new(start, end, label, Recogniser::Name, confidence)
    }

    #[test]
    fn overlapping_findings_unite_under_the_most_confident_label() {
        let merged = merge(vec![
            finding(10, 20, PhiLabel::Date, 0.6),
            finding(0, 4, PhiLabel::Name, 0.9),
            finding(15, 25, PhiLabel::Phone, 0.95),
            finding(25, 30, PhiLabel::Name, 0.5),
        ]);
        assert_eq!(
            merged
                .iter()
                .map(|f| (f.start, f.end, f.label))
                .collect::<Vec<_>>(),
            vec![
                (0, 4, PhiLabel::Name),
                (10, 25, PhiLabel::Phone),
                (25, 30, PhiLabel::Name)
            ]
        );
    }

    #[test]
    fn empty_findings_are_dropped() {
        assert!(merge(vec![finding(3, 3, PhiLabel::Name, 1.0)]).is_empty());
    }
}
