//! Selecting alarms the way Vitrage's history database query does
//! (`vitrage/storage/history_facade.py::get_alarms`): tenant filter, time frame, `LIKE`
//! filters, sort keys and marker paging.
//!
//! Filters and sort keys name columns of Vitrage's `alarms` table; anything else is a 400.
//! `filter_vals` match as SQL `LIKE '%value%'` (a substring, ASCII case-insensitive, `%` and `_`
//! wildcards). `vitrage_id` is always the last sort key, so paging is total. `marker` is the
//! `vitrage_id` of the row the page starts after; with `next_page=False` the page ends before it.

use super::caller::Caller;
use super::error::ApiError;
use super::params::Params;
use super::timestamp::Timestamp;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Columns of Vitrage's `alarms` table, the only names `sort_by` and `filter_by` accept.
pub const COLUMNS: &[&str] = &[
    "vitrage_id",
    "start_timestamp",
    "end_timestamp",
    "name",
    "vitrage_type",
    "vitrage_aggregated_severity",
    "vitrage_operational_severity",
    "project_id",
    "vitrage_resource_type",
    "vitrage_resource_id",
    "vitrage_resource_project_id",
    "payload",
];

/// Vitrage's cap on one page.
pub const LIMIT: i64 = 10_000;

/// One alarm row: its dict and its life span.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The alarm's property dict.
    pub payload: Map<String, Value>,
    /// When it started, if known.
    pub start: Option<Timestamp>,
    /// When it ended; `None` while active.
    pub end: Option<Timestamp>,
}

/// The selection parameters of `GET /v1/alarm/` and `/v1/alarm/history/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// `all_tenants`, already authorized.
    pub all_tenants: bool,
    /// `vitrage_id`: `None` or `all` for every alarm in scope, else a resource's id.
    pub vitrage_id: Option<String>,
    /// Start of the time frame (history only).
    pub start: Option<Timestamp>,
    /// End of the time frame (history only, needs `start`).
    pub end: Option<Timestamp>,
    /// Page size; `None` (`limit=0`) lists every row and ignores the marker.
    pub limit: Option<i64>,
    /// Sort keys with their direction (`true` for ascending), `vitrage_id` last at the latest.
    pub sort: Vec<(String, bool)>,
    /// `(column, values)`: the column must be `LIKE` one of the values.
    pub filters: Vec<(String, Vec<String>)>,
    /// `false` for the page before `marker`.
    pub next_page: bool,
    /// The `vitrage_id` the page starts after (or ends before).
    pub marker: Option<String>,
}

impl Selection {
    /// Reads and checks the parameters (`BaseAlarmsController._get_alarms`, `_parse_kwargs`,
    /// `assert_args`). `active_only` is the alarm list, where a time frame is an error.
    pub fn from_params(
        params: &Params,
        caller: &Caller,
        active_only: bool,
    ) -> Result<Selection, ApiError> {
        let all_tenants = caller.authorize(params.bool("all_tenants", false))?;
        let vitrage_id = params.string("vitrage_id")?.map(str::to_owned);
        let time = |key: &str| -> Result<Option<Timestamp>, ApiError> {
            match params.string(key)? {
                None | Some("") => Ok(None),
                Some(text) => Timestamp::parse(text)
                    .map(Some)
                    .ok_or_else(|| ApiError::bad_request(format!("{key} is not a time: {text}"))),
            }
        };
        let (start, end) = (time("start")?, time("end")?);
        if active_only && (start.is_some() || end.is_some()) {
            return Err(ApiError::bad_request(
                "'only_active_alarms' can't be used with 'start' or 'end'",
            ));
        }
        if end.is_some() && start.is_none() {
            return Err(ApiError::bad_request("'end' can't be used without 'start'"));
        }
        // SQL treats a negative LIMIT as none; Vitrage skips paging altogether for 0.
        let limit = match params.int("limit")?.unwrap_or(LIMIT) {
            0 => None,
            n if n < 0 => Some(i64::MAX),
            n => Some(n.min(LIMIT)),
        };
        let strings = |key: &str| -> Result<Vec<String>, ApiError> {
            params
                .list(key)
                .unwrap_or_default()
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => {
                        Err(ApiError::bad_request(format!("{key} must hold strings, not {other}")))
                    }
                })
                .collect()
        };
        let mut sort_by = match params.get("sort_by") {
            None => vec!["start_timestamp".to_owned(), "vitrage_id".to_owned()],
            Some(_) => strings("sort_by")?,
        };
        let mut sort_dirs = match params.get("sort_dirs") {
            None => vec!["asc".to_owned(), "asc".to_owned()],
            Some(_) => strings("sort_dirs")?,
        };
        for dir in &sort_dirs {
            if dir != "asc" && dir != "desc" {
                return Err(ApiError::bad_request(format!("Unknown sort direction {dir}")));
            }
        }
        if !sort_by.iter().any(|k| k == "vitrage_id") {
            sort_by.push("vitrage_id".to_owned());
            sort_dirs.push("asc".to_owned());
        }
        if sort_by.len() != sort_dirs.len() {
            return Err(ApiError::bad_request("sort_by and sort_dirs must have the same length"));
        }
        let mut filter_by = strings("filter_by")?;
        let mut filter_vals: Vec<Vec<String>> = Vec::new();
        for value in params.list("filter_vals").unwrap_or_default() {
            let values = match value {
                Value::Array(items) if !items.is_empty() => items,
                one => vec![one],
            };
            let values = values
                .into_iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ApiError::bad_request("filter_vals must hold strings"))?;
            filter_vals.push(values);
        }
        if let Some(id) = vitrage_id.as_deref().filter(|id| *id != "all") {
            filter_by.push("vitrage_resource_id".to_owned());
            filter_vals.push(vec![id.to_owned()]);
        }
        if filter_by.is_empty() != filter_vals.is_empty() {
            return Err(ApiError::bad_request(
                "Cannot perform filtering, one of filter_by or filter_vals are missing",
            ));
        }
        if filter_by.len() != filter_vals.len() {
            return Err(ApiError::bad_request(
                "Cannot perform filtering, len of 'filter_by' and 'filter_vals' differs",
            ));
        }
        for column in sort_by.iter().chain(&filter_by) {
            if !COLUMNS.contains(&column.as_str()) {
                return Err(ApiError::bad_request(format!("Unknown alarm column {column}")));
            }
        }
        let next_page = match params.get("next_page") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
            _ => true,
        };
        Ok(Selection {
            all_tenants,
            vitrage_id,
            start,
            end,
            limit,
            sort: sort_by.into_iter().zip(sort_dirs).map(|(k, d)| (k, d == "asc")).collect(),
            filters: filter_by.into_iter().zip(filter_vals).collect(),
            next_page,
            marker: params.string("marker")?.map(str::to_owned),
        })
    }

    /// Whether the tenant filter applies: a listing of every alarm (`vitrage_id` absent or
    /// `all`) without `all_tenants`, by a caller with a project.
    fn tenant<'c>(&self, caller: &'c Caller) -> Option<&'c str> {
        let every = self.vitrage_id.as_deref().is_none_or(|id| id == "all");
        caller.project_id.as_deref().filter(|p| every && !self.all_tenants && !p.is_empty())
    }

    /// Applies the selection to every row of the table.
    pub fn select(&self, rows: Vec<Row>, caller: &Caller) -> Vec<Row> {
        let marker = self.marker.as_deref().and_then(|m| {
            rows.iter()
                .find(|r| r.payload.get("vitrage_id").and_then(Value::as_str) == Some(m))
                .map(|r| self.key(r))
        });
        let project = self.tenant(caller);
        let mut rows: Vec<Row> = rows
            .into_iter()
            .filter(|row| {
                project.is_none_or(|p| alarm_in_project(&row.payload, p, caller.is_admin))
            })
            .filter(|row| self.in_frame(row))
            .filter(|row| {
                self.filters.iter().all(|(column, values)| {
                    let text = column_text(row, column);
                    text.is_some_and(|t| values.iter().any(|v| like(&t, v)))
                })
            })
            .collect();
        rows.sort_by(|a, b| self.compare(&self.key(a), &self.key(b)));
        let Some(limit) = self.limit else { return rows };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let marker = match marker {
            Some(marker) if !self.next_page => {
                // The page before the marker: walk backwards limit + 1 rows; with fewer than that
                // the page is the first one.
                let before: Vec<&Row> = rows
                    .iter()
                    .rev()
                    .filter(|r| self.compare(&self.key(r), &marker) == Ordering::Less)
                    .collect();
                before.get(limit).map(|r| self.key(r))
            }
            other => other,
        };
        self.after(rows, marker.as_ref(), limit)
    }

    fn after(&self, rows: Vec<Row>, marker: Option<&Vec<Key>>, limit: usize) -> Vec<Row> {
        rows.into_iter()
            .filter(|r| marker.is_none_or(|m| self.compare(&self.key(r), m) == Ordering::Greater))
            .take(limit)
            .collect()
    }

    fn key(&self, row: &Row) -> Vec<Key> {
        self.sort.iter().map(|(column, _)| column_key(row, column)).collect()
    }

    fn compare(&self, a: &[Key], b: &[Key]) -> Ordering {
        for ((x, y), (_, ascending)) in a.iter().zip(b).zip(&self.sort) {
            let order = x.cmp(y);
            if order != Ordering::Equal {
                return if *ascending { order } else { order.reverse() };
            }
        }
        Ordering::Equal
    }

    /// `_add_time_frame_to_query`: with `start` and `end`, alarms active at some time in between;
    /// with `start` alone, alarms that had not ended by then.
    fn in_frame(&self, row: &Row) -> bool {
        let Some(start) = self.start else { return true };
        let ended = row.end.unwrap_or(Timestamp(i64::MAX));
        let began = row.start.unwrap_or(Timestamp(i64::MIN));
        match self.end {
            None => ended >= start,
            Some(end) => {
                (began >= start && began <= end)
                    || (ended >= start && ended <= end)
                    || (began <= start && ended >= end)
            }
        }
    }
}

/// A sort key: SQL sorts `NULL` first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Null,
    Time(Timestamp),
    Text(String),
}

fn column_key(row: &Row, column: &str) -> Key {
    match column {
        "start_timestamp" => row.start.map_or(Key::Null, Key::Time),
        "end_timestamp" => row.end.map_or(Key::Null, Key::Time),
        _ => column_text(row, column).map_or(Key::Null, Key::Text),
    }
}

fn column_text(row: &Row, column: &str) -> Option<String> {
    match column {
        "start_timestamp" => row.start.map(|t| t.to_string()),
        "end_timestamp" => row.end.map(|t| t.to_string()),
        "payload" => Some(Value::Object(row.payload.clone()).to_string()),
        _ => match row.payload.get(column)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        },
    }
}

/// `_add_project_filtering_to_query` on one alarm dict: the alarm's project or its resource's is
/// the caller's; for an admin, also when each of them is the caller's or absent.
pub fn alarm_in_project(alarm: &Map<String, Value>, project: &str, is_admin: bool) -> bool {
    let get = |key: &str| alarm.get(key).and_then(Value::as_str);
    let (own, resource) = (get("project_id"), get("vitrage_resource_project_id"));
    let mine = |p: Option<&str>| p == Some(project);
    mine(own)
        || mine(resource)
        || (is_admin && (mine(own) || own.is_none()) && (mine(resource) || resource.is_none()))
}

/// SQL `text LIKE '%value%'`: `%` any run, `_` any one character, ASCII letters in any case.
pub fn like(text: &str, value: &str) -> bool {
    let mut pattern: Vec<char> = vec!['%'];
    for c in value.chars() {
        if !(c == '%' && pattern.last() == Some(&'%')) {
            pattern.push(c);
        }
    }
    if pattern.last() != Some(&'%') {
        pattern.push('%');
    }
    let text: Vec<char> = text.chars().collect();
    if pattern.iter().filter(|&&c| c != '%').count() > text.len() {
        return false;
    }
    let same = |p: char, t: char| p == '_' || p.eq_ignore_ascii_case(&t);
    // Greedy matching with a single backtrack point: the most recent `%`.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '%' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && same(pattern[p], text[t]) {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(id: &str, start: i64, end: Option<i64>, extra: Value) -> Row {
        let mut payload = extra.as_object().cloned().unwrap_or_default();
        payload.insert("vitrage_id".into(), json!(id));
        Row { payload, start: Some(Timestamp(start)), end: end.map(Timestamp) }
    }

    fn select(params: Value, rows: Vec<Row>) -> Vec<String> {
        let caller = Caller::admin("p1");
        let selection =
            Selection::from_params(&Params::json(params), &caller, false).expect("valid");
        selection
            .select(rows, &caller)
            .iter()
            .filter_map(|r| r.payload["vitrage_id"].as_str().map(str::to_owned))
            .collect()
    }

    fn rows() -> Vec<Row> {
        vec![
            row("c", 30, None, json!({"name": "Cpu high", "project_id": "p1"})),
            row("a", 10, Some(20), json!({"name": "nic down"})),
            row("b", 20, None, json!({"name": "disk", "project_id": "p2"})),
            row(
                "d",
                30,
                Some(40),
                json!({"name": "NIC flap", "vitrage_resource_project_id": "p1"}),
            ),
        ]
    }

    #[test]
    fn sorts_and_pages() {
        assert_eq!(select(json!({}), rows()), ["a", "c", "d"]);
        assert_eq!(select(json!({"all_tenants": true}), rows()), ["a", "b", "c", "d"]);
        let desc = json!({"all_tenants": true, "sort_by": "start_timestamp", "sort_dirs": "desc"});
        assert_eq!(select(desc, rows()), ["c", "d", "b", "a"]);
        let page = json!({"all_tenants": true, "limit": "2", "marker": "a"});
        assert_eq!(select(page, rows()), ["b", "c"]);
        let back = json!({"all_tenants": true, "limit": 2, "marker": "d", "next_page": "False"});
        assert_eq!(select(back, rows()), ["b", "c"]);
        let first = json!({"all_tenants": true, "limit": 2, "marker": "b", "next_page": false});
        assert_eq!(select(first, rows()), ["a", "b"]);
        let unknown = json!({"all_tenants": true, "limit": 1, "marker": "zz"});
        assert_eq!(select(unknown, rows()), ["a"]);
    }

    #[test]
    fn filters_and_frames() {
        let like = json!({"all_tenants": true, "filter_by": "name", "filter_vals": "nic"});
        assert_eq!(select(like, rows()), ["a", "d"]);
        let frame = json!({"all_tenants": true, "start": "1970-01-01T00:00:00.000025", "end": "1970-01-01T00:00:00.000035"});
        assert_eq!(select(frame, rows()), ["b", "c", "d"]);
        let since = json!({"all_tenants": true, "start": "1970-01-01T00:00:00.000021"});
        assert_eq!(select(since, rows()), ["b", "c", "d"]);
        let resource = json!({"vitrage_id": "host-1"});
        let mut on_host = rows();
        on_host[2].payload.insert("vitrage_resource_id".into(), json!("host-1"));
        assert_eq!(select(resource, on_host), ["b"]);
    }

    #[test]
    fn refuses_bad_selections() {
        let caller = Caller::admin("p");
        for bad in [
            json!({"sort_by": "color"}),
            json!({"sort_dirs": ["up", "asc"]}),
            json!({"sort_by": ["name", "vitrage_id"], "sort_dirs": "asc"}),
            json!({"filter_by": "name"}),
            json!({"filter_by": ["name", "vitrage_type"], "filter_vals": "x"}),
            json!({"end": "2026-01-01"}),
            json!({"start": "soon"}),
            json!({"limit": "ten"}),
        ] {
            let error = Selection::from_params(&Params::json(bad.clone()), &caller, false)
                .expect_err("bad");
            assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST, "{bad}");
        }
        let active =
            Selection::from_params(&Params::json(json!({"start": "2026-01-01"})), &caller, true);
        assert!(active.is_err());
    }

    #[test]
    fn like_is_sql_like() {
        assert!(like("NIC down", "nic"));
        assert!(like("abc", "a_c"));
        assert!(like("abc", "a%c"));
        assert!(like("abc", ""));
        assert!(!like("abc", "abcd"));
        assert!(!like("ab", "%%%%x%%%"));
        assert!(like("mississippi", "ss%pp"));
    }
}
