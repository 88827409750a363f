//! API keys, web sessions with CSRF, and member roles.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestServer, code};

on_both_databases!(
    api_keys_are_shown_once_scoped_and_revocable,
    sessions_need_csrf_for_changes_and_end_at_sign_out,
    roles_limit_what_members_can_do
);

async fn api_keys_are_shown_once_scoped_and_revocable(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let (status, created) = server
        .post(
            &org.key,
            "/v1/api-keys",
            json!({ "name": "read-only", "scopes": ["projects:read"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("bzk_"));
    assert!(secret.starts_with(created["prefix"].as_str().unwrap()));

    let (_, listed) = server.get(&org.key, "/v1/api-keys").await;
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is never shown again"
    );
    assert_eq!(listed["data"][0]["scopes"], json!(["projects:read"]));

    // The key does what its scope allows and nothing more.
    let (status, _) = server.get(&secret, "/v1/projects").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server.post(&secret, "/v1/projects", json!({ "name": "x" })).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("projects:write")
    );

    // It cannot mint a stronger key.
    let (status, body) = server
        .post(
            &org.key,
            "/v1/api-keys",
            json!({ "name": "x", "scopes": ["projects:launch"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, limited) = server
        .post(
            &org.key,
            "/v1/api-keys",
            json!({ "name": "keys", "scopes": ["keys:write", "projects:read"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let limited = limited["secret"].as_str().unwrap();
    let (status, body) = server
        .post(
            limited,
            "/v1/api-keys",
            json!({ "name": "escalate", "scopes": ["projects:write"] }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("projects:write")
    );

    // Revocation takes effect on the next request.
    let id = created["id"].as_str().unwrap();
    let (status, revoked) = server
        .call(&org.key, Method::DELETE, &format!("/v1/api-keys/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let (status, body) = server.get(&secret, "/v1/projects").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

async fn sessions_need_csrf_for_changes_and_end_at_sign_out(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let (status, body) = Browser::sign_in(&server, &org.owner_email, "wrong password!")
        .await
        .err()
        .unwrap();
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let (status, _) = Browser::sign_in(&server, "nobody@example.test", "whatever12345")
        .await
        .err()
        .unwrap();
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "unknown emails fail the same way"
    );

    let browser = Browser::sign_in(&server, &org.owner_email, &org.password)
        .await
        .unwrap();
    let (status, body) = browser.send(Method::GET, "/v1/organization", None, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], json!(org.id));

    let (status, body) = browser
        .send(Method::POST, "/v1/projects", Some(json!({ "name": "x" })), false)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "a change without the CSRF token is refused"
    );
    let (status, body) = browser
        .send(Method::POST, "/v1/projects", Some(json!({ "name": "x" })), true)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, _) = browser
        .send(Method::DELETE, "/v1/sessions/current", None, true)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = browser.send(Method::GET, "/v1/organization", None, false).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

async fn roles_limit_what_members_can_do(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let (status, member) = server
        .post(
            &org.key,
            "/v1/members",
            json!({ "email": "Worker@Example.test", "role": "member", "password": "worker-password" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    assert_eq!(member["user"]["email"], "worker@example.test");
    let worker_id = member["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = server
        .post(
            &org.key,
            "/v1/members",
            json!({ "email": "worker@example.test", "role": "admin" }),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "conflict"));

    let worker = Browser::sign_in(&server, "worker@example.test", "worker-password")
        .await
        .unwrap();
    let (status, _) = worker
        .send(Method::POST, "/v1/projects", Some(json!({ "name": "ok" })), true)
        .await;
    assert_eq!(status, StatusCode::CREATED, "members work with projects");
    let (status, body) = worker
        .send(
            Method::POST,
            "/v1/api-keys",
            Some(json!({ "name": "k", "scopes": ["projects:read"] })),
            true,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let (status, _) = worker
        .send(
            Method::PATCH,
            &format!("/v1/members/{worker_id}"),
            Some(json!({ "role": "admin" })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "members cannot promote themselves");

    // The last owner stays, and an API key cannot touch owners.
    let (status, body) = server
        .call(
            &org.key,
            Method::PATCH,
            &format!("/v1/members/{}", org.owner_id),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let owner = Browser::sign_in(&server, &org.owner_email, &org.password)
        .await
        .unwrap();
    let (status, body) = owner
        .send(
            Method::DELETE,
            &format!("/v1/members/{}", org.owner_id),
            None,
            true,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least one owner")
    );

    // Removing a member ends their session at once.
    let (status, _) = owner
        .send(Method::DELETE, &format!("/v1/members/{worker_id}"), None, true)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = worker.send(Method::GET, "/v1/projects", None, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
