//! The HTTP/1.1 server every service runs on, and problems for the answers its protocol layer
//! gives before any application code runs (DESIGN §4).
//!
//! actix-http answers a request it cannot parse itself: 400 for a malformed request (a
//! `Transfer-Encoding` beside `Content-Length`, a bad request line), 431 for a request head over
//! its buffer (an over-long request line, too many headers) and 408 for a head that does not
//! arrive in time, each with an empty body and no way to change it. [`ProblemIo`] sits between
//! the connection and that layer and replaces exactly those answers with the same status as
//! `application/problem+json`. It recognises them by what the application never sends: a 400,
//! 408 or 431 with `content-length: 0` and no content type, at the start of a write (every answer
//! of the application is a problem with a body, see the frame's problem middleware).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::{HttpService, Request, Response};
use actix_service::{
    fn_service, map_config, IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt,
};
use actix_web::dev::{AppConfig, Server};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{problem_type, Problem, PROBLEM_CONTENT_TYPE};

/// Serves the application that `app` builds (once per worker) on `listener`, HTTP/1.1 only, as
/// actix-web's own server does (its timeouts, graceful shutdown of open connections), with every
/// connection behind [`ProblemIo`].
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    app: F,
    shutdown_timeout_seconds: u64,
) -> io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let local = listener.local_addr()?;
    let builder = Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    Ok(builder
        .listen("http", listener, move || {
            let shutdown = shutdown.clone();
            let h1 = HttpService::<ProblemIo<actix_rt::net::TcpStream>, _, _, _, _>::build()
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local)
                // The configuration's host is only a fallback for a request without `Host`.
                .h1(map_config(
                    app()
                        .into_factory()
                        .map_err(|error| error.into().error_response()),
                    |()| AppConfig::default(),
                ));
            fn_service(|stream: actix_rt::net::TcpStream| async move {
                let peer: Option<SocketAddr> = stream.peer_addr().ok();
                Ok((ProblemIo::new(stream), peer))
            })
            .and_then(h1)
        })?
        .shutdown_timeout(shutdown_timeout_seconds)
        .run())
}

/// A connection whose protocol-layer error answers go out as problems (see the module
/// documentation); everything else passes unchanged.
pub struct ProblemIo<T> {
    inner: T,
    /// A replacement answer accepted from the writer but not yet written to `inner`.
    pending: Vec<u8>,
    written: usize,
}

impl<T> ProblemIo<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some((head_len, replacement)) = replacement_for(buf) {
            this.pending = replacement;
            this.pending.extend_from_slice(&buf[head_len..]);
            // The writer's bytes are taken; the replacement goes out now or at the next flush.
            if let Poll::Ready(Err(error)) = this.poll_pending(cx) {
                return Poll::Ready(Err(error));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// If `buf` starts with an empty-bodied 400, 408 or 431 head, its length and the problem answer
/// that replaces it.
fn replacement_for(buf: &[u8]) -> Option<(usize, Vec<u8>)> {
    let (status, title, slug, detail) = [
        (
            400_u16,
            "The request is malformed",
            "bad-request",
            "the request could not be parsed as HTTP/1.1 (request line, headers or framing)",
        ),
        (
            408,
            "The request took too long",
            "request-timeout",
            "the request head did not arrive in time",
        ),
        (
            431,
            "The request head is too large",
            "request-header-fields-too-large",
            "the request line or the headers are too large",
        ),
    ]
    .into_iter()
    .find(|(status, ..)| buf.starts_with(format!("HTTP/1.1 {status} ").as_bytes()))?;
    let head_len = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_len]).to_ascii_lowercase();
    if !head.contains("\r\ncontent-length: 0\r\n") || head.contains("\r\ncontent-type:") {
        return None;
    }
    let problem = Problem {
        problem_type: problem_type(slug),
        title: title.into(),
        status,
        detail: detail.into(),
        instance: None,
        request_id: None,
        errors: Vec::new(),
        extensions: serde_json::Map::new(),
    };
    let body = serde_json::to_vec(&problem).ok()?;
    // "HTTP/1.1 NNN " is 13 bytes; the reason phrase runs to the end of the status line.
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let reason = String::from_utf8_lossy(&buf[13..line_end]);
    let mut answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {PROBLEM_CONTENT_TYPE}\r\n\
         content-length: {}\r\nconnection: close\r\nx-content-type-options: nosniff\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some((head_len, answer))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::replacement_for;

    #[test]
    fn an_empty_protocol_error_becomes_a_problem_and_anything_else_passes() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: Tue, 01 Dec 2026 12:00:00 GMT\r\n\r\n";
        let (len, answer) = replacement_for(head).unwrap();
        assert_eq!(len, head.len());
        let answer = String::from_utf8(answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(answer.contains("content-type: application/problem+json\r\n"));
        let (_, body) = answer.split_once("\r\n\r\n").unwrap();
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 431);
        assert!(answer.contains(&format!("content-length: {}\r\n", body.len())));

        let application = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\ncontent-type: application/problem+json\r\n\r\n{}";
        assert!(replacement_for(application).is_none());
        let not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement_for(not_found).is_none());
        let partial = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n";
        assert!(replacement_for(partial).is_none());
    }
}
