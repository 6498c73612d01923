//! The journey a civil servant makes on a phone, without JavaScript: form posts and redirects.

use crate::helpers::*;

crate::on_both_backends!(an_employee_signs_through_the_pages_without_javascript);

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

async fn an_employee_signs_through_the_pages_without_javascript(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let b = &app.browser;

    let home = b
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Masuk untuk menandatangani"));
    let csrf = csrf_token(b, &app.url("/masuk")).await;
    let csrf = csrf.as_str();

    let bad = b
        .post(app.url("/masuk"))
        .form(&[("id", "12"), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("NIP harus 18 angka atau NIK 16 angka"));

    let sent = b
        .post(app.url("/masuk"))
        .form(&[("id", "19850330 201001 2 004"), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    // The NIP travels in an HttpOnly cookie, never in an address.
    assert_eq!(location(&sent), "/masuk/kode");
    let code_page = b.get(app.url("/masuk/kode")).send().await.unwrap();
    assert_eq!(code_page.status(), 200);
    assert!(code_page.text().await.unwrap().contains(ANDI_NIP));
    let code = app.take_code("andi@contoh.go.id").unwrap();

    let wrong = b
        .post(app.url("/masuk/kode"))
        .form(&[("id", ANDI_NIP), ("code", "99999"), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("Kode salah"));

    let signed_in = b
        .post(app.url("/masuk/kode"))
        .form(&[("id", ANDI_NIP), ("code", code.as_str()), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/pakta");
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));

    let list = b
        .get(app.url("/pakta"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Belum ditandatangani")
            && list.contains(&format!("/pakta/{}", app.campaign_id))
    );

    let form = b
        .get(app.url(&format!("/pakta/{}", app.campaign_id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let commitments = form.matches("type=\"checkbox\"").count();
    assert_eq!(
        commitments, 14,
        "every commitment of the default pact is ticked one by one"
    );

    let mut fields: Vec<(String, String)> = vec![
        ("document_sha256".into(), app.document_sha256.clone()),
        ("full_name".into(), "Andi Nurul Hidayah, S.Pd.".into()),
        ("csrf".into(), csrf.into()),
    ];
    fields.extend((0..commitments - 1).map(|i| (format!("c{i}"), "1".into())));
    let missing_one = b
        .post(app.url(&format!("/pakta/{}", app.campaign_id)))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(missing_one.status(), 400);
    let html = missing_one.text().await.unwrap();
    assert!(
        html.contains("Centang setiap butir") && html.contains("Butir yang belum dicentang: 14.")
    );
    assert_eq!(
        html.matches(" checked").count(),
        commitments - 1,
        "the ticks already made are kept"
    );
    assert_eq!(app.count("certificates"), 0);

    fields.push((format!("c{}", commitments - 1), "1".into()));
    let done = b
        .post(app.url(&format!("/pakta/{}", app.campaign_id)))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let certificate_page = location(&done);
    assert!(certificate_page.starts_with("/sertifikat/"));

    let page = b
        .get(app.url(&certificate_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Penandatanganan berhasil") && page.contains("Unduh sertifikat (PDF)"));
    let pdf = b
        .get(app.url(&format!("{certificate_page}.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");

    // Another browser, not signed in, cannot fetch the PDF (it carries the full NIP).
    let stranger = app
        .api
        .get(app.url(&format!("{certificate_page}.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);

    let out = b
        .post(app.url("/keluar"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = b.get(app.url("/pakta")).send().await.unwrap();
    assert_eq!(after.status(), 303);
    assert_eq!(location(&after), "/masuk");
}
