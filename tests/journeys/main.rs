//! User journeys against a real server on a random port and a fresh SQLite database each.

mod helpers;
mod letters;

mod admin;
mod admin_lists;
mod api_contract;
mod browser_keyboard;
mod browser_pages;
mod browser_verdicts;
mod certificate_journey;
mod certificate_statement;
mod command_line;
mod coverage;
mod database_faults;
mod invitations;
mod key_rotation;
mod live_streams;
mod long_names;
mod newcomers;
mod nodes;
mod offline;
mod offline_bundle;
mod pdf_signature;
mod public_log;
mod refusals;
mod roster_import;
mod sign_in;
mod sign_in_truth;
mod signing_pages;
mod sso;
mod synthetic_nation;
mod verdict;
