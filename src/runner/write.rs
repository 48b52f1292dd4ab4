//! RESULT.json written as a stream: the resources and edges, which grow with the cloud, go
//! from the graph to the writer one at a time, in the order [`Runner::topology_order`] gives
//! without their text, so a million-resource result is never held in memory. The bytes are
//! those of [`super::ResultDoc`] serialized with the whole [`Runner::snapshot`].

use super::result::{Causal, Deduced, External, edge_item, resource_state};
use super::{Call, Checkpoint, Replay, Runner};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

/// Writes the pretty RESULT.json of a streamed replay ([`super::replay_stream`]): its
/// summary and checkpoints, the runner's resources and edges, and `templates`.
pub fn write_result<W: std::io::Write>(
    out: W,
    runner: &Runner,
    replay: &Replay,
    templates: &Json,
) -> serde_json::Result<()> {
    let order = runner.topology_order();
    let g = runner.graph();
    let s = &replay.state;
    let doc = Doc {
        causal_edges: &s.causal_edges,
        deduced_alarms: &s.deduced_alarms,
        deleted_resources: &s.deleted_resources,
        edges: Each(|| order.edges.iter().map(|&e| edge_item(g, e))),
        external_alarms: &s.external_alarms,
        marked_down: &s.marked_down,
        mistral_calls: &s.mistral_calls,
        resources: Each(|| order.resources.iter().map(|&v| resource_state(g, v))),
        checkpoints: &replay.checkpoints,
        templates,
    };
    serde_json::to_writer_pretty(out, &doc)
}

/// The fields of [`super::ResultDoc`] in its order, with the two long lists produced lazily.
#[derive(Serialize)]
struct Doc<'a, E, R> {
    causal_edges: &'a [Causal],
    deduced_alarms: &'a [Deduced],
    deleted_resources: &'a [Json],
    edges: E,
    external_alarms: &'a [External],
    marked_down: &'a [Json],
    mistral_calls: &'a [Call],
    resources: R,
    checkpoints: &'a [Checkpoint],
    templates: &'a Json,
}

/// A list serialized from a fresh iterator, item by item, as a `Vec` of the same items is.
struct Each<F>(F);

impl<F, I> Serialize for Each<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}
