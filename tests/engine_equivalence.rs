//! The incremental evaluator and the reference evaluator agree on random graphs and random
//! change sequences: vertices and edges added and deleted, properties updated, alarms raised
//! and cleared, under positive patterns, OR, regexes, injectivity and NOT.

use causeway::check::{Input, Options, check_set};
use causeway::engine::{Compiled, Incremental, reference};
use causeway::graph::{Category, EdgeKey, Graph, Label, NewVertex, Props, Value, VertexId, names};
use proptest::prelude::*;

const TEMPLATES: &[&str] = &[
    "metadata: {version: 3, name: chain, type: standard}
entities:
  alarm: {category: ALARM, type: nagios}
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
scenarios:
  - condition: alarm [on] host AND host [contains] vm
    actions: [{set_state: {target: vm, state: ERROR}}]
  - condition: host [contains] vm AND NOT alarm [on] vm
    actions: [{set_state: {target: vm, state: SUBOPTIMAL}}]
  - condition: alarm [on] host OR alarm [on] vm AND host [contains] vm
    actions: [{mark_down: {target: host}}]
",
    "metadata: {version: 3, name: pairs, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  a: {category: RESOURCE, type: nova.instance}
  b: {category: RESOURCE, type: nova.instance, name.regex: 'vm-[0-3]'}
  zalarm: {category: ALARM, type: zabbix, name: down}
scenarios:
  - condition: host [contains] a AND host [contains] b AND NOT a [attached] b
    actions: [{mark_down: {target: host}}]
  - condition: host AND NOT zalarm [on] host
    actions: [{mark_down: {target: host}}]
",
];

/// Negations whose two ends are both outside the positive part.
const FREE_ENDS: &str = "metadata: {version: 3, name: free_ends, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  a: {category: RESOURCE, type: nova.instance, name.regex: 'vm-[0-3]'}
  b: {category: RESOURCE, type: nova.instance}
  zalarm: {category: ALARM, type: zabbix}
scenarios:
  - condition: host AND NOT a [attached] b
    actions: [{set_state: {target: host, state: ERROR}}]
  - condition: host AND NOT zalarm [on] a
    actions: [{set_state: {target: host, state: SUBOPTIMAL}}]
";

fn compiled(graph: &mut Graph) -> Compiled {
    compiled_from(graph, TEMPLATES)
}

fn compiled_from(graph: &mut Graph, templates: &[&str]) -> Compiled {
    let inputs: Vec<Input> = templates
        .iter()
        .enumerate()
        .map(|(i, t)| Input { file: format!("t{i}.yaml"), bytes: t.as_bytes().to_vec() })
        .collect();
    let result = check_set(&inputs, &Options::default());
    for f in &result.files {
        assert!(f.error.is_none(), "{:?}", f.error);
    }
    Compiled::new(&result.compiled.rules, graph).expect("compiles")
}

#[derive(Debug, Clone)]
enum Op {
    AddResource(u8, u8),
    AddAlarm(u8, u8, u8),
    Delete(u8),
    Rename(u8, u8),
    AddEdge(u8, u8, u8),
    DeleteEdge(u8, u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..2, 0u8..8).prop_map(|(t, n)| Op::AddResource(t, n)),
        (0u8..2, 0u8..2, any::<u8>()).prop_map(|(t, n, target)| Op::AddAlarm(t, n, target)),
        any::<u8>().prop_map(Op::Delete),
        (any::<u8>(), 0u8..8).prop_map(|(v, n)| Op::Rename(v, n)),
        (any::<u8>(), any::<u8>(), 0u8..2).prop_map(|(s, t, l)| Op::AddEdge(s, t, l)),
        (any::<u8>(), any::<u8>(), 0u8..2).prop_map(|(s, t, l)| Op::DeleteEdge(s, t, l)),
    ]
}

struct World {
    graph: Graph,
    live: Vec<VertexId>,
    next: u32,
}

impl World {
    fn pick(&self, i: u8) -> Option<VertexId> {
        (!self.live.is_empty()).then(|| self.live[i as usize % self.live.len()])
    }

    fn add(&mut self, category: Category, ty: &str, name: &str) -> VertexId {
        let g = &mut self.graph;
        let entity_id = g.intern(&format!("e{}", self.next)).expect("intern");
        self.next += 1;
        let vitrage_type = g.intern(ty).expect("intern");
        let name = g.str_value(name).expect("intern");
        let id = g
            .add_vertex(NewVertex {
                entity_id,
                category,
                vitrage_type,
                is_placeholder: false,
                props: Props::from_pairs([(names::NAME, name)]),
            })
            .expect("add");
        self.live.push(id);
        id
    }

    fn apply(&mut self, op: &Op) {
        let labels = [Label::CONTAINS, Label::ATTACHED];
        match *op {
            Op::AddResource(t, n) => {
                let ty = ["nova.host", "nova.instance"][t as usize];
                self.add(Category::Resource, ty, &format!("vm-{n}"));
            }
            Op::AddAlarm(t, n, target) => {
                let Some(target) = self.pick(target) else { return };
                let ty = ["nagios", "zabbix"][t as usize];
                let a = self.add(Category::Alarm, ty, ["down", "up"][n as usize]);
                let _ = self.graph.add_edge(EdgeKey { source: a, target, label: Label::ON });
            }
            Op::Delete(v) => {
                if let Some(v) = self.pick(v) {
                    let _ = self.graph.delete_vertex(v);
                    self.live.retain(|&x| x != v);
                }
            }
            Op::Rename(v, n) => {
                if let Some(v) = self.pick(v) {
                    let name = self.graph.str_value(&format!("vm-{n}")).expect("intern");
                    let _ = self.graph.update_vertex(v, Props::from_pairs([(names::NAME, name)]));
                }
            }
            Op::AddEdge(s, t, l) => {
                if let (Some(s), Some(t)) = (self.pick(s), self.pick(t)) {
                    let _ = self.graph.add_edge(EdgeKey {
                        source: s,
                        target: t,
                        label: labels[l as usize],
                    });
                }
            }
            Op::DeleteEdge(s, t, l) => {
                if let (Some(s), Some(t)) = (self.pick(s), self.pick(t)) {
                    let _ = self.graph.delete_edge(EdgeKey {
                        source: s,
                        target: t,
                        label: labels[l as usize],
                    });
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn incremental_matches_reference_after_every_batch(
        batches in prop::collection::vec(prop::collection::vec(op(), 1..8), 1..12)
    ) {
        let mut world = World { graph: Graph::new(), live: Vec::new(), next: 0 };
        let all = [TEMPLATES[0], TEMPLATES[1], FREE_ENDS];
        let c = compiled_from(&mut world.graph, &all);
        let mut inc = Incremental::new(&c);
        let _ = Value::Null;
        for batch in &batches {
            for op in batch {
                world.apply(op);
            }
            let changes = world.graph.take_changes();
            let before = inc.activations();
            let delta = inc.apply(&c, &world.graph, &changes);
            let want = reference(&c, &world.graph);
            prop_assert_eq!(&inc.activations(), &want);
            // The delta is exactly the difference.
            for a in &delta.appeared {
                prop_assert!(!before.contains(a) && want.contains(a));
            }
            for a in &delta.disappeared {
                prop_assert!(before.contains(a) && !want.contains(a));
            }
            prop_assert_eq!(before.len() + delta.appeared.len() - delta.disappeared.len(), want.len());
        }
    }
}

#[test]
fn both_evaluators_fire_and_retract_the_chain_rule() {
    let mut world = World { graph: Graph::new(), live: Vec::new(), next: 0 };
    let c = compiled(&mut world.graph);
    let mut inc = Incremental::new(&c);
    let host = world.add(Category::Resource, "nova.host", "h");
    let vm = world.add(Category::Resource, "nova.instance", "vm-1");
    world
        .graph
        .add_edge(EdgeKey { source: host, target: vm, label: Label::CONTAINS })
        .expect("edge");
    let changes = world.graph.take_changes();
    let delta = inc.apply(&c, &world.graph, &changes);
    // `host [contains] vm AND NOT alarm [on] vm` and `host AND NOT zalarm [on] host` fire.
    assert_eq!(delta.appeared.len(), 2, "{delta:?}");
    assert_eq!(inc.activations(), reference(&c, &world.graph));
    let alarm = world.add(Category::Alarm, "nagios", "down");
    world.graph.add_edge(EdgeKey { source: alarm, target: vm, label: Label::ON }).expect("edge");
    let changes = world.graph.take_changes();
    let delta = inc.apply(&c, &world.graph, &changes);
    // The NOT rule stops; `alarm [on] vm AND host [contains] vm` (the OR's second clause) fires.
    assert_eq!((delta.appeared.len(), delta.disappeared.len()), (1, 1), "{delta:?}");
    assert_eq!(inc.activations(), reference(&c, &world.graph));
    world.graph.delete_vertex(alarm).expect("delete");
    let changes = world.graph.take_changes();
    let delta = inc.apply(&c, &world.graph, &changes);
    assert_eq!((delta.appeared.len(), delta.disappeared.len()), (1, 1), "{delta:?}");
    assert_eq!(inc.activations(), reference(&c, &world.graph));
}

#[test]
fn a_binding_blocked_by_a_negation_with_two_free_ends_reappears_when_the_edge_goes() {
    let mut world = World { graph: Graph::new(), live: Vec::new(), next: 0 };
    let c = compiled_from(&mut world.graph, &[FREE_ENDS]);
    let mut inc = Incremental::new(&c);
    let _host = world.add(Category::Resource, "nova.host", "h");
    let a = world.add(Category::Resource, "nova.instance", "vm-1");
    let b = world.add(Category::Resource, "nova.instance", "vm-7");
    let attached = EdgeKey { source: a, target: b, label: Label::ATTACHED };
    world.graph.add_edge(attached).expect("edge");
    let changes = world.graph.take_changes();
    inc.apply(&c, &world.graph, &changes);
    let blocked = inc.activations();
    assert_eq!(blocked, reference(&c, &world.graph));
    world.graph.delete_edge(attached).expect("delete");
    let changes = world.graph.take_changes();
    let delta = inc.apply(&c, &world.graph, &changes);
    // `host AND NOT a [attached] b` holds again, for the host alone.
    assert_eq!((delta.appeared.len(), delta.disappeared.len()), (1, 0), "{delta:?}");
    assert_eq!(inc.activations(), reference(&c, &world.graph));
    // Renaming `a` out of its relation unblocks nothing more; renaming it back blocks again.
    world.graph.add_edge(attached).expect("edge");
    let changes = world.graph.take_changes();
    let delta = inc.apply(&c, &world.graph, &changes);
    assert_eq!((delta.appeared.len(), delta.disappeared.len()), (0, 1), "{delta:?}");
    let name = world.graph.str_value("vm-9").expect("intern");
    world.graph.update_vertex(a, Props::from_pairs([(names::NAME, name)])).expect("rename");
    let changes = world.graph.take_changes();
    let delta = inc.apply(&c, &world.graph, &changes);
    assert_eq!((delta.appeared.len(), delta.disappeared.len()), (1, 0), "{delta:?}");
    assert_eq!(inc.activations(), reference(&c, &world.graph));
}
