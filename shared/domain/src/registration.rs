//! The registration of one practice for one cycle year (DESIGN §3.2): its states, the events that
//! move it, and the KP requirement a positive visitation needs before it becomes a registration.
//!
//! Pure rules only: storing each transition with actor, time and reason, and answering an illegal
//! one with 409 and [`IllegalTransition::allowed_next`], is the service's job.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use crate::KpStatus;

/// Registratiestatus: where the registration of a practice for cycle year Y stands
/// (DESIGN §3.2; 000, 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationState {
    /// Aangemeld: the practice applied for Y; no annual plan yet.
    Applied,
    /// Jaarplan ingediend: the annual plan of Y awaits assessment by the registrar.
    PlanSubmitted,
    /// Jaarplan goedgekeurd: the annual plan of Y is approved; a visitation can be planned.
    PlanApproved,
    /// Jaarplan afgekeurd: the annual plan was rejected; the practice may resubmit (000).
    PlanRejected,
    /// Visitatie gepland: a visitation of Y has a date.
    VisitationPlanned,
    /// Wacht op KP-registratie: the visitation was positive, but not every therapist is
    /// kwaliteitsgeregistreerd in the Kwaliteitsregister Paramedici yet.
    AwaitingKp,
    /// Geregistreerd: registered in the praktijkregister for Y; on the 1 November list.
    Registered,
    /// Geweigerd: the visitation was negative; not registered for Y.
    Refused,
    /// Teruggetrokken: withdrawn by the practice or the registrar.
    Withdrawn,
}

crate::wire_names!(RegistrationState, error = UnknownRegistrationState, unknown = UnknownRegistrationState, {
    Applied = "applied",
    PlanSubmitted = "plan_submitted",
    PlanApproved = "plan_approved",
    PlanRejected = "plan_rejected",
    VisitationPlanned = "visitation_planned",
    AwaitingKp = "awaiting_kp",
    Registered = "registered",
    Refused = "refused",
    Withdrawn = "withdrawn",
});

/// A registration state name that is not one of [`RegistrationState::ALL`] (e.g. a query
/// parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error(
    "a registration state is one of applied, plan_submitted, plan_approved, plan_rejected, \
     visitation_planned, awaiting_kp, registered, refused or withdrawn"
)]
pub struct UnknownRegistrationState;

impl UnknownRegistrationState {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        "registration_state"
    }
}

/// What happened to a registration: the cause of a transition (DESIGN §3.2). On the wire an
/// object with an `event` tag, e.g. `{"event": "visitation_planned", "date": "2026-09-14"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RegistrationEvent {
    /// Jaarplan ingediend: the practice submitted (or, after a rejection, resubmitted) its plan.
    PlanSubmitted,
    /// Jaarplan goedgekeurd by the registrar.
    PlanApproved,
    /// Jaarplan afgekeurd by the registrar, with remarks.
    PlanRejected,
    /// Visitatie gepland (or re-planned) on `date`. Whether the date is allowed is the calendar's
    /// rule ([`crate::CycleCalendar::visitation_date_allowed`]), checked by the caller.
    VisitationPlanned { date: NaiveDate },
    /// Visitatie geannuleerd: the planned visitation was cancelled; a new date can be planned
    /// (DESIGN §3.3).
    VisitationCancelled,
    /// Visitatie positief: every component sufficient. `all_therapists_kp_registered` is
    /// [`KpRequirement::is_met`] on the outcome date.
    VisitationPositive { all_therapists_kp_registered: bool },
    /// Visitatie negatief.
    VisitationNegative,
    /// Geen visitatie dit jaar: the approved plan's practice needs no visitation in Y because a
    /// positive visitation of Y-1 counts (002; [`crate::counted_visitation`]). As after a positive
    /// visitation, `all_therapists_kp_registered` is [`KpRequirement::is_met`], on the day it is
    /// decided.
    VisitationNotDue { all_therapists_kp_registered: bool },
    /// Every therapist is now kwaliteitsgeregistreerd (KP-eis vervuld).
    KpRequirementMet,
    /// Teruggetrokken by the practice or the registrar, at any time, with a reason (stored with
    /// the transition).
    Withdrawn,
}

impl RegistrationEvent {
    /// The event's name, identical to the serde tag; used in [`IllegalTransition`].
    pub fn name(&self) -> &'static str {
        match self {
            Self::PlanSubmitted => "plan_submitted",
            Self::PlanApproved => "plan_approved",
            Self::PlanRejected => "plan_rejected",
            Self::VisitationPlanned { .. } => "visitation_planned",
            Self::VisitationCancelled => "visitation_cancelled",
            Self::VisitationPositive { .. } => "visitation_positive",
            Self::VisitationNegative => "visitation_negative",
            Self::VisitationNotDue { .. } => "visitation_not_due",
            Self::KpRequirementMet => "kp_requirement_met",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// One event of every kind and outcome, so that [`allowed_next`] finds every reachable state.
    fn probes() -> [Self; 12] {
        [
            Self::PlanSubmitted,
            Self::PlanApproved,
            Self::PlanRejected,
            Self::VisitationPlanned {
                date: NaiveDate::MIN,
            },
            Self::VisitationCancelled,
            Self::VisitationPositive {
                all_therapists_kp_registered: true,
            },
            Self::VisitationPositive {
                all_therapists_kp_registered: false,
            },
            Self::VisitationNegative,
            Self::VisitationNotDue {
                all_therapists_kp_registered: true,
            },
            Self::VisitationNotDue {
                all_therapists_kp_registered: false,
            },
            Self::KpRequirementMet,
            Self::Withdrawn,
        ]
    }
}

/// An event that the current state does not accept; the API answers 409 with the allowed next
/// states (DESIGN §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "a registration in state {from} does not accept {event_name}; allowed next states: {}",
    list_states(.allowed_next)
)]
pub struct IllegalTransition {
    pub from: RegistrationState,
    pub event_name: &'static str,
    pub allowed_next: Vec<RegistrationState>,
}

impl IllegalTransition {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        "illegal_transition"
    }
}

fn list_states(states: &[RegistrationState]) -> String {
    if states.is_empty() {
        "none".to_owned()
    } else {
        states
            .iter()
            .map(|state| state.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The rule table; `None` when `from` does not accept `event`.
fn next(from: RegistrationState, event: &RegistrationEvent) -> Option<RegistrationState> {
    use RegistrationEvent as E;
    use RegistrationState as S;
    match (from, event) {
        // DESIGN §3.2: withdrawn by the practice or the registrar, any time; only once.
        (S::Withdrawn, _) => None,
        (_, E::Withdrawn) => Some(S::Withdrawn),
        // 000: a plan is submitted first; after a rejection "nieuwe pogingen mogelijk".
        (S::Applied | S::PlanRejected, E::PlanSubmitted) => Some(S::PlanSubmitted),
        // 000: the registrar assesses the plan.
        (S::PlanSubmitted, E::PlanApproved) => Some(S::PlanApproved),
        (S::PlanSubmitted, E::PlanRejected) => Some(S::PlanRejected),
        // 000: "na beoordeling daarvan met positieve uitkomst wordt er een visitatie afgenomen";
        // a planned date may be moved.
        (S::PlanApproved | S::VisitationPlanned, E::VisitationPlanned { .. }) => {
            Some(S::VisitationPlanned)
        }
        // DESIGN §3.3: a cancelled session leaves the approved plan waiting for a new date.
        (S::VisitationPlanned, E::VisitationCancelled) => Some(S::PlanApproved),
        // 000 ("bij een positieve beoordeling is de inschrijving ... een feit"), with the KP
        // requirement of 000 (component Kwaliteitsregister Paramedici) and 001: every therapist
        // kwaliteitsgeregistreerd. The outcome may be recorded without a planned date first.
        (
            S::PlanApproved | S::VisitationPlanned,
            E::VisitationPositive {
                all_therapists_kp_registered,
            },
        ) => Some(if *all_therapists_kp_registered {
            S::Registered
        } else {
            S::AwaitingKp
        }),
        (S::PlanApproved | S::VisitationPlanned, E::VisitationNegative) => Some(S::Refused),
        // 002: a basispraktijkregister practice visited positively in Y-1 is registered for Y as
        // after a positive visitation, with the same KP requirement, once its plan is approved.
        (
            S::PlanApproved,
            E::VisitationNotDue {
                all_therapists_kp_registered,
            },
        ) => Some(if *all_therapists_kp_registered {
            S::Registered
        } else {
            S::AwaitingKp
        }),
        // 000, 001: registered once every therapist is kwaliteitsgeregistreerd.
        (S::AwaitingKp, E::KpRequirementMet) => Some(S::Registered),
        // Everything else, including any event on registered or refused (final but for
        // withdrawal), is illegal.
        _ => None,
    }
}

/// Moves a registration from `from` by `event` (DESIGN §3.2; 000, 001):
///
/// | from | event | to |
/// |---|---|---|
/// | applied, plan_rejected | plan_submitted | plan_submitted |
/// | plan_submitted | plan_approved / plan_rejected | plan_approved / plan_rejected |
/// | plan_approved, visitation_planned | visitation_planned | visitation_planned |
/// | visitation_planned | visitation_cancelled | plan_approved |
/// | plan_approved, visitation_planned | visitation_positive | registered if every therapist is KP-registered, else awaiting_kp |
/// | plan_approved, visitation_planned | visitation_negative | refused |
/// | plan_approved | visitation_not_due (002) | registered if every therapist is KP-registered, else awaiting_kp |
/// | awaiting_kp | kp_requirement_met | registered |
/// | any but withdrawn | withdrawn | withdrawn |
///
/// Registered and refused are otherwise final. Anything else is an [`IllegalTransition`] that
/// lists [`allowed_next`].
pub fn transition(
    from: RegistrationState,
    event: &RegistrationEvent,
) -> Result<RegistrationState, IllegalTransition> {
    next(from, event).ok_or_else(|| IllegalTransition {
        from,
        event_name: event.name(),
        allowed_next: allowed_next(from),
    })
}

/// Every state reachable from `from` by one event, in [`RegistrationState::ALL`] order; empty
/// for withdrawn. Used in the 409 problem of an illegal transition (DESIGN §3.2).
pub fn allowed_next(from: RegistrationState) -> Vec<RegistrationState> {
    let reachable: Vec<RegistrationState> = RegistrationEvent::probes()
        .iter()
        .filter_map(|event| next(from, event))
        .collect();
    RegistrationState::ALL
        .into_iter()
        .filter(|state| reachable.contains(state))
        .collect()
}

/// A therapist's KP registration (Kwaliteitsregister Paramedici) as the register knows it, for
/// [`kp_requirement`]. A missing status means the register has no KP data for the therapist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TherapistKp<'a> {
    /// AGB code of the therapist (zorgverlener).
    pub therapist_agb: &'a str,
    pub status: Option<KpStatus>,
    /// First day of the registration period; `None` is open.
    pub valid_from: Option<NaiveDate>,
    /// Last day of the registration period (inclusive); `None` is open.
    pub valid_until: Option<NaiveDate>,
}

impl TherapistKp<'_> {
    /// Kwaliteitsgeregistreerd on `on`: that status, and `on` within `[valid_from, valid_until]`
    /// with both bounds inclusive and a missing bound open (DESIGN §3.1). Diplomageregistreerd,
    /// not registered or no data is not enough (000, 001).
    pub fn kwaliteitsgeregistreerd_on(&self, on: NaiveDate) -> bool {
        self.status == Some(KpStatus::Kwaliteitsgeregistreerd)
            && self.valid_from.is_none_or(|from| from <= on)
            && self.valid_until.is_none_or(|until| on <= until)
    }
}

/// The AGB codes, in input order, of the therapists not kwaliteitsgeregistreerd on `on`
/// (000: visitation component Kwaliteitsregister Paramedici; 001: all therapists registered).
///
/// Empty for an empty list: a practice without therapists is not thereby compliant; use
/// [`kp_requirement`], which answers [`KpRequirement::NoTherapists`].
pub fn therapists_lacking_kp<'a>(therapists: &[TherapistKp<'a>], on: NaiveDate) -> Vec<&'a str> {
    therapists
        .iter()
        .filter(|therapist| !therapist.kwaliteitsgeregistreerd_on(on))
        .map(|therapist| therapist.therapist_agb)
        .collect()
}

/// Whether a practice meets the KP requirement of registration on a day (000, 001; DESIGN §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KpRequirement<'a> {
    /// Every therapist is kwaliteitsgeregistreerd.
    Met,
    /// These therapists (AGB codes, in input order) are not.
    Lacking(Vec<&'a str>),
    /// The practice has no active therapist; it cannot be registered.
    NoTherapists,
}

impl KpRequirement<'_> {
    /// Only [`KpRequirement::Met`] allows registration; this is the
    /// `all_therapists_kp_registered` of [`RegistrationEvent::VisitationPositive`].
    pub fn is_met(&self) -> bool {
        matches!(self, Self::Met)
    }
}

/// The KP requirement for the practice's active therapists on `on`: every therapist
/// kwaliteitsgeregistreerd (000, 001; DESIGN §3.2). A practice without any active therapist
/// cannot be registered: [`KpRequirement::NoTherapists`].
pub fn kp_requirement<'a>(therapists: &[TherapistKp<'a>], on: NaiveDate) -> KpRequirement<'a> {
    if therapists.is_empty() {
        return KpRequirement::NoTherapists;
    }
    let lacking = therapists_lacking_kp(therapists, on);
    if lacking.is_empty() {
        KpRequirement::Met
    } else {
        KpRequirement::Lacking(lacking)
    }
}

/// Whether a visitation of cycle year Y may be dated `date`: planned (`outcome == false`) or
/// taken place (`outcome == true`).
///
/// Source: 000 (the visitation follows a positive assessment of the annual plan; the last
/// possible visitation is around mid-October); DESIGN §3.2 (visitation only after an approved
/// annual plan of Y; last possible date 15 October Y). A visitation that took place cannot lie
/// in the future.
///
/// - `calendar`: the calendar of Y (its visitation deadline is inclusive);
/// - `plan_approved_on`: the day (Europe/Amsterdam) the plan of Y was approved, if it was; without
///   an approved plan the registration's state refuses the event, so this rule does not judge it;
/// - `today`: the current day in Europe/Amsterdam.
pub fn check_visitation_date(
    calendar: &crate::CycleCalendar,
    date: NaiveDate,
    outcome: bool,
    plan_approved_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), VisitationDateError> {
    if !calendar.visitation_date_allowed(date) {
        return Err(VisitationDateError::OutsideSeason {
            deadline: calendar.visitation_deadline(),
        });
    }
    if let Some(approved_on) = plan_approved_on.filter(|approved_on| date < *approved_on) {
        return Err(VisitationDateError::BeforeApproval { approved_on });
    }
    if outcome && date > today {
        return Err(VisitationDateError::InFuture { today });
    }
    Ok(())
}

/// Why a visitation date was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum VisitationDateError {
    #[error("a visitation of the cycle year takes place in that year on or before {deadline}")]
    OutsideSeason { deadline: NaiveDate },
    #[error("a visitation follows the approval of the annual plan, on {approved_on}")]
    BeforeApproval { approved_on: NaiveDate },
    #[error("a visitation that took place cannot be dated after today ({today})")]
    InFuture { today: NaiveDate },
}

impl VisitationDateError {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OutsideSeason { .. } => "visitation_after_deadline",
            Self::BeforeApproval { .. } => "visitation_before_plan_approval",
            Self::InFuture { .. } => "visitation_in_future",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use RegistrationEvent as E;
    use RegistrationState as S;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn planned() -> RegistrationEvent {
        E::VisitationPlanned {
            date: date("2026-09-14"),
        }
    }

    fn positive(kp: bool) -> RegistrationEvent {
        E::VisitationPositive {
            all_therapists_kp_registered: kp,
        }
    }

    fn not_due(kp: bool) -> RegistrationEvent {
        E::VisitationNotDue {
            all_therapists_kp_registered: kp,
        }
    }

    /// Every legal (from, event, to), with its source.
    fn legal() -> Vec<(RegistrationState, RegistrationEvent, RegistrationState)> {
        let mut legal = vec![
            // 000: the annual plan is submitted first.
            (S::Applied, E::PlanSubmitted, S::PlanSubmitted),
            // 000: after a rejection new attempts are possible.
            (S::PlanRejected, E::PlanSubmitted, S::PlanSubmitted),
            // 000: the registrar assesses the plan.
            (S::PlanSubmitted, E::PlanApproved, S::PlanApproved),
            (S::PlanSubmitted, E::PlanRejected, S::PlanRejected),
            // 000: a visitation only after an approved plan of Y; it may be re-planned.
            (S::PlanApproved, planned(), S::VisitationPlanned),
            (S::VisitationPlanned, planned(), S::VisitationPlanned),
            // DESIGN §3.3: a cancelled session leaves the plan approved, awaiting a new date.
            (
                S::VisitationPlanned,
                E::VisitationCancelled,
                S::PlanApproved,
            ),
            // 000, 001: positive visitation registers when every therapist is KP-registered.
            (S::VisitationPlanned, positive(true), S::Registered),
            (S::VisitationPlanned, positive(false), S::AwaitingKp),
            (S::PlanApproved, positive(true), S::Registered),
            (S::PlanApproved, positive(false), S::AwaitingKp),
            // 000: a negative visitation refuses.
            (S::VisitationPlanned, E::VisitationNegative, S::Refused),
            (S::PlanApproved, E::VisitationNegative, S::Refused),
            // 002: a basis practice visited positively in Y-1 registers without a visitation.
            (S::PlanApproved, not_due(true), S::Registered),
            (S::PlanApproved, not_due(false), S::AwaitingKp),
            // 000, 001: registered once the KP requirement is met.
            (S::AwaitingKp, E::KpRequirementMet, S::Registered),
        ];
        // DESIGN §3.2: withdrawn from any state, any time.
        for from in S::ALL {
            if from != S::Withdrawn {
                legal.push((from, E::Withdrawn, S::Withdrawn));
            }
        }
        legal
    }

    fn all_events() -> Vec<RegistrationEvent> {
        vec![
            E::PlanSubmitted,
            E::PlanApproved,
            E::PlanRejected,
            planned(),
            E::VisitationCancelled,
            positive(true),
            positive(false),
            E::VisitationNegative,
            not_due(true),
            not_due(false),
            E::KpRequirementMet,
            E::Withdrawn,
        ]
    }

    // DESIGN §3.2; 000, 001: every legal transition.
    #[test]
    fn every_legal_transition() {
        for (from, event, to) in legal() {
            assert_eq!(
                transition(from, &event),
                Ok(to),
                "{from} + {}",
                event.name()
            );
        }
    }

    // DESIGN §3.2: withdrawn from each non-withdrawn state, and never twice.
    #[test]
    fn withdrawn_from_every_state_but_withdrawn() {
        for from in S::ALL {
            let result = transition(from, &E::Withdrawn);
            if from == S::Withdrawn {
                let err = result.unwrap_err();
                assert_eq!(err.allowed_next, vec![]);
                assert_eq!(
                    err.to_string(),
                    "a registration in state withdrawn does not accept withdrawn; allowed next \
                     states: none"
                );
            } else {
                assert_eq!(result, Ok(S::Withdrawn), "{from}");
            }
        }
    }

    // DESIGN §3.2: every other (state, event) is refused with the allowed next states (409).
    #[test]
    fn illegal_transitions_are_refused_with_allowed_next() {
        let legal = legal();
        let mut refused = 0;
        for from in S::ALL {
            for event in all_events() {
                if legal.iter().any(|(f, e, _)| *f == from && *e == event) {
                    continue;
                }
                let err = transition(from, &event).unwrap_err();
                assert_eq!(err.from, from);
                assert_eq!(err.event_name, event.name());
                assert_eq!(err.allowed_next, allowed_next(from), "{from}");
                assert_eq!(err.code(), "illegal_transition");
                refused += 1;
            }
        }
        // 9 states × 12 events, minus the 16 + 8 legal ones.
        assert_eq!(refused, 108 - 24);
    }

    // DESIGN §3.2: the allowed next states of each state, as a table.
    #[test]
    fn allowed_next_per_state() {
        let table = [
            (S::Applied, vec![S::PlanSubmitted, S::Withdrawn]),
            (
                S::PlanSubmitted,
                vec![S::PlanApproved, S::PlanRejected, S::Withdrawn],
            ),
            (
                S::PlanApproved,
                vec![
                    S::VisitationPlanned,
                    S::AwaitingKp,
                    S::Registered,
                    S::Refused,
                    S::Withdrawn,
                ],
            ),
            (S::PlanRejected, vec![S::PlanSubmitted, S::Withdrawn]),
            (
                S::VisitationPlanned,
                vec![
                    S::PlanApproved,
                    S::VisitationPlanned,
                    S::AwaitingKp,
                    S::Registered,
                    S::Refused,
                    S::Withdrawn,
                ],
            ),
            (S::AwaitingKp, vec![S::Registered, S::Withdrawn]),
            // Registered and refused are final but for withdrawal.
            (S::Registered, vec![S::Withdrawn]),
            (S::Refused, vec![S::Withdrawn]),
            (S::Withdrawn, vec![]),
        ];
        assert_eq!(table.len(), S::ALL.len());
        for (from, expected) in table {
            assert_eq!(allowed_next(from), expected, "{from}");
        }
        // allowed_next is exactly the set of targets of the legal transitions.
        for from in S::ALL {
            for to in allowed_next(from) {
                assert!(legal().iter().any(|(f, _, t)| *f == from && *t == to));
            }
        }
    }

    // 000: a visitation only after an approved annual plan of Y.
    #[test]
    fn no_visitation_before_an_approved_plan() {
        for from in [S::Applied, S::PlanSubmitted, S::PlanRejected] {
            let err = transition(from, &planned()).unwrap_err();
            assert_eq!(err.event_name, "visitation_planned");
            assert!(!err.allowed_next.contains(&S::VisitationPlanned));
            assert!(transition(from, &positive(true)).is_err());
            assert!(transition(from, &E::VisitationNegative).is_err());
        }
        let err = transition(S::Applied, &planned()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a registration in state applied does not accept visitation_planned; allowed next \
             states: plan_submitted, withdrawn"
        );
    }

    #[test]
    fn state_wire_names_match_serde() {
        for state in S::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<S>(&json).unwrap(), state);
            assert_eq!(state.as_str().parse::<S>().unwrap(), state);
        }
        for bad in ["", "Applied", "plan-submitted", "awaiting", "geregistreerd"] {
            assert_eq!(
                S::parse(bad).unwrap_err().code(),
                "registration_state",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn event_names_match_the_serde_tag() {
        for event in all_events() {
            let json = serde_json::to_value(event).unwrap();
            assert_eq!(json["event"], event.name());
            assert_eq!(serde_json::from_value::<E>(json).unwrap(), event);
        }
        assert_eq!(
            serde_json::to_value(planned()).unwrap(),
            serde_json::json!({"event": "visitation_planned", "date": "2026-09-14"})
        );
    }

    fn kp<'a>(
        agb: &'a str,
        status: Option<KpStatus>,
        from: Option<&str>,
        until: Option<&str>,
    ) -> TherapistKp<'a> {
        TherapistKp {
            therapist_agb: agb,
            status,
            valid_from: from.map(date),
            valid_until: until.map(date),
        }
    }

    const KWAL: Option<KpStatus> = Some(KpStatus::Kwaliteitsgeregistreerd);

    // 000, 001: every therapist kwaliteitsgeregistreerd; DESIGN §3.1: the period bounds count.
    #[test]
    fn kp_validity_edges() {
        let on = date("2026-10-15");
        let until_today = kp("07000001", KWAL, Some("2021-10-16"), Some("2026-10-15"));
        let until_yesterday = kp("07000002", KWAL, Some("2021-10-15"), Some("2026-10-14"));
        let from_today = kp("07000003", KWAL, Some("2026-10-15"), None);
        let from_tomorrow = kp("07000004", KWAL, Some("2026-10-16"), None);
        let open = kp("07000005", KWAL, None, None);
        assert!(until_today.kwaliteitsgeregistreerd_on(on));
        assert!(!until_yesterday.kwaliteitsgeregistreerd_on(on));
        assert!(from_today.kwaliteitsgeregistreerd_on(on));
        assert!(!from_tomorrow.kwaliteitsgeregistreerd_on(on));
        assert!(open.kwaliteitsgeregistreerd_on(on));
        // valid_until = day is fine, the day after it is not.
        assert_eq!(kp_requirement(&[until_today], on), KpRequirement::Met);
        assert_eq!(
            kp_requirement(&[until_today], date("2026-10-16")),
            KpRequirement::Lacking(vec!["07000001"])
        );
        assert_eq!(
            therapists_lacking_kp(
                &[
                    until_today,
                    until_yesterday,
                    from_today,
                    from_tomorrow,
                    open
                ],
                on
            ),
            vec!["07000002", "07000004"]
        );
    }

    // 000, 001: diplomageregistreerd, not registered or no KP data is not enough.
    #[test]
    fn kp_status_other_than_kwaliteitsgeregistreerd_is_lacking() {
        let on = date("2026-10-15");
        let therapists = [
            kp("07000001", KWAL, None, None),
            kp("07000002", Some(KpStatus::Diplomageregistreerd), None, None),
            kp("07000003", Some(KpStatus::NotRegistered), None, None),
            kp("07000004", None, None, None),
        ];
        let requirement = kp_requirement(&therapists, on);
        assert_eq!(
            requirement,
            KpRequirement::Lacking(vec!["07000002", "07000003", "07000004"])
        );
        assert!(!requirement.is_met());
        assert!(kp_requirement(&therapists[..1], on).is_met());
    }

    // Decision: a practice without any active therapist cannot be registered.
    #[test]
    fn no_therapists_is_not_met() {
        let on = date("2026-10-15");
        assert!(therapists_lacking_kp(&[], on).is_empty());
        assert_eq!(kp_requirement(&[], on), KpRequirement::NoTherapists);
        assert!(!KpRequirement::NoTherapists.is_met());
        // Fed into the state machine, it leads to awaiting_kp, not registered.
        let event = E::VisitationPositive {
            all_therapists_kp_registered: kp_requirement(&[], on).is_met(),
        };
        assert_eq!(transition(S::VisitationPlanned, &event), Ok(S::AwaitingKp));
    }

    mod visitation_dates {
        use chrono::NaiveDate;

        use crate::{
            check_visitation_date, CalendarDefaults, CycleCalendar, CycleYear, VisitationDateError,
        };

        fn day(y: i32, m: u32, d: u32) -> NaiveDate {
            NaiveDate::from_ymd_opt(y, m, d).unwrap()
        }

        fn calendar() -> CycleCalendar {
            CycleCalendar::from_defaults(
                CycleYear::new(2026).unwrap(),
                &CalendarDefaults::default(),
            )
        }

        /// 000, DESIGN §3.2: the deadline day itself is the last possible day.
        #[test]
        fn the_deadline_day_is_allowed_and_the_day_after_refused() {
            let today = day(2026, 11, 30);
            for outcome in [false, true] {
                assert_eq!(
                    check_visitation_date(&calendar(), day(2026, 10, 15), outcome, None, today),
                    Ok(())
                );
                assert!(matches!(
                    check_visitation_date(&calendar(), day(2026, 10, 16), outcome, None, today),
                    Err(VisitationDateError::OutsideSeason { .. })
                ));
                assert!(matches!(
                    check_visitation_date(&calendar(), day(2027, 3, 1), outcome, None, today),
                    Err(VisitationDateError::OutsideSeason { .. })
                ));
            }
        }

        /// 000: the visitation follows the positive assessment of the plan.
        #[test]
        fn the_approval_day_is_allowed_and_the_day_before_refused() {
            let approved = Some(day(2026, 5, 20));
            let today = day(2026, 9, 1);
            assert_eq!(
                check_visitation_date(&calendar(), day(2026, 5, 20), true, approved, today),
                Ok(())
            );
            assert_eq!(
                check_visitation_date(&calendar(), day(2026, 5, 19), false, approved, today),
                Err(VisitationDateError::BeforeApproval {
                    approved_on: day(2026, 5, 20)
                })
            );
        }

        #[test]
        fn an_outcome_cannot_lie_in_the_future_but_a_plan_can() {
            let today = day(2026, 9, 1);
            assert_eq!(
                check_visitation_date(&calendar(), day(2026, 9, 1), true, None, today),
                Ok(())
            );
            assert_eq!(
                check_visitation_date(&calendar(), day(2026, 9, 2), true, None, today),
                Err(VisitationDateError::InFuture { today })
            );
            assert_eq!(
                check_visitation_date(&calendar(), day(2026, 9, 2), false, None, today),
                Ok(())
            );
        }
    }
}
