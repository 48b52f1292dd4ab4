//! causeway: root-cause analysis and self-healing for clouds.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod graph;
