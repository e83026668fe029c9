//! API tests of the insurer-export service against the real register.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorization;
mod contract;
mod criteria;
mod helpers;
mod schedule;
mod snapshots;
mod webhooks;
