//! CPT procedure codes from a table the customer supplies. CPT codes and descriptors are owned
//! and licensed by the American Medical Association, so Ward ships none: a site with a licence
//! loads its own file, and lookup and search then work as they do for ICD-10-CM.
//!
//! The file is TSV or CSV, one `code, descriptor` per line, with an optional header line. Codes
//! are five characters: five digits (Category I), or four digits and `F` (Category II), `T`
//! (Category III) or `U` (proprietary laboratory analyses).

use crate::codes_index::{CodesIndex, IndexedEntry};

/// One line of the customer's table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CptCode {
    /// Upper case: `99213`, `0001F`.
    pub code: String,
    pub descriptor: String,
}

/// A table line that is not `code, descriptor`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CptTableError {
    #[error("line {line}: the code is not a CPT code (5 digits, or 4 digits and F, T or U)")]
    MalformedCode { line: usize },
    #[error("line {line}: expected a code and a descriptor, separated by a tab or a comma")]
    MissingDescriptor { line: usize },
    #[error("line {line}: a quoted field is not closed")]
    UnclosedQuote { line: usize },
    #[error("line {line}: the code already appears on line {first_line}")]
    DuplicateCode { line: usize, first_line: usize },
}

/// A search result: the code and its score, as for [`crate::icd10::SearchHit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CptHit<'a> {
    pub code: &'a CptCode,
    pub score: f32,
}

/// A customer's CPT table, in file order, with its search index.
pub struct CptTable {
    codes: Vec<CptCode>,
    index: CodesIndex,
}

impl std::fmt::Debug for CptTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Descriptors are licensed text: never in debug output.
        f.debug_struct("CptTable")
            .field("codes", &self.codes.len())
            .finish()
    }
}

/// The upper-case code when `code` is shaped like a CPT code.
pub fn normalise(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    let bytes = code.as_bytes();
    let shaped = bytes.len() == 5
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && (bytes[4].is_ascii_digit() || matches!(bytes[4], b'F' | b'T' | b'U'));
    shaped.then_some(code)
}

/// A query that is the start of a CPT code: up to four digits, or four digits and a fifth
/// character.
fn code_prefix(query: &str) -> Option<String> {
    let query = query.trim().to_ascii_uppercase();
    let bytes = query.as_bytes();
    let digits = bytes.iter().take(4).all(u8::is_ascii_digit);
    let fifth_ok = bytes.len() < 5 || normalise(&query).is_some();
    (!bytes.is_empty() && bytes.len() <= 5 && digits && fifth_ok).then_some(query)
}

/// One field of a CSV line: its value and the rest of the line after the comma that ends it.
/// `Err(())` for a quote that is never closed.
fn csv_field(text: &str) -> Result<(String, Option<&str>), ()> {
    let text = text.trim_start();
    let Some(quoted) = text.strip_prefix('"') else {
        return Ok(match text.split_once(',') {
            Some((value, rest)) => (value.trim().to_owned(), Some(rest)),
            None => (text.trim().to_owned(), None),
        });
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((position, c)) = chars.next() {
        if c != '"' {
            value.push(c);
            continue;
        }
        if quoted[position + 1..].starts_with('"') {
            value.push('"');
            chars.next();
            continue;
        }
        let after = &quoted[position + 1..];
        return Ok((value, after.split_once(',').map(|(_, rest)| rest)));
    }
    Err(())
}

/// Code and descriptor of one line. TSV when the line has a tab (fields after the second are
/// ignored); otherwise CSV, where a quoted descriptor ends at its closing quote and an unquoted
/// one runs to the end of the line, commas included.
fn split_line(line: &str, line_number: usize) -> Result<(String, String), CptTableError> {
    if line.contains('\t') {
        let mut fields = line.split('\t');
        let code = fields.next().unwrap_or_default().trim().trim_matches('"');
        let descriptor = fields.next().unwrap_or_default().trim().trim_matches('"');
        return Ok((code.to_owned(), descriptor.to_owned()));
    }
    let unclosed = |()| CptTableError::UnclosedQuote { line: line_number };
    let (code, rest) = csv_field(line).map_err(unclosed)?;
    let descriptor = match rest {
        Some(rest) if rest.trim_start().starts_with('"') => csv_field(rest).map_err(unclosed)?.0,
        Some(rest) => rest.trim().to_owned(),
        None => String::new(),
    };
    Ok((code, descriptor))
}

impl CptTable {
    /// A table from the customer's TSV or CSV text. The first line is skipped as a header when
    /// its first field is not a CPT code; blank lines are skipped.
    pub fn parse(text: &str) -> Result<CptTable, CptTableError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut codes: Vec<CptCode> = Vec::new();
        // By code: the line it is on, to name both lines of a duplicate.
        let mut line_numbers = Vec::new();
        let mut seen_a_line = false;
        for (number, line) in text.lines().enumerate() {
            let line_number = number + 1;
            if line.trim().is_empty() {
                continue;
            }
            let first_line = !seen_a_line;
            seen_a_line = true;
            let (code, descriptor) = split_line(line, line_number)?;
            let Some(code) = normalise(&code) else {
                if first_line {
                    continue;
                }
                return Err(CptTableError::MalformedCode { line: line_number });
            };
            if descriptor.is_empty() {
                return Err(CptTableError::MissingDescriptor { line: line_number });
            }
            line_numbers.push(line_number);
            codes.push(CptCode {
                code,
                descriptor: descriptor.split_whitespace().collect::<Vec<_>>().join(" "),
            });
        }
        let index = CodesIndex::build(codes.iter().map(|code| IndexedEntry {
            key: code.code.clone(),
            description: &code.descriptor,
            synonyms: &[],
            preferred: true,
        }));
        if let Some((first, second)) = index.duplicate_key() {
            return Err(CptTableError::DuplicateCode {
                line: line_numbers[second],
                first_line: line_numbers[first],
            });
        }
        Ok(CptTable { codes, index })
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// All codes in file order.
    pub fn codes(&self) -> &[CptCode] {
        &self.codes
    }

    /// The code `code` names (`99213`, ` 0001f `); `None` when the table does not have it.
    pub fn lookup(&self, code: &str) -> Option<&CptCode> {
        let code = normalise(code)?;
        self.index
            .entry_with_key(&code)
            .map(|entry| &self.codes[entry])
    }

    /// Codes for `query`, best first, at most `limit`: a code or the start of one (`992`)
    /// answers the codes it starts, in file order; otherwise descriptors are searched by word.
    pub fn search(&self, query: &str, limit: usize) -> Vec<CptHit<'_>> {
        let keep = |_: usize| true;
        if let Some(prefix) = code_prefix(query) {
            let entries = self.index.entries_with_key_prefix(&prefix, limit, &keep);
            if !entries.is_empty() {
                return entries
                    .into_iter()
                    .map(|entry| CptHit {
                        code: &self.codes[entry],
                        score: if self.codes[entry].code == prefix {
                            1.0
                        } else {
                            0.5
                        },
                    })
                    .collect();
            }
        }
        self.index
            .search_words(query, limit, &keep)
            .into_iter()
            .map(|(entry, score)| CptHit {
                code: &self.codes[entry],
                score,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invented codes' descriptors, written for these tests; no AMA text.
    const SYNTHETIC_TSV: &str = "code\tdescriptor\n\
        10001\tWidget insertion, left knee, first widget\n\
        10002\tWidget insertion, left knee, each additional widget\n\
        10010\tWidget removal, any site\n\
        20500\tGadget calibration visit, brief\n\
        20501\tGadget calibration visit, extended\n\
        0001F\tGadget status recorded\n\
        0100T\tExperimental sprocket alignment\n\
        0002U\tSprocket assay, saliva\n";

    fn table() -> CptTable {
        CptTable::parse(SYNTHETIC_TSV).unwrap()
    }

    #[test]
    fn parse_reads_tsv_with_a_header() {
        let table = table();
        assert_eq!(table.len(), 8);
        assert_eq!(table.codes()[0].code, "10001");
        assert_eq!(
            table.lookup(" 0001f ").unwrap().descriptor,
            "Gadget status recorded"
        );
        assert_eq!(
            table.lookup("10010").unwrap().descriptor,
            "Widget removal, any site"
        );
        assert_eq!(table.lookup("10011"), None);
        assert_eq!(table.lookup("1001"), None);
        assert_eq!(table.lookup("E11.9"), None);
    }

    #[test]
    fn parse_reads_csv_quoted_or_not() {
        let csv =
            "\u{feff}\"10001\",\"Widget insertion, left knee, \"\"first\"\" widget\",ignored\n\
                   10010,Widget removal, any site\n\
                   \n\
                   0100T , Experimental sprocket alignment \n";
        let table = CptTable::parse(csv).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(
            table.codes()[0].descriptor,
            "Widget insertion, left knee, \"first\" widget"
        );
        assert_eq!(table.codes()[1].descriptor, "Widget removal, any site");
        assert_eq!(table.codes()[2].code, "0100T");
        assert_eq!(
            table.codes()[2].descriptor,
            "Experimental sprocket alignment"
        );
        assert!(CptTable::parse("").unwrap().is_empty());
        assert!(CptTable::parse("code,descriptor\n").unwrap().is_empty());
    }

    #[test]
    fn parse_names_the_bad_line() {
        let bad = |text: &str| CptTable::parse(text).unwrap_err();
        assert_eq!(
            bad("10001\tWidget\n1000X\tGadget\n"),
            CptTableError::MalformedCode { line: 2 }
        );
        assert_eq!(
            bad("10001\tWidget\n10002\t\n"),
            CptTableError::MissingDescriptor { line: 2 }
        );
        assert_eq!(bad("10001\n"), CptTableError::MissingDescriptor { line: 1 });
        assert_eq!(
            bad("10001,\"Widget\n"),
            CptTableError::UnclosedQuote { line: 1 }
        );
        assert_eq!(
            bad("10001\tWidget\n\n10001\tGadget\n"),
            CptTableError::DuplicateCode {
                line: 3,
                first_line: 1
            }
        );
        assert!(bad("10001\tWidget\nheader\tlate\n")
            .to_string()
            .starts_with("line 2:"));
    }

    #[test]
    fn search_by_words_and_by_code() {
        let table = table();
        let codes = |query: &str, limit: usize| -> Vec<String> {
            table
                .search(query, limit)
                .into_iter()
                .map(|hit| hit.code.code.clone())
                .collect()
        };
        assert_eq!(codes("widget insertion additional", 1), ["10002"]);
        assert_eq!(codes("widg insert", 2), ["10001", "10002"]);
        assert_eq!(codes("gadget calibration", 2), ["20500", "20501"]);
        assert_eq!(codes("sprocket", 5), ["0002U", "0100T"]);
        assert_eq!(codes("1000", 5), ["10001", "10002"]);
        assert_eq!(codes("0001f", 5), ["0001F"]);
        assert_eq!(codes("99213", 5), Vec::<String>::new());
        assert!(codes("nothing like it", 5).is_empty());
        assert!(format!("{table:?}").contains("codes: 8"));
        assert!(!format!("{table:?}").contains("Widget"));
    }
}
