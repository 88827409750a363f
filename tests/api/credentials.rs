//! API keys, web sessions with CSRF, and member roles.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Backend, Browser, TestServer, code};

on_both_databases!(
    api_keys_are_shown_once_scoped_and_revocable,
    sessions_need_csrf_for_changes_and_end_at_sign_out,
    roles_limit_what_members_can_do,
    people_sign_up_and_switch_organization
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

async fn people_sign_up_and_switch_organization(backend: Backend) {
    let server = TestServer::start(backend).await;
    let email = format!("{}@example.test", bazaar::store::new_id("u"));
    let res = server
        .http
        .post(format!("{}/v1/signup", server.base))
        .json(&json!({ "organization": "Fresh Co", "email": email, "password": "short" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a weak password is refused"
    );
    let res = server
        .http
        .post(format!("{}/v1/signup", server.base))
        .json(&json!({ "organization": "Fresh Co", "email": email, "password": "a long enough password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["organization"]["name"], "Fresh Co");
    assert_eq!(body["role"], "owner");

    // Another organization adds the same person; they switch to it and back.
    let other = server.org("Other Co").await;
    let (status, _) = server
        .post(
            &other.key,
            "/v1/members",
            json!({ "email": email, "role": "member" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let browser = Browser::sign_in(&server, &email, "a long enough password")
        .await
        .unwrap();
    let (status, switched) = browser
        .send(
            Method::POST,
            "/v1/sessions/switch",
            Some(json!({ "org_id": other.id })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{switched}");
    assert_eq!(switched["organization"]["id"], other.id.as_str());
    assert_eq!(switched["role"], "member");
    let (status, _) = browser.send(Method::GET, "/v1/organization", None, false).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old session ended with the switch"
    );
    // Not into an organization one does not belong to.
    let stranger = server.org("Stranger Co").await;
    let again = Browser::sign_in(&server, &email, "a long enough password")
        .await
        .unwrap();
    let (status, _) = again
        .send(
            Method::POST,
            "/v1/sessions/switch",
            Some(json!({ "org_id": stranger.id })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
