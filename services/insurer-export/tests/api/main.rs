//! API tests of the insurer-export service against the real register.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorization;
mod compliance;
mod contract;
mod criteria;
mod events;
mod helpers;
mod resync;
mod schedule;
mod snapshots;
mod webhooks;
