//! Several stateless nodes on one PostgreSQL database, as behind a load balancer.

use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::helpers::*;

struct Node {
    child: Child,
    base_url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(app: &TestApp, name: &str) -> Node {
    let data_dir = app.dir.path().join(name);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &app.database_url,
        ])
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--key-file")
        .arg(app.dir.path().join("issuer-key.ed25519"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base_url = announced_address(&mut child);
    Node { child, base_url }
}

/// PostgreSQL only: SQLite is one node's embedded database by design.
#[tokio::test]
async fn two_nodes_on_one_postgresql_database_sign_concurrently() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let nodes = [start_node(&app, "node-a"), start_node(&app, "node-b")];
    let client = reqwest::Client::new();

    // Sessions live in the database: a code requested through node A is redeemed at node B.
    let mut tokens = Vec::new();
    for (id, email, name) in [
        (ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd."),
        (RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal"),
        (HASNAH_NIK, "hasnah@contoh.go.id", "Wa Ode Sitti Hasnah"),
    ] {
        let sent = client
            .post(format!("{}/api/v1/auth/code", nodes[0].base_url))
            .json(&serde_json::json!({ "id": id }))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 202);
        let outbox = app.dir.path().join("node-a/outbox");
        let mail = wait_for_letter(&outbox, email);
        let at = mail.find("Kode masuk ikrar: ").unwrap() + 18;
        let session = client
            .post(format!("{}/api/v1/auth/session", nodes[1].base_url))
            .json(&serde_json::json!({ "id": id, "code": &mail[at..at + 6] }))
            .send()
            .await
            .unwrap();
        assert_eq!(session.status(), 200);
        tokens.push((
            session.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_string(),
            name,
        ));
    }

    // Every employee submits four times at once, twice through each node.
    let mut requests = Vec::new();
    for (token, name) in &tokens {
        for i in 0..4 {
            let url = format!(
                "{}/api/v1/campaigns/{}/signatures",
                nodes[i % 2].base_url,
                app.campaign_id
            );
            let body = serde_json::json!({ "full_name": name, "document_sha256": app.document_sha256, "accept": true });
            requests.push(client.post(url).bearer_auth(token).json(&body).send());
        }
    }
    let mut certificates = std::collections::HashMap::<String, usize>::new();
    let mut created = 0;
    for response in futures_util::future::join_all(requests).await {
        let response = response.unwrap();
        assert!(
            matches!(response.status().as_u16(), 200 | 201),
            "{}",
            response.status()
        );
        created += usize::from(response.status() == 201);
        let id = response.json::<Value>().await.unwrap()["certificate_id"]
            .as_str()
            .unwrap()
            .to_string();
        *certificates.entry(id).or_default() += 1;
    }
    assert_eq!(created, 3, "one new certificate per employee");
    assert_eq!(certificates.len(), 3);
    assert_eq!(app.count("certificates"), 3);

    let mut serials = std::collections::HashSet::new();
    for id in certificates.keys() {
        for node in &nodes {
            let verdict: Value = client
                .get(format!("{}/api/v1/verify/{id}", node.base_url))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                verdict["status"], "genuine",
                "node {} verifies {id}",
                node.base_url
            );
            serials.insert(verdict["certificate_number"].as_i64().unwrap());
        }
    }
    assert_eq!(
        serials.len(),
        3,
        "certificate numbers are unique across nodes"
    );

    // The public log took each certificate exactly once, at dense indices, whichever node issued
    // it; the audit rebuilds the same tree every node's checkpoints sign.
    assert_eq!(app.count("log_entries"), 3);
    crate::public_log::checkpoint_covering(&app, 3).await;
    let audit = Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["log", "verify", "--database-url", &app.database_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}
