//! State and severity normalisation with Vitrage's datasource value tables
//! (vitrage-spec.md 7.3).
//!
//! Each datasource type has a table mapping raw values (`ACTIVE`, `high`...) to an operational
//! value (`OK`, `CRITICAL`...) and a priority. Vitrage derives from them the
//! `vitrage_aggregated_*` and `vitrage_operational_*` properties of every vertex, and its
//! action tracker scores competing `set_state` and `raise_alarm` actions with the priorities.
//! The tables ship in `data/datasource_values/`, one file per type in Vitrage's
//! `datasources_values` format. The binary holds them as Rust (`values/builtin.rs`, written
//! from the YAML by a test that fails when the two differ): parsing 26 YAML files took a
//! tenth of loading a 10k-resource cloud.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;

use serde::Deserialize;

use super::{Category, Graph, GraphError, Props, Sym, Value, VertexId, names};

mod builtin;

/// The shipped tables: file stem (the `vitrage_type`) and YAML text, which `builtin.rs` is
/// written from.
#[cfg(test)]
const BUILTIN: &[(&str, &str)] = &[
    ("aodh", include_str!("../../data/datasource_values/aodh.yaml")),
    ("cetus.cluster", include_str!("../../data/datasource_values/cetus.cluster.yaml")),
    ("cetus.pod", include_str!("../../data/datasource_values/cetus.pod.yaml")),
    ("cinder.volume", include_str!("../../data/datasource_values/cinder.volume.yaml")),
    ("collectd", include_str!("../../data/datasource_values/collectd.yaml")),
    ("default", include_str!("../../data/datasource_values/default.yaml")),
    ("doctor", include_str!("../../data/datasource_values/doctor.yaml")),
    ("heat.stack", include_str!("../../data/datasource_values/heat.stack.yaml")),
    ("kapacitor", include_str!("../../data/datasource_values/kapacitor.yaml")),
    ("monasca", include_str!("../../data/datasource_values/monasca.yaml")),
    ("nagios", include_str!("../../data/datasource_values/nagios.yaml")),
    ("network.interface", include_str!("../../data/datasource_values/network.interface.yaml")),
    ("neutron.network", include_str!("../../data/datasource_values/neutron.network.yaml")),
    ("neutron.port", include_str!("../../data/datasource_values/neutron.port.yaml")),
    ("nova.host", include_str!("../../data/datasource_values/nova.host.yaml")),
    ("nova.instance", include_str!("../../data/datasource_values/nova.instance.yaml")),
    ("nova.zone", include_str!("../../data/datasource_values/nova.zone.yaml")),
    ("openstack.cluster", include_str!("../../data/datasource_values/openstack.cluster.yaml")),
    ("prometheus", include_str!("../../data/datasource_values/prometheus.yaml")),
    ("static", include_str!("../../data/datasource_values/static.yaml")),
    ("static_physical", include_str!("../../data/datasource_values/static_physical.yaml")),
    ("switch", include_str!("../../data/datasource_values/switch.yaml")),
    ("trove.cluster", include_str!("../../data/datasource_values/trove.cluster.yaml")),
    ("trove.instance", include_str!("../../data/datasource_values/trove.instance.yaml")),
    ("vitrage", include_str!("../../data/datasource_values/vitrage.yaml")),
    ("zabbix", include_str!("../../data/datasource_values/zabbix.yaml")),
];

/// The table used for types that have none.
pub const DEFAULT_TABLE: &str = "default";
/// The table of deduced alarms, which also scores `raise_alarm` actions.
pub const VITRAGE_TABLE: &str = "vitrage";
/// The operational value of a missing or unknown raw value.
pub const NOT_AVAILABLE: &str = "N/A";

/// Operational states a resource table may map to.
const RESOURCE_STATES: &[&str] = &["OK", "TRANSIENT", "SUBOPTIMAL", "ERROR", "DELETED", "N/A"];
/// Operational severities an alarm table may map to.
const ALARM_SEVERITIES: &[&str] = &["CRITICAL", "SEVERE", "WARNING", "OK", "N/A"];

/// Why a value table was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// The file is not valid YAML in the expected shape.
    #[error("datasource values `{table}`: {source}")]
    Parse {
        /// The table (file stem).
        table: String,
        /// The YAML error, with its location.
        source: Box<serde_saphyr::Error>,
    },
    /// A category other than `RESOURCE` or `ALARM`.
    #[error("datasource values `{table}`: unknown category `{category}`")]
    Category {
        /// The table.
        table: String,
        /// The category as written.
        category: String,
    },
    /// An operational value that is not one of the category's (Vitrage's `_check_validity`).
    #[error("datasource values `{table}`: `{value}` is not an operational value of its category")]
    Operational {
        /// The table.
        table: String,
        /// The operational value as written.
        value: String,
    },
    /// A table the engine relies on (`default` or `vitrage`) is missing.
    #[error("datasource values: table `{0}` is missing")]
    Missing(&'static str),
}

/// One datasource's table: upper-cased raw value to (operational value, priority).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueTable {
    /// Whether the table normalises resource states or alarm severities.
    pub category: Category,
    entries: HashMap<String, (String, u32)>,
}

impl ValueTable {
    /// The operational value and priority of a raw value, compared upper-cased.
    ///
    /// A missing value, and any value not in the table, is `N/A` with priority 0, as Vitrage's
    /// implicit `None` entry gives.
    pub fn lookup(&self, raw: Option<&str>) -> (&str, u32) {
        raw.and_then(|raw| self.entries.get(&*upper(raw)))
            .map_or((NOT_AVAILABLE, 0), |(operational, priority)| (operational, *priority))
    }
}

/// `raw` upper-cased, copied only when that changes it (states usually come upper-case).
fn upper(raw: &str) -> Cow<'_, str> {
    if raw.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase()) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.to_uppercase())
    }
}

/// The normalised form of a state or severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalised<'a> {
    /// The winning raw value, upper-cased; `None` when there was no value.
    pub aggregated: Option<Cow<'a, str>>,
    /// Its operational value.
    pub operational: &'a str,
    /// Its priority.
    pub priority: u32,
}

/// All datasource value tables, by `vitrage_type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueTables {
    /// Hashed, not ordered: every new alarm and every state change looks its type up here.
    tables: HashMap<String, ValueTable>,
    default: ValueTable,
}

impl ValueTables {
    /// The tables shipped in `data/datasource_values/`, as `builtin.rs` holds them.
    pub fn builtin() -> Result<ValueTables, Vec<ValuesError>> {
        let tables = builtin::TABLES.iter().map(|&(name, category, entries)| {
            let entries = entries.iter().map(|&(raw, operational, priority)| {
                (raw.to_owned(), (operational.to_owned(), priority))
            });
            (name.to_owned(), ValueTable { category, entries: entries.collect() })
        });
        ValueTables::complete(tables.collect(), Vec::new())
    }

    /// Parses tables from `(vitrage_type, yaml text)` pairs, reporting every bad table.
    pub fn parse<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ValueTables, Vec<ValuesError>> {
        let mut tables = HashMap::default();
        let mut errors = Vec::new();
        for (name, text) in files {
            match parse_table(name, text) {
                Ok(table) => {
                    tables.insert(name.to_owned(), table);
                }
                Err(error) => errors.push(error),
            }
        }
        ValueTables::complete(tables, errors)
    }

    /// `tables`, unless there were `errors` or a table the engine relies on is missing.
    fn complete(
        tables: HashMap<String, ValueTable>,
        mut errors: Vec<ValuesError>,
    ) -> Result<ValueTables, Vec<ValuesError>> {
        for required in [DEFAULT_TABLE, VITRAGE_TABLE] {
            if !tables.contains_key(required) {
                errors.push(ValuesError::Missing(required));
            }
        }
        let Some(default) = tables.get(DEFAULT_TABLE).cloned() else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValueTables { tables, default })
    }

    /// The table of `vitrage_type`, if it has its own.
    pub fn table(&self, vitrage_type: &str) -> Option<&ValueTable> {
        self.tables.get(vitrage_type)
    }

    /// The table of `vitrage_type`, or the `default` table when it has none.
    ///
    /// Vitrage reports `undefined datasource` instead for a type that is a configured
    /// datasource without a table; causeway has no datasource configuration, so every type
    /// without a table uses `default`.
    pub fn table_or_default(&self, vitrage_type: &str) -> &ValueTable {
        self.tables.get(vitrage_type).unwrap_or(&self.default)
    }

    /// A resource's aggregated and operational state from its `state` and `vitrage_state`:
    /// `vitrage_state` wins only with a strictly higher priority.
    pub fn resource_state<'a>(
        &'a self,
        vitrage_type: &str,
        state: Option<&'a str>,
        vitrage_state: Option<&'a str>,
    ) -> Normalised<'a> {
        let table = self.table_or_default(vitrage_type);
        let normalise = |raw: Option<&'a str>| {
            let (operational, priority) = table.lookup(raw);
            Normalised { aggregated: raw.map(upper), operational, priority }
        };
        let from_state = normalise(state);
        let from_vitrage = normalise(vitrage_state);
        if from_vitrage.priority > from_state.priority { from_vitrage } else { from_state }
    }

    /// An alarm's aggregated and operational severity from its `severity`.
    pub fn alarm_severity<'a>(
        &'a self,
        vitrage_type: &str,
        severity: Option<&'a str>,
    ) -> Normalised<'a> {
        let (operational, priority) = self.table_or_default(vitrage_type).lookup(severity);
        Normalised { aggregated: severity.map(upper), operational, priority }
    }

    /// The action tracker's score of `set_state` with `state` on a target of `target_type`:
    /// the state's priority in the target type's table (or `default`), 0 when unknown.
    pub fn set_state_score(&self, target_type: &str, state: &str) -> u32 {
        self.table_or_default(target_type).lookup(Some(state)).1
    }

    /// The action tracker's score of `raise_alarm` with `severity`: its priority in the
    /// `vitrage` table, 0 when unknown.
    pub fn raise_alarm_score(&self, severity: &str) -> u32 {
        self.table(VITRAGE_TABLE).map_or(0, |table| table.lookup(Some(severity)).1)
    }
}

/// The value of `key` in a property list, the last one when it is there twice.
fn last_of(props: &[(Sym, Value)], key: Sym) -> Option<Value> {
    props.iter().rev().find(|(k, _)| *k == key).map(|&(_, v)| v)
}

/// What normalising a vertex of `category` reads (`state` and `vitrage_state`, or
/// `severity`), from its properties as `get` gives them; a value that is not a string (Vitrage
/// would fail on it) counts as missing.
fn raw_values(category: Category, get: impl Fn(Sym) -> Option<Value>) -> [Option<Sym>; 2] {
    let raw = |key| get(key).and_then(Value::as_str);
    match category {
        Category::Resource => [raw(names::STATE), raw(names::VITRAGE_STATE)],
        Category::Alarm => [raw(names::SEVERITY), None],
    }
}

/// The normalised pair of a vertex of `category` and `vitrage_type` with raw values `raws`.
fn normalise(
    graph: &mut Graph,
    tables: &ValueTables,
    category: Category,
    vitrage_type: Sym,
    raws: [Option<Sym>; 2],
) -> Result<[(Sym, Value); 2], GraphError> {
    let text = |i: usize| raws[i].map(|sym| graph.resolve(sym));
    let ty = graph.resolve(vitrage_type);
    let (normalised, keys) = match category {
        Category::Resource => (
            tables.resource_state(ty, text(0), text(1)),
            (names::VITRAGE_AGGREGATED_STATE, names::VITRAGE_OPERATIONAL_STATE),
        ),
        Category::Alarm => (
            tables.alarm_severity(ty, text(0)),
            (names::VITRAGE_AGGREGATED_SEVERITY, names::VITRAGE_OPERATIONAL_SEVERITY),
        ),
    };
    // The aggregated value is usually a string the graph already holds (the raw state
    // itself, upper-case), and so is the operational one (`CRITICAL` for `CRITICAL`): found
    // by comparing with the raw values, else looked up, without copying it out of the graph.
    let known = |s: &str| {
        let same = raws.into_iter().flatten().find(|&sym| graph.resolve(sym) == s);
        same.or_else(|| graph.interner().get(s)).map(Value::Str).ok_or_else(|| s.to_owned())
    };
    let aggregated = normalised.aggregated.as_deref().map_or(Ok(Value::Null), known);
    let operational = known(normalised.operational);
    let mut value = |known: Result<Value, String>| match known {
        Ok(value) => Ok(value),
        Err(text) => graph.str_value(&text),
    };
    Ok([(keys.0, value(aggregated)?), (keys.1, value(operational)?)])
}

/// The value tables, with the normalisations of one graph remembered.
///
/// A normalisation is a function of the vertex's category, type and raw values, which the
/// graph names by symbols: remembered by those, the next alarm of a type and severity (or
/// resource of a type and state) gets its pair with one hash lookup instead of two table
/// lookups by text. The symbols are one graph's, so a normaliser serves only the graph it
/// first normalised for; the runner keeps the two together. At most [`MEMO_LIMIT`] answers
/// are kept, and past that the memo starts again, so raw values that never repeat cannot grow
/// it without bound.
#[derive(Debug)]
pub struct Normaliser {
    tables: ValueTables,
    memo: HashMap<Normalising, [(Sym, Value); 2]>,
}

/// What a normalisation reads: the vertex's category, type and raw values.
type Normalising = (Category, Sym, [Option<Sym>; 2]);

/// The most normalisations a [`Normaliser`] keeps.
pub const MEMO_LIMIT: usize = 4096;

impl Normaliser {
    /// A normaliser with `tables` that remembers nothing yet.
    pub fn new(tables: ValueTables) -> Normaliser {
        Normaliser { tables, memo: HashMap::default() }
    }

    /// The tables.
    pub fn tables(&self) -> &ValueTables {
        &self.tables
    }

    /// The `vitrage_aggregated_*` and `vitrage_operational_*` properties of a vertex of
    /// `category` and `vitrage_type` with properties `props`, as [`Normaliser::refresh_vertex`]
    /// sets them: what a new vertex is given up front, so adding it records no update (and
    /// frees no property list, which at a million vertices is a million small frees at once).
    pub fn normalised_props(
        &mut self,
        graph: &mut Graph,
        category: Category,
        vitrage_type: Sym,
        props: &[(Sym, Value)],
    ) -> Result<[(Sym, Value); 2], GraphError> {
        let raws = raw_values(category, |key| last_of(props, key));
        self.normalise(graph, category, vitrage_type, raws)
    }

    /// Recomputes a live vertex's `vitrage_aggregated_*` and `vitrage_operational_*`
    /// properties from its raw state or severity, as Vitrage's processor does after every
    /// update; returns whether they changed.
    ///
    /// A state or severity that is not a string (Vitrage would fail on it) counts as missing.
    /// A missing aggregated value removes the property, as Vitrage's update with `None` does.
    pub fn refresh_vertex(&mut self, graph: &mut Graph, id: VertexId) -> Result<bool, GraphError> {
        let vertex = graph.vertex(id).ok_or(GraphError::NoSuchVertex(id))?;
        let (category, vitrage_type) = (vertex.category(), vertex.vitrage_type());
        // The raw values normalisation reads, copied so the graph can be borrowed mutably.
        let raws = raw_values(category, |key| vertex.get(key));
        let [aggregated, operational] = self.normalise(graph, category, vitrage_type, raws)?;
        graph.update_vertex(id, Props::from_pairs([aggregated, operational]))
    }

    fn normalise(
        &mut self,
        graph: &mut Graph,
        category: Category,
        vitrage_type: Sym,
        raws: [Option<Sym>; 2],
    ) -> Result<[(Sym, Value); 2], GraphError> {
        let key = (category, vitrage_type, raws);
        if let Some(&pair) = self.memo.get(&key) {
            return Ok(pair);
        }
        let pair = normalise(graph, &self.tables, category, vitrage_type, raws)?;
        if self.memo.len() >= MEMO_LIMIT {
            self.memo.clear();
        }
        self.memo.insert(key, pair);
        Ok(pair)
    }
}

/// The YAML shape of a Vitrage `datasources_values` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    category: String,
    values: Vec<PriorityGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriorityGroup {
    #[serde(rename = "aggregated values")]
    aggregated_values: AggregatedValues,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AggregatedValues {
    priority: u32,
    #[serde(rename = "original values")]
    original_values: Vec<OriginalValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OriginalValue {
    name: String,
    operational_value: String,
}

fn parse_table(name: &str, text: &str) -> Result<ValueTable, ValuesError> {
    let file: TableFile = serde_saphyr::from_str(text).map_err(|source| ValuesError::Parse {
        table: name.to_owned(),
        source: Box::new(source),
    })?;
    let (category, allowed) = match Category::parse(&file.category) {
        Some(Category::Resource) => (Category::Resource, RESOURCE_STATES),
        Some(Category::Alarm) => (Category::Alarm, ALARM_SEVERITIES),
        None => {
            return Err(ValuesError::Category { table: name.to_owned(), category: file.category });
        }
    };
    let mut entries = HashMap::default();
    for group in file.values {
        let priority = group.aggregated_values.priority;
        for original in group.aggregated_values.original_values {
            if !allowed.contains(&original.operational_value.as_str()) {
                let value = original.operational_value;
                return Err(ValuesError::Operational { table: name.to_owned(), value });
            }
            // As in Vitrage, a name listed twice keeps its last mapping.
            entries.insert(original.name.to_uppercase(), (original.operational_value, priority));
        }
    }
    Ok(ValueTable { category, entries })
}

#[cfg(test)]
mod tests;
