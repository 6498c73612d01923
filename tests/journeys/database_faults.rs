//! Two nodes on one PostgreSQL ride out what an operator's database does to them: every backend
//! terminated in the middle of a burst of signings, then the server stopped and started again.
//! No node is restarted. Afterwards every acknowledged certificate verifies, coverage equals
//! the certificates, and the public log and the audit chain verify.
//!
//! The journey runs its own throw-away PostgreSQL server (initdb into a temporary directory, a
//! free port): other suites share the machine's server and must never see it restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;

use ikrar::config::Settings;
use ikrar::db::{campaigns, employees, DatabaseUrl, Db};

/// A PostgreSQL server of this test alone, removed when dropped.
struct OwnPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// PostgreSQL refuses to run as root: then every server command runs as `postgres`.
    as_postgres: bool,
}

impl OwnPostgres {
    /// `None` only when `IKRAR_TEST_SKIP` names postgres; missing server binaries fail the test.
    fn start() -> Option<Self> {
        if !crate::helpers::require(crate::helpers::Tool::Postgres) {
            return None;
        }
        let bin = newest_postgres_bin().expect(
            "this test needs PostgreSQL's server binaries under /usr/lib/postgresql: \
             apt-get install -y postgresql (or set IKRAR_TEST_SKIP=postgres)",
        );
        use std::os::unix::fs::MetadataExt;
        let as_postgres = std::fs::metadata("/proc/self").map(|m| m.uid()).ok() == Some(0);
        let dir = tempfile::Builder::new()
            .prefix("ikrar-own-pg-")
            .tempdir()
            .unwrap();
        if as_postgres {
            let chowned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(chowned.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        server.pg_ctl(&["start"]);
        Some(server)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A server program, run as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl` with the options of this server; `-m fast` ends sessions like an operator's restart.
    fn pg_ctl(&self, action: &[&str]) {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=80",
            self.port,
            self.dir.path().display()
        );
        let mut args = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-o",
            &options,
            "-w",
            "-m",
            "fast",
        ];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn admin(&self) -> PgConnection {
        PgConnection::establish(&self.url("postgres")).unwrap()
    }

    /// Cuts every session of `database`, as `pg_terminate_backend` from an operator would.
    fn terminate_backends(&self, database: &str) -> usize {
        #[derive(diesel::QueryableByName)]
        struct Cut {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let cut: Cut = diesel::RunQueryDsl::get_result(
            diesel::sql_query(format!(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                 WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            )),
            &mut self.admin(),
        )
        .unwrap();
        cut.n as usize
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}

fn newest_postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

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

fn start_node(database_url: &str, dir: &Path, name: &str, key_file: &Path) -> Node {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .arg("--data-dir")
        .arg(dir.join(name))
        .arg("--key-file")
        .arg(key_file)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let base_url = crate::helpers::announced_address(&mut child);
    Node { child, base_url }
}

/// What one signing was answered.
#[derive(Debug)]
enum Answer {
    Acknowledged {
        status: u16,
        certificate_id: String,
    },
    /// 503 with the seconds of its `Retry-After`.
    Unavailable(u64),
}

async fn sign(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> Answer {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("an answer, not a hang or a cut: {e}"));
    let status = response.status().as_u16();
    match status {
        200 | 201 => Answer::Acknowledged {
            status,
            certificate_id: response.json::<Value>().await.unwrap()["certificate_id"]
                .as_str()
                .unwrap()
                .to_string(),
        },
        503 => {
            let retry_after = response
                .headers()
                .get("retry-after")
                .expect("a 503 says when to come back")
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unavailable", "{body}");
            Answer::Unavailable(retry_after)
        }
        other => panic!(
            "a signing answered {other}: {}",
            response.text().await.unwrap_or_default()
        ),
    }
}

async fn healthz(client: &reqwest::Client, node: &Node) -> u16 {
    client
        .get(format!("{}/healthz", node.base_url))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Waits until both nodes answer `/healthz` 200; returns how long that took.
async fn ready_again(client: &reqwest::Client, nodes: &[Node]) -> Duration {
    let since = Instant::now();
    for node in nodes {
        while healthz(client, node).await != 200 {
            assert!(
                since.elapsed() < Duration::from_secs(10),
                "{} still not ready",
                node.base_url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    since.elapsed()
}

#[tokio::test]
async fn two_nodes_ride_out_terminated_backends_and_a_postgresql_restart() {
    let Some(server) = OwnPostgres::start() else {
        return;
    };
    server
        .admin()
        .batch_execute("CREATE DATABASE ikrar")
        .unwrap();
    let database_url = server.url("ikrar");
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_data_dir(dir.path().to_path_buf());
    settings.database_url = DatabaseUrl::Postgres(database_url.clone());
    let (db, key) = ikrar::startup::open_storage(&settings).expect("storage on our own server");
    let options = ikrar::synth::load::Options {
        employees: 500,
        signed_share: 0.05,
        seed: 22,
    };
    let loaded = ikrar::synth::load::populate(&db, &key, &options, |_, _| {}).unwrap();
    let campaign = loaded.campaign_id.expect("a national campaign");
    let signers: Vec<(String, Value)> = {
        let mut conn = db.write().unwrap();
        let sha = campaigns::current_document(&mut conn, &campaign)
            .unwrap()
            .sha256;
        employees::unsigned_sample(&mut conn, &campaign, 300)
            .unwrap()
            .into_iter()
            .map(|e| {
                let token = ikrar::sign_in::open_session(&mut conn, e.id).unwrap();
                let body = serde_json::json!({ "full_name": e.full_name, "document_sha256": sha, "accept": true });
                (token, body)
            })
            .collect()
    };
    drop(db);
    let nodes = Arc::new([
        start_node(&database_url, dir.path(), "node-a", &settings.key_file),
        start_node(&database_url, dir.path(), "node-b", &settings.key_file),
    ]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    ready_again(&client, &nodes[..]).await;

    // The burst: 16 clients at a time, every signer once, alternating nodes.
    let answered = Arc::new(AtomicUsize::new(0));
    let queue = Arc::new(std::sync::Mutex::new(
        signers.clone().into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let mut clients = Vec::new();
    for _ in 0..16 {
        let (queue, answered, nodes, client) = (
            queue.clone(),
            answered.clone(),
            nodes.clone(),
            client.clone(),
        );
        let campaign = campaign.clone();
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((i, (token, body))) = next else {
                    return answers;
                };
                let url = format!(
                    "{}/api/v1/campaigns/{campaign}/signatures",
                    nodes[i % 2].base_url
                );
                answers.push((i, sign(&client, &url, &token, &body).await));
                answered.fetch_add(1, Ordering::SeqCst);
                // Paced so that the faults land in the middle of the burst.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    // Mid-burst: every backend of the database cut at once.
    while answered.load(Ordering::SeqCst) < 60 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cut = server.terminate_backends("ikrar");
    assert!(cut >= 2, "both nodes had connections: {cut}");

    // Later: the server stops. Both nodes report it, and come back by themselves once it starts.
    while answered.load(Ordering::SeqCst) < 150 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.pg_ctl(&["stop"]);
    let during = answered.load(Ordering::SeqCst);
    for node in nodes.iter() {
        let since = Instant::now();
        assert_eq!(healthz(&client, node).await, 503, "{}", node.base_url);
        assert!(
            since.elapsed() < Duration::from_secs(3),
            "readiness answers promptly"
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.pg_ctl(&["start"]);
    let recovered = ready_again(&client, &nodes[..]).await;
    assert!(
        recovered < Duration::from_secs(5),
        "ready again {recovered:?} after the server came back"
    );
    assert!(
        answered.load(Ordering::SeqCst) > during,
        "the burst went on during the outage"
    );

    let mut answers = Vec::new();
    for c in clients {
        answers.extend(c.await.unwrap());
    }
    assert_eq!(answers.len(), signers.len());
    let refused: Vec<usize> = answers
        .iter()
        .filter_map(|(i, a)| matches!(a, Answer::Unavailable(_)).then_some(*i))
        .collect();
    assert!(
        !refused.is_empty(),
        "the stopped server refused some signings with 503"
    );
    for (_, answer) in &answers {
        if let Answer::Unavailable(secs) = answer {
            assert!((1..=60).contains(secs), "Retry-After {secs}");
        }
    }
    eprintln!(
        "{} signings, {cut} backends cut, {} answered 503, both nodes ready {recovered:?} after the restart",
        signers.len(),
        refused.len()
    );
    // Those told to come back do, and are served.
    for i in &refused {
        let (token, body) = &signers[*i];
        let url = format!(
            "{}/api/v1/campaigns/{campaign}/signatures",
            nodes[i % 2].base_url
        );
        let answer = sign(&client, &url, token, body).await;
        assert!(matches!(answer, Answer::Acknowledged { .. }), "{answer:?}");
        answers.push((*i, answer));
    }

    // Every signer holds exactly one certificate, and each acknowledged one verifies on both nodes.
    let mut held = std::collections::HashMap::<usize, String>::new();
    let mut created = 0;
    for (i, answer) in &answers {
        if let Answer::Acknowledged {
            status,
            certificate_id,
        } = answer
        {
            created += usize::from(*status == 201);
            if let Some(earlier) = held.insert(*i, certificate_id.clone()) {
                assert_eq!(&earlier, certificate_id, "one certificate per signer");
            }
        }
    }
    assert_eq!(held.len(), signers.len());
    assert!(created >= signers.len() - refused.len());
    for (n, id) in held.values().enumerate() {
        let node = &nodes[n % 2];
        let verdict: Value = client
            .get(format!("{}/api/v1/verify/{id}", node.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(verdict["status"], "genuine", "{id}: {verdict}");
    }

    // The database holds exactly those certificates, and coverage counts them.
    let db = Db::connect(&settings.database_url).unwrap();
    let stored = {
        use diesel::prelude::*;
        use ikrar::db::schema::certificates;
        certificates::table
            .count()
            .get_result::<i64>(&mut *db.read().unwrap())
            .unwrap()
    };
    assert_eq!(stored as u64, loaded.signed + signers.len() as u64);
    for node in nodes.iter() {
        let coverage: Value = client
            .get(format!(
                "{}/api/v1/coverage?campaign={campaign}",
                node.base_url
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(coverage["totals"]["signed"], stored, "{coverage}");
        assert_eq!(coverage["totals"]["roster"], 500);
    }

    // The public log and the audit chain hold together.
    for check in [["log", "verify"], ["audit", "verify"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_ikrar"))
            .args(check)
            .args(["--database-url", &database_url])
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{check:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
