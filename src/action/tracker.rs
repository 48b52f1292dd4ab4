//! Vitrage's ActiveActionsTracker (spec section 4), without its bugs.
//!
//! An action *instance* is an action id, a trigger (the sorted vertices of the match) and the
//! vertices it targets. (Vitrage keys instances by action id and trigger only, so two matches
//! of the same vertices that target different ones, e.g. `host [contains] a AND host
//! [contains] b` acting on `a`, collide in its database and the whole batch is dropped.)
//! Instances are grouped by (type, target, source, alarm name); in a group the instance with
//! the highest score is in effect, ties going to the oldest. DO inserts an instance and
//! performs it if it became the top; UNDO of the top performs the next instance as a DO, or
//! the UNDO itself when it was alone; UNDO of another instance only forgets it. An instance
//! supported by several activations (two clauses matching the same vertices) is inserted
//! once and removed with its last activation.

use super::resolve::{Resolved, ResolvedKind};
use crate::graph::VertexId;
use crate::graph::{MapEntry, ShardedMap};
use crate::template::model::ActionKind;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An action instance: action id and trigger.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Instance {
    /// `<scenario id>-action<j>`.
    pub action: super::ActionId,
    /// The sorted vertices of the match.
    pub trigger: std::sync::Arc<[VertexId]>,
    /// The target and source vertices.
    pub targets: (Option<VertexId>, Option<VertexId>),
}

impl Instance {
    /// The instance of `action` resolved for the match `trigger`: its id, and the target
    /// and source the action was resolved on.
    pub fn of(action: &Resolved, trigger: Arc<[VertexId]>) -> Instance {
        Instance { action: action.id.clone(), trigger, targets: (action.target, action.source) }
    }
}

/// What a group of overlapping instances has in common: Vitrage's grouping, and what the
/// saved state is keyed by (spec section 4).
#[derive(Debug, Clone, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct GroupKey {
    kind: u8,
    target: Option<VertexId>,
    source: Option<VertexId>,
    alarm: Option<Arc<str>>,
}

/// The alarm names of one template's instances are one allocation (the template's literal):
/// compared by pointer first, as `Arc<str>` does not.
impl PartialEq for GroupKey {
    fn eq(&self, other: &GroupKey) -> bool {
        (self.kind, self.target, self.source) == (other.kind, other.target, other.source)
            && same_alarm(self.alarm.as_ref(), other.alarm.as_ref())
    }
}

/// What a derived `Hash` would write: equal keys (by text) hash the same.
impl std::hash::Hash for GroupKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.kind, self.target, self.source, self.alarm.as_deref()).hash(state);
    }
}

fn same_alarm(a: Option<&Arc<str>>, b: Option<&Arc<str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// The action types, as groups number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `raise_alarm`.
    RaiseAlarm = 0,
    /// `set_state`.
    SetState = 1,
    /// `mark_down`.
    MarkDown = 2,
    /// `add_causal_relationship`.
    AddCausalRelationship = 3,
    /// `execute_mistral` (never recorded here: see [`super::mistral`]).
    ExecuteMistral = 4,
}

impl Kind {
    /// The type of an action spec: what an undo, which has no resolved action, finds its
    /// instance's row by.
    pub fn of_spec(kind: &ActionKind) -> Kind {
        match kind {
            ActionKind::RaiseAlarm { .. } => Kind::RaiseAlarm,
            ActionKind::SetState { .. } => Kind::SetState,
            ActionKind::MarkDown => Kind::MarkDown,
            ActionKind::AddCausalRelationship => Kind::AddCausalRelationship,
            ActionKind::ExecuteMistral { .. } => Kind::ExecuteMistral,
        }
    }

    fn of(kind: &ResolvedKind) -> Kind {
        match kind {
            ResolvedKind::RaiseAlarm { .. } => Kind::RaiseAlarm,
            ResolvedKind::SetState { .. } => Kind::SetState,
            ResolvedKind::MarkDown => Kind::MarkDown,
            ResolvedKind::AddCausalRelationship => Kind::AddCausalRelationship,
            ResolvedKind::ExecuteMistral(_) => Kind::ExecuteMistral,
        }
    }
}

/// Where instances act: their type and the vertices they act on. The rows of every group of
/// one place are kept in one entry, so that a DO and an UNDO each find their instance with
/// one lookup of a small key: the groups of a place differ only by alarm name (a target
/// rarely has more than a few), and an instance's row is its record (its supports are
/// counted there). A second map from instance to supports took 56 bytes and a lookup more
/// per instance, and the growth of the tracker's two maps was a sixth of a NIC failure's
/// time on a host of 100 instances (perf, wall clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Place {
    kind: Kind,
    target: Option<VertexId>,
    source: Option<VertexId>,
}

impl Place {
    fn of(a: &Resolved) -> Place {
        Place { kind: Kind::of(&a.kind), target: a.target, source: a.source }
    }
}

/// The alarm name that, with its place, makes a row's group.
fn alarm_of(a: &Resolved) -> Option<&Arc<str>> {
    match &a.kind {
        ResolvedKind::RaiseAlarm { name, .. } => Some(name),
        _ => None,
    }
}

fn group_key(a: &Resolved) -> GroupKey {
    let Place { kind, target, source } = Place::of(a);
    GroupKey { kind: kind as u8, target, source, alarm: alarm_of(a).cloned() }
}

/// A recorded instance: its row in its group. The instance is not kept whole: its id and
/// targets are its action's (which [`Instance::of`] makes true of every instance the tracker
/// is given), so the row holds only the trigger.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    trigger: Arc<[VertexId]>,
    score: u32,
    seq: u64,
    /// The action the instance was first done with.
    action: Arc<Resolved>,
    /// The activations that support it (two clauses matching the same vertices: one row).
    supports: u32,
}

impl Row {
    fn instance(&self) -> Instance {
        Instance::of(&self.action, self.trigger.clone())
    }

    /// Whether this is the row of the instance of `action` for `trigger` at its place.
    fn is_for(&self, action: &super::ActionId, trigger: &[VertexId]) -> bool {
        self.action.id == *action && *self.trigger == *trigger
    }

    fn is(&self, instance: &Instance) -> bool {
        let a = &self.action;
        (a.target, a.source) == instance.targets && self.is_for(&instance.action, &instance.trigger)
    }

    fn in_group_of(&self, other: &Resolved) -> bool {
        same_alarm(alarm_of(&self.action), alarm_of(other))
    }
}

/// What is saved of a row: the instance whole, as before rows left it out; its supports
/// are saved beside the groups.
#[derive(Serialize, Deserialize)]
struct SavedRow<I, A> {
    instance: I,
    score: u32,
    seq: u64,
    action: A,
}

impl Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (score, seq) = (self.score, self.seq);
        SavedRow { instance: self.instance(), score, seq, action: &self.action }.serialize(s)
    }
}

/// A saved row whose instance is not its action's is refused: the row could not say it. Its
/// supports are set when the tracker is read ([`Tracker`]'s `Deserialize`).
impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved: SavedRow<Instance, Arc<Resolved>> = Deserialize::deserialize(d)?;
        let SavedRow { instance, score, seq, action } = saved;
        let row = Row { trigger: instance.trigger.clone(), score, seq, action, supports: 0 };
        if !row.is(&instance) {
            return Err(serde::de::Error::custom("a row whose instance is not its action's"));
        }
        Ok(row)
    }
}

/// What the tracker decided: perform this action (`do`) or undo it.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Apply the action.
    Do(Arc<Resolved>),
    /// Undo the action.
    Undo(Arc<Resolved>),
}

/// The overlap tracker.
///
/// It is saved whole: the rows of each group in order with their scores and sequence numbers
/// (ties go to the lowest, so they must survive a restart), the supports and the counter.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The rows of every group at each place, each group's in the order they came.
    places: ShardedMap<Place, Rows>,
    /// The number of rows.
    rows: usize,
    seq: u64,
}

/// The rows at one place. A place holds one row but when actions overlap, so that one is
/// kept in the map's entry: a list would be one more allocation and one more cache line to
/// reach for every action instance.
#[derive(Debug, Clone, PartialEq)]
enum Rows {
    One(Row),
    /// Two or more (none only in a saved state, which [`Tracker::check`] refuses).
    Many(Vec<Row>),
}

impl Rows {
    fn as_slice(&self) -> &[Row] {
        match self {
            Rows::One(row) => std::slice::from_ref(row),
            Rows::Many(rows) => rows,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Row] {
        match self {
            Rows::One(row) => std::slice::from_mut(row),
            Rows::Many(rows) => rows,
        }
    }

    fn push(&mut self, row: Row) {
        match self {
            Rows::One(first) => {
                let first = first.clone();
                *self = Rows::Many(vec![first, row]);
            }
            Rows::Many(rows) => rows.push(row),
        }
    }

    /// Removes row `at` of a place of two or more.
    fn remove(&mut self, at: usize) -> Option<Row> {
        let Rows::Many(rows) = self else { return None };
        let removed = (at < rows.len()).then(|| rows.remove(at));
        if let [last] = rows.as_slice() {
            *self = Rows::One(last.clone());
        }
        removed
    }
}

/// Saved as the list it stands for.
impl Serialize for Rows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Rows {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut rows: Vec<Row> = Deserialize::deserialize(d)?;
        Ok(match rows.len() {
            1 => Rows::One(rows.remove(0)),
            _ => Rows::Many(rows),
        })
    }
}

/// The top row of the group of `action` among `rows`: highest score, then oldest.
fn top(rows: &[Row], action: &Resolved) -> Option<usize> {
    let order = |&a: &usize, &b: &usize| {
        rows[b].score.cmp(&rows[a].score).then(rows[a].seq.cmp(&rows[b].seq))
    };
    (0..rows.len()).filter(|&i| rows[i].in_group_of(action)).min_by(order)
}

impl Tracker {
    /// An empty tracker.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// DO: records the instance of `action` for the match `trigger` ([`Instance::of`]); the
    /// decision to carry out, if any (one at most).
    pub fn do_action(
        &mut self,
        trigger: Arc<[VertexId]>,
        action: Arc<Resolved>,
        score: u32,
    ) -> Option<Decision> {
        let rows = match self.places.entry(Place::of(&action)) {
            MapEntry::Vacant(e) => {
                self.seq += 1;
                self.rows += 1;
                let row =
                    Row { trigger, score, seq: self.seq, action: action.clone(), supports: 1 };
                e.insert(Rows::One(row));
                return Some(Decision::Do(action));
            }
            MapEntry::Occupied(e) => e.into_mut(),
        };
        if let Some(row) = rows.as_mut_slice().iter_mut().find(|r| r.is_for(&action.id, &trigger)) {
            row.supports += 1;
            return None;
        }
        self.seq += 1;
        self.rows += 1;
        rows.push(Row { trigger, score, seq: self.seq, action: action.clone(), supports: 1 });
        let rows = rows.as_slice();
        (top(rows, &action) == Some(rows.len() - 1)).then_some(Decision::Do(action))
    }

    /// UNDO: forgets one support of the instance, an action of type `kind`. `None` when it is
    /// not recorded; else the action it was done with, and the decision to carry out, if any
    /// (one at most).
    pub fn undo_action(
        &mut self,
        instance: &Instance,
        kind: Kind,
    ) -> Option<(Arc<Resolved>, Option<Decision>)> {
        let (target, source) = instance.targets;
        let mut place = self.places.occupied(&Place { kind, target, source })?;
        let rows = place.get_mut();
        let found =
            rows.as_slice().iter().position(|r| r.is_for(&instance.action, &instance.trigger));
        let at = found?;
        let row = &mut rows.as_mut_slice()[at];
        if row.supports > 1 {
            row.supports -= 1;
            return Some((row.action.clone(), None));
        }
        let action = row.action.clone();
        self.rows -= 1;
        if let Rows::One(_) = rows {
            place.remove();
            return Some((action.clone(), Some(Decision::Undo(action))));
        }
        let was_top = top(rows.as_slice(), &action) == Some(at);
        rows.remove(at)?;
        let rows = rows.as_slice();
        let decision = match top(rows, &action) {
            None => Some(Decision::Undo(action.clone())),
            Some(next) => was_top.then(|| Decision::Do(rows[next].action.clone())),
        };
        Some((action, decision))
    }

    /// The instances that raise deduced alarm `name` on `target` now, the one in effect (the
    /// highest score, then the oldest) first: what an operator asks when asking why the alarm
    /// exists.
    pub fn raising(&self, target: VertexId, name: &str) -> Vec<Instance> {
        let place = Place { kind: Kind::RaiseAlarm, target: Some(target), source: None };
        let rows = self.places.get(&place).map_or(&[][..], Rows::as_slice);
        let named = |r: &&Row| alarm_of(&r.action).is_some_and(|a| **a == *name);
        let Some(action) = rows.iter().find(named).map(|r| &r.action) else { return Vec::new() };
        let first = top(rows, action);
        let rest = (0..rows.len()).filter(|&i| Some(i) != first && rows[i].in_group_of(action));
        first.into_iter().chain(rest).map(|i| rows[i].instance()).collect()
    }

    /// Every recorded instance with the action it was done with, sorted by instance.
    pub fn performed(&self) -> Vec<(Instance, &Resolved)> {
        let mut out: Vec<(Instance, &Resolved)> =
            self.all_rows().map(|r| (r.instance(), r.action.as_ref())).collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn all_rows(&self) -> impl Iterator<Item = &Row> + '_ {
        self.places.iter().flat_map(|(_, rows)| rows.as_slice())
    }

    /// The number of instances recorded.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether any instance is recorded.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Checks what a restored tracker must hold: every row at the place of its action and
    /// supported, each instance in one row, and no sequence number above the counter.
    pub fn check(&self) -> Result<(), String> {
        let mut instances = std::collections::HashSet::new();
        for (place, rows) in self.places.iter() {
            let rows = rows.as_slice();
            if rows.is_empty() {
                return Err("an empty group".into());
            }
            for row in rows {
                let action = &row.action.id;
                if Place::of(&row.action) != *place || row.seq > self.seq || row.seq == 0 {
                    return Err(format!("row of {action} out of place"));
                }
                if row.supports == 0 {
                    return Err(format!("row of {action} without support"));
                }
                if !instances.insert(row.instance()) {
                    return Err(format!("two rows of {action}"));
                }
            }
        }
        Ok(())
    }
}

/// Saved as its groups (sorted by key, each one's rows in order), each instance with its
/// number of supports (sorted), and the counter; an instance's action is its row's.
impl Serialize for Tracker {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut groups: Vec<(GroupKey, Vec<&Row>)> = Vec::new();
        for (_, rows) in self.places.iter() {
            let start = groups.len();
            for row in rows.as_slice() {
                let key = group_key(&row.action);
                match groups[start..].iter_mut().find(|(k, _)| *k == key) {
                    Some((_, group)) => group.push(row),
                    None => groups.push((key, vec![row])),
                }
            }
        }
        groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut support: Vec<(Instance, u32)> =
            self.all_rows().map(|r| (r.instance(), r.supports)).collect();
        support.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Saved { groups, support, seq: self.seq }.serialize(s)
    }
}

/// Read back as saved: a group's rows go to their place in order, each with the supports
/// saved for its instance. A supported instance without a row, a row without supports, or
/// a row saved under another group's key is refused.
impl<'de> Deserialize<'de> for Tracker {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let saved: Saved<ShardedMap<GroupKey, Rows>, ShardedMap<Instance, u32>> =
            Deserialize::deserialize(d)?;
        let (mut places, mut rows) = (ShardedMap::<Place, Rows>::default(), 0usize);
        let mut groups: Vec<(&GroupKey, &Rows)> = saved.groups.iter().collect();
        groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut supported = 0;
        for (key, group) in groups {
            for row in group.as_slice() {
                if group_key(&row.action) != *key {
                    return Err(D::Error::custom(format!("row of {} out of place", row.action.id)));
                }
                let supports = saved.support.get(&row.instance()).copied();
                supported += usize::from(supports.is_some());
                let row = Row { supports: supports.unwrap_or(0), ..row.clone() };
                rows += 1;
                match places.entry(Place::of(&row.action)) {
                    MapEntry::Vacant(e) => {
                        e.insert(Rows::One(row));
                    }
                    MapEntry::Occupied(e) => e.into_mut().push(row),
                }
            }
        }
        if supported != saved.support.len() {
            return Err(D::Error::custom("a supported instance without a row"));
        }
        let tracker = Tracker { places, rows, seq: saved.seq };
        Ok(tracker)
    }
}

/// What is saved of a tracker; generic so that writing borrows and reading owns.
#[derive(Serialize, Deserialize)]
struct Saved<G, S> {
    groups: G,
    support: S,
    seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(s: &str, id: &str) -> Arc<Resolved> {
        Arc::new(Resolved {
            id: crate::action::ActionId::new(id),
            kind: ResolvedKind::SetState { state: s.into() },
            target: Some(VertexId(1)),
            source: None,
        })
    }

    /// The instance of action `id` (whose target is vertex 1) for the match of vertex `t`.
    fn inst(id: &str, t: u32) -> Instance {
        Instance {
            action: crate::action::ActionId::new(id),
            trigger: vec![VertexId(t)].into(),
            targets: (Some(VertexId(1)), None),
        }
    }

    /// Records the instance `i` of `action`; the decision.
    fn record(
        t: &mut Tracker,
        i: &Instance,
        action: &Arc<Resolved>,
        score: u32,
    ) -> Option<Decision> {
        assert_eq!(&Instance::of(action, i.trigger.clone()), i);
        t.do_action(i.trigger.clone(), action.clone(), score)
    }

    /// Undoes one support of `i`, which must be recorded with `action`; the decision.
    fn undo(t: &mut Tracker, i: &Instance, action: &Arc<Resolved>) -> Option<Decision> {
        let (done_with, decision) = t.undo_action(i, Kind::SetState).expect("recorded");
        assert_eq!(&done_with, action);
        decision
    }

    #[test]
    fn worst_state_wins_and_reverts_to_the_next_worst() {
        let mut t = Tracker::new();
        let (sub, err) = (state("SUBOPTIMAL", "a"), state("ERROR", "b"));
        assert_eq!(record(&mut t, &inst("a", 7), &sub, 20), Some(Decision::Do(sub.clone())));
        assert_eq!(record(&mut t, &inst("b", 8), &err, 30), Some(Decision::Do(err.clone())));
        assert_eq!(undo(&mut t, &inst("b", 8), &err), Some(Decision::Do(sub.clone())));
        assert_eq!(undo(&mut t, &inst("a", 7), &sub), Some(Decision::Undo(sub)));
        assert!(t.is_empty());
        assert!(t.undo_action(&inst("a", 7), Kind::SetState).is_none(), "not recorded");
    }

    #[test]
    fn a_lower_score_does_not_override_and_its_undo_is_silent() {
        let mut t = Tracker::new();
        let (sub, err) = (state("SUBOPTIMAL", "a"), state("ERROR", "b"));
        record(&mut t, &inst("b", 8), &err, 30);
        assert!(record(&mut t, &inst("a", 7), &sub, 20).is_none());
        assert!(undo(&mut t, &inst("a", 7), &sub).is_none());
        assert_eq!(undo(&mut t, &inst("b", 8), &err), Some(Decision::Undo(err)));
    }

    #[test]
    fn an_instance_with_two_supports_is_undone_with_the_last() {
        let mut t = Tracker::new();
        let err = state("ERROR", "b");
        assert!(record(&mut t, &inst("b", 8), &err, 30).is_some());
        assert!(record(&mut t, &inst("b", 8), &err, 30).is_none());
        assert!(undo(&mut t, &inst("b", 8), &err).is_none());
        assert_eq!(undo(&mut t, &inst("b", 8), &err), Some(Decision::Undo(err)));
    }

    #[test]
    fn an_instance_keeps_the_action_of_its_first_support_across_a_save() {
        let mut t = Tracker::new();
        let (first, second) = (state("ERROR", "b"), state("SUBOPTIMAL", "b"));
        record(&mut t, &inst("b", 8), &first, 30);
        record(&mut t, &inst("b", 8), &second, 20);
        let text = serde_json::to_string(&t).expect("saves");
        let mut back: Tracker = serde_json::from_str(&text).expect("restores");
        assert_eq!(back.check(), Ok(()));
        assert_eq!(serde_json::to_string(&back).expect("saves"), text);
        assert_eq!(back.performed(), [(inst("b", 8), first.as_ref())]);
        assert!(undo(&mut back, &inst("b", 8), &first).is_none());
        assert_eq!(undo(&mut back, &inst("b", 8), &first), Some(Decision::Undo(first)));
    }

    fn alarm(name: &str, id: &str) -> Arc<Resolved> {
        Arc::new(Resolved {
            id: crate::action::ActionId::new(id),
            kind: ResolvedKind::RaiseAlarm {
                name: name.into(),
                severity: "WARNING".into(),
                causing: None,
            },
            target: Some(VertexId(1)),
            source: None,
        })
    }

    /// Two alarm names on one target are two groups kept at one place: each has its own top,
    /// and the last row of one is undone whatever the other holds.
    #[test]
    fn groups_at_one_place_decide_apart() {
        let mut t = Tracker::new();
        let (nic, cpu, cpu2) = (alarm("nic", "a"), alarm("cpu", "b"), alarm("cpu", "c"));
        let (i_nic, i_cpu, i_cpu2) = (inst("a", 7), inst("b", 8), inst("c", 9));
        assert_eq!(record(&mut t, &i_nic, &nic, 30), Some(Decision::Do(nic.clone())));
        // Below the other group's score, yet the top of its own.
        assert_eq!(record(&mut t, &i_cpu, &cpu, 10), Some(Decision::Do(cpu.clone())));
        assert!(record(&mut t, &i_cpu2, &cpu2, 10).is_none(), "a tie goes to the oldest");
        assert_eq!(t.raising(VertexId(1), "cpu"), [i_cpu.clone(), i_cpu2.clone()]);
        assert_eq!(t.raising(VertexId(1), "nic"), std::slice::from_ref(&i_nic));
        let text = serde_json::to_string(&t).expect("saves");
        let mut back: Tracker = serde_json::from_str(&text).expect("restores");
        assert_eq!((back.check(), back.len()), (Ok(()), 3));
        assert_eq!(serde_json::to_string(&back).expect("saves"), text);
        for t in [&mut t, &mut back] {
            let kind = Kind::RaiseAlarm;
            let undo = |t: &mut Tracker, i| t.undo_action(i, kind).expect("recorded").1;
            assert_eq!(undo(t, &i_nic), Some(Decision::Undo(nic.clone())));
            assert_eq!(undo(t, &i_cpu), Some(Decision::Do(cpu2.clone())));
            assert_eq!(undo(t, &i_cpu2), Some(Decision::Undo(cpu2.clone())));
            assert!(t.is_empty() && t.undo_action(&i_cpu, kind).is_none());
        }
    }

    #[test]
    fn a_saved_support_without_a_row_is_refused() {
        let groups: ShardedMap<GroupKey, Rows> = ShardedMap::default();
        let saved = Saved { groups, support: vec![(inst("b", 8), 1u32)], seq: 1 };
        let text = serde_json::to_string(&saved).expect("saves");
        let error = serde_json::from_str::<Tracker>(&text).map(|_| ()).expect_err("refused");
        assert!(error.to_string().contains("a supported instance without a row"), "{error}");
    }

    #[test]
    fn a_saved_row_whose_instance_is_not_its_actions_is_refused() {
        let mut t = Tracker::new();
        record(&mut t, &inst("b", 8), &state("ERROR", "b"), 30);
        let text = serde_json::to_string(&t).expect("saves");
        let row = r#"{"instance":{"action":"b","trigger":[8],"targets":[1,null]}"#;
        assert!(text.contains(row), "{text}");
        let elsewhere = text.replacen(row, &row.replace("[1,null]", "[2,null]"), 1);
        let error = serde_json::from_str::<Tracker>(&elsewhere).map(|_| ()).expect_err("refused");
        assert!(error.to_string().contains("a row whose instance is not its action's"), "{error}");
    }
}
