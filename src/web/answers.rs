//! What the JSON API answers, one struct per answer of docs/api.md and docs/log.md.
//!
//! Handlers build these from rows and pipeline results; nothing else decides a field's name or
//! shape, so the documented contract reads off one file and a row's new column never leaks out
//! by accident. Fields borrow from what the handler holds: an answer lives only as long as its
//! serialisation.

use serde::Serialize;

use super::rfc3339;
use super::views::CampaignView;
use crate::db::coverage::Tally;
use crate::db::employees::Employee;
use crate::db::log::LogEntryRow;
use crate::domain::{AreaCode, EmployeeType, Nik, Nip};
use crate::transparency::entry::{KeyEvent, KeyRoles};
use crate::transparency::keys::LoggedKey;
use crate::transparency::EntryKind;
use crate::verification::Contradiction;

/// `GET /api/v1/me`: the signed-in employee and the campaigns that cover them.
#[derive(Serialize)]
pub struct Me<'a> {
    pub employee: MeEmployee<'a>,
    pub campaigns: Vec<MeCampaign<'a>>,
}

#[derive(Serialize)]
pub struct MeEmployee<'a> {
    pub full_name: &'a str,
    pub nip: &'a Option<Nip>,
    pub nik: &'a Nik,
    pub employee_type: &'a EmployeeType,
    pub position: &'a str,
    pub agency: &'a str,
    pub unit: &'a str,
    pub village_code: &'a AreaCode,
    /// The village and the areas above it, in words.
    pub work_area: String,
}

impl<'a> MeEmployee<'a> {
    pub fn of(e: &'a Employee, work_area: String) -> Self {
        Self {
            full_name: &e.full_name,
            nip: &e.nip,
            nik: &e.nik,
            employee_type: &e.employee_type,
            position: &e.position,
            agency: &e.agency,
            unit: &e.unit,
            village_code: &e.village_code,
            work_area,
        }
    }
}

#[derive(Serialize)]
pub struct MeCampaign<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub scope: &'a str,
    pub opens_at: String,
    pub closes_at: String,
    pub open: bool,
    pub document: MeDocument<'a>,
    pub document_sha256: &'a str,
    pub certificate_id: Option<&'a str>,
}

#[derive(Serialize)]
pub struct MeDocument<'a> {
    pub version: i32,
    pub title: &'a str,
    pub text: &'a str,
    pub commitments: Vec<&'a str>,
}

/// `GET /api/v1/coverage`: aggregates only, never a name or an id of a person.
#[derive(Serialize)]
pub struct Coverage<'a> {
    pub campaign: CampaignRef<'a>,
    pub area: AreaRef<'a>,
    pub breadcrumb: Vec<Crumb<'a>>,
    pub totals: Counts,
    pub children: Vec<Named<ChildArea<'a>>>,
    pub by_agency: Vec<Named<AgencyName<'a>>>,
    pub by_employee_type: Vec<Named<TypeName<'a>>>,
    pub daily: Vec<Day>,
}

#[derive(Serialize)]
pub struct CampaignRef<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub scope: &'a str,
}

impl<'a> CampaignRef<'a> {
    pub fn of(c: &'a CampaignView) -> Self {
        Self {
            id: &c.id,
            title: &c.title,
            scope: c.scope.as_str(),
        }
    }
}

#[derive(Serialize)]
pub struct AreaRef<'a> {
    /// `None` for the nation.
    pub code: Option<&'a str>,
    pub name: &'a str,
    pub level: &'static str,
}

#[derive(Serialize)]
pub struct Crumb<'a> {
    pub code: &'a str,
    pub name: &'a str,
}

/// A tally as the API shows it: the percentage with one decimal.
#[derive(Serialize)]
pub struct Counts {
    pub roster: i64,
    pub signed: i64,
    pub percent: f64,
}

impl From<&Tally> for Counts {
    fn from(t: &Tally) -> Self {
        Self {
            roster: t.roster,
            signed: t.signed,
            percent: t.percent(),
        }
    }
}

/// Counts beside what they count.
#[derive(Serialize)]
pub struct Named<N: Serialize> {
    #[serde(flatten)]
    pub counts: Counts,
    #[serde(flatten)]
    pub name: N,
}

impl<N: Serialize> Named<N> {
    pub fn new(name: N, tally: &Tally) -> Self {
        Self {
            counts: tally.into(),
            name,
        }
    }
}

#[derive(Serialize)]
pub struct ChildArea<'a> {
    pub code: &'a str,
    pub name: &'a str,
}

#[derive(Serialize)]
pub struct AgencyName<'a> {
    pub agency: &'a str,
}

#[derive(Serialize)]
pub struct TypeName<'a> {
    pub employee_type: &'a str,
}

#[derive(Serialize)]
pub struct Day {
    pub date: String,
    pub signings: i64,
}

/// `GET /.well-known/ikrar-keys.json`. The fields repeat the signed note's lines for
/// convenience; a verifier trusts the note.
#[derive(Serialize)]
pub struct KeyList<'a> {
    pub version: u32,
    pub issuer: &'a str,
    pub claim_format: &'static str,
    pub tree_size: u64,
    pub keys: Vec<PublishedKey>,
    pub log: LogRef<'a>,
    pub signed_note: String,
}

#[derive(Serialize)]
pub struct PublishedKey {
    pub key_id: String,
    pub algorithm: &'static str,
    pub roles: Vec<&'static str>,
    pub active_roles: Vec<&'static str>,
    pub public_key: String,
    pub public_key_hex: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: &'static str,
    pub retired_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Only for a key that signs checkpoints: its C2SP verifier key for `origin`.
    pub log_verifier_key: Option<String>,
}

impl PublishedKey {
    pub fn of(k: &LoggedKey, origin: &str) -> Self {
        Self {
            key_id: k.key_id_hex(),
            algorithm: "Ed25519",
            roles: k.roles.names(),
            active_roles: k.active_roles.names(),
            public_key: data_encoding::BASE64URL_NOPAD.encode(&k.public_key),
            public_key_hex: data_encoding::HEXLOWER.encode(&k.public_key),
            valid_from: rfc3339(k.valid_from),
            valid_until: k.valid_until.map(rfc3339),
            status: k.status(),
            retired_at: k.retired_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
            log_verifier_key: k
                .roles
                .contains(KeyRoles::LOG)
                .then(|| crate::transparency::checkpoint::verifier_key(origin, &k.public_key)),
        }
    }
}

#[derive(Serialize)]
pub struct LogRef<'a> {
    pub origin: &'a str,
    pub checkpoint: String,
    pub key_id: String,
    pub verifier_key: String,
}

/// `GET /log/entries/{index}`: a certificate's entry names the certificate, a key event the key
/// (the entry's bytes say the rest, docs/log.md).
#[derive(Serialize)]
pub struct LogEntry {
    pub index: i64,
    pub kind: String,
    pub entry: String,
    pub appended_at: String,
    #[serde(flatten)]
    pub names: EntryNames,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum EntryNames {
    Key { key_id: String },
    Certificate { certificate_id: String },
}

impl LogEntry {
    pub fn of(e: &LogEntryRow) -> Self {
        use base64::Engine;
        let names = match KeyEvent::parse(&e.entry).filter(|_| e.kind == EntryKind::Key.as_str()) {
            Some(event) => EntryNames::Key {
                key_id: data_encoding::HEXLOWER.encode(&event.key_id),
            },
            None => EntryNames::Certificate {
                certificate_id: e.certificate_id.clone(),
            },
        };
        Self {
            index: e.idx,
            kind: e.kind.clone(),
            entry: base64::engine::general_purpose::STANDARD.encode(&e.entry),
            appended_at: rfc3339(e.appended_at),
            names,
        }
    }
}

/// `GET /log/proof/inclusion`: the entry, and the hashes that lead from it to the root of a tree
/// of `tree_size` entries.
#[derive(Serialize)]
pub struct InclusionProof {
    #[serde(flatten)]
    pub entry: LogEntry,
    pub tree_size: u64,
    pub hashes: Vec<String>,
}

/// `GET /log/proof/consistency`.
#[derive(Serialize)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub hashes: Vec<String>,
}

/// `GET /healthz` while the database answers.
#[derive(Serialize)]
pub struct Health {
    /// `ok`, or `log_contradiction` when rows contradict the public log.
    pub status: &'static str,
    pub log_contradictions: Vec<Contradiction>,
    pub live_streams: usize,
    pub live_feeds: usize,
}

/// `POST /api/v1/campaigns/{id}/signatures`: 201 for a new certificate, 200 for the one the
/// employee already holds.
#[derive(Serialize)]
pub struct Signed<'a> {
    pub certificate_id: &'a str,
    pub certificate_number: i64,
    pub verify_url: String,
    pub pdf_url: String,
}

/// Every error answer of the API (docs/api.md): a stable code, a message in Indonesian, and the
/// field at fault where there is one.
#[derive(Serialize)]
pub struct ApiError<'a> {
    pub error: ErrorBody<'a>,
}

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub field: Option<&'a str>,
}

impl<'a> ApiError<'a> {
    pub fn new(code: &'a str, message: &'a str, field: Option<&'a str>) -> Self {
        Self {
            error: ErrorBody {
                code,
                message,
                field,
            },
        }
    }
}
