//! TCP streams that keep their connection's clock: the kernel's receive time of what is read
//! (`SO_TIMESTAMPNS`) and the time of each write. The server learns from it when a request
//! reached the host; a remote backend, how long its upstream had a request, measured at the
//! socket, so that Ward's own time (waking up, decoding) is never counted as the upstream's.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{self, sockopt, ControlMessageOwned, MsgFlags};
use nix::sys::time::TimeSpec;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Asks for receive timestamps on `socket`; a listening socket passes the option on to the
/// sockets it accepts. The kernel turns stamping on a moment after the first socket asks and
/// keeps it on while one has it, so the first reads may come without a time.
pub fn ask_for_timestamps(socket: &impl AsFd) -> bool {
    socket::setsockopt(socket, sockopt::ReceiveTimestampns, &true).is_ok()
}

/// What one connection's socket saw.
#[derive(Debug, Default)]
pub struct SocketClock(Mutex<Marks>);

#[derive(Debug, Default)]
struct Marks {
    /// The receive time of the first bytes read since `claim_arrival`.
    unclaimed: Option<Instant>,
    /// The receive time of the last bytes read.
    received: Option<Instant>,
    /// When the last write returned.
    sent: Option<Instant>,
}

impl SocketClock {
    fn marks(&self) -> MutexGuard<'_, Marks> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn received(&self, at: Instant) {
        let mut marks = self.marks();
        marks.unclaimed.get_or_insert(at);
        marks.received = Some(at);
    }

    fn sent(&self) {
        self.marks().sent = Some(Instant::now());
    }

    /// When the first bytes read since the last claim were received: on a server, when the
    /// request in hand arrived.
    pub fn claim_arrival(&self) -> Option<Instant> {
        self.marks().unclaimed.take()
    }

    /// From the last write to the receipt of the last bytes read after it: on a client, how
    /// long the peer took to answer the request it was sent. `None` before any answer.
    pub fn last_exchange(&self) -> Option<Duration> {
        let marks = self.marks();
        marks.received?.checked_duration_since(marks.sent?)
    }
}

/// A TCP stream whose reads note their kernel receive time and whose writes note when they
/// returned, in the connection's `SocketClock`.
#[derive(Debug)]
pub struct StampedStream {
    stream: TcpStream,
    /// `None`: the socket refused timestamps; reads and writes go straight through.
    clock: Option<Arc<SocketClock>>,
    control: Vec<u8>,
}

impl StampedStream {
    /// `stream`, stamped when `stamped` says its socket has receive timestamps on (asked for on
    /// it, or on the listening socket it came from).
    pub fn new(stream: TcpStream, stamped: bool) -> StampedStream {
        StampedStream {
            stream,
            clock: stamped.then(Arc::default),
            control: nix::cmsg_space!(TimeSpec),
        }
    }

    /// The connection's clock; `None` when the socket refused timestamps.
    pub fn clock(&self) -> Option<&Arc<SocketClock>> {
        self.clock.as_ref()
    }

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

    fn note_sent<T>(&self, written: &Poll<io::Result<T>>) {
        if let (Some(clock), Poll::Ready(Ok(_))) = (&self.clock, written) {
            clock.sent();
        }
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
        if this.clock.is_none() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        loop {
            ready!(this.stream.poll_read_ready(cx))?;
            match this.receive(buf.initialize_unfilled()) {
                Ok((read, received)) => {
                    if let (true, Some(clock), Some(at)) =
                        (read > 0, &this.clock, received.and_then(instant_of))
                    {
                        clock.received(at);
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
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.note_sent(&written);
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.note_sent(&written);
        written
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[test]
    fn a_connection_keeps_its_first_read_until_it_is_claimed() {
        let clock = SocketClock::default();
        let first = Instant::now();
        clock.received(first);
        clock.received(first + Duration::from_millis(5));
        assert_eq!(clock.claim_arrival(), Some(first));
        assert_eq!(clock.claim_arrival(), None);
    }

    #[test]
    fn an_exchange_runs_from_the_last_write_to_the_last_receipt_after_it() {
        let clock = SocketClock::default();
        assert_eq!(clock.last_exchange(), None);
        let sent = Instant::now();
        clock.marks().sent = Some(sent);
        clock.received(sent + Duration::from_millis(3));
        clock.received(sent + Duration::from_millis(7));
        assert_eq!(clock.last_exchange(), Some(Duration::from_millis(7)));
        // A new request sent: no answer to it yet.
        clock.marks().sent = Some(sent + Duration::from_millis(10));
        assert_eq!(clock.last_exchange(), None);
    }

    /// Bytes that waited in the socket before they were read were received when they came.
    #[tokio::test]
    async fn a_read_notes_when_its_bytes_were_received_not_when_it_ran() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stamped = ask_for_timestamps(&listener);
        assert!(stamped, "loopback sockets take timestamps");
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        let mut stream = StampedStream::new(accepted, stamped);
        let clock = stream.clock().unwrap().clone();
        let mut head = [0u8; 64];
        // The kernel turns stamping on shortly after the listener asked: wait for a stamped read.
        for _ in 0..200 {
            client.write_all(b"x").await.unwrap();
            stream.read_exact(&mut head[..1]).await.unwrap();
            if clock.claim_arrival().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stream.write_all(b"ready").await.unwrap();
        let written = Instant::now();
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let read = stream.read(&mut head).await.unwrap();
        assert_eq!(&head[..read], b"GET / HTTP/1.1\r\n\r\n");
        let waited = clock
            .claim_arrival()
            .expect("the read noted its arrival")
            .elapsed();
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        // Written, then answered 50 ms before the answer was read: the exchange ends at receipt.
        let exchange = clock.last_exchange().expect("written, then read");
        let until_read = written.elapsed();
        assert!(
            exchange + Duration::from_millis(50) <= until_read,
            "{exchange:?} {until_read:?}"
        );
    }

    #[test]
    fn a_receive_stamp_becomes_an_instant_of_the_same_age() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let past = TimeSpec::from(now - Duration::from_millis(20));
        let age = instant_of(past).unwrap().elapsed();
        assert!(age >= Duration::from_millis(20), "{age:?}");
        let future = TimeSpec::from(now + Duration::from_secs(60));
        assert_eq!(instant_of(future), None);
    }
}
