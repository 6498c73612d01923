use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    a_bad_nip_gets_a_precise_error_and_sends_nothing,
    the_answer_does_not_tell_who_is_on_the_roster,
    a_wrong_code_is_refused_and_five_tries_use_it_up,
    calls_without_a_session_are_refused
);

async fn a_bad_nip_gets_a_precise_error_and_sends_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.request_code("198502302010012004").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "id");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tanggal lahir pada NIP (19850230)"));

    let response = app.request_code("12345").await;
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("NIP harus 18 angka atau NIK 16 angka"));
    assert!(app.outbox_is_empty());
}

async fn the_answer_does_not_tell_who_is_on_the_roster(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let known = app.request_code(ANDI_NIP).await;
    let unknown = app.request_code("198001012005011001").await;
    assert_eq!(known.status(), 202);
    assert_eq!(unknown.status(), 202);
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(app.take_code("andi@contoh.go.id").is_some());
    assert!(
        app.outbox_is_empty(),
        "nothing was sent for the unknown NIP"
    );
}

async fn a_wrong_code_is_refused_and_five_tries_use_it_up(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    assert_eq!(app.request_code(ANDI_NIP).await.status(), 202);
    let code = app.take_code("andi@contoh.go.id").unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let attempt = |code: &str| {
        app.api
            .post(app.url("/api/v1/auth/session"))
            .json(&serde_json::json!({ "id": ANDI_NIP, "code": code }))
            .send()
    };
    for _ in 0..5 {
        let response = attempt(wrong).await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "wrong_code");
    }
    assert_eq!(
        attempt(&code).await.unwrap().status(),
        401,
        "the right code no longer works after five tries"
    );
    assert_eq!(app.count("sessions"), 0);

    // A fresh code works once, and only once.
    assert_eq!(app.request_code(ANDI_NIP).await.status(), 202);
    let code = app.take_code("andi@contoh.go.id").unwrap();
    assert_eq!(attempt(&code).await.unwrap().status(), 200);
    assert_eq!(attempt(&code).await.unwrap().status(), 401);
}

async fn calls_without_a_session_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app.api.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let response = app
        .api
        .get(app.url("/api/v1/me"))
        .bearer_auth("forged-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = app
        .api
        .get(app.url("/api/v1/certificates/AAAAAAAAAAAAAAAA.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
