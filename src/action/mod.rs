//! Action semantics: what a scenario's actions do to the graph, and Vitrage's overlap
//! tracker deciding which of several overlapping actions is in effect.
//!
//! - [`resolve`] turns an action spec and an activation's binding into a [`Resolved`] action
//!   (vertices, literal values, `get_attr` evaluated).
//! - [`Tracker`] applies Vitrage's rules (spec section 4): actions are grouped by type,
//!   target (and source, and alarm name); the highest score wins, ties to the oldest; undoing
//!   the winner re-applies the next one; execute_mistral is never grouped nor undone.
//! - [`effects`] writes the winners to the graph.
//! - [`mistral`] decides workflow runs (once per activation) and their stable identity, which
//!   names the bound vertices by their external identities ([`BoundIds`]).

mod bound_ids;
pub mod effects;
mod id;
pub mod mistral;
mod resolve;
mod tracker;

pub use resolve::{Resolved, ResolvedKind, WorkflowRun, resolve};

pub use bound_ids::BoundIds;
pub use id::ActionId;
pub use tracker::{Decision, Instance, Kind, Tracker};
