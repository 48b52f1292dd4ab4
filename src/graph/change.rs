//! The change log: what each mutation did, in order, for the incremental evaluator.

use super::{EdgeKey, Props, Sym, VertexId};

/// One effect of a graph mutation.
///
/// The *live* graph (vertices and edges that are not soft-deleted) changes only through
/// `VertexAdded`, `VertexUpdated`, `VertexDeleted`, `EdgeAdded` and `EdgeDeleted`, so an
/// evaluator that maintains relations over live elements can ignore the two `Removed`
/// variants, which only report storage being freed. Mutations that change nothing (adding a
/// live edge again, an update to the same values) record nothing.
///
/// Ordering guarantees, so that a consumer never sees an edge whose endpoint is gone:
/// * soft-deleting a vertex records `EdgeDeleted` for each of its live edges (outgoing edges
///   first, then incoming, each by label and other end), then `VertexDeleted`;
/// * hard-removing a live vertex records the soft delete first, then `EdgeRemoved` for each of
///   its edges, then `VertexRemoved`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphChange {
    /// A new live vertex. A vertex added with the type and entity id of a soft-deleted one
    /// gets a new id.
    VertexAdded(VertexId),
    /// Properties or the placeholder flag of a live vertex changed. The vertex holds the new
    /// values; this holds the old ones.
    VertexUpdated {
        /// The vertex.
        id: VertexId,
        /// Its properties before the update.
        before: Props,
        /// Its `vitrage_is_placeholder` before the update.
        was_placeholder: bool,
    },
    /// A live vertex was soft-deleted; it stays readable with `vitrage_is_deleted: true`.
    VertexDeleted(VertexId),
    /// A vertex left the graph. Its id may be given to a vertex added later.
    VertexRemoved {
        /// The vertex.
        id: VertexId,
        /// Its type.
        vitrage_type: Sym,
        /// Its entity id.
        entity_id: Sym,
    },
    /// An edge became live: new, or a soft-deleted edge added again.
    EdgeAdded(EdgeKey),
    /// A live edge was soft-deleted.
    EdgeDeleted(EdgeKey),
    /// An edge left the graph.
    EdgeRemoved(EdgeKey),
}
