//! The outbox relay: publishes every order event to NATS JetStream, in order, exactly once as consumers see it.
//!
//! Events are written in the same transaction as the change they record (`order_events`). One replica at a
//! time holds the relay role (`Store::try_relay_lease`: a PostgreSQL advisory lock); it reads unpublished events
//! in commit order, publishes each on `orderly.orders.<type>` with `Nats-Msg-Id` = the event id and waits for
//! the stream's acknowledgement before the next, then marks the batch published. A crash between publishing
//! and marking republishes those events; JetStream drops them as duplicates within its window. Publishing one
//! at a time keeps each order's events in sequence even when NATS fails halfway through a batch.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, context::Publish};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::store::Store;
use crate::telemetry::Metrics;

#[derive(Clone, Debug)]
pub struct RelaySettings {
    pub nats_url: String,
    pub stream: String,
    pub batch: u32,
    pub poll: Duration,
    /// JetStream's de-duplication window: a republished event older than this is delivered twice.
    pub duplicate_window: Duration,
}

/// The subject an event is published on.
pub fn subject(kind: &str) -> String {
    format!("orderly.orders.{kind}")
}

/// Runs until `stop` turns true, then publishes what is pending (briefly) and returns.
pub async fn run(store: Arc<dyn Store>, settings: RelaySettings, mut stop: watch::Receiver<bool>) {
    let mut announced_waiting = false;
    while !*stop.borrow() {
        let mut lease = match store.try_relay_lease().await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                if !announced_waiting {
                    tracing::info!("outbox relay standing by: another replica leads");
                    announced_waiting = true;
                }
                pause(&mut stop, Duration::from_secs(2)).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay cannot reach the database");
                pause(&mut stop, Duration::from_secs(2)).await;
                continue;
            }
        };
        tracing::info!(nats = %crate::config::redact_url(&settings.nats_url), "outbox relay leading");
        let Some(js) = connect(&settings, &mut stop).await else {
            break;
        };
        loop {
            if *stop.borrow() {
                flush(&store, &js, &settings).await;
                return;
            }
            if !lease.is_held().await {
                tracing::warn!("outbox relay lost its lease");
                break;
            }
            match publish_batch(&store, &js, &settings).await {
                Ok(0) => pause(&mut stop, settings.poll).await,
                Ok(n) => tracing::debug!(published = n, "outbox batch published"),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox publish failed; events wait and are retried");
                    pause(&mut stop, Duration::from_secs(1)).await;
                }
            }
        }
    }
}

async fn pause(stop: &mut watch::Receiver<bool>, how_long: Duration) {
    let _ = tokio::time::timeout(how_long, stop.changed()).await;
}

/// Connects (retrying while NATS is down) and makes sure the stream exists.
async fn connect(settings: &RelaySettings, stop: &mut watch::Receiver<bool>) -> Option<jetstream::Context> {
    loop {
        if *stop.borrow() {
            return None;
        }
        let attempt = async {
            let client = async_nats::ConnectOptions::new()
                .connection_timeout(Duration::from_secs(2))
                .retry_on_initial_connect()
                .connect(&settings.nats_url)
                .await?;
            let mut js = jetstream::new(client);
            js.set_timeout(Duration::from_secs(5));
            js.get_or_create_stream(jetstream::stream::Config {
                name: settings.stream.clone(),
                subjects: vec![subject(">")],
                duplicate_window: settings.duplicate_window,
                ..Default::default()
            })
            .await?;
            Ok::<_, async_nats::Error>(js)
        };
        match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok(js)) => return Some(js),
            Ok(Err(e)) => tracing::warn!(error = %e, "outbox relay cannot set up JetStream"),
            Err(_) => tracing::warn!("outbox relay timed out connecting to NATS"),
        }
        pause(stop, Duration::from_secs(1)).await;
    }
}

/// Publishes up to one batch; returns how many events went out.
async fn publish_batch(
    store: &Arc<dyn Store>,
    js: &jetstream::Context,
    settings: &RelaySettings,
) -> anyhow::Result<usize> {
    let events = store.unpublished_events(settings.batch).await?;
    let mut published = Vec::with_capacity(events.len());
    let mut failure = None;
    for e in &events {
        let payload = serde_json::json!({
            "id": e.id,
            "order_id": e.order_id,
            "sequence": e.sequence,
            "type": e.kind(),
            "occurred_at": e.occurred_at.format(&time::format_description::well_known::Rfc3339)?,
            "actor": e.actor,
            "data": e.change.data(),
        });
        let message = Publish::build()
            .payload(serde_json::to_vec(&payload)?.into())
            .message_id(e.id.to_string());
        let acked = async { js.send_publish(subject(e.kind()), message).await?.await };
        match acked.await {
            Ok(_) => published.push(e.id),
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    if !published.is_empty() {
        store.mark_published(&published, OffsetDateTime::now_utc()).await?;
    }
    match failure {
        Some(err) => Err(anyhow::anyhow!("{err}")),
        None => Ok(published.len()),
    }
}

/// On shutdown: publish what is pending, for at most a few seconds.
async fn flush(store: &Arc<dyn Store>, js: &jetstream::Context, settings: &RelaySettings) {
    let drained = tokio::time::timeout(Duration::from_secs(3), async {
        while let Ok(n) = publish_batch(store, js, settings).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("outbox flush cut short; the next leader publishes the rest");
    }
}

/// Keeps the backlog gauges current: pending events and the age of the oldest.
pub async fn watch_backlog(store: Arc<dyn Store>, metrics: Arc<Metrics>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match store.outbox_backlog().await {
            Ok(b) => {
                let age = b
                    .oldest
                    .map_or(0.0, |t| (OffsetDateTime::now_utc() - t).as_seconds_f64().max(0.0));
                metrics.set_outbox(b.pending, age);
            }
            Err(e) => tracing::debug!(error = %e, "outbox backlog unknown"),
        }
    }
}
