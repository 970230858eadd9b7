//! Splits a note into its titled sections and says which required ones are missing.
//!
//! A heading is a short line that names a section, as models write them: `Assessment:`,
//! `ASSESSMENT`, `## Assessment`, `**Assessment:**`, or `Assessment: text on the same line`.
//! Required titles match case-insensitively, and a few standard abbreviations and synonyms count
//! (`A:` for Assessment, `HPI` for History of Present Illness, `Assessment and Plan` for both).

use crate::document::NoteSection;

/// Other names under which a required section may appear.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "assessment",
        &[
            "a",
            "impression",
            "assessment and plan",
            "assessment/plan",
            "a/p",
            "a&p",
        ],
    ),
    (
        "plan",
        &[
            "p",
            "assessment and plan",
            "assessment/plan",
            "a/p",
            "a&p",
            "plan of care",
        ],
    ),
    (
        "subjective",
        &["s", "history", "chief complaint and history"],
    ),
    (
        "objective",
        &[
            "o",
            "exam",
            "examination",
            "physical exam",
            "physical examination",
        ],
    ),
    ("history of present illness", &["hpi", "history"]),
    (
        "examination",
        &["exam", "physical exam", "physical examination", "objective"],
    ),
    ("interval history", &["history", "subjective"]),
    ("recommendations", &["recommendation", "plan"]),
    (
        "results",
        &["labs", "data", "laboratory results", "studies"],
    ),
    (
        "reason for consultation",
        &["reason for consult", "reason for referral"],
    ),
    ("follow-up", &["follow up", "followup", "follow-up plan"]),
];

/// Titles that start a section even when no profile requires them.
const COMMON_TITLES: &[&str] = &[
    "chief complaint",
    "history of present illness",
    "hpi",
    "past medical history",
    "medications",
    "allergies",
    "review of systems",
    "social history",
    "family history",
    "vital signs",
    "vitals",
    "labs",
    "icd-10-cm",
    "icd-10 codes",
    "diagnoses",
    "impression",
    "disposition",
    "instructions",
];

/// The cleaned heading title of `line` and the text after its colon, when `line` is a heading.
fn heading(line: &str, known: &[String]) -> Option<(String, String)> {
    let trimmed = line.trim();
    let markdown = trimmed.starts_with('#');
    let stripped = trimmed.trim_start_matches('#').trim();
    let bold = stripped.starts_with("**") || stripped.starts_with("__");
    let stripped = stripped.trim_start_matches(['*', '_']).trim();
    let (title, rest) = match stripped.find(':') {
        Some(colon) => (
            &stripped[..colon],
            stripped[colon + 1..].trim_start_matches(['*', '_']),
        ),
        None => (stripped, ""),
    };
    let title = title.trim().trim_end_matches(['*', '_']).trim();
    if title.is_empty() || title.len() > 48 || title.split_whitespace().count() > 6 {
        return None;
    }
    let lower = title.to_lowercase();
    let is_known = known.contains(&lower)
        || SYNONYMS
            .iter()
            .any(|(_, names)| names.contains(&lower.as_str()))
        || COMMON_TITLES.contains(&lower.as_str());
    let has_colon = stripped.contains(':');
    // Single letters (S/O/A/P) need a colon: "A" alone on a line is not a heading.
    let single_letter = lower.len() == 1;
    if (is_known && (has_colon || !single_letter)) || ((markdown || bold) && rest.is_empty()) {
        Some((title.to_owned(), rest.trim().to_owned()))
    } else {
        None
    }
}

/// The note cut at its headings. Text before the first heading is a section titled "".
pub fn split(note: &str, required: &[String]) -> Vec<NoteSection> {
    let known: Vec<String> = required.iter().map(|title| title.to_lowercase()).collect();
    let mut sections: Vec<NoteSection> = Vec::new();
    let mut current = NoteSection {
        title: String::new(),
        text: String::new(),
    };
    for line in note.lines() {
        if let Some((title, rest)) = heading(line, &known) {
            if !current.title.is_empty() || !current.text.trim().is_empty() {
                sections.push(current);
            }
            current = NoteSection { title, text: rest };
        } else {
            if !current.text.is_empty() {
                current.text.push('\n');
            }
            current.text.push_str(line);
        }
    }
    if !current.title.is_empty() || !current.text.trim().is_empty() {
        sections.push(current);
    }
    for section in &mut sections {
        section.text = section.text.trim().to_owned();
    }
    sections
}

/// Does a section titled `title` fill the required section `required`?
fn fills(title: &str, required: &str) -> bool {
    let title = title.to_lowercase();
    let required = required.to_lowercase();
    title == required
        || SYNONYMS
            .iter()
            .any(|(name, names)| *name == required && names.contains(&title.as_str()))
}

/// Required titles with no section, or only an empty one.
pub fn missing(sections: &[NoteSection], required: &[String]) -> Vec<String> {
    required
        .iter()
        .filter(|required| {
            !sections
                .iter()
                .any(|section| fills(&section.title, required) && !section.text.trim().is_empty())
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apso() -> Vec<String> {
        ["Assessment", "Plan", "Subjective", "Objective"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn headings_in_the_forms_models_write_them() {
        let note = "ASSESSMENT:\nType 2 diabetes, controlled.\n\n## Plan\nContinue metformin.\n**Subjective:** Feels well.\nObjective: BP 128/80.\nICD-10-CM: E11.9";
        let sections = split(note, &apso());
        let titles: Vec<&str> = sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            ["ASSESSMENT", "Plan", "Subjective", "Objective", "ICD-10-CM"]
        );
        assert_eq!(sections[2].text, "Feels well.");
        assert_eq!(sections[3].text, "BP 128/80.");
        assert!(missing(&sections, &apso()).is_empty());
    }

    #[test]
    fn a_missing_or_empty_section_is_reported() {
        let note = "Assessment: Cough.\nPlan:\nSubjective: Cough for 3 days.";
        let sections = split(note, &apso());
        assert_eq!(missing(&sections, &apso()), ["Plan", "Objective"]);
    }

    #[test]
    fn abbreviations_and_combined_sections_count() {
        let note = "S: knee pain\nO: effusion\nAssessment and Plan: OA; NSAIDs";
        let sections = split(note, &apso());
        assert!(missing(&sections, &apso()).is_empty(), "{sections:?}");
    }

    #[test]
    fn prose_lines_are_not_headings() {
        let note = "Assessment: stable.\nThe patient says: it hurts when walking up stairs and at night.\nA\nPlan: rest.";
        let sections = split(note, &apso());
        assert_eq!(sections.len(), 2);
        assert!(sections[0].text.contains("it hurts"));
    }

    #[test]
    fn text_before_the_first_heading_is_kept() {
        let sections = split("Here is the note.\nPlan: rest.", &apso());
        assert_eq!(sections[0].title, "");
        assert_eq!(sections[0].text, "Here is the note.");
    }
}
