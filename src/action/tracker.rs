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
        let alarm = match (&self.alarm, &other.alarm) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (a, b) => a.is_none() && b.is_none(),
        };
        (self.kind, self.target, self.source) == (other.kind, other.target, other.source) && alarm
    }
}

/// What a derived `Hash` would write: equal keys (by text) hash the same.
impl std::hash::Hash for GroupKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.kind, self.target, self.source, self.alarm.as_deref()).hash(state);
    }
}

/// An instance in its group. The instance is not kept whole: its id and targets are its
/// action's (which [`Instance::of`] makes true of every instance the tracker is given), so
/// the row holds only the trigger. With the instance a row took 64 bytes, and every action
/// instance has one.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    trigger: Arc<[VertexId]>,
    score: u32,
    seq: u64,
    action: Arc<Resolved>,
}

impl Row {
    fn instance(&self) -> Instance {
        Instance::of(&self.action, self.trigger.clone())
    }

    fn is(&self, instance: &Instance) -> bool {
        let a = &self.action;
        a.id == instance.action
            && (a.target, a.source) == instance.targets
            && self.trigger == instance.trigger
    }
}

/// What is saved of a row: the instance whole, as before rows left it out.
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

/// A saved row whose instance is not its action's is refused: the row could not say it.
impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved: SavedRow<Instance, Arc<Resolved>> = Deserialize::deserialize(d)?;
        let SavedRow { instance, score, seq, action } = saved;
        let row = Row { trigger: instance.trigger.clone(), score, seq, action };
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
    groups: ShardedMap<GroupKey, Rows>,
    /// Per recorded instance, its supports and the action of its row: what an undo needs,
    /// found with the one lookup that counts the support down.
    support: ShardedMap<Instance, Support>,
    seq: u64,
}

#[derive(Debug)]
struct Support {
    count: u32,
    action: Arc<Resolved>,
}

fn group_key(a: &Resolved) -> GroupKey {
    let (kind, alarm) = match &a.kind {
        ResolvedKind::RaiseAlarm { name, .. } => (0, Some(name.clone())),
        ResolvedKind::SetState { .. } => (1, None),
        ResolvedKind::MarkDown => (2, None),
        ResolvedKind::AddCausalRelationship => (3, None),
        ResolvedKind::ExecuteMistral(_) => (4, None),
    };
    GroupKey { kind, target: a.target, source: a.source, alarm }
}

/// The rows of one group, in the order they came. A group holds one row but when actions
/// overlap, so that one is kept in the map's entry: a list would be one more allocation
/// and one more cache line to reach for every action instance.
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

    fn push(&mut self, row: Row) {
        match self {
            Rows::One(first) => {
                let first = first.clone();
                *self = Rows::Many(vec![first, row]);
            }
            Rows::Many(rows) => rows.push(row),
        }
    }

    /// Removes row `at` of a group of two or more.
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

/// The top row: highest score, then oldest.
fn top(rows: &[Row]) -> Option<usize> {
    (0..rows.len())
        .min_by(|&a, &b| rows[b].score.cmp(&rows[a].score).then(rows[a].seq.cmp(&rows[b].seq)))
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
        let action = match self.support.entry(Instance::of(&action, trigger.clone())) {
            MapEntry::Occupied(mut e) => {
                e.get_mut().count += 1;
                return None;
            }
            MapEntry::Vacant(e) => e.insert(Support { count: 1, action }).action.clone(),
        };
        self.seq += 1;
        let row = Row { trigger, score, seq: self.seq, action: action.clone() };
        let rows = match self.groups.entry(group_key(&action)) {
            MapEntry::Vacant(e) => {
                e.insert(Rows::One(row));
                return Some(Decision::Do(action));
            }
            MapEntry::Occupied(e) => e.into_mut(),
        };
        rows.push(row);
        let rows = rows.as_slice();
        (top(rows) == Some(rows.len() - 1)).then_some(Decision::Do(action))
    }

    /// UNDO: forgets one support of the instance. `None` when it is not recorded; else the
    /// action it was done with, and the decision to carry out, if any (one at most).
    pub fn undo_action(
        &mut self,
        instance: &Instance,
    ) -> Option<(Arc<Resolved>, Option<Decision>)> {
        let mut support = self.support.occupied(instance)?;
        let entry = support.get_mut();
        if entry.count > 1 {
            entry.count -= 1;
            return Some((entry.action.clone(), None));
        }
        let Support { action, .. } = support.remove();
        let decision = self.undo_row(instance, &action);
        Some((action, decision))
    }

    /// Removes the row of an instance that lost its last support; the decision it implies.
    fn undo_row(&mut self, instance: &Instance, action: &Resolved) -> Option<Decision> {
        let mut group = self.groups.occupied(&group_key(action))?;
        let rows = group.get_mut();
        let at = rows.as_slice().iter().position(|r| r.is(instance))?;
        if let Rows::One(_) = rows {
            let Rows::One(removed) = group.remove() else { return None };
            return Some(Decision::Undo(removed.action));
        }
        let was_top = top(rows.as_slice()) == Some(at);
        rows.remove(at)?;
        let rows = rows.as_slice();
        let next = top(rows).filter(|_| was_top);
        next.map(|next| Decision::Do(rows[next].action.clone()))
    }

    /// The instances that raise deduced alarm `name` on `target` now, the one in effect (the
    /// highest score, then the oldest) first: what an operator asks when asking why the alarm
    /// exists.
    pub fn raising(&self, target: VertexId, name: &str) -> Vec<Instance> {
        let key =
            GroupKey { kind: 0, target: Some(target), source: None, alarm: Some(name.into()) };
        let Some(rows) = self.groups.get(&key) else { return Vec::new() };
        let rows = rows.as_slice();
        let first = top(rows);
        let mut out: Vec<Instance> = first.map(|i| rows[i].instance()).into_iter().collect();
        out.extend(
            rows.iter().enumerate().filter(|(i, _)| Some(*i) != first).map(|(_, r)| r.instance()),
        );
        out
    }

    /// Every recorded instance with the action it was done with, sorted by instance.
    pub fn performed(&self) -> Vec<(&Instance, &Resolved)> {
        let mut out: Vec<(&Instance, &Resolved)> =
            self.support.iter().map(|(i, s)| (i, s.action.as_ref())).collect();
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// The number of instances recorded.
    pub fn len(&self) -> usize {
        self.support.len()
    }

    /// Whether any instance is recorded.
    pub fn is_empty(&self) -> bool {
        self.support.is_empty()
    }

    /// Checks what a restored tracker must hold: every row in the group of its action, each
    /// supported instance in exactly one row, and no sequence number above the counter.
    pub fn check(&self) -> Result<(), String> {
        let mut rows = std::collections::HashSet::new();
        for (key, group) in self.groups.iter() {
            let group = group.as_slice();
            if group.is_empty() {
                return Err("an empty group".into());
            }
            for row in group {
                let action = &row.action.id;
                if &group_key(&row.action) != key || row.seq > self.seq || row.seq == 0 {
                    return Err(format!("row of {action} out of place"));
                }
                let instance = row.instance();
                if self.support.get(&instance).is_none_or(|s| s.count == 0) {
                    return Err(format!("row of {action} without support"));
                }
                if !rows.insert(instance) {
                    return Err(format!("two rows of {action}"));
                }
            }
        }
        if rows.len() != self.support.len() {
            return Err("a supported instance without a row".into());
        }
        Ok(())
    }
}

/// Saved as its groups, each instance with its number of supports (sorted), and the counter;
/// an instance's action is its row's, found again when it is read back.
impl Serialize for Tracker {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut support: Vec<(&Instance, u32)> =
            self.support.iter().map(|(i, s)| (i, s.count)).collect();
        support.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Saved { groups: &self.groups, support, seq: self.seq }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Tracker {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved: Saved<ShardedMap<GroupKey, Rows>, ShardedMap<Instance, u32>> =
            Deserialize::deserialize(d)?;
        let rows: ShardedMap<Instance, &Arc<Resolved>> = saved
            .groups
            .iter()
            .flat_map(|(_, rows)| rows.as_slice().iter().map(|r| (r.instance(), &r.action)))
            .collect();
        let mut support = ShardedMap::default();
        for (instance, count) in saved.support.iter() {
            let Some(&action) = rows.get(instance) else {
                return Err(serde::de::Error::custom("a supported instance without a row"));
            };
            support.insert(instance.clone(), Support { count: *count, action: action.clone() });
        }
        drop(rows);
        Ok(Tracker { groups: saved.groups, support, seq: saved.seq })
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
        let (done_with, decision) = t.undo_action(i).expect("recorded");
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
        assert!(t.undo_action(&inst("a", 7)).is_none(), "an instance not recorded");
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
        assert_eq!(back.performed(), [(&inst("b", 8), first.as_ref())]);
        assert!(undo(&mut back, &inst("b", 8), &first).is_none());
        assert_eq!(undo(&mut back, &inst("b", 8), &first), Some(Decision::Undo(first)));
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
