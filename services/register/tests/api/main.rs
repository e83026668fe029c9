//! API tests of the register service: the real service on port 0, a real PostgreSQL database per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_trail;
mod authorization;
mod compliance;
mod contract;
mod cycle;
mod deliveries;
mod demo;
mod extra_service;
mod frame;
mod hardening;
mod helpers;
mod improvement_plans;
mod jwks;
mod kp;
mod kp_runs;
mod overview;
mod practices;
mod public_register;
mod quality;
mod therapists;
mod tokens;
mod visitation_directory;
mod visitation_rhythm;
