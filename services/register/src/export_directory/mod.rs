//! The directory of every practice with its registrations and consents for the insurer-export
//! service (DESIGN §2), from which it (re)loads its copy of what the insurers' list shows: read
//! in three set-based queries so that the nation's practices come in one answer.

pub mod repository;
pub mod routes;
