//! The complexity classifier: how hard a request is, from cheap features of its text (task verbs,
//! reasoning cues, requested length, question structure, conversation length), in microseconds.
//!
//! Each feature adds to a score; two thresholds from config cut the score into `simple`,
//! `moderate` and `complex`. The weights were calibrated on the dev split of
//! `data/complexity.jsonl`; `docs/routing.md` reports accuracy on its held-out test split.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use ward_core::{ChatRole, GenerationRequest, Prompt};

/// How hard a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Complexity {
    Simple,
    Moderate,
    Complex,
}

impl Complexity {
    pub fn as_str(self) -> &'static str {
        match self {
            Complexity::Simple => "simple",
            Complexity::Moderate => "moderate",
            Complexity::Complex => "complex",
        }
    }

    pub fn parse(text: &str) -> Option<Complexity> {
        match text {
            "simple" => Some(Complexity::Simple),
            "moderate" => Some(Complexity::Moderate),
            "complex" => Some(Complexity::Complex),
            _ => None,
        }
    }
}

/// Where the score is cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Scores from here up are at least `moderate`.
    pub moderate_from: f32,
    /// Scores from here up are `complex`.
    pub complex_from: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            moderate_from: 0.5,
            complex_from: 2.2,
        }
    }
}

/// The class and the score it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    pub complexity: Complexity,
    pub score: f32,
}

/// Cue phrases (matched on word boundaries, lowercase) and what each adds to the score.
const CUES: &[(&str, f32)] = &[
    // Asking for little.
    ("in one word", -2.0),
    ("one word", -1.5),
    ("one sentence", -1.0),
    ("one line", -1.0),
    ("yes or no", -1.5),
    ("briefly", -0.3),
    ("just the", -1.0),
    ("just", -0.8),
    ("what is the member", -0.5),
    ("only the", -0.5),
    ("what does", -0.5),
    ("what is the", -0.3),
    ("stand for", -1.0),
    ("abbreviation", -0.5),
    ("spell", -0.5),
    ("convert", -0.3),
    ("sort", -0.5),
    ("alphabetical", -0.5),
    ("alphabetically", -0.5),
    ("capitalize", -0.5),
    ("fix the grammar", -0.5),
    ("fix the spelling", -0.5),
    ("translate", -0.2),
    ("thanks", -0.5),
    ("thank you", -0.5),
    ("hello", -0.5),
    ("what time", -0.5),
    ("icd-10 code for", -0.5),
    ("define", -0.3),
    // Composing something.
    ("summarize", 1.2),
    ("summarise", 1.2),
    ("summary", 1.0),
    ("draft", 1.2),
    ("write", 1.0),
    ("rewrite", 0.6),
    ("letter", 0.6),
    ("email", 0.5),
    ("message", 0.3),
    ("explain", 1.0),
    ("describe", 0.8),
    ("extract", 0.8),
    ("json", 0.5),
    ("outline", 0.8),
    ("checklist", 0.8),
    ("compare", 1.2),
    ("difference between", 0.8),
    ("soap note", 1.2),
    ("apso", 1.2),
    ("progress note", 1.2),
    ("discharge", 0.6),
    ("dictation", 0.8),
    ("function", 0.6),
    ("script", 0.6),
    ("list the", 0.3),
    ("create", 0.8),
    ("make a", 0.5),
    ("ideas", 0.6),
    ("questions", 0.4),
    ("schedule", 0.4),
    ("table", 0.5),
    ("narrative", 0.8),
    ("turn this", 0.8),
    ("turn these", 0.8),
    ("put this", 0.6),
    ("convert this", 1.0),
    ("this code", 1.0),
    ("paragraph", 0.5),
    ("paragraphs", 0.6),
    ("format", 0.4),
    ("show your work", 1.0),
    ("group these", 0.8),
    ("which of these", 0.8),
    ("how do i", 0.5),
    ("how to", 0.5),
    ("steps", 0.5),
    ("instructions", 0.5),
    // Reasoning, weighing, designing.
    ("differential", 2.0),
    ("ddx", 2.0),
    ("diagnosis", 0.8),
    ("workup", 1.0),
    ("work-up", 1.0),
    ("management", 0.8),
    ("treatment options", 1.5),
    ("contraindication", 1.2),
    ("contraindications", 1.2),
    ("interaction", 1.0),
    ("interactions", 1.0),
    ("analyze", 1.5),
    ("analyse", 1.5),
    ("analysis", 1.5),
    ("evaluate", 1.2),
    ("assess", 0.8),
    ("justify", 1.5),
    ("justification", 1.5),
    ("reasoning", 1.5),
    ("step by step", 1.5),
    ("step-by-step", 1.5),
    ("prove", 2.0),
    ("proof", 1.5),
    ("derive", 1.5),
    ("design", 1.5),
    ("architecture", 1.2),
    ("implement", 1.2),
    ("optimize", 1.2),
    ("optimise", 1.2),
    ("trade-off", 1.5),
    ("trade-offs", 1.5),
    ("tradeoffs", 1.5),
    ("pros and cons", 1.5),
    ("weigh", 1.5),
    ("versus", 0.8),
    ("vs", 0.8),
    ("why", 1.0),
    ("what if", 1.0),
    ("should we", 1.0),
    ("should i", 0.8),
    ("recommend", 1.0),
    ("plan", 1.0),
    ("strategy", 1.2),
    ("root cause", 2.0),
    ("synthesize", 1.5),
    ("synthesise", 1.5),
    ("literature", 1.0),
    ("evidence", 1.0),
    ("critique", 1.5),
    ("conflicting", 1.5),
    ("ambiguous", 1.2),
    ("calculate", 1.0),
    ("estimate", 0.8),
    ("protocol", 1.0),
    ("policy", 0.8),
    ("comprehensive", 1.5),
    ("detailed", 1.0),
    ("in depth", 1.5),
    ("in-depth", 1.5),
    ("thorough", 1.2),
    ("tests", 0.5),
    ("unit tests", 1.0),
    ("edge cases", 1.0),
    ("considering", 0.8),
    ("given that", 0.8),
    ("taking into account", 1.0),
    ("identify", 0.8),
    ("reconcile", 1.2),
    ("discrepancies", 1.0),
    ("diagnose", 1.5),
    ("compute", 1.0),
    ("assumptions", 1.2),
    ("assumption", 1.0),
    ("what now", 1.5),
    ("next steps", 1.0),
    ("titrate", 1.0),
    ("simulation", 1.2),
    ("parser", 1.0),
    ("algorithm", 1.0),
    ("curriculum", 1.0),
    ("projection", 1.0),
    ("stepwise", 1.5),
    ("appeal", 1.0),
    ("how would you", 1.0),
    ("approach", 0.8),
    ("prioritize", 1.0),
    ("prioritise", 1.0),
    ("discuss", 1.0),
    ("cause", 0.8),
    ("then", 0.5),
    ("risk", 0.5),
    ("risks", 0.6),
];

struct CueMatcher {
    automaton: AhoCorasick,
}

fn cue_matcher() -> &'static CueMatcher {
    static MATCHER: OnceLock<CueMatcher> = OnceLock::new();
    MATCHER.get_or_init(|| CueMatcher {
        automaton: AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(CUES.iter().map(|(phrase, _)| phrase))
            .expect("cue phrases build an automaton"),
    })
}

/// Scores requests; cheap to copy.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComplexityClassifier {
    thresholds: Thresholds,
}

impl ComplexityClassifier {
    pub fn new(thresholds: Thresholds) -> Self {
        ComplexityClassifier { thresholds }
    }

    pub fn classify(&self, request: &GenerationRequest) -> Assessment {
        let (task, turns) = match &request.prompt {
            Prompt::Chat(messages) => {
                let task = messages
                    .iter()
                    .rev()
                    .find(|message| message.role == ChatRole::User)
                    .map_or("", |message| message.content.as_str());
                (task, messages.len())
            }
            Prompt::Text { text, .. } => (text.as_str(), 1),
        };
        let mut score = score_text(task);
        if turns > 6 {
            score += 0.5;
        }
        match request.max_tokens {
            Some(limit) if limit >= 2000 => score += 1.0,
            Some(limit) if limit <= 32 => score -= 1.0,
            _ => {}
        }
        self.assess(score)
    }

    /// The class of a score under these thresholds.
    pub fn assess(&self, score: f32) -> Assessment {
        let complexity = if score >= self.thresholds.complex_from {
            Complexity::Complex
        } else if score >= self.thresholds.moderate_from {
            Complexity::Moderate
        } else {
            Complexity::Simple
        };
        Assessment { complexity, score }
    }
}

/// The score of one task text.
pub fn score_text(text: &str) -> f32 {
    let lower = text.to_lowercase();
    let bytes = lower.as_bytes();
    let mut score = 0.0;
    let mut seen = [false; CUES.len()];
    for found in cue_matcher().automaton.find_iter(&lower) {
        let before = found.start().checked_sub(1).map(|at| bytes[at]);
        let after = bytes.get(found.end()).copied();
        let boundary = |byte: Option<u8>| byte.is_none_or(|byte| !byte.is_ascii_alphanumeric());
        let index = found.pattern().as_usize();
        if boundary(before) && boundary(after) && !seen[index] {
            seen[index] = true;
            score += CUES[index].1;
        }
    }
    let words = lower.split_whitespace().count();
    score += match words {
        0..=6 => -0.5,
        7..=40 => 0.0,
        41..=150 => 0.3,
        151..=400 => 0.6,
        _ => 1.0,
    };
    let questions = lower.matches('?').count();
    if questions >= 3 {
        score += 1.0;
    } else if questions == 2 {
        score += 0.4;
    }
    let numbers = lower
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter(|piece| piece.bytes().any(|byte| byte.is_ascii_digit()))
        .count();
    if numbers >= 12 {
        score += 0.8;
    } else if numbers >= 6 {
        score += 0.4;
    }
    let numbered = lower
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && digits < 3 && matches!(line.as_bytes().get(digits), Some(b'.' | b')'))
        })
        .count();
    if numbered >= 3 {
        score += 0.5;
    }
    if let Some(words) = requested_words(&lower) {
        if words >= 800 {
            score += 2.0;
        } else if words >= 300 {
            score += 1.0;
        } else if words <= 50 {
            score -= 0.5;
        }
    }
    score
}

/// "in 2000 words", "500-word": the length a prompt asks for.
fn requested_words(lower: &str) -> Option<u32> {
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(offset) = lower[from..].find("word") {
        let at = from + offset;
        from = at + 4;
        let before = lower[..at].trim_end_matches([' ', '-']);
        let digits = before
            .bytes()
            .rev()
            .take_while(|byte| byte.is_ascii_digit() || *byte == b',')
            .count();
        if digits == 0 || at == 0 || !matches!(bytes[at - 1], b' ' | b'-') {
            continue;
        }
        let number: String = before[before.len() - digits..]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if let Ok(words) = number.parse() {
            return Some(words);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use ward_core::ChatMessage;

    use super::*;

    fn classify(text: &str) -> Complexity {
        let request = GenerationRequest::chat("auto", vec![ChatMessage::new(ChatRole::User, text)]);
        ComplexityClassifier::default()
            .classify(&request)
            .complexity
    }

    #[test]
    fn classes_of_typical_requests() {
        assert_eq!(classify("What does BID stand for?"), Complexity::Simple);
        assert_eq!(classify("hello"), Complexity::Simple);
        assert_eq!(
            classify("Draft a short letter to a patient reminding them of their flu shot."),
            Complexity::Moderate
        );
        assert_eq!(
            classify("55M with exertional chest pain, normal ECG and troponin. Give a differential diagnosis and justify the workup, considering his CKD."),
            Complexity::Complex
        );
    }

    #[test]
    fn requested_length_counts() {
        assert_eq!(
            requested_words("write it in 2,000 words please"),
            Some(2000)
        );
        assert_eq!(requested_words("a 300-word summary"), Some(300));
        assert_eq!(requested_words("in a few words"), None);
        assert_eq!(requested_words("password"), None);
    }

    #[test]
    fn cues_need_word_boundaries_and_count_once() {
        assert_eq!(score_text("specialist"), score_text("generalist"));
        let once = score_text("why is that so, tell me about this thing");
        let twice = score_text("why is that so, why tell me about this");
        assert_eq!(once, twice);
    }

    #[test]
    fn thresholds_cut_the_score() {
        let classifier = ComplexityClassifier::new(Thresholds {
            moderate_from: 1.0,
            complex_from: 2.0,
        });
        assert_eq!(classifier.assess(0.99).complexity, Complexity::Simple);
        assert_eq!(classifier.assess(1.0).complexity, Complexity::Moderate);
        assert_eq!(classifier.assess(2.5).complexity, Complexity::Complex);
    }
}
