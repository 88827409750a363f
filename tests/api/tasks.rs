//! Tasks: their lifecycle, validation and filters.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, TestServer, code};

on_both_databases!(
    task_lifecycle_and_events,
    task_input_is_validated,
    tasks_filter_by_project_and_status,
    archived_project_freezes_its_tasks
);

async fn task_lifecycle_and_events(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let project = server.project(&org.key, "Website").await;
    let (status, task) = server
        .post(
            &org.key,
            "/v1/tasks",
            json!({
                "project_id": project, "title": "Write copy", "labels": ["writing", "writing", "web"],
                "due_date": "2026-12-31"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["status"], "open");
    assert_eq!(
        task["labels"],
        json!(["writing", "web"]),
        "duplicate labels are folded"
    );
    let id = task["id"].as_str().unwrap();

    let (status, body) = server
        .call(
            &org.key,
            Method::PATCH,
            &format!("/v1/tasks/{id}"),
            Some(json!({ "due_date": null, "title": "Write the copy" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["due_date"].is_null(), "explicit null clears the date");
    assert_eq!(body["title"], "Write the copy");
    assert_eq!(
        body["labels"],
        json!(["writing", "web"]),
        "absent fields keep their value"
    );

    let (status, body) = server
        .post(&org.key, &format!("/v1/tasks/{id}/complete"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "completed");
    assert!(body["completed_at"].is_string());
    let (status, body) = server
        .post(&org.key, &format!("/v1/tasks/{id}/complete"), json!({}))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "conflict"));
    let (status, body) = server
        .post(&org.key, &format!("/v1/tasks/{id}/reopen"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["completed_at"].is_null());

    assert_eq!(
        server.event_kinds(&org.key).await,
        [
            "project.created",
            "task.created",
            "task.updated",
            "task.completed",
            "task.reopened"
        ]
    );
}

async fn task_input_is_validated(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let project = server.project(&org.key, "Website").await;
    let cases = [
        (json!({ "project_id": project, "title": "  " }), "title"),
        (
            json!({ "project_id": project, "title": "x", "due_date": "31/12/2026" }),
            "due_date",
        ),
        (
            json!({ "project_id": project, "title": "x", "labels": vec!["l"; 21] }),
            "20 labels",
        ),
        (
            json!({ "project_id": project, "title": "x".repeat(501) }),
            "500 characters",
        ),
    ];
    for (body, mentions) in cases {
        let (status, err) = server.post(&org.key, "/v1/tasks", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(code(&err), "invalid_request");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(mentions),
            "{err} should mention {mentions}"
        );
    }
    let (status, err) = server
        .post(
            &org.key,
            "/v1/tasks",
            json!({ "project_id": "prj_nope", "title": "x" }),
        )
        .await;
    assert_eq!((status, code(&err)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(
        server.event_kinds(&org.key).await,
        ["project.created"],
        "refused changes write no event"
    );
}

async fn tasks_filter_by_project_and_status(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let a = server.project(&org.key, "A").await;
    let b = server.project(&org.key, "B").await;
    let a1 = server.task(&org.key, &a, "a1").await;
    server.task(&org.key, &a, "a2").await;
    server.task(&org.key, &b, "b1").await;
    server
        .post(
            &org.key,
            &format!("/v1/tasks/{}/complete", a1["id"].as_str().unwrap()),
            json!({}),
        )
        .await;

    let titles = |body: serde_json::Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, body) = server.get(&org.key, &format!("/v1/tasks?project_id={a}")).await;
    assert_eq!(titles(body), ["a2", "a1"]);
    let (_, body) = server
        .get(&org.key, &format!("/v1/tasks?project_id={a}&status=open"))
        .await;
    assert_eq!(titles(body), ["a2"]);
    let (_, body) = server.get(&org.key, "/v1/tasks?status=completed").await;
    assert_eq!(titles(body), ["a1"]);
    let (status, _) = server.get(&org.key, "/v1/tasks?status=done").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn archived_project_freezes_its_tasks(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.org("Acme").await;
    let project = server.project(&org.key, "Old").await;
    let task = server.task(&org.key, &project, "Leftover").await;
    server
        .post(&org.key, &format!("/v1/projects/{project}/archive"), json!({}))
        .await;
    let (status, body) = server
        .post(
            &org.key,
            "/v1/tasks",
            json!({ "project_id": project, "title": "New" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("restore"));
    let id = task["id"].as_str().unwrap();
    let (status, _) = server
        .post(&org.key, &format!("/v1/tasks/{id}/complete"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}
