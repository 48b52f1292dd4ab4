//! Template functions in values: `get_param(...)` (resolved when a template is added) and
//! the detection of `get_attr(...)`-like calls, with Vitrage's exact matching rules.

use super::codes;
use super::yaml::{Node, Value};
use crate::diagnostic::{Diagnostic, Stage};
use std::collections::BTreeMap;

/// Actual parameter values given by the caller (`--param NAME=VALUE`).
pub type Params = BTreeMap<String, String>;

/// Vitrage's `is_function`: `re.match(r'.*\(.*\)', value)` (a `(` then a `)` on the first line).
pub fn is_function(value: &str) -> bool {
    let line = value.split('\n').next().unwrap_or("");
    match line.find('(') {
        Some(open) => line[open..].contains(')'),
        None => false,
    }
}

/// Whether a value is a `get_param(...)` call as Vitrage detects it.
fn is_get_param(value: &str) -> bool {
    value.starts_with("get_param(") && is_function(&value["get_param".len()..])
}

/// How `get_param` is treated: v1 rejects it (160), v2 and v3 resolve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamSupport {
    /// Version 1: any `get_param(...)` is an error.
    Unsupported,
    /// Versions 2 and 3.
    Supported,
}

/// Checks every `get_param(...)` in the template, in document order; Vitrage's first error.
pub fn validate(
    t: &Node,
    support: ParamSupport,
    actual: Option<&Params>,
) -> Result<(), Diagnostic> {
    resolve(t, support, actual).map(|_| ())
}

/// The template with every `get_param(...)` replaced by its value.
pub fn resolve(
    t: &Node,
    support: ParamSupport,
    actual: Option<&Params>,
) -> Result<Node, Diagnostic> {
    walk(t, t, support, actual)
}

fn walk(
    t: &Node,
    block: &Node,
    support: ParamSupport,
    actual: Option<&Params>,
) -> Result<Node, Diagnostic> {
    let Some(entries) = block.as_map() else {
        // Vitrage iterates `.items()` of every list item; a scalar item crashes it.
        return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, block.pos));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let new_value = match &value.value {
            Value::Str(s) if is_get_param(s) => {
                let resolved = match support {
                    ParamSupport::Unsupported => Err((160, s.clone())),
                    ParamSupport::Supported => get_param(s, t, actual),
                };
                match resolved {
                    Ok(v) => Node::str(v, value.pos),
                    Err((code, details)) => return Err(custom(code, &details, value)),
                }
            }
            Value::Str(_) => value.clone(),
            Value::Map(_) => walk(t, value, support, actual)?,
            Value::Seq(items) => {
                let mut new_items = Vec::with_capacity(items.len());
                for item in items {
                    new_items.push(walk(t, item, support, actual)?);
                }
                Node { value: Value::Seq(new_items), pos: value.pos, alias: value.alias }
            }
        };
        out.push((key.clone(), new_value));
    }
    Ok(Node { value: Value::Map(out), pos: block.pos, alias: block.alias })
}

fn custom(code: u32, details: &str, at: &Node) -> Diagnostic {
    match codes::message(code) {
        Some(m) if code < 9000 => {
            Diagnostic::with_message(code, Stage::Template, at.pos, format!("{m} - {details}"))
        }
        _ => Diagnostic::with_message(
            code,
            Stage::Template,
            at.pos,
            format!("{} - {details}", codes::message(code).unwrap_or("")),
        ),
    }
}

/// Vitrage's `get_param`: the actual value, else the declared non-empty default.
fn get_param(call: &str, t: &Node, actual: Option<&Params>) -> Result<String, (u32, String)> {
    let defs = match t.get("parameters") {
        Some(d) if d.truthy() => d,
        _ => return Err((161, String::new())),
    };
    if !call.starts_with("get_param(") || !call.ends_with(')') || call.len() < "get_param".len() + 3
    {
        return Err((162, call.to_string()));
    }
    let mut name = &call["get_param".len()..];
    if name.len() > 2 && name.starts_with('(') && name.ends_with(')') {
        name = &name[1..name.len() - 1];
    }
    if name.is_empty() {
        return Err((162, call.to_string()));
    }
    let Some(entries) = defs.as_map() else {
        return Err((codes::BAD_SHAPE, name.to_string()));
    };
    let Some((_, def)) = entries.iter().rev().find(|(k, _)| k.as_str() == Some(name)) else {
        return Err((161, name.to_string()));
    };
    if let Some(v) = actual.and_then(|a| a.get(name)).filter(|v| !v.is_empty()) {
        return Ok(v.clone());
    }
    if !def.truthy() {
        return Err((163, name.to_string()));
    }
    match &def.value {
        Value::Map(_) => match def.get("default") {
            Some(d) if d.truthy() => Ok(d.py_str()),
            _ => Err((163, name.to_string())),
        },
        _ => Err((codes::PARAM_WITHOUT_DEFAULT_FIELD, name.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::yaml::parse;

    #[test]
    fn function_detection_matches_vitrage() {
        assert!(is_function("get_attr(host, name)"));
        assert!(is_function("x (y) z"));
        assert!(!is_function("a ( b"));
        assert!(!is_function("a\n(b)"));
        assert!(is_get_param("get_param(x)"));
        assert!(is_get_param("get_param()"));
        assert!(!is_get_param("get_param(x"));
        assert!(!is_get_param("get_paramx)"));
    }

    #[test]
    fn actual_value_then_default_then_163() {
        let t = parse("parameters:\n  a: {default: A}\n  b: {description: d}\nx: get_param(a)\ny: get_param(b)\n")
            .expect("yaml");
        let err = validate(&t, ParamSupport::Supported, None).expect_err("b has no value");
        assert_eq!(err.code, 163);
        assert_eq!(err.message, "Failed to resolve parameter - b");
        let mut p = Params::new();
        p.insert("b".into(), "B".into());
        let r = resolve(&t, ParamSupport::Supported, Some(&p)).expect("resolves");
        assert_eq!(r.get_str("x"), Some("A"));
        assert_eq!(r.get_str("y"), Some("B"));
    }

    #[test]
    fn malformed_and_undeclared() {
        let t = parse("parameters:\n  a: {default: A}\nx: get_param()\n").expect("yaml");
        assert_eq!(validate(&t, ParamSupport::Supported, None).expect_err("bad").code, 162);
        let t = parse("parameters:\n  a: {default: A}\nx: get_param(z)\n").expect("yaml");
        assert_eq!(validate(&t, ParamSupport::Supported, None).expect_err("bad").code, 161);
        let t = parse("x: get_param(z)\n").expect("yaml");
        assert_eq!(validate(&t, ParamSupport::Unsupported, None).expect_err("bad").code, 160);
    }
}
