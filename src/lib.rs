//! causeway: root-cause analysis and self-healing for clouds.
//!
//! Vitrage evaluator templates are loaded ([`template`]), their conditions parsed
//! ([`condition`]), and compiled to Datalog rules ([`compile`]) that the engine evaluates
//! over the entity graph ([`graph`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod action;
pub mod check;
pub mod compile;
pub mod condition;
pub mod datasource;
pub mod diagnostic;
pub mod engine;
pub mod generate;
pub mod graph;
pub mod runner;
pub mod scenario;
pub mod service;
pub mod stack;
pub mod store;
pub mod template;
