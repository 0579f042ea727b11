//! The operations port (9090, never exposed through the ingress): `/healthz` says the process is alive,
//! `/readyz` says it should receive traffic (not draining, database answering, schema current), `/metrics`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use super::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let unready = |why: &str| (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": why})));
    if state.health.is_draining() {
        return unready("draining");
    }
    // Requests that succeeded in the last few seconds prove the database answers; ping only when it is quiet,
    // so a pool saturated by traffic does not take every replica out of rotation at peak.
    if !state.store.answered_within(Duration::from_secs(5)) {
        let ping = tokio::time::timeout(Duration::from_secs(1), state.store.ping()).await;
        if !matches!(ping, Ok(Ok(()))) {
            return unready("database_unavailable");
        }
    }
    if !state.health.schema_current.load(Ordering::Relaxed) {
        match state.store.schema_is_current().await {
            Ok(true) => state.health.schema_current.store(true, Ordering::Relaxed),
            _ => return unready("schema_pending"),
        }
    }
    (StatusCode::OK, axum::Json(json!({"status": "ready"})))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.store.pool_state();
    state
        .metrics
        .set_db_pool(i64::from(pool.idle), i64::from(pool.in_use), i64::from(pool.max));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}
