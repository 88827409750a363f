//! Projects: create, read, update, archive, and cursor pagination, with their events.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, TestServer, code};

on_both_databases!(
    a_change_whose_event_cannot_be_written_is_not_made,
    pages_cover_every_project_once_newest_first,
    project_lifecycle_writes_its_events,
    created_after_filters_by_time
);

async fn pages_cover_every_project_once_newest_first(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(server.project(&org.key, &format!("Project {n}")).await);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/projects?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let (status, body) = server.get(&org.key, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        for item in body["data"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/projects?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "every project once, newest first");
    assert_eq!(pages, 3);

    // A page boundary does not lose or repeat a project created meanwhile.
    let (_, first) = server.get(&org.key, "/v1/projects?limit=2").await;
    server.project(&org.key, "Newcomer").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = server
        .get(&org.key, &format!("/v1/projects?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second["data"][0]["id"], json!(created[2]));
}

async fn project_lifecycle_writes_its_events(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let id = server.project(&org.key, "Website").await;

    let (status, body) = server
        .call(
            &org.key,
            Method::PATCH,
            &format!("/v1/projects/{id}"),
            Some(json!({ "description": "Spring launch" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Website");
    assert_eq!(body["description"], "Spring launch");

    let (status, body) = server
        .post(&org.key, &format!("/v1/projects/{id}/archive"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "archived");
    assert!(body["archived_at"].is_string());

    // Archiving twice is a conflict and writes no second event.
    let (status, body) = server
        .post(&org.key, &format!("/v1/projects/{id}/archive"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "conflict");

    let (_, active) = server.get(&org.key, "/v1/projects").await;
    assert!(
        active["data"].as_array().unwrap().is_empty(),
        "archived projects leave the default list"
    );
    let (_, archived) = server.get(&org.key, "/v1/projects?status=archived").await;
    assert_eq!(archived["data"][0]["id"], json!(id));

    let (status, body) = server
        .post(&org.key, &format!("/v1/projects/{id}/restore"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "active");
    assert!(body["archived_at"].is_null());

    assert_eq!(
        server.event_kinds(&org.key).await,
        [
            "project.created",
            "project.updated",
            "project.archived",
            "project.restored"
        ]
    );
    let (_, events) = server.get(&org.key, "/v1/events?kind=project.archived").await;
    let event = &events["data"][0];
    assert_eq!(event["subject_id"], json!(id));
    assert_eq!(
        event["payload"]["status"], "archived",
        "the payload is the project after the change"
    );
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
}

async fn created_after_filters_by_time(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let old = server.project(&org.key, "Old").await;
    let (_, old_body) = server.get(&org.key, &format!("/v1/projects/{old}")).await;
    let cutoff = old_body["created_at"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let new = server.project(&org.key, "New").await;
    let (status, body) = server
        .get(&org.key, &format!("/v1/projects?created_after={cutoff}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<_> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, [json!(new)]);
    let (status, body) = server.get(&org.key, "/v1/projects?created_after=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["message"].as_str().unwrap().contains("RFC 3339"));
}

/// The outbox row is written in the change's own transaction: if it cannot be written, the
/// change does not happen either.
async fn a_change_whose_event_cannot_be_written_is_not_made(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let kept = server.project(&org.key, "Kept").await;
    let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
    bazaar::store::query(&rename("events", "events_away"))
        .execute(server.store.writer())
        .await
        .unwrap();

    let (status, body) = server
        .post(&org.key, "/v1/projects", json!({ "name": "Lost?" }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
    );
    let (status, _) = server
        .call(
            &org.key,
            Method::PATCH,
            &format!("/v1/projects/{kept}"),
            Some(json!({ "name": "Renamed?" })),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    bazaar::store::query(&rename("events_away", "events"))
        .execute(server.store.writer())
        .await
        .unwrap();
    let (_, projects) = server.get(&org.key, "/v1/projects").await;
    let names: Vec<_> = projects["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("Kept")],
        "neither the new project nor the rename survived"
    );
    assert_eq!(server.event_kinds(&org.key).await, ["project.created"]);
}
