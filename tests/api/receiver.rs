//! A webhook receiver for tests: a real HTTP server on an ephemeral loopback port that records
//! every request and answers as its plan says (succeed, fail N times per event, fail always,
//! 410, slowly).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Plan {
    Ok,
    /// 503 (with `Retry-After: 0`) for the first N requests of each `webhook-id`, then 200.
    FailTimes(usize),
    /// Always this status.
    Always(u16),
    /// 200 after this delay.
    Slow(Duration),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Verifies the Standard Webhooks signature with `secret`, as a receiver's library would.
    pub fn verify(&self, secret: &str) -> bool {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        bazaar::webhooks::signing::verify(
            secret,
            &self.id,
            self.timestamp,
            &self.body,
            &self.signature,
            now,
            300,
        )
        .is_ok()
    }
}

#[derive(Default)]
struct Inner {
    plan: Option<Plan>,
    got: Vec<Received>,
    seen: HashMap<String, usize>,
    in_flight: usize,
    max_in_flight: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let (plan, count) = {
        let mut inner = inner.lock().unwrap();
        inner.in_flight += 1;
        inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        let count = inner.seen.entry(id.clone()).or_default();
        *count += 1;
        let count = *count;
        (inner.plan.unwrap_or(Plan::Ok), count)
    };
    let (status, retry_after) = match plan {
        Plan::Ok => (200, false),
        Plan::FailTimes(n) if count <= n => (503, true),
        Plan::FailTimes(_) => (200, false),
        Plan::Always(status) => (status, false),
        Plan::Slow(delay) => {
            tokio::time::sleep(delay).await;
            (200, false)
        }
    };
    let mut guard = inner.lock().unwrap();
    guard.in_flight -= 1;
    guard.got.push(Received {
        id,
        timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        answered: status,
    });
    drop(guard);
    let mut response_headers = HeaderMap::new();
    if retry_after {
        response_headers.insert("retry-after", "0".parse().unwrap());
    }
    (
        StatusCode::from_u16(status).unwrap(),
        response_headers,
        format!("answered {status}"),
    )
}

impl Receiver {
    pub async fn start(plan: Plan) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner {
            plan: Some(plan),
            ..Inner::default()
        }));
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://127.0.0.1:{}/hook", addr.port()),
            inner,
        }
    }

    pub fn set_plan(&self, plan: Plan) {
        self.inner.lock().unwrap().plan = Some(plan);
    }

    /// The most requests this receiver was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.lock().unwrap().max_in_flight
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().got.clone()
    }

    /// Distinct event ids answered with a 2xx.
    pub fn delivered_ids(&self) -> std::collections::HashSet<String> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .map(|r| r.id)
            .collect()
    }

    /// Waits until `n` distinct events were answered with a 2xx; panics after `timeout`.
    pub async fn wait_for_delivered(&self, n: usize, timeout: Duration) {
        let started = Instant::now();
        loop {
            let got = self.delivered_ids().len();
            if got >= n {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "only {got} of {n} events delivered after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
