//! A sign-in that tells the truth and reveals nothing: the code page says where a code went and
//! who helps, the hourly limit is said plainly and counted per submitted id (known or not), the
//! answers take as long for ids on the roster as for others, no NIP is ever in an address, and
//! behind a proxy a client cannot choose the address the audit trail records.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use ikrar::web::client_address::{ForwardingHeader, TrustedProxies};
use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    the_code_page_says_where_the_code_went_and_who_helps,
    the_hourly_limit_is_said_plainly_and_alike_for_every_id,
    a_code_reaches_the_outbox_in_milliseconds,
    known_and_unknown_ids_are_answered_equally_fast,
    a_spoofed_forwarded_for_changes_neither_the_recorded_address_nor_the_limit,
    forwarding_headers_count_only_from_trusted_proxies_and_as_configured
);

const HELPDESK: &str = "BKD Provinsi Sulawesi Selatan, telepon (0411) 453201";
/// A valid NIP that is not on the roster.
const UNKNOWN_NIP: &str = "198001012005011001";

fn no_digits_run(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 16 {
            return false;
        }
    }
    true
}

fn page_client() -> reqwest::Client {
    client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn the_code_page_says_where_the_code_went_and_who_helps(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.helpdesk = HELPDESK.into()).await else {
        return;
    };
    let answer: Value = app.request_code(UNKNOWN_NIP).await.json().await.unwrap();
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("Jika NIP/NIK tersebut terdaftar")
            && message.contains("alamat surel yang tercatat")
            && message.contains(HELPDESK),
        "{message}"
    );
    assert_eq!(answer["helpdesk"], HELPDESK);

    // The pages: the NIP goes in a form and comes back on the code page, never in an address.
    let b = page_client();
    let csrf = csrf_token(&b, &app.url("/masuk")).await;
    let sent = b
        .post(app.url("/masuk"))
        .form(&[("id", ANDI_NIP), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    let location = sent.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, "/masuk/kode");
    let pending = sent
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("ikrar_masuk="))
        .expect("the id travels in a cookie");
    assert!(pending.contains("HttpOnly") && pending.contains("SameSite=Strict"));
    let page = b.get(app.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("tersebut terdaftar, kode masuk telah dikirim"),
        "{html}"
    );
    assert!(html.contains(HELPDESK));
    let code = app.take_code("andi@contoh.go.id").expect("Andi got a code");
    assert_eq!(app.count("sign_in_jobs"), 0);
    let signed_in = b
        .post(app.url("/masuk/kode"))
        .form(&[("id", ANDI_NIP), ("code", &code), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    // Without the cookie (expired, or the page opened directly) the code page sends you back.
    let fresh = page_client();
    let back = fresh.get(app.url("/masuk/kode")).send().await.unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(back.headers()["location"], "/masuk");

    // The admin pages likewise keep the email address out of every address.
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    let csrf = csrf_token(&b, &app.url("/admin/masuk")).await;
    let sent = b
        .post(app.url("/admin/masuk"))
        .form(&[("email", "admin@sulselprov.go.id"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    assert_eq!(sent.headers()["location"], "/admin/masuk/kode");
    let html = b
        .get(app.url("/admin/masuk/kode"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("admin@sulselprov.go.id") && html.contains(HELPDESK));

    // No link or form on these pages carries an id in its address.
    for page in [
        "/masuk",
        "/masuk/kode",
        "/admin/masuk",
        "/admin/masuk/kode",
        "/",
    ] {
        let html = b
            .get(app.url(page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for attr in html.split(['"', '\'']).filter(|a| a.starts_with('/')) {
            assert!(no_digits_run(attr), "{page} links to {attr}");
            assert!(!attr.contains('@'), "{page} links to {attr}");
        }
    }
}

async fn the_hourly_limit_is_said_plainly_and_alike_for_every_id(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.helpdesk = HELPDESK.into()).await else {
        return;
    };
    for _ in 0..5 {
        assert_eq!(app.request_code(ANDI_NIP).await.status(), 202);
        assert_eq!(app.request_code(UNKNOWN_NIP).await.status(), 202);
    }
    let known = app.request_code(ANDI_NIP).await;
    let unknown = app.request_code(UNKNOWN_NIP).await;
    assert_eq!(known.status(), 429);
    assert_eq!(unknown.status(), 429);
    let known = known.text().await.unwrap();
    assert_eq!(
        known,
        unknown.text().await.unwrap(),
        "the limit reads the same whether or not the id is on the roster"
    );
    let error: Value = serde_json::from_str(&known).unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("sudah diminta 5 kali dalam satu jam terakhir")
            && message.contains("menit lagi")
            && message.contains(HELPDESK),
        "{message}"
    );
    assert_eq!(error["error"]["code"], "too_many_requests");

    // Five codes went out, not six, and the last one works.
    app.codes_settled();
    let letters = std::fs::read_dir(app.outbox()).unwrap().count();
    assert_eq!(letters, 5, "one letter per accepted request");
    // Another id is not held back by Andi's limit.
    assert_eq!(app.request_code(RIZAL_NIP).await.status(), 202);

    // The page says it on the form, with the same words.
    let b = page_client();
    let csrf = csrf_token(&b, &app.url("/masuk")).await;
    let refused = b
        .post(app.url("/masuk"))
        .form(&[("id", ANDI_NIP), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let html = refused.text().await.unwrap();
    assert!(html.contains("sudah diminta 5 kali"), "{html}");

    // The store keeps a keyed hash of each submitted id, never the id.
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id_hash: String,
    }
    let rows: Vec<Row> = diesel::sql_query("SELECT id_hash FROM sign_in_requests")
        .load(&mut *app.db.read().unwrap())
        .unwrap();
    assert_eq!(rows.len(), 11);
    let unkeyed = |text: &str| {
        use sha2::Digest;
        data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(text.as_bytes()))
    };
    assert!(rows.iter().all(|r| r.id_hash.len() == 64
        && !r.id_hash.contains(ANDI_NIP)
        && r.id_hash != unkeyed(ANDI_NIP)
        && r.id_hash != unkeyed(&format!("pegawai:{ANDI_NIP}"))));
    app.codes_settled();
    assert_eq!(app.count("sign_in_jobs"), 0, "handled jobs are gone");

    // Admins: the same limit on the email address typed.
    let csrf = csrf_token(&b, &app.url("/admin/masuk")).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = b
            .post(app.url("/admin/masuk"))
            .form(&[("email", "siapa@contoh.go.id"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let html = r.text().await.unwrap();
            assert!(
                html.contains("alamat surel ini sudah diminta 5 kali"),
                "{html}"
            );
        }
    }
    assert_eq!(statuses, [303, 303, 303, 303, 303, 429]);
}

async fn a_code_reaches_the_outbox_in_milliseconds(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let started = Instant::now();
    assert_eq!(app.request_code(ANDI_NIP).await.status(), 202);
    let answered = started.elapsed();
    wait_for_letter(&app.outbox(), "andi@contoh.go.id");
    let landed = started.elapsed();
    eprintln!(
        "{backend:?}: answered in {:.1} ms, code in the outbox after {:.1} ms",
        answered.as_secs_f64() * 1e3,
        landed.as_secs_f64() * 1e3
    );
    // The drain is woken by the request; without the wake it would look only after 5 s.
    assert!(
        landed < Duration::from_secs(2),
        "the code took {landed:?} to reach the outbox"
    );
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Times `request(known)` and `request(unknown)` alternately, `rounds` times each, so that
/// whatever else the machine does hits both alike; returns the medians in milliseconds.
/// Between requests it waits for the node's drain, whose mail work is not part of the answer
/// but would otherwise land on whichever request comes next.
///
/// On a machine shared with other builds one measurement can land over the bound by chance; a
/// real difference (the 4.6 ms this journey was written against) shows in every one. So up to
/// three are taken, each reported, and the first within 1 ms counts.
async fn medians<F, Fut>(app: &TestApp, rounds: usize, mut request: F) -> (f64, f64)
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = reqwest::StatusCode>,
{
    let mut last = (0.0, 0.0);
    for attempt in 1..=3 {
        last = measure(app, rounds, &mut request).await;
        if alike(last) {
            break;
        }
        eprintln!(
            "measurement {attempt}: median known {:.3} ms, unknown {:.3} ms",
            last.0, last.1
        );
    }
    last
}

/// Whether two medians are equal within the noise: 1 ms, or a tenth of the slower one when a loaded
/// machine stretches every answer (a median of 20 ms moves by 2 ms from one run to the next there).
fn alike((known, unknown): (f64, f64)) -> bool {
    (known - unknown).abs() < f64::max(1.0, 0.1 * known.max(unknown))
}

async fn measure<F, Fut>(app: &TestApp, rounds: usize, request: &mut F) -> (f64, f64)
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = reqwest::StatusCode>,
{
    let mut known = Vec::with_capacity(rounds);
    let mut unknown = Vec::with_capacity(rounds);
    for round in 0..rounds + 10 {
        // Alternate which goes first, so neither always follows the other's leftovers.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_known in order {
            let started = Instant::now();
            let status = request(is_known).await;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            assert!(status.as_u16() < 500, "{status}");
            app.codes_settled();
            // The first rounds warm the connections and caches up.
            if round >= 10 {
                (if is_known { &mut known } else { &mut unknown }).push(ms);
            }
        }
    }
    (median(known), median(unknown))
}

async fn known_and_unknown_ids_are_answered_equally_fast(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.codes_per_id_per_hour = 1_000;
        s.address_limits.code_requests_per_hour = 100_000;
        s.address_limits.failed_tries_per_hour = 100_000;
    })
    .await
    else {
        return;
    };
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    const ROUNDS: usize = 200;
    let mut report = Vec::new();

    let (k, u) = medians(&app, ROUNDS, |known| {
        let id = if known { ANDI_NIP } else { UNKNOWN_NIP };
        let request = app
            .api
            .post(app.url("/api/v1/auth/code"))
            .json(&serde_json::json!({ "id": id }))
            .send();
        async move { request.await.unwrap().status() }
    })
    .await;
    report.push(("/api/v1/auth/code", k, u));

    let (k, u) = medians(&app, ROUNDS, |known| {
        let id = if known { ANDI_NIP } else { UNKNOWN_NIP };
        let request = app
            .api
            .post(app.url("/api/v1/auth/session"))
            .json(&serde_json::json!({ "id": id, "code": "000000" }))
            .send();
        async move { request.await.unwrap().status() }
    })
    .await;
    report.push(("/api/v1/auth/session", k, u));

    let b = page_client();
    let csrf = csrf_token(&b, &app.url("/admin/masuk")).await;
    let (k, u) = medians(&app, ROUNDS, |known| {
        let email = if known {
            "admin@sulselprov.go.id"
        } else {
            "bukan.admin@sulselprov.go.id"
        };
        let request = b
            .post(app.url("/admin/masuk"))
            .form(&[("email", email), ("csrf", csrf.as_str())])
            .send();
        async move { request.await.unwrap().status() }
    })
    .await;
    report.push(("/admin/masuk", k, u));

    for (path, known, unknown) in &report {
        eprintln!(
            "{backend:?} {path}: median known {known:.3} ms, unknown {unknown:.3} ms, \
             difference {:.3} ms ({ROUNDS} each, interleaved)",
            (known - unknown).abs()
        );
    }
    for (path, known, unknown) in report {
        assert!(
            alike((known, unknown)),
            "{path}: median for a known id {known:.3} ms, for an unknown one {unknown:.3} ms"
        );
    }
}

/// The client addresses the audit trail recorded for `action`, oldest first.
fn recorded_addresses(app: &TestApp, action: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        client_addr: String,
    }
    diesel::sql_query(format!(
        "SELECT client_addr FROM audit_log WHERE action = '{action}' ORDER BY seq"
    ))
    .load::<Row>(&mut *app.db.read().unwrap())
    .unwrap()
    .into_iter()
    .map(|r| r.client_addr)
    .collect()
}

async fn wrong_code_via(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    let mut request = app
        .api
        .post(app.url("/api/v1/auth/session"))
        .json(&serde_json::json!({ "id": UNKNOWN_NIP, "code": "000000" }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn code_via(app: &TestApp, id: &str, xff: &str) -> reqwest::Response {
    app.api
        .post(app.url("/api/v1/auth/code"))
        .header("x-forwarded-for", xff)
        .json(&serde_json::json!({ "id": id }))
        .send()
        .await
        .unwrap()
}

async fn a_spoofed_forwarded_for_changes_neither_the_recorded_address_nor_the_limit(
    backend: Backend,
) {
    // The journey plays the reverse proxy on 127.0.0.1: it appends the address it received
    // each request from to whatever X-Forwarded-For the client sent.
    let Some(app) = spawn_app_with(backend, |s| {
        s.trusted_proxies = TrustedProxies::parse("127.0.0.1/32,10.0.0.0/8").unwrap();
        s.address_limits.code_requests_per_hour = 3;
    })
    .await
    else {
        return;
    };
    let client = "198.51.100.20";
    for (spoof, via) in [("6.6.6.6", ""), ("127.0.0.1", ", 10.0.0.7")] {
        let xff = format!("{spoof}, {client}{via}");
        assert_eq!(
            wrong_code_via(&app, &[("x-forwarded-for", &xff)]).await,
            401
        );
    }
    assert_eq!(
        recorded_addresses(&app, "masuk_gagal"),
        [client, client],
        "the audit trail names the client the proxy saw, not the one it claimed"
    );

    // The per-address limit follows the real client whatever it writes on the left.
    let ids = [ANDI_NIP, RIZAL_NIP, HASNAH_NIK, BUDI_NIP];
    let mut statuses = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let r = code_via(&app, id, &format!("203.0.113.{n}, {client}")).await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r
                .text()
                .await
                .unwrap()
                .contains("Terlalu banyak permintaan dari alamat jaringan Anda"));
        }
    }
    assert_eq!(statuses, [202, 202, 202, 429]);
    // Another client behind the same proxy is not held back.
    assert_eq!(
        code_via(&app, BUDI_NIP, "198.51.100.21").await.status(),
        202
    );
    app.codes_settled();
    let requested = recorded_addresses(&app, "kode_diminta");
    assert_eq!(requested.len(), 4);
    assert_eq!(&requested[..3], [client, client, client]);
    assert_eq!(requested[3], "198.51.100.21");
}

async fn forwarding_headers_count_only_from_trusted_proxies_and_as_configured(backend: Backend) {
    // A peer that is not a named proxy: its headers are not read at all.
    let Some(app) = spawn_app_with(backend, |s| {
        s.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
    })
    .await
    else {
        return;
    };
    wrong_code_via(&app, &[("x-forwarded-for", "198.51.100.20")]).await;
    assert_eq!(recorded_addresses(&app, "masuk_gagal"), ["127.0.0.1"]);
    drop(app);

    // Behind a proxy that writes X-Forwarded-For, a `Forwarded` header is the client's own.
    let Some(app) = spawn_app_with(backend, |s| {
        s.trusted_proxies = TrustedProxies::parse("loopback").unwrap();
    })
    .await
    else {
        return;
    };
    wrong_code_via(
        &app,
        &[
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "198.51.100.22"),
        ],
    )
    .await;
    assert_eq!(recorded_addresses(&app, "masuk_gagal"), ["198.51.100.22"]);
    drop(app);

    // Configured for `Forwarded`: read from the right like X-Forwarded-For, which is ignored.
    let Some(app) = spawn_app_with(backend, |s| {
        s.trusted_proxies = TrustedProxies::parse("loopback").unwrap();
        s.forwarding_header = ForwardingHeader::Forwarded;
    })
    .await
    else {
        return;
    };
    wrong_code_via(
        &app,
        &[
            (
                "forwarded",
                "for=6.6.6.6, for=\"198.51.100.23:50312\";proto=https",
            ),
            ("x-forwarded-for", "6.6.6.7"),
        ],
    )
    .await;
    assert_eq!(recorded_addresses(&app, "masuk_gagal"), ["198.51.100.23"]);
}
