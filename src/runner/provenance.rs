//! Why a deduced alarm exists, from the runner's own record: the live activations whose
//! `raise_alarm` made it, with their template, scenario and matched vertices. This is the
//! provenance `causeway run --explain` prints at the moment an action is done, asked for later
//! (the web page's root-cause panel asks it of the service).

use super::Runner;
use crate::graph::{Graph, Label, VertexId, names};

/// One live activation raising a deduced alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The template's name.
    pub template: String,
    /// The scenario's id (`<template>-scenario<i>`).
    pub scenario: String,
    /// The action's id (`<scenario id>-action<j>`).
    pub action: String,
    /// Whether its `raise_alarm` is the one in effect (the others overlap it: lower score, or
    /// younger with the same score).
    pub in_effect: bool,
    /// The vertices of its match, sorted.
    pub matched: Vec<VertexId>,
}

impl Runner {
    /// The activations that raise deduced alarm `alarm` now, the one in effect first; empty
    /// for an external alarm, a resource, or a vertex that is gone.
    pub fn raised_by(&self, alarm: VertexId) -> Vec<Provenance> {
        let Some((target, name)) = alarm_on(&self.graph, alarm) else { return Vec::new() };
        let instances = self.tracker.raising(target, &name);
        instances
            .into_iter()
            .enumerate()
            .filter_map(|(i, instance)| {
                let (template, scenario) = self.scenario_of(&instance.action)?;
                Some(Provenance {
                    template,
                    scenario,
                    action: instance.action.to_string(),
                    in_effect: i == 0,
                    matched: instance.trigger.to_vec(),
                })
            })
            .collect()
    }

    /// The template and scenario of action `action`.
    fn scenario_of(&self, action: &str) -> Option<(String, String)> {
        let scenario =
            self.rules.scenarios.iter().find(|s| s.actions.iter().any(|a| a.id == action))?;
        let template = self.rules.templates.get(scenario.template.0 as usize)?;
        Some((template.name.clone(), scenario.id.clone()))
    }
}

/// The resource a deduced alarm is `on`, and the alarm's name.
fn alarm_on(graph: &Graph, alarm: VertexId) -> Option<(VertexId, String)> {
    let vertex = graph.vertex(alarm)?;
    let name = graph.resolve(vertex.get_str(names::NAME)?).to_string();
    let target = graph.out_neighbours(alarm, Label::ON).next()?;
    Some((target, name))
}
