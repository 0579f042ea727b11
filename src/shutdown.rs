//! Waiting for the signal to stop. Orderly is PID 1 in its container, so it must handle SIGTERM itself: the
//! kernel gives PID 1 no default handler, and an unhandled SIGTERM would leave Kubernetes waiting for SIGKILL.

/// Resolves on SIGTERM or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!(signal = "SIGINT", "shutdown requested"),
        _ = term => tracing::info!(signal = "SIGTERM", "shutdown requested"),
    }
}
