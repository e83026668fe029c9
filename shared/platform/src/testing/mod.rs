//! The test harness any service uses: a database of its own per test ([`TestDatabase`]), a token
//! issuer that mints tokens of any role, scope and binding ([`TestTokenIssuer`]), the service
//! started on port 0 ([`spawn`]), a request helper ([`TestClient`]), the authorization walk
//! ([`walk`]), the contract checks ([`contract`]) and the schema drift check
//! ([`assert_schema_checked_in`]).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod client;
pub mod contract;
mod database;
pub mod exposition;
mod schema;
mod server;
mod tokens;
pub mod walk;

pub use client::{Answer, Body, Caller, TestClient};
pub use database::TestDatabase;
pub use exposition::check_exposition;
pub use schema::assert_schema_checked_in;
pub use server::{section, spawn, test_settings, TestServer};
pub use tokens::TestTokenIssuer;
