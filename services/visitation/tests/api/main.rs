//! API tests of the visitation service, against a real register started by each test.

mod helpers;
mod sessions;
