//! The work `bazaar bench plugin` measures, compiled twice from this one file: into the plugin,
//! and natively into the benchmark as its yardstick. It depends on nothing but `serde_json`.

use serde_json::{Value, json};

/// Parses a task event's payload, counts the words of its title and description, and builds a
/// short JSON summary of them.
pub fn summarize(payload: &str) -> Result<String, String> {
    let task: Value = serde_json::from_str(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let id = task
        .get("id")
        .and_then(Value::as_str)
        .ok_or("the payload has no string `id`")?;
    let title = task.get("title").and_then(Value::as_str).unwrap_or("");
    let description = task.get("description").and_then(Value::as_str).unwrap_or("");
    let mut words = 0usize;
    let mut longest = "";
    for word in title.split_whitespace().chain(description.split_whitespace()) {
        words += 1;
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        if word.len() > longest.len() {
            longest = word;
        }
    }
    let labels = task.get("labels").and_then(Value::as_array).map_or(0, Vec::len);
    Ok(json!({
        "task": id,
        "words": words,
        "characters": title.chars().count() + description.chars().count(),
        "longest_word": longest,
        "labels": labels,
        "reading_seconds": words * 60 / 200,
    })
    .to_string())
}
