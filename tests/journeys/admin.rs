//! Administrators act on their own people and no one else's. The matrix runs every admin route
//! for every role against a target inside and one outside the role's scope, and checks the exact
//! status and that nothing personal from outside the scope appears in the answer.

use ikrar::db::now;
use ikrar::domain::LoginId;
use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    every_admin_route_for_every_role_inside_and_outside_its_scope,
    a_regency_admin_revokes_a_certificate_and_the_employee_signs_again,
    a_forged_csrf_token_is_refused_and_changes_nothing,
    guessing_a_sign_in_code_is_stopped,
    an_admin_turns_on_an_authenticator_and_needs_it_to_sign_in,
    an_altered_audit_row_is_found_by_audit_verify,
);

/// (role, scope, agency, sees Rizal in 73.71.02 and Hasnah in 73.71.03)
const ROLES: [(&str, &str, Option<&str>, bool); 6] = [
    ("nasional", "ID", None, true),
    ("provinsi", "73", None, true),
    ("kabupaten", "73.71", None, true),
    ("kecamatan", "73.71.01", None, false),
    ("desa", "73.71.01.1001", None, false),
    ("instansi", "73.71", Some("Dinas Pendidikan"), false),
];

const NEW_ROSTER_HEADER: &str =
    "nip,nik,full_name,position,agency,unit,employee_type,village_code,email\n";

async fn certificate_of(
    app: &TestApp,
    id: &str,
    email: &str,
    name: &str,
    campaign: &str,
) -> String {
    let token = app.sign_in(id, email).await;
    let answer = app.sign(&token, campaign, name, &app.document_sha256).await;
    assert!(answer.status().is_success());
    answer.json::<Value>().await.unwrap()["certificate_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn upload(b: &reqwest::Client, app: &TestApp, csrf: &str, csv: String) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_string())
        .part(
            "berkas",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("pegawai.csv"),
        );
    b.post(app.url("/admin/daftar-pegawai"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn roster_row(nik: &str, village: &str, agency: &str) -> String {
    format!(
        "{NEW_ROSTER_HEADER},{nik},Pegawai Baru,Pramu Bakti,{agency},Bagian Umum,PPNPN,{village},\n"
    )
}

async fn every_admin_route_for_every_role_inside_and_outside_its_scope(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let jakarta = create_campaign(&app.db, "31", now() - 86_400, now() + 86_400);
    let andi_token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    let first = app
        .sign(
            &andi_token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256,
        )
        .await;
    let mut andi = first.json::<Value>().await.unwrap()["certificate_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rizal = certificate_of(
        &app,
        RIZAL_NIP,
        "rizal@contoh.go.id",
        "Muhammad Rizal",
        &app.campaign_id,
    )
    .await;
    let budi = certificate_of(
        &app,
        BUDI_NIP,
        "budi@contoh.go.id",
        "Budi Santoso",
        &jakarta,
    )
    .await;
    let budi_masked = LoginId::parse(BUDI_NIP).unwrap().masked();
    let unknown = "AAAAAAAAAAAAAAAA";

    let wrong = std::cell::RefCell::new(Vec::<String>::new());
    for (n, (role, scope, agency, sees_whole_city)) in ROLES.into_iter().enumerate() {
        let national = role == "nasional";
        let email = format!("admin{n}@contoh.go.id");
        add_admin(&app, &email, role, scope, agency);
        let (b, csrf) = admin_browser(&app, &email, None).await;
        let check = |what: &str, status: u16, expected: u16, body: &str, secrets: &[&str]| {
            if status != expected {
                wrong
                    .borrow_mut()
                    .push(format!("{role}: {what}: {status}, expected {expected}"));
            }
            for secret in secrets {
                if body.contains(secret) {
                    wrong
                        .borrow_mut()
                        .push(format!("{role}: {what}: answer shows {secret:?}"));
                }
            }
        };
        let get = |path: String| {
            let b = b.clone();
            let url = app.url(&path);
            async move {
                let r = b.get(url).send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.text().await.unwrap_or_default())
            }
        };
        // Personal data of people outside this role's scope, which must never appear.
        let mut outside: Vec<&str> = Vec::new();
        if !national {
            outside.extend(["Budi Santoso", BUDI_NIP, budi_masked.as_str()]);
        }
        if !sees_whole_city {
            outside.extend(["Muhammad Rizal", RIZAL_NIP, "Wa Ode Sitti Hasnah"]);
        }

        let (s, body) = get("/admin".into()).await;
        check("home", s, 200, &body, &outside);
        let (s, body) = get(format!("/admin/kampanye/{}/belum", app.campaign_id)).await;
        check("unsigned list, own campaign", s, 200, &body, &outside);
        if sees_whole_city && !body.contains("Wa Ode Sitti Hasnah") {
            wrong
                .borrow_mut()
                .push(format!("{role}: unsigned list misses Hasnah"));
        }
        let (s, body) = get(format!("/admin/kampanye/{}/belum.csv", app.campaign_id)).await;
        check("unsigned csv", s, 200, &body, &outside);
        let (s, _) = get(format!("/admin/kampanye/{}/belum.xlsx", app.campaign_id)).await;
        check("unsigned xlsx", s, 200, "", &[]);
        let (s, body) = get(format!("/admin/kampanye/{jakarta}/belum")).await;
        check(
            "unsigned list, Jakarta campaign",
            s,
            if national { 200 } else { 404 },
            &body,
            &outside,
        );
        let (s, body) = get(format!("/admin/kampanye/{jakarta}/belum.csv")).await;
        check(
            "unsigned csv, Jakarta campaign",
            s,
            if national { 200 } else { 404 },
            &body,
            &outside,
        );
        let (s, body) = get(format!(
            "/admin/kampanye/{}/belum?area=31.71",
            app.campaign_id
        ))
        .await;
        check(
            "unsigned list, area outside",
            s,
            if national { 400 } else { 403 },
            &body,
            &outside,
        );

        let (s, body) = get(format!("/admin/sertifikat/{andi}")).await;
        check("certificate inside", s, 200, &body, &outside);
        let (s, body_budi) = get(format!("/admin/sertifikat/{budi}")).await;
        check(
            "certificate in Jakarta",
            s,
            if national { 200 } else { 404 },
            &body_budi,
            &outside,
        );
        let (s, body) = get(format!("/admin/sertifikat/{rizal}")).await;
        check(
            "certificate of Rizal",
            s,
            if sees_whole_city { 200 } else { 404 },
            &body,
            &outside,
        );
        let (s, body_unknown) = get(format!("/admin/sertifikat/{unknown}")).await;
        check("unknown certificate", s, 404, &body_unknown, &[]);
        if !national && body_budi != body_unknown {
            wrong.borrow_mut().push(format!(
                "{role}: an outside certificate answers unlike an unknown one"
            ));
        }
        let revoke = |id: String| {
            let b = b.clone();
            let url = app.url(&format!("/admin/sertifikat/{id}/cabut"));
            let csrf = csrf.clone();
            async move {
                let r = b
                    .post(url)
                    .form(&[
                        ("reason", "lainnya"),
                        ("note", "uji"),
                        ("csrf", csrf.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap_or_default())
            }
        };
        if !national {
            let (s, body) = revoke(budi.clone()).await;
            check("revoke in Jakarta", s, 404, &body, &outside);
        }
        let (s, body) = revoke(andi.clone()).await;
        check("revoke inside", s, 303, &body, &outside);
        // Andi signs again, so the next role has a standing certificate to act on.
        let again = app
            .sign(
                &andi_token,
                &app.campaign_id,
                "Andi Nurul Hidayah, S.Pd.",
                &app.document_sha256,
            )
            .await;
        andi = again.json::<Value>().await.unwrap()["certificate_id"]
            .as_str()
            .unwrap()
            .to_string();

        let (s, body) = get("/admin/audit".into()).await;
        check("audit trail", s, 200, &body, &outside);
        let (s, body) = get("/admin/tim".into()).await;
        check("team page", s, 200, &body, &[]);
        let (s, _) = get("/admin/daftar-pegawai".into()).await;
        check("roster page", s, 200, "", &[]);

        let open_campaign = |scope: &'static str| {
            let b = b.clone();
            let url = app.url("/admin/kampanye");
            let csrf = csrf.clone();
            async move {
                b.post(url)
                    .form(&[
                        ("title", "Kampanye uji"),
                        ("scope", scope),
                        ("opens", "2026-12-01T08:00"),
                        ("closes", "2026-12-31T16:00"),
                        ("csrf", csrf.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let own = if national { "ID" } else { scope };
        let s = open_campaign(own).await;
        check(
            "campaign for own area",
            s,
            if agency.is_some() { 403 } else { 303 },
            "",
            &[],
        );
        let s = open_campaign("31.71").await;
        check(
            "campaign in Jakarta",
            s,
            if national { 303 } else { 403 },
            "",
            &[],
        );

        let invite = |role: &'static str, scope: String, agency: &'static str, email: String| {
            let b = b.clone();
            let url = app.url("/admin/tim");
            let csrf = csrf.clone();
            async move {
                b.post(url)
                    .form(&[
                        ("full_name", "Admin Undangan"),
                        ("email", email.as_str()),
                        ("role", role),
                        ("scope", scope.as_str()),
                        ("agency", agency),
                        ("csrf", csrf.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let (inside_scope, inside_agency) = match agency {
            Some(a) => ("73.71.01".to_string(), a),
            None => (scope.to_string(), "Dinas Uji"),
        };
        let s = invite(
            "instansi",
            inside_scope,
            if inside_agency == "Dinas Pendidikan" {
                "Dinas Pendidikan"
            } else {
                "Dinas Uji"
            },
            format!("undangan{n}@contoh.go.id"),
        )
        .await;
        check("invite inside", s, 303, "", &[]);
        let s = invite(
            role,
            scope.to_string(),
            "",
            format!("setara{n}@contoh.go.id"),
        )
        .await;
        let same_expected = if agency.is_some() { 400 } else { 403 };
        check("invite an equal", s, same_expected, "", &[]);
        let s = invite(
            "kabupaten",
            "31.71".into(),
            "",
            format!("jakarta{n}@contoh.go.id"),
        )
        .await;
        check(
            "invite in Jakarta",
            s,
            if national { 303 } else { 403 },
            "",
            &[],
        );

        let before = app.count("employees");
        let nik = format!("73710150019{n}0001");
        let r = upload(
            &b,
            &app,
            &csrf,
            roster_row(&nik, "73.71.01.1001", "Dinas Pendidikan"),
        )
        .await;
        check("roster upload inside", r.status().as_u16(), 200, "", &[]);
        let r = upload(
            &b,
            &app,
            &csrf,
            roster_row(
                &format!("31710150019{n}0001"),
                "31.71.01.1001",
                "Dinas Pendidikan",
            ),
        )
        .await;
        let s = r.status().as_u16();
        let body = r.text().await.unwrap();
        check(
            "roster upload in Jakarta",
            s,
            if national { 200 } else { 422 },
            "",
            &[],
        );
        if !national && !body.contains("baris 2, kolom village_code") {
            wrong
                .borrow_mut()
                .push(format!("{role}: the refused row is not named"));
        }
        // Pulling Rizal from 73.71.02 into this admin's village (tried only where he is outside:
        // a move by a whole-city admin would put him inside everyone else's scope).
        if !sees_whole_city {
            let moved = format!(
            "{NEW_ROSTER_HEADER}{RIZAL_NIP},7371020101900002,Muhammad Rizal,Guru,Dinas Pendidikan,SD,PPPK,73.71.01.1001,rizal@contoh.go.id\n"
        );
            let r = upload(&b, &app, &csrf, moved).await;
            check(
                "roster upload moving Rizal",
                r.status().as_u16(),
                422,
                "",
                &[],
            );
        }
        let added = app.count("employees") - before;
        let expected_added = 1 + i64::from(national);
        if added != expected_added {
            wrong.borrow_mut().push(format!(
                "{role}: {added} employees added, expected {expected_added}"
            ));
        }
    }
    // The Jakarta certificate was never revoked by anyone outside Jakarta.
    let verdict: Value = app.verdict(&budi).await;
    if verdict["status"] != "genuine" {
        wrong
            .borrow_mut()
            .push(format!("Budi's certificate is {}", verdict["status"]));
    }
    let wrong = wrong.into_inner();
    assert!(
        wrong.is_empty(),
        "authorization matrix:\n{}",
        wrong.join("\n")
    );
}

async fn a_regency_admin_revokes_a_certificate_and_the_employee_signs_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    add_admin(
        &app,
        "bkpsdm@makassarkota.go.id",
        "kabupaten",
        "73.71",
        None,
    );
    let (b, csrf) = admin_browser(&app, "bkpsdm@makassarkota.go.id", None).await;

    let page = b
        .get(app.url(&format!("/admin/sertifikat/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Andi Nurul Hidayah"));
    let without_reason = b
        .post(app.url(&format!("/admin/sertifikat/{id}/cabut")))
        .form(&[("reason", ""), ("note", "x"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(without_reason.status(), 400);
    let revoked = b
        .post(app.url(&format!("/admin/sertifikat/{id}/cabut")))
        .form(&[
            ("reason", "data_keliru"),
            ("note", "Unit kerja salah ketik (nota dinas 12/2024)"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 303);

    let verdict: Value = app.verdict(&id).await;
    assert_eq!(verdict["status"], "revoked");
    assert_eq!(verdict["revocation_reason"], "data_keliru");
    assert!(verdict["revoked_at"].is_string());
    let public = app
        .api
        .get(app.url(&format!("/v/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(public.contains("DICABUT") || public.contains("dicabut"));
    assert!(public.contains("Data pegawai pada sertifikat keliru"));
    assert!(
        !public.contains("nota dinas"),
        "the admin's note stays private"
    );

    let again = app
        .sign(
            &token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256,
        )
        .await;
    assert_eq!(again.status(), 201, "the employee may sign again");
    let twice = b
        .post(app.url(&format!("/admin/sertifikat/{id}/cabut")))
        .form(&[("reason", "lainnya"), ("note", "lagi"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 409);

    let trail = b
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(trail.contains("cabut_sertifikat") && trail.contains(&id));
}

async fn a_forged_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    let (b, csrf) = admin_browser(&app, "admin@sulselprov.go.id", None).await;
    let last = if csrf.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &csrf[..42]);
    for token in [forged.as_str(), ""] {
        let r = b
            .post(app.url(&format!("/admin/sertifikat/{id}/cabut")))
            .form(&[("reason", "lainnya"), ("note", "serangan"), ("csrf", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("Muat ulang halaman"));
    }
    // A page of another site posting with the victim's cookies but without the token.
    let r = b
        .post(app.url("/admin/tim"))
        .form(&[
            ("full_name", "Penyusup"),
            ("email", "x@contoh.id"),
            ("role", "kabupaten"),
            ("scope", "73.71"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let verdict: Value = app.verdict(&id).await;
    assert_eq!(verdict["status"], "genuine");
    assert_eq!(app.count("admins"), 1);

    let page = app.api.get(app.url("/admin/masuk")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

async fn guessing_a_sign_in_code_is_stopped(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.address_limits.failed_tries_per_hour = 8;
    })
    .await
    else {
        return;
    };
    assert_eq!(app.request_code(ANDI_NIP).await.status(), 202);
    let code = app.take_code("andi@contoh.go.id").unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let attempt = |c: &str| {
        app.api
            .post(app.url("/api/v1/auth/session"))
            .json(&serde_json::json!({ "id": ANDI_NIP, "code": c }))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(attempt(wrong).await.unwrap().status(), 401);
    }
    assert_eq!(
        attempt(&code).await.unwrap().status(),
        401,
        "after five wrong tries the code is dead, even the right one"
    );
    // Spreading guesses over other identities runs into the limit per client address.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(attempt(wrong).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let r = attempt(wrong).await.unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("Terlalu banyak permintaan"));
}

async fn an_admin_turns_on_an_authenticator_and_needs_it_to_sign_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    add_admin(
        &app,
        "camat@makassarkota.go.id",
        "kecamatan",
        "73.71.01",
        None,
    );
    let (b, csrf) = admin_browser(&app, "camat@makassarkota.go.id", None).await;
    let page = b
        .get(app.url("/admin/autentikator"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "a QR code for the authenticator app");
    let marker = "name=\"secret\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let secret_b32 = &page[start..start + 32];
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap();
    let code = format!(
        "{:06}",
        ikrar::totp::code_at_step(&secret, ikrar::totp::step_at(now()))
    );
    let on = b
        .post(app.url("/admin/autentikator"))
        .form(&[
            ("secret", secret_b32),
            ("code", code.as_str()),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(on.status(), 303);

    // Without the authenticator code the emailed code alone does not open a session.
    let b2 = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf2 = csrf_token(&b2, &app.url("/admin/masuk")).await;
    b2.post(app.url("/admin/masuk"))
        .form(&[("email", "camat@makassarkota.go.id"), ("csrf", &csrf2)])
        .send()
        .await
        .unwrap();
    let emailed = app.take_code("camat@makassarkota.go.id").unwrap();
    let refused = b2
        .post(app.url("/admin/masuk/kode"))
        .form(&[
            ("email", "camat@makassarkota.go.id"),
            ("code", emailed.as_str()),
            ("csrf", &csrf2),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    // The step used to turn it on is spent; the next step's code is accepted (one step of drift).
    let next_step = ikrar::totp::step_at(now()) + 1;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let t = csrf_token(&c, &app.url("/admin/masuk")).await;
    c.post(app.url("/admin/masuk"))
        .form(&[("email", "camat@makassarkota.go.id"), ("csrf", &t)])
        .send()
        .await
        .unwrap();
    let emailed = app.take_code("camat@makassarkota.go.id").unwrap();
    let second = format!("{:06}", ikrar::totp::code_at_step(&secret, next_step));
    let ok = c
        .post(app.url("/admin/masuk/kode"))
        .form(&[
            ("email", "camat@makassarkota.go.id"),
            ("code", emailed.as_str()),
            ("authenticator", second.as_str()),
            ("csrf", &t),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/admin");
}

async fn an_altered_audit_row_is_found_by_audit_verify(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    app.sign_in(RIZAL_NIP, "rizal@contoh.go.id").await;
    let data_dir = app.dir.path().to_str().unwrap().to_string();
    let verify = || {
        let out = ikrar(&[
            "audit",
            "verify",
            "--database-url",
            &app.database_url,
            "--data-dir",
            &data_dir,
        ]);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, out) = verify();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("jejak audit utuh"), "{out}");

    use diesel::connection::SimpleConnection;
    let mut conn = app.db.write().unwrap();
    let refused = conn.batch_execute("UPDATE audit_log SET client_addr = '10.0.0.9' WHERE seq = 2");
    assert!(refused.is_err(), "the database refuses to change the trail");
    let tamper = if backend == Backend::Sqlite {
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET client_addr = '10.0.0.9' WHERE seq = 2;"
    } else {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change; UPDATE audit_log SET client_addr = '10.0.0.9' WHERE seq = 2;"
    };
    conn.batch_execute(tamper).unwrap();
    drop(conn);
    let (code, out) = verify();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entri #2"), "{out}");
}
