//! Vitrage templates: YAML with positions, and validation with Vitrage's status codes.

pub mod codes;
pub mod schema;
pub mod yaml;
