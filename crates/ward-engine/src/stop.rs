//! Stop strings over a token stream: text is released only once it can no longer be the start of
//! a stop string, so a client never sees part of one.

/// Scans generated text for stop strings, holding back what might still become one.
#[derive(Debug, Default)]
pub struct StopScanner {
    stop_strings: Vec<String>,
    held_back: String,
}

/// What to do with the text pushed so far.
#[derive(Debug, PartialEq, Eq)]
pub enum ScanOutcome {
    /// Emit this text and continue.
    Continue(String),
    /// Emit this text (the part before the stop string) and stop generating.
    Stopped(String),
}

impl StopScanner {
    pub fn new(stop_strings: &[String]) -> Self {
        let stop_strings = stop_strings
            .iter()
            .filter(|stop| !stop.is_empty())
            .cloned()
            .collect();
        StopScanner {
            stop_strings,
            held_back: String::new(),
        }
    }

    pub fn push(&mut self, piece: &str) -> ScanOutcome {
        self.held_back.push_str(piece);
        let earliest_stop = self
            .stop_strings
            .iter()
            .filter_map(|stop| self.held_back.find(stop.as_str()))
            .min();
        if let Some(stop_at) = earliest_stop {
            self.held_back.truncate(stop_at);
            return ScanOutcome::Stopped(std::mem::take(&mut self.held_back));
        }
        let keep = self.longest_partial_stop_suffix();
        let release_at = self.held_back.len() - keep;
        let rest = self.held_back.split_off(release_at);
        ScanOutcome::Continue(std::mem::replace(&mut self.held_back, rest))
    }

    /// Releases what was held back when generation ends for another reason.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held_back)
    }

    /// Length in bytes of the longest suffix of the held text that is a proper prefix of a stop
    /// string; always on a char boundary.
    fn longest_partial_stop_suffix(&self) -> usize {
        let text = self.held_back.as_str();
        let mut longest = 0;
        for stop in &self.stop_strings {
            let max = stop.len().saturating_sub(1).min(text.len());
            for length in (longest + 1..=max).rev() {
                let start = text.len() - length;
                if text.is_char_boundary(start) && stop.starts_with(&text[start..]) {
                    longest = length;
                    break;
                }
            }
        }
        longest
    }
}

/// Splits off the longest valid UTF-8 prefix of `pending`, leaving an incomplete trailing
/// sequence for the next token. Invalid bytes become U+FFFD rather than an error.
pub fn take_utf8_prefix(pending: &mut Vec<u8>) -> String {
    match std::str::from_utf8(pending) {
        Ok(text) => {
            let text = text.to_owned();
            pending.clear();
            text
        }
        Err(error) => {
            let valid = error.valid_up_to();
            match error.error_len() {
                // An incomplete sequence at the end: keep it for the next token.
                None => {
                    let rest = pending.split_off(valid);
                    String::from_utf8(std::mem::replace(pending, rest)).unwrap_or_default()
                }
                Some(_) => {
                    let text = String::from_utf8_lossy(pending).into_owned();
                    pending.clear();
                    text
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut scanner = StopScanner::new(&stops);
        let mut out = String::new();
        for piece in pieces {
            match scanner.push(piece) {
                ScanOutcome::Continue(text) => out.push_str(&text),
                ScanOutcome::Stopped(text) => {
                    out.push_str(&text);
                    return (out, true);
                }
            }
        }
        out.push_str(&scanner.finish());
        (out, false)
    }

    #[test]
    fn stop_string_split_across_tokens_is_never_emitted() {
        assert_eq!(
            run(&["END"], &["one two E", "N", "D three"]),
            ("one two ".into(), true)
        );
    }

    #[test]
    fn partial_match_that_diverges_is_released() {
        assert_eq!(run(&["END"], &["a E", "x b"]), ("a Ex b".into(), false));
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        assert_eq!(
            run(&["\n\n", "5"], &["1 2 3 4 5\n\n6"]),
            ("1 2 3 4 ".into(), true)
        );
    }

    #[test]
    fn no_stop_strings_passes_everything_through() {
        assert_eq!(run(&[], &["a", "b"]), ("ab".into(), false));
        assert_eq!(run(&[""], &["a", "b"]), ("ab".into(), false));
    }

    #[test]
    fn multibyte_text_near_a_stop_keeps_char_boundaries() {
        assert_eq!(run(&["éé!"], &["café", "é", "x"]), ("cafééx".into(), false));
        assert_eq!(run(&["é!"], &["café", "!"]), ("caf".into(), true));
    }

    #[test]
    fn utf8_prefix_waits_for_the_rest_of_a_character() {
        let bytes = "é".as_bytes();
        let mut pending = vec![b'a', bytes[0]];
        assert_eq!(take_utf8_prefix(&mut pending), "a");
        pending.push(bytes[1]);
        assert_eq!(take_utf8_prefix(&mut pending), "é");
        assert!(pending.is_empty());
        let mut invalid = vec![0xff, b'b'];
        assert_eq!(take_utf8_prefix(&mut invalid), "\u{fffd}b");
    }
}
