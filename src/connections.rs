//! The API listener's accept loop, on hyper directly rather than `axum::serve`, because a public listener needs
//! what `axum::serve` does not offer: a deadline for the request head, a cap on its size, an idle timeout for
//! keep-alive connections and a cap on open connections.
//!
//! - **Connections**: a semaphore of `max_connections` permits is taken *before* `accept`, so beyond the cap new
//!   connections wait in the kernel's listen backlog (and are refused once it is full) instead of costing memory.
//! - **Request head**: a connection must send a complete head within `header_read_timeout` of its first byte (a
//!   new connection: of being accepted), else it is closed: slowloris clients trickling a byte now and then do not
//!   keep it. hyper's read buffer is capped at `max_header_bytes`; a head that does not fit answers 431 and the
//!   connection closes, so a fat head costs at most that much memory.
//! - **Idle keep-alive**: a connection with no request in progress is closed after `idle_timeout`.
//! - **Drain**: when `stop` resolves the listener is closed, every connection is asked to finish (an idle one
//!   closes at once, a busy one after its response), and the loop returns once all connections have closed.
//!
//! hyper's own `header_read_timeout` is off: it also runs while a keep-alive connection is idle, so it would close
//! idle connections after the head timeout rather than the idle timeout. The timers here tell the two apart.
//!
//! Each request carries `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info` would add.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::Service;

/// Limits of the API listener (settings `header_read_timeout_ms`, `max_header_bytes`, `idle_timeout_ms`,
/// `max_connections`).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub idle_timeout: Duration,
    pub max_connections: u32,
}

/// hyper's smallest read buffer.
const MIN_BUF: usize = 8192;

/// Serves `router` on `listener` until `stop` resolves, then drains as described at the top of this module.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let permits = limits.max_connections.max(1);
    let open = Arc::new(Semaphore::new(permits as usize));
    let (drain_tx, drain_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut stop => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(
                    stream,
                    peer,
                    router.clone(),
                    limits,
                    drain_rx.clone(),
                    permit,
                ));
            }
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                // Out of file descriptors and the like: accepting again at once would spin.
                tracing::error!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    drop(listener);
    let _ = drain_tx.send(true);
    // Every open connection holds a permit: having them all back means every connection has closed.
    let _ = open.acquire_many(permits).await;
    Ok(())
}

/// Errors of one connection, not of the listener (as hyper and axum classify them).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection until it ends, its head or idle timer runs out, or the drain has finished it.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut drain: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let busy = activity.begin_request();
            let mut router = router.clone();
            async move {
                let response = router.call(req).await;
                drop(busy);
                response
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true)
        .max_buf_size(limits.max_header_bytes.max(MIN_BUF));
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    if *drain.borrow_and_update() {
        draining = true;
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = activity.deadline(&limits);
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            () = timer => {
                if activity.deadline(&limits).is_some_and(|at| at <= Instant::now()) {
                    tracing::debug!(%peer, "connection closed: no request head in time, or idle");
                    return;
                }
            }
            () = activity.changed.notified() => {}
            _ = drain.changed(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Where a connection is, for its timers.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Receiving a request head since then (a new connection counts from its acceptance).
    Head(Instant),
    /// Requests being processed: no connection timer runs (`request_timeout` bounds each one).
    Busy(usize),
    /// Between requests since then.
    Idle(Instant),
}

struct Activity {
    phase: Mutex<Phase>,
    /// Woken when the phase changes, so the connection's timer is set again.
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Activity {
            phase: Mutex::new(Phase::Head(Instant::now())),
            changed: Notify::new(),
        }
    }

    fn update(&self, f: impl FnOnce(Phase) -> Option<Phase>) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(next) = f(*phase) {
            *phase = next;
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: on an idle connection they start a request head.
    fn on_read(&self) {
        self.update(|p| match p {
            Phase::Idle(_) => Some(Phase::Head(Instant::now())),
            _ => None,
        });
    }

    /// hyper has parsed a head and calls the service.
    fn begin_request(self: &Arc<Self>) -> Busy {
        self.update(|p| match p {
            Phase::Busy(n) => Some(Phase::Busy(n + 1)),
            _ => Some(Phase::Busy(1)),
        });
        Busy(self.clone())
    }

    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        match *self.phase.lock().unwrap_or_else(PoisonError::into_inner) {
            Phase::Head(since) => Some(since + limits.header_read_timeout),
            Phase::Busy(_) => None,
            Phase::Idle(since) => Some(since + limits.idle_timeout),
        }
    }
}

/// A request in progress on the connection; dropped when its response is ready or the request is abandoned.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.update(|p| match p {
            Phase::Busy(n) if n > 1 => Some(Phase::Busy(n - 1)),
            _ => Some(Phase::Idle(Instant::now())),
        });
    }
}

/// The socket, telling `Activity` when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.on_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Handlers see the peer as `ConnectInfo<SocketAddr>`, as with `into_make_service_with_connect_info` (the
    /// per-IP rate limit reads it), and keep-alive serves several requests on one connection.
    #[tokio::test]
    async fn each_request_carries_the_peer_address_and_keep_alive_works() {
        let router = Router::new().route(
            "/peer",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
            idle_timeout: Duration::from_secs(10),
            max_connections: 4,
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, limits, async move {
            let _ = stop_rx.await;
        }));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let me = client.local_addr().unwrap().to_string();
        for close in [false, true] {
            let connection = if close { "Connection: close\r\n" } else { "" };
            client
                .write_all(format!("GET /peer HTTP/1.1\r\nHost: t\r\n{connection}\r\n").as_bytes())
                .await
                .unwrap();
            let mut got = Vec::new();
            while !String::from_utf8_lossy(&got).ends_with(&me) {
                let mut buf = [0u8; 1024];
                let n = client.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
                got.extend_from_slice(&buf[..n]);
            }
            assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
        }
        let _ = stop_tx.send(());
        server.await.unwrap().unwrap();
    }
}
