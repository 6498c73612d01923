//! User journeys against a real server on a random port and a fresh SQLite database each.

mod helpers;

mod certificate_journey;
mod command_line;
mod coverage;
mod nodes;
mod refusals;
mod sign_in;
mod signing_pages;
mod synthetic_nation;
