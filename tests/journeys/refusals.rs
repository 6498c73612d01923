use serde_json::Value;

use crate::helpers::*;
use ikrar::db::now;

crate::on_both_backends!(
    out_of_scope_closed_and_unknown_campaigns_are_refused_and_change_nothing,
    a_wrong_name_or_a_stale_document_is_refused,
    a_signed_document_can_no_longer_be_revised
);

async fn out_of_scope_closed_and_unknown_campaigns_are_refused_and_change_nothing(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let budi = app.sign_in(BUDI_NIP, "budi@contoh.go.id").await;
    let response = app
        .sign(
            &budi,
            &app.campaign_id,
            "Budi Santoso",
            &app.document_sha256,
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("tidak berlaku untuk wilayah kerja Anda"));

    let closed = create_campaign(&app.db, "73.71", now() - 10 * 86_400, now() - 86_400);
    let andi = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    let response = app
        .sign(
            &andi,
            &closed,
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256,
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("sedang tidak dibuka"));

    let response = app
        .sign(
            &andi,
            "tidakada",
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256,
        )
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(app.count("certificates"), 0);
}

async fn a_wrong_name_or_a_stale_document_is_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    let response = app
        .sign(&token, &app.campaign_id, "Andi Nurul", &app.document_sha256)
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "full_name");

    let response = app
        .sign(
            &token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &"0".repeat(64),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("versi dokumen"));

    let response = app
        .api
        .post(app.url(&format!("/api/v1/campaigns/{}/signatures", app.campaign_id)))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "full_name": "Andi Nurul Hidayah, S.Pd.", "document_sha256": app.document_sha256, "accept": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let response = app
        .api
        .post(app.url(&format!("/api/v1/campaigns/{}/signatures", app.campaign_id)))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"full_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(app.count("certificates"), 0);
}

async fn a_signed_document_can_no_longer_be_revised(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    let revised =
        ikrar::domain::PactDocument::parse("# Pakta Baru\n\n- [ ] Bersikap netral.\n").unwrap();
    // Before anyone signs, a new version replaces the text.
    let v2 = ikrar::db::campaigns::revise_document(
        &mut app.db.write().unwrap(),
        &app.campaign_id,
        &revised,
    )
    .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        app.sign(
            &token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256
        )
        .await
        .status(),
        409
    );
    assert_eq!(
        app.sign(
            &token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &v2.sha256
        )
        .await
        .status(),
        201
    );
    let again = ikrar::db::campaigns::revise_document(
        &mut app.db.write().unwrap(),
        &app.campaign_id,
        &ikrar::domain::PactDocument::default_pact(),
    );
    assert!(matches!(
        again,
        Err(ikrar::db::campaigns::DocumentChangeError::Frozen)
    ));
}
