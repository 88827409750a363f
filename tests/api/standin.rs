//! A stand-in for a vendor's API on an ephemeral loopback port: records every request whole and
//! answers from a script (then a default answer), as the vendor would (success, 429 with
//! `Retry-After`, 401, 5xx).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request as the vendor received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
        }
    }

    /// The vendor's rate limit: `429` with `Retry-After: 0`.
    pub fn rate_limited() -> Reply {
        Reply {
            status: 429,
            headers: vec![
                ("retry-after", "0".into()),
                ("content-type", "application/json".into()),
            ],
            body: r#"{"message":"rate limited","retry_after":0}"#.into(),
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

#[derive(Default)]
struct Inner {
    got: Vec<Request>,
    script: VecDeque<Reply>,
    default: Option<Reply>,
}

#[derive(Clone)]
pub struct Standin {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl Standin {
    /// Starts the stand-in; it answers `default` once the script is spent.
    pub async fn start(default: Reply) -> Standin {
        Standin::start_on("127.0.0.1", default).await
    }

    /// The same, on another loopback address (`127.0.0.2`): a host of its own.
    pub async fn start_on(ip: &str, default: Reply) -> Standin {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let inner = Arc::new(Mutex::new(Inner {
            default: Some(default),
            ..Inner::default()
        }));
        let app = axum::Router::new().fallback(answer).with_state(inner.clone());
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Standin { inner, base }
    }

    /// The next requests get these answers, in order.
    pub fn then(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// Every request received, oldest first.
    pub fn got(&self) -> Vec<Request> {
        self.inner.lock().unwrap().got.clone()
    }
}

async fn answer(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    inner.got.push(Request {
        method: method.to_string(),
        path: uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let reply = inner
        .script
        .pop_front()
        .or_else(|| inner.default.clone())
        .unwrap();
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
