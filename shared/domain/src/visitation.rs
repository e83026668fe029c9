//! Visitation (DESIGN §3.3; 000, 001 §1.2, 002): the rules of a visitation session (who may visit
//! whom, when and with which visitor), when a practice is due, the components a visitation scores
//! and when an outcome may be positive, and what a report must be.
//!
//! Pure rules only: the facts (practices from the register's directory, visitors, declared
//! relations, sessions already held) are parameters; each refusal carries a stable code.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use crate::{CycleYear, PracticeTier};

/// Dagdeel: a visitation session takes one part of one day (DESIGN §3.3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PartOfDay {
    /// Ochtend.
    Morning,
    /// Middag.
    Afternoon,
}

crate::wire_names!(PartOfDay, error = UnknownPartOfDay, unknown = UnknownPartOfDay, {
    Morning = "morning",
    Afternoon = "afternoon",
});

/// A part of day that is neither `morning` nor `afternoon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a part of day is morning or afternoon")]
pub struct UnknownPartOfDay;

impl UnknownPartOfDay {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        "part_of_day"
    }
}

/// The 8 components of a visitation (000), each scored sufficient or insufficient.
pub const DEFAULT_COMPONENTS: [&str; 8] = [
    "kwaliteitsregister_paramedici",
    "practice_organisation_and_facilities",
    "hygiene_privacy_safety",
    "complaints_and_disputes",
    "methodical_practice_file_review",
    "vvocm_guidelines",
    "laws_and_regulations",
    "annual_plan",
];

/// The outcome indicators whose deviation the practice must explain (001 §1.2f).
pub const OUTCOME_INDICATORS: [&str; 3] = ["prem", "results", "treatment_index"];

/// A conflict of interest between the parties of a session (DESIGN §3.3; 001 §1.2c-d); each has
/// its own reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Conflict {
    /// A practice cannot visit itself.
    SamePractice,
    /// Both practices are one enterprise (KvK number): tied (001 §1.2c).
    SameKvk,
    /// The practices share an address (normalised postal code and house number): tied (001 §1.2c).
    SameAddress,
    /// The registrar declared a business relation between the practices (001 §1.2c "verbonden of
    /// zakelijk belang").
    DeclaredRelation,
    /// A therapist of one practice is in an intervision group with a therapist of the other
    /// (001 §1.2d).
    SharedIntervisionGroup,
    /// The visitor works at the practice (001 §1.2c).
    VisitorWorksAtPractice,
    /// The registrar declared a business relation between the visitor and the practice
    /// (001 §1.2c).
    VisitorDeclaredRelation,
    /// The visitor is in an intervision group with a therapist of the practice (001 §1.2d).
    VisitorSharedIntervisionGroup,
}

impl Conflict {
    /// Stable snake_case code for machines.
    pub fn code(self) -> &'static str {
        match self {
            Self::SamePractice => "same_practice",
            Self::SameKvk => "same_kvk",
            Self::SameAddress => "same_address",
            Self::DeclaredRelation => "declared_relation",
            Self::SharedIntervisionGroup => "shared_intervision_group",
            Self::VisitorWorksAtPractice => "visitor_works_at_practice",
            Self::VisitorDeclaredRelation => "visitor_declared_relation",
            Self::VisitorSharedIntervisionGroup => "visitor_shared_intervision_group",
        }
    }

    /// What the code means, for people.
    pub fn message(self) -> &'static str {
        match self {
            Self::SamePractice => "a practice cannot visit itself",
            Self::SameKvk => "the practices have the same KvK number",
            Self::SameAddress => "the practices share an address",
            Self::DeclaredRelation => "a business relation between the practices is declared",
            Self::SharedIntervisionGroup => {
                "therapists of the two practices share an intervision group"
            }
            Self::VisitorWorksAtPractice => "the visitor works at the practice",
            Self::VisitorDeclaredRelation => {
                "a business relation between the visitor and the practice is declared"
            }
            Self::VisitorSharedIntervisionGroup => {
                "the visitor shares an intervision group with a therapist of the practice"
            }
        }
    }
}

/// A practice as the conflict rules see it: from the register's directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PracticeProfile {
    pub agb: String,
    pub kvk_number: String,
    /// Normalised addresses of its locations ([`normalise_address`]).
    pub addresses: BTreeSet<String>,
    /// AGB codes of the therapists working there.
    pub therapists: BTreeSet<String>,
    /// The intervision groups its therapists belong to.
    pub intervision_groups: BTreeSet<String>,
}

/// A visitor as the conflict rules see them: the practices where their therapist AGB works and
/// the intervision groups it belongs to (both empty for a visitor who is no therapist).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorProfile {
    pub id: String,
    pub practices: BTreeSet<String>,
    pub intervision_groups: BTreeSet<String>,
}

/// Who a declared relation ties to a practice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelationParty {
    /// Another practice (by AGB).
    Practice(String),
    /// A visitor (by id).
    Visitor(String),
}

/// A business tie the registrar declared (001 §1.2c), valid from a day, until a day (inclusive) or
/// open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredRelation {
    pub party: RelationParty,
    pub practice_agb: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl DeclaredRelation {
    /// Whether the relation holds on any day of `from..=until`.
    pub fn active_during(&self, from: NaiveDate, until: NaiveDate) -> bool {
        self.valid_from <= until && self.valid_until.is_none_or(|end| end >= from)
    }

    fn ties(&self, party: &RelationParty, practice: &str) -> bool {
        let direct = self.party == *party && self.practice_agb == practice;
        // Between two practices the relation holds both ways.
        let reverse = matches!(party, RelationParty::Practice(other)
            if self.practice_agb == *other && self.party == RelationParty::Practice(practice.to_string()));
        direct || reverse
    }
}

/// The address of a location as the same-address rule compares it: the postal code without
/// spaces in capitals and the house number (with addition) in lower case without spaces.
pub fn normalise_address(postal_code: &str, house_number: &str) -> String {
    let postal: String = postal_code
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let number: String = house_number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    format!("{postal} {number}")
}

/// The conflicts of interest between the two practices of a session, for relations active during
/// `period` (DESIGN §3.3; 001 §1.2c-d). Empty when they may visit each other.
pub fn practice_conflicts(
    a: &PracticeProfile,
    b: &PracticeProfile,
    relations: &[DeclaredRelation],
    period: (NaiveDate, NaiveDate),
) -> Vec<Conflict> {
    let mut found = Vec::new();
    if a.agb == b.agb {
        found.push(Conflict::SamePractice);
    }
    if a.kvk_number == b.kvk_number {
        found.push(Conflict::SameKvk);
    }
    if !a.addresses.is_disjoint(&b.addresses) {
        found.push(Conflict::SameAddress);
    }
    let declared = relations.iter().any(|relation| {
        relation.active_during(period.0, period.1)
            && relation.ties(&RelationParty::Practice(a.agb.clone()), &b.agb)
    });
    if declared {
        found.push(Conflict::DeclaredRelation);
    }
    if !a.intervision_groups.is_disjoint(&b.intervision_groups) {
        found.push(Conflict::SharedIntervisionGroup);
    }
    found
}

/// The conflicts of interest between a visitor and a practice they would visit (DESIGN §3.3;
/// 001 §1.2c-d). Empty when the visitor may visit it.
pub fn visitor_conflicts(
    visitor: &VisitorProfile,
    practice: &PracticeProfile,
    relations: &[DeclaredRelation],
    period: (NaiveDate, NaiveDate),
) -> Vec<Conflict> {
    let mut found = Vec::new();
    if visitor.practices.contains(&practice.agb) {
        found.push(Conflict::VisitorWorksAtPractice);
    }
    let declared = relations.iter().any(|relation| {
        relation.active_during(period.0, period.1)
            && relation.ties(&RelationParty::Visitor(visitor.id.clone()), &practice.agb)
    });
    if declared {
        found.push(Conflict::VisitorDeclaredRelation);
    }
    if !visitor
        .intervision_groups
        .is_disjoint(&practice.intervision_groups)
    {
        found.push(Conflict::VisitorSharedIntervisionGroup);
    }
    found
}

/// Where a practice stands for a new session of cycle year Y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PracticeStanding {
    /// The day its annual plan of Y was approved; `None`: no approved plan (000).
    pub plan_approved_on: Option<NaiveDate>,
    /// Whether the registration accepts a planned visitation (`plan_approved` or
    /// `visitation_planned`).
    pub awaiting_visitation: bool,
    /// Whether it already has another session in Y.
    pub already_planned: bool,
}

/// Where a visitor stands for a new session on `date` in a part of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorStanding {
    /// The day the visitor finished the visitor training; `None`: not trained.
    pub trained_on: Option<NaiveDate>,
    pub authorised_from: NaiveDate,
    /// Last day of the authorisation (inclusive); `None`: open.
    pub authorised_until: Option<NaiveDate>,
    /// Whether the visitor declared that part of that day available.
    pub available: bool,
    /// Whether the visitor already holds another session in that part of that day.
    pub busy_in_slot: bool,
    /// Other sessions of the visitor in the cycle year, and in the ISO week of the date.
    pub sessions_in_year: u32,
    pub sessions_in_week: u32,
    pub max_per_year: u32,
    pub max_per_week: u32,
}

/// The day of a session and the limits of its cycle year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDay {
    pub date: NaiveDate,
    /// Today in Europe/Amsterdam.
    pub today: NaiveDate,
    pub year: CycleYear,
    /// The last day of the season (the register's calendar, inclusive).
    pub visitation_deadline: NaiveDate,
}

/// One broken rule of a session: the request field it concerns, a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

/// The parties of a session: the two practices (with their standing) and the visitor.
pub struct SessionParties<'a> {
    pub practice_a: (&'a PracticeProfile, PracticeStanding),
    pub practice_b: (&'a PracticeProfile, PracticeStanding),
    pub visitor: (&'a VisitorProfile, VisitorStanding),
}

/// Every rule a session breaks, not just the first (DESIGN §3.3; 000; 001 §1.2c-d):
///
/// - the day: not in the past, in the cycle year and on or before the visitation deadline (000);
/// - each practice: an approved annual plan of Y (000), the date not before its approval, a
///   registration awaiting a visitation, and no other session in Y;
/// - the visitor: trained and authorised on that day (001 §1.2c), available in that part of the
///   day, not holding another session then, and within their capacity per year and per week;
/// - conflicts of interest between the practices and between the visitor and either practice
///   ([`practice_conflicts`], [`visitor_conflicts`]).
///
/// Empty when the session may take place.
pub fn session_violations(
    day: &SessionDay,
    parties: &SessionParties<'_>,
    relations: &[DeclaredRelation],
) -> Vec<Violation> {
    let mut found = Vec::new();
    let date = day.date;
    if date < day.today {
        found.push(Violation::new(
            "date",
            "date_in_past",
            format!("{date} lies before today ({})", day.today),
        ));
    }
    if i32::from(day.year.value()) != date.year() {
        found.push(Violation::new(
            "date",
            "date_outside_cycle_year",
            format!("{date} is not in cycle year {}", day.year),
        ));
    }
    if date > day.visitation_deadline {
        found.push(Violation::new(
            "date",
            "after_visitation_deadline",
            format!(
                "the last day for a visitation of {} is {}",
                day.year, day.visitation_deadline
            ),
        ));
    }
    for (field, (practice, standing)) in [
        ("practice_a_agb", &parties.practice_a),
        ("practice_b_agb", &parties.practice_b),
    ] {
        match standing.plan_approved_on {
            None => found.push(Violation::new(
                field,
                "no_approved_plan",
                format!(
                    "practice {} has no approved annual plan for {}",
                    practice.agb, day.year
                ),
            )),
            Some(approved) if date < approved => found.push(Violation::new(
                field,
                "before_plan_approval",
                format!(
                    "the annual plan of practice {} was approved on {approved}",
                    practice.agb
                ),
            )),
            Some(_) if !standing.awaiting_visitation => found.push(Violation::new(
                field,
                "registration_not_awaiting_visitation",
                format!(
                    "the registration of practice {} for {} awaits no visitation",
                    practice.agb, day.year
                ),
            )),
            Some(_) => {}
        }
        if standing.already_planned {
            found.push(Violation::new(
                field,
                "practice_already_planned",
                format!(
                    "practice {} already has a session in {}",
                    practice.agb, day.year
                ),
            ));
        }
    }
    let (visitor, standing) = &parties.visitor;
    if standing.trained_on.is_none_or(|trained| trained > date) {
        found.push(Violation::new(
            "visitor_id",
            "visitor_not_trained",
            format!("visitor {} is not trained on {date}", visitor.id),
        ));
    }
    let authorised = standing.authorised_from <= date
        && standing.authorised_until.is_none_or(|until| until >= date);
    if !authorised {
        found.push(Violation::new(
            "visitor_id",
            "visitor_not_authorised",
            format!("visitor {} is not authorised on {date}", visitor.id),
        ));
    }
    if !standing.available {
        found.push(Violation::new(
            "visitor_id",
            "visitor_not_available",
            format!(
                "visitor {} is not available in that part of {date}",
                visitor.id
            ),
        ));
    }
    if standing.busy_in_slot {
        found.push(Violation::new(
            "visitor_id",
            "visitor_double_booked",
            format!(
                "visitor {} already holds a session in that part of {date}",
                visitor.id
            ),
        ));
    }
    if standing.sessions_in_year >= standing.max_per_year {
        found.push(Violation::new(
            "visitor_id",
            "visitor_over_capacity_year",
            format!(
                "visitor {} already holds {} sessions in {}",
                visitor.id, standing.sessions_in_year, day.year
            ),
        ));
    }
    if standing.sessions_in_week >= standing.max_per_week {
        found.push(Violation::new(
            "visitor_id",
            "visitor_over_capacity_week",
            format!(
                "visitor {} already holds {} sessions in the week of {date}",
                visitor.id, standing.sessions_in_week
            ),
        ));
    }
    let period = (date, date);
    let (a, b) = (parties.practice_a.0, parties.practice_b.0);
    for conflict in practice_conflicts(a, b, relations, period) {
        found.push(Violation::new(
            "practice_b_agb",
            conflict.code(),
            conflict.message(),
        ));
    }
    for (field, practice) in [("practice_a_agb", a), ("practice_b_agb", b)] {
        for conflict in visitor_conflicts(visitor, practice, relations, period) {
            found.push(Violation::new(
                field,
                conflict.code(),
                format!("{} ({})", conflict.message(), practice.agb),
            ));
        }
    }
    found
}

/// The first day (Monday) of the ISO week of `date`: the visitor's weekly capacity counts per
/// ISO week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday()))
}

/// Why a practice needs a visitation in cycle year Y.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueReason {
    /// Entreevisitatie: new to the register, to be passed before the entry-visitation deadline
    /// (001 §1.2a).
    EntryVisitation,
    /// Praktijkregister: a visitation every year (000; 001 §1.2b).
    Yearly,
    /// Basispraktijkregister: a visitation every two years, and none last year (002).
    TwoYearly,
}

/// Why a practice needs no visitation in cycle year Y.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotDueReason {
    /// The registration of Y is refused or withdrawn: it takes no further visitation
    /// (DESIGN §3.2: refused and withdrawn are final).
    RegistrationClosed,
    /// A positive visitation already took place in Y.
    VisitedThisYear,
    /// Basispraktijkregister, visited positively in Y-1 (002: every two years).
    VisitedLastYear,
}

/// Whether a practice is due for a visitation in `year` (000; 001 §1.2a-b; 002): a registration
/// that is refused or withdrawn takes none (DESIGN §3.2); a practice new to the register needs its
/// entry visitation; one positively visited in `year` is done; the
/// praktijkregister tier is visited every year, the basispraktijkregister tier every two years (not
/// in the year after a positive visitation).
pub fn visitation_due(
    tier: PracticeTier,
    year: CycleYear,
    new_to_register: bool,
    last_positive_visitation: Option<NaiveDate>,
    registration_closed: bool,
) -> Result<DueReason, NotDueReason> {
    if registration_closed {
        return Err(NotDueReason::RegistrationClosed);
    }
    let y = i32::from(year.value());
    let last_year = last_positive_visitation.map(|d| d.year());
    if last_year == Some(y) {
        return Err(NotDueReason::VisitedThisYear);
    }
    if new_to_register {
        return Ok(DueReason::EntryVisitation);
    }
    match tier {
        PracticeTier::Praktijkregister => Ok(DueReason::Yearly),
        PracticeTier::Basispraktijkregister => {
            let interval = i32::from(tier.visitation_interval_years());
            match last_year {
                Some(last) if y - last < interval => Err(NotDueReason::VisitedLastYear),
                _ => Ok(DueReason::TwoYearly),
            }
        }
    }
}

/// The positive visitation that stands in for one in `year`, when the registration of `year` needs
/// none (002: the basispraktijkregister is visited every two years, so a practice visited
/// positively in Y-1 is registered for Y without a visitation). The rule is [`visitation_due`]'s,
/// so the register and the visitation service's due list never disagree: `Some(last visitation)`
/// exactly when it answers [`NotDueReason::VisitedLastYear`], `None` when a visitation is due (or
/// already took place in `year`).
pub fn counted_visitation(
    tier: PracticeTier,
    year: CycleYear,
    new_to_register: bool,
    last_positive_visitation: Option<NaiveDate>,
) -> Option<NaiveDate> {
    match visitation_due(tier, year, new_to_register, last_positive_visitation, false) {
        Err(NotDueReason::VisitedLastYear) => last_positive_visitation,
        _ => None,
    }
}

/// The SHA-256 of a visitation report (001 §1.2g), as 64 lower-case hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportDigest(String);

impl ReportDigest {
    /// Parses 64 hexadecimal digits in either case; kept in lower case.
    pub fn parse(raw: &str) -> Result<Self, ReportDigestError> {
        if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(ReportDigestError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A report digest that is not 64 hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a report's SHA-256 is 64 hexadecimal digits")]
pub struct ReportDigestError;

impl ReportDigestError {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        "report_sha256_format"
    }
}

/// Beoordeling of one component (000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentScore {
    /// Voldoende.
    Sufficient,
    /// Onvoldoende.
    Insufficient,
}

/// Why an outcome cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutcomeError {
    #[error("every component needs a score first; missing: {}", .0.join(", "))]
    Unscored(Vec<String>),
    #[error("a positive outcome needs every component sufficient; insufficient: {}", .0.join(", "))]
    Insufficient(Vec<String>),
    #[error("a deviating outcome indicator needs the practice's explanation: {}", .0.join(", "))]
    UnexplainedDeviation(Vec<String>),
}

impl OutcomeError {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unscored(_) => "components_unscored",
            Self::Insufficient(_) => "insufficient_components",
            Self::UnexplainedDeviation(_) => "explanation_required",
        }
    }

    /// The components or indicators concerned.
    pub fn subjects(&self) -> &[String] {
        match self {
            Self::Unscored(names)
            | Self::Insufficient(names)
            | Self::UnexplainedDeviation(names) => names,
        }
    }
}

/// A deviating outcome indicator and the practice's explanation (001 §1.2f).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorDeviation {
    pub indicator: String,
    pub explanation: Option<String>,
}

/// The indicators that deviate without the practice's explanation (001 §1.2f).
pub fn unexplained_deviations(deviations: &[IndicatorDeviation]) -> Vec<String> {
    deviations
        .iter()
        .filter(|d| d.explanation.as_deref().is_none_or(|e| e.trim().is_empty()))
        .map(|d| d.indicator.clone())
        .collect()
}

/// Whether an outcome may be recorded (000; 001 §1.2f): every component of the year's list
/// scored, every deviation explained, and a positive outcome only with every component
/// sufficient.
pub fn check_outcome(
    components: &[String],
    scores: &BTreeMap<String, ComponentScore>,
    deviations: &[IndicatorDeviation],
    positive: bool,
) -> Result<(), OutcomeError> {
    let unscored: Vec<String> = components
        .iter()
        .filter(|c| !scores.contains_key(*c))
        .cloned()
        .collect();
    if !unscored.is_empty() {
        return Err(OutcomeError::Unscored(unscored));
    }
    let unexplained = unexplained_deviations(deviations);
    if !unexplained.is_empty() {
        return Err(OutcomeError::UnexplainedDeviation(unexplained));
    }
    if positive {
        let insufficient: Vec<String> = components
            .iter()
            .filter(|c| scores.get(*c) == Some(&ComponentScore::Insufficient))
            .cloned()
            .collect();
        if !insufficient.is_empty() {
            return Err(OutcomeError::Insufficient(insufficient));
        }
    }
    Ok(())
}

/// Why a report is not accepted as a PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ReportError {
    /// The content does not start with the PDF header: another kind of file (415).
    #[error("the report is not a PDF: its content does not start with %PDF-")]
    NotPdf,
    /// The header is there but the file structure is not: no `%%EOF` at the end, or no object.
    #[error("the report is not a complete PDF: it lacks objects or the %%EOF end marker")]
    Malformed,
}

impl ReportError {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPdf => "not_pdf",
            Self::Malformed => "pdf_malformed",
        }
    }
}

/// Checks that `bytes` are a PDF by content, never by the declared type (ISO 32000-1 §7.5.2,
/// §7.5.5): the header `%PDF-1.x` or `%PDF-2.x` at the start, at least one indirect object, and the
/// end-of-file marker `%%EOF` within the last 1024 bytes.
pub fn check_pdf(bytes: &[u8]) -> Result<(), ReportError> {
    let header_ok = bytes.len() >= 8
        && bytes.starts_with(b"%PDF-")
        && matches!(bytes[5], b'1' | b'2')
        && bytes[6] == b'.'
        && bytes[7].is_ascii_digit();
    if !header_ok {
        return Err(ReportError::NotPdf);
    }
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    let has_eof = tail.windows(5).any(|w| w == b"%%EOF");
    let has_object = bytes.windows(3).any(|w| w == b"obj");
    if has_eof && has_object {
        Ok(())
    } else {
        Err(ReportError::Malformed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn practice(agb: &str, kvk: &str, address: &str) -> PracticeProfile {
        PracticeProfile {
            agb: agb.into(),
            kvk_number: kvk.into(),
            addresses: set(&[address]),
            therapists: BTreeSet::new(),
            intervision_groups: BTreeSet::new(),
        }
    }

    const SEASON: (&str, &str) = ("2026-01-01", "2026-10-15");

    fn season() -> (NaiveDate, NaiveDate) {
        (day(SEASON.0), day(SEASON.1))
    }

    fn codes(conflicts: &[Conflict]) -> Vec<&'static str> {
        conflicts.iter().map(|c| c.code()).collect()
    }

    // DESIGN §3.3: each conflict has its own reason code, several are listed together.
    #[test]
    fn each_practice_conflict_has_its_own_code() {
        let a = practice("07000001", "12345678", "1234AB 1");
        let b = practice("07000002", "87654321", "9999ZZ 2");
        assert!(practice_conflicts(&a, &b, &[], season()).is_empty());
        assert_eq!(
            codes(&practice_conflicts(&a, &a, &[], season())),
            ["same_practice", "same_kvk", "same_address"]
        );
        let mut b2 = b.clone();
        b2.kvk_number = a.kvk_number.clone();
        assert_eq!(
            codes(&practice_conflicts(&a, &b2, &[], season())),
            ["same_kvk"]
        );
        let mut b3 = b.clone();
        b3.addresses = a.addresses.clone();
        assert_eq!(
            codes(&practice_conflicts(&a, &b3, &[], season())),
            ["same_address"]
        );
        // 001 §1.2d: a shared intervision group.
        let (mut a4, mut b4) = (a.clone(), b.clone());
        a4.intervision_groups = set(&["g1"]);
        b4.intervision_groups = set(&["g1", "g2"]);
        assert_eq!(
            codes(&practice_conflicts(&a4, &b4, &[], season())),
            ["shared_intervision_group"]
        );
    }

    // 001 §1.2c: a declared relation counts both ways, only while it holds.
    #[test]
    fn a_declared_relation_between_practices_holds_both_ways_within_its_period() {
        let a = practice("07000001", "12345678", "1234AB 1");
        let b = practice("07000002", "87654321", "9999ZZ 2");
        let relation = DeclaredRelation {
            party: RelationParty::Practice("07000002".into()),
            practice_agb: "07000001".into(),
            valid_from: day("2026-03-01"),
            valid_until: Some(day("2026-06-30")),
        };
        let relations = [relation];
        for (x, y) in [(&a, &b), (&b, &a)] {
            assert_eq!(
                codes(&practice_conflicts(x, y, &relations, season())),
                ["declared_relation"]
            );
        }
        let after = (day("2026-07-01"), day("2026-07-01"));
        assert!(practice_conflicts(&a, &b, &relations, after).is_empty());
        let last_day = (day("2026-06-30"), day("2026-06-30"));
        assert_eq!(practice_conflicts(&a, &b, &relations, last_day).len(), 1);
    }

    // 001 §1.2c-d: the visitor's own practices, relations and intervision groups.
    #[test]
    fn each_visitor_conflict_has_its_own_code() {
        let mut p = practice("07000001", "12345678", "1234AB 1");
        p.intervision_groups = set(&["g1"]);
        let visitor = VisitorProfile {
            id: "v1".into(),
            practices: set(&["07000001"]),
            intervision_groups: set(&["g1"]),
        };
        let relations = [DeclaredRelation {
            party: RelationParty::Visitor("v1".into()),
            practice_agb: "07000001".into(),
            valid_from: day("2020-01-01"),
            valid_until: None,
        }];
        assert_eq!(
            codes(&visitor_conflicts(&visitor, &p, &relations, season())),
            [
                "visitor_works_at_practice",
                "visitor_declared_relation",
                "visitor_shared_intervision_group"
            ]
        );
        let stranger = VisitorProfile {
            id: "v2".into(),
            ..VisitorProfile::default()
        };
        assert!(visitor_conflicts(&stranger, &p, &relations, season()).is_empty());
    }

    #[test]
    fn addresses_are_compared_normalised() {
        assert_eq!(normalise_address("1234 ab", "12 - A"), "1234AB 12a");
        assert_eq!(
            normalise_address("1234AB", "12a"),
            normalise_address(" 1234 AB", "12 A")
        );
    }

    fn standing() -> PracticeStanding {
        PracticeStanding {
            plan_approved_on: Some(day("2026-05-01")),
            awaiting_visitation: true,
            already_planned: false,
        }
    }

    fn visitor_standing() -> VisitorStanding {
        VisitorStanding {
            trained_on: Some(day("2025-01-01")),
            authorised_from: day("2025-01-01"),
            authorised_until: Some(day("2026-12-31")),
            available: true,
            busy_in_slot: false,
            sessions_in_year: 0,
            sessions_in_week: 0,
            max_per_year: 10,
            max_per_week: 2,
        }
    }

    fn session_day(date: &str) -> SessionDay {
        SessionDay {
            date: day(date),
            today: day("2026-09-01"),
            year: CycleYear::new(2026).unwrap(),
            visitation_deadline: day("2026-10-15"),
        }
    }

    fn violation_codes(
        date: &str,
        a: PracticeStanding,
        b: PracticeStanding,
        v: VisitorStanding,
    ) -> Vec<&'static str> {
        let pa = practice("07000001", "12345678", "1234AB 1");
        let pb = practice("07000002", "87654321", "9999ZZ 2");
        let visitor = VisitorProfile {
            id: "v1".into(),
            ..VisitorProfile::default()
        };
        session_violations(
            &session_day(date),
            &SessionParties {
                practice_a: (&pa, a),
                practice_b: (&pb, b),
                visitor: (&visitor, v),
            },
            &[],
        )
        .into_iter()
        .map(|v| v.code)
        .collect()
    }

    // 000: the deadline day itself is the last possible day; today is allowed, yesterday not.
    #[test]
    fn the_session_day_rules_at_their_edges() {
        let ok = |d| violation_codes(d, standing(), standing(), visitor_standing());
        assert!(ok("2026-10-15").is_empty());
        assert_eq!(ok("2026-10-16"), ["after_visitation_deadline"]);
        assert!(ok("2026-09-01").is_empty());
        assert_eq!(ok("2026-08-31"), ["date_in_past"]);
    }

    // 000: no session without an approved plan; 001 §1.2c: trained and authorised on the day.
    #[test]
    fn every_broken_rule_is_listed_at_once() {
        let none = PracticeStanding {
            plan_approved_on: None,
            awaiting_visitation: false,
            already_planned: true,
        };
        let mut v = visitor_standing();
        v.authorised_until = Some(day("2026-09-09"));
        v.available = false;
        v.busy_in_slot = true;
        v.sessions_in_year = 10;
        v.sessions_in_week = 2;
        assert_eq!(
            violation_codes("2026-09-10", none, standing(), v),
            [
                "no_approved_plan",
                "practice_already_planned",
                "visitor_not_authorised",
                "visitor_not_available",
                "visitor_double_booked",
                "visitor_over_capacity_year",
                "visitor_over_capacity_week"
            ]
        );
        // Authorised through the last day of the authorisation, inclusive.
        let mut v = visitor_standing();
        v.authorised_until = Some(day("2026-09-10"));
        assert!(violation_codes("2026-09-10", standing(), standing(), v).is_empty());
    }

    #[test]
    fn the_week_starts_on_monday() {
        assert_eq!(week_start(day("2026-09-13")), day("2026-09-07"));
        assert_eq!(week_start(day("2026-09-14")), day("2026-09-14"));
    }

    // 000, 001 §1.2a-b, 002.
    #[test]
    fn who_is_due_and_why() {
        let y = CycleYear::new(2026).unwrap();
        use PracticeTier::*;
        assert_eq!(
            visitation_due(Praktijkregister, y, false, None, false),
            Ok(DueReason::Yearly)
        );
        assert_eq!(
            visitation_due(Praktijkregister, y, false, Some(day("2025-09-01")), false),
            Ok(DueReason::Yearly)
        );
        assert_eq!(
            visitation_due(Praktijkregister, y, true, None, false),
            Ok(DueReason::EntryVisitation)
        );
        // 002: not due in the year after a positive visitation, due again the year after.
        assert_eq!(
            visitation_due(
                Basispraktijkregister,
                y,
                false,
                Some(day("2025-09-01")),
                false
            ),
            Err(NotDueReason::VisitedLastYear)
        );
        assert_eq!(
            visitation_due(
                Basispraktijkregister,
                y,
                false,
                Some(day("2024-09-01")),
                false
            ),
            Ok(DueReason::TwoYearly)
        );
        assert_eq!(
            visitation_due(Praktijkregister, y, false, Some(day("2026-03-01")), false),
            Err(NotDueReason::VisitedThisYear)
        );
        // DESIGN §3.2: a refused or withdrawn registration is final.
        assert_eq!(
            visitation_due(Praktijkregister, y, true, None, true),
            Err(NotDueReason::RegistrationClosed)
        );
    }

    // 002: the visitation of Y-1 counts for Y in the basispraktijkregister only, for one year.
    #[test]
    fn a_visitation_last_year_counts_for_a_basis_practice_only() {
        use PracticeTier::*;
        let y = CycleYear::new(2026).unwrap();
        let last_year = Some(day("2025-09-01"));
        assert_eq!(
            counted_visitation(Basispraktijkregister, y, false, last_year),
            last_year
        );
        assert_eq!(
            counted_visitation(Praktijkregister, y, false, last_year),
            None
        );
        assert_eq!(
            counted_visitation(Basispraktijkregister, y, false, Some(day("2024-09-01"))),
            None
        );
        assert_eq!(
            counted_visitation(Basispraktijkregister, y, false, None),
            None
        );
        // New to the register: the entry visitation is due whatever came before.
        assert_eq!(
            counted_visitation(Basispraktijkregister, y, true, last_year),
            None
        );
        // Already visited in Y: nothing stands in for it.
        assert_eq!(
            counted_visitation(Basispraktijkregister, y, false, Some(day("2026-03-01"))),
            None
        );
    }

    #[test]
    fn a_report_digest_is_64_hex_digits() {
        let upper = "AB".repeat(32);
        assert_eq!(
            ReportDigest::parse(&upper).unwrap().as_str(),
            "ab".repeat(32)
        );
        for bad in ["", "ab", &"g".repeat(64), &"a".repeat(65)] {
            assert_eq!(ReportDigest::parse(bad), Err(ReportDigestError));
        }
    }

    fn components() -> Vec<String> {
        DEFAULT_COMPONENTS.iter().map(|c| c.to_string()).collect()
    }

    // 000: positive only with every component sufficient.
    #[test]
    fn a_positive_outcome_needs_every_component_sufficient() {
        let mut scores: BTreeMap<String, ComponentScore> = components()
            .into_iter()
            .map(|c| (c, ComponentScore::Sufficient))
            .collect();
        assert_eq!(check_outcome(&components(), &scores, &[], true), Ok(()));
        scores.insert("annual_plan".into(), ComponentScore::Insufficient);
        let refused = check_outcome(&components(), &scores, &[], true).unwrap_err();
        assert_eq!(refused.code(), "insufficient_components");
        assert_eq!(refused.subjects(), ["annual_plan"]);
        assert_eq!(check_outcome(&components(), &scores, &[], false), Ok(()));
        scores.remove("vvocm_guidelines");
        assert_eq!(
            check_outcome(&components(), &scores, &[], false)
                .unwrap_err()
                .code(),
            "components_unscored"
        );
    }

    // 001 §1.2f: a deviation needs the practice's explanation.
    #[test]
    fn a_deviation_needs_an_explanation() {
        let scores: BTreeMap<String, ComponentScore> = components()
            .into_iter()
            .map(|c| (c, ComponentScore::Sufficient))
            .collect();
        let unexplained = [IndicatorDeviation {
            indicator: "prem".into(),
            explanation: Some("  ".into()),
        }];
        let refused = check_outcome(&components(), &scores, &unexplained, false).unwrap_err();
        assert_eq!(refused.code(), "explanation_required");
        let explained = [IndicatorDeviation {
            indicator: "prem".into(),
            explanation: Some("kleine populatie".into()),
        }];
        assert_eq!(
            check_outcome(&components(), &scores, &explained, true),
            Ok(())
        );
    }

    // ISO 32000-1 §7.5.2, §7.5.5.
    #[test]
    fn a_report_is_a_pdf_by_content() {
        let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
        assert_eq!(check_pdf(pdf), Ok(()));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(check_pdf(png), Err(ReportError::NotPdf));
        assert_eq!(check_pdf(b"%PDF-1.4\nno end"), Err(ReportError::Malformed));
        assert_eq!(check_pdf(b""), Err(ReportError::NotPdf));
    }
}
