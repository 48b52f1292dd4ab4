//! The HTTP service: Vitrage's API v1 for python-vitrageclient, read side.
//!
//! The evaluation task (the only writer) publishes a [`View`] after each batch; handlers read
//! it without touching the runner.

mod caller;
mod error;
mod history;
mod params;
mod query;
mod timestamp;
mod view;

pub use caller::Caller;
pub use error::ApiError;
pub use history::{AlarmHistory, AlarmRecord, NoHistory};
pub use params::Params;
pub use query::{Query, QueryError};
pub use timestamp::Timestamp;
pub use view::{EdgeView, VertexView, View, ViewError};
