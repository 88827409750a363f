//! The plugin's log: lines written through the `log` interface and anything printed to
//! stdout/stderr, kept up to a cap per invocation, in bytes and in lines. Past either cap,
//! output is counted and dropped, never an error: a chatty plugin must not fail because of its
//! chatter, and it must not cost the host more than its cap (an empty line still counts).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde::Serialize;

/// One line of a plugin's log.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct LogLine {
    /// `debug`, `info`, `warn`, `error`, or `stdout`/`stderr` for printed output.
    pub level: String,
    pub message: String,
}

#[derive(Debug, Default)]
struct Inner {
    lines: Vec<LogLine>,
    bytes: usize,
    dropped_bytes: u64,
    dropped_lines: u64,
}

/// What the log kept of one invocation, and what it dropped at its caps.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeptLog {
    pub lines: Vec<LogLine>,
    pub dropped_bytes: u64,
    pub dropped_lines: u64,
}

/// A capped log shared by the `log` interface and the captured standard streams.
#[derive(Debug, Clone)]
pub struct PluginLog {
    inner: Arc<Mutex<Inner>>,
    max_bytes: usize,
    max_lines: usize,
}

impl PluginLog {
    pub fn new(max_bytes: usize, max_lines: usize) -> Self {
        PluginLog {
            inner: Arc::default(),
            max_bytes,
            max_lines,
        }
    }

    /// Appends a line, or counts it as dropped once either cap is reached.
    pub fn push(&self, level: &str, message: &str) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if inner.lines.len() >= self.max_lines || inner.bytes + message.len() > self.max_bytes {
            inner.dropped_bytes += message.len() as u64;
            inner.dropped_lines += 1;
            return;
        }
        inner.bytes += message.len();
        inner.lines.push(LogLine {
            level: level.to_owned(),
            message: message.to_owned(),
        });
    }

    /// The lines kept and what was dropped.
    pub fn take(&self) -> KeptLog {
        match self.inner.lock() {
            Ok(mut inner) => KeptLog {
                lines: std::mem::take(&mut inner.lines),
                dropped_bytes: inner.dropped_bytes,
                dropped_lines: inner.dropped_lines,
            },
            Err(_) => KeptLog::default(),
        }
    }

    /// True once a cap was reached: later output is only counted.
    fn full(&self) -> bool {
        self.inner
            .lock()
            .map(|inner| inner.lines.len() >= self.max_lines || inner.bytes >= self.max_bytes)
            .unwrap_or(true)
    }

    /// A WASI output stream (stdout or stderr) that writes into this log, one line per line.
    pub fn stream(&self, level: &'static str) -> CapturedStream {
        CapturedStream {
            log: self.clone(),
            level,
            partial: Arc::default(),
        }
    }
}

/// stdout or stderr of a plugin, captured into its [`PluginLog`].
#[derive(Clone)]
pub struct CapturedStream {
    log: PluginLog,
    level: &'static str,
    partial: Arc<Mutex<Vec<u8>>>,
}

impl CapturedStream {
    fn write(&self, bytes: &[u8]) {
        let Ok(mut partial) = self.partial.lock() else {
            return;
        };
        // Once the log is full, count what is printed without splitting it into lines one by
        // one: a guest printing millions of newlines costs a count, not millions of pushes.
        if self.log.full() {
            if let Ok(mut inner) = self.log.inner.lock() {
                inner.dropped_bytes += bytes.len() as u64;
                inner.dropped_lines += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            }
            return;
        }
        // Keep at most one line pending; a line longer than the cap is cut.
        for &b in bytes {
            if b == b'\n' {
                self.log.push(self.level, &String::from_utf8_lossy(&partial));
                partial.clear();
            } else if partial.len() < self.log.max_bytes {
                partial.push(b);
            }
        }
    }
}

impl wasmtime_wasi::cli::IsTerminal for CapturedStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for CapturedStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for CapturedStream {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_cap_is_dropped_and_counted() {
        let log = PluginLog::new(10, 100);
        log.push("info", "12345");
        log.push("info", "67890");
        log.push("info", "overflow");
        let kept = log.take();
        assert_eq!(kept.lines.len(), 2);
        assert_eq!(kept.dropped_bytes, 8);
        assert_eq!(kept.dropped_lines, 1);
    }

    #[test]
    fn empty_lines_count_against_the_line_cap() {
        let log = PluginLog::new(1 << 20, 3);
        for _ in 0..100_000 {
            log.push("info", "");
        }
        let out = log.stream("stdout");
        out.write(&[b'\n'; 50_000]);
        let kept = log.take();
        assert_eq!(kept.lines.len(), 3);
        assert_eq!(kept.dropped_lines, 100_000 - 3 + 50_000);
    }

    #[test]
    fn printed_output_becomes_lines() {
        let log = PluginLog::new(100, 100);
        let out = log.stream("stdout");
        out.write(b"hello\nwor");
        out.write(b"ld\n");
        let kept = log.take();
        assert_eq!(
            kept.lines.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
            ["hello", "world"]
        );
    }
}
