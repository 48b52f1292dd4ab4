//! The OpenStack notification consumer: one AMQP queue, bound to each service's exchange the
//! way Vitrage's listener is, feeding [`Notifications`] and acknowledging each message only
//! once its batch is durable.
//!
//! oslo.messaging notifiers publish to their `control_exchange` (`nova`, `neutron`, `cinder`,
//! `heat`: topic exchanges) with routing key `<topic>.<priority>`, and declare and bind the
//! queue of that name themselves. Binding the one `vitrage_notifications.info` queue to every
//! exchange gets all services' notifications in order per service. The queue and exchanges
//! are declared with the notifiers' durability (`amqp_durable_queues`, default false): a
//! mismatch makes the broker refuse the declaration.
//!
//! Delivery is at least once: a message is acked after [`submit_batch`] returned, so a crash
//! before the ack redelivers it, and its oslo `message_id` (the batch's request id) makes the
//! redelivery change nothing. A message that is not a notification, or that the graph refuses,
//! is logged with its event type, counted in the source's health and acked: it can never
//! succeed, and holding it would block the queue. When the broker goes away, or the store
//! cannot take a batch, the consumer reconnects with a doubling backoff; unacked messages
//! are redelivered on the new channel.

use super::AppState;
use super::sources::{Held, submit_batch};
use super::view::View;
use crate::datasource::Datasource;
use crate::datasource::openstack::{Neighbours, Notifications, SOURCE, Slot};
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use serde::Deserialize;
use std::time::Duration;

/// The `[rabbitmq]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RabbitConfig {
    /// The broker (`amqp://user:password@host:5672/%2f`); no consumer runs without it.
    pub url: Option<String>,
    /// The exchanges to bind the queue to: the services' `control_exchange`s.
    pub exchanges: Vec<String>,
    /// The queue, also the routing key: `<notification topic>.info`.
    pub queue: String,
    /// Declare the queue and exchanges durable, as notifiers with `amqp_durable_queues = true`
    /// do.
    pub durable: bool,
}

impl Default for RabbitConfig {
    fn default() -> RabbitConfig {
        RabbitConfig {
            url: None,
            exchanges: ["nova", "neutron", "cinder", "heat"].map(String::from).to_vec(),
            queue: "vitrage_notifications.info".into(),
            durable: false,
        }
    }
}

/// How many unacked messages the broker may hand over at once.
const PREFETCH: u16 = 64;
/// The first and the longest wait before reconnecting.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(200), Duration::from_secs(10));

/// Starts the consumer when a broker is configured.
pub fn spawn(state: &AppState, config: &RabbitConfig) {
    if let Some(url) = config.url.clone() {
        tokio::spawn(run(Held::new(state), config.clone(), url));
    }
}

async fn run(held: Held, config: RabbitConfig, url: String) {
    let mut translator = Notifications::default();
    let mut wait = BACKOFF.0;
    loop {
        let outcome = consume(&held, &config, &url, &mut translator, &mut wait).await;
        let Some(state) = held.state() else { return };
        let why = match outcome {
            Ok(()) => "the broker closed the consumer".to_string(),
            Err(e) => e.to_string(),
        };
        state.writer.metrics.datasources.failed(SOURCE, format!("rabbitmq: {why}"));
        drop(state);
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(BACKOFF.1);
    }
}

/// Why consuming stopped.
#[derive(Debug, thiserror::Error)]
enum ConsumeError {
    #[error("{0}")]
    Amqp(#[from] lapin::Error),
    #[error("the store did not take a batch: {0}")]
    Store(String),
}

async fn consume(
    held: &Held,
    config: &RabbitConfig,
    url: &str,
    translator: &mut Notifications,
    wait: &mut Duration,
) -> Result<(), ConsumeError> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    declare(&channel, config).await?;
    translator.neighbours = seed(&held.view());
    let options = BasicConsumeOptions::default();
    let mut consumer = channel
        .basic_consume(
            config.queue.as_str().into(),
            "causeway".into(),
            options,
            FieldTable::default(),
        )
        .await?;
    tracing::info!(queue = %config.queue, exchanges = ?config.exchanges, "consuming OpenStack notifications");
    *wait = BACKOFF.0;
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        // The service stopped: leave the message unacked, for the next consumer.
        let Some(state) = held.state() else { return Ok(()) };
        handle(&state, translator, delivery.data.clone()).await?;
        drop(state);
        delivery.ack(BasicAckOptions::default()).await?;
    }
    Ok(())
}

async fn declare(channel: &Channel, config: &RabbitConfig) -> Result<(), lapin::Error> {
    channel.basic_qos(PREFETCH, BasicQosOptions::default()).await?;
    let durable = config.durable;
    let queue = QueueDeclareOptions { durable, ..QueueDeclareOptions::default() };
    channel.queue_declare(config.queue.as_str().into(), queue, FieldTable::default()).await?;
    for exchange in &config.exchanges {
        let options = ExchangeDeclareOptions { durable, ..ExchangeDeclareOptions::default() };
        let name = exchange.as_str().into();
        channel.exchange_declare(name, ExchangeKind::Topic, options, FieldTable::default()).await?;
        let (queue, key) = (config.queue.as_str().into(), config.queue.as_str().into());
        let options = QueueBindOptions::default();
        channel
            .queue_bind(queue, exchange.as_str().into(), key, options, FieldTable::default())
            .await?;
    }
    Ok(())
}

/// Translates one message and stores its batches; `Err` only when the store could not take
/// them, so that the message stays unacked.
async fn handle(
    state: &AppState,
    translator: &mut Notifications,
    body: Vec<u8>,
) -> Result<(), ConsumeError> {
    let health = &state.writer.metrics.datasources;
    let batches = match translator.translate(body) {
        Ok(batches) => batches,
        Err(e) => {
            let event_type = e.event_type().unwrap_or("(unknown)");
            tracing::warn!(event_type, error = %e, "dropping a notification that cannot be translated");
            health.failed(SOURCE, &e);
            return Ok(());
        }
    };
    for batch in batches {
        match submit_batch(state, batch).await {
            Ok(_) => {}
            Err(e) if e.status.is_client_error() => {
                tracing::warn!(error = %e.description, "dropping a notification the graph refused");
            }
            Err(e) => return Err(ConsumeError::Store(e.description)),
        }
    }
    Ok(())
}

/// The neighbours the graph shows now, so that the first notification after a (re)start
/// about a resource also removes the edges it no longer has.
fn seed(view: &View) -> Neighbours {
    let mut memory = Neighbours::default();
    let field = |i: usize, k: &str| {
        view.vertices.get(i).and_then(|v| v.props.get(k)).and_then(|v| v.as_str()).unwrap_or("")
    };
    for e in &view.edges {
        let source = (field(e.source, "vitrage_type"), field(e.source, "id"));
        let target = (field(e.target, "vitrage_type"), field(e.target, "id"));
        if let Some((slot, owner, neighbour)) = Slot::of_edge(source, &e.relationship_type, target)
        {
            memory.remember(owner, slot, neighbour);
        }
    }
    memory
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rabbitmq_table_defaults_to_vitrages_queue_and_exchanges() {
        let config: RabbitConfig = toml::from_str("url = \"amqp://u:p@h:5672/%2f\"").unwrap();
        assert_eq!(config.queue, "vitrage_notifications.info");
        assert_eq!(config.exchanges, ["nova", "neutron", "cinder", "heat"]);
        assert!(!config.durable);
        let wrong = toml::from_str::<RabbitConfig>("urls = \"amqp://h\"").unwrap_err();
        assert!(wrong.to_string().contains("unknown field `urls`"), "{wrong}");
    }
}
