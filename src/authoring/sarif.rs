//! `causeway validate --format sarif`: diagnostics as SARIF 2.1.0, which GitHub code scanning
//! and editors (VS Code's SARIF viewer, ...) show inline on the template's line.
//!
//! One run, tool `causeway`; a rule per status code met (`vitrage/<code>` for Vitrage's codes,
//! `causeway/<code>` for causeway's own, 9000 and up), a result per error or warning with its
//! file, line and column, and the hint as the rule's help.

use crate::check::FileResult;
use crate::diagnostic::{Diagnostic, Severity};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// The SARIF schema this output follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn rule_id(code: u32) -> String {
    if code >= 9000 { format!("causeway/{code}") } else { format!("vitrage/{code}") }
}

fn result(d: &Diagnostic, file: &str) -> Json {
    let level = match d.severity {
        Severity::Warning => "warning",
        _ => "error",
    };
    let mut region = serde_json::Map::new();
    if d.pos.line > 0 {
        region.insert("startLine".into(), json!(d.pos.line));
        if d.pos.column > 0 {
            region.insert("startColumn".into(), json!(d.pos.column));
        }
    }
    let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": file}}});
    if !region.is_empty() {
        location["physicalLocation"]["region"] = Json::Object(region);
    }
    json!({
        "ruleId": rule_id(d.code),
        "level": level,
        "message": {"text": format!("[{}] {}", d.code, d.message)},
        "locations": [location],
    })
}

/// The SARIF log of `results`.
pub fn log(results: &[FileResult]) -> Json {
    let mut rules: BTreeMap<String, Json> = BTreeMap::new();
    let mut out = Vec::new();
    for f in results {
        for d in f.error.iter().chain(&f.warnings) {
            let id = rule_id(d.code);
            rules.entry(id.clone()).or_insert_with(|| {
                json!({
                    "id": id,
                    "shortDescription": {"text": d.stage.description()},
                    "help": {"text": d.hint},
                })
            });
            out.push(result(d, &f.file));
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "causeway",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": out,
        }],
    })
}
