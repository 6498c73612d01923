//! Reading the outbox folder of a node the journey does not hold a database handle for (a demo
//! or `ikrar serve` child): letters arrive from the node's background drain.

/// The first letter in `outbox` that mentions `needle`, waiting for it up to 10 s: a node mails
/// sign-in codes from a background drain, milliseconds after answering the request.
pub fn wait_for_letter(outbox: &std::path::Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(outbox).ok().and_then(|dir| {
            dir.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .find(|t| t.contains(needle))
        });
        if let Some(letter) = found {
            return letter;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no letter for {needle} in {} after 10 s",
            outbox.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
