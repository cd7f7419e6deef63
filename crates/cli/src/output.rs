//! Rendering API responses for people (tables) and machines (JSON).

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

/// `println!` that survives a closed pipe (see [`emit`]).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::emit(&format!($($arg)*))
    };
}

/// Writes a line to stdout. A closed pipe (`cloudward call ... | head`) ends the program
/// quietly with success instead of panicking inside `println!`.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(err) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(2);
    }
}

/// Output format of client commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Pretty-printed JSON, exactly as the server answered.
    Json,
    /// A readable table.
    Table,
}

/// Renders a response as a table: the first list of records becomes rows; otherwise the
/// fields become `key | value` rows (nested fields with dotted names).
pub fn table(value: &Value) -> String {
    if let Some(rows) = first_record_list(value) {
        let mut columns: Vec<String> = Vec::new();
        for row in rows {
            if let Value::Object(map) = row {
                for key in map.keys() {
                    if !columns.contains(key) {
                        columns.push(key.clone());
                    }
                }
            }
        }
        let mut table = Table::new();
        table.load_style(UTF8_FULL_CONDENSED);
        table.set_header(columns.clone());
        for row in rows {
            table.add_row(
                columns
                    .iter()
                    .map(|c| row.get(c).map(scalar).unwrap_or_default())
                    .collect::<Vec<_>>(),
            );
        }
        return table.to_string();
    }
    let mut rows = Vec::new();
    flatten("", value, &mut rows);
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec!["Field", "Value"]);
    for (k, v) in rows {
        table.add_row(vec![k, v]);
    }
    table.to_string()
}

fn first_record_list(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Array(items) if items.iter().any(Value::is_object) => Some(items),
        Value::Object(map) => map.values().find_map(first_record_list),
        _ => None,
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_owned(), scalar(other))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_become_rows() {
        let out = table(&json!({"RequestId": "x", "Users": {"User": [
            {"UserName": "alice", "UserId": "1"}, {"UserName": "bob", "UserId": "2"}]}}));
        assert!(out.contains("UserName"));
        assert!(out.contains("alice") && out.contains("bob"));
        assert!(!out.contains("RequestId"));
    }

    #[test]
    fn objects_become_fields() {
        let out = table(&json!({"AccountId": "123", "Arn": "acs:ram::123:root"}));
        assert!(out.contains("AccountId") && out.contains("acs:ram::123:root"));
    }
}
