//! "Masuk dengan SSO" against a real OpenID provider (the npm package oidc-provider, run by
//! tests/oidc/provider.mjs): an employee signs in and signs; a token meant for another client,
//! an expired token, a replayed state and a NIP off the roster are each refused with a page that
//! says why, no session, and a line in the audit trail.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use ikrar::sso::SsoSettings;

use crate::helpers::*;

crate::on_both_backends!(
    an_employee_signs_in_with_sso_and_signs,
    a_token_meant_for_another_client_is_refused,
    an_expired_id_token_is_refused,
    a_replayed_state_is_refused,
    a_nip_off_the_roster_is_refused_by_sso,
    an_admin_signs_in_with_sso_when_the_deployment_allows_it,
);

/// A NIP of valid shape that is not on the test roster.
const STRANGER_NIP: &str = "199203152015032001";

/// The provider process; killed when the journey ends, pass or fail.
struct OidcProvider {
    child: Child,
    stdin: Option<ChildStdin>,
    issuer: String,
}

impl OidcProvider {
    fn start() -> Self {
        let mut child = Command::new("node")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/oidc/provider.mjs"
            ))
            .env("IKRAR_TEST_NODE_MODULES", node_modules())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = port
            .recv_timeout(Duration::from_secs(60))
            .expect("the provider prints its port within a minute");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the provider printed {line:?} instead of its port"));
        Self {
            stdin: child.stdin.take(),
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        }
    }

    fn settings(&self) -> SsoSettings {
        SsoSettings {
            issuer: self.issuer.clone(),
            client_id: "ikrar".into(),
            client_secret: "rahasia-uji".into(),
            nip_claim: "nip".into(),
            scopes: vec!["profile".into(), "email".into()],
            admins: false,
        }
    }

    /// Registers ikrar's return address with the provider, which then starts taking requests.
    fn knows(&mut self, app: &TestApp) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{}", app.url("/masuk/sso/kembali")).unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ikrar with SSO pointing at a fresh provider; `None` when the journey is skipped.
async fn app_with_provider(backend: Backend) -> Option<(TestApp, OidcProvider)> {
    app_with_provider_for(backend, false).await
}

async fn app_with_provider_for(backend: Backend, admins: bool) -> Option<(TestApp, OidcProvider)> {
    if !require(Tool::Node) {
        return None;
    }
    // What ikrar logs about the provider (a refusal's cause) shows with the failing journey.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("ikrar=warn")
        .try_init();
    let mut provider = OidcProvider::start();
    let sso = SsoSettings {
        admins,
        ..provider.settings()
    };
    let app = spawn_app_with(backend, move |s| s.sso = Some(sso)).await?;
    provider.knows(&app);
    Some((app, provider))
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("a redirect, not {}", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// Clicks "Masuk dengan SSO" and signs in at the provider as the account `who` describes (its
/// interaction page's query); returns the address the provider sent the browser back to, and
/// ikrar's answer to it.
async fn through_provider(
    app: &TestApp,
    provider: &OidcProvider,
    who: &str,
) -> (String, reqwest::Response) {
    through_provider_from(&app.browser, app, provider, "/masuk/sso", who).await
}

/// The same, in browser `b` from the page `start`.
async fn through_provider_from(
    b: &reqwest::Client,
    app: &TestApp,
    provider: &OidcProvider,
    start: &str,
    who: &str,
) -> (String, reqwest::Response) {
    let departed = b.get(app.url(start)).send().await.unwrap();
    assert_eq!(departed.status(), 303);
    let authorize = location(&departed);
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    for part in [
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "scope=openid",
    ] {
        assert!(authorize.contains(part), "{part} missing from {authorize}");
    }
    let to_login = b.get(&authorize).send().await.unwrap();
    assert_eq!(to_login.status(), 303, "{}", to_login.text().await.unwrap());
    let interaction = format!("{}{}?{who}", provider.issuer, location(&to_login));
    let logged_in = b.get(&interaction).send().await.unwrap();
    assert_eq!(
        logged_in.status(),
        303,
        "{}",
        logged_in.text().await.unwrap()
    );
    let resumed = b.get(location(&logged_in)).send().await.unwrap();
    assert_eq!(resumed.status(), 303, "{}", resumed.text().await.unwrap());
    let back = location(&resumed);
    assert!(back.starts_with(&app.url("/masuk/sso/kembali?")), "{back}");
    let answer = b.get(&back).send().await.unwrap();
    (back, answer)
}

fn audited(app: &TestApp, condition: &str) -> i64 {
    app.count(&format!("audit_log WHERE {condition}"))
}

/// Nothing half-written: no session, and the browser is still signed out.
async fn still_signed_out(app: &TestApp) {
    assert_eq!(app.count("sessions"), 0);
    let pakta = app.browser.get(app.url("/pakta")).send().await.unwrap();
    assert_eq!(pakta.status(), 303);
    assert_eq!(location(&pakta), "/masuk");
}

async fn an_employee_signs_in_with_sso_and_signs(backend: Backend) {
    let Some((app, provider)) = app_with_provider(backend).await else {
        return;
    };
    let b = &app.browser;
    let page = b.get(app.url("/masuk")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Masuk dengan SSO"));

    let who = format!("nip={ANDI_NIP}&email=andi%40sso.contoh.go.id&name=Andi");
    let (_, answer) = through_provider(&app, &provider, &who).await;
    assert_eq!(answer.status(), 303, "{}", answer.text().await.unwrap());
    assert_eq!(location(&answer), "/pakta");
    assert_eq!(app.count("sessions"), 1);
    assert_eq!(
        audited(&app, "action = 'masuk' AND detail = 'metode=sso'"),
        1,
        "the sign-in is in the audit trail with its method"
    );

    let form = b
        .get(app.url(&format!("/pakta/{}", app.campaign_id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("Andi Nurul Hidayah"));
    let commitments = form.matches("type=\"checkbox\"").count();
    let mut fields: Vec<(String, String)> = vec![
        ("document_sha256".into(), app.document_sha256.clone()),
        ("full_name".into(), "Andi Nurul Hidayah, S.Pd.".into()),
        ("csrf".into(), csrf_in(&form)),
    ];
    fields.extend((0..commitments).map(|i| (format!("c{i}"), "1".into())));
    let signed = b
        .post(app.url(&format!("/pakta/{}", app.campaign_id)))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    let certificate_page = location(&signed);
    let pdf = b
        .get(app.url(&format!("{certificate_page}.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(app.count("certificates"), 1);

    // A node without an identity provider does not offer it.
    let Some(plain) = spawn_app(backend).await else {
        return;
    };
    let page = plain.browser.get(plain.url("/masuk")).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("Masuk dengan SSO"));
    let sso = plain
        .browser
        .get(plain.url("/masuk/sso"))
        .send()
        .await
        .unwrap();
    assert_eq!(sso.status(), 404);
}

/// A refusal: the status, the page's message, no session, and one audit line with the reason.
async fn refused(app: &TestApp, answer: reqwest::Response, status: u16, says: &str, reason: &str) {
    assert_eq!(answer.status(), status);
    let page = answer.text().await.unwrap();
    assert!(page.contains(says), "{says:?} not in {page}");
    assert!(page.contains("Anda belum masuk") || page.contains("Hubungi admin"));
    still_signed_out(app).await;
    assert_eq!(
        audited(
            app,
            &format!("action = 'masuk_gagal' AND detail = 'metode=sso; alasan={reason}'")
        ),
        1
    );
}

async fn a_token_meant_for_another_client_is_refused(backend: Backend) {
    let Some((app, provider)) = app_with_provider(backend).await else {
        return;
    };
    let who = format!("nip={ANDI_NIP}&rusak=audiens");
    let (_, answer) = through_provider(&app, &provider, &who).await;
    refused(
        &app,
        answer,
        403,
        "token ditujukan untuk aplikasi lain",
        "token_tidak_sah",
    )
    .await;
}

async fn an_expired_id_token_is_refused(backend: Backend) {
    let Some((app, provider)) = app_with_provider(backend).await else {
        return;
    };
    let who = format!("nip={ANDI_NIP}&rusak=kedaluwarsa");
    let (_, answer) = through_provider(&app, &provider, &who).await;
    refused(
        &app,
        answer,
        403,
        "token sudah kedaluwarsa",
        "token_tidak_sah",
    )
    .await;
}

async fn a_replayed_state_is_refused(backend: Backend) {
    let Some((app, provider)) = app_with_provider(backend).await else {
        return;
    };
    let who = format!("nip={RIZAL_NIP}");
    let (back, answer) = through_provider(&app, &provider, &who).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(app.count("sessions"), 1);

    // Someone who captured the whole return (address and state cookie) sends it again.
    let state = back
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("state="))
        .unwrap()
        .to_string();
    let replay = client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&back)
        .header("cookie", format!("ikrar_sso={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400);
    assert!(replay
        .text()
        .await
        .unwrap()
        .contains("Permintaan masuk SSO ini tidak berlaku: sudah dipakai"));
    assert_eq!(app.count("sessions"), 1, "no second session");
    assert_eq!(
        audited(
            &app,
            "action = 'masuk_gagal' AND detail = 'metode=sso; alasan=state_tidak_berlaku'"
        ),
        1
    );
}

async fn a_nip_off_the_roster_is_refused_by_sso(backend: Backend) {
    let Some((app, provider)) = app_with_provider(backend).await else {
        return;
    };
    let who = format!("nip={STRANGER_NIP}");
    let (_, answer) = through_provider(&app, &provider, &who).await;
    refused(
        &app,
        answer,
        403,
        "NIP 1992**********2001 tidak terdaftar",
        "nip_tidak_terdaftar",
    )
    .await;
    assert_eq!(
        audited(&app, "target = '1992**********2001'"),
        1,
        "the trail names the masked NIP"
    );
}

async fn an_admin_signs_in_with_sso_when_the_deployment_allows_it(backend: Backend) {
    let Some((app, provider)) = app_with_provider_for(backend, true).await else {
        return;
    };
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    let page = app
        .browser
        .get(app.url("/admin/masuk"))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("/admin/masuk/sso"));

    let stranger = "email=orang%40sulselprov.go.id";
    let (_, answer) =
        through_provider_from(&app.browser, &app, &provider, "/admin/masuk/sso", stranger).await;
    assert_eq!(answer.status(), 403);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("tidak terdaftar sebagai admin ikrar yang aktif"));
    assert_eq!(app.count("sessions"), 0);
    assert_eq!(
        audited(
            &app,
            "action = 'masuk_gagal' AND detail = 'metode=sso; alasan=bukan_admin'"
        ),
        1
    );

    // Another browser: the first one is still signed in at the provider as the stranger.
    let b = client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let admin = "email=admin%40sulselprov.go.id";
    let (_, answer) = through_provider_from(&b, &app, &provider, "/admin/masuk/sso", admin).await;
    assert_eq!(answer.status(), 200);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("Lanjut ke halaman admin"));
    let home = b.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(home.status(), 200, "the admin session works");
    assert_eq!(
        audited(&app, "action = 'masuk' AND detail = 'metode=sso'"),
        1
    );
}
