//! Generators of random template sets, clouds and event streams, shared by the runner's
//! property tests (`runner_properties`, `runner_snapshot`).
//!
//! Templates are generated in levels so that they feed each other without cycles: level `k`
//! may match the deduced alarms of levels below `k` and raises `d<k>`. A [`Cloud`] is the
//! topology as the monitors see it, and applies random [`Op`]s to a runner and to itself.

use causeway::check::{Input, Options, check_set};
use causeway::compile::ir::RuleSet;
use causeway::runner::{Change, Outcome, Runner};
use causeway::scenario::{Alarm, AlarmType, Edge, Resource};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A relationship of the pool: (source entity, label, target entity).
pub const RELATIONSHIPS: &[(&str, &str, &str)] = &[
    ("zone", "contains", "host"),
    ("host", "contains", "vm"),
    ("host", "contains", "vm2"),
    ("app", "comprised", "vm"),
    ("vm", "attached", "vm2"),
    ("nic", "on", "host"),
    ("hot", "on", "vm"),
    ("hot", "on", "host"),
    ("d0", "on", "host"),
    ("d0", "on", "vm"),
    ("d1", "on", "host"),
    ("d1", "on", "vm"),
];

pub fn entity_definition(entity: &str) -> &'static str {
    match entity {
        "zone" => "{category: RESOURCE, type: nova.zone}",
        "host" => "{category: RESOURCE, type: nova.host}",
        "vm" | "vm2" => "{category: RESOURCE, type: nova.instance}",
        "app" => "{category: RESOURCE, type: heat.stack}",
        "nic" => "{category: ALARM, type: zabbix, name: nic failure}",
        "hot" => "{category: ALARM, type: nagios}",
        "d0" => "{category: ALARM, type: vitrage, name: d0}",
        _ => "{category: ALARM, type: vitrage, name: d1}",
    }
}

pub fn is_alarm(entity: &str) -> bool {
    matches!(entity, "nic" | "hot" | "d0" | "d1")
}

/// A deduced alarm entity of level `k` may only be matched by templates above `k`.
pub fn allowed(level: usize, (s, _, _): &(&str, &str, &str)) -> bool {
    match *s {
        "d0" => level > 0,
        "d1" => level > 1,
        _ => true,
    }
}

#[derive(Debug, Clone)]
pub struct Clause {
    /// (relationship index, negated).
    atoms: Vec<(usize, bool)>,
}

#[derive(Debug, Clone)]
pub enum ActionGen {
    Raise { target: usize, severity: usize, causing: Option<usize> },
    State { target: usize, state: usize },
    MarkDown { target: usize },
    Causal { source: usize, target: usize },
    Mistral { target: usize },
}

#[derive(Debug, Clone)]
pub struct ScenarioGen {
    clauses: Vec<Clause>,
    actions: Vec<ActionGen>,
}

pub fn clause() -> impl Strategy<Value = Clause> {
    prop::collection::vec((any::<prop::sample::Index>(), prop::bool::weighted(0.25)), 1..4)
        .prop_map(|atoms| Clause {
            atoms: atoms.into_iter().map(|(i, n)| (i.index(RELATIONSHIPS.len()), n)).collect(),
        })
}

pub fn action() -> impl Strategy<Value = ActionGen> {
    let pick = || any::<u8>().prop_map(|i| i as usize);
    prop_oneof![
        3 => (pick(), 0usize..5, prop::option::weighted(0.8, pick()))
            .prop_map(|(target, severity, causing)| ActionGen::Raise { target, severity, causing }),
        1 => (pick(), 0usize..3).prop_map(|(target, state)| ActionGen::State { target, state }),
        1 => pick().prop_map(|target| ActionGen::MarkDown { target }),
        1 => (pick(), pick()).prop_map(|(source, target)| ActionGen::Causal { source, target }),
        1 => pick().prop_map(|target| ActionGen::Mistral { target }),
    ]
}

pub fn scenario() -> impl Strategy<Value = ScenarioGen> {
    (prop::collection::vec(clause(), 1..3), prop::collection::vec(action(), 1..4))
        .prop_map(|(clauses, actions)| ScenarioGen { clauses, actions })
}

/// The template of level `level`, or `None` when the draw gives no valid condition.
pub fn template(level: usize, scenarios: &[ScenarioGen]) -> Option<String> {
    let mut used = std::collections::BTreeSet::new();
    let mut body = String::new();
    for s in scenarios {
        let clauses: Vec<Vec<(usize, bool)>> = s
            .clauses
            .iter()
            .map(|c| {
                let mut atoms: Vec<(usize, bool)> = c
                    .atoms
                    .iter()
                    .copied()
                    .filter(|(r, _)| allowed(level, &RELATIONSHIPS[*r]))
                    .collect();
                atoms.sort();
                atoms.dedup_by_key(|a| a.0);
                atoms
            })
            .filter(|atoms| atoms.iter().any(|(_, negated)| !negated))
            .collect();
        // Entities every clause binds positively: the only possible action targets.
        let positive = |atoms: &[(usize, bool)]| -> std::collections::BTreeSet<&str> {
            atoms
                .iter()
                .filter(|(_, n)| !n)
                .flat_map(|(r, _)| [RELATIONSHIPS[*r].0, RELATIONSHIPS[*r].2])
                .collect()
        };
        let Some(first) = clauses.first() else { continue };
        let mut common = positive(first);
        for c in &clauses[1..] {
            common = common.intersection(&positive(c)).copied().collect();
        }
        let resources: Vec<&str> = common.iter().copied().filter(|e| !is_alarm(e)).collect();
        let alarms: Vec<&str> = common.iter().copied().filter(|e| is_alarm(e)).collect();
        let mut actions = Vec::new();
        for a in &s.actions {
            let pick = |list: &[&'static str], i: usize| list.get(i % list.len().max(1)).copied();
            let line = match *a {
                ActionGen::Raise { target, severity, causing } => pick(&resources, target).map(|t| {
                    let sev = ["WARNING", "CRITICAL", "MAJOR", "SEVERE", "minor"][severity];
                    let cause = causing
                        .and_then(|c| pick(&alarms, c))
                        .map(|c| format!(", causing_alarm: {c}"))
                        .unwrap_or_default();
                    format!("raise_alarm: {{target: {t}, alarm_name: d{level}, severity: {sev}{cause}}}")
                }),
                ActionGen::State { target, state } => pick(&resources, target).map(|t| {
                    let st = ["SUBOPTIMAL", "ERROR", "suboptimal"][state];
                    format!("set_state: {{target: {t}, state: {st}}}")
                }),
                ActionGen::MarkDown { target } => {
                    pick(&resources, target).map(|t| format!("mark_down: {{target: {t}}}"))
                }
                ActionGen::Causal { source, target } => {
                    match (pick(&alarms, source), pick(&alarms, target)) {
                        (Some(s), Some(t)) if s != t => Some(format!(
                            "add_causal_relationship: {{source: {s}, target: {t}}}"
                        )),
                        _ => None,
                    }
                }
                ActionGen::Mistral { target } => pick(&resources, target).map(|t| {
                    format!(
                        "execute_mistral:\n          workflow: wf\n          input:\n            \
                         id: get_attr({t}, id)"
                    )
                }),
            };
            actions.extend(line);
        }
        if actions.is_empty() {
            continue;
        }
        let condition: Vec<String> = clauses
            .iter()
            .map(|atoms| {
                let parts: Vec<String> = atoms
                    .iter()
                    .map(|&(r, negated)| {
                        let (s, l, t) = RELATIONSHIPS[r];
                        used.insert(s);
                        used.insert(t);
                        format!("{}{s} [{l}] {t}", if negated { "NOT " } else { "" })
                    })
                    .collect();
                format!("({})", parts.join(" AND "))
            })
            .collect();
        body.push_str(&format!("  - condition: {}\n    actions:\n", condition.join(" OR ")));
        for a in actions {
            body.push_str(&format!("      - {a}\n"));
        }
    }
    if body.is_empty() {
        return None;
    }
    let mut text =
        format!("metadata: {{version: 3, name: level{level}, type: standard}}\nentities:\n");
    for e in used {
        text.push_str(&format!("  {e}: {}\n", entity_definition(e)));
    }
    text.push_str("scenarios:\n");
    text.push_str(&body);
    Some(text)
}

/// The rules of the templates that are valid (a draw may give templates Vitrage refuses,
/// e.g. a clause whose positive part is not connected; those are left out).
pub fn rules(levels: &[Vec<ScenarioGen>]) -> Option<RuleSet> {
    let inputs: Vec<Input> = levels
        .iter()
        .enumerate()
        .filter_map(|(k, s)| template(k, s))
        .enumerate()
        .map(|(i, t)| Input { file: format!("level{i}.yaml"), bytes: t.into_bytes() })
        .collect();
    let checked = check_set(&inputs, &Options::default());
    let valid = checked.files.iter().filter(|f| f.error.is_none()).count();
    (valid > 0 && !checked.compiled.rules.rules.is_empty()).then_some(checked.compiled.rules)
}

/// A step, its numbers resolved against what exists when it is applied.
#[derive(Debug, Clone)]
pub enum Op {
    AddResource(u8),
    Rename(u8, u8),
    SetState(u8, u8),
    DeleteResource(u8),
    AddEdge(u8, u8, u8),
    DeleteEdge(u8),
    Raise(u8, u8, u8),
    Clear(u8),
}

pub fn op() -> impl Strategy<Value = Op> {
    let n = any::<u8>;
    prop_oneof![
        2 => n().prop_map(Op::AddResource),
        1 => (n(), n()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (n(), n()).prop_map(|(a, b)| Op::SetState(a, b)),
        2 => n().prop_map(Op::DeleteResource),
        3 => (n(), n(), n()).prop_map(|(a, b, c)| Op::AddEdge(a, b, c)),
        2 => n().prop_map(Op::DeleteEdge),
        3 => (n(), n(), n()).prop_map(|(a, b, c)| Op::Raise(a, b, c)),
        2 => n().prop_map(Op::Clear),
    ]
}

pub const TYPES: &[&str] = &["nova.zone", "nova.host", "nova.instance", "heat.stack"];
pub const LABELS: &[&str] = &["contains", "comprised", "attached"];

/// The cloud as the monitors see it: what a freshly started service would be given.
#[derive(Debug, Default, Clone)]
pub struct Cloud {
    pub resources: BTreeMap<String, Resource>,
    pub edges: Vec<Edge>,
    /// Raised alarms, by (type, name, target).
    pub alarms: BTreeMap<(String, String), Alarm>,
    pub next: usize,
}

impl Cloud {
    pub fn initial(hosts: usize, vms: usize) -> Cloud {
        let mut c = Cloud::default();
        c.add("nova.zone", "zone");
        for h in 0..hosts {
            let host = c.add("nova.host", "host");
            c.edges.push(edge("zone-0", &host, "contains"));
            for _ in 0..vms {
                let vm = c.add("nova.instance", "vm");
                c.edges.push(edge(&host, &vm, "contains"));
            }
            if h == 0 {
                let app = c.add("heat.stack", "app");
                c.edges.push(edge(&app, &format!("vm-{}", 2), "comprised"));
            }
        }
        c.edges.retain(|e| c.resources.contains_key(&e.target));
        c
    }

    pub fn add(&mut self, kind: &str, prefix: &str) -> String {
        let id = format!("{prefix}-{}", self.next);
        self.next += 1;
        let resource = Resource {
            id: id.clone(),
            kind: kind.to_string(),
            name: Some(id.clone()),
            state: Some("AVAILABLE".into()),
            properties: BTreeMap::new(),
        };
        self.resources.insert(id.clone(), resource);
        id
    }

    pub fn pick(&self, i: u8) -> Option<String> {
        let n = self.resources.len();
        (n > 0).then(|| self.resources.keys().nth(i as usize % n).cloned()).flatten()
    }

    /// Applies `op` to the runner and to this model and evaluates it; what the evaluation did
    /// (nothing for a step that names nothing, which is skipped).
    pub fn apply(&mut self, runner: &mut Runner, op: &Op) -> Result<Outcome, String> {
        let err = |(_, e): (usize, causeway::runner::RunError)| format!("{op:?}: {e}");
        match *op {
            Op::AddResource(t) => {
                let kind = TYPES[t as usize % TYPES.len()];
                let id = self.add(kind, kind.rsplit('.').next().unwrap_or("r"));
                runner
                    .stage(&[Change::AddResource { resource: self.resources[&id].clone() }])
                    .map_err(err)?;
            }
            Op::Rename(r, n) => {
                let Some(id) = self.pick(r) else { return Ok(Outcome::default()) };
                let name = format!("n{}", n % 4);
                runner.stage(&[update(&id, None, Some(&name))]).map_err(err)?;
                if let Some(res) = self.resources.get_mut(&id) {
                    res.name = Some(name);
                }
            }
            Op::SetState(r, s) => {
                let Some(id) = self.pick(r) else { return Ok(Outcome::default()) };
                let state = ["AVAILABLE", "ERROR", "SUSPENDED", "available"][s as usize % 4];
                runner.stage(&[update(&id, Some(state), None)]).map_err(err)?;
                if let Some(res) = self.resources.get_mut(&id) {
                    res.state = Some(state.into());
                }
            }
            Op::DeleteResource(r) => {
                let Some(id) = self.pick(r) else { return Ok(Outcome::default()) };
                runner.stage(&[Change::DeleteResource { id: id.clone() }]).map_err(err)?;
                self.resources.remove(&id);
                self.edges.retain(|e| e.source != id && e.target != id);
                // An alarm on a deleted resource stays until cleared, but no fresh start sees it.
                self.alarms.retain(|_, a| a.target != id);
            }
            Op::AddEdge(s, t, l) => {
                let (Some(s), Some(t)) = (self.pick(s), self.pick(t)) else {
                    return Ok(Outcome::default());
                };
                let e = edge(&s, &t, LABELS[l as usize % LABELS.len()]);
                if s == t || self.edges.contains(&e) {
                    return Ok(Outcome::default());
                }
                runner.stage(&[edge_change(&e, true)]).map_err(err)?;
                self.edges.push(e);
            }
            Op::DeleteEdge(i) => {
                if self.edges.is_empty() {
                    return Ok(Outcome::default());
                }
                let e = self.edges.remove(i as usize % self.edges.len());
                runner.stage(&[edge_change(&e, false)]).map_err(err)?;
            }
            Op::Raise(k, r, s) => {
                let Some(target) = self.pick(r) else { return Ok(Outcome::default()) };
                let (kind, name, severities): (AlarmType, &str, &[&str]) = if k % 2 == 0 {
                    (AlarmType::Zabbix, "nic failure", &["high", "disaster", "warning"])
                } else {
                    (AlarmType::Nagios, "hot", &["CRITICAL", "WARNING"])
                };
                let severity = severities[s as usize % severities.len()].to_string();
                let a = Alarm {
                    kind,
                    name: name.into(),
                    target,
                    severity: Some(severity),
                    id: None,
                    properties: Default::default(),
                };
                runner.stage(&[Change::RaiseAlarm { alarm: a.clone() }]).map_err(err)?;
                self.alarms.insert((kind.as_str().to_string(), format!("{name}@{}", a.target)), a);
            }
            Op::Clear(i) => {
                if self.alarms.is_empty() {
                    return Ok(Outcome::default());
                }
                let key = self.alarms.keys().nth(i as usize % self.alarms.len()).cloned();
                let Some(a) = key.and_then(|k| self.alarms.remove(&k)) else {
                    return Ok(Outcome::default());
                };
                runner.stage(&[Change::ClearAlarm { alarm: a }]).map_err(err)?;
            }
        }
        runner.evaluate().map_err(|e| format!("{op:?}: {e}"))
    }

    /// A runner started on this cloud, as a restarted service would be.
    pub fn fresh(&self, rules: RuleSet) -> Result<Runner, String> {
        let mut r = Runner::new(rules).map_err(|e| e.to_string())?;
        for res in self.resources.values() {
            r.stage(&[Change::AddResource { resource: res.clone() }])
                .map_err(|(_, e)| e.to_string())?;
        }
        for e in &self.edges {
            r.stage(&[edge_change(e, true)]).map_err(|(_, e)| e.to_string())?;
        }
        for a in self.alarms.values() {
            r.stage(&[Change::RaiseAlarm { alarm: a.clone() }]).map_err(|(_, e)| e.to_string())?;
        }
        r.evaluate().map_err(|e| e.to_string())?;
        Ok(r)
    }
}

pub fn edge_change(e: &Edge, add: bool) -> Change {
    let (source, target, relationship_type) =
        (e.source.clone(), e.target.clone(), e.relationship_type.clone());
    if add {
        Change::AddEdge { source, target, relationship_type }
    } else {
        Change::DeleteEdge { source, target, relationship_type }
    }
}

pub fn update(id: &str, state: Option<&str>, name: Option<&str>) -> Change {
    Change::UpdateResource {
        id: id.into(),
        state: state.map(Into::into),
        name: name.map(Into::into),
        properties: BTreeMap::new(),
    }
}

pub fn edge(source: &str, target: &str, label: &str) -> Edge {
    Edge { source: source.into(), target: target.into(), relationship_type: label.into() }
}
