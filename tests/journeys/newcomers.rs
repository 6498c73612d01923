//! A newcomer's first commands: the demo gives them an admin to sign in as, and a command run in
//! the wrong folder says so instead of making a new, empty deployment there.

use std::process::Command;

use crate::helpers::*;

/// Every command that works on an existing deployment, run where there is none.
#[test]
fn commands_that_need_a_database_refuse_an_empty_data_folder_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("ikrar-data");
    let d = data_dir.to_str().unwrap();
    let commands: [&[&str]; 6] = [
        &[
            "admin",
            "add",
            "--email",
            "a@contoh.go.id",
            "--name",
            "Admin",
            "--role",
            "province",
            "--scope",
            "73",
            "--data-dir",
            d,
        ],
        &[
            "campaign",
            "create",
            "--title",
            "Uji",
            "--scope",
            "73",
            "--opens",
            "2024-01-08T08:00:00+08:00",
            "--closes",
            "2024-02-08T08:00:00+08:00",
            "--data-dir",
            d,
        ],
        &["keys", "rotate", "--data-dir", d],
        &["audit", "verify", "--data-dir", d],
        &["log", "verify", "--data-dir", d],
        &["coverage", "unsigned", "--campaign", "x", "--data-dir", d],
    ];
    for args in commands {
        let out = ikrar(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("folder data {d} belum memuat basis data"))
                && stderr.contains("ikrar serve --data-dir"),
            "{args:?} names the folder and how to create it: {stderr}"
        );
        assert!(
            !data_dir.exists(),
            "{args:?} created nothing: {:?}",
            std::fs::read_dir(&data_dir).map(|d| d.count())
        );
    }
    // Without --data-dir the default folder is meant: run where it does not exist.
    let out = Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["audit", "verify"])
        .current_dir(dir.path())
        .env_remove("IKRAR_DATA_DIR")
        .env_remove("IKRAR_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("folder data ./ikrar-data"));
    assert!(!dir.path().join("ikrar-data").exists());
}

/// `ikrar demo` prints how to sign in as its admin, and that admin can sign in with the code from
/// the outbox and open the admin pages.
#[test]
fn the_demo_prints_an_admin_who_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("demo");
    let (mut child, banner) = crate::helpers::start_demo(&data_dir, 200);
    let admin_line = banner
        .lines()
        .find(|l| l.contains("Admin provinsi"))
        .unwrap_or_else(|| panic!("the banner names the admin: {banner}"));
    let sign_in_page = admin_line
        .split_whitespace()
        .find(|w| w.ends_with("/admin/masuk"));
    let email = admin_line.split_whitespace().last().unwrap();
    let sign_in_page = sign_in_page.expect("the admin line names the sign-in page");

    let b = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = csrf_in(&b.get(sign_in_page).send().unwrap().text().unwrap());
    let sent = b
        .post(sign_in_page)
        .form(&[("email", email), ("csrf", &csrf)])
        .send()
        .unwrap();
    assert_eq!(sent.status(), 303);
    let letter = crate::helpers::wait_for_letter(&data_dir.join("outbox"), email);
    let at = letter.find("Kode masuk ikrar: ").unwrap() + 18;
    let code = &letter[at..at + 6];
    let signed_in = b
        .post(format!("{sign_in_page}/kode"))
        .form(&[
            ("email", email),
            ("code", code),
            ("authenticator", ""),
            ("csrf", &csrf),
        ])
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the demo admin signs in");
    let home = sign_in_page.trim_end_matches("/masuk");
    let page = b.get(home).send().unwrap();
    assert_eq!(page.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}
