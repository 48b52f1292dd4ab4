//! Rules prepared for one graph: labels and match values interned, regexes compiled, and a
//! join plan from every variable.

use crate::compile::ir::{End, RelationId, Rule, RuleSet, Var};
use crate::graph::{Graph, GraphError, Label, Sym, Value, Vertex, VertexId, names};
use crate::template::pyregex::Pattern;
use rustc_hash::FxHashMap as HashMap;

/// A property test of an entity relation.
#[derive(Debug, Clone)]
enum Test {
    /// Exact string equality.
    Eq(Sym, Sym),
    /// Python `re.match`: anchored at the start only; `None` (a pattern validation would
    /// have refused) matches nothing.
    Regex(Sym, Option<Pattern>),
}

/// One step of a join plan: bind `var` from a neighbour of the bound `from` along `label`.
#[derive(Debug, Clone)]
pub struct Step {
    /// The variable this step binds.
    pub var: Var,
    /// The bound variable it starts from.
    pub from: Var,
    /// The edge label.
    pub label: Label,
    /// True when `from` is the edge's source.
    pub forward: bool,
}

/// A negated edge with interned label.
#[derive(Debug, Clone)]
pub struct Not {
    /// Label.
    pub label: Label,
    /// Source end.
    pub source: End,
    /// Target end.
    pub target: End,
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The relation of each variable.
    pub relations: Vec<RelationId>,
    /// Positive edges: (source, target, label).
    pub edges: Vec<(Var, Var, Label)>,
    /// Negated edges.
    pub negations: Vec<Not>,
    /// `plans[v]`: the join order starting from variable `v`; `None` when the positive
    /// pattern is not connected (Vitrage never matches such a clause, and neither does this).
    pub plans: Vec<Option<Vec<Step>>>,
    /// `unplanned[v]`: the positive edges that `plans[v]` does not follow (self-loops, and
    /// edges between variables bound by different steps), which a binding it finds must
    /// still be checked for.
    pub unplanned: Vec<Vec<(Var, Var, Label)>>,
}

/// The rule set prepared for a graph.
#[derive(Debug, Clone)]
pub struct Compiled {
    relations: Vec<Vec<Vec<Test>>>,
    /// The relations a vertex can be in, by its `vitrage_type`: a changed vertex is tested
    /// against the few of its type instead of against every relation.
    by_type: RelationsByType,
    /// Rules in IR order.
    pub rules: Vec<CompiledRule>,
}

impl Compiled {
    /// Prepares `set` for `graph`, interning what it needs.
    pub fn new(set: &RuleSet, graph: &mut Graph) -> Result<Compiled, GraphError> {
        let mut relations = Vec::with_capacity(set.relations.len());
        for rel in &set.relations {
            let mut alternatives = Vec::with_capacity(rel.alternatives.len());
            for alt in &rel.alternatives {
                let mut tests = Vec::with_capacity(alt.len());
                for p in alt {
                    let key = graph.intern(&p.key)?;
                    tests.push(if p.regex {
                        Test::Regex(key, Pattern::compile(&p.value))
                    } else {
                        Test::Eq(key, graph.intern(&p.value)?)
                    });
                }
                alternatives.push(tests);
            }
            relations.push(alternatives);
        }
        let mut rules = Vec::with_capacity(set.rules.len());
        for rule in &set.rules {
            rules.push(compile_rule(rule, graph)?);
        }
        let by_type = RelationsByType::new(&relations);
        Ok(Compiled { relations, by_type, rules })
    }

    /// Calls `f` with every relation `v` is in (see [`Compiled::member`]), in no particular
    /// order.
    pub fn each_relation_of(&self, graph: &Graph, v: VertexId, mut f: impl FnMut(RelationId)) {
        let Some(vertex) = graph.vertex(v) else { return };
        if !vertex.is_matchable() {
            return;
        }
        let typed = self.by_type.typed.get(&vertex.vitrage_type()).map(Vec::as_slice);
        for &rel in typed.unwrap_or_default().iter().chain(&self.by_type.untyped) {
            if self.matches(rel, graph, vertex) {
                f(rel);
            }
        }
    }

    /// Whether `v` is in the relation: live, not a placeholder, and matching every property
    /// of one alternative.
    pub fn member(&self, rel: RelationId, graph: &Graph, v: VertexId) -> bool {
        let Some(vertex) = graph.vertex(v) else { return false };
        vertex.is_matchable() && self.matches(rel, graph, vertex)
    }

    fn matches(&self, rel: RelationId, graph: &Graph, vertex: &Vertex) -> bool {
        let Some(alternatives) = self.relations.get(rel.0 as usize) else { return false };
        alternatives.iter().any(|tests| tests.iter().all(|t| self.passes(t, graph, vertex)))
    }

    /// Why `v` is not in the relation, in words (`name: "nic down" != "nic failure"`), or
    /// `None` when it is. Of several alternatives (equivalences), the one `v` comes closest to.
    pub fn mismatch(&self, rel: RelationId, graph: &Graph, v: VertexId) -> Option<String> {
        let Some(vertex) = graph.vertex(v) else { return Some("it does not exist".into()) };
        if vertex.is_deleted() {
            return Some("it is deleted".into());
        }
        if vertex.is_placeholder() {
            return Some("it is a placeholder".into());
        }
        let alternatives = self.relations.get(rel.0 as usize)?;
        let shown = |key: Sym| match vertex.get(key) {
            Some(Value::Str(s)) | Some(Value::Num(s)) => format!("{:?}", graph.resolve(s)),
            Some(Value::Bool(b)) => b.to_string(),
            _ => "absent".into(),
        };
        let failures = |tests: &[Test]| -> Vec<String> {
            tests
                .iter()
                .filter(|t| !self.passes(t, graph, vertex))
                .map(|t| match t {
                    Test::Eq(key, want) => {
                        format!(
                            "{}: {} != {:?}",
                            graph.resolve(*key),
                            shown(*key),
                            graph.resolve(*want)
                        )
                    }
                    Test::Regex(key, _) => format!(
                        "{}: {} does not match the entity's regex",
                        graph.resolve(*key),
                        shown(*key)
                    ),
                })
                .collect()
        };
        let best = alternatives.iter().map(|a| failures(a)).min_by_key(Vec::len)?;
        (!best.is_empty()).then(|| best.join(", "))
    }

    fn passes(&self, t: &Test, graph: &Graph, vertex: &Vertex) -> bool {
        match t {
            Test::Eq(key, want) => vertex.get(*key) == Some(Value::Str(*want)),
            Test::Regex(key, pattern) => match (vertex.get(*key), pattern) {
                (Some(Value::Str(s)), Some(pattern)) => pattern.is_match(graph.resolve(s)),
                _ => false,
            },
        }
    }

    /// The number of relations.
    pub fn relation_count(&self) -> usize {
        self.relations.len()
    }
}

/// Relations indexed by the `vitrage_type` their alternatives require.
#[derive(Debug, Clone, Default)]
struct RelationsByType {
    /// Relations every alternative of which requires a type, under each type one requires.
    typed: HashMap<Sym, Vec<RelationId>>,
    /// Relations with an alternative that does not test the type exactly.
    untyped: Vec<RelationId>,
}

impl RelationsByType {
    fn new(relations: &[Vec<Vec<Test>>]) -> RelationsByType {
        let mut index = RelationsByType::default();
        for (r, alternatives) in relations.iter().enumerate() {
            let rel = RelationId(r as u32);
            let types: Option<Vec<Sym>> =
                alternatives.iter().map(|alt| required_type(alt)).collect();
            let Some(types) = types else {
                index.untyped.push(rel);
                continue;
            };
            for t in types {
                let list = index.typed.entry(t).or_default();
                if !list.contains(&rel) {
                    list.push(rel);
                }
            }
        }
        index
    }
}

/// The `vitrage_type` an alternative requires, if it tests it for equality.
fn required_type(tests: &[Test]) -> Option<Sym> {
    tests.iter().find_map(|t| match t {
        Test::Eq(key, want) if *key == names::VITRAGE_TYPE => Some(*want),
        _ => None,
    })
}

fn compile_rule(rule: &Rule, graph: &mut Graph) -> Result<CompiledRule, GraphError> {
    let relations: Vec<RelationId> = rule.vars.iter().map(|v| v.relation).collect();
    let mut edges = Vec::with_capacity(rule.edges.len());
    for e in &rule.edges {
        edges.push((e.source, e.target, graph.label(&e.label.0)?));
    }
    let mut negations = Vec::with_capacity(rule.negations.len());
    for n in &rule.negations {
        negations.push(Not {
            label: graph.label(&n.label.0)?,
            source: n.source.clone(),
            target: n.target.clone(),
        });
    }
    let plans: Vec<_> =
        (0..relations.len()).map(|start| plan(start, relations.len(), &edges)).collect();
    let unplanned =
        plans.iter().map(|p| unplanned(p.as_deref().unwrap_or_default(), &edges)).collect();
    Ok(CompiledRule { relations, edges, negations, plans, unplanned })
}

/// The edges none of `steps` follows. An edge listed twice is followed by the step that
/// follows the other copy: the same graph edge satisfies both.
fn unplanned(steps: &[Step], edges: &[(Var, Var, Label)]) -> Vec<(Var, Var, Label)> {
    let follows = |st: &Step, &(s, t, label): &(Var, Var, Label)| {
        let (from, to) = if st.forward { (s, t) } else { (t, s) };
        st.label == label && st.from == from && st.var == to
    };
    edges.iter().filter(|e| !steps.iter().any(|st| follows(st, e))).copied().collect()
}

/// Breadth-first join order from `start` over positive edges.
fn plan(start: usize, n: usize, edges: &[(Var, Var, Label)]) -> Option<Vec<Step>> {
    let mut bound = vec![false; n];
    bound[start] = true;
    let mut order = vec![start];
    let mut steps = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let from = order[i];
        for &(s, t, label) in edges {
            let (s, t) = (s.0 as usize, t.0 as usize);
            let (new, forward) = if s == t {
                continue;
            } else if s == from && !bound[t] {
                (t, true)
            } else if t == from && !bound[s] {
                (s, false)
            } else {
                continue;
            };
            bound[new] = true;
            order.push(new);
            steps.push(Step { var: Var(new as u32), from: Var(from as u32), label, forward });
        }
        i += 1;
    }
    if order.len() != n {
        return None;
    }
    Some(steps)
}
