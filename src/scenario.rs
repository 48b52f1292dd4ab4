//! The scenario format of `causeway run` (see `scenario-format.md`): an initial topology with
//! alarms, then ordered steps. Parsing only; applying a scenario is the runner's job.
//!
//! Each part is parsed on its own so that an error names the step and the field.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::Value as Json;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

mod reuse;

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
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
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
        let (e, add) = self.edge_ref()?;
        let edge = Edge {
            source: e.source.to_string(),
            target: e.target.to_string(),
            relationship_type: e.relationship_type.to_string(),
        };
        Some((edge, add))
    }

    /// [`Change::edge`] without copying: what checking and applying an edge change read.
    pub fn edge_ref(&self) -> Option<(EdgeRef<'_>, bool)> {
        let (source, target, relationship_type, add) = match self {
            Change::AddEdge { source, target, relationship_type } => {
                (source, target, relationship_type, true)
            }
            Change::DeleteEdge { source, target, relationship_type } => {
                (source, target, relationship_type, false)
            }
            _ => return None,
        };
        Some((EdgeRef { source, target, relationship_type }, add))
    }
}

/// An edge change's ends and label, borrowed from the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeRef<'a> {
    /// Source resource id.
    pub source: &'a str,
    /// Target resource id.
    pub target: &'a str,
    /// Edge label.
    pub relationship_type: &'a str,
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
    one_at(v, || place.to_string(), step)
}

/// [`one`] for an item whose place is only worth writing out when it is bad.
fn one_at<T: for<'de> Deserialize<'de>>(
    v: &RawValue,
    place: impl FnOnce() -> String,
    step: Option<usize>,
) -> Result<T, ScenarioError> {
    serde_json::from_str(v.get()).map_err(|e| {
        // The position would be within the item, not the file; the place names the item.
        let text = e.to_string();
        let message = text.rsplit_once(" at line ").map_or(text.clone(), |(m, _)| m.to_string());
        ScenarioError { place: place(), message, step }
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
        .map(|(i, item)| one_at(item, || format!("{name}[{i}]"), steps.then_some(i)))
        .collect()
}

/// What [`stream`] hands its consumer, in the order a runner must see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Streamed<'c> {
    /// How the initial topology is evaluated: once, before any change.
    Initial(Initial),
    /// One element of the initial topology: every resource, then every edge, then every
    /// alarm, as [`Scenario::initial_changes`] orders them. Lent, not given: the next one
    /// may be read into the same buffers.
    Change(&'c Change),
}

/// The top-level keys [`stream`] reads, in the order a runner needs them.
const KEYS: [&str; 5] = ["initial", "resources", "edges", "alarms", "steps"];

/// Reads a scenario from `reader` without holding its text or its topology: each initial
/// element goes to `each` as soon as it is read, and only the steps are kept and returned.
///
/// A file in the documented key order (`initial`, `resources`, `edges`, `alarms`, `steps`)
/// streams whole; a list that comes before one it depends on (edges before resources, any
/// list before `initial`) is held until that one is read. The errors are those [`parse`]
/// gives for the same object: a syntax error anywhere first, then the first bad item in the
/// order above; after a bad item nothing more goes to `each`. (A top-level array, which
/// [`parse`] reads as the keys in order, is refused.)
pub fn stream<R: std::io::Read>(
    reader: R,
    each: &mut dyn FnMut(Streamed<'_>),
) -> Result<Vec<Step>, ScenarioError> {
    let de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    stream_from(de, each, Parse::Checked)
}

/// [`stream`] over text already in memory, for scenarios small enough to read whole:
/// serde_json reads a reader a byte at a time, a slice several times faster.
///
/// Items are parsed where they stand, once. The first bad one (or a syntax error) stops that
/// read; the text is then read again the checked way, as [`stream`] reads, with nothing
/// handed on, for the error [`parse`] gives. What went to `each` before is the same either
/// way: the items before the first bad one.
pub fn stream_slice(
    text: &[u8],
    each: &mut dyn FnMut(Streamed<'_>),
) -> Result<Vec<Step>, ScenarioError> {
    let de = || serde_json::Deserializer::from_slice(text);
    // Checked as UTF-8 once, the strings need not be one by one. Text that is not UTF-8
    // fails in any case: read the checked way straight away.
    let Ok(utf8) = std::str::from_utf8(text) else {
        return stream_from(de(), each, Parse::Checked);
    };
    let fast = stream_from(serde_json::Deserializer::from_str(utf8), each, Parse::InPlace);
    let Err(first) = fast else { return fast };
    // The checked read finds every error the one in place can stop at.
    stream_from(de(), &mut |_| {}, Parse::Checked).and(Err(first))
}

/// How [`stream_from`] reads list items.
#[derive(Clone, Copy, PartialEq)]
enum Parse {
    /// Each as raw text first, then parsed: a bad item is recorded with its place and the
    /// read goes on, so that a syntax error after it still comes first.
    Checked,
    /// Parsed where it stands: a bad item stops the read with serde_json's error.
    InPlace,
}

fn stream_from<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    each: &mut dyn FnMut(Streamed<'_>),
    parse: Parse,
) -> Result<Vec<Step>, ScenarioError> {
    use serde::de::Deserializer as _;
    let mut s = Streamer {
        each,
        parse,
        initial: None,
        announced: false,
        done: [false; 3],
        held: Default::default(),
        steps: Vec::new(),
        errors: Default::default(),
    };
    let read = de.deserialize_struct("Top", &KEYS, &mut s).and_then(|()| de.end());
    if let Err(e) = read {
        return Err(ScenarioError { place: "scenario".into(), message: e.to_string(), step: None });
    }
    if let Some(e) = std::mem::take(&mut s.errors).into_iter().flatten().next() {
        return Err(e);
    }
    s.announce(s.initial.unwrap_or_default());
    for k in 0..3 {
        s.flush(k);
    }
    Ok(s.steps)
}

/// The state of [`stream`]: the mode once known, which lists are read, what is held back.
struct Streamer<'f> {
    each: &'f mut dyn FnMut(Streamed<'_>),
    parse: Parse,
    initial: Option<Initial>,
    announced: bool,
    /// Whether `resources`, `edges`, `alarms` have been read.
    done: [bool; 3],
    /// Elements read before the lists they depend on.
    held: [Vec<Change>; 3],
    steps: Vec<Step>,
    /// The first bad item under each of [`KEYS`].
    errors: [Option<ScenarioError>; 5],
}

impl Streamer<'_> {
    fn failed(&self) -> bool {
        self.errors.iter().any(Option::is_some)
    }

    fn announce(&mut self, mode: Initial) {
        if !std::mem::replace(&mut self.announced, true) {
            (self.each)(Streamed::Initial(mode));
        }
    }

    /// Whether list `k` (of resources, edges, alarms) can go straight to the consumer: the
    /// mode is known and every list before it has been read and handed on.
    fn can_stream(&self, k: usize) -> bool {
        self.initial.is_some() && (0..k).all(|j| self.done[j] && self.held[j].is_empty())
    }

    fn flush(&mut self, k: usize) {
        for c in std::mem::take(&mut self.held[k]) {
            (self.each)(Streamed::Change(&c));
        }
    }

    /// Hands on the lists that were held and no longer wait for anything.
    fn release(&mut self) {
        for k in 0..3 {
            if let Some(mode) = self.initial
                && self.done[k]
                && !self.failed()
                && self.can_stream(k)
            {
                self.announce(mode);
                self.flush(k);
            }
        }
    }

    /// Item `i` under key `k` of [`KEYS`] (not `initial`).
    fn item(&mut self, k: usize, item: &RawValue, i: usize) {
        // Only the first bad item of a key counts; later keys are still read, since the
        // first bad item in document order may come after one already found.
        if self.errors[k].is_some() {
            return;
        }
        let place = || format!("{}[{i}]", KEYS[k]);
        let change = match k {
            1 => one_at(item, place, None).map(|resource| Change::AddResource { resource }),
            2 => one_at(item, place, None).map(edge_change),
            3 => one_at(item, place, None).map(|alarm| Change::RaiseAlarm { alarm }),
            _ => match one_at(item, place, Some(i)) {
                Ok(step) => {
                    self.steps.push(step);
                    return;
                }
                Err(e) => Err(e),
            },
        };
        self.accept(k, change);
    }

    /// The element read as item of key `k`, or why it could not be.
    fn accept(&mut self, k: usize, change: Result<Change, ScenarioError>) {
        match change {
            Err(e) => self.errors[k] = Some(e),
            Ok(c) => self.accept_lent(k, Cow::Owned(c)),
        }
    }

    /// The element read as item of key `k`: handed on, or kept (copied if lent) until the
    /// lists it depends on have been.
    fn accept_lent(&mut self, k: usize, c: Cow<'_, Change>) {
        match self.initial {
            _ if self.failed() => {}
            Some(mode) if self.can_stream(k - 1) => {
                self.announce(mode);
                (self.each)(Streamed::Change(&c));
            }
            _ => self.held[k - 1].push(c.into_owned()),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for &mut Streamer<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("struct Top")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = [false; 5];
        while let Some(k) = reuse::next_field(&mut map, &KEYS, &mut seen)? {
            if k == 0 {
                let v: Option<Box<RawValue>> = map.next_value()?;
                match v.map(|v| one::<Initial>(&v, "initial", None)) {
                    None => self.initial = Some(Initial::Startup),
                    Some(Ok(mode)) => self.initial = Some(mode),
                    Some(Err(e)) => self.errors[0] = Some(e),
                }
            } else {
                map.next_value_seed(Items { s: &mut *self, k })?;
                if k < 4 {
                    self.done[k - 1] = true;
                }
            }
            self.release();
        }
        Ok(())
    }
}

/// The list under key `k` of [`KEYS`], read item by item.
struct Items<'s, 'f> {
    s: &'s mut Streamer<'f>,
    k: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Items<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.s.parse == Parse::InPlace {
            return self.in_place(seq);
        }
        let mut i = 0;
        while let Some(item) = seq.next_element::<Box<RawValue>>()? {
            self.s.item(self.k, &item, i);
            i += 1;
        }
        Ok(())
    }
}

impl Items<'_, '_> {
    /// Reads the list's items as what they are, each parsed once; resources and edges into
    /// the buffers of the one before ([`reuse`]).
    fn in_place<'de, A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.k {
            1 => return self.resources(seq),
            2 => return self.edges(seq),
            _ => {}
        }
        loop {
            let change = match self.k {
                3 => seq.next_element()?.map(|alarm| Change::RaiseAlarm { alarm }),
                _ => {
                    let Some(step) = seq.next_element()? else { return Ok(()) };
                    self.s.steps.push(step);
                    continue;
                }
            };
            let Some(change) = change else { return Ok(()) };
            self.s.accept(self.k, Ok(change));
        }
    }

    fn resources<'de, A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut c = Change::AddResource { resource: Resource::default() };
        while let Change::AddResource { resource } = &mut c
            && seq.next_element_seed(reuse::ResourceInto(resource))?.is_some()
        {
            self.s.accept_lent(self.k, Cow::Borrowed(&c));
        }
        Ok(())
    }

    fn edges<'de, A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut c = edge_change(Edge::default());
        while let Change::AddEdge { source, target, relationship_type } = &mut c
            && seq
                .next_element_seed(reuse::EdgeInto { source, target, relationship_type })?
                .is_some()
        {
            self.s.accept_lent(self.k, Cow::Borrowed(&c));
        }
        Ok(())
    }
}

fn edge_change(e: Edge) -> Change {
    Change::AddEdge { source: e.source, target: e.target, relationship_type: e.relationship_type }
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

    /// What a consumer of [`stream`] was handed, kept.
    fn owned(s: Streamed<'_>) -> Result<Change, Initial> {
        match s {
            Streamed::Initial(mode) => Err(mode),
            Streamed::Change(c) => Ok(c.clone()),
        }
    }

    #[test]
    fn read_in_place_it_hands_on_what_the_checked_read_does_and_fails_as_parse_does() {
        let resources = r#""resources": [{"id": "h", "type": "nova.host"}, {"id": "v", "type": "nova.instance"}]"#;
        let steps = r#""steps": [{"op": "checkpoint", "label": "a"}]"#;
        for text in [
            format!(
                r#"{{{resources}, "edges": [{{"source": "h", "target": "v", "relationship_type": "contains"}}], {steps}}}"#
            ),
            // Edges before resources are held, then handed on in order.
            format!(
                r#"{{"edges": [{{"source": "h", "target": "v", "relationship_type": "contains"}}], {resources}}}"#
            ),
            // A bad second item: the first went on already.
            r#"{"resources": [{"id": "h", "type": "nova.host"}, {"type": "x"}]}"#.to_string(),
            // A bad item, then a syntax error: the syntax error is the one reported.
            r#"{"resources": [{"id": "h", "type": "nova.host"}, {"type": "x"}], "edges": [1,"#
                .to_string(),
            format!(r#"{{{resources}, "steps": [{{"op": "raise_alarm"}}]}}"#),
            // Read into the buffers of the one before, a resource keeps nothing of it.
            r#"{"resources": [{"id": "h", "type": "nova.host", "name": "n", "state": "S", "properties": {"a": 1}},
                {"id": "v", "type": "nova.instance"}, {"id": "w", "type": "t", "name": null, "x": [1]},
                ["a", "b", "c", null, {"p": "q"}], {"i\u0064": "e", "type": "t", "state": "\u00e9"}],
              "edges": [{"source": "h", "target": "v", "relationship_type": "contains", "x": 1},
                ["v", "w", "on"], {"relationship_type": "r", "target": "w", "source": "h"}]}"#
                .to_string(),
            // What the derived read refuses, the read into buffers refuses.
            r#"{"resources": [{"id": "h", "type": "nova.host"}, {"id": "v", "type": "t", "id": "w"}]}"#.to_string(),
            r#"{"resources": [{"id": "h", "type": "nova.host"}, {"id": "v"}]}"#.to_string(),
            r#"{"resources": [{"id": "h", "type": "nova.host", "name": 1}]}"#.to_string(),
            r#"{"resources": [{"id": "h", "type": "nova.host", "properties": null}]}"#.to_string(),
            r#"{"resources": [["h"]]}"#.to_string(),
            r#"{"resources": [{"id": "h", "type": "nova.host"}], "edges": [{"source": "h", "target": "h"}]}"#.to_string(),
            r#"{"resources": [{"id": "h", "type": "nova.host"}], "edges": [{"source": "h", "target": "h", "relationship_type": "a", "target": "h"}]}"#.to_string(),
            r#"{"resources": [{"id": "h", "type": "nova.host"}], "edges": [{"source": "h", "target": 1, "relationship_type": "a"}]}"#.to_string(),
            r#"{"resources": [7]}"#.to_string(),
        ] {
            let (mut checked, mut in_place) = (Vec::new(), Vec::new());
            let from_reader = stream(text.as_bytes(), &mut |s| checked.push(owned(s)));
            let from_slice = stream_slice(text.as_bytes(), &mut |s| in_place.push(owned(s)));
            assert_eq!(in_place, checked, "{text}");
            match (from_slice, from_reader) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                (Err(a), Err(_)) => assert_eq!(Err(a), parse(&text).map(|_| ()), "{text}"),
                (a, b) => panic!("{text}: {a:?} against {b:?}"),
            }
        }
    }

    #[test]
    fn text_that_is_not_utf8_fails_read_whole_as_read_from_a_stream() {
        let text = b"{\"resources\": [{\"id\": \"h\xff\", \"type\": \"nova.host\"}]}";
        let whole = stream_slice(text, &mut |_| {}).expect_err("not UTF-8");
        let streamed = stream(&text[..], &mut |_| {}).expect_err("not UTF-8");
        assert_eq!((whole.place.as_str(), whole.step), ("scenario", None));
        assert_eq!(whole.message, streamed.message);
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
