//! `[CLARIFY: ...]` items: what the model was told to flag instead of inventing. Each item is
//! returned without its brackets, in order, once.

use std::ops::Range;

/// The text of every `[CLARIFY: ...]` item in `text`, each once, in order.
pub fn items(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for (_, item) in spans(text) {
        if !item.is_empty() && !items.contains(&item) {
            items.push(item);
        }
    }
    items
}

/// Every `[CLARIFY: ...]` item with the bytes it covers, brackets included (case-insensitive
/// marker; an item ends at its matching `]`, an unclosed one at the end of its line).
pub fn spans(text: &str) -> Vec<(Range<usize>, String)> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = lower[from..].find("[clarify") {
        let opening = from + offset;
        let start = opening + "[clarify".len();
        let rest = &text[start..];
        let body = rest.trim_start_matches([':', ' ', '-']);
        let body_start = start + (rest.len() - body.len());
        let mut depth = 0usize;
        let mut end = None;
        for (index, character) in text[body_start..].char_indices() {
            match character {
                '[' => depth += 1,
                ']' if depth == 0 => {
                    end = Some(body_start + index);
                    break;
                }
                ']' => depth -= 1,
                '\n' => {
                    end = Some(body_start + index);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or(text.len());
        let item = text[body_start..end].trim().to_owned();
        let closed = text[end..].starts_with(']');
        found.push((opening..end + usize::from(closed), item));
        from = end.max(start);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_extracted_once_in_order() {
        let text = "Plan: start [CLARIFY: dose of lisinopril]. Recheck in [clarify - interval] weeks. [CLARIFY: dose of lisinopril]";
        assert_eq!(items(text), ["dose of lisinopril", "interval"]);
    }

    #[test]
    fn nested_brackets_and_unclosed_items() {
        assert_eq!(
            items("[CLARIFY: side [left/right]] then"),
            ["side [left/right]"]
        );
        assert_eq!(
            items("Allergies: [CLARIFY: not stated\nPlan: rest"),
            ["not stated"]
        );
        assert!(items("no flags here [CLARIFY:]").is_empty());
    }
}
