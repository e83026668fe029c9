//! API tests of the register service: the real service on port 0, a real PostgreSQL database per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorization;
mod contract;
mod frame;
mod helpers;
mod kp;
mod practices;
mod therapists;
mod tokens;
