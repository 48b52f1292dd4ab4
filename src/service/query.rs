//! Vitrage's query language (`vitrage/graph/query.py`), used by topology and resource listing.
//!
//! A query is a JSON object with one operator: `{"and": [q, ...]}`, `{"or": [q, ...]}`, or a
//! comparison `{"==": {"field": value, ...}}` with `<`, `<=`, `==`, `!=`, `>=`, `>` (several
//! fields under one comparison must all hold). An empty `and`/`or` list or comparison object
//! matches nothing. Vitrage reads only the *last* key of an object (`dict.popitem()`), so that is
//! what this does too. `not` is documented by Vitrage but not implemented, so it is an error.
//!
//! Comparisons are Python's: a missing field is `None`, `True == 1`, `1 == 1.0`, and ordering a
//! `None` or a string against a number raises, which Vitrage reports as a failed request. The
//! error surfaces only when such a comparison is actually evaluated, as in Python.

use serde_json::{Map, Value, json};
use std::cmp::Ordering;

/// A compiled query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every sub-query holds.
    And(Vec<Query>),
    /// Some sub-query holds.
    Or(Vec<Query>),
    /// Every `(operator, field, value)` holds.
    Compare(Vec<(Op, String, Value)>),
    /// Matches nothing (an empty `and`, `or` or comparison).
    Nothing,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

/// A query that cannot be built, or a comparison Python would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

impl Query {
    /// Compiles a query object.
    pub fn compile(query: &Value) -> Result<Query, QueryError> {
        let Some((key, value)) = query.as_object().and_then(|o| o.iter().next_back()) else {
            return Err(QueryError(format!(
                "invalid query format: {query} is not an operator object"
            )));
        };
        let op = match key.as_str() {
            "and" | "or" => {
                let Some(items) = value.as_array() else {
                    return Err(QueryError(format!("invalid query format: '{key}' needs a list")));
                };
                if items.is_empty() {
                    return Ok(Query::Nothing);
                }
                let parts = items.iter().map(Query::compile).collect::<Result<Vec<_>, _>>()?;
                return Ok(if key == "and" { Query::And(parts) } else { Query::Or(parts) });
            }
            "<" => Op::Lt,
            "<=" => Op::Le,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            ">=" => Op::Ge,
            ">" => Op::Gt,
            other => {
                return Err(QueryError(format!(
                    "invalid query format: unknown operator '{other}'"
                )));
            }
        };
        let Some(fields) = value.as_object() else {
            return Err(QueryError(format!("invalid query format: '{key}' needs an object")));
        };
        if fields.is_empty() {
            return Ok(Query::Nothing);
        }
        Ok(Query::Compare(fields.iter().map(|(f, v)| (op, f.clone(), v.clone())).collect()))
    }

    /// Whether a property dict matches, short-circuiting as Python's `all` and `any` do.
    pub fn matches(&self, item: &Map<String, Value>) -> Result<bool, QueryError> {
        match self {
            Query::Nothing => Ok(false),
            Query::And(parts) => {
                for part in parts {
                    if !part.matches(item)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Query::Or(parts) => {
                for part in parts {
                    if part.matches(item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Query::Compare(tests) => {
                for (op, field, value) in tests {
                    let actual = item.get(field).unwrap_or(&Value::Null);
                    if !compare(*op, actual, value)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }
}

/// `{"==": {field: value}}`.
pub fn equals(field: &str, value: Value) -> Value {
    json!({"==": {field: value}})
}

/// Vitrage's `_add_project_to_query`: append the project condition to a top-level `and`, or wrap
/// the query in a new `and` with the condition first.
pub fn with_condition(mut query: Value, condition: Value) -> Result<Value, QueryError> {
    if let Some(and) = query.as_object_mut().and_then(|o| o.get_mut("and")) {
        let Some(list) = and.as_array_mut() else {
            return Err(QueryError("invalid query format: 'and' needs a list".to_owned()));
        };
        list.push(condition);
        return Ok(query);
    }
    Ok(json!({"and": [condition, query]}))
}

/// Vitrage's tenant condition (`_add_project_to_query`): the caller's project, and for an admin
/// also vertices of no project.
pub fn project_condition(project_id: Option<&str>, is_admin: bool) -> Value {
    let mine = equals("project_id", json!(project_id));
    if is_admin { json!({"or": [mine, equals("project_id", Value::Null)]}) } else { mine }
}

/// `_get_query_with_project`: live (not deleted, not placeholder) vertices of one category in the
/// caller's scope.
pub fn category_in_scope(category: &str, project_id: Option<&str>, is_admin: bool) -> Value {
    json!({"and": [
        equals("vitrage_is_deleted", json!(false)),
        equals("vitrage_is_placeholder", json!(false)),
        equals("vitrage_category", json!(category)),
        project_condition(project_id, is_admin),
    ]})
}

/// `RESOURCES_ALL_QUERY`: every live resource.
pub fn all_resources() -> Value {
    json!({"and": [
        equals("vitrage_category", json!("RESOURCE")),
        equals("vitrage_is_deleted", json!(false)),
        equals("vitrage_is_placeholder", json!(false)),
    ]})
}

/// `TOPOLOGY_AND_ALARMS_QUERY`: every live resource and alarm.
pub fn topology_and_alarms() -> Value {
    json!({"and": [
        equals("vitrage_is_deleted", json!(false)),
        equals("vitrage_is_placeholder", json!(false)),
        {"or": [equals("vitrage_category", json!("ALARM")), equals("vitrage_category", json!("RESOURCE"))]},
    ]})
}

/// `EDGE_QUERY` and `ALARMS_ALL_QUERY`'s deletion test: `vitrage_is_deleted == False`.
pub fn not_deleted() -> Value {
    equals("vitrage_is_deleted", json!(false))
}

fn compare(op: Op, left: &Value, right: &Value) -> Result<bool, QueryError> {
    Ok(match op {
        Op::Eq => py_eq(left, right),
        Op::Ne => !py_eq(left, right),
        Op::Lt => py_cmp(left, right)? == Ordering::Less,
        Op::Le => py_cmp(left, right)? != Ordering::Greater,
        Op::Ge => py_cmp(left, right)? != Ordering::Less,
        Op::Gt => py_cmp(left, right)? == Ordering::Greater,
    })
}

/// A number as Python sees it, booleans included.
fn numeric(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Python `==` between JSON values.
pub fn py_eq(left: &Value, right: &Value) -> bool {
    if let (Value::Number(a), Value::Number(b)) = (left, right)
        && let (Some(a), Some(b)) = (a.as_i64(), b.as_i64())
    {
        return a == b;
    }
    if let (Some(a), Some(b)) = (numeric(left), numeric(right)) {
        return a == b;
    }
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| py_eq(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => false,
    }
}

/// Python ordering between JSON values: numbers with numbers, strings with strings, lists
/// element by element; anything else raises `TypeError`.
pub fn py_cmp(left: &Value, right: &Value) -> Result<Ordering, QueryError> {
    if let (Value::Number(a), Value::Number(b)) = (left, right)
        && let (Some(a), Some(b)) = (a.as_i64(), b.as_i64())
    {
        return Ok(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (numeric(left), numeric(right)) {
        return Ok(a.partial_cmp(&b).unwrap_or(Ordering::Equal));
    }
    match (left, right) {
        (Value::String(a), Value::String(b)) => Ok(a.cmp(b)),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter().zip(b) {
                if !py_eq(x, y) {
                    return py_cmp(x, y);
                }
            }
            Ok(a.len().cmp(&b.len()))
        }
        _ => Err(QueryError(format!(
            "'<' not supported between {} and {}",
            type_name(left),
            type_name(right)
        ))),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "'NoneType'",
        Value::Bool(_) => "'bool'",
        Value::Number(_) => "'number'",
        Value::String(_) => "'str'",
        Value::Array(_) => "'list'",
        Value::Object(_) => "'dict'",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn matches(query: Value, props: Value) -> Result<bool, QueryError> {
        Query::compile(&query)?.matches(&item(props))
    }

    #[test]
    fn logic_and_comparisons() {
        let host = json!({"vitrage_type": "nova.host", "vitrage_is_deleted": false, "n": 3});
        let q = json!({"and": [
            {"==": {"vitrage_is_deleted": false}},
            {"or": [{"==": {"vitrage_type": "nova.zone"}}, {"==": {"vitrage_type": "nova.host"}}]}
        ]});
        assert_eq!(matches(q, host.clone()), Ok(true));
        assert_eq!(matches(json!({">": {"n": 2}, "<": {"n": 3}}), host.clone()), Ok(false));
        assert_eq!(matches(json!({"<": {"n": 3}, ">": {"n": 2}}), host.clone()), Ok(true));
        assert_eq!(
            matches(json!({"==": {"n": 3, "vitrage_type": "nova.host"}}), host.clone()),
            Ok(true)
        );
        assert_eq!(matches(json!({"!=": {"missing": null}}), host.clone()), Ok(false));
        assert_eq!(matches(json!({"or": []}), host.clone()), Ok(false));
        assert_eq!(matches(json!({"==": {}}), host), Ok(false));
    }

    #[test]
    fn python_equality_and_ordering() {
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(!py_eq(&json!("1"), &json!(1)));
        assert!(py_eq(&json!({"a": [1, null]}), &json!({"a": [1.0, null]})));
        assert_eq!(py_cmp(&json!("b"), &json!("a")), Ok(Ordering::Greater));
        assert_eq!(py_cmp(&json!([1, 2]), &json!([1, 3])), Ok(Ordering::Less));
        assert_eq!(py_cmp(&json!([1]), &json!([1, 0])), Ok(Ordering::Less));
        assert!(py_cmp(&json!(null), &json!(1)).is_err());
        assert!(py_cmp(&json!("a"), &json!(1)).is_err());
    }

    #[test]
    fn type_errors_only_when_evaluated() {
        let q = json!({"or": [{"==": {"a": 1}}, {">": {"b": 1}}]});
        assert_eq!(matches(q.clone(), json!({"a": 1})), Ok(true));
        assert!(matches(q, json!({"a": 2})).is_err());
    }

    #[test]
    fn malformed_queries() {
        for bad in [
            json!([]),
            json!({}),
            json!("x"),
            json!({"not": {"==": {"a": 1}}}),
            json!({"and": {"==": {"a": 1}}}),
            json!({"==": [1]}),
            json!({"and": ["x"]}),
        ] {
            assert!(Query::compile(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn adds_conditions_like_vitrage() {
        let project = equals("project_id", json!("p"));
        let and = with_condition(json!({"and": [{"==": {"a": 1}}]}), project.clone());
        assert_eq!(and, Ok(json!({"and": [{"==": {"a": 1}}, {"==": {"project_id": "p"}}]})));
        let wrapped = with_condition(json!({"==": {"a": 1}}), project.clone());
        assert_eq!(wrapped, Ok(json!({"and": [{"==": {"project_id": "p"}}, {"==": {"a": 1}}]})));
        assert!(with_condition(json!({"and": 1}), project).is_err());
    }
}
