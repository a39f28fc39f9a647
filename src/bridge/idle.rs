//! Connections that say nothing are closed: a socket that sends no first byte within
//! `Limits::header_read_timeout`, or moves no byte either way for `Limits::idle_timeout`,
//! gets a read error, and hyper (or rustls) drops it. Without this a silent connection
//! holds one of the `max_connections` slots for ever: hyper's own head timeout starts
//! only once bytes arrive, and an idle HTTP/2 connection has no timeout at all.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An I/O stream whose reads fail once it has been quiet too long.
pub struct IdleTimeout<S> {
    inner: S,
    deadline: Pin<Box<Sleep>>,
    idle: Duration,
}

impl<S> IdleTimeout<S> {
    /// `first`: how long until the first byte; `idle`: how long without any byte after.
    pub fn new(inner: S, first: Duration, idle: Duration) -> IdleTimeout<S> {
        IdleTimeout {
            inner,
            deadline: Box::pin(tokio::time::sleep(first)),
            idle,
        }
    }

    fn progressed(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.progressed();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the connection was idle too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        // A response still being written to a slow reader is not idleness.
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.progressed();
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.progressed();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_times_out_and_a_talking_one_does_not() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = IdleTimeout::new(server, Duration::from_secs(1), Duration::from_secs(5));
        let mut client = client;
        let mut buf = [0u8; 8];
        // Talking every 4 s keeps it open past the first-byte limit and the idle limit.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(900)).await;
            client.write_all(b"x").await.expect("write");
            assert_eq!(server.read(&mut buf).await.expect("read"), 1);
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        let err = server.read(&mut buf).await.expect_err("idle");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);

        let (_quiet, server) = tokio::io::duplex(64);
        let mut server = IdleTimeout::new(server, Duration::from_secs(1), Duration::from_secs(60));
        let started = Instant::now();
        let err = server.read(&mut buf).await.expect_err("no first byte");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }
}
