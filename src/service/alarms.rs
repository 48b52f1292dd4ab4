//! `/v1/alarm/`: list, show, count and history (`vitrage/api_handler/apis/alarm.py`,
//! `api/controllers/v1/alarm.py`, `alarm_base.py`, `count.py`, `history.py`).
//!
//! Vitrage answers the list and the count from its history database's active rows; causeway
//! answers them from the live view's alarm vertices (not deleted, not placeholders), which hold
//! the same alarms with their current properties. History reads [`AlarmRecord`]s from the store.

use super::caller::Caller;
use super::error::ApiError;
use super::history::AlarmRecord;
use super::paging::{Row, Selection};
use super::params::{Params, is_falsy};
use super::timestamp::Timestamp;
use super::view::View;
use serde_json::{Map, Value, json};

/// The keys of `GET /v1/alarm/count/`, in Vitrage's order.
pub const SEVERITIES: [&str; 5] = ["SEVERE", "CRITICAL", "WARNING", "OK", "N/A"];

/// `GET /v1/alarm/` with `vitrage_id` (`all`, or a resource whose alarms to list),
/// `all_tenants`, `limit`, `sort_by`, `sort_dirs`, `filter_by`, `filter_vals`, `next_page`,
/// `marker`: the active alarms' dicts.
pub fn list(view: &View, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    let selection = Selection::from_params(params, caller, true)?;
    let rows = selection.select(active_rows(view), caller);
    Ok(Value::Array(rows.into_iter().map(|r| Value::Object(r.payload)).collect()))
}

/// `GET /v1/alarm/<vitrage_id>`: the alarm vertex's dict; 404 `Failed to show alarm.` unless it
/// is an ALARM the caller may see (its project, or any for an admin).
pub fn show(view: &View, caller: &Caller, vitrage_id: &str) -> Result<Value, ApiError> {
    let failed = || ApiError::not_found("Failed to show alarm.");
    let props = view.find(vitrage_id).map(|v| view.props(v)).ok_or_else(failed)?;
    if props.get("vitrage_category").and_then(Value::as_str) != Some("ALARM") {
        return Err(failed());
    }
    if !caller.is_admin
        && caller.project_id.as_deref() != props.get("project_id").and_then(Value::as_str)
    {
        return Err(failed());
    }
    Ok(Value::Object(props.clone()))
}

/// `GET /v1/alarm/count/` with `all_tenants`: active alarms in scope by
/// `vitrage_operational_severity`, all five keys (`SEVERE`, `CRITICAL`, `WARNING`, `OK`, `N/A`)
/// present.
pub fn count(view: &View, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    let all_tenants = caller.authorize(params.bool("all_tenants", false))?;
    let scope = Params::json(json!({"all_tenants": all_tenants, "limit": 0}));
    let rows = Selection::from_params(&scope, caller, true)?.select(active_rows(view), caller);
    let mut counts: Map<String, Value> =
        SEVERITIES.iter().map(|s| ((*s).to_owned(), json!(0))).collect();
    for row in rows {
        let severity = row.payload.get("vitrage_operational_severity").and_then(Value::as_str);
        if let Some(slot) = severity.and_then(|s| counts.get_mut(s)) {
            *slot = json!(slot.as_u64().unwrap_or(0) + 1);
        }
    }
    Ok(Value::Object(counts))
}

/// What `GET /v1/alarm/history/` needs from the store: alarms that had not ended by `start`
/// (all of them without a `start`).
pub fn history_since(params: &Params) -> Result<Option<Timestamp>, ApiError> {
    match params.string("start")? {
        None | Some("") => Ok(None),
        Some(text) => Timestamp::parse(text)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("start is not a time: {text}"))),
    }
}

/// `GET /v1/alarm/history/` with the list's parameters plus `start` and `end`: active and ended
/// alarms, each with `start_timestamp`; an ended one also has `end_timestamp`,
/// `vitrage_operational_severity: OK` and `state: Inactive`.
pub fn history(
    records: &[AlarmRecord],
    caller: &Caller,
    params: &Params,
) -> Result<Value, ApiError> {
    let selection = Selection::from_params(params, caller, false)?;
    let rows = records
        .iter()
        .map(|r| Row {
            payload: r.alarm.clone(),
            start: Some(r.start_timestamp),
            end: r.end_timestamp,
        })
        .collect();
    let out = selection.select(rows, caller).into_iter().map(|row| {
        let mut alarm = row.payload;
        if let Some(start) = row.start {
            alarm.insert("start_timestamp".to_owned(), json!(start.to_string()));
        }
        if let Some(end) = row.end {
            alarm.insert("end_timestamp".to_owned(), json!(end.to_string()));
            alarm.insert("vitrage_operational_severity".to_owned(), json!("OK"));
            alarm.insert("state".to_owned(), json!("Inactive"));
        }
        Value::Object(alarm)
    });
    Ok(Value::Array(out.collect()))
}

/// The view's active alarms as history rows: ALARM vertices neither deleted nor placeholders.
fn active_rows(view: &View) -> Vec<Row> {
    let flag = |props: &Map<String, Value>, key: &str| props.get(key).is_some_and(|v| !is_falsy(v));
    view.vertices
        .iter()
        .filter(|v| v.str("vitrage_category") == Some("ALARM"))
        .filter(|v| {
            !flag(&v.props, "vitrage_is_deleted") && !flag(&v.props, "vitrage_is_placeholder")
        })
        .map(|v| Row {
            start: v.str("start_timestamp").and_then(Timestamp::parse),
            payload: v.props.clone(),
            end: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testing::{ids, vertex, vertex_with, view as build};
    use crate::service::view::VertexView;

    fn alarm(id: &str, severity: &str, start: &str, extra: Value) -> VertexView {
        let props = json!({
            "vitrage_id": id, "vitrage_category": "ALARM", "vitrage_type": "zabbix", "name": id,
            "vitrage_operational_severity": severity, "start_timestamp": start
        });
        vertex_with(props, extra)
    }

    fn view() -> View {
        let at = |second: u32| format!("2026-01-01 10:00:0{second}+00:00");
        build(
            vec![
                alarm("z2", "CRITICAL", &at(2), json!({"vitrage_resource_id": "host"})),
                alarm("z1", "WARNING", &at(1), json!({"project_id": "p1"})),
                alarm("gone", "CRITICAL", &at(0), json!({"vitrage_is_deleted": true})),
                alarm("other", "SEVERE", &at(3), json!({"project_id": "p2"})),
                vertex(json!({"vitrage_id": "host", "vitrage_category": "RESOURCE"})),
            ],
            vec![],
        )
    }

    #[test]
    fn lists_active_alarms_in_scope() {
        let client = Params::json(json!({
            "vitrage_id": "all", "all_tenants": "False", "sort_by": ["start_timestamp", "vitrage_id"],
            "sort_dirs": ["asc", "asc"], "next_page": "True"
        }));
        assert_eq!(ids(&list(&view(), &Caller::admin("p1"), &client).expect("list")), ["z1", "z2"]);
        assert_eq!(ids(&list(&view(), &Caller::member("p1"), &client).expect("list")), ["z1"]);
        let all = Params::json(json!({"all_tenants": "True"}));
        assert_eq!(
            ids(&list(&view(), &Caller::admin("p1"), &all).expect("list")),
            ["z1", "z2", "other"]
        );
        assert_eq!(list(&view(), &Caller::member("p1"), &all), Err(ApiError::forbidden()));
        let on_host = Params::json(json!({"vitrage_id": "host"}));
        assert_eq!(ids(&list(&view(), &Caller::member("p9"), &on_host).expect("list")), ["z2"]);
    }

    #[test]
    fn shows_alarms_only() {
        assert_eq!(show(&view(), &Caller::admin("p"), "z2").expect("alarm")["name"], json!("z2"));
        assert_eq!(show(&view(), &Caller::member("p1"), "z1").expect("own")["name"], json!("z1"));
        for (caller, id) in [
            (Caller::admin("p"), "host"),
            (Caller::admin("p"), "nope"),
            (Caller::member("p1"), "z2"),
        ] {
            assert_eq!(
                show(&view(), &caller, id),
                Err(ApiError::not_found("Failed to show alarm."))
            );
        }
    }

    #[test]
    fn counts_by_operational_severity() {
        let counts = count(&view(), &Caller::admin("p1"), &Params::default()).expect("count");
        assert_eq!(counts, json!({"SEVERE": 0, "CRITICAL": 1, "WARNING": 1, "OK": 0, "N/A": 0}));
        let keys: Vec<&String> = counts.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys, SEVERITIES.iter().collect::<Vec<_>>());
        let all = count(&view(), &Caller::admin("p1"), &Params::json(json!({"all_tenants": true})));
        assert_eq!(all.expect("count")["SEVERE"], json!(1));
    }

    #[test]
    fn history_marks_ended_alarms() {
        let record = |id: &str, start: i64, end: Option<i64>| {
            AlarmRecord {
            alarm: json!({"vitrage_id": id, "state": "Active", "vitrage_operational_severity": "CRITICAL"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            start_timestamp: Timestamp(start),
            end_timestamp: end.map(Timestamp),
        }
        };
        let records = [record("old", 1_000_000, Some(2_000_000)), record("live", 3_000_000, None)];
        let out = history(&records, &Caller::admin("p"), &Params::default()).expect("history");
        assert_eq!(ids(&out), ["old", "live"]);
        assert_eq!(out[0]["end_timestamp"], json!("1970-01-01 00:00:02+00:00"));
        assert_eq!(out[0]["state"], json!("Inactive"));
        assert_eq!(out[0]["vitrage_operational_severity"], json!("OK"));
        assert_eq!(out[1]["start_timestamp"], json!("1970-01-01 00:00:03+00:00"));
        assert_eq!(out[1].get("end_timestamp"), None);
        let since = Params::json(json!({"start": "1970-01-01T00:00:02.5"}));
        assert_eq!(history_since(&since), Ok(Some(Timestamp(2_500_000))));
        assert_eq!(
            ids(&history(&records, &Caller::admin("p"), &since).expect("history")),
            ["live"]
        );
    }
}
