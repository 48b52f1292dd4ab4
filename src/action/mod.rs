//! Action semantics: what a scenario's actions do to the graph, and Vitrage's overlap
//! tracker deciding which of several overlapping actions is in effect.
//!
//! - [`resolve`] turns an action spec and an activation's binding into a [`Resolved`] action
//!   (vertices, literal values, `get_attr` evaluated).
//! - [`Tracker`] applies Vitrage's rules (spec section 4): actions are grouped by type,
//!   target (and source, and alarm name); the highest score wins, ties to the oldest; undoing
//!   the winner re-applies the next one; execute_mistral is never grouped nor undone.
//! - [`effects`] writes the winners to the graph.
//! - [`mistral`] decides workflow runs (once per activation) and their stable identity.

pub mod effects;
pub mod mistral;
mod resolve;
mod tracker;

pub use resolve::{Resolved, ResolvedKind, resolve};

/// An action id (`<scenario id>-action<j>`), shared rather than copied: it is part of every
/// action instance the tracker holds.
pub type ActionId = std::sync::Arc<str>;
pub use tracker::{Decision, Instance, Tracker};
