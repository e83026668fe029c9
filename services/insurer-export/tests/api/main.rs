//! API tests of the insurer-export service against the real register.

mod authorization;
mod contract;
mod criteria;
mod helpers;
mod snapshots;
mod webhooks;
