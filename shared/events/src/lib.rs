//! The wire types of the events the Praktijkregister services send each other.
//!
//! Events leave a service through its transactional outbox and arrive at another service's
//! internal endpoint, which applies each one once (DESIGN §2: events through a transactional
//! outbox, receivers idempotent on the event id). Producer and consumer both depend on this crate,
//! so that the two ends cannot drift apart: a field added or renamed here changes both, and a
//! receiver refuses members it does not know (`deny_unknown_fields`) instead of silently
//! dropping them.
//!
//! There is no envelope: every event carries its own `event_id`, and the [`Event`] trait gives the
//! platform's outbox and inbox what they need to know about any event.

pub mod directory;
pub mod export_directory;
pub mod kp;
pub mod practice;
pub mod visitation;

use serde::Serialize;
use uuid::Uuid;

pub use directory::{
    DirectoryIntervisionGroup, DirectoryLocation, DirectoryPractice, DirectoryPracticeGroup,
    VisitationDirectory,
};
pub use export_directory::{
    ExportDirectory, ExportDirectoryConsent, ExportDirectoryPractice, ExportDirectoryRegistration,
};
pub use kp::{KpEvent, KpEventKind, KpState, INSURER_EXPORT};
pub use practice::{PracticeChange, PracticeEvent, PracticeLocation, RegisterEvent};
pub use visitation::{VisitationEvent, VisitationEventKind, VisitationOutcome};

/// What the outbox (sending) and the inbox (receiving, once per id) need of an event.
pub trait Event: Serialize {
    /// The event's identity: a receiver applies one id once, however often it is delivered.
    fn event_id(&self) -> Uuid;

    /// A short snake_case name of what happened (`visitation_outcome`), kept beside the event in
    /// the outbox and inbox tables for operators and metrics.
    fn kind(&self) -> &'static str;
}
