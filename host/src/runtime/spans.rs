//! The spans a plugin opens in its call's trace (`bazaar:platform/trace`): nested inside the
//! call's span and inside each other, named and given attributes by the plugin, cut to size.
//! The host calls made while a span is open are its children. Past the caps a call is
//! ignored: tracing never fails a plugin.

use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Spans a call may open.
const MAX_SPANS: usize = 100;
/// Attributes per span.
const MAX_ATTRIBUTES: usize = 20;
/// Bytes of a name, key or value.
const MAX_TEXT: usize = 256;

fn cut(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The spans one call opened: handles are positions, 1-based (0: refused at the cap).
#[derive(Default)]
pub struct GuestSpans {
    spans: Vec<Option<(tracing::Span, usize)>>,
    /// The handles of the open spans, innermost last.
    open: Vec<u32>,
}

impl GuestSpans {
    /// Opens a span inside the innermost open one (or the call's span).
    pub fn enter(&mut self, name: String, attributes: Vec<(String, String)>) -> u32 {
        if self.spans.len() >= MAX_SPANS {
            return 0;
        }
        let name = cut(name);
        let parent = self
            .open
            .last()
            .and_then(|h| self.spans[*h as usize - 1].as_ref());
        let span = match parent {
            Some((parent, _)) => tracing::info_span!(parent: parent, "guest_span", otel.name = %name),
            None => tracing::info_span!("guest_span", otel.name = %name),
        };
        self.spans.push(Some((span, 0)));
        let handle = self.spans.len() as u32;
        self.open.push(handle);
        for (key, value) in attributes {
            self.set(handle, key, value);
        }
        handle
    }

    /// Where a host call's span goes: inside the innermost span the plugin has open, or the
    /// call's own span when none is.
    pub fn parent(&self) -> Option<tracing::Id> {
        self.open
            .last()
            .and_then(|h| self.spans[*h as usize - 1].as_ref())
            .map_or_else(|| tracing::Span::current().id(), |(span, _)| span.id())
    }

    /// Adds an attribute to an open span.
    pub fn set(&mut self, handle: u32, key: String, value: String) {
        if handle == 0 {
            return;
        }
        if let Some(Some((span, attributes))) = self.spans.get_mut(handle as usize - 1)
            && *attributes < MAX_ATTRIBUTES
        {
            *attributes += 1;
            span.set_attribute(cut(key), cut(value));
        }
    }

    /// Ends the span and those opened inside it: dropping a span closes it.
    pub fn exit(&mut self, handle: u32) {
        if let Some(at) = self.open.iter().position(|h| *h == handle) {
            for inner in self.open.split_off(at) {
                self.spans[inner as usize - 1] = None;
            }
        }
    }
}
