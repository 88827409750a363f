//! Bad requests get the one error shape, the right status and a message that says what to do.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::on_both_databases;
use crate::support::{Backend, TestServer, code};

on_both_databases!(
    every_failure_speaks_the_error_shape,
    internal_details_never_reach_the_caller
);

async fn send(server: &TestServer, req: reqwest::RequestBuilder) -> (StatusCode, Option<String>, Value) {
    let res = req.send().await.unwrap();
    let status = res.status();
    let challenge = res
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.json().await.unwrap_or(Value::Null);
    let _ = server;
    (status, challenge, body)
}

async fn every_failure_speaks_the_error_shape(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let url = |p: &str| format!("{}{p}", server.base);
    let http = &server.http;

    let (status, challenge, body) = send(&server, http.get(url("/v1/projects"))).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="bazaar""#));

    let (status, _, body) = send(
        &server,
        http.get(url("/v1/projects")).bearer_auth("bzk_not-a-real-key"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let (status, _, body) = send(
        &server,
        http.get(url("/v1/projects")).header("authorization", "Basic abc"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"]["message"].as_str().unwrap().contains("Bearer"));

    let post = || http.post(url("/v1/projects")).bearer_auth(&org.key);
    let (status, _, body) = send(
        &server,
        post().header(CONTENT_TYPE, "application/json").body("{\"name\":"),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "malformed_request")
    );
    let (status, _, body) = send(
        &server,
        post().json(&serde_json::json!({ "name": "x", "owner": "me" })),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `owner`"),
        "{body}"
    );
    let (status, _, body) = send(&server, post().json(&serde_json::json!({ "name": 5 }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, body) = send(&server, post().body("name=x")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let huge = format!("{{\"name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let res = post()
        .header(CONTENT_TYPE, "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    // The unread rest of the body means the connection cannot carry another request.
    assert_eq!(res.headers()["connection"], "close");
    let (status, body) = (res.status(), res.json::<Value>().await.unwrap());
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1048576"),
        "{body}"
    );

    let get = |p: &str| http.get(url(p)).bearer_auth(&org.key);
    let (status, _, body) = send(&server, get("/v1/projects?limit=0")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, body) = send(&server, get("/v1/projects?limit=ten")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "malformed_request")
    );
    let (status, _, body) = send(&server, get("/v1/projects?colour=red")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown query parameters are refused: {body}"
    );
    let (status, _, body) = send(&server, get("/v1/projects?cursor=garbage!")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, body) = send(&server, get("/v1/projects/prj_missing")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(body["error"]["message"], "Project not found");
    let (status, _, body) = send(&server, get("/v1/nothing-here")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _, body) = send(&server, get("/v1/events?kind=task.exploded")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("task.completed")
    );
    let (status, _, body) = send(&server, http.put(url("/v1/projects")).bearer_auth(&org.key)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}

async fn internal_details_never_reach_the_caller(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    // Break the database under the server: every query now fails.
    server.store.close().await;
    let (status, body) = server.get(&org.key, "/v1/projects").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        !message.to_lowercase().contains("pool") && !message.contains("sqlx"),
        "{message}"
    );
}
