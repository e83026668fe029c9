//! What every Praktijkregister service needs: configuration, telemetry, problem+json errors,
//! token verification and scopes, the database pool and migrations, audit log, metrics, and the
//! HTTP frame with health, metrics and API documentation endpoints; events out (outbox relay) and
//! in (inbox), and calls to other services.

pub mod audit;
pub mod auth;
pub mod canonical_json;
pub mod clock;
pub mod conditional;
pub mod config;
pub mod db;
pub mod denials;
pub mod digest;
pub mod error;
pub mod h1;
pub mod http;
pub mod idempotency;
pub mod inbox;
pub mod local_postgres;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod pagination;
pub mod paths;
pub mod rate_limit;
pub mod retention;
#[cfg(feature = "test-support")]
pub mod schema_check;
pub mod service;
pub mod service_client;
pub mod signing;
mod strict_json;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
