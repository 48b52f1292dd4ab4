//! `GET /v1/causeway/stream`: server-sent events that tell the page what changed, so it redraws
//! without a reload.
//!
//! The events are hints, not data: `graph` (a new view was published, with its generation),
//! `alarm` (an alarm notification, the same ones webhooks get: its type, `vitrage_id` and
//! resource), `execution` (a workflow request changed state) and `resync` (this stream fell
//! behind and missed some). The page then reads what it shows through the API with its own
//! headers, so the stream carries nothing a caller's tenancy would hide beyond ids and states.
//!
//! `EventSource` cannot send headers, so this route alone also takes the auth token as the
//! `token` query parameter (see [`query_token`]).

use super::AppState;
use super::core::{EXECUTION_STATE, Notification};
use super::view::View;
use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// The stream's path.
pub const PATH: &str = "/v1/causeway/stream";

/// The stream route.
pub fn routes() -> Router<AppState> {
    Router::new().route(PATH, get(stream))
}

/// The `token` query parameter of a request to the stream, if any.
pub fn query_token(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into())
}

/// What one subscriber holds between events.
struct Subscriber {
    notifications: broadcast::Receiver<Notification>,
    view: watch::Receiver<Arc<View>>,
    greeted: bool,
    stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
}

/// Resolves when the process is asked to stop (SIGTERM or Ctrl-C). A graceful shutdown waits
/// for every connection to end, and a stream never ends by itself, so each one ends then.
fn stopping() -> Pin<Box<dyn Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered now, not at the first poll, so a signal in between is not missed.
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            // `None` means the runtime that drives signals is gone (only tests, which run
            // several runtimes, see it): that is no request to stop.
            (Ok(mut term), Ok(mut interrupt)) => Box::pin(async move {
                tokio::select! {
                    Some(()) = term.recv() => {},
                    Some(()) = interrupt.recv() => {},
                    else => std::future::pending::<()>().await,
                }
            }),
            _ => Box::pin(std::future::pending()),
        }
    }
    #[cfg(not(unix))]
    {
        Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut view = state.view.clone();
    view.mark_unchanged();
    let notifications = state.writer.notifications.subscribe();
    let first = Subscriber { notifications, view, greeted: false, stopping: stopping() };
    let events = stream::unfold(first, |mut s| async move {
        let event = next(&mut s).await?;
        Some((Ok(event), s))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// The next event for `s`; `None` when the service is stopping.
async fn next(s: &mut Subscriber) -> Option<Event> {
    if !s.greeted {
        s.greeted = true;
        let generation = s.view.borrow().generation;
        return Some(event("hello", &json!({"generation": generation})));
    }
    tokio::select! {
        () = &mut s.stopping => None,
        received = s.notifications.recv() => match received {
            Ok(n) => Some(notification_event(&n)),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                Some(event("resync", &json!({"missed": missed})))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        },
        changed = s.view.changed() => {
            changed.ok()?;
            let generation = s.view.borrow_and_update().generation;
            Some(event("graph", &json!({"generation": generation})))
        }
    }
}

fn event(kind: &str, data: &Value) -> Event {
    Event::default().event(kind).data(data.to_string())
}

/// The hint for a notification: an execution's new state, or an alarm's ids.
fn notification_event(n: &Notification) -> Event {
    if n.event_type == EXECUTION_STATE {
        return event("execution", &n.payload);
    }
    let field = |k: &str| n.payload.get(k).cloned().unwrap_or(Value::Null);
    let hint = json!({
        "type": n.event_type,
        "vitrage_id": field("vitrage_id"),
        "resource": field("vitrage_resource_id"),
    });
    event("alarm", &hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_query_decoded() {
        let uri: Uri = "/v1/causeway/stream?x=1&token=a%2Bb%20c".parse().expect("uri");
        assert_eq!(query_token(&uri).as_deref(), Some("a+b c"));
        let uri: Uri = "/v1/causeway/stream".parse().expect("uri");
        assert_eq!(query_token(&uri), None);
    }
}
