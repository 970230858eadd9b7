//! When a request reached the host: the kernel's receive time of the first bytes of its head
//! (`SO_TIMESTAMPNS`), so that a call's latency and Ward's overhead start where the client's
//! clock does, not later, once Ward's task has woken, read the socket and parsed the head.
//!
//! `Listener` accepts plain-HTTP connections whose reads carry that time
//! (`ward_router::stamped`); each connection's clock keeps the time of the first read since its
//! last request was taken (`Peer`, the connection info), and the `stamp` middleware hands it to
//! the request as `Arrived`. Without a time (TLS, HTTP/2, in-process calls) a request arrives
//! when the middleware sees it.
//!
//! The call ends, for the same clock, when its answer's body has been handed to the connection:
//! `stamp` gives each request an `AnswerClock` and ends it when the response body ends or is
//! dropped.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::Version;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;
use ward_router::stamped::{self, SocketClock, StampedStream};

use crate::metrics::AnswerClock;

/// When the request in hand reached the host; set on every request by `stamp`.
#[derive(Debug, Clone, Copy)]
pub struct Arrived(pub Instant);

/// What a connection tells each of its requests: the client's address and, for plain HTTP,
/// when the request's first bytes were received.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    clock: Option<Arc<SocketClock>>,
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            clock: stream.io().clock().cloned(),
        }
    }
}

impl axum::extract::connect_info::Connected<SocketAddr> for Peer {
    fn connect_info(addr: SocketAddr) -> Self {
        Peer { addr, clock: None }
    }
}

/// Accepts TCP connections whose reads are stamped with the kernel's receive time.
#[derive(Debug)]
pub struct Listener {
    listener: TcpListener,
    /// Whether the kernel took the option; accepted sockets inherit it.
    stamped: bool,
}

impl Listener {
    /// Asks for receive timestamps on the listening socket, so they are on from the first
    /// connection's first byte.
    pub fn new(listener: TcpListener) -> Listener {
        let stamped = stamped::ask_for_timestamps(&listener);
        Listener { listener, stamped }
    }
}

impl axum::serve::Listener for Listener {
    type Io = StampedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (StampedStream, SocketAddr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        (StampedStream::new(stream, self.stamped), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// The outermost middleware: gives the request its arrival time and answer clock and, once it is
/// answered, forgets what its body's reads noted, so the connection's next request starts clean.
pub async fn stamp(mut request: Request, next: Next) -> Response {
    let socket = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .and_then(|info| info.0.clock.clone())
        // HTTP/2 interleaves requests on one connection: its reads belong to no one request.
        .filter(|_| request.version() <= Version::HTTP_11);
    let arrived = socket
        .as_ref()
        .and_then(|socket| socket.claim_arrival())
        .unwrap_or_else(Instant::now);
    request.extensions_mut().insert(Arrived(arrived));
    let clock = AnswerClock::default();
    request.extensions_mut().insert(clock.clone());
    let response = next.run(request).await;
    if let Some(socket) = socket {
        socket.claim_arrival();
    }
    response.map(|body| Body::new(Answer { body, clock }))
}

/// A response body that ends its call's `AnswerClock` once its last frame is taken (or it is
/// dropped: sent, or the client left).
struct Answer {
    body: Body,
    clock: AnswerClock,
}

impl http_body::Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        if frame.is_none() || self.body.is_end_stream() {
            self.clock.end();
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.clock.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A call's latency runs until its answer's body has been handed over, not until its
    /// handler returned: here the body's only chunk is held back 50 ms.
    #[tokio::test]
    async fn a_call_ends_when_its_answer_is_sent() {
        use crate::metrics::Metrics;
        use ward_audit::{AuditEvent, Latency};
        let metrics = Arc::new(Metrics::new());
        let count = |metrics: &Metrics| {
            let text = metrics.exposition();
            let line = text
                .lines()
                .find(|line| line.starts_with("ward_request_duration_seconds_count"));
            line.and_then(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
        };
        let handler = {
            let metrics = metrics.clone();
            move |request: Request| async move {
                let clock = request.extensions().get::<AnswerClock>().cloned().unwrap();
                let event = AuditEvent {
                    endpoint: "/v1/chat/completions".to_owned(),
                    latency: Latency {
                        upstream_ms: Some(0.0),
                        ..Latency::default()
                    },
                    ..AuditEvent::default()
                };
                let started = request.extensions().get::<Arrived>().unwrap().0;
                clock.observe_at_end(metrics.clone(), metrics.observe_call(&event, None, started));
                Body::from_stream(futures::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, std::convert::Infallible>("answer")
                }))
            }
        };
        let app = axum::Router::new()
            .route("/", axum::routing::get(handler))
            .layer(axum::middleware::from_fn(stamp));
        let response = tower::ServiceExt::oneshot(app, Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(count(&metrics), None, "observed before the answer was sent");
        let answer = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&answer[..], b"answer");
        assert_eq!(count(&metrics), Some(1));
        let text = metrics.exposition();
        let sum = |name: &str| {
            text.lines()
                .find_map(|line| {
                    line.strip_prefix(name)?
                        .rsplit_once(' ')?
                        .1
                        .parse::<f64>()
                        .ok()
                })
                .unwrap()
        };
        assert!(sum("ward_request_duration_seconds_sum") >= 0.05, "{text}");
        assert!(sum("ward_overhead_seconds_sum") >= 0.05, "{text}");
    }
}
