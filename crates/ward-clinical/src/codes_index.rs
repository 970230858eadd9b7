//! The search index that the ICD-10-CM code set and customer CPT tables share: exact and prefix
//! lookup by code, and ranked word search over descriptions and synonyms.
//!
//! Words are lower-cased alphanumeric runs; a few function words are left out. A query word of
//! three or more letters matches every index word it is a prefix of ("diab" finds "diabetes");
//! shorter words and numbers match only themselves, so "2" does not find "21". Hits are ranked by
//! the number of distinct query words they match, then by a relevance in [0, 1) that averages the
//! IDF-weighted share of the query matched and how much of the best-matching description or
//! synonym the query covers (words in parentheses, ICD's nonessential modifiers, and
//! "unspecified" are not required). Among equal scores: preferred entries (billable codes)
//! first, then shorter descriptions, then entry order.

use std::cmp::Ordering;
use std::ops::Range;

use rustc_hash::FxHashMap;

/// Words that carry no meaning in a code description; they are neither indexed nor searched.
/// "with", "without", "not" and single letters ("hepatitis a") do carry meaning and stay.
const STOPWORDS: &[&str] = &[
    "an", "and", "as", "at", "by", "for", "from", "in", "is", "of", "on", "or", "the", "to",
];

/// Words saying that nothing more is known ("Heart failure, unspecified"). Like the words in
/// parentheses they are indexed but a query need not name them, so the unspecified code covers a
/// bare query best.
const UNSPECIFIC_WORDS: &[&str] = &["nos", "unspecified"];

/// At most this many distinct query words are used; the rest are ignored.
const MAX_QUERY_WORDS: usize = 32;

/// An index word that only starts with the query word counts for this share of its weight.
const PREFIX_MATCH_FACTOR: f32 = 0.8;

/// A synonym covered by the query counts for this share of a description covered as well.
const SYNONYM_COVERAGE_FACTOR: f32 = 0.9;

/// Marks a field token inside parentheses or brackets (a nonessential modifier).
const NONESSENTIAL_BIT: u32 = 1 << 31;

/// Ends one field (description or synonym) in `field_tokens`.
const FIELD_END: u32 = u32::MAX;

/// What the index needs to know about one code.
pub(crate) struct IndexedEntry<'a> {
    /// The code as looked up: upper case, without a dot.
    pub key: String,
    pub description: &'a str,
    pub synonyms: &'a [String],
    /// Ranked first among equal scores (billable ICD-10-CM codes).
    pub preferred: bool,
}

pub(crate) struct CodesIndex {
    /// By entry: the lookup key.
    keys: Vec<Box<str>>,
    /// Entry numbers sorted by key, for exact and prefix lookup.
    entries_by_key: Vec<u32>,
    /// The vocabulary, sorted, so the words a prefix matches form one range.
    words: Vec<Box<str>>,
    /// By word: its inverse document frequency.
    word_idf: Vec<f32>,
    /// By word: its range in `postings` (`posting_starts[word]..posting_starts[word + 1]`).
    posting_starts: Vec<u32>,
    /// Entry numbers, ascending within each word.
    postings: Vec<u32>,
    /// By entry: its range in `field_tokens`.
    field_token_starts: Vec<u32>,
    /// Word numbers of each field, description first, each field closed by `FIELD_END`.
    field_tokens: Vec<u32>,
    preferred: Vec<bool>,
    description_len: Vec<u32>,
}

/// Hands a finished word to `emit` unless it is a stopword, and empties it.
fn finish_word(word: &mut String, essential: bool, emit: &mut impl FnMut(&str, bool)) {
    if !word.is_empty() && !STOPWORDS.contains(&word.as_str()) {
        emit(
            word,
            essential && !UNSPECIFIC_WORDS.contains(&word.as_str()),
        );
    }
    word.clear();
}

/// Calls `emit(word, essential)` for each lower-cased alphanumeric run of `text`, stopwords left
/// out; apostrophes inside a word are dropped ("Alzheimer's" is "alzheimers"). A word is
/// essential outside parentheses and brackets, unless it is an unspecific word.
fn for_each_word(text: &str, mut emit: impl FnMut(&str, bool)) {
    let mut word = String::new();
    let mut depth = 0u32;
    let mut word_depth = 0u32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            if word.is_empty() {
                word_depth = depth;
            }
            if c.is_ascii() {
                word.push(c.to_ascii_lowercase());
            } else {
                word.extend(c.to_lowercase());
            }
        } else if (c == '\'' || c == '\u{2019}')
            && !word.is_empty()
            && chars.peek().is_some_and(|next| next.is_alphanumeric())
        {
            // Inside a word: keep the word whole.
        } else {
            finish_word(&mut word, word_depth == 0, &mut emit);
            match c {
                '(' | '[' => depth = depth.saturating_add(1),
                ')' | ']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    finish_word(&mut word, word_depth == 0, &mut emit);
}

/// The first `MAX_QUERY_WORDS` distinct words of a query, in order.
fn query_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for_each_word(text, |word, _| {
        if words.len() < MAX_QUERY_WORDS && !words.iter().any(|seen| seen == word) {
            words.push(word.to_owned());
        }
    });
    words
}

/// One query word and the vocabulary it matches.
struct QueryWord {
    /// Word numbers this query word matches.
    matches: Range<u32>,
    /// The word number equal to the query word, when the vocabulary has it.
    exact: Option<u32>,
}

impl CodesIndex {
    pub(crate) fn build<'a>(entries: impl IntoIterator<Item = IndexedEntry<'a>>) -> CodesIndex {
        let mut keys = Vec::new();
        let mut preferred = Vec::new();
        let mut description_len = Vec::new();
        // Words get provisional numbers in order of appearance, renumbered once sorted.
        let mut provisional: FxHashMap<String, u32> = FxHashMap::default();
        let mut provisional_words: Vec<String> = Vec::new();
        let mut field_token_starts = vec![0u32];
        let mut field_tokens: Vec<u32> = Vec::new();
        for entry in entries {
            keys.push(entry.key.into_boxed_str());
            preferred.push(entry.preferred);
            description_len.push(u32::try_from(entry.description.len()).unwrap_or(u32::MAX));
            let fields =
                std::iter::once(entry.description).chain(entry.synonyms.iter().map(String::as_str));
            for field in fields {
                for_each_word(field, |word, essential| {
                    let number = match provisional.get(word) {
                        Some(&number) => number,
                        None => {
                            let number = provisional_words.len() as u32;
                            provisional.insert(word.to_owned(), number);
                            provisional_words.push(word.to_owned());
                            number
                        }
                    };
                    let flag = if essential { 0 } else { NONESSENTIAL_BIT };
                    field_tokens.push(number | flag);
                });
                field_tokens.push(FIELD_END);
            }
            field_token_starts.push(field_tokens.len() as u32);
        }

        let mut order: Vec<u32> = (0..provisional_words.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            provisional_words[a as usize].cmp(&provisional_words[b as usize])
        });
        let mut renumber = vec![0u32; order.len()];
        for (sorted, &old) in order.iter().enumerate() {
            renumber[old as usize] = sorted as u32;
        }
        for token in &mut field_tokens {
            if *token != FIELD_END {
                *token =
                    renumber[(*token & !NONESSENTIAL_BIT) as usize] | (*token & NONESSENTIAL_BIT);
            }
        }
        let words: Vec<Box<str>> = order
            .iter()
            .map(|&old| std::mem::take(&mut provisional_words[old as usize]).into_boxed_str())
            .collect();

        // Postings: the distinct words of each entry, counted per word, then placed.
        let entry_count = keys.len();
        let distinct_words = |entry: usize, into: &mut Vec<u32>| {
            let range = field_token_starts[entry] as usize..field_token_starts[entry + 1] as usize;
            into.clear();
            into.extend(
                field_tokens[range]
                    .iter()
                    .filter(|&&token| token != FIELD_END)
                    .map(|&token| token & !NONESSENTIAL_BIT),
            );
            into.sort_unstable();
            into.dedup();
        };
        let mut entry_words: Vec<u32> = Vec::new();
        let mut document_frequency = vec![0u32; words.len()];
        for entry in 0..entry_count {
            distinct_words(entry, &mut entry_words);
            for &word in &entry_words {
                document_frequency[word as usize] += 1;
            }
        }
        let mut posting_starts = Vec::with_capacity(words.len() + 1);
        let mut total = 0u32;
        for &frequency in &document_frequency {
            posting_starts.push(total);
            total += frequency;
        }
        posting_starts.push(total);
        let mut fill: Vec<u32> = posting_starts[..words.len()].to_vec();
        let mut postings = vec![0u32; total as usize];
        for entry in 0..entry_count {
            distinct_words(entry, &mut entry_words);
            for &word in &entry_words {
                postings[fill[word as usize] as usize] = entry as u32;
                fill[word as usize] += 1;
            }
        }
        let word_idf = document_frequency
            .iter()
            .map(|&frequency| (1.0 + entry_count as f32 / frequency.max(1) as f32).ln())
            .collect();

        let mut entries_by_key: Vec<u32> = (0..entry_count as u32).collect();
        entries_by_key.sort_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));

        CodesIndex {
            keys,
            entries_by_key,
            words,
            word_idf,
            posting_starts,
            postings,
            field_token_starts,
            field_tokens,
            preferred,
            description_len,
        }
    }

    /// Two entries with the same key, the earlier first, when there are any.
    pub(crate) fn duplicate_key(&self) -> Option<(usize, usize)> {
        self.entries_by_key.windows(2).find_map(|pair| {
            let (a, b) = (pair[0] as usize, pair[1] as usize);
            (self.keys[a] == self.keys[b]).then_some((a.min(b), a.max(b)))
        })
    }

    /// The entry whose key is exactly `key` (upper case, no dot).
    pub(crate) fn entry_with_key(&self, key: &str) -> Option<usize> {
        self.entries_by_key
            .binary_search_by(|&entry| (*self.keys[entry as usize]).cmp(key))
            .ok()
            .map(|position| self.entries_by_key[position] as usize)
    }

    /// Entries whose key starts with `prefix`, in entry order, at most `limit` of those `keep`
    /// accepts.
    pub(crate) fn entries_with_key_prefix(
        &self,
        prefix: &str,
        limit: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<usize> {
        let start = self
            .entries_by_key
            .partition_point(|&entry| *self.keys[entry as usize] < *prefix);
        let mut found: Vec<usize> = self.entries_by_key[start..]
            .iter()
            .take_while(|&&entry| self.keys[entry as usize].starts_with(prefix))
            .map(|&entry| entry as usize)
            .filter(|&entry| keep(entry))
            .collect();
        found.sort_unstable();
        found.truncate(limit);
        found
    }

    fn query_words(&self, query: &str) -> Vec<QueryWord> {
        query_words(query)
            .iter()
            .map(|word| {
                let word = word.as_str();
                let start = self.words.partition_point(|candidate| &**candidate < word);
                let exact =
                    (self.words.get(start).map(|w| &**w) == Some(word)).then_some(start as u32);
                let prefix_search =
                    word.chars().count() >= 3 && !word.chars().all(|c| c.is_ascii_digit());
                let end = if prefix_search {
                    start
                        + self.words[start..]
                            .partition_point(|candidate| candidate.starts_with(word))
                } else {
                    start + usize::from(exact.is_some())
                };
                QueryWord {
                    matches: start as u32..end as u32,
                    exact,
                }
            })
            .collect()
    }

    fn match_weight(&self, query_word: &QueryWord, word: u32) -> f32 {
        let idf = self.word_idf[word as usize];
        if query_word.exact == Some(word) {
            idf
        } else {
            idf * PREFIX_MATCH_FACTOR
        }
    }

    /// The best share of one field's essential words that the query matches, over the entry's
    /// description and synonyms.
    fn coverage(&self, entry: usize, query_words: &[QueryWord]) -> f32 {
        let range =
            self.field_token_starts[entry] as usize..self.field_token_starts[entry + 1] as usize;
        let mut best = 0.0f32;
        let mut field_number = 0usize;
        let (mut essential, mut essential_matched, mut all, mut all_matched) =
            (0u32, 0u32, 0u32, 0u32);
        for &token in &self.field_tokens[range] {
            if token == FIELD_END {
                // A field of nonessential words only is judged on all its words.
                let share = if essential > 0 {
                    essential_matched as f32 / essential as f32
                } else if all > 0 {
                    all_matched as f32 / all as f32
                } else {
                    0.0
                };
                let factor = if field_number == 0 {
                    1.0
                } else {
                    SYNONYM_COVERAGE_FACTOR
                };
                best = best.max(share * factor);
                field_number += 1;
                (essential, essential_matched, all, all_matched) = (0, 0, 0, 0);
                continue;
            }
            let word = token & !NONESSENTIAL_BIT;
            let matched = query_words
                .iter()
                .any(|query_word| query_word.matches.contains(&word));
            all += 1;
            all_matched += u32::from(matched);
            if token & NONESSENTIAL_BIT == 0 {
                essential += 1;
                essential_matched += u32::from(matched);
            }
        }
        best
    }

    /// Entries matching the words of `query`, best first, at most `limit` of those `keep`
    /// accepts, with their scores (the number of query words matched plus a relevance in
    /// [0, 1)).
    pub(crate) fn search_words(
        &self,
        query: &str,
        limit: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        let query_words = self.query_words(query);
        let best_possible: f32 = query_words
            .iter()
            .filter_map(|query_word| {
                query_word
                    .matches
                    .clone()
                    .map(|word| self.match_weight(query_word, word))
                    .max_by(f32::total_cmp)
            })
            .sum();
        if limit == 0 || best_possible <= 0.0 {
            return Vec::new();
        }

        let entry_count = self.keys.len();
        let mut weight_sum = vec![0.0f32; entry_count];
        let mut current_weight = vec![0.0f32; entry_count];
        let mut words_matched = vec![0u8; entry_count];
        // The query word (numbered from 1) that last touched the entry.
        let mut last_query_word = vec![0u8; entry_count];
        let mut touched: Vec<u32> = Vec::new();
        for (number, query_word) in query_words.iter().enumerate() {
            let stamp = number as u8 + 1;
            for word in query_word.matches.clone() {
                let weight = self.match_weight(query_word, word);
                let postings = self.posting_starts[word as usize] as usize
                    ..self.posting_starts[word as usize + 1] as usize;
                for &entry in &self.postings[postings] {
                    let entry_number = entry as usize;
                    if last_query_word[entry_number] != stamp {
                        if words_matched[entry_number] == 0 {
                            touched.push(entry);
                        }
                        last_query_word[entry_number] = stamp;
                        words_matched[entry_number] += 1;
                        current_weight[entry_number] = weight;
                        weight_sum[entry_number] += weight;
                    } else if weight > current_weight[entry_number] {
                        weight_sum[entry_number] += weight - current_weight[entry_number];
                        current_weight[entry_number] = weight;
                    }
                }
            }
        }

        // Tiers by words matched, best first; relevance is computed only for the tiers needed.
        let mut tiers: Vec<Vec<u32>> = vec![Vec::new(); query_words.len() + 1];
        for &entry in &touched {
            if keep(entry as usize) {
                tiers[words_matched[entry as usize] as usize].push(entry);
            }
        }
        let mut hits: Vec<(usize, f32)> = Vec::new();
        for (matched, tier) in tiers.iter().enumerate().rev() {
            if hits.len() >= limit {
                break;
            }
            let mut scored: Vec<(usize, f32)> = tier
                .iter()
                .map(|&entry| {
                    let entry = entry as usize;
                    let idf_share = (weight_sum[entry] / best_possible).min(1.0);
                    let relevance =
                        0.4995 * idf_share + 0.4995 * self.coverage(entry, &query_words);
                    (entry, matched as f32 + relevance)
                })
                .collect();
            scored.sort_unstable_by(|a, b| self.rank(*a, *b));
            scored.truncate(limit - hits.len());
            hits.extend(scored);
        }
        hits
    }

    fn rank(&self, (a, a_score): (usize, f32), (b, b_score): (usize, f32)) -> Ordering {
        b_score
            .total_cmp(&a_score)
            .then_with(|| self.preferred[b].cmp(&self.preferred[a]))
            .then_with(|| self.description_len[a].cmp(&self.description_len[b]))
            .then_with(|| a.cmp(&b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, bool)> {
        let mut words = Vec::new();
        for_each_word(text, |word, essential| {
            words.push((word.to_owned(), essential))
        });
        words
    }

    #[test]
    fn tokens_are_lower_case_words_without_stopwords() {
        assert_eq!(
            words("Essential (primary) hypertension of the Heart's [left] side, unspecified"),
            vec![
                ("essential".to_owned(), true),
                ("primary".to_owned(), false),
                ("hypertension".to_owned(), true),
                ("hearts".to_owned(), true),
                ("left".to_owned(), false),
                ("side".to_owned(), true),
                ("unspecified".to_owned(), false),
            ]
        );
        assert_eq!(
            words("Type 2, 'quoted' B12"),
            vec![
                ("type".to_owned(), true),
                ("2".to_owned(), true),
                ("quoted".to_owned(), true),
                ("b12".to_owned(), true),
            ]
        );
        assert!(words("").is_empty());
        assert!(words("of the )) ((").is_empty());
    }

    fn index(entries: &[(&str, &str, bool)]) -> (CodesIndex, Vec<Vec<String>>) {
        let synonyms: Vec<Vec<String>> = entries.iter().map(|_| Vec::new()).collect();
        let built = CodesIndex::build(entries.iter().zip(&synonyms).map(
            |(&(key, description, preferred), synonyms)| IndexedEntry {
                key: key.to_owned(),
                description,
                synonyms,
                preferred,
            },
        ));
        (built, synonyms)
    }

    #[test]
    fn prefixes_numbers_ties_and_limits() {
        let (index, _) = index(&[
            ("A1", "Widget disorder type 21", true),
            ("A2", "Widget disorder type 2", false),
            ("A3", "Widget disorder type 2", true),
            ("B1", "Gadget fever", true),
        ]);
        let all = |_: usize| true;
        // "2" matches only "2"; equal scores put the preferred entry first.
        let hits: Vec<usize> = index
            .search_words("widg type 2", 10, &all)
            .into_iter()
            .map(|h| h.0)
            .collect();
        assert_eq!(hits, vec![2, 1, 0]);
        assert_eq!(index.search_words("widg type 2", 1, &all).len(), 1);
        assert!(index.search_words("widget", 0, &all).is_empty());
        assert!(index.search_words("the of", 10, &all).is_empty());
        assert!(index.search_words("zzz", 10, &all).is_empty());
        assert_eq!(
            index.search_words("ga", 10, &all).len(),
            0,
            "two letters match only whole words"
        );
        assert_eq!(index.entry_with_key("B1"), Some(3));
        assert_eq!(index.entry_with_key("B"), None);
        assert_eq!(index.entries_with_key_prefix("A", 10, &all), vec![0, 1, 2]);
        assert_eq!(
            index.entries_with_key_prefix("A", 10, &|entry| entry != 1),
            vec![0, 2]
        );
        assert!(index.entries_with_key_prefix("C", 10, &all).is_empty());
    }

    #[test]
    fn an_empty_index_answers_nothing() {
        let (index, _) = index(&[]);
        assert!(index.search_words("anything", 10, &|_| true).is_empty());
        assert_eq!(index.entry_with_key("A00"), None);
    }
}
