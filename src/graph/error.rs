//! Errors of graph operations.

use super::{EdgeKey, VertexId};

/// Why a graph operation was refused. A refused operation leaves the graph unchanged and
/// records no [`super::GraphChange`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// The vertex id is not (or no longer) stored in the graph.
    #[error("vertex {0} does not exist")]
    NoSuchVertex(VertexId),
    /// The vertex is soft-deleted; deleted vertices take no updates and no new edges, as
    /// Vitrage's processor ignores updates to deleted vertices.
    #[error("vertex {0} is deleted")]
    VertexDeleted(VertexId),
    /// A live vertex of this type already has this entity id.
    #[error(
        "a live `{vitrage_type}` vertex with entity id `{entity_id}` already exists: {existing}"
    )]
    DuplicateKey {
        /// The type.
        vitrage_type: String,
        /// The entity id.
        entity_id: String,
        /// The live vertex holding it.
        existing: VertexId,
    },
    /// The property is held by the vertex itself and has its own operation: `vitrage_category`
    /// and `vitrage_type` are fixed at creation, `vitrage_is_deleted` changes only through
    /// delete, and `vitrage_is_placeholder` takes only a boolean.
    #[error("property `{0}` cannot be set this way")]
    ReservedProperty(&'static str),
    /// No edge, live or deleted, has this key.
    #[error("edge {0} does not exist")]
    NoSuchEdge(EdgeKey),
    /// The interner reached `u32::MAX` strings or 4 GiB of text.
    #[error("the string interner is full")]
    InternerFull,
    /// The graph reached `u32::MAX` vertices.
    #[error("the graph holds the maximum number of vertices")]
    TooManyVertices,
}
