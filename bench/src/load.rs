//! A small HTTP/1.1 load generator: keep-alive connections on loopback, one task each, so the
//! client costs little of the CPU it shares with the service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Builds request number `n` (the bytes of one HTTP/1.1 request).
pub type RequestFn = Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>;

/// How long a load runs: for a time, or for a number of requests.
#[derive(Debug, Clone, Copy)]
pub enum Plan {
    For(Duration),
    Requests(u64),
}

#[derive(Debug, Clone)]
pub struct Stats {
    pub requests: u64,
    pub failures: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Stats {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests, "failures": self.failures, "seconds": round(self.seconds),
            "per_second": round(self.per_second), "p50_ms": round(self.p50_ms),
            "p99_ms": round(self.p99_ms), "max_ms": round(self.max_ms),
        })
    }
}

pub fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// A GET with a bearer token (or none).
pub fn get(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

/// A request with a body and extra header lines.
pub fn with_body(
    method: &str,
    path: &str,
    headers: &str,
    content_type: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Runs `request` on `connections` keep-alive connections to `port` as `plan` says.
pub async fn run(
    port: u16,
    connections: usize,
    plan: Plan,
    request: RequestFn,
) -> anyhow::Result<Stats> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = match plan {
        Plan::For(duration) => Some(started + duration),
        Plan::Requests(_) => None,
    };
    let limit = match plan {
        Plan::For(_) => u64::MAX,
        Plan::Requests(n) => n,
    };
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (next, request) = (next.clone(), request.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let mut stream = connect(port).await?;
            let mut buffer = Vec::with_capacity(64 * 1024);
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= limit {
                    break;
                }
                let bytes = request(n);
                let sent = Instant::now();
                let status = match exchange(&mut stream, &bytes, &mut buffer).await {
                    Ok(status) => status,
                    Err(_) => {
                        // A broken connection counts as a failure; carry on with a new one.
                        stream = connect(port).await?;
                        0
                    }
                };
                latencies.push(sent.elapsed());
                if !(200..300).contains(&status) {
                    failures += 1;
                }
            }
            anyhow::Ok((latencies, failures))
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (mine, failed) = worker.await??;
        latencies.extend(mine);
        failures += failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(Stats {
        requests: latencies.len() as u64,
        failures,
        seconds,
        per_second: latencies.len() as f64 / seconds,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    })
}

async fn connect(port: u16) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .context("connecting")?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends one request and reads its whole answer (`Content-Length` bodies only); the status.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> anyhow::Result<u16> {
    stream.write_all(request).await?;
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .context("no content-length")?;
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
