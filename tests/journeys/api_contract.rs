//! The API's error contract (docs/api.md), walked case by case as a client sees it: every
//! `/api/v1` refusal is JSON of one shape, with the documented status and headers; answers with
//! personal data are never cached; an unreachable database is a 503 with `Retry-After`.

use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    every_api_refusal_has_the_documented_status_and_json_shape,
    personal_answers_are_never_cached,
    a_form_upload_has_a_limit_on_every_field,
    an_unreachable_database_is_answered_503_with_retry_after,
);

/// Asserts the JSON error shape and returns the answer's headers and error object.
async fn refusal(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> (reqwest::header::HeaderMap, Value) {
    let url = response.url().to_string();
    assert_eq!(response.status(), status, "{url}");
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{url}: {content_type}"
    );
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["code"], code, "{url}: {body}");
    let message = error["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "{url}: a message for people: {body}");
    assert!(
        error.as_object().unwrap().contains_key("field"),
        "{url}: {body}"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "{url}: nothing beside the error: {body}"
    );
    (headers, error.clone())
}

async fn every_api_refusal_has_the_documented_status_and_json_shape(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let c = &app.api;

    // An address the API does not have: JSON 404, not the HTML error page.
    let r = c.get(app.url("/api/v1/nothing")).send().await.unwrap();
    refusal(r, 404, "not_found").await;
    let r = c
        .get(app.url("/api/v1/certificates/not-an-id.pdf"))
        .send()
        .await
        .unwrap();
    refusal(r, 404, "not_found").await;
    // A method a route lacks is an address the API does not have: 404, JSON too.
    let r = c.delete(app.url("/api/v1/me")).send().await.unwrap();
    refusal(r, 404, "not_found").await;

    // A malformed query: 400 naming the problem, not text/plain "Query deserialize error".
    let r = c.get(app.url("/api/v1/coverage")).send().await.unwrap();
    let (_, error) = refusal(r, 400, "invalid_input").await;
    assert!(
        error["message"].as_str().unwrap().contains("campaign"),
        "{error}"
    );
    let r = c
        .get(app.url(&format!(
            "/api/v1/coverage?campaign={}&area=bukan-kode",
            app.campaign_id
        )))
        .send()
        .await
        .unwrap();
    refusal(r, 400, "invalid_input").await;

    // JSON bodies: over the 16 KB limit is 413 as documented; malformed is 400.
    let big = serde_json::json!({ "id": "1".repeat(20_000) });
    let r = c
        .post(app.url("/api/v1/auth/code"))
        .json(&big)
        .send()
        .await
        .unwrap();
    let (_, error) = refusal(r, 413, "payload_too_large").await;
    assert!(
        error["message"].as_str().unwrap().contains("16 KB"),
        "{error}"
    );
    let r = c
        .post(app.url("/api/v1/auth/code"))
        .header("content-type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    refusal(r, 400, "invalid_input").await;
    let r = c
        .post(app.url("/api/v1/auth/code"))
        .header("content-type", "text/plain")
        .body("198503302010012004")
        .send()
        .await
        .unwrap();
    refusal(r, 400, "invalid_input").await;
    let r = c
        .post(app.url("/api/v1/auth/code"))
        .json(&serde_json::json!({ "id": "12345" }))
        .send()
        .await
        .unwrap();
    let (_, error) = refusal(r, 400, "invalid_input").await;
    assert_eq!(error["field"], "id");

    // No session, a wrong code, an unknown campaign.
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    refusal(r, 401, "unauthorized").await;
    let r = c
        .post(app.url("/api/v1/auth/session"))
        .json(&serde_json::json!({ "id": ANDI_NIP, "code": "000000" }))
        .send()
        .await
        .unwrap();
    refusal(r, 401, "wrong_code").await;
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    let r = app
        .sign(
            &token,
            "tidakada",
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256,
        )
        .await;
    refusal(r, 404, "not_found").await;
    let r = app
        .sign(&token, &app.campaign_id, "Orang Lain", &app.document_sha256)
        .await;
    let (_, error) = refusal(r, 400, "invalid_input").await;
    assert_eq!(error["field"], "full_name");

    // The page side keeps its HTML error page.
    let r = c.get(app.url("/tidak-ada")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

async fn personal_answers_are_never_cached(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let no_store = |r: &reqwest::Response| {
        assert_eq!(
            r.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_string()),
            Some("no-store".to_string()),
            "{}",
            r.url()
        );
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap();
    for path in [
        "/api/v1/me".to_string(),
        format!("/api/v1/certificates/{id}.pdf"),
    ] {
        let r = app
            .api
            .get(app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        no_store(&r);
    }
    // The session answer carries the token itself.
    assert_eq!(app.request_code(RIZAL_NIP).await.status(), 202);
    let code = app.take_code("rizal@contoh.go.id").unwrap();
    let r = app
        .api
        .post(app.url("/api/v1/auth/session"))
        .json(&serde_json::json!({ "id": RIZAL_NIP, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    no_store(&r);

    // Pages with a person's data, through the browser's cookie.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/pakta".to_string(),
        format!("/pakta/{}", app.campaign_id),
        format!("/sertifikat/{id}"),
        format!("/sertifikat/{id}.pdf"),
    ] {
        let r = browser
            .get(app.url(&path))
            .header("cookie", format!("ikrar_sesi={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        no_store(&r);
    }

    // An admin's export of who has not signed yet.
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    let (admin, _) = admin_browser(&app, "admin@sulselprov.go.id", None).await;
    for format in ["csv", "xlsx"] {
        let path = format!("/admin/kampanye/{}/belum.{format}", app.campaign_id);
        let r = admin.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        no_store(&r);
    }

    // Public answers keep their own caching.
    let r = app
        .api
        .get(app.url(&format!("/api/v1/verify/{id}")))
        .send()
        .await
        .unwrap();
    assert_ne!(
        r.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
}

/// `/v` takes one PDF; every other field of its form is read only as far as a real form of ours
/// could reach, and the person is told what was too large.
async fn a_form_upload_has_a_limit_on_every_field(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Small enough that the client has sent it all when the refusal comes.
    let form = reqwest::multipart::Form::new()
        .text("catatan", "x".repeat(64 * 1024))
        .part(
            "berkas",
            reqwest::multipart::Part::bytes(b"%PDF-1.7".to_vec()).file_name("a.pdf"),
        );
    let r = app
        .api
        .post(app.url("/v"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("terlalu panjang") && page.contains("catatan"),
        "{page}"
    );

    let mut form = reqwest::multipart::Form::new();
    for n in 0..20 {
        form = form.text(format!("isian{n}"), "x");
    }
    let r = app
        .api
        .post(app.url("/v"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("terlalu banyak isian"));
}

/// Makes the database refuse this node for a while: on SQLite a writer of another process holds
/// the file; on PostgreSQL the test database refuses connections and its backends are cut.
/// Dropping the returned guard ends it.
fn make_database_unreachable(app: &TestApp, backend: Backend) -> Box<dyn Send> {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    match backend {
        Backend::Sqlite => {
            let path = app.dir.path().join("ikrar.sqlite3");
            let mut holder = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            holder.batch_execute("BEGIN IMMEDIATE;").unwrap();
            Box::new(holder)
        }
        Backend::Postgres => {
            let name = app.database_url.rsplit('/').next().unwrap().to_string();
            let server = app.database_url.rsplit_once('/').unwrap().0.to_string();
            let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres")).unwrap();
            admin
                .batch_execute(&format!(
                    "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                     SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid();"
                ))
                .unwrap();
            struct Reopen(diesel::PgConnection, String);
            impl Drop for Reopen {
                fn drop(&mut self) {
                    let _ = self.0.batch_execute(&format!(
                        "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                        self.1
                    ));
                }
            }
            Box::new(Reopen(admin, name))
        }
    }
}

async fn an_unreachable_database_is_answered_503_with_retry_after(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.sign_in(RIZAL_NIP, "rizal@contoh.go.id").await;
    let healthz = |app: &TestApp| {
        let url = app.url("/healthz");
        async move { reqwest::get(url).await.unwrap() }
    };
    assert_eq!(healthz(&app).await.status(), 200);

    let outage = make_database_unreachable(&app, backend);
    let started = std::time::Instant::now();
    // SQLite: a write waits out the busy timeout, then is refused; PostgreSQL: every request.
    let r = app.request_code(ANDI_NIP).await;
    let (headers, error) = refusal(r, 503, "unavailable").await;
    let retry_after: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(
        !error["message"].as_str().unwrap().contains("locked"),
        "no database jargon reaches people: {error}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "refused, not hung: {:?}",
        started.elapsed()
    );
    if backend == Backend::Postgres {
        let r = app
            .api
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (headers, _) = refusal(r, 503, "unavailable").await;
        assert!(headers.contains_key("retry-after"));
        let r = healthz(&app).await;
        let (headers, _) = refusal(r, 503, "unavailable").await;
        assert!(headers.contains_key("retry-after"));
    }

    drop(outage);
    let back = std::time::Instant::now();
    while healthz(&app).await.status() != 200 {
        assert!(
            back.elapsed() < std::time::Duration::from_secs(5),
            "/healthz answers 200 within 5 s of the database coming back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // And the node works again without a restart.
    let r = app
        .sign(
            &token,
            &app.campaign_id,
            "Muhammad Rizal",
            &app.document_sha256,
        )
        .await;
    assert_eq!(r.status(), 201);
}
