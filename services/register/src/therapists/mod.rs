//! Therapists (oefentherapeuten) and their memberships of practices.

pub mod routes;
