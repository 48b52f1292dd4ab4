//! The entity graph: resources and alarms as vertices, labelled directed edges between them.
//!
//! Vertices carry a category, a `vitrage_type`, an entity id (with the type, the key that
//! identifies the entity across updates), deleted and placeholder flags, and a compact
//! property list; edges are identified by `(source, target, label)`.
//! All strings are interned, so ids, labels, property keys and string values are 4-byte
//! symbols. The graph keeps live vertices indexed by type, live edges indexed by label, and
//! each vertex's incident edges sorted by direction and label, so the relations the evaluator
//! joins over are cheap to read. Mutations are recorded as [`GraphChange`]s for incremental
//! evaluation.
//!
//! [`values`] normalises states and severities with Vitrage's datasource value tables.
//!
//! ```
//! use causeway::graph::{names, Category, EdgeKey, Graph, Label, NewVertex, Props};
//!
//! # fn main() -> Result<(), causeway::graph::GraphError> {
//! let mut g = Graph::new();
//! let host_type = g.intern("nova.host")?;
//! let host_id = g.intern("host-1")?;
//! let name = g.str_value("compute-1")?;
//! let host = g.add_vertex(NewVertex {
//!     category: Category::Resource,
//!     vitrage_type: host_type,
//!     entity_id: host_id,
//!     is_placeholder: false,
//!     props: Props::from_pairs([(names::NAME, name)]),
//! })?;
//! let vm_type = g.intern("nova.instance")?;
//! let vm_id = g.intern("vm-1")?;
//! let vm = g.add_vertex(NewVertex {
//!     category: Category::Resource,
//!     vitrage_type: vm_type,
//!     entity_id: vm_id,
//!     is_placeholder: false,
//!     props: Props::default(),
//! })?;
//! g.add_edge(EdgeKey { source: host, target: vm, label: Label::CONTAINS })?;
//!
//! assert_eq!(g.find_vertex("nova.instance", "vm-1"), Some(vm));
//! assert_eq!(g.out_neighbours(host, Label::CONTAINS).collect::<Vec<_>>(), [vm]);
//! g.delete_vertex(vm)?;
//! assert_eq!(g.edges_with_label(Label::CONTAINS).count(), 0);
//! assert_eq!(g.take_changes().len(), 5); // 2 vertices added, edge added, edge and vm deleted
//! # Ok(())
//! # }
//! ```

mod change;
mod chunked;
mod element;
mod error;
mod intern;
pub mod names;
mod sharded;
mod store;
mod value;
pub mod values;
mod vertex_set;

pub use change::GraphChange;
pub(crate) use chunked::Chunked;
pub use element::{Category, Edge, EdgeKey, Label, NewVertex, Vertex, VertexId};
pub use error::GraphError;
pub use intern::{Interner, Sym};
pub(crate) use sharded::{MapEntry, ShardedMap, ShardedTable};
pub use store::{Graph, SavedGraph};
pub use value::{Props, Value};
