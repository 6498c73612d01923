//! The live counter's streams under abuse: many screens share one poller, abandoned streams are
//! released, and a node refuses streams beyond its cap instead of running out of connections.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Opens a stream on a raw connection, as a screen (or an abuser) would, and reads its head.
async fn open_stream(app: &TestApp, path: &str) -> (TcpStream, String) {
    let address = app.base_url.trim_start_matches("http://").to_string();
    let mut socket = TcpStream::connect(&address).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&head).contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buffer))
            .await
            .expect("the stream answers")
            .unwrap();
        assert!(n > 0, "the server closed the stream");
        head.extend_from_slice(&buffer[..n]);
    }
    (socket, String::from_utf8_lossy(&head).into_owned())
}

async fn live(app: &TestApp) -> (u64, u64) {
    let health: Value = app
        .api
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        health["live_streams"].as_u64().unwrap(),
        health["live_feeds"].as_u64().unwrap(),
    )
}

/// Polls `/healthz` until the node holds `streams` streams and `feeds` pollers.
async fn until_live(app: &TestApp, streams: u64, feeds: u64, within: Duration) {
    let started = Instant::now();
    loop {
        let now = live(app).await;
        if now == (streams, feeds) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "after {within:?} the node still holds (streams, feeds) = {now:?}, not ({streams}, {feeds})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn abandoned_live_streams_are_released_and_share_one_poller() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.live.keep_alive = Duration::from_millis(200);
    })
    .await
    else {
        return;
    };
    let path = format!("/live/{}/73/stream", app.campaign_id);
    let mut screens = Vec::new();
    for _ in 0..60 {
        let (socket, head) = open_stream(&app, &path).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        screens.push(socket);
    }
    let (other, _) = open_stream(&app, &format!("/live/{}/73.71/stream", app.campaign_id)).await;
    // 61 screens, two (campaign, area) pairs: two pollers, not 61.
    until_live(&app, 61, 2, Duration::from_secs(5)).await;

    // Every screen goes away without a word (a closed laptop, a killed script).
    drop(screens);
    drop(other);
    // Keep-alive comments every 200 ms find the closed connections.
    until_live(&app, 0, 0, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn streams_beyond_the_cap_are_refused_with_503_and_retry_after() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.live.cap = 3;
        s.live.keep_alive = Duration::from_millis(200);
    })
    .await
    else {
        return;
    };
    let path = format!("/live/{}/73/stream", app.campaign_id);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(open_stream(&app, &path).await.0);
    }
    let refused = app.api.get(app.url(&path)).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "30");
    let body = refused.text().await.unwrap();
    assert!(body.contains("Terlalu banyak tampilan langsung"), "{body}");
    // The page itself still loads: only streams are capped.
    let page = app
        .api
        .get(app.url(&format!("/live/{}/73", app.campaign_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    held.pop();
    until_live(&app, 2, 1, Duration::from_secs(10)).await;
    let (_again, head) = open_stream(&app, &path).await;
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "a freed place is given again: {head}"
    );
}
