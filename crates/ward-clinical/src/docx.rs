//! DOCX export of a finished note, for clinicians who review in a word processor: the title, a
//! provenance line ("AI-generated draft, not signed", profile, model, time), one heading per
//! section, the `[CLARIFY: ...]` items and possible fabrications highlighted, and the ICD-10-CM
//! suggestions as a table.
//!
//! Headings use real `heading 1`/`heading 2` paragraph styles (defined here, since docx-rs starts
//! from an empty style sheet), so word processors, screen readers and python-docx see the outline.

use std::io::Cursor;

use docx_rs::{
    AbstractNumbering, Docx, IndentLevel, Level, LevelJc, LevelText, LineSpacing, NumberFormat,
    Numbering, NumberingId, PageMargin, Paragraph, Run, Shading, Start, Style, StyleType, Table,
    TableCell, TableRow, WidthType,
};
use thiserror::Error;
use ward_core::ErrorKind;

use crate::document::{CodeSuggestion, NoteDocument};
use crate::fhir::is_xml_char;

/// Style ids of the headings; their names (`heading 1`, `heading 2`) are the built-in ones.
const HEADING_1: &str = "Heading1";
const HEADING_2: &str = "Heading2";
/// The run highlight for everything a clinician must check before signing.
const HIGHLIGHT: &str = "yellow";
/// Numbering id of the bullet list (docx-rs reserves 1 for its default decimal list).
const BULLETS: usize = 2;
/// US Letter with one-inch margins, in twentieths of a point.
const PAGE_WIDTH: u32 = 12_240;
const PAGE_HEIGHT: u32 = 15_840;
const MARGIN: i32 = 1_440;
/// Column widths of the code table; they add up to the text width (PAGE_WIDTH - 2 * MARGIN).
const CODE_TABLE_COLUMNS: [(&str, usize); 5] = [
    ("Code", 1_100),
    ("Description", 3_100),
    ("Valid", 900),
    ("Billable", 1_200),
    ("Evidence", 3_060),
];

#[derive(Debug, Error)]
pub enum DocxError {
    /// Writing the zip package failed; the reason never contains note text.
    #[error("could not write the DOCX package: {reason}")]
    Package { reason: String },
}

impl DocxError {
    /// The kind a client sees, for `ward-server`'s error table.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DocxError::Package { .. } => ErrorKind::Internal,
        }
    }
}

/// The note as a DOCX file.
pub fn note_docx(note: &NoteDocument) -> Result<Vec<u8>, DocxError> {
    let title = match note.title.trim() {
        "" => note.note_type.display,
        title => title,
    };
    let mut docx = Docx::new()
        .page_size(PAGE_WIDTH, PAGE_HEIGHT)
        .page_margin(
            PageMargin::new()
                .top(MARGIN)
                .bottom(MARGIN)
                .left(MARGIN)
                .right(MARGIN),
        )
        .default_size(22)
        .created_at(&note.created)
        .add_style(heading_style(HEADING_1, "heading 1", 32, 0))
        .add_style(heading_style(HEADING_2, "heading 2", 26, 1))
        .add_abstract_numbering(bullet_list())
        .add_numbering(Numbering::new(BULLETS, BULLETS))
        .add_paragraph(heading(HEADING_1, title))
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text(provenance(note)).italic()));

    if note.sections.is_empty() {
        for paragraph in text_paragraphs(&note.text) {
            docx = docx.add_paragraph(paragraph);
        }
    } else {
        for section in &note.sections {
            docx = docx.add_paragraph(heading(HEADING_2, &section.title));
            for paragraph in text_paragraphs(&section.text) {
                docx = docx.add_paragraph(paragraph);
            }
        }
    }

    docx = docx.add_paragraph(heading(HEADING_2, "Flagged items"));
    if note.flagged_items.is_empty() && note.fabrication_warnings.is_empty() {
        docx = docx.add_paragraph(plain_paragraph("None."));
    }
    for item in &note.flagged_items {
        docx = docx.add_paragraph(flagged_paragraph("To clarify: ", item));
    }
    for warning in &note.fabrication_warnings {
        docx = docx.add_paragraph(flagged_paragraph("Not supported by the input: ", warning));
    }

    docx = docx.add_paragraph(heading(HEADING_2, "ICD-10-CM codes"));
    if note.codes.is_empty() {
        docx = docx.add_paragraph(plain_paragraph("No codes suggested."));
    } else {
        docx = docx.add_table(code_table(&note.codes));
    }

    let mut bytes = Cursor::new(Vec::new());
    docx.build()
        .pack(&mut bytes)
        .map_err(|error| DocxError::Package {
            reason: error.to_string(),
        })?;
    Ok(bytes.into_inner())
}

fn heading_style(style_id: &str, name: &str, half_points: usize, outline_level: usize) -> Style {
    Style::new(style_id, StyleType::Paragraph)
        .name(name)
        .based_on("Normal")
        .next("Normal")
        .q_format(true)
        .size(half_points)
        .bold()
        .outline_lvl(outline_level)
        .line_spacing(LineSpacing::new().before(240).after(80))
}

fn bullet_list() -> AbstractNumbering {
    AbstractNumbering::new(BULLETS).add_level(
        Level::new(
            0,
            Start::new(1),
            NumberFormat::new("bullet"),
            LevelText::new("\u{2022}"),
            LevelJc::new("left"),
        )
        .indent(
            Some(720),
            Some(docx_rs::SpecialIndentType::Hanging(360)),
            None,
            None,
        ),
    )
}

fn provenance(note: &NoteDocument) -> String {
    format!(
        "AI-generated draft, not signed. Profile {} version {}, model {}, created {}.",
        xml_text(&note.profile),
        xml_text(&note.profile_version),
        xml_text(&note.model),
        xml_text(&note.created),
    )
}

fn heading(style_id: &str, text: &str) -> Paragraph {
    Paragraph::new()
        .style(style_id)
        .add_run(Run::new().add_text(xml_text(text)))
}

fn plain_paragraph(text: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(xml_text(text)))
}

fn flagged_paragraph(label: &str, text: &str) -> Paragraph {
    Paragraph::new()
        .numbering(NumberingId::new(BULLETS), IndentLevel::new(0))
        .add_run(Run::new().add_text(label))
        .add_run(Run::new().add_text(xml_text(text)).highlight(HIGHLIGHT))
}

/// One paragraph per non-blank line, with each `[CLARIFY: ...]` span in a highlighted run.
fn text_paragraphs(text: &str) -> Vec<Paragraph> {
    text.lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut paragraph = Paragraph::new();
            let mut plain_from = 0;
            for span in crate::checks::clarify_spans(line) {
                if span.start > plain_from {
                    paragraph = paragraph
                        .add_run(Run::new().add_text(xml_text(&line[plain_from..span.start])));
                }
                paragraph = paragraph.add_run(
                    Run::new()
                        .add_text(xml_text(&line[span.clone()]))
                        .highlight(HIGHLIGHT),
                );
                plain_from = span.end;
            }
            if plain_from < line.len() {
                paragraph = paragraph.add_run(Run::new().add_text(xml_text(&line[plain_from..])));
            }
            paragraph
        })
        .collect()
}

fn code_table(codes: &[CodeSuggestion]) -> Table {
    let header = TableRow::new(
        CODE_TABLE_COLUMNS
            .iter()
            .map(|(label, width)| {
                TableCell::new()
                    .width(*width, WidthType::Dxa)
                    .shading(Shading::new().fill("D9D9D9"))
                    .add_paragraph(Paragraph::new().add_run(Run::new().add_text(*label).bold()))
            })
            .collect(),
    );
    let yes_no = |value: bool| if value { "yes" } else { "no" };
    let rows = codes.iter().map(|code| {
        let description = code
            .description
            .as_deref()
            .unwrap_or("not in the ICD-10-CM code set");
        let mut code_run = Run::new().add_text(xml_text(&code.code));
        // A code that does not exist or cannot be billed needs the clinician's attention.
        if !(code.valid && code.billable) {
            code_run = code_run.highlight(HIGHLIGHT);
        }
        let cells = [
            Paragraph::new().add_run(code_run),
            plain_paragraph(description),
            plain_paragraph(yes_no(code.valid)),
            plain_paragraph(yes_no(code.billable)),
            plain_paragraph(&code.evidence),
        ];
        TableRow::new(
            cells
                .into_iter()
                .zip(CODE_TABLE_COLUMNS)
                .map(|(paragraph, (_, width))| {
                    TableCell::new()
                        .width(width, WidthType::Dxa)
                        .add_paragraph(paragraph)
                })
                .collect(),
        )
    });
    Table::new(std::iter::once(header).chain(rows).collect())
        .set_grid(CODE_TABLE_COLUMNS.iter().map(|(_, width)| *width).collect())
}

/// Text without the characters XML 1.0 forbids (docx-rs escapes the rest).
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|character| is_xml_char(*character))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::fhir::tests::sample_note;

    fn part(docx: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(docx)).expect("a zip archive");
        let mut xml = String::new();
        archive
            .by_name(name)
            .expect("part present")
            .read_to_string(&mut xml)
            .expect("UTF-8 XML");
        xml
    }

    /// The text of every run that carries a highlight, in order.
    fn highlighted_runs(document_xml: &str) -> Vec<String> {
        document_xml
            .split("<w:r>")
            .skip(1)
            .filter_map(|run| {
                let run = &run[..run.find("</w:r>")?];
                if !run.contains(r#"<w:highlight w:val="yellow""#) {
                    return None;
                }
                let text_start = run.find("<w:t")?;
                let text = &run[text_start..];
                let text = &text[text.find('>')? + 1..text.find("</w:t>")?];
                Some(text.to_owned())
            })
            .collect()
    }

    #[test]
    fn docx_holds_headings_sections_and_highlighted_flags() {
        let note = sample_note();
        let bytes = note_docx(&note).expect("docx written");
        assert!(bytes.starts_with(b"PK\x03\x04"), "a zip file");
        let document = part(&bytes, "word/document.xml");
        for section in &note.sections {
            assert!(document.contains(&section.title), "{}", section.title);
        }
        assert!(document.contains("APSO progress note"));
        assert!(document.contains("AI-generated draft, not signed"));
        assert!(document.contains(r#"<w:pStyle w:val="Heading1" />"#));
        assert!(document.contains(r#"<w:pStyle w:val="Heading2" />"#));
        // Escaped by docx-rs, not dropped.
        assert!(document.contains("&lt;likely viral&gt; &amp; mild"));

        let highlighted = highlighted_runs(&document);
        assert_eq!(
            highlighted,
            [
                "[CLARIFY: fever reported?]",
                "[CLARIFY: follow-up interval]",
                "fever reported?",
                "follow-up interval",
                "&quot;SpO2 97 %&quot; is not in the dictation.",
            ]
        );
        assert!(document.contains("J20.9"));
        assert!(document.contains("Acute bronchitis, unspecified"));

        let styles = part(&bytes, "word/styles.xml");
        assert!(
            styles.contains(r#"<w:name w:val="heading 1" />"#),
            "{styles}"
        );
        assert!(styles.contains(r#"<w:name w:val="heading 2" />"#));
    }

    #[test]
    fn a_note_without_sections_keeps_its_text() {
        let mut note = sample_note();
        note.sections.clear();
        note.text = "Dear colleague,\nthank you for seeing [clarify name].".into();
        note.flagged_items.clear();
        note.fabrication_warnings.clear();
        note.codes.clear();
        let document = part(&note_docx(&note).unwrap(), "word/document.xml");
        assert!(document.contains("Dear colleague,"));
        assert!(document.contains("No codes suggested."));
        assert!(document.contains("None."));
        assert_eq!(highlighted_runs(&document), ["[clarify name]"]);
    }

    #[test]
    fn control_characters_do_not_break_the_xml() {
        let mut note = sample_note();
        note.sections[0].text = "bell\u{7} and form feed\u{c} gone".into();
        let document = part(&note_docx(&note).unwrap(), "word/document.xml");
        assert!(document.contains("bell and form feed gone"));
    }
}
