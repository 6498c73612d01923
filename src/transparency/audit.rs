//! `ikrar log verify`: rebuilds the log from the certificate rows themselves and checks every
//! stored entry, subtree hash and published checkpoint against it. An auditor given a copy of the
//! database learns whether any certificate or revocation was altered, removed or slipped in
//! without being logged.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::checkpoint;
use super::entry::{self, EntryKind, KeyEvent};
use super::keys::{fold, LoggedKey};
use super::merkle::{leaf_hash, FullTree};
use crate::crypto::verify_with;
use crate::db::certificates::CertificateRow;
use crate::db::log::CheckpointRow;
use crate::db::schema::certificates;
use crate::db::{keys, log, DbConnection, DbError};

const PAGE: i64 = 1_000;

/// One thing that does not add up, named so that an operator can find the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inconsistency {
    /// The log index concerned, when there is one.
    pub index: Option<u64>,
    pub certificate_id: Option<String>,
    pub problem: String,
}

impl std::fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(i) = self.index {
            write!(f, "indeks {i}: ")?;
        }
        if let Some(id) = &self.certificate_id {
            write!(f, "sertifikat {id}: ")?;
        }
        f.write_str(&self.problem)
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    pub size: u64,
    pub checkpoints: usize,
    /// In the order found: the first is the lowest index that does not add up.
    pub inconsistencies: Vec<Inconsistency>,
}

impl AuditReport {
    fn flag(
        &mut self,
        index: Option<u64>,
        certificate_id: Option<&str>,
        problem: impl Into<String>,
    ) {
        self.inconsistencies.push(Inconsistency {
            index,
            certificate_id: certificate_id.map(str::to_string),
            problem: problem.into(),
        });
    }
}

/// The entry bytes a certificate row stands for, computed from its fields (not from its stored
/// claim), or why it cannot stand for any.
fn expected_entry(
    conn: &mut DbConnection,
    kind: EntryKind,
    row: &CertificateRow,
) -> Result<Result<Vec<u8>, &'static str>, DbError> {
    let Some(record) = crate::crypto::SignedRecord::of_row(row) else {
        return Ok(Err("kolom catatan sertifikat rusak"));
    };
    let signed = record.claim();
    let claim = signed.to_bytes();
    let Some(key) = keys::find(conn, &row.key_id)? else {
        return Ok(Err("kunci penerbit sertifikat tidak dikenal"));
    };
    if !verify_with(&key.public_key, &signed.signing_message(), &row.signature) {
        return Ok(Err(
            "isi catatan sertifikat tidak cocok dengan tanda tangannya (data diubah)",
        ));
    }
    let as_signed = CertificateRow {
        claim,
        ..row.clone()
    };
    Ok(match kind {
        EntryKind::Issued => entry::issued(&as_signed).ok_or("ID sertifikat rusak"),
        EntryKind::Key => Err("entri peristiwa kunci tercatat atas nama sertifikat"),
        EntryKind::Revoked => match (&row.revoked_at, &row.revocation_reason) {
            (Some(at), Some(reason)) => {
                entry::revoked(&as_signed, *at, reason).ok_or("ID sertifikat rusak")
            }
            _ => Err("log mencatat pencabutan, tetapi sertifikat tidak berstatus dicabut"),
        },
    })
}

/// Runs the whole audit. Database errors abort it; everything else is reported.
pub fn audit(conn: &mut DbConnection) -> Result<AuditReport, DbError> {
    let mut report = AuditReport {
        size: log::size(conn)?,
        ..Default::default()
    };
    let mut leaves = Vec::new();
    let mut logged: HashSet<(String, EntryKind)> = HashSet::new();
    let mut key_events: Vec<(u64, KeyEvent)> = Vec::new();
    let mut after = None;
    loop {
        let page = log::entries_page(conn, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.idx);
        let ids: Vec<&str> = page.iter().map(|e| e.certificate_id.as_str()).collect();
        let rows: HashMap<String, CertificateRow> = certificates::table
            .filter(certificates::id.eq_any(ids))
            .select(CertificateRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|r| (r.id.to_string(), r))
            .collect();
        for e in &page {
            let index = e.idx as u64;
            while (leaves.len() as u64) < index {
                let missing = leaves.len() as u64;
                report.flag(Some(missing), None, "entri log ini hilang dari basis data");
                // The tree cannot be rebuilt past a hole: stand in a hash nobody can match.
                leaves.push([0xff; 32]);
            }
            let id = Some(e.certificate_id.as_str());
            let Some(kind) = EntryKind::parse(&e.kind) else {
                report.flag(
                    Some(index),
                    id,
                    format!("jenis entri {:?} tidak dikenal", e.kind),
                );
                leaves.push(leaf_hash(&e.entry));
                continue;
            };
            logged.insert((e.certificate_id.clone(), kind));
            if kind == EntryKind::Key {
                // A key event's bytes are the record itself; the key rows are checked against
                // all of them together below.
                match KeyEvent::parse(&e.entry) {
                    Some(event) => key_events.push((index, event)),
                    None => report.flag(Some(index), None, "entri peristiwa kunci rusak"),
                }
                leaves.push(leaf_hash(&e.entry));
                continue;
            }
            let Some(row) = rows.get(&e.certificate_id) else {
                report.flag(
                    Some(index),
                    id,
                    "sertifikat ini sudah tidak ada di basis data",
                );
                leaves.push([0xff; 32]);
                continue;
            };
            match expected_entry(conn, kind, row)? {
                Ok(bytes) => {
                    if bytes != e.entry {
                        report.flag(
                            Some(index),
                            id,
                            "catatan sertifikat tidak cocok dengan entri log (data diubah sesudah dicatat)",
                        );
                    }
                    leaves.push(leaf_hash(&bytes));
                }
                Err(problem) => {
                    report.flag(Some(index), id, problem);
                    leaves.push([0xff; 32]);
                }
            }
        }
    }
    while (leaves.len() as u64) < report.size {
        report.flag(
            Some(leaves.len() as u64),
            None,
            "entri log ini hilang dari basis data",
        );
        leaves.push([0xff; 32]);
    }
    if leaves.len() as u64 > report.size {
        report.flag(
            None,
            None,
            format!(
                "log memuat {} entri, tetapi penghitung ukurannya {}",
                leaves.len(),
                report.size
            ),
        );
    }
    unlogged_certificates(conn, &logged, &mut report)?;
    key_rows(conn, &key_events, &mut report)?;
    let tree = FullTree::new(leaves);
    stored_nodes(conn, &tree, &mut report)?;
    stored_blocks(conn, &tree, &mut report)?;
    stored_checkpoints(conn, &tree, &mut report)?;
    Ok(report)
}

/// Certificates (or revocations) that never reached the log.
fn unlogged_certificates(
    conn: &mut DbConnection,
    logged: &HashSet<(String, EntryKind)>,
    report: &mut AuditReport,
) -> Result<(), DbError> {
    let mut after: Option<i64> = None;
    loop {
        let mut q = certificates::table
            .select((
                certificates::serial,
                certificates::id,
                certificates::revoked_at,
            ))
            .order(certificates::serial)
            .limit(PAGE * 10)
            .into_boxed();
        if let Some(serial) = after {
            q = q.filter(certificates::serial.gt(serial));
        }
        let page: Vec<(i64, String, Option<i64>)> = q.load(conn)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.0);
        for (_, id, revoked_at) in &page {
            if !logged.contains(&(id.clone(), EntryKind::Issued)) {
                report.flag(None, Some(id), "sertifikat ini tidak tercatat di log");
            }
            if revoked_at.is_some() && !logged.contains(&(id.clone(), EntryKind::Revoked)) {
                report.flag(
                    None,
                    Some(id),
                    "pencabutan sertifikat ini tidak tercatat di log",
                );
            }
        }
    }
}

/// The key rows must say what the log's key events say: the same public key, and a revocation
/// instant no later than the log's (a row revoked later, or not at all, would make what the key
/// signed in between look genuine). Once the log holds key events, every key row must be in it.
fn key_rows(
    conn: &mut DbConnection,
    events: &[(u64, KeyEvent)],
    report: &mut AuditReport,
) -> Result<(), DbError> {
    let rows = keys::all(conn)?;
    let logged: Vec<LoggedKey> = fold(events.iter().map(|(_, e)| *e));
    let first_index = |key_id: &[u8; 8]| {
        events
            .iter()
            .find(|(_, e)| &e.key_id == key_id)
            .map(|(i, _)| *i)
    };
    for key in &logged {
        let id = key.key_id_hex();
        let index = first_index(&key.key_id);
        let Some(row) = rows.iter().find(|r| r.key_id == id) else {
            report.flag(
                index,
                None,
                format!("kunci {id} tercatat di log, tetapi tidak ada di basis data"),
            );
            continue;
        };
        if row.public_key != key.public_key {
            report.flag(
                index,
                None,
                format!("kunci publik {id} di basis data berbeda dari yang tercatat di log"),
            );
        }
        if let Some(until) = key.valid_until {
            if row.valid_until.is_none_or(|u| u > until) {
                report.flag(
                    index,
                    None,
                    format!("log mencatat pencabutan kunci {id}, tetapi baris kuncinya tidak berstatus dicabut sejak waktu itu"),
                );
            }
        }
    }
    if !logged.is_empty() {
        for row in &rows {
            if !logged.iter().any(|k| k.key_id_hex() == row.key_id) {
                report.flag(
                    None,
                    None,
                    format!("kunci {} tidak tercatat di log", row.key_id),
                );
            }
        }
    }
    Ok(())
}

/// The stored subtree hashes, from which proofs are served, must be the rebuilt ones.
fn stored_nodes(
    conn: &mut DbConnection,
    tree: &FullTree,
    report: &mut AuditReport,
) -> Result<(), DbError> {
    let mut after = None;
    let mut seen = 0u64;
    loop {
        let page = log::nodes_page(conn, after, PAGE * 10)?;
        let Some(last) = page.last() else { break };
        after = Some((last.level, last.idx));
        for n in &page {
            seen += 1;
            let id = (n.level as u32, n.idx as u64);
            if tree.node(id).map(|h| h.to_vec()) != Some(n.hash.clone()) {
                let first_leaf = (n.idx as u64) << n.level;
                report.flag(
                    Some(first_leaf),
                    None,
                    format!(
                        "hash subpohon (tingkat {}, nomor {}) yang tersimpan tidak cocok dengan pohon yang dihitung ulang",
                        n.level, n.idx
                    ),
                );
            }
        }
    }
    let expected: u64 = (0..64).map(|level| tree.size() >> level).sum();
    if seen != expected {
        report.flag(
            None,
            None,
            format!("tersimpan {seen} hash subpohon, semestinya {expected}"),
        );
    }
    Ok(())
}

/// The stored blocks of leaf hashes, from which proofs read their lowest nodes, must hold the
/// rebuilt leaves. A block not stored yet is not a fault: it is filled after a start.
fn stored_blocks(
    conn: &mut DbConnection,
    tree: &FullTree,
    report: &mut AuditReport,
) -> Result<(), DbError> {
    let mut after = None;
    loop {
        let page = log::blocks_page(conn, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.0);
        for (block, stored) in &page {
            let first_leaf = *block as u64 * log::LEAVES_PER_BLOCK;
            let rebuilt: Option<Vec<u8>> = (first_leaf..first_leaf + log::LEAVES_PER_BLOCK)
                .map(|i| tree.node((0, i)))
                .collect::<Option<Vec<_>>>()
                .map(|leaves| leaves.concat());
            if rebuilt.as_ref() != Some(stored) {
                report.flag(
                    Some(first_leaf),
                    None,
                    format!(
                        "blok hash daun nomor {block} yang tersimpan tidak cocok dengan daun log yang dihitung ulang"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Every published checkpoint: signed by a known key, and naming the root the rebuilt tree has
/// at its size.
fn stored_checkpoints(
    conn: &mut DbConnection,
    tree: &FullTree,
    report: &mut AuditReport,
) -> Result<(), DbError> {
    let keys: HashMap<String, [u8; 32]> = keys::all(conn)?
        .into_iter()
        .filter_map(|k| Some((k.key_id, k.public_key.try_into().ok()?)))
        .collect();
    let mut after = None;
    loop {
        let page = log::checkpoints_page(conn, after, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.tree_size);
        for cp in &page {
            check_checkpoint(&keys, tree, cp, report);
        }
    }
}

fn check_checkpoint(
    keys: &HashMap<String, [u8; 32]>,
    tree: &FullTree,
    cp: &CheckpointRow,
    report: &mut AuditReport,
) {
    report.checkpoints += 1;
    let size = cp.tree_size as u64;
    let what = format!("checkpoint ukuran {size}");
    let Some(public) = keys.get(&cp.key_id) else {
        report.flag(
            None,
            None,
            format!("{what}: kunci {} tidak dikenal", cp.key_id),
        );
        return;
    };
    let opened = match checkpoint::open(&cp.note, public) {
        Ok(c) => c,
        Err(e) => {
            report.flag(None, None, format!("{what}: tanda tangan tidak sah ({e})"));
            return;
        }
    };
    if opened.size != size || opened.root.to_vec() != cp.root {
        report.flag(
            None,
            None,
            format!("{what}: isi catatan bertanda tangan berbeda dari kolomnya"),
        );
    }
    match tree.root(size) {
        None => report.flag(
            None,
            None,
            format!(
                "{what} melampaui log yang hanya memuat {} entri",
                tree.size()
            ),
        ),
        Some(root) if root != opened.root => report.flag(
            None,
            None,
            format!("{what}: akar pohon tidak cocok dengan pohon yang dihitung ulang"),
        ),
        Some(_) => {}
    }
}
