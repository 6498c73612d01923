//! ikrar: civil servants sign their election-time Pakta Integritas and neutrality declaration
//! online; every signature yields an Ed25519-signed PDF certificate whose QR anyone can check.

pub mod caches;
pub mod certificate;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod export;
pub mod invitations;
pub mod mail;
pub mod memo;
pub mod outbox;
pub mod roster;
pub mod sign_in;
pub mod signing;
pub mod sso;
pub mod startup;
pub mod synth;
pub mod totp;
pub mod transparency;
pub mod verification;
pub mod web;
