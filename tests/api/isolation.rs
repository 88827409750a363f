//! Tenant isolation: a credential of organization A never reads or changes B's data.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, TestServer, code};

on_both_databases!(a_key_of_one_organization_cannot_touch_another);

async fn a_key_of_one_organization_cannot_touch_another(backend: Backend) {
    let server = TestServer::start(backend).await;
    let a = server.org("Alpha").await;
    let b = server.org("Beta").await;
    let b_project = server.project(&b.key, "Secret plans").await;
    let b_task = server.task(&b.key, &b_project, "Secret task").await;
    let b_task = b_task["id"].as_str().unwrap();
    server.project(&a.key, "Alpha's own").await;

    let attempts = [
        (Method::GET, format!("/v1/projects/{b_project}"), None),
        (
            Method::PATCH,
            format!("/v1/projects/{b_project}"),
            Some(json!({ "name": "pwned" })),
        ),
        (Method::POST, format!("/v1/projects/{b_project}/archive"), None),
        (Method::GET, format!("/v1/tasks/{b_task}"), None),
        (
            Method::PATCH,
            format!("/v1/tasks/{b_task}"),
            Some(json!({ "title": "pwned" })),
        ),
        (Method::POST, format!("/v1/tasks/{b_task}/complete"), None),
        (
            Method::POST,
            "/v1/tasks".to_owned(),
            Some(json!({ "project_id": b_project, "title": "planted" })),
        ),
        (
            Method::PATCH,
            format!("/v1/members/{}", b.owner_id),
            Some(json!({ "role": "member" })),
        ),
        (Method::DELETE, format!("/v1/members/{}", b.owner_id), None),
    ];
    for (method, path, body) in attempts {
        let (status, err) = server.call(&a.key, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} answered {err}");
        assert_eq!(code(&err), "not_found");
    }

    // A's lists hold only A's things.
    let (_, projects) = server.get(&a.key, "/v1/projects?status=all").await;
    let names: Vec<_> = projects["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("Alpha's own")]);
    let (_, tasks) = server
        .get(&a.key, &format!("/v1/tasks?project_id={b_project}"))
        .await;
    assert!(tasks["data"].as_array().unwrap().is_empty());
    assert_eq!(server.event_kinds(&a.key).await, ["project.created"]);
    let (_, members) = server.get(&a.key, "/v1/members").await;
    assert_eq!(members["data"].as_array().unwrap().len(), 1);

    // And B's data is unchanged.
    let (_, project) = server.get(&b.key, &format!("/v1/projects/{b_project}")).await;
    assert_eq!(project["name"], "Secret plans");
    assert_eq!(project["status"], "active");
    let (_, task) = server.get(&b.key, &format!("/v1/tasks/{b_task}")).await;
    assert_eq!(
        (task["title"].as_str(), task["status"].as_str()),
        (Some("Secret task"), Some("open"))
    );
    let (_, tasks) = server.get(&b.key, "/v1/tasks").await;
    assert_eq!(tasks["data"].as_array().unwrap().len(), 1);
}
