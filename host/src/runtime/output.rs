//! The plugin's log: lines written through the `log` interface and anything printed to
//! stdout/stderr, kept up to a cap per invocation. Past the cap, output is counted and dropped,
//! never an error: a chatty plugin must not fail because of its chatter.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde::Serialize;

/// One line of a plugin's log.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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
}

/// A capped log shared by the `log` interface and the captured standard streams.
#[derive(Debug, Clone)]
pub struct PluginLog {
    inner: Arc<Mutex<Inner>>,
    max_bytes: usize,
}

impl PluginLog {
    pub fn new(max_bytes: usize) -> Self {
        PluginLog {
            inner: Arc::default(),
            max_bytes,
        }
    }

    /// Appends a line, or counts it as dropped once the cap is reached.
    pub fn push(&self, level: &str, message: &str) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if inner.bytes + message.len() > self.max_bytes {
            inner.dropped_bytes += message.len() as u64;
            return;
        }
        inner.bytes += message.len();
        inner.lines.push(LogLine {
            level: level.to_owned(),
            message: message.to_owned(),
        });
    }

    /// The lines kept and how many bytes were dropped.
    pub fn take(&self) -> (Vec<LogLine>, u64) {
        match self.inner.lock() {
            Ok(mut inner) => (std::mem::take(&mut inner.lines), inner.dropped_bytes),
            Err(_) => (Vec::new(), 0),
        }
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
        let log = PluginLog::new(10);
        log.push("info", "12345");
        log.push("info", "67890");
        log.push("info", "overflow");
        let (lines, dropped) = log.take();
        assert_eq!(lines.len(), 2);
        assert_eq!(dropped, 8);
    }

    #[test]
    fn printed_output_becomes_lines() {
        let log = PluginLog::new(100);
        let out = log.stream("stdout");
        out.write(b"hello\nwor");
        out.write(b"ld\n");
        let (lines, _) = log.take();
        assert_eq!(
            lines.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
            ["hello", "world"]
        );
    }
}
