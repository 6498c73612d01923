//! `ikrar synth`: a synthetic nation in the database, or as a roster file, with a progress bar.

use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::StorageArgs;
use crate::synth::load::{self, Options, SynthError};

fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let template = format!(
        "{{elapsed_precise}} [{{bar:40}}] {{human_pos}}/{{human_len}} {what} ({{per_sec}}, sisa {{eta}}) {{msg}}"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub fn run(
    employees: u64,
    signed_share: f64,
    seed: u64,
    roster_file: Option<&Path>,
    storage: &StorageArgs,
) -> anyhow::Result<i32> {
    let options = Options {
        employees,
        signed_share,
        seed,
    };
    if !(0.0..=1.0).contains(&signed_share) {
        eprintln!("{}", SynthError::Share(signed_share));
        return Ok(1);
    }
    let started = Instant::now();
    if let Some(path) = roster_file {
        let progress = bar(employees, "pegawai");
        let written = load::write_roster_file(path, &options, |n| progress.set_position(n))?;
        progress.finish_and_clear();
        println!(
            "{written} pegawai sintetis ditulis ke {} ({:.1} s)",
            path.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(0);
    }
    let (db, key) = crate::startup::open_storage(&storage.settings()?)?;
    let progress = bar(employees, "pegawai");
    let outcome = load::populate(&db, &key, &options, |done, signed| {
        progress.set_position(done);
        progress.set_message(format!("{signed} sudah menandatangani"));
    });
    progress.finish_and_clear();
    match outcome {
        Ok(loaded) => {
            println!(
                "{} pegawai sintetis di 38 provinsi, {} sudah menandatangani ({:.1} s)",
                loaded.employees,
                loaded.signed,
                started.elapsed().as_secs_f64()
            );
            if let Some(id) = loaded.campaign_id {
                println!("Penandatanganan nasional: {id}");
            }
            Ok(0)
        }
        Err(e @ (SynthError::RosterNotEmpty(_) | SynthError::Share(_))) => {
            eprintln!("{e}");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}
