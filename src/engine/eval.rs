//! Evaluating one rule: the reference evaluator joins whole relations with datafrog; the
//! anchored evaluator starts from one bound vertex and follows the graph's adjacency, so its
//! work is proportional to the neighbourhood of that vertex.

use super::compiled::{Compiled, CompiledRule, Step};
use crate::compile::ir::{End, RelationId, Var};
use crate::graph::{EdgeKey, Graph, Label, VertexId};
use datafrog::Relation;

/// A rule's variables bound to vertices, in the rule's variable order.
/// Shared: an activation is indexed under every vertex it binds, so it is cloned often.
pub type Binding = std::sync::Arc<[VertexId]>;

/// Every binding of rule `r` over the whole graph, with datafrog joins.
pub fn reference(
    c: &Compiled,
    r: usize,
    graph: &Graph,
    members: &dyn Fn(RelationId) -> Vec<VertexId>,
) -> Vec<Binding> {
    let rule = &c.rules[r];
    let Some(Some(steps)) = rule.plans.first() else { return Vec::new() };
    // Partial bindings in plan order: start variable first, then each step's variable.
    let order: Vec<Var> = std::iter::once(Var(0)).chain(steps.iter().map(|s| s.var)).collect();
    let mut partial: Vec<Vec<u32>> =
        members(rule.relations[0]).into_iter().map(|v| vec![v.index()]).collect();
    for step in steps {
        let at = order.iter().position(|&v| v == step.from).unwrap_or(0);
        // p'(B ++ [n]) :- p(B), label(B[from], n) (or label(n, B[from])), entity(n), n ∉ B.
        let keyed: Relation<(u32, Vec<u32>)> = partial.iter().map(|b| (b[at], b.clone())).collect();
        let edges: Relation<(u32, u32)> = graph
            .edges_with_label(step.label)
            .map(
                |(s, t)| if step.forward { (s.index(), t.index()) } else { (t.index(), s.index()) },
            )
            .collect();
        let reached: Relation<(u32, Vec<u32>)> =
            Relation::from_join(&keyed, &edges, |_, b, &n| (n, b.clone()));
        let entity: Relation<(u32, ())> = members(rule.relations[step.var.0 as usize])
            .into_iter()
            .map(|v| (v.index(), ()))
            .collect();
        let extended: Relation<Vec<u32>> = Relation::from_join(&reached, &entity, |&n, b, _| {
            let mut b = b.clone();
            b.push(n);
            b
        });
        partial = extended.elements.into_iter().filter(|b| injective(b)).collect();
    }
    let mut out = Vec::with_capacity(partial.len());
    for b in partial {
        let mut binding = vec![VertexId(0); order.len()];
        for (slot, var) in b.iter().zip(&order) {
            binding[var.0 as usize] = VertexId(*slot);
        }
        let binding: Binding = binding.into();
        if holds(c, rule, graph, &binding) {
            out.push(binding);
        }
    }
    out
}

fn injective(b: &[u32]) -> bool {
    let last = b[b.len() - 1];
    !b[..b.len() - 1].contains(&last)
}

/// Buffers for [`anchored`], kept by the caller between calls so that an evaluation
/// allocates nothing once they have grown to the size of the largest neighbourhood.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// The binding being extended, in the rule's variable order.
    partial: Vec<Option<VertexId>>,
    /// The complete bindings found, one after another, each as long as the rule has variables.
    pub(super) found: Vec<VertexId>,
}

/// Every binding of rule `r` in which variable `anchor` is `v`, into `scratch.found` (cleared
/// first) one after another, each as long as the rule has variables. `member` says whether a
/// vertex is in a relation now: [`Compiled::member`], or the incremental evaluator's bits,
/// which say the same without testing properties again.
pub(super) fn anchored(
    c: &Compiled,
    (r, anchor, v): (usize, Var, VertexId),
    graph: &Graph,
    member: impl Fn(RelationId, VertexId) -> bool,
    scratch: &mut Scratch,
) {
    scratch.found.clear();
    let rule = &c.rules[r];
    let Some(Some(steps)) = rule.plans.get(anchor.0 as usize) else { return };
    if !member(rule.relations[anchor.0 as usize], v) {
        return;
    }
    scratch.partial.clear();
    scratch.partial.resize(rule.relations.len(), None);
    scratch.partial[anchor.0 as usize] = Some(v);
    let unplanned = rule.unplanned.get(anchor.0 as usize).map(Vec::as_slice);
    let cx = Cx { c, rule, graph, member, unplanned: unplanned.unwrap_or_default() };
    extend(&cx, steps, &mut scratch.partial, &mut scratch.found);
}

/// What an anchored evaluation reads: the rules, the rule evaluated, the graph and the
/// relation memberships.
struct Cx<'a, M> {
    c: &'a Compiled,
    rule: &'a CompiledRule,
    graph: &'a Graph,
    member: M,
    /// The positive edges the plan does not follow.
    unplanned: &'a [(Var, Var, Label)],
}

/// Follows `steps` from `partial`, appending every complete binding that holds to `out`.
fn extend<M: Fn(RelationId, VertexId) -> bool>(
    cx: &Cx<M>,
    steps: &[Step],
    partial: &mut [Option<VertexId>],
    out: &mut Vec<VertexId>,
) {
    let Some((step, rest)) = steps.split_first() else {
        let start = out.len();
        out.extend(partial.iter().map(|b| b.unwrap_or(VertexId(0))));
        if !completes(cx, &out[start..]) {
            out.truncate(start);
        }
        return;
    };
    let Some(from) = partial[step.from.0 as usize] else { return };
    // The neighbours are read straight from the adjacency: the graph is only borrowed, so
    // nothing needs to be copied out of it before going deeper.
    if step.forward {
        for n in cx.graph.out_neighbours(from, step.label) {
            bind(cx, step, rest, partial, out, n);
        }
    } else {
        for n in cx.graph.in_neighbours(from, step.label) {
            bind(cx, step, rest, partial, out, n);
        }
    }
}

/// Binds `step.var` to `n` if it is in the variable's relation and not bound already, and
/// goes on with the `rest` of the plan.
fn bind<M: Fn(RelationId, VertexId) -> bool>(
    cx: &Cx<M>,
    step: &Step,
    rest: &[Step],
    partial: &mut [Option<VertexId>],
    out: &mut Vec<VertexId>,
    n: VertexId,
) {
    let slot = step.var.0 as usize;
    if partial.contains(&Some(n)) || !(cx.member)(cx.rule.relations[slot], n) {
        return;
    }
    partial[slot] = Some(n);
    extend(cx, rest, partial, out);
    partial[slot] = None;
}

fn live_edge(graph: &Graph, source: VertexId, target: VertexId, label: Label) -> bool {
    graph.edge(EdgeKey { source, target, label }).is_some_and(|e| !e.is_deleted)
}

/// [`holds`] for a binding found by following a plan, which has checked injectivity and the
/// edges the plan follows already.
fn completes<M>(cx: &Cx<M>, b: &[VertexId]) -> bool {
    let edge = |&(s, t, label): &(Var, Var, Label)| {
        live_edge(cx.graph, b[s.0 as usize], b[t.0 as usize], label)
    };
    cx.unplanned.iter().all(edge)
        && cx.rule.negations.iter().all(|n| !negated_edge_exists(cx.c, n, cx.graph, b))
}

/// The checks that are not joins: every positive edge (including the ones between variables
/// bound by different steps), injectivity, and every negation.
fn holds(c: &Compiled, rule: &CompiledRule, graph: &Graph, b: &[VertexId]) -> bool {
    for (i, v) in b.iter().enumerate() {
        if b[i + 1..].contains(v) {
            return false;
        }
    }
    let all_edges = rule
        .edges
        .iter()
        .all(|&(s, t, label)| live_edge(graph, b[s.0 as usize], b[t.0 as usize], label));
    all_edges && rule.negations.iter().all(|n| !negated_edge_exists(c, n, graph, b))
}

/// `exists free ends: label(source, target)`, free ends matching their relation and distinct
/// from every bound vertex.
fn negated_edge_exists(
    c: &Compiled,
    n: &super::compiled::Not,
    graph: &Graph,
    b: &[VertexId],
) -> bool {
    negation_witness(c, n, graph, b).is_some()
}

/// An edge `(source, target)` that makes negation `n` fail for binding `b`, if any.
pub(super) fn negation_witness(
    c: &Compiled,
    n: &super::compiled::Not,
    graph: &Graph,
    b: &[VertexId],
) -> Option<(VertexId, VertexId)> {
    let free_ok = |rel: RelationId, v: VertexId| !b.contains(&v) && c.member(rel, graph, v);
    match (&n.source, &n.target) {
        (End::Bound(s), End::Bound(t)) => {
            let (s, t) = (b[s.0 as usize], b[t.0 as usize]);
            live_edge(graph, s, t, n.label).then_some((s, t))
        }
        (End::Bound(s), End::Free { relation, .. }) => {
            let s = b[s.0 as usize];
            graph.out_neighbours(s, n.label).find(|&t| free_ok(*relation, t)).map(|t| (s, t))
        }
        (End::Free { relation, .. }, End::Bound(t)) => {
            let t = b[t.0 as usize];
            graph.in_neighbours(t, n.label).find(|&s| free_ok(*relation, s)).map(|s| (s, t))
        }
        (End::Free { relation: rs, .. }, End::Free { relation: rt, .. }) => graph
            .edges_with_label(n.label)
            .find(|&(s, t)| s != t && free_ok(*rs, s) && free_ok(*rt, t)),
    }
}
