//! The HTTP service: Vitrage's API v1 for python-vitrageclient, read side.
//!
//! The evaluation task (the only writer) publishes a [`View`] after each batch; handlers read
//! it without touching the runner.

mod history;
mod timestamp;
mod view;

pub use history::{AlarmHistory, AlarmRecord, NoHistory};
pub use timestamp::Timestamp;
pub use view::{EdgeView, VertexView, View, ViewError};
