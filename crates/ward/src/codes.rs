//! `ward codes search|show`: the embedded ICD-10-CM code set, or a customer's CPT table, from the
//! command line.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use ward_clinical::cpt::CptTable;
use ward_clinical::icd10::{self, Code, CodeSet};

pub struct SearchOptions {
    pub query: String,
    pub limit: usize,
    pub json: bool,
    /// Leave out categories and other codes that are not valid on a claim.
    pub billable_only: bool,
    /// Search this CPT table instead of ICD-10-CM.
    pub cpt_table: Option<PathBuf>,
}

pub fn search(options: &SearchOptions) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match &options.cpt_table {
        Some(path) => write_cpt_search(&mut out, &load_cpt_table(path)?, options),
        None => write_search(&mut out, CodeSet::builtin(), options),
    }
}

pub fn show(code: &str, json: bool) -> anyhow::Result<()> {
    write_show(&mut io::stdout().lock(), CodeSet::builtin(), code, json)
}

fn load_cpt_table(path: &Path) -> anyhow::Result<CptTable> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the CPT table {}", path.display()))?;
    CptTable::parse(&text).with_context(|| format!("the CPT table {} is not valid", path.display()))
}

/// Scores are for ordering; three decimals are plenty and keep the JSON readable.
fn rounded(score: f32) -> f64 {
    (f64::from(score) * 1000.0).round() / 1000.0
}

fn kind(code: &Code) -> &'static str {
    if code.billable {
        "billable"
    } else {
        "category"
    }
}

fn write_search(
    out: &mut dyn Write,
    codes: &CodeSet,
    options: &SearchOptions,
) -> anyhow::Result<()> {
    let hits = codes.search_where(&options.query, options.limit, |code| {
        code.billable || !options.billable_only
    });
    if hits.is_empty() && !options.json {
        eprintln!("no {} code matches", codes.version());
    }
    for hit in hits {
        if options.json {
            let line = json!({
                "code": hit.code.code,
                "description": hit.code.description,
                "billable": hit.code.billable,
                "score": rounded(hit.score),
            });
            writeln!(out, "{line}")?;
        } else {
            writeln!(
                out,
                "{:<8}  {:<8}  {}",
                hit.code.code,
                kind(hit.code),
                hit.code.description
            )?;
        }
    }
    Ok(())
}

fn write_cpt_search(
    out: &mut dyn Write,
    table: &CptTable,
    options: &SearchOptions,
) -> anyhow::Result<()> {
    let hits = table.search(&options.query, options.limit);
    if hits.is_empty() && !options.json {
        eprintln!("no CPT code in the table matches");
    }
    for hit in hits {
        if options.json {
            let line = json!({
                "code": hit.code.code,
                "descriptor": hit.code.descriptor,
                "score": rounded(hit.score),
            });
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{:<8}  {}", hit.code.code, hit.code.descriptor)?;
        }
    }
    Ok(())
}

fn brief(code: Option<&Code>) -> Value {
    code.map_or(
        Value::Null,
        |code| json!({"code": code.code, "description": code.description}),
    )
}

fn write_show(out: &mut dyn Write, codes: &CodeSet, code: &str, json: bool) -> anyhow::Result<()> {
    let Some(found) = codes.lookup(code) else {
        let Some(normalised) = icd10::normalise(code) else {
            bail!(
                "{:?} is not shaped like an ICD-10-CM code (e.g. E11.9)",
                code.trim()
            );
        };
        match codes.nearest_above(&normalised) {
            Some(nearest) => bail!(
                "{normalised} is not an {} code; the nearest above it is {} ({})",
                codes.version(),
                nearest.code,
                nearest.description
            ),
            None => bail!("{normalised} is not an {} code", codes.version()),
        }
    };
    let parent = codes.parent(found);
    let category = codes.category(found);
    if json {
        let record = json!({
            "code": found.code,
            "description": found.description,
            "billable": found.billable,
            "parent": brief(parent),
            "category": brief(category),
            "synonyms": found.synonyms,
            "version": codes.version(),
        });
        writeln!(out, "{record}")?;
        return Ok(());
    }
    writeln!(out, "code:        {}", found.code)?;
    writeln!(out, "description: {}", found.description)?;
    let billable = if found.billable {
        "yes"
    } else {
        "no (a category: pick a code under it)"
    };
    writeln!(out, "billable:    {billable}")?;
    if let Some(parent) = parent {
        writeln!(out, "parent:      {}  {}", parent.code, parent.description)?;
    }
    if let Some(category) = category {
        writeln!(
            out,
            "category:    {}  {}",
            category.code, category.description
        )?;
    }
    for (number, synonym) in found.synonyms.iter().enumerate() {
        let label = if number == 0 { "synonyms:" } else { "" };
        writeln!(out, "{label:<12} {synonym}")?;
    }
    writeln!(out, "code set:    {}", codes.version())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn options(query: &str) -> SearchOptions {
        SearchOptions {
            query: query.to_owned(),
            limit: 3,
            json: false,
            billable_only: false,
            cpt_table: None,
        }
    }

    fn search_output(options: &SearchOptions) -> String {
        let mut out = Vec::new();
        write_search(&mut out, CodeSet::builtin(), options).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn show_output(code: &str, json: bool) -> anyhow::Result<String> {
        let mut out = Vec::new();
        write_show(&mut out, CodeSet::builtin(), code, json)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn search_prints_code_kind_and_description() {
        let output = search_output(&options("gestational diabetes diet controlled"));
        assert_eq!(
            output.lines().next(),
            Some("O24.410   billable  Gestational diabetes mellitus in pregnancy, diet controlled")
        );
        assert_eq!(output.lines().count(), 3);
        let output = search_output(&options("O24.4"));
        assert!(output.starts_with("O24.4     category  Gestational diabetes mellitus\n"));
    }

    #[test]
    fn search_json_and_billable_only() {
        let mut options = options("O24.4");
        options.json = true;
        options.billable_only = true;
        let output = search_output(&options);
        let first: Value = serde_json::from_str(output.lines().next().unwrap()).unwrap();
        assert_eq!(first["code"], "O24.410");
        assert_eq!(first["billable"], true);
        assert!(first["score"].as_f64().unwrap() > 0.0);
        assert!(output
            .lines()
            .all(|line| line.contains("\"billable\":true")));
    }

    #[test]
    fn search_a_customer_cpt_table() {
        // Invented codes and descriptors; no AMA text.
        let table = CptTable::parse(
            "code\tdescriptor\n10001\tWidget insertion, left knee\n10002\tGadget removal\n",
        )
        .unwrap();
        let mut out = Vec::new();
        write_cpt_search(&mut out, &table, &options("gadget")).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "10002     Gadget removal\n"
        );
    }

    #[test]
    fn show_prints_parent_category_and_synonyms() {
        let output = show_output("s52521a", false).unwrap();
        assert!(output.starts_with("code:        S52.521A\n"));
        assert!(output.contains("billable:    yes\n"));
        assert!(
            output.contains("parent:      S52.521  Torus fracture of lower end of right radius\n")
        );
        assert!(output.contains("category:    S52  Fracture of forearm\n"));
        assert!(output.ends_with("code set:    ICD-10-CM 2026\n"));
        let output = show_output("I10", false).unwrap();
        assert!(output.contains("synonyms:    high blood pressure\n"));
        let record: Value = serde_json::from_str(&show_output("E11.9", true).unwrap()).unwrap();
        assert_eq!(record["billable"], true);
        assert_eq!(record["parent"]["code"], "E11");
        assert_eq!(record["category"]["code"], "E11");
        assert_eq!(record["version"], "ICD-10-CM 2026");
    }

    #[test]
    fn show_names_an_unknown_code() {
        let error = show_output("E11.99", false).unwrap_err().to_string();
        assert_eq!(
            error,
            "E11.99 is not an ICD-10-CM 2026 code; the nearest above it is E11.9 (Type 2 diabetes mellitus without complications)"
        );
        let error = show_output("Z99.999", false).unwrap_err().to_string();
        assert!(
            error.starts_with("Z99.999 is not an ICD-10-CM 2026 code"),
            "{error}"
        );
        let error = show_output("diabetes", false).unwrap_err().to_string();
        assert!(
            error.contains("\"diabetes\" is not shaped like an ICD-10-CM code"),
            "{error}"
        );
    }

    #[test]
    fn the_command_line_reaches_these_functions() {
        let cli = crate::Cli::try_parse_from([
            "ward",
            "codes",
            "search",
            "gestational",
            "diabetes",
            "--limit",
            "3",
            "--billable",
        ])
        .unwrap();
        let crate::Command::Codes {
            action:
                crate::CodesCommand::Search {
                    query,
                    limit,
                    billable,
                    ..
                },
        } = cli.command
        else {
            panic!("not codes search");
        };
        assert_eq!(
            (query.join(" "), limit, billable),
            ("gestational diabetes".to_owned(), 3, true)
        );
        assert!(crate::Cli::try_parse_from(["ward", "codes", "search"]).is_err());
        assert!(crate::Cli::try_parse_from([
            "ward",
            "codes",
            "search",
            "x",
            "--billable",
            "--cpt-table",
            "cpt.tsv"
        ])
        .is_err());
        assert!(crate::Cli::try_parse_from(["ward", "codes", "show", "E11.9", "--json"]).is_ok());
    }
}
