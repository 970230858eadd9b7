//! When a request reached the host: the kernel's receive time of the first bytes of its head
//! (`SO_TIMESTAMPNS`), so that a call's latency and Ward's overhead start where the client's
//! clock does, not later, once Ward's task has woken, read the socket and parsed the head.
//!
//! `Listener` accepts plain-HTTP connections whose reads carry that time; each connection keeps
//! the time of the first read since its last request was taken (`Peer`, the connection info), and
//! the `stamp` middleware hands it to the request as `Arrived`. Without a time (TLS, HTTP/2,
//! in-process calls) a request arrives when the middleware sees it.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request};
use axum::http::Version;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::IncomingStream;
use nix::sys::socket::{self, sockopt, ControlMessageOwned, MsgFlags};
use nix::sys::time::TimeSpec;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// When the request in hand reached the host; set on every request by `stamp`.
#[derive(Debug, Clone, Copy)]
pub struct Arrived(pub Instant);

/// The first-read time of one connection's next request, until `stamp` takes it.
#[derive(Debug, Default)]
pub struct Arrivals(Mutex<Option<Instant>>);

impl Arrivals {
    fn note(&self, at: impl FnOnce() -> Option<Instant>) {
        let mut next = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        if next.is_none() {
            *next = at();
        }
    }

    fn take(&self) -> Option<Instant> {
        self.0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take()
    }
}

/// What a connection tells each of its requests: the client's address and, for plain HTTP,
/// when the request's first bytes were received.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    arrivals: Option<Arc<Arrivals>>,
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            arrivals: stream.io().arrivals.clone(),
        }
    }
}

impl axum::extract::connect_info::Connected<SocketAddr> for Peer {
    fn connect_info(addr: SocketAddr) -> Self {
        Peer {
            addr,
            arrivals: None,
        }
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
    /// connection's first byte (the kernel turns stamping on a moment after the first socket
    /// asks, and keeps it on while one has it).
    pub fn new(listener: TcpListener) -> Listener {
        let stamped = socket::setsockopt(&listener, sockopt::ReceiveTimestampns, &true).is_ok();
        Listener { listener, stamped }
    }
}

impl axum::serve::Listener for Listener {
    type Io = StampedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (StampedStream, SocketAddr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        let stream = StampedStream {
            stream,
            arrivals: self.stamped.then(Arc::default),
            control: nix::cmsg_space!(TimeSpec),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// A TCP stream that notes when the first bytes of each request were received.
#[derive(Debug)]
pub struct StampedStream {
    stream: TcpStream,
    /// `None`: the socket refused timestamps; reads go straight through.
    arrivals: Option<Arc<Arrivals>>,
    control: Vec<u8>,
}

impl StampedStream {
    /// One `recvmsg` into `buf`, with the receive time of what it read.
    fn receive(&mut self, buf: &mut [u8]) -> io::Result<(usize, Option<TimeSpec>)> {
        let fd = self.stream.as_raw_fd();
        let control = &mut self.control;
        self.stream.try_io(Interest::READABLE, || {
            let mut parts = [IoSliceMut::new(buf)];
            let message = socket::recvmsg::<()>(fd, &mut parts, Some(control), MsgFlags::empty())
                .map_err(io::Error::from)?;
            let received = message.cmsgs().ok().and_then(|mut messages| {
                messages.find_map(|message| match message {
                    ControlMessageOwned::ScmTimestampns(at) => Some(at),
                    _ => None,
                })
            });
            Ok((message.bytes, received))
        })
    }
}

/// The monotonic instant of a realtime receive stamp; `None` when the wall clock moved so that
/// the stamp lies in the future or implausibly far back.
fn instant_of(received: TimeSpec) -> Option<Instant> {
    let received = UNIX_EPOCH + Duration::from(received);
    let age = SystemTime::now().duration_since(received).ok()?;
    (age < Duration::from_secs(3600))
        .then(|| Instant::now().checked_sub(age))
        .flatten()
}

impl AsyncRead for StampedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.arrivals.is_none() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        loop {
            ready!(this.stream.poll_read_ready(cx))?;
            match this.receive(buf.initialize_unfilled()) {
                Ok((read, received)) => {
                    if let (true, Some(arrivals)) = (read > 0, &this.arrivals) {
                        arrivals.note(|| received.and_then(instant_of));
                    }
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}

impl AsyncWrite for StampedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The outermost middleware: gives the request its arrival time and, once it is answered,
/// forgets what its body's reads noted, so the connection's next request starts clean.
pub async fn stamp(mut request: Request, next: Next) -> Response {
    let arrivals = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .and_then(|info| info.0.arrivals.clone())
        // HTTP/2 interleaves requests on one connection: its reads belong to no one request.
        .filter(|_| request.version() <= Version::HTTP_11);
    let arrived = arrivals
        .as_ref()
        .and_then(|arrivals| arrivals.take())
        .unwrap_or_else(Instant::now);
    request.extensions_mut().insert(Arrived(arrived));
    let response = next.run(request).await;
    if let Some(arrivals) = arrivals {
        arrivals.take();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_keeps_the_first_read_until_it_is_taken() {
        let arrivals = Arrivals::default();
        let first = Instant::now();
        arrivals.note(|| Some(first));
        arrivals.note(|| Some(first + Duration::from_millis(5)));
        assert_eq!(arrivals.take(), Some(first));
        assert_eq!(arrivals.take(), None);
    }

    /// A request whose bytes waited in the socket before Ward read them arrived when they came.
    #[tokio::test]
    async fn a_read_notes_when_its_bytes_were_received_not_when_it_ran() {
        use axum::serve::Listener as _;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut listener = Listener::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut stream, _) = listener.accept().await;
        let arrivals = stream
            .arrivals
            .clone()
            .expect("loopback sockets take timestamps");
        let mut head = [0u8; 64];
        // The kernel turns stamping on shortly after the listener asked: wait for a stamped read.
        for _ in 0..200 {
            client.write_all(b"x").await.unwrap();
            stream.read_exact(&mut head[..1]).await.unwrap();
            if arrivals.take().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let read = stream.read(&mut head).await.unwrap();
        assert_eq!(&head[..read], b"GET / HTTP/1.1\r\n\r\n");
        let waited = arrivals
            .take()
            .expect("the read noted its arrival")
            .elapsed();
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[test]
    fn a_receive_stamp_becomes_an_instant_of_the_same_age() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let stamp = TimeSpec::from(now - Duration::from_millis(20));
        let age = instant_of(stamp).unwrap().elapsed();
        assert!(age >= Duration::from_millis(20), "{age:?}");
        let future = TimeSpec::from(now + Duration::from_secs(60));
        assert_eq!(instant_of(future), None);
    }
}
