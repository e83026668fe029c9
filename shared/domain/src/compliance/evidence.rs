//! The evidence the compliance rules read (DESIGN §3.4, §3.5): one record per practice and cycle
//! year, assembled by a service from its tables, and the figures derived from it.
//!
//! The record is also one line of the NDJSON evidence feed, so every field is named and every
//! figure is a raw total: rates are derived here ([`ldo_fill_rate_over_months`],
//! [`prem_offered_rate_over_months`]), never stored beside the totals they come from.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::registration::TherapistKp;
use crate::{CycleYear, KpStatus, OefentherapieAgb, Period};

/// Everything the criteria of 001 need about one practice in cycle year `year`, as known on
/// `as_of` (DESIGN §3.5). Built by the register service from its tables; evaluated by
/// [`crate::evaluate`] in the register and in the insurer export alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// AGB code of the practice (onderneming).
    pub practice_agb: OefentherapieAgb,
    /// Cycle year Y the evidence is about.
    pub year: CycleYear,
    /// The day of the evaluation: the KP registrations are checked on this day, and the quarters
    /// of Y that have ended before it are the quarters in which an IOP update is due (001 §1.6b).
    pub as_of: NaiveDate,
    /// One entry per calendar month of Y that is due, chosen by the caller (e.g. January up to the
    /// last complete month before `as_of`), with the practice totals of the current version of
    /// that month's delivery (DESIGN §3.4). A due month without a delivery has `delivered: false`.
    pub months: Vec<MonthEvidence>,
    /// Every therapist with a membership of the practice active in Y.
    pub therapists: Vec<TherapistEvidence>,
    /// PREM (patient experience) results of Y (001 §1.5).
    pub prem: PremEvidence,
    /// The practice's treatment index (behandelindex, Vektis) that applies to the contract year
    /// Y serves; `None` when none is known.
    pub treatment_index: Option<TreatmentIndexEvidence>,
    /// The ceiling of the insurer in question (e.g. the 3rd quartile of the national index);
    /// replaces [`crate::Thresholds::treatment_index_ceiling`] when given.
    pub insurer_ceiling: Option<f64>,
    /// Whether the practice consented to the register sharing its practice-level quality data
    /// with the insurer in question (001 §1.3c); `None` when no insurer is in question.
    pub consent_given: Option<bool>,
    /// Registration and visitation of Y (001 Plusovereenkomst condition 3, §1.2).
    pub visitation: VisitationEvidence,
    /// One entry per other oefentherapie practice at the same address, with this practice's
    /// distinguishing features (001 §2.1b); empty when the practice shares no address.
    pub shared_address: Vec<SharedAddress>,
}

/// The practice totals of one due month of Y, from the current version of its monthly delivery
/// (DESIGN §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MonthEvidence {
    /// The month, `YYYY-MM`.
    pub period: Period,
    /// Whether a delivery exists for the month. The totals of a month without a delivery are not
    /// counted.
    pub delivered: bool,
    /// The date of the LDO upload reported with the delivery; `None` when there was none.
    pub ldo_upload_date: Option<NaiveDate>,
    pub ldo_records_delivered: u32,
    pub ldo_records_complete: u32,
    pub prem_eligible: u32,
    pub prem_offered: u32,
}

impl MonthEvidence {
    /// Data reached the LDO for this month: the month was delivered with an LDO upload date
    /// (001 module LDI condition 2, §1.3b).
    pub fn has_ldo_upload(&self) -> bool {
        self.delivered && self.ldo_upload_date.is_some()
    }
}

/// One therapist with a membership of the practice active in Y.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TherapistEvidence {
    /// AGB code of the therapist (zorgverlener).
    pub agb: OefentherapieAgb,
    /// KP status as the register knows it; `None` when it has no KP data for the therapist.
    pub kp_status: Option<KpStatus>,
    /// First day of the KP registration period; `None` is open.
    pub kp_valid_from: Option<NaiveDate>,
    /// Last day of the KP registration period (inclusive); `None` is open.
    pub kp_valid_until: Option<NaiveDate>,
    /// The individual development plan (IOP) of Y; `None` when there is none (001 §1.6).
    pub iop: Option<IopEvidence>,
    /// Every intervision group the therapist belongs to in Y (001 §1.1).
    pub intervision: Vec<IntervisionMembership>,
}

impl TherapistEvidence {
    /// The KP registration in the form [`crate::kp_requirement`] reads.
    pub fn kp(&self) -> TherapistKp<'_> {
        TherapistKp {
            therapist_agb: self.agb.as_str(),
            status: self.kp_status,
            valid_from: self.kp_valid_from,
            valid_until: self.kp_valid_until,
        }
    }
}

/// Individueel ontwikkelplan (IOP) of a therapist for Y (001 §1.6a-b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IopEvidence {
    /// The day the IOP was drawn up.
    pub drawn_up_on: NaiveDate,
    /// The day it was uploaded to the Kwaliteitsregister Paramedici; `None` when it was not.
    pub uploaded_to_kp_on: Option<NaiveDate>,
    /// The days it was updated.
    pub quarterly_updates: Vec<NaiveDate>,
}

/// A therapist's membership of one intervision group in Y (001 §1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntervisionMembership {
    pub group_id: String,
    /// Members of the group active in Y.
    pub group_size: u32,
    /// Distinct practices of those members.
    pub practices_in_group: u32,
    /// Physical meetings of the group in Y the therapist attended.
    pub physical_meetings_attended: u32,
    /// Whether the group's facilitators (procesbegeleiders) are trained for it.
    pub facilitator_trained_all: bool,
    /// Whether ADAP accredited the group's intervision programme for Y.
    pub adap_accredited_for_year: bool,
}

/// PREM (patient experience measure) results of the practice in Y (001 §1.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PremEvidence {
    /// Whether any PREM result of the practice exists for Y.
    pub measured: bool,
    /// The practice's mean score and the benchmark mean per PREM domain (001 §1.5g).
    pub domain_scores: Vec<PremDomainScore>,
}

/// The practice's mean score on one PREM domain beside the benchmark mean (001 §1.5g).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PremDomainScore {
    pub domain: String,
    /// `None` when the practice has no score on the domain.
    pub practice_mean: Option<f64>,
    /// `None` when the benchmark has no mean for the domain.
    pub benchmark_mean: Option<f64>,
}

/// The practice's treatment index (behandelindex, Vektis), with its confidence interval when
/// known (001 Plusovereenkomst condition 2; DESIGN §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TreatmentIndexEvidence {
    pub value: f64,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
}

/// Registration and visitation of the practice in Y. An `Option` that is `None` is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VisitationEvidence {
    /// The practice is registered in the praktijkregister for Y (001 Plusovereenkomst
    /// condition 3).
    pub registered_for_year: bool,
    /// A visitation of Y had a positive outcome (001 §1.2b).
    pub visitation_positive_in_year: bool,
    /// The visitation report is uploaded to the register (001 §1.2g).
    pub report_uploaded: Option<bool>,
    /// The entry visitation was passed before the deadline (001 §1.2a); `Some(true)` when the
    /// practice needed none.
    pub entry_visitation_in_time: Option<bool>,
}

/// This practice's distinguishing features towards one other practice at the same address
/// (001 §2.1b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SharedAddress {
    pub other_practice_agb: OefentherapieAgb,
    /// Own registration in the KvK (Kamer van Koophandel).
    pub own_kvk: bool,
    pub own_entrance: bool,
    pub own_phone: bool,
    pub own_website: bool,
    pub own_waiting_room: bool,
    pub own_reception: bool,
    /// Own administration and invoicing.
    pub own_administration: bool,
    /// Own logo and letterhead.
    pub own_logo: bool,
}

impl SharedAddress {
    /// The names of the features the practice lacks, in the order of 001 §2.1b.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("own_kvk", self.own_kvk),
            ("own_entrance", self.own_entrance),
            ("own_phone", self.own_phone),
            ("own_website", self.own_website),
            ("own_waiting_room", self.own_waiting_room),
            ("own_reception", self.own_reception),
            ("own_administration", self.own_administration),
            ("own_logo", self.own_logo),
        ]
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| name)
        .collect()
    }
}

/// The sums over the delivered months; a month without a delivery adds nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MonthTotals {
    pub ldo_records_delivered: u64,
    pub ldo_records_complete: u64,
    pub prem_eligible: u64,
    pub prem_offered: u64,
}

impl MonthTotals {
    pub(crate) fn of(months: &[MonthEvidence]) -> Self {
        months
            .iter()
            .filter(|month| month.delivered)
            .fold(Self::default(), |sum, month| Self {
                ldo_records_delivered: sum.ldo_records_delivered
                    + u64::from(month.ldo_records_delivered),
                ldo_records_complete: sum.ldo_records_complete
                    + u64::from(month.ldo_records_complete),
                prem_eligible: sum.prem_eligible + u64::from(month.prem_eligible),
                prem_offered: sum.prem_offered + u64::from(month.prem_offered),
            })
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    // Counts stay far below 2^53, so the conversion is exact; the division is correctly rounded,
    // so an exact ratio such as 9/10 equals the threshold 0.9.
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// LDO fill rate: Σ complete / Σ delivered LDO records over the delivered months (DESIGN §3.4;
/// 001 module LDI condition 5, §1.3f); `None` when no record was delivered.
pub fn ldo_fill_rate_over_months(months: &[MonthEvidence]) -> Option<f64> {
    let totals = MonthTotals::of(months);
    ratio(totals.ldo_records_complete, totals.ldo_records_delivered)
}

/// PREM offered rate: Σ offered / Σ eligible over the delivered months (DESIGN §3.4; 001 §1.5h);
/// `None` when no patient was eligible.
pub fn prem_offered_rate_over_months(months: &[MonthEvidence]) -> Option<f64> {
    let totals = MonthTotals::of(months);
    ratio(totals.prem_offered, totals.prem_eligible)
}

/// Months with an LDO upload (DESIGN §3.4; 001 §1.3b): see [`MonthEvidence::has_ldo_upload`].
pub fn months_with_upload(months: &[MonthEvidence]) -> usize {
    months.iter().filter(|month| month.has_ldo_upload()).count()
}

/// How many quarters of `year` have ended before `as_of`: 0 up to 31 March, 1 from 1 April,
/// ..., 4 from 1 January of the next year. These are the quarters in which an IOP update is due
/// (001 §1.6b).
pub fn quarters_ended(year: CycleYear, as_of: NaiveDate) -> u32 {
    let year = i32::from(year.value());
    match as_of.year().cmp(&year) {
        std::cmp::Ordering::Less => 0,
        std::cmp::Ordering::Equal => as_of.month0() / 3,
        std::cmp::Ordering::Greater => 4,
    }
}

/// The quarter (1 to 4) of `date` when it lies in `year`.
pub(crate) fn quarter_in(year: CycleYear, date: NaiveDate) -> Option<u32> {
    (date.year() == i32::from(year.value())).then(|| date.month0() / 3 + 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::test_support::{compliant, date};
    use super::*;

    fn year() -> CycleYear {
        CycleYear::new(2026).unwrap()
    }

    // 001 §1.6b: a quarter is due for an IOP update once it has ended.
    #[test]
    fn quarters_ended_on_the_quarter_boundaries() {
        for (as_of, ended) in [
            ("2025-12-31", 0),
            ("2026-01-01", 0),
            ("2026-03-31", 0),
            ("2026-04-01", 1),
            ("2026-06-30", 1),
            ("2026-07-01", 2),
            ("2026-10-01", 3),
            ("2026-12-31", 3),
            ("2027-01-01", 4),
        ] {
            assert_eq!(quarters_ended(year(), date(as_of)), ended, "{as_of}");
        }
        assert_eq!(quarter_in(year(), date("2026-03-31")), Some(1));
        assert_eq!(quarter_in(year(), date("2026-04-01")), Some(2));
        assert_eq!(quarter_in(year(), date("2026-12-31")), Some(4));
        assert_eq!(quarter_in(year(), date("2027-01-01")), None);
    }

    // DESIGN §3.4: fill rate = Σ complete / Σ delivered; PREM offered rate = Σ offered /
    // Σ eligible; over delivered months only.
    #[test]
    fn derived_figures_sum_the_delivered_months() {
        let mut months = compliant().months;
        assert_eq!(ldo_fill_rate_over_months(&months), Some(0.95));
        assert_eq!(prem_offered_rate_over_months(&months), Some(0.8));
        assert_eq!(months_with_upload(&months), 10);
        months[0].delivered = false;
        months[0].ldo_records_complete = 0;
        months[0].prem_offered = 0;
        assert_eq!(ldo_fill_rate_over_months(&months), Some(0.95));
        assert_eq!(prem_offered_rate_over_months(&months), Some(0.8));
        assert_eq!(months_with_upload(&months), 9);
        assert_eq!(ldo_fill_rate_over_months(&[]), None);
        assert_eq!(prem_offered_rate_over_months(&[]), None);
    }

    // 001 §2.1b: the missing features are named in the order of the source.
    #[test]
    fn shared_address_names_missing_features() {
        let shared = SharedAddress {
            other_practice_agb: OefentherapieAgb::parse("07000002").unwrap(),
            own_kvk: false,
            own_entrance: true,
            own_phone: true,
            own_website: false,
            own_waiting_room: true,
            own_reception: true,
            own_administration: true,
            own_logo: true,
        };
        assert_eq!(shared.missing(), vec!["own_kvk", "own_website"]);
    }
}
