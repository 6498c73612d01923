//! What a node remembers between requests, in one place: facts that never change once known (an
//! Ed25519 signature that verified, an inclusion proof that held, a campaign's title, the area
//! names), which spare a query or a public-key operation on every QR scan. One `Caches` is made at
//! start-up and owned by the application state; a test server, a command or a unit test makes its
//! own, so nothing is shared by accident and a fresh one is a reset.

use crate::crypto::AcceptedSignatures;
use crate::db::areas::AreaNames;
use crate::memo::Memo;
use crate::transparency::LogMemory;

/// A campaign's issuing-authority versions as (effective from, "name, office"), with the instant
/// they were read.
pub type AuthorityVersions = std::sync::Arc<(i64, Vec<(i64, String)>)>;

pub struct Caches {
    /// Ed25519 verifications of claims that held (`signing::check_record`).
    pub accepted_signatures: AcceptedSignatures,
    /// Campaign titles by campaign id: a title never changes once the campaign is created.
    pub campaign_titles: Memo<String, String>,
    /// Authority versions by campaign id (`verification`).
    pub authority_versions: Memo<String, AuthorityVersions>,
    /// Proofs that held, shared tree nodes, the checkpoint last opened (`transparency`).
    pub log: LogMemory,
    /// The names of every area, for work-area descriptions (`db::areas::describe`).
    pub area_names: AreaNames,
}

impl Caches {
    /// Empty caches: nothing is allocated until something is remembered.
    pub const fn new() -> Self {
        Self {
            accepted_signatures: AcceptedSignatures::new(),
            campaign_titles: Memo::new(10_000),
            authority_versions: Memo::new(10_000),
            log: LogMemory::new(),
            area_names: AreaNames::new(),
        }
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}
