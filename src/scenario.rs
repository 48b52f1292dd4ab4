//! The scenario format of `causeway run` (see `scenario-format.md`): an initial topology with
//! alarms, then ordered steps. Parsing only; applying a scenario is the runner's job.
//!
//! Each part is parsed on its own so that an error names the step and the field.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::Value as Json;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// How the initial topology is evaluated.
    pub initial: Initial,
    /// Initial resources.
    pub resources: Vec<Resource>,
    /// Initial edges.
    pub edges: Vec<Edge>,
    /// Initial external alarms.
    pub alarms: Vec<Alarm>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The changes that load the initial topology: resources, then edges, then alarms.
    pub fn initial_changes(&self) -> Vec<Change> {
        let resources = self.resources.iter().map(|r| Change::AddResource { resource: r.clone() });
        let edges = self.edges.iter().map(|e| Change::AddEdge {
            source: e.source.clone(),
            target: e.target.clone(),
            relationship_type: e.relationship_type.clone(),
        });
        let alarms = self.alarms.iter().map(|a| Change::RaiseAlarm { alarm: a.clone() });
        resources.chain(edges).chain(alarms).collect()
    }
}

/// `initial`: evaluate once after loading everything, or after every element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Initial {
    /// Load everything, then evaluate all templates once.
    #[default]
    Startup,
    /// Evaluate after every resource, edge and alarm.
    Incremental,
}

/// A resource vertex.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Resource {
    /// Id in the source system, unique.
    pub id: String,
    /// Datasource type (`nova.host`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Raw state.
    #[serde(default)]
    pub state: Option<String>,
    /// Other vertex properties.
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
}

/// A relationship between two resources.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Edge {
    /// Source resource id.
    pub source: String,
    /// Target resource id.
    pub target: String,
    /// Edge label.
    pub relationship_type: String,
}

/// The monitors an external alarm can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlarmType {
    /// Zabbix.
    Zabbix,
    /// Nagios.
    Nagios,
    /// Prometheus Alertmanager.
    Prometheus,
    /// Vitrage's doctor datasource.
    Doctor,
}

impl AlarmType {
    /// The `vitrage_type` of the alarm vertex.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmType::Zabbix => "zabbix",
            AlarmType::Nagios => "nagios",
            AlarmType::Prometheus => "prometheus",
            AlarmType::Doctor => "doctor",
        }
    }

    /// The severity an alarm of this type has when none is given.
    pub fn default_severity(self) -> &'static str {
        match self {
            AlarmType::Zabbix => "high",
            AlarmType::Nagios => "CRITICAL",
            AlarmType::Prometheus | AlarmType::Doctor => "critical",
        }
    }
}

/// An external alarm.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Alarm {
    /// The monitor.
    #[serde(rename = "type")]
    pub kind: AlarmType,
    /// Alarm name.
    pub name: String,
    /// Id of the resource it is on.
    pub target: String,
    /// Severity; the type's default when absent.
    #[serde(default)]
    pub severity: Option<String>,
    /// Id in the monitor; defaults to the name.
    #[serde(default)]
    pub id: Option<String>,
    /// What the monitor said about it beyond its name and severity (a doctor event's details,
    /// an alert's labels): properties of the alarm vertex, replaced when it is raised again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Value>,
}

impl Alarm {
    /// (type, name, target, id): what identifies an external alarm.
    pub fn key(&self) -> (AlarmType, &str, &str, &str) {
        (self.kind, &self.name, &self.target, self.id.as_deref().unwrap_or(&self.name))
    }

    /// The severity, or the type's default.
    pub fn severity(&self) -> &str {
        self.severity.as_deref().unwrap_or(self.kind.default_severity())
    }
}

/// One step: a change, or a checkpoint recording the state at that point.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Apply a change.
    Change(Change),
    /// Record the state at this point.
    Checkpoint {
        /// Its label.
        label: String,
    },
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Step, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Checkpoint {
            #[allow(dead_code)]
            op: String,
            label: String,
        }
        let v = Value::deserialize(d)?;
        if v.get("op").and_then(Value::as_str) == Some("checkpoint") {
            let c: Checkpoint = serde_json::from_value(v).map_err(D::Error::custom)?;
            return Ok(Step::Checkpoint { label: c.label });
        }
        Change::deserialize(v).map(Step::Change).map_err(D::Error::custom)
    }
}

/// One change to the cloud as monitors and inventories see it: a step of the scenario format
/// (`{"op": "add_resource", "resource": {...}}`), and also what datasources and the topology
/// push endpoint produce and what the service's event log records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// A new resource.
    AddResource {
        /// The resource.
        resource: Resource,
    },
    /// New state, name or properties of a resource (properties are merged).
    UpdateResource {
        /// Resource id.
        id: String,
        /// New raw state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<String>,
        /// New name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Properties to merge.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        properties: BTreeMap<String, Json>,
    },
    /// A resource and its edges go.
    DeleteResource {
        /// Resource id.
        id: String,
    },
    /// A new edge between two resources.
    AddEdge {
        /// Source resource id.
        source: String,
        /// Target resource id.
        target: String,
        /// Edge label.
        relationship_type: String,
    },
    /// An edge goes.
    DeleteEdge {
        /// Source resource id.
        source: String,
        /// Target resource id.
        target: String,
        /// Edge label.
        relationship_type: String,
    },
    /// An external alarm is raised, or raised again with a new severity.
    RaiseAlarm {
        /// The alarm.
        alarm: Alarm,
    },
    /// An external alarm clears.
    ClearAlarm {
        /// The alarm.
        alarm: Alarm,
    },
}

impl Change {
    /// The edge of an `add_edge` or `delete_edge`, and whether it is added.
    pub fn edge(&self) -> Option<(Edge, bool)> {
        let (source, target, relationship_type, add) = match self {
            Change::AddEdge { source, target, relationship_type } => {
                (source, target, relationship_type, true)
            }
            Change::DeleteEdge { source, target, relationship_type } => {
                (source, target, relationship_type, false)
            }
            _ => return None,
        };
        let edge = Edge {
            source: source.clone(),
            target: target.clone(),
            relationship_type: relationship_type.clone(),
        };
        Some((edge, add))
    }
}

/// Why a scenario cannot be read: where (`steps[3].alarm`) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ScenarioError {
    /// The part of the scenario, e.g. `resources[2]` or `steps[4]`.
    pub place: String,
    /// What is wrong.
    pub message: String,
    /// The step index, when the error is in a step.
    pub step: Option<usize>,
}

/// The top level, with every list item kept as unparsed text: items are parsed one by one,
/// so that errors name the item and a large topology is never held as a JSON tree.
#[derive(Deserialize)]
struct Top<'a> {
    #[serde(default, borrow)]
    initial: Option<&'a RawValue>,
    #[serde(default, borrow)]
    resources: Option<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    edges: Option<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    alarms: Option<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    steps: Option<Vec<&'a RawValue>>,
}

/// Parses a scenario's JSON text.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let top: Top<'_> = serde_json::from_str(text).map_err(|e| ScenarioError {
        place: "scenario".into(),
        message: e.to_string(),
        step: None,
    })?;
    let initial = match top.initial {
        None => Initial::Startup,
        Some(v) => one(v, "initial", None)?,
    };
    Ok(Scenario {
        initial,
        resources: list(top.resources, "resources", false)?,
        edges: list(top.edges, "edges", false)?,
        alarms: list(top.alarms, "alarms", false)?,
        steps: list(top.steps, "steps", true)?,
    })
}

fn one<T: for<'de> Deserialize<'de>>(
    v: &RawValue,
    place: &str,
    step: Option<usize>,
) -> Result<T, ScenarioError> {
    serde_json::from_str(v.get()).map_err(|e| {
        // The position would be within the item, not the file; the place names the item.
        let text = e.to_string();
        let message = text.rsplit_once(" at line ").map_or(text.clone(), |(m, _)| m.to_string());
        ScenarioError { place: place.into(), message, step }
    })
}

fn list<T: for<'de> Deserialize<'de>>(
    items: Option<Vec<&RawValue>>,
    name: &str,
    steps: bool,
) -> Result<Vec<T>, ScenarioError> {
    items
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, item)| one(item, &format!("{name}[{i}]"), steps.then_some(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_format() {
        let s = parse(
            r#"{"resources": [{"id": "host-1", "type": "nova.host", "properties": {"rack": "r1"}}],
                "edges": [{"source": "zone-1", "target": "host-1", "relationship_type": "contains"}],
                "alarms": [{"type": "zabbix", "name": "nic failure", "target": "host-1"}],
                "steps": [{"op": "clear_alarm", "alarm": {"type": "zabbix", "name": "nic failure", "target": "host-1"}},
                          {"op": "checkpoint", "label": "after"}]}"#,
        )
        .expect("valid");
        assert_eq!(s.initial, Initial::Startup);
        assert_eq!(s.alarms[0].severity(), "high");
        assert_eq!(s.alarms[0].key().3, "nic failure");
        assert_eq!(s.steps.len(), 2);
    }

    #[test]
    fn errors_name_the_step_and_field() {
        let e = parse(r#"{"steps": [{"op": "checkpoint", "label": "a"}, {"op": "raise_alarm", "alarm": {"type": "snmp", "name": "x", "target": "h"}}]}"#)
            .expect_err("bad type");
        assert_eq!(e.step, Some(1));
        assert!(e.to_string().starts_with("steps[1]: unknown variant `snmp`"), "{e}");
        let e = parse(r#"{"resources": [{"type": "nova.host"}]}"#).expect_err("no id");
        assert_eq!(e.to_string(), "resources[0]: missing field `id`");
        assert!(parse("[1,").is_err());
    }

    #[test]
    fn the_json_form_is_the_scenario_step() {
        let c: Change = serde_json::from_str(
            r#"{"op": "add_edge", "source": "a", "target": "b", "relationship_type": "contains"}"#,
        )
        .expect("edge");
        assert_eq!(
            c.edge().map(|(e, add)| (e.relationship_type, add)),
            Some(("contains".into(), true))
        );
        let back: Change =
            serde_json::from_value(serde_json::to_value(&c).expect("json")).expect("round trip");
        assert_eq!(back, c);
        let bad = serde_json::from_str::<Change>(r#"{"op": "delete_resource", "id": "a", "x": 1}"#);
        assert!(bad.is_err());
    }
}
