//! API tests of the visitation service, against a real register started by each test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorization;
mod contract;
mod due;
mod helpers;
mod outbox;
mod outcomes;
mod planner;
mod sessions;
