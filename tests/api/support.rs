//! A test server per test, on SQLite in a temporary folder or on a fresh PostgreSQL database.

use std::sync::Arc;

use bazaar::config::Config;
use bazaar::platform::{ScopeSet, credentials, orgs};
use bazaar::server::{self, RunningServer};
use bazaar::store::{Store, new_id};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use serde_json::json;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::support::postgres_url().is_none() {
                    return;
                }
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    )*};
}

/// The PostgreSQL server for tests (`BAZAAR_TEST_POSTGRES_URL`, set by `scripts/test`).
/// On CI it must be there: a run that silently skipped PostgreSQL would prove nothing.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("BAZAAR_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CI").is_ok() {
        panic!("BAZAAR_TEST_POSTGRES_URL is not set on CI; run the tests with scripts/test");
    }
    url
}

/// A fresh, empty PostgreSQL database; returns its URL.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin = postgres_url().expect("BAZAAR_TEST_POSTGRES_URL");
    let name = new_id("test");
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to test PostgreSQL");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin)
        .to_owned();
    format!("{base}/{name}")
}

pub struct TestServer {
    pub base: String,
    pub store: Store,
    pub http: reqwest::Client,
    _server: RunningServer,
    _dir: tempfile::TempDir,
}

/// An organization made for a test, with an all-scopes API key.
pub struct TestOrg {
    pub id: String,
    pub owner_id: String,
    pub owner_email: String,
    pub password: String,
    pub key: String,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Config::default()).await
    }

    pub async fn start_with(backend: Backend, mut config: Config) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        config.data_dir = dir.path().to_owned();
        if let Backend::Postgres = backend {
            config.database_url = Some(fresh_postgres_database().await);
        }
        let store = server::open_store(&config).await.expect("open store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let running = server::spawn(listener, store.clone(), Arc::new(config)).expect("spawn");
        TestServer {
            base: format!("http://{}", running.addr),
            store,
            http: reqwest::Client::new(),
            _server: running,
            _dir: dir,
        }
    }

    /// The server's data folder (secret key, plugin files).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().to_owned()
    }

    pub async fn org(&self, name: &str) -> TestOrg {
        let email = format!("{}@example.test", new_id("owner"));
        let (org, user) = orgs::create_with_owner(&self.store, name, &email, PASSWORD)
            .await
            .expect("create org");
        let key = credentials::create_api_key(&self.store, &org.id, "test", ScopeSet::all(), Some(&user.id))
            .await
            .expect("create key");
        TestOrg {
            id: org.id,
            owner_id: user.id,
            owner_email: email,
            password: PASSWORD.into(),
            key: key.secret,
        }
    }

    /// Sends a request with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.call(key, Method::GET, path, None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(key, Method::POST, path, Some(body)).await
    }

    /// Creates a project and returns its id, asserting success.
    pub async fn project(&self, key: &str, name: &str) -> String {
        let (status, body) = self
            .post(key, "/v1/projects", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("id").to_owned()
    }

    /// Creates a task and returns it, asserting success.
    pub async fn task(&self, key: &str, project_id: &str, title: &str) -> Value {
        let (status, body) = self
            .post(
                key,
                "/v1/tasks",
                serde_json::json!({ "project_id": project_id, "title": title }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Every event kind of the organization, oldest first.
    pub async fn event_kinds(&self, key: &str) -> Vec<String> {
        let (status, body) = self.get(key, "/v1/events?limit=200").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut kinds: Vec<String> = body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["kind"].as_str().expect("kind").to_owned())
            .collect();
        kinds.reverse();
        kinds
    }
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// A signed-in browser: the session cookie and its CSRF token.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    /// `bazaar_session=...`, for requests made by hand.
    pub cookie: String,
    pub csrf: String,
}

impl Browser {
    pub async fn sign_in(
        server: &TestServer,
        email: &str,
        password: &str,
    ) -> Result<Browser, (StatusCode, Value)> {
        let res = server
            .http
            .post(format!("{}/v1/sessions", server.base))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let cookie = res
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = res.json().await.unwrap();
        if status != StatusCode::CREATED {
            return Err((status, body));
        }
        let cookie = cookie.expect("session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        Ok(Browser {
            http: server.http.clone(),
            base: server.base.clone(),
            cookie: cookie.split(';').next().unwrap().to_owned(),
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        })
    }

    /// A page, as this browser sees it: its status and HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if csrf {
            req = req.header("x-csrf-token", &self.csrf);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}
