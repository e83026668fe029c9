//! Monthly practice data from the EPD (DESIGN §3.4; 001 §1.3, §1.5; 004 "data aanleveren op
//! gemakkelijke manier"): the delivery period, the per-therapist figures, the rules behind the
//! processing report (verwerkingsverslag), the guard against patient data (DESIGN §3.1) and the
//! figures derived from a delivery.
//!
//! Pure rules only: which therapists are known and work at the practice, and what day it is, are
//! parameters; storing a delivery and answering it is the service's job.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::{amsterdam_date, OefentherapieAgb};

/// The largest count a delivery can carry: counts are stored as 32-bit integers.
pub const MAX_COUNT: u32 = 2_147_483_647;

/// LDO fill rate below which a row gets a warning: the 90% of 001 §1.3f.
pub const LDO_FILL_RATE_NORM: f64 = 0.9;

/// PREM offered rate below which a row gets a warning: the 70% of 001 §1.5h.
pub const PREM_OFFERED_RATE_NORM: f64 = 0.7;

/// Aanleverperiode: one calendar month, written `YYYY-MM` (DESIGN §3.4: one delivery per
/// practice per month). Kept as the month's first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(NaiveDate);

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeriodError {
    #[error("a period is a month written YYYY-MM, from 2000-01 on, e.g. 2026-10")]
    Format,
    #[error(
        "period {period} has not begun yet (it is {current} in Europe/Amsterdam); send a month's \
         figures once that month has begun"
    )]
    InFuture { period: Period, current: Period },
}

impl PeriodError {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Format => "period_format",
            Self::InFuture { .. } => "period_in_future",
        }
    }
}

impl Period {
    /// The first year a period may lie in; earlier months predate the register.
    pub const FIRST_YEAR: i32 = 2000;
    /// The last year a period may lie in.
    pub const LAST_YEAR: i32 = 9999;

    /// Parses `YYYY-MM` exactly (surrounding whitespace trimmed).
    pub fn parse(input: &str) -> Result<Self, PeriodError> {
        let s = input.trim();
        let bytes = s.as_bytes();
        let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        if bytes.len() != 7 || bytes[4] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(PeriodError::Format);
        }
        let year: i32 = s[..4].parse().map_err(|_| PeriodError::Format)?;
        let month: u32 = s[5..].parse().map_err(|_| PeriodError::Format)?;
        if !(Self::FIRST_YEAR..=Self::LAST_YEAR).contains(&year) {
            return Err(PeriodError::Format);
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(Self)
            .ok_or(PeriodError::Format)
    }

    /// The period of a stored first-of-month date; `None` for any other day.
    pub fn from_first_day(date: NaiveDate) -> Option<Self> {
        (date.day() == 1).then_some(Self(date))
    }

    /// The month that contains `date`.
    pub fn containing(date: NaiveDate) -> Self {
        Self(date.with_day(1).unwrap_or(date))
    }

    /// The month it is now in Europe/Amsterdam (DESIGN §4: business dates in Europe/Amsterdam).
    pub fn current(now: DateTime<Utc>) -> Self {
        Self::containing(amsterdam_date(now))
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    pub fn last_day(self) -> NaiveDate {
        self.0
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        self.first_day() <= date && date <= self.last_day()
    }

    /// Whether a period from `start` to `end` (inclusive; `None` while ongoing), such as a
    /// therapist's membership of a practice, includes at least one day of this month.
    pub fn overlaps(self, start: NaiveDate, end: Option<NaiveDate>) -> bool {
        start <= self.last_day() && end.is_none_or(|end| end >= self.first_day())
    }

    /// Refuses a month that has not begun in Europe/Amsterdam at `now`: figures of a month can
    /// only be known once it runs (DESIGN §3.4). The current month is accepted.
    pub fn ensure_begun(self, now: DateTime<Utc>) -> Result<Self, PeriodError> {
        let current = Self::current(now);
        if self > current {
            Err(PeriodError::InFuture {
                period: self,
                current,
            })
        } else {
            Ok(self)
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Period {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Aanleverperiode: a calendar month, YYYY-MM (Europe/Amsterdam).",
            ))
            .pattern(Some("^[2-9][0-9]{3}-(0[1-9]|1[0-2])$"))
            .examples(["2026-10"])
            .into()
    }
}

impl ToSchema for Period {}

/// The id of an EPD vendor (EPD-leverancier) as bound to its API clients: 1 to 64 letters,
/// digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpdVendorId(String);

/// A vendor id that breaks the rule of [`EpdVendorId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("an EPD vendor id has 1 to 64 letters, digits, `-` or `_`, e.g. acme-epd")]
pub struct VendorIdError;

impl VendorIdError {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        "vendor_id_format"
    }
}

/// The id of a visitor (visiteur) as bound to their API client: the same rule as an
/// [`EpdVendorId`] (1 to 64 letters, digits, `-` or `_`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VisitorId(String);

impl VisitorId {
    pub fn parse(input: &str) -> Result<Self, VendorIdError> {
        EpdVendorId::parse(input).map(|id| Self(id.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl utoipa::PartialSchema for VisitorId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "The visitor's id: 1 to 64 letters, digits, `-` or `_`.",
            ))
            .pattern(Some("^[A-Za-z0-9_-]{1,64}$"))
            .examples(["visitor-1"])
            .into()
    }
}

impl ToSchema for VisitorId {}

impl std::fmt::Display for VisitorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl EpdVendorId {
    pub fn parse(input: &str) -> Result<Self, VendorIdError> {
        let valid = (1..=64).contains(&input.len())
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(input.to_string()))
        } else {
            Err(VendorIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl utoipa::PartialSchema for EpdVendorId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "The EPD vendor's id: 1 to 64 letters, digits, `-` or `_`.",
            ))
            .pattern(Some("^[A-Za-z0-9_-]{1,64}$"))
            .min_length(Some(1))
            .max_length(Some(64))
            .examples(["acme-epd"])
            .into()
    }
}

impl ToSchema for EpdVendorId {}

impl fmt::Display for EpdVendorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One therapist's figures for one month, as the EPD delivers them (DESIGN §3.4). Practice and
/// therapist level only: never a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "patients": 42, "treatments": 180, "closed_episodes": 12, "treatments_in_closed_episodes": 96,
    "ldo_records_delivered": 40, "ldo_records_complete": 38, "prem_eligible": 12, "prem_offered": 10,
    "ldo_upload_date": "2026-10-28"
}))]
pub struct TherapistFigures {
    /// Behandelde patiënten: patients treated in the month.
    pub patients: u32,
    /// Behandelingen: treatment sessions in the month.
    pub treatments: u32,
    /// Afgesloten episodes: treatment episodes closed in the month.
    pub closed_episodes: u32,
    /// Behandelingen in afgesloten episodes: the treatments of those closed episodes.
    pub treatments_in_closed_episodes: u32,
    /// Aangeleverde LDO-records: records delivered to the Landelijke Database Oefentherapie.
    pub ldo_records_delivered: u32,
    /// Volledige LDO-records: delivered records with every field filled.
    pub ldo_records_complete: u32,
    /// PREM-geschikt: patients to whom the PREM questionnaire could be offered.
    pub prem_eligible: u32,
    /// PREM uitgezet: patients to whom the PREM questionnaire was offered.
    pub prem_offered: u32,
    /// Datum LDO-upload: the day of the month's upload to the LDO.
    pub ldo_upload_date: Option<NaiveDate>,
}

impl TherapistFigures {
    /// LDO-vulling of this row (DESIGN §3.4).
    pub fn ldo_fill_rate(&self) -> Option<f64> {
        ldo_fill_rate(
            u64::from(self.ldo_records_complete),
            u64::from(self.ldo_records_delivered),
        )
    }

    /// PREM offered rate of this row (DESIGN §3.4).
    pub fn prem_offered_rate(&self) -> Option<f64> {
        prem_offered_rate(u64::from(self.prem_offered), u64::from(self.prem_eligible))
    }

    /// Average treatments per closed episode of this row (DESIGN §3.4).
    pub fn treatments_per_closed_episode(&self) -> Option<f64> {
        treatments_per_closed_episode(
            u64::from(self.treatments_in_closed_episodes),
            u64::from(self.closed_episodes),
        )
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    // Counts stay far below 2^53, so the conversion is exact.
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// LDO fill rate (vullingsgraad) = complete / delivered (DESIGN §3.4); none without records.
fn ldo_fill_rate(complete: u64, delivered: u64) -> Option<f64> {
    ratio(complete, delivered)
}

/// PREM offered rate = offered / eligible (DESIGN §3.4); none without eligible patients.
fn prem_offered_rate(offered: u64, eligible: u64) -> Option<f64> {
    ratio(offered, eligible)
}

/// Average treatments per closed episode (DESIGN §3.4); none without closed episodes.
fn treatments_per_closed_episode(treatments: u64, closed_episodes: u64) -> Option<f64> {
    ratio(treatments, closed_episodes)
}

/// Rounds a derived figure for a report: four decimals say enough and read well.
pub fn round_figure(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// A rate as a percentage for a message, rounded down so that a rate just under a norm never
/// reads as the norm itself.
fn percent(rate: f64) -> String {
    format!("{:.1}%", (rate * 1000.0).floor() / 10.0)
}

/// One row of a delivery as sent: the therapist's AGB code, not yet checked, and the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRowInput {
    pub therapist_agb: String,
    pub figures: TherapistFigures,
}

/// Where a therapist of a row stands with the practice in the delivered month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterStatus {
    /// Not in the register at all.
    Unknown,
    /// In the register, but without a membership of the practice that includes a day of the month.
    NotMember,
    /// Works at the practice in (part of) the month.
    Member,
}

/// A remark of the processing report on one field of one row: a rejection or a warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "row": 1, "therapist_agb": "07123457", "field": "ldo_records_complete",
    "code": "complete_exceeds_delivered",
    "message": "ldo_records_complete (12) is more than ldo_records_delivered (10): a record can only be complete when it was delivered; correct one of the two and send the month again"
}))]
pub struct RowFinding {
    /// Index of the row in the delivery's `rows`, from 0.
    pub row: usize,
    /// The therapist's AGB code as sent.
    pub therapist_agb: String,
    /// The field of the row the remark is about.
    pub field: String,
    /// Stable machine code.
    pub code: String,
    /// What is wrong and what to change.
    pub message: String,
}

/// A row that goes into the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedRow {
    pub row: usize,
    pub therapist_agb: OefentherapieAgb,
    pub figures: TherapistFigures,
}

/// The outcome of checking a delivery's rows: what is accepted (with warnings) and what is
/// rejected, field by field, so that the practice can correct and resend (DESIGN §3.4; 004).
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAssessment {
    pub rows_received: usize,
    pub accepted: Vec<AcceptedRow>,
    /// Remarks on accepted rows; each row is accepted nonetheless.
    pub warnings: Vec<RowFinding>,
    /// Why rows were left out; a row may have several.
    pub rejected: Vec<RowFinding>,
}

/// Sums and derived figures of the accepted rows, and how many rows fared how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "rows_received": 3, "rows_accepted": 2, "rows_rejected": 1, "warnings": 1,
    "patients": 80, "treatments": 350, "closed_episodes": 20, "treatments_in_closed_episodes": 170,
    "ldo_records_delivered": 78, "ldo_records_complete": 74, "prem_eligible": 20, "prem_offered": 17,
    "ldo_fill_rate": 0.9487, "prem_offered_rate": 0.85, "treatments_per_closed_episode": 8.5,
    "ldo_uploaded_in_period": true
}))]
pub struct DeliveryTotals {
    pub rows_received: usize,
    pub rows_accepted: usize,
    pub rows_rejected: usize,
    /// Number of warnings.
    pub warnings: usize,
    pub patients: u64,
    pub treatments: u64,
    pub closed_episodes: u64,
    pub treatments_in_closed_episodes: u64,
    pub ldo_records_delivered: u64,
    pub ldo_records_complete: u64,
    pub prem_eligible: u64,
    pub prem_offered: u64,
    /// LDO-vulling of the practice: complete / delivered; null without records.
    pub ldo_fill_rate: Option<f64>,
    /// Offered / eligible; null without eligible patients.
    pub prem_offered_rate: Option<f64>,
    /// Treatments in closed episodes / closed episodes; null without closed episodes.
    pub treatments_per_closed_episode: Option<f64>,
    /// Whether an accepted row reports an LDO upload in the month (001 §1.3b).
    pub ldo_uploaded_in_period: bool,
}

impl DeliveryAssessment {
    /// Totals over the accepted rows (DESIGN §3.4 derived figures, per practice).
    pub fn totals(&self, period: Period) -> DeliveryTotals {
        let sum = |pick: fn(&TherapistFigures) -> u32| -> u64 {
            self.accepted
                .iter()
                .map(|row| u64::from(pick(&row.figures)))
                .sum()
        };
        let ldo_records_delivered = sum(|f| f.ldo_records_delivered);
        let ldo_records_complete = sum(|f| f.ldo_records_complete);
        let prem_eligible = sum(|f| f.prem_eligible);
        let prem_offered = sum(|f| f.prem_offered);
        let closed_episodes = sum(|f| f.closed_episodes);
        let treatments_in_closed_episodes = sum(|f| f.treatments_in_closed_episodes);
        DeliveryTotals {
            rows_received: self.rows_received,
            rows_accepted: self.accepted.len(),
            rows_rejected: self.rows_received.saturating_sub(self.accepted.len()),
            warnings: self.warnings.len(),
            patients: sum(|f| f.patients),
            treatments: sum(|f| f.treatments),
            closed_episodes,
            treatments_in_closed_episodes,
            ldo_records_delivered,
            ldo_records_complete,
            prem_eligible,
            prem_offered,
            ldo_fill_rate: ldo_fill_rate(ldo_records_complete, ldo_records_delivered)
                .map(round_figure),
            prem_offered_rate: prem_offered_rate(prem_offered, prem_eligible).map(round_figure),
            treatments_per_closed_episode: treatments_per_closed_episode(
                treatments_in_closed_episodes,
                closed_episodes,
            )
            .map(round_figure),
            ldo_uploaded_in_period: self.accepted.iter().any(|row| {
                row.figures
                    .ldo_upload_date
                    .is_some_and(|day| period.contains(day))
            }),
        }
    }
}

struct Remarks<'a> {
    row: usize,
    therapist_agb: &'a str,
    found: Vec<RowFinding>,
}

impl Remarks<'_> {
    fn push(&mut self, field: &str, code: &str, message: String) {
        self.found.push(RowFinding {
            row: self.row,
            therapist_agb: self.therapist_agb.to_string(),
            field: field.to_string(),
            code: code.to_string(),
            message,
        });
    }
}

/// Figures that contradict each other: such a row cannot be stored (DESIGN §3.4).
fn inconsistencies(figures: &TherapistFigures, remarks: &mut Remarks<'_>) {
    let f = figures;
    if f.ldo_records_complete > f.ldo_records_delivered {
        remarks.push(
            "ldo_records_complete",
            "complete_exceeds_delivered",
            format!(
                "ldo_records_complete ({}) is more than ldo_records_delivered ({}): a record can \
                 only be complete when it was delivered; correct one of the two and send the \
                 month again",
                f.ldo_records_complete, f.ldo_records_delivered
            ),
        );
    }
    if f.prem_offered > f.prem_eligible {
        remarks.push(
            "prem_offered",
            "offered_exceeds_eligible",
            format!(
                "prem_offered ({}) is more than prem_eligible ({}): the PREM can only be offered \
                 to eligible patients; correct one of the two and send the month again",
                f.prem_offered, f.prem_eligible
            ),
        );
    }
    if f.treatments_in_closed_episodes > f.treatments {
        remarks.push(
            "treatments_in_closed_episodes",
            "closed_treatments_exceed_treatments",
            format!(
                "treatments_in_closed_episodes ({}) is more than treatments ({}): count only this \
                 month's treatments of the episodes closed this month, and send the month again",
                f.treatments_in_closed_episodes, f.treatments
            ),
        );
    }
}

/// Figures that are possible but suspect or below a norm: the row is stored, the practice is told.
fn warnings(
    figures: &TherapistFigures,
    period: Period,
    today: NaiveDate,
    remarks: &mut Remarks<'_>,
) {
    let f = figures;
    match f.ldo_upload_date {
        None => remarks.push(
            "ldo_upload_date",
            "ldo_upload_date_missing",
            format!(
                "no LDO upload date was given; the EPD uploads to the LDO at least once a month \
                 (001 §1.3b): send the date of the upload in {period}"
            ),
        ),
        Some(day) if day > today => remarks.push(
            "ldo_upload_date",
            "ldo_upload_date_in_future",
            format!(
                "the LDO upload date {day} lies after today ({today}); send the date on which the \
                 upload took place"
            ),
        ),
        Some(day) if !period.contains(day) => remarks.push(
            "ldo_upload_date",
            "ldo_upload_outside_period",
            format!(
                "the LDO upload date {day} is not in {period}; the EPD uploads to the LDO every \
                 month (001 §1.3b): send the date of the upload in {period}"
            ),
        ),
        Some(_) => {}
    }
    if f.ldo_records_delivered == 0 && f.treatments > 0 {
        remarks.push(
            "ldo_records_delivered",
            "no_ldo_records",
            format!(
                "{} treatments but no LDO records delivered; check that the EPD uploads this \
                 therapist's records to the LDO (001 §1.3a-b)",
                f.treatments
            ),
        );
    }
    if f.closed_episodes > 0 && f.treatments_in_closed_episodes == 0 {
        remarks.push(
            "treatments_in_closed_episodes",
            "closed_episodes_without_treatments",
            format!(
                "{} closed episodes but no treatments in them; send the number of treatments of \
                 those episodes, or the average per episode cannot be computed",
                f.closed_episodes
            ),
        );
    }
    if f.patients > f.treatments {
        remarks.push(
            "patients",
            "patients_exceed_treatments",
            format!(
                "more patients ({}) than treatments ({}); every patient counted was treated at \
                 least once in the month: check both figures",
                f.patients, f.treatments
            ),
        );
    }
    if let Some(rate) = f.ldo_fill_rate().filter(|r| *r < LDO_FILL_RATE_NORM) {
        remarks.push(
            "ldo_records_complete",
            "ldo_fill_rate_low",
            format!(
                "LDO fill rate {} is below the {} of 001 §1.3f; complete the missing LDO fields in \
                 the EPD",
                percent(rate),
                percent(LDO_FILL_RATE_NORM)
            ),
        );
    }
    if let Some(rate) = f
        .prem_offered_rate()
        .filter(|r| *r < PREM_OFFERED_RATE_NORM)
    {
        remarks.push(
            "prem_offered",
            "prem_offered_rate_low",
            format!(
                "the PREM was offered to {} of eligible patients, below the {} of 001 §1.5h",
                percent(rate),
                percent(PREM_OFFERED_RATE_NORM)
            ),
        );
    }
}

/// Checks every row of a monthly delivery for `period` (DESIGN §3.4; 001 §1.3, §1.5).
///
/// A row is rejected, with each reason, when its AGB code is invalid, its therapist is not in the
/// register or has no membership of the practice in the month (`therapist_not_member`), the
/// therapist already had a row in this delivery (`duplicate_therapist`: the later row goes), or
/// its figures contradict each other. Other rows are accepted, possibly with warnings. `roster`
/// tells where a therapist stands with the practice; `today` is the Amsterdam date of delivery.
pub fn assess_delivery(
    period: Period,
    today: NaiveDate,
    rows: &[DeliveryRowInput],
    roster: impl Fn(&OefentherapieAgb) -> RosterStatus,
) -> DeliveryAssessment {
    let mut first_row_of: BTreeMap<OefentherapieAgb, usize> = BTreeMap::new();
    let mut assessment = DeliveryAssessment {
        rows_received: rows.len(),
        accepted: Vec::new(),
        warnings: Vec::new(),
        rejected: Vec::new(),
    };
    for (index, input) in rows.iter().enumerate() {
        let mut rejections = Remarks {
            row: index,
            therapist_agb: &input.therapist_agb,
            found: Vec::new(),
        };
        let agb = match OefentherapieAgb::parse(&input.therapist_agb) {
            Ok(agb) => Some(agb),
            Err(error) => {
                rejections.push(
                    "therapist_agb",
                    error.code(),
                    format!("{error}; correct the therapist's AGB code and send the month again"),
                );
                None
            }
        };
        if let Some(agb) = &agb {
            if let Some(first) = first_row_of.get(agb) {
                rejections.push(
                    "therapist_agb",
                    "duplicate_therapist",
                    format!(
                        "therapist {agb} already has row {first} in this delivery; send one row \
                         per therapist with the month's totals"
                    ),
                );
            } else {
                first_row_of.insert(agb.clone(), index);
                match roster(agb) {
                    RosterStatus::Member => {}
                    RosterStatus::Unknown => rejections.push(
                        "therapist_agb",
                        "therapist_not_member",
                        format!(
                            "therapist {agb} is not in the register; ask the registrar to register \
                             the therapist with a membership of this practice, then send the month \
                             again"
                        ),
                    ),
                    RosterStatus::NotMember => rejections.push(
                        "therapist_agb",
                        "therapist_not_member",
                        format!(
                            "therapist {agb} has no membership of this practice in {period}; \
                             record the membership (start and end date) and send the month again"
                        ),
                    ),
                }
            }
        }
        inconsistencies(&input.figures, &mut rejections);
        match agb {
            Some(agb) if rejections.found.is_empty() => {
                let mut remarks = Remarks {
                    row: index,
                    therapist_agb: &input.therapist_agb,
                    found: Vec::new(),
                };
                warnings(&input.figures, period, today, &mut remarks);
                assessment.warnings.append(&mut remarks.found);
                assessment.accepted.push(AcceptedRow {
                    row: index,
                    therapist_agb: agb,
                    figures: input.figures,
                });
            }
            _ => assessment.rejected.append(&mut rejections.found),
        }
    }
    assessment
}

/// The elfproef (11-test) of the burgerservicenummer: with the nine digits d1..d9,
/// 9·d1 + 8·d2 + 7·d3 + 6·d4 + 5·d5 + 4·d6 + 3·d7 + 2·d8 − 1·d9 is divisible by 11
/// (Wet algemene bepalingen burgerservicenummer; Logius, BSN specification).
/// `digits` must be exactly nine ASCII digits.
pub fn passes_bsn_elfproef(digits: &str) -> bool {
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: i64 = digits
        .bytes()
        .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(b, weight)| i64::from(b - b'0') * weight)
        .sum();
    sum.rem_euclid(11) == 0
}

/// Whether a text looks like a BSN (DESIGN §3.1: never accept one): nine digits, possibly grouped
/// with spaces, dots or dashes (`1112.22.333`), that pass the elfproef. All zeros is a
/// placeholder, not a number anyone holds. AGB codes (8 digits) never match.
pub fn looks_like_bsn(value: &str) -> bool {
    let trimmed = value.trim();
    if !trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-'))
    {
        return false;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    digits.len() == 9 && digits.bytes().any(|b| b != b'0') && passes_bsn_elfproef(&digits)
}

/// Names under which patient-level data travels; compared after [`normalise_key`].
const PATIENT_KEYS: [&str; 24] = [
    "bsn",
    "burgerservicenummer",
    "sofinummer",
    "patient",
    "patientid",
    "patientnumber",
    "patientnummer",
    "patientname",
    "patientnaam",
    "client",
    "clientid",
    "clientnumber",
    "clientnummer",
    "clientname",
    "clientnaam",
    "dateofbirth",
    "birthdate",
    "birthday",
    "geboortedatum",
    "dob",
    "initials",
    "voorletters",
    "surname",
    "achternaam",
];

/// Lower case, letters and digits only, accents dropped: `Patient_ID`, `patient-id` and
/// `patiëntId` all become `patientid`.
fn normalise_key(key: &str) -> String {
    key.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            other => other,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// Whether a field name names patient-level data (DESIGN §3.1: the register holds practice and
/// therapist figures only): a BSN, a patient or client id or name, a date of birth, in any case or
/// spelling. `patients` (a count) is not one.
pub fn is_patient_identifier_key(key: &str) -> bool {
    let key = normalise_key(key);
    PATIENT_KEYS.contains(&key.as_str())
        || key.contains("bsn")
        || key.contains("burgerservice")
        || key.contains("geboortedatum")
        || key.contains("dateofbirth")
        || (key.starts_with("patient") && key != "patients")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn period(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn good_figures() -> TherapistFigures {
        TherapistFigures {
            patients: 40,
            treatments: 180,
            closed_episodes: 10,
            treatments_in_closed_episodes: 90,
            ldo_records_delivered: 40,
            ldo_records_complete: 38,
            prem_eligible: 10,
            prem_offered: 8,
            ldo_upload_date: Some(day("2026-10-28")),
        }
    }

    fn row(agb: &str, figures: TherapistFigures) -> DeliveryRowInput {
        DeliveryRowInput {
            therapist_agb: agb.to_string(),
            figures,
        }
    }

    fn everyone_member(_: &OefentherapieAgb) -> RosterStatus {
        RosterStatus::Member
    }

    fn codes(findings: &[RowFinding]) -> Vec<(usize, &str, &str)> {
        findings
            .iter()
            .map(|f| (f.row, f.field.as_str(), f.code.as_str()))
            .collect()
    }

    // DESIGN §3.4: `period = YYYY-MM`, one calendar month.
    #[test]
    fn a_period_is_a_month_written_yyyy_mm() {
        let p = period("2026-10");
        assert_eq!(p.to_string(), "2026-10");
        assert_eq!(p.first_day(), day("2026-10-01"));
        assert_eq!(p.last_day(), day("2026-10-31"));
        assert_eq!(period("2028-02").last_day(), day("2028-02-29"));
        assert_eq!(period(" 2026-12 ").last_day(), day("2026-12-31"));
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-10",
            "2026/10",
            "2026-10-01",
            "1999-12",
            "",
            "２０２６-10",
        ] {
            assert_eq!(Period::parse(bad), Err(PeriodError::Format), "{bad}");
        }
        assert_eq!(PeriodError::Format.code(), "period_format");
        assert_eq!(Period::from_first_day(day("2026-10-01")), Some(p));
        assert_eq!(Period::from_first_day(day("2026-10-02")), None);
        assert_eq!(Period::containing(day("2026-10-17")), p);
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json, "2026-10");
        assert_eq!(serde_json::from_value::<Period>(json).unwrap(), p);
    }

    // DESIGN §3.4 with §4: a month's figures can be delivered once it has begun in
    // Europe/Amsterdam; the current month is accepted, a later one refused.
    #[test]
    fn a_month_that_has_not_begun_in_amsterdam_is_refused() {
        // 31 October 23:30 UTC is already 1 November 00:30 in Amsterdam (CET, +1).
        let now = at("2026-10-31T23:30:00Z");
        assert_eq!(Period::current(now), period("2026-11"));
        assert!(period("2026-11").ensure_begun(now).is_ok());
        assert!(period("2026-10").ensure_begun(now).is_ok());
        let refused = period("2026-12").ensure_begun(now).unwrap_err();
        assert_eq!(refused.code(), "period_in_future");
        assert!(refused.to_string().contains("2026-12"));
        assert!(refused.to_string().contains("2026-11"));
        // 31 October 22:59 UTC is still October in Amsterdam.
        assert!(period("2026-11")
            .ensure_begun(at("2026-10-31T22:59:00Z"))
            .is_err());
    }

    // DESIGN §3.4: a therapist's row counts when a membership of the practice includes a day of
    // the month.
    #[test]
    fn a_membership_overlaps_a_month_when_it_shares_a_day() {
        let p = period("2026-10");
        assert!(p.overlaps(day("2020-01-01"), None));
        assert!(p.overlaps(day("2026-10-31"), None));
        assert!(p.overlaps(day("2020-01-01"), Some(day("2026-10-01"))));
        assert!(!p.overlaps(day("2026-11-01"), None));
        assert!(!p.overlaps(day("2020-01-01"), Some(day("2026-09-30"))));
    }

    #[test]
    fn a_vendor_id_is_a_short_slug() {
        assert_eq!(EpdVendorId::parse("acme-epd").unwrap().as_str(), "acme-epd");
        assert!(EpdVendorId::parse("A_1").is_ok());
        assert!(EpdVendorId::parse(&"x".repeat(64)).is_ok());
        for bad in ["", "acme epd", "acme/epd", "é", &"x".repeat(65)] {
            assert_eq!(EpdVendorId::parse(bad), Err(VendorIdError), "{bad}");
        }
        assert_eq!(VendorIdError.code(), "vendor_id_format");
    }

    // DESIGN §3.4 derived figures: LDO fill rate = complete / delivered, PREM offered rate =
    // offered / eligible, average treatments per closed episode.
    #[test]
    fn derived_figures_follow_the_design_and_are_absent_without_a_denominator() {
        assert_eq!(ldo_fill_rate(9, 10), Some(0.9));
        assert_eq!(ldo_fill_rate(0, 0), None);
        assert_eq!(prem_offered_rate(7, 10), Some(0.7));
        assert_eq!(prem_offered_rate(3, 0), None);
        assert_eq!(treatments_per_closed_episode(90, 10), Some(9.0));
        assert_eq!(treatments_per_closed_episode(5, 0), None);
        assert_eq!(round_figure(2.0 / 3.0), 0.6667);
        assert_eq!(percent(0.8999), "89.9%");
    }

    // DESIGN §3.4: the processing report lists accepted rows, and the rejected fields with
    // reasons; a rejected row does not stop the others (004: delivering data must be easy).
    #[test]
    fn contradicting_figures_reject_only_their_row_with_each_field_named() {
        let mut bad = good_figures();
        bad.ldo_records_complete = 41;
        bad.prem_offered = 11;
        bad.treatments_in_closed_episodes = 181;
        let rows = [row("07100001", good_figures()), row("07100002", bad)];
        let assessment =
            assess_delivery(period("2026-10"), day("2026-11-02"), &rows, everyone_member);
        assert_eq!(assessment.accepted.len(), 1);
        assert_eq!(assessment.accepted[0].therapist_agb.as_str(), "07100001");
        assert_eq!(
            codes(&assessment.rejected),
            vec![
                (1, "ldo_records_complete", "complete_exceeds_delivered"),
                (1, "prem_offered", "offered_exceeds_eligible"),
                (
                    1,
                    "treatments_in_closed_episodes",
                    "closed_treatments_exceed_treatments"
                ),
            ]
        );
        assert!(assessment.rejected[0].message.contains("(41)"));
        assert!(assessment.rejected[0].message.contains("correct"));
        assert_eq!(assessment.rejected[0].therapist_agb, "07100002");
        let totals = assessment.totals(period("2026-10"));
        assert_eq!(
            (
                totals.rows_received,
                totals.rows_accepted,
                totals.rows_rejected
            ),
            (2, 1, 1)
        );
        assert_eq!(totals.treatments, 180);
    }

    // 001 §1.3, DESIGN §3.4: only therapists of the practice in that month deliver figures.
    #[test]
    fn unknown_and_non_member_therapists_and_duplicates_are_rejected() {
        let rows = [
            row("07100001", good_figures()),
            row("07100002", good_figures()),
            row("07100003", good_figures()),
            row("07100001", good_figures()),
            row("0710000x", good_figures()),
            row("04100001", good_figures()),
        ];
        let roster = |agb: &OefentherapieAgb| match agb.as_str() {
            "07100001" => RosterStatus::Member,
            "07100002" => RosterStatus::NotMember,
            _ => RosterStatus::Unknown,
        };
        let assessment = assess_delivery(period("2026-10"), day("2026-11-02"), &rows, roster);
        assert_eq!(assessment.accepted.len(), 1);
        assert_eq!(
            codes(&assessment.rejected),
            vec![
                (1, "therapist_agb", "therapist_not_member"),
                (2, "therapist_agb", "therapist_not_member"),
                (3, "therapist_agb", "duplicate_therapist"),
                (4, "therapist_agb", "agb_format"),
                (5, "therapist_agb", "agb_zorgsoort"),
            ]
        );
        assert!(assessment.rejected[0].message.contains("2026-10"));
        assert!(assessment.rejected[1]
            .message
            .contains("not in the register"));
        assert!(assessment.rejected[2].message.contains("row 0"));
    }

    // 001 §1.3b (monthly LDO upload), §1.3f (LDO ≥ 90% filled), §1.5h (PREM offered to ≥ 70%):
    // suspect or low figures are stored, with a warning that says what to do.
    #[test]
    fn suspect_figures_are_accepted_with_warnings() {
        let p = period("2026-10");
        let today = day("2026-11-02");
        let warn = |figures: TherapistFigures| -> Vec<String> {
            let a = assess_delivery(p, today, &[row("07100001", figures)], everyone_member);
            assert_eq!(a.accepted.len(), 1);
            a.warnings.into_iter().map(|w| w.code).collect()
        };
        assert!(warn(good_figures()).is_empty());
        let mut f = good_figures();
        f.ldo_upload_date = None;
        assert_eq!(warn(f), ["ldo_upload_date_missing"]);
        f.ldo_upload_date = Some(day("2026-09-30"));
        assert_eq!(warn(f), ["ldo_upload_outside_period"]);
        f.ldo_upload_date = Some(day("2026-11-03"));
        assert_eq!(warn(f), ["ldo_upload_date_in_future"]);
        let mut f = good_figures();
        f.ldo_records_delivered = 0;
        f.ldo_records_complete = 0;
        assert_eq!(warn(f), ["no_ldo_records"]);
        let mut f = good_figures();
        f.treatments_in_closed_episodes = 0;
        assert_eq!(warn(f), ["closed_episodes_without_treatments"]);
        let mut f = good_figures();
        f.patients = 181;
        assert_eq!(warn(f), ["patients_exceed_treatments"]);
        let mut f = good_figures();
        f.ldo_records_complete = 35;
        assert_eq!(warn(f), ["ldo_fill_rate_low"]);
        let mut f = good_figures();
        f.prem_offered = 6;
        assert_eq!(warn(f), ["prem_offered_rate_low"]);
        // Exactly at the norms is no warning.
        let mut f = good_figures();
        f.ldo_records_complete = 36;
        f.prem_offered = 7;
        assert!(warn(f).is_empty());
    }

    #[test]
    fn totals_sum_the_accepted_rows_and_derive_the_practice_figures() {
        let mut second = good_figures();
        second.ldo_upload_date = None;
        let rows = [
            row("07100001", good_figures()),
            row("07100002", second),
            row("07100003", TherapistFigures::default()),
        ];
        let roster = |agb: &OefentherapieAgb| {
            if agb.as_str() == "07100003" {
                RosterStatus::NotMember
            } else {
                RosterStatus::Member
            }
        };
        let p = period("2026-10");
        let totals = assess_delivery(p, day("2026-11-02"), &rows, roster).totals(p);
        assert_eq!(totals.rows_accepted, 2);
        assert_eq!(totals.rows_rejected, 1);
        assert_eq!(totals.warnings, 1);
        assert_eq!(totals.ldo_records_delivered, 80);
        assert_eq!(totals.ldo_fill_rate, Some(0.95));
        assert_eq!(totals.prem_offered_rate, Some(0.8));
        assert_eq!(totals.treatments_per_closed_episode, Some(9.0));
        assert!(totals.ldo_uploaded_in_period);
    }

    // DESIGN §3.1: a BSN is recognised by the elfproef; 111222333 and 123456782 pass it.
    #[test]
    fn the_bsn_elfproef_recognises_valid_numbers() {
        assert!(passes_bsn_elfproef("111222333"));
        assert!(passes_bsn_elfproef("123456782"));
        assert!(!passes_bsn_elfproef("123456789"));
        assert!(!passes_bsn_elfproef("11122233"));
        assert!(!passes_bsn_elfproef("11122233x"));
        assert!(looks_like_bsn("111222333"));
        assert!(looks_like_bsn(" 1112.22.333 "));
        assert!(looks_like_bsn("111-222-333"));
        assert!(!looks_like_bsn("000000000"));
        assert!(!looks_like_bsn("123456789"));
        assert!(!looks_like_bsn("07123456"));
        assert!(!looks_like_bsn("2026-10-28"));
        assert!(!looks_like_bsn("BSN 111222333"));
    }

    // DESIGN §3.1: never accept patient-level data; keys are recognised in any case or spelling.
    #[test]
    fn patient_identifier_keys_are_recognised_but_counts_are_not() {
        for key in [
            "bsn",
            "BSN",
            "Burgerservicenummer",
            "patient_id",
            "patientId",
            "patiënt",
            "patient_name",
            "date_of_birth",
            "Geboortedatum",
            "client_id",
            "cliëntnummer",
            "patient_bsn",
            "bsn_nummer",
        ] {
            assert!(is_patient_identifier_key(key), "{key}");
        }
        for key in [
            "patients",
            "treatments",
            "therapist_agb",
            "prem_eligible",
            "ldo_upload_date",
            "rows",
        ] {
            assert!(!is_patient_identifier_key(key), "{key}");
        }
    }
}
