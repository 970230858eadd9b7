//! One scan of a text: its ASCII-lowercased copy, its word tokens and the findings so far.

use regex::{Captures, Match, Regex};

use crate::finding::{Finding, Recogniser};
use crate::lexicon::{Kinds, Lexicon};
use crate::PhiLabel;

/// How a word is written; names and places are usually capitalised, but chat text often is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Case {
    Lower,
    /// First letter upper case, at least one lower-case letter after it.
    Capitalised,
    /// Every letter upper case (two letters or more).
    Upper,
    /// A single upper-case letter (an initial when a full stop follows).
    Letter,
    /// Digits, or a mix the other shapes do not describe.
    Other,
}

/// A set of bytes, tested with one load: what a run of digits may hold besides its digits.
pub(crate) struct ByteSet([bool; 256]);

/// Every byte a written number may hold: digits, separators, the letters of "ext" and
/// "extension", and every non-ASCII byte (wide spaces). The sets that
/// `Scan::matches_in_digit_runs` is given lie within it.
pub(crate) const NUMBER_BYTES: ByteSet =
    ByteSet::of(b"0123456789\t\n\x0b\x0c\r .-()+extnsio", true);

impl ByteSet {
    /// The set of `bytes`, and of every non-ASCII byte when `non_ascii` is true.
    pub const fn of(bytes: &[u8], non_ascii: bool) -> ByteSet {
        let mut set = [false; 256];
        let mut at = 0;
        while at < bytes.len() {
            set[bytes[at] as usize] = true;
            at += 1;
        }
        let mut byte = 0x80;
        while non_ascii && byte < 256 {
            set[byte] = true;
            byte += 1;
        }
        ByteSet(set)
    }

    #[inline]
    pub fn has(&self, byte: u8) -> bool {
        self.0[usize::from(byte)]
    }
}

/// A word: a run of letters and digits, with inner apostrophes and hyphens ("O'Brien",
/// "Smith-Jones"). A trailing possessive "'s" is outside `core_end`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub start: usize,
    pub end: usize,
    pub core_end: usize,
    pub case: Case,
    pub has_digit: bool,
    pub has_alpha: bool,
    /// An apostrophe or hyphen inside ("O'Brien", "patient-id"): a word starts after it too.
    pub joined: bool,
    /// A letter or digit beyond ASCII inside ("José"): an ASCII word boundary may fall within.
    pub wide: bool,
    /// The word lists the lowercased core is in.
    pub kinds: Kinds,
    /// What lies between this token and the next (or the text end).
    pub gap: Gap,
}

/// The shape of the characters after a token, worked out once by the tokenizer: the checks that
/// every recogniser makes between two words cost a bit test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Gap(u8);

impl Gap {
    /// One to three spaces or tabs and nothing else.
    pub const SPACES: Gap = Gap(1);
    /// A line break.
    pub const NEWLINE: Gap = Gap(1 << 1);
    /// A line break or a mark that ends a sentence or opens a new part (". ! ? : ; \" * • (").
    pub const BREAK: Gap = Gap(1 << 2);
    /// A full stop first.
    pub const FULL_STOP: Gap = Gap(1 << 3);
    /// A comma and white space, nothing else.
    pub const COMMA: Gap = Gap(1 << 4);

    /// The shape of `gap`; most words are followed by one space, a comma or a full stop, which
    /// are told apart inline.
    #[inline]
    fn of(gap: &str) -> Gap {
        match gap.as_bytes() {
            b" " => Gap::SPACES,
            b", " => Gap::COMMA,
            b". " => Gap(Gap::FULL_STOP.0 | Gap::BREAK.0),
            _ => Gap::of_any(gap),
        }
    }

    fn of_any(gap: &str) -> Gap {
        let bytes = gap.as_bytes();
        let mut flags = 0;
        if bytes.first() == Some(&b'.') {
            flags |= Gap::FULL_STOP.0;
        }
        let mut spaces = (1..=3).contains(&bytes.len());
        for &byte in bytes {
            match byte {
                b' ' | b'\t' => continue,
                b'\n' => flags |= Gap::NEWLINE.0 | Gap::BREAK.0,
                b'.' | b'!' | b'?' | b':' | b';' | b'"' | b'*' | b'(' => flags |= Gap::BREAK.0,
                _ => {}
            }
            spaces = false;
        }
        if spaces {
            flags |= Gap::SPACES.0;
        }
        if !gap.is_ascii() && gap.contains('\u{2022}') {
            flags |= Gap::BREAK.0;
        }
        if gap.trim() == "," {
            flags |= Gap::COMMA.0;
        }
        Gap(flags)
    }

    pub fn has(self, flag: Gap) -> bool {
        self.0 & flag.0 != 0
    }
}

impl Case {
    /// The shape of a word from its letters' and digits' classes or-ed together, its number of
    /// capitals, and whether a capital starts it with a lower-case letter (or an apostrophe) next.
    #[inline]
    fn of(seen: u8, uppers: u32, capitalised: bool) -> Case {
        let lowers = seen & LOWER != 0;
        match uppers {
            _ if seen & DIGIT != 0 => Case::Other,
            1 if !lowers => Case::Letter,
            0 => Case::Lower,
            _ if !lowers => Case::Upper,
            _ if capitalised => Case::Capitalised,
            _ => Case::Other,
        }
    }
}

impl Token {
    pub fn possessive(&self) -> bool {
        self.core_end != self.end
    }
}

pub(crate) struct Scan<'t> {
    pub text: &'t str,
    /// `text` with ASCII letters lowercased: same length, same character boundaries.
    pub lower: String,
    pub tokens: Vec<Token>,
    /// The indices of the tokens that hold a digit, in order.
    pub numbers: Vec<usize>,
    /// The maximal runs of `NUMBER_BYTES` that hold a digit, with their digit counts.
    number_runs: Vec<(usize, usize, usize)>,
    /// The indices of the tokens `word_starts` asks about, in order: those that hold a digit,
    /// are split by an apostrophe, hyphen or wide letter, or are a `Kinds::PATTERN_OPENER`.
    openers: Vec<usize>,
    pub findings: Vec<Finding>,
    /// Byte ranges known not to be PHI (state and country names): no name may overlap them.
    pub not_phi: Vec<(usize, usize)>,
}

impl<'t> Scan<'t> {
    pub fn new(text: &'t str, lexicon: &Lexicon) -> Self {
        let lower = text.to_ascii_lowercase();
        let mut tokens = tokenize(text);
        let mut numbers = Vec::with_capacity(tokens.len() / 2);
        let mut openers = Vec::with_capacity(tokens.len() / 2);
        for (index, token) in tokens.iter_mut().enumerate() {
            if token.has_alpha {
                token.kinds = lexicon.kinds(&lower[token.start..token.core_end]);
            }
            if token.has_digit {
                numbers.push(index);
            }
            if token.has_digit
                || token.joined
                || token.wide
                || token.kinds.any(Kinds::PATTERN_OPENER)
            {
                openers.push(index);
            }
        }
        let number_runs = runs_of_number_bytes(lower.as_bytes(), &tokens, &numbers);
        Scan {
            text,
            lower,
            tokens,
            numbers,
            number_runs,
            openers,
            findings: Vec::new(),
            not_phi: Vec::new(),
        }
    }

    /// Whether token `index` is in any of the word lists `kinds`.
    #[inline]
    pub fn is(&self, index: usize, kinds: Kinds) -> bool {
        self.tokens[index].kinds.any(kinds)
    }

    pub fn push(
        &mut self,
        start: usize,
        end: usize,
        label: PhiLabel,
        recogniser: Recogniser,
        confidence: f32,
    ) {
        debug_assert!(self.text.is_char_boundary(start) && self.text.is_char_boundary(end));
        self.findings
            .push(Finding::new(start, end, label, recogniser, confidence));
    }

    /// The lowercased core of token `index` (without a possessive "'s").
    #[inline]
    pub fn word(&self, index: usize) -> &str {
        let token = &self.tokens[index];
        &self.lower[token.start..token.core_end]
    }

    /// The original spelling of token `index`.
    pub fn original(&self, index: usize) -> &str {
        let token = &self.tokens[index];
        &self.text[token.start..token.core_end]
    }

    /// The characters between token `index - 1` and token `index` (or the text start).
    #[inline]
    pub fn gap_before(&self, index: usize) -> &str {
        let from = if index == 0 {
            0
        } else {
            self.tokens[index - 1].end
        };
        &self.text[from..self.tokens[index].start]
    }

    /// The characters between token `index` and the next token (or the text end).
    #[inline]
    pub fn gap_after(&self, index: usize) -> &str {
        let to = self
            .tokens
            .get(index + 1)
            .map_or(self.text.len(), |next| next.start);
        &self.text[self.tokens[index].end..to]
    }

    /// True when token `index` starts a sentence, a line or the text.
    pub fn starts_sentence(&self, index: usize) -> bool {
        if index == 0 || self.tokens[index - 1].gap.has(Gap::BREAK) {
            return true;
        }
        // Dictated punctuation: "... rhythm period fang reports", "new paragraph", "next line".
        matches!(self.word(index - 1), "period" | "paragraph" | "line")
            && self.gap_before(index) == " "
    }

    /// True when a clinical head noun ("disease", "syndrome") follows token `last` after a space:
    /// the words up to `last` are then an eponym ("Crohn disease", "Lyme disease"), not a person
    /// or a place.
    pub fn head_noun_after(&self, last: usize) -> bool {
        last + 1 < self.tokens.len()
            && self.joined_by_space(last)
            && self.is(last + 1, Kinds::HEAD_NOUN)
    }

    /// True when a line break follows token `index`.
    pub fn line_ends_after(&self, index: usize) -> bool {
        self.tokens[index].gap.has(Gap::NEWLINE)
    }

    /// True when a comma and white space alone separate token `index` from the next.
    pub fn comma_after(&self, index: usize) -> bool {
        self.tokens[index].gap.has(Gap::COMMA)
    }

    /// True when a full stop follows token `index` right away.
    pub fn full_stop_after(&self, index: usize) -> bool {
        self.tokens[index].gap.has(Gap::FULL_STOP)
    }

    /// True when only spaces separate tokens `index` and `index + 1`.
    pub fn joined_by_space(&self, index: usize) -> bool {
        self.tokens[index].gap.has(Gap::SPACES)
    }

    /// The first match of `pattern` in the lowercased text from token `first` to the end of token
    /// `last` (clamped to the text), kept only when its `group` starts at token `anchor`: a pattern
    /// that needs a rare word runs around that word instead of over the whole text.
    pub fn captures_around(
        &self,
        pattern: &Regex,
        (first, last): (usize, usize),
        group: usize,
        anchor: usize,
    ) -> Option<Captures<'_>> {
        let to = self.tokens[last.min(self.tokens.len() - 1)].end;
        let anchor_start = self.tokens[anchor].start;
        pattern
            .captures_at(&self.lower[..to], self.tokens[first].start)
            .filter(|captures| captures.get(group).map(|m| m.start()) == Some(anchor_start))
    }

    /// The matches of `pattern` in the maximal runs of bytes that `allowed` (a subset of
    /// `NUMBER_BYTES`) accepts that hold `least_digits` ASCII digits or more and
    /// `least_separators` other bytes or more. A pattern that matches only such bytes, and needs
    /// that many digits and separators for a match worth having (an SSN, a phone number, an IPv4
    /// address), finds exactly what it finds over the whole text, and only the few numbers in a
    /// text are searched.
    pub fn matches_in_digit_runs<'s>(
        &'s self,
        pattern: &Regex,
        allowed: &ByteSet,
        (least_digits, least_separators): (usize, usize),
    ) -> Vec<Match<'s>> {
        debug_assert!((0..=u8::MAX).all(|byte| !allowed.has(byte) || NUMBER_BYTES.has(byte)));
        let bytes = self.lower.as_bytes();
        let mut found = Vec::new();
        // A run of `allowed` bytes lies within a run of number bytes, which holds its digits.
        for &(wide_start, wide_end, wide_digits) in &self.number_runs {
            if wide_digits < least_digits {
                continue;
            }
            let mut at = wide_start;
            while at < wide_end {
                let start = at;
                let mut digits = 0;
                while at < wide_end && allowed.has(bytes[at]) {
                    digits += usize::from(bytes[at].is_ascii_digit());
                    at += 1;
                }
                let end = at;
                at += 1;
                if digits < least_digits.max(1) || end - start - digits < least_separators {
                    continue;
                }
                // Both ends are ASCII bytes or the text's ends, so character boundaries.
                let haystack = &self.lower[..end];
                let mut from = start;
                while let Some(matched) = pattern.find_at(haystack, from) {
                    from = matched.end().max(from + 1);
                    found.push(matched);
                    if from > end {
                        break;
                    }
                }
            }
        }
        found
    }

    /// Where an ASCII word starts, in order: the start of each token that `wanted` accepts, and
    /// the start and every word start inside each token joined by an apostrophe or hyphen
    /// ("middle-aged") or holding a non-ASCII letter ("épractice"). A pattern that opens with an
    /// ASCII word boundary and a letter or digit can only match from these.
    ///
    /// `wanted` may accept only tokens that hold a digit or are a `Kinds::PATTERN_OPENER`: the
    /// others are never asked about.
    pub fn word_starts(&self, wanted: impl Fn(usize, &Token) -> bool) -> Vec<usize> {
        debug_assert!(self.tokens.iter().enumerate().all(|(index, token)| {
            token.has_digit || token.kinds.any(Kinds::PATTERN_OPENER) || !wanted(index, token)
        }));
        let bytes = self.lower.as_bytes();
        let word_start = |at: usize| {
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_')
        };
        let mut starts = Vec::with_capacity(64);
        for &index in &self.openers {
            let token = &self.tokens[index];
            let split = token.joined | token.wide;
            if (split || wanted(index, token)) && word_start(token.start) {
                starts.push(token.start);
            }
            if split {
                let inner = (token.start + 1..token.end)
                    .filter(|at| bytes[*at].is_ascii_alphanumeric() && word_start(*at));
                starts.extend(inner);
            }
        }
        starts
    }

    /// The matches of `anchored` (a pattern that starts with `^`) tried at each of `starts` in
    /// order, each from the end of the last: what a search of the whole text finds when every
    /// match can only start at one of `starts`. Each comes with the offset its positions are
    /// relative to.
    pub fn anchored_captures<'s>(
        &'s self,
        anchored: &Regex,
        starts: &[usize],
    ) -> Vec<(usize, Captures<'s>)> {
        self.tried_at(starts, |_, rest| {
            // Most starts match nothing: finding that out allocates no captures.
            if !anchored.is_match(rest) {
                return None;
            }
            let captures = anchored.captures(rest)?;
            let end = captures.get(0).map_or(0, |whole| whole.end());
            Some((captures, end))
        })
    }

    /// The spans (in the text) that `anchored`, a pattern with no group worth reading, matches
    /// when tried as `anchored_captures` tries it.
    pub fn anchored_matches(&self, anchored: &Regex, starts: &[usize]) -> Vec<(usize, usize)> {
        let spans = self.tried_at(starts, |_, rest| {
            let whole = anchored.find(rest)?;
            Some(((whole.start(), whole.end()), whole.end()))
        });
        spans
            .into_iter()
            .map(|(at, (start, end))| (at + start, at + end))
            .collect()
    }

    /// What `try_at` finds in the text from each of `starts` in order, skipping the starts inside
    /// the last thing found. `try_at` is given a start and the text from it, and gives what it
    /// found and where that ends, from its start; a start it refuses hides none after it.
    pub fn tried_at<'s, T>(
        &'s self,
        starts: &[usize],
        try_at: impl Fn(usize, &'s str) -> Option<(T, usize)>,
    ) -> Vec<(usize, T)> {
        let mut found = Vec::new();
        let mut from = 0;
        for &at in starts {
            if at < from {
                continue;
            }
            if let Some((thing, end)) = try_at(at, &self.lower[at..]) {
                from = at + end.max(1);
                found.push((at, thing));
            }
        }
        found
    }

    /// The index of the first token that starts at or after byte `offset`.
    pub fn token_at_or_after(&self, offset: usize) -> usize {
        self.tokens.partition_point(|token| token.start < offset)
    }
}

/// What a byte is to the tokenizer, as bits a word's bytes are or-ed into: every byte of a
/// multi-byte character is `WIDE`, ASCII punctuation and spaces are 0.
const UPPER: u8 = 1;
const LOWER: u8 = 1 << 1;
const DIGIT: u8 = 1 << 2;
const WIDE: u8 = 1 << 3;
const ASCII_ALPHANUMERIC: u8 = UPPER | LOWER | DIGIT;

static BYTE_CLASS: [u8; 256] = {
    let mut classes = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        classes[byte] = match byte as u8 {
            b'A'..=b'Z' => UPPER,
            b'a'..=b'z' => LOWER,
            b'0'..=b'9' => DIGIT,
            0x80.. => WIDE,
            _ => 0,
        };
        byte += 1;
    }
    classes
};

pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::with_capacity(text.len() / 5 + 1);
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut gap_from = 0;
    while at < bytes.len() {
        // Spaces and punctuation, the commonest bytes between words, without decoding.
        let class = BYTE_CLASS[usize::from(bytes[at])];
        if class == 0 {
            at += 1;
            continue;
        }
        let (first, width) = char_at(text, at);
        if class == WIDE && !first.is_alphanumeric() {
            at += width;
            continue;
        }
        if let Some(previous) = tokens.last_mut() {
            previous.gap = Gap::of(&text[gap_from..at]);
        }
        let start = at;
        // Most words are ASCII letters and digits up to a space or a punctuation mark that joins
        // nothing: those need no decoding.
        if class != WIDE {
            let (mut seen, mut uppers) = (0, 0u32);
            at = ascii_run(bytes, at, &mut seen, &mut uppers);
            // An apostrophe or hyphen joins what follows when that may be a letter.
            let joins = |byte: &u8| {
                matches!(byte, b'\'' | b'-')
                    && bytes
                        .get(at + 1)
                        .is_some_and(|next| next.is_ascii_alphabetic() || !next.is_ascii())
            };
            if bytes
                .get(at)
                .is_none_or(|byte| byte.is_ascii() && !joins(byte))
            {
                let capitalised = || bytes.get(start + 1).is_some_and(u8::is_ascii_lowercase);
                tokens.push(Token {
                    start,
                    end: at,
                    core_end: at,
                    case: Case::of(seen, uppers, class == UPPER && capitalised()),
                    has_digit: seen & DIGIT != 0,
                    has_alpha: seen & (UPPER | LOWER) != 0,
                    joined: false,
                    wide: false,
                    kinds: Kinds::default(),
                    gap: Gap::default(),
                });
                gap_from = at;
                continue;
            }
            at = start;
        }
        // The classes of the word's letters and digits or-ed together, and its capitals counted.
        let (mut seen, mut uppers) = (wide_class(first, class) | (class & WIDE), 0u32);
        uppers += u32::from(seen & UPPER);
        at += width;
        let mut joined = false;
        loop {
            at = ascii_run(bytes, at, &mut seen, &mut uppers);
            if at == bytes.len() {
                break;
            }
            let (c, width) = char_at(text, at);
            // A combining mark ("i\u{307}") belongs to the letter before it.
            if c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c) {
                let class = wide_class(c, WIDE);
                seen |= class | WIDE;
                uppers += u32::from(class & UPPER);
                at += width;
                continue;
            }
            // An apostrophe or hyphen stays inside a word when a letter follows it.
            if matches!(c, '\'' | '\u{2019}' | '-')
                && bytes.len() > at + width
                && char_at(text, at + width).0.is_alphabetic()
            {
                at += width;
                joined = true;
                continue;
            }
            break;
        }
        let end = at;
        let word = &text[start..end];
        let core_end = if matches!(bytes[end - 1], b's' | b'S') {
            ["'s", "\u{2019}s", "'S"]
                .iter()
                .find(|suffix| word.len() > suffix.len() + 1 && word.ends_with(*suffix))
                .map_or(end, |suffix| end - suffix.len())
        } else {
            end
        };
        // "McDonald", "O'Brien" are capitalised; "ADLs" is an abbreviation.
        let capitalised = || {
            first.is_uppercase()
                && word[width..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_lowercase() || c == '\'' || c == '\u{2019}')
        };
        tokens.push(Token {
            start,
            end,
            core_end,
            case: Case::of(seen, uppers, capitalised()),
            has_digit: seen & DIGIT != 0,
            has_alpha: uppers > 0 || seen & LOWER != 0,
            joined,
            wide: seen & WIDE != 0,
            kinds: Kinds::default(),
            gap: Gap::default(),
        });
        gap_from = end;
    }
    if let Some(last) = tokens.last_mut() {
        last.gap = Gap::of(&text[gap_from..]);
    }
    tokens
}

/// The maximal runs of `NUMBER_BYTES` in `bytes` around the digits of the `numbers` tokens,
/// with the digits each holds.
fn runs_of_number_bytes(
    bytes: &[u8],
    tokens: &[Token],
    numbers: &[usize],
) -> Vec<(usize, usize, usize)> {
    let mut runs = Vec::new();
    let mut searched_to = 0;
    for token in numbers.iter().map(|index| &tokens[*index]) {
        let mut from = token.start.max(searched_to);
        while let Some(digit) = (from..token.end).find(|at| bytes[*at].is_ascii_digit()) {
            let mut digits = 0;
            let mut start = digit;
            while start > searched_to && NUMBER_BYTES.has(bytes[start - 1]) {
                start -= 1;
                digits += usize::from(bytes[start].is_ascii_digit());
            }
            let mut end = digit;
            while end < bytes.len() && NUMBER_BYTES.has(bytes[end]) {
                digits += usize::from(bytes[end].is_ascii_digit());
                end += 1;
            }
            (searched_to, from) = (end, end);
            runs.push((start, end, digits));
        }
    }
    runs
}

/// The end of the run of ASCII letters and digits from `at`; their classes are or-ed into
/// `seen` and their capitals counted into `uppers`.
#[inline]
fn ascii_run(bytes: &[u8], mut at: usize, seen: &mut u8, uppers: &mut u32) -> usize {
    while let Some(&byte) = bytes.get(at) {
        let class = BYTE_CLASS[usize::from(byte)];
        if class & ASCII_ALPHANUMERIC == 0 {
            break;
        }
        *seen |= class;
        *uppers += u32::from(class & UPPER);
        at += 1;
    }
    at
}

/// The class of a character: the byte's own for ASCII, worked out for a wider letter or digit
/// (0 for one that is neither upper nor lower case nor numeric).
#[inline]
fn wide_class(c: char, class: u8) -> u8 {
    match class {
        WIDE if c.is_uppercase() => UPPER,
        WIDE if c.is_lowercase() => LOWER,
        WIDE if c.is_numeric() => DIGIT,
        WIDE => 0,
        ascii => ascii,
    }
}

impl Scan<'_> {
    /// True when neither side of `start..end` continues a word or number.
    pub fn isolated(&self, start: usize, end: usize) -> bool {
        let before = self.text[..start].chars().next_back();
        let after = self.text[end..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    }

    /// Whether a number goes on past `start..end` through one of `separators` ("1.555.123.4567.8",
    /// "12.5" before a match, "3/5/2023/1"): then the match is part of something longer.
    pub fn continues_number(&self, start: usize, end: usize, separators: &[u8]) -> bool {
        let bytes = self.text.as_bytes();
        let digit_at = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
        let before = start >= 2 && separators.contains(&bytes[start - 1]) && digit_at(start - 2);
        let after = bytes.get(end).is_some_and(|b| separators.contains(b)) && digit_at(end + 1);
        before || after
    }

    /// The lowercased text in the `window` bytes before `start` (rounded to a character boundary).
    pub fn lower_before(&self, start: usize, window: usize) -> &str {
        let mut from = start.saturating_sub(window);
        while !self.lower.is_char_boundary(from) {
            from -= 1;
        }
        &self.lower[from..start]
    }

    /// Whether one of `cues` occurs as a whole word in the `window` bytes before `start`.
    pub fn cue_before(&self, start: usize, window: usize, cues: &[&str]) -> bool {
        let before = self.lower_before(start, window);
        cues.iter().any(|cue| contains_word(before, cue))
    }
}

/// Whether `needle` occurs in `haystack` with no letter or digit right before or after it.
/// Haystacks are short windows before a match, so a plain byte comparison at each position
/// beats building a substring searcher per call.
pub(crate) fn contains_word(haystack: &str, needle: &str) -> bool {
    let (bytes, wanted) = (haystack.as_bytes(), needle.as_bytes());
    let Some(&head) = wanted.first() else {
        return false;
    };
    let alphanumeric_at = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphanumeric);
    (0..(bytes.len() + 1).saturating_sub(wanted.len())).any(|at| {
        bytes[at] == head
            && bytes[at..at + wanted.len()] == *wanted
            && !(at > 0 && alphanumeric_at(at - 1))
            && !alphanumeric_at(at + wanted.len())
    })
}

/// Whether `text` starts with the ASCII `word` (or phrase) and no letter or digit follows it.
/// Bytes are compared one by one: most candidates differ in the first, and a byte loop leaves
/// them there without a call to compare memory.
pub(crate) fn starts_with_word(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= word.len()
        && bytes.iter().zip(word.as_bytes()).all(|(a, b)| a == b)
        && !text[word.len()..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
}

/// Whether `text` ends with the ASCII `word` (or phrase) and no letter or digit comes before it,
/// compared from the last byte as `starts_with_word` compares from the first.
pub(crate) fn ends_with_word(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= word.len()
        && bytes
            .iter()
            .rev()
            .zip(word.as_bytes().iter().rev())
            .all(|(a, b)| a == b)
        && !text[..text.len() - word.len()]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
}

/// The character at byte `at` (a character boundary) and its width, ASCII without decoding.
#[inline]
fn char_at(text: &str, at: usize) -> (char, usize) {
    let byte = text.as_bytes()[at];
    if byte.is_ascii() {
        return (char::from(byte), 1);
    }
    let c = text[at..].chars().next().unwrap_or_default();
    (c, c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, Case)> {
        let scan = Scan::new(text, &Lexicon::new());
        (0..scan.tokens.len())
            .map(|i| (scan.original(i).to_string(), scan.tokens[i].case))
            .collect()
    }

    #[test]
    fn gaps_record_spaces_breaks_commas_and_full_stops() {
        let scan = Scan::new(
            "Anna  S. Okafor,\nseen\t\u{2022} today   by Dr.(x) ok    go",
            &Lexicon::new(),
        );
        let gap = |index: usize| scan.tokens[index].gap;
        assert!(gap(0).has(Gap::SPACES) && !gap(0).has(Gap::BREAK));
        assert!(gap(1).has(Gap::FULL_STOP) && gap(1).has(Gap::BREAK) && !gap(1).has(Gap::SPACES));
        assert!(gap(2).has(Gap::NEWLINE) && gap(2).has(Gap::BREAK));
        assert!(gap(2).has(Gap::COMMA) && !gap(0).has(Gap::COMMA) && !gap(1).has(Gap::COMMA));
        assert!(
            gap(3).has(Gap::BREAK) && !gap(3).has(Gap::NEWLINE),
            "a bullet"
        );
        assert!(gap(4).has(Gap::SPACES), "three spaces");
        assert!(
            gap(6).has(Gap::FULL_STOP) && gap(6).has(Gap::BREAK),
            "'.(' after Dr"
        );
        assert!(!gap(8).has(Gap::SPACES), "four spaces are a layout gap");
        assert_eq!(gap(9), Gap::default(), "nothing after the last word");
        assert!(scan.starts_sentence(0) && scan.starts_sentence(3) && scan.starts_sentence(4));
        assert!(!scan.starts_sentence(1) && !scan.starts_sentence(5));
    }

    #[test]
    fn whole_words_in_a_window_and_at_either_end() {
        assert!(contains_word("call 555", "call"));
        assert!(contains_word("pt fax: ", "fax"));
        assert!(!contains_word("recall 555", "call"));
        assert!(!contains_word("faxed", "fax"));
        assert!(!contains_word("fa", "fax"));
        assert!(!contains_word("anything", ""));
        assert!(starts_with_word("dob: 4/12/1961", "dob"));
        assert!(starts_with_word("date of birth", "date of birth"));
        assert!(!starts_with_word("dobson", "dob"));
        assert!(!starts_with_word("dobé", "dob"));
        assert!(!starts_with_word("do", "dob"));
        assert!(ends_with_word("she lives in", "lives in"));
        assert!(ends_with_word("in", "in"));
        assert!(!ends_with_word("begin", "in"));
        assert!(!ends_with_word("éin", "in"));
        assert!(!ends_with_word("n", "in"));
    }

    #[test]
    fn tokens_keep_inner_apostrophes_and_hyphens_and_drop_possessives() {
        assert_eq!(
            words("Mr. O'Brien's wife, Mary-Jane, ok 5mg"),
            [
                ("Mr", Case::Capitalised),
                ("O'Brien", Case::Capitalised),
                ("wife", Case::Lower),
                ("Mary-Jane", Case::Capitalised),
                ("ok", Case::Lower),
                ("5mg", Case::Other),
            ]
            .map(|(word, case)| (word.to_string(), case))
        );
    }

    #[test]
    fn shapes_and_sentence_starts() {
        let scan = Scan::new("NOTE by J. Smith.\nJosé arrived", &Lexicon::new());
        assert_eq!(scan.tokens[0].case, Case::Upper);
        assert_eq!(scan.tokens[2].case, Case::Letter);
        assert!(scan.starts_sentence(0));
        assert!(!scan.starts_sentence(1));
        assert!(scan.starts_sentence(4));
        assert_eq!(scan.original(4), "José");
    }

    fn lexicon() -> &'static Lexicon {
        &crate::Detector::shared().lexicon
    }

    /// Texts made of the pieces numbers, cues and words are made of.
    fn numbers_and_words() -> impl proptest::strategy::Strategy<Value = String> {
        let pieces = [
            "0", "1", "9", "12", "555", "2024", " ", "-", ".", ":", "/", "(", ")", "+", "\n",
            "ext", "x", "age", "aged", "in her", "92", "mrn", "id", "palm-", "#", "é", "\u{a0}",
            "yo", "a",
        ];
        proptest::collection::vec(proptest::sample::select(pieces.to_vec()), 0..40)
            .prop_map(|pieces| pieces.concat())
    }

    use proptest::prelude::*;

    proptest! {
        /// Searching only the digit runs finds what a search of the whole text finds, less the
        /// matches with too few digits.
        #[test]
        fn digit_runs_find_what_the_whole_text_finds(text in numbers_and_words()) {
            let pattern = Regex::new(r"[0-9]{3}([- ]?)[0-9]{2}([- ]?)[0-9]{4}|\+[0-9]{1,3}(?:[\s.-]?\(?[0-9]{1,4}\)?){2,5}").unwrap();
            let scan = Scan::new(&text, lexicon());
            let allowed = ByteSet::of(b"0123456789 \t\n\r.-()+", true);
            let digits = |found: &str| found.bytes().filter(u8::is_ascii_digit).count();
            let in_runs: Vec<(usize, usize)> = scan
                .matches_in_digit_runs(&pattern, &allowed, (5, 0))
                .iter()
                .map(|found| (found.start(), found.end()))
                .collect();
            let whole: Vec<(usize, usize)> = pattern
                .find_iter(&scan.lower)
                .filter(|found| digits(found.as_str()) >= 5)
                .map(|found| (found.start(), found.end()))
                .collect();
            // A run holds every match that has enough digits, and only whole-text matches.
            for found in &whole {
                prop_assert!(in_runs.contains(found), "{found:?} missed in {text:?}");
            }
            for found in &in_runs {
                prop_assert!(pattern.find_iter(&scan.lower).any(|m| (m.start(), m.end()) == *found));
            }
        }

        /// A pattern that opens with a word boundary, tried anchored at every word start, finds
        /// what a search of the whole text finds.
        #[test]
        fn anchored_at_word_starts_finds_what_the_whole_text_finds(text in numbers_and_words()) {
            let body = r"(?-u:\b)(?:9[0-9]\s?yo|(?:age|aged)\s*:?\s*9[0-9]|mrn\s*[0-9]+|in her)";
            let anchored = Regex::new(&format!("^(?:{body})")).unwrap();
            let pattern = Regex::new(body).unwrap();
            let scan = Scan::new(&text, lexicon());
            let starts = scan.word_starts(|_, token| token.has_digit || token.kinds.any(Kinds::AGE_START | Kinds::ID_CUE));
            let found: Vec<(usize, usize)> = scan
                .anchored_captures(&anchored, &starts)
                .iter()
                .map(|(at, captures)| (at + captures.get(0).unwrap().start(), at + captures.get(0).unwrap().end()))
                .collect();
            let whole: Vec<(usize, usize)> =
                pattern.find_iter(&scan.lower).map(|m| (m.start(), m.end())).collect();
            for each in &found {
                prop_assert!(whole.contains(each), "{each:?} is no match in {text:?}");
            }
            for each in &whole {
                prop_assert!(found.contains(each), "{each:?} missed in {text:?}");
            }
        }
    }
}
