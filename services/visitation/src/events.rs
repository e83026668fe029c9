//! The events this service sends the register through its outbox (DESIGN §2, §3.3): a session
//! planned or moved, cancelled, and a visitation's outcome. Each is written in the transaction of
//! the change it reports.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::CycleYear;
use praktijkregister_events::{VisitationEvent, VisitationEventKind, VisitationOutcome};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::outbox;
use uuid::Uuid;

/// The outbox destination of the register.
pub const REGISTER: &str = "register";

/// Tells the register that `practice_agb`'s visitation is planned on (moved to) `date`, or that
/// the planned one on `date` is cancelled.
pub async fn planning(
    conn: &mut AsyncPgConnection,
    kind: VisitationEventKind,
    practice_agb: &str,
    year: CycleYear,
    date: NaiveDate,
    remarks: Option<&str>,
) -> Result<(), ApiError> {
    let event = VisitationEvent {
        event_id: Uuid::now_v7(),
        kind,
        practice_agb: practice_agb.to_string(),
        cycle_year: year.value(),
        visitation_date: date,
        outcome: None,
        remarks: remarks.map(str::to_string),
        report_sha256: None,
    };
    outbox::enqueue(conn, REGISTER, &event).await
}

/// The outcome of a visitation, with the id kept on the visitation: one outcome, one event id.
pub struct Outcome<'a> {
    pub event_id: Uuid,
    pub practice_agb: &'a str,
    pub year: CycleYear,
    pub date: NaiveDate,
    pub outcome: VisitationOutcome,
    pub remarks: Option<&'a str>,
    pub report_sha256: Option<&'a str>,
}

pub async fn outcome(conn: &mut AsyncPgConnection, o: Outcome<'_>) -> Result<(), ApiError> {
    let event = VisitationEvent {
        event_id: o.event_id,
        kind: VisitationEventKind::VisitationOutcome,
        practice_agb: o.practice_agb.to_string(),
        cycle_year: o.year.value(),
        visitation_date: o.date,
        outcome: Some(o.outcome),
        remarks: o.remarks.map(str::to_string),
        report_sha256: o.report_sha256.map(str::to_string),
    };
    outbox::enqueue(conn, REGISTER, &event).await
}
