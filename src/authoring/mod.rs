//! The template author's tools: rule-set tests with snapshots ([`ruletest`]), what-if replays
//! of two template sets ([`whatif`]), and SARIF output for editors and code scanning
//! ([`sarif`]). They read files and run the same [`Runner`](crate::runner::Runner) as
//! `causeway run` and the service.

pub mod files;
pub mod ruletest;
pub mod sarif;
pub mod whatif;
