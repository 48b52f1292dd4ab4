//! The HTTP service: Vitrage's API v1 for python-vitrageclient, read side.
//!
//! The evaluation task (the only writer) publishes a [`View`] after each batch; handlers read
//! it without touching the runner.

mod caller;
pub mod core;
mod error;
mod history;
mod node_link;
mod params;
pub mod publish;
mod query;
mod resources;
pub mod templates;
mod timestamp;
mod topology;
mod view;

pub use caller::Caller;
pub use error::ApiError;
pub use history::{AlarmHistory, AlarmRecord, NoHistory};
pub use params::Params;
pub use query::{Query, QueryError};
pub use timestamp::Timestamp;
pub use view::{EdgeView, VertexView, View, ViewError};

/// The pure handlers, for callers that want an answer without HTTP.
pub mod handlers {
    pub use super::resources::{
        count as resource_count, list as resource_list, show as resource_show,
    };
    pub use super::topology::topology;
}
