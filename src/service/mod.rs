//! The HTTP service: Vitrage's API v1 for python-vitrageclient, read side.
//!
//! The evaluation task (the only writer) publishes a [`View`] after each batch; handlers read
//! it without touching the runner.

mod alarms;
mod caller;
mod error;
mod history;
mod misc;
mod node_link;
mod paging;
mod params;
mod query;
mod rca;
#[cfg(test)]
mod testing;
mod resources;
mod timestamp;
mod topology;
mod view;

pub use caller::Caller;
pub use error::ApiError;
pub use history::{AlarmHistory, AlarmRecord, NoHistory};
pub use misc::ServiceInfo;
pub use params::Params;
pub use query::{Query, QueryError};
pub use timestamp::Timestamp;
pub use view::{EdgeView, VertexView, View, ViewError};

/// The pure handlers, for callers that want an answer without HTTP.
pub mod handlers {
    pub use super::alarms::{
        count as alarm_count, history as alarm_history, history_since as alarm_history_since,
        list as alarm_list, show as alarm_show,
    };
    pub use super::misc::{healthcheck, services, status, template_versions, versions};
    pub use super::rca::rca;
    pub use super::resources::{
        count as resource_count, list as resource_list, show as resource_show,
    };
    pub use super::topology::topology;
}
