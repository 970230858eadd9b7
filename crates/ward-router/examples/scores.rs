//! Local-only: dev-split scores for calibration.
fn main() {
    let text = std::fs::read_to_string("crates/ward-router/data/complexity.jsonl").unwrap();
    let split = std::env::args().nth(1).unwrap_or("dev".into());
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["split"] != split.as_str() {
            continue;
        }
        let t = v["text"].as_str().unwrap();
        let s = ward_router::complexity::score_text(t);
        let snippet: String = t.chars().take(110).collect::<String>().replace('\n', " ");
        println!("{:.2}\t{}\t{}", s, v["label"].as_str().unwrap(), snippet);
    }
}
