//! The rule of each [`Criterion`] (001; DESIGN §3.5).

use super::evidence::{quarter_in, MonthTotals};
use super::{
    ldo_fill_rate_over_months, months_with_upload, prem_offered_rate_over_months, quarters_ended,
    ComplianceStatus, Criterion, Evidence, EvidenceItem, EvidenceValue, IntervisionMembership,
    Thresholds,
};
use crate::registration::{kp_requirement, KpRequirement, TherapistKp};

/// A criterion's answer before its id, title and source are attached.
pub(super) struct Finding {
    pub status: ComplianceStatus,
    pub evidence: Vec<EvidenceItem>,
    pub reason: Option<String>,
}

impl Finding {
    fn met(evidence: Vec<EvidenceItem>) -> Self {
        Self {
            status: ComplianceStatus::Met,
            evidence,
            reason: None,
        }
    }

    fn not_met(evidence: Vec<EvidenceItem>, reason: impl Into<String>) -> Self {
        Self {
            status: ComplianceStatus::NotMet,
            evidence,
            reason: Some(reason.into()),
        }
    }

    fn unknown(evidence: Vec<EvidenceItem>, reason: impl Into<String>) -> Self {
        Self {
            status: ComplianceStatus::Unknown,
            evidence,
            reason: Some(reason.into()),
        }
    }

    /// Met when nothing fails; else not met, the reason listing what fails.
    fn failing_unless_empty(evidence: Vec<EvidenceItem>, lead: &str, failing: &[String]) -> Self {
        if failing.is_empty() {
            Self::met(evidence)
        } else {
            Self::not_met(evidence, format!("{lead}: {}", failing.join("; ")))
        }
    }
}

fn number(name: &str, value: f64) -> EvidenceItem {
    EvidenceItem::new(name, EvidenceValue::Number(value))
}

fn count(name: &str, value: impl Into<u64>) -> EvidenceItem {
    EvidenceItem::new(name, EvidenceValue::Count(value.into()))
}

fn flag(name: &str, value: bool) -> EvidenceItem {
    EvidenceItem::new(name, EvidenceValue::Flag(value))
}

fn text(name: &str, value: &str) -> EvidenceItem {
    EvidenceItem::new(name, EvidenceValue::Text(value.to_owned()))
}

fn list(name: &str, values: Vec<String>) -> EvidenceItem {
    EvidenceItem::new(name, EvidenceValue::List(values))
}

/// A usize count as evidence; lists in a record never approach u64::MAX.
fn count_of(name: &str, value: usize) -> EvidenceItem {
    count(name, u64::try_from(value).unwrap_or(u64::MAX))
}

/// A rate as a percentage with one decimal for reasons, rounded down so that a rate just under a
/// minimum never reads as the minimum itself: `0.8999` is `89.9%`. The small allowance keeps an
/// exact tenth such as `0.57` (stored a hair below) at `57.0%`.
fn percent(rate: f64) -> String {
    format!("{:.1}%", (rate * 1000.0 + 1e-6).floor() / 10.0)
}

pub(super) fn judge(criterion: Criterion, evidence: &Evidence, thresholds: &Thresholds) -> Finding {
    use Criterion as C;
    match criterion {
        C::BasisKpRegistered => kp_registered(evidence),
        C::BasisPremMeasured => prem_measured(evidence),
        C::LdiLdoMonthlyUpload | C::PlusLdoMonthlyUpload => ldo_monthly_upload(evidence),
        C::LdiLdoFillRate => ldo_fill(evidence, thresholds.ldo_fill_rate_ldi),
        C::PlusLdoFillRate => ldo_fill(evidence, thresholds.ldo_fill_rate_plus),
        C::PlusTreatmentIndex => treatment_index(evidence, thresholds),
        C::PlusRegistered => registered(evidence),
        C::PlusIntervisionParticipation => intervision_participation(evidence),
        C::PlusIntervisionPhysicalMeetings => intervision_meetings(evidence, thresholds),
        C::PlusIntervisionGroupSize => intervision_group_size(evidence, thresholds),
        C::PlusIntervisionPractices => intervision_practices(evidence, thresholds),
        C::PlusIntervisionFacilitator => intervision_facilitator(evidence),
        C::PlusIntervisionAdap => intervision_adap(evidence),
        C::PlusVisitation => visitation(evidence),
        C::PlusConsent => consent(evidence),
        C::PlusPremOffered => prem_offered(evidence, thresholds),
        C::PlusPremScores => prem_scores(evidence),
        C::PlusIop => iop(evidence),
        C::PlusSharedAddress => shared_address(evidence),
    }
}

fn no_therapists(evidence: &Evidence, items: Vec<EvidenceItem>) -> Finding {
    Finding::not_met(
        items,
        format!(
            "the practice has no therapist with a membership active in {}",
            evidence.year
        ),
    )
}

/// 001 Basisovereenkomst condition 1 (and Plus condition 1): every therapist
/// kwaliteitsgeregistreerd in KP on `as_of`, by [`kp_requirement`]. A practice without therapists
/// does not meet it.
fn kp_registered(evidence: &Evidence) -> Finding {
    let therapists: Vec<TherapistKp<'_>> = evidence.therapists.iter().map(|t| t.kp()).collect();
    let mut items = vec![
        EvidenceItem::new("checked_on", EvidenceValue::Date(evidence.as_of)),
        count_of("therapists", therapists.len()),
    ];
    match kp_requirement(&therapists, evidence.as_of) {
        KpRequirement::Met => Finding::met(items),
        KpRequirement::NoTherapists => no_therapists(evidence, items),
        KpRequirement::Lacking(lacking) => {
            let lacking: Vec<String> = lacking.into_iter().map(str::to_owned).collect();
            let reason = format!(
                "not kwaliteitsgeregistreerd in KP on {}: {}",
                evidence.as_of,
                lacking.join(", ")
            );
            items.push(list("not_kwaliteitsgeregistreerd", lacking));
            Finding::not_met(items, reason)
        }
    }
}

/// 001 Basisovereenkomst condition 2 (and §1.5a): patient experiences measured with the PREM; met
/// when any PREM result of Y exists.
fn prem_measured(evidence: &Evidence) -> Finding {
    let items = vec![flag("prem_measured", evidence.prem.measured)];
    if evidence.prem.measured {
        Finding::met(items)
    } else {
        Finding::not_met(items, format!("no PREM result of {}", evidence.year))
    }
}

/// 001 module LDI condition 2 and §1.3b: "minimaal 1x per maand gegevens geüpload naar de LDO".
/// Every due month needs a delivery with an LDO upload date; a due month without one is not met.
/// Unknown while no month of Y is due.
fn ldo_monthly_upload(evidence: &Evidence) -> Finding {
    let months = &evidence.months;
    let without: Vec<String> = months
        .iter()
        .filter(|month| !month.has_ldo_upload())
        .map(|month| month.period.to_string())
        .collect();
    let mut items = vec![
        count_of("months_due", months.len()),
        count_of("months_with_upload", months_with_upload(months)),
    ];
    if months.is_empty() {
        return Finding::unknown(items, format!("no month of {} is due yet", evidence.year));
    }
    let reason = format!("no LDO upload for {}", without.join(", "));
    let none_missing = without.is_empty();
    items.push(list("months_without_upload", without));
    if none_missing {
        Finding::met(items)
    } else {
        Finding::not_met(items, reason)
    }
}

/// 001 module LDI condition 5 (at least 80%) and §1.3f (at least 90%): the LDO fill rate over the
/// delivered months reaches `minimum`. Unknown when no LDO record was delivered.
fn ldo_fill(evidence: &Evidence, minimum: f64) -> Finding {
    let totals = MonthTotals::of(&evidence.months);
    let mut items = vec![
        count("ldo_records_delivered", totals.ldo_records_delivered),
        count("ldo_records_complete", totals.ldo_records_complete),
        number("minimum", minimum),
    ];
    let Some(rate) = ldo_fill_rate_over_months(&evidence.months) else {
        return Finding::unknown(
            items,
            format!(
                "no LDO record delivered in the due months of {}",
                evidence.year
            ),
        );
    };
    items.push(number("ldo_fill_rate", rate));
    if rate >= minimum {
        Finding::met(items)
    } else {
        Finding::not_met(
            items,
            format!(
                "LDO fill rate {} ({} of {} records complete) is below {}",
                percent(rate),
                totals.ldo_records_complete,
                totals.ldo_records_delivered,
                percent(minimum)
            ),
        )
    }
}

/// 001 Plusovereenkomst condition 2 (DESIGN §3.5): the treatment index at most the ceiling, the
/// insurer's when given, else the configured one. Where the lower confidence bound is given it is
/// the figure compared. Unknown without a treatment index.
fn treatment_index(evidence: &Evidence, thresholds: &Thresholds) -> Finding {
    let (ceiling, ceiling_source) = match evidence.insurer_ceiling {
        Some(ceiling) => (ceiling, "insurer"),
        None => (thresholds.treatment_index_ceiling, "default"),
    };
    let mut items = vec![
        number("ceiling", ceiling),
        text("ceiling_source", ceiling_source),
    ];
    let Some(index) = evidence.treatment_index else {
        return Finding::unknown(items, "no treatment index is known for the practice");
    };
    items.push(number("value", index.value));
    if let Some(lower) = index.ci_lower {
        items.push(number("ci_lower", lower));
    }
    if let Some(upper) = index.ci_upper {
        items.push(number("ci_upper", upper));
    }
    let (compared, compared_name) = match index.ci_lower {
        Some(lower) => (lower, "lower confidence bound"),
        None => (index.value, "value"),
    };
    items.push(text("compared", compared_name));
    if !compared.is_finite() || !ceiling.is_finite() {
        return Finding::unknown(items, "the treatment index or the ceiling is not a number");
    }
    if compared <= ceiling {
        Finding::met(items)
    } else {
        Finding::not_met(
            items,
            format!("treatment index {compared_name} {compared} is above the ceiling {ceiling}"),
        )
    }
}

/// 001 Plusovereenkomst condition 3: the practice is registered in the praktijkregister for Y.
/// Its therapists are those of [`Evidence::therapists`]; their KP registration is
/// `basis.kp_registered`.
fn registered(evidence: &Evidence) -> Finding {
    let registered = evidence.visitation.registered_for_year;
    let items = vec![flag("registered_for_year", registered)];
    if registered {
        Finding::met(items)
    } else {
        Finding::not_met(
            items,
            format!(
                "not registered in the praktijkregister for {}",
                evidence.year
            ),
        )
    }
}

/// 001 §1.1a: every therapist belongs to an intervision group in Y.
fn intervision_participation(evidence: &Evidence) -> Finding {
    let therapists = &evidence.therapists;
    let without: Vec<String> = therapists
        .iter()
        .filter(|t| t.intervision.is_empty())
        .map(|t| t.agb.to_string())
        .collect();
    let items = vec![
        count_of("therapists", therapists.len()),
        list("without_group", without.clone()),
    ];
    if therapists.is_empty() {
        return no_therapists(evidence, items);
    }
    Finding::failing_unless_empty(items, "no intervision group", &without)
}

/// The per-group part of 001 §1.1c-g: every group of every therapist must pass `fails`; a
/// therapist without a group fails too (001 §1.1a), and so does a practice without therapists.
fn every_group(
    evidence: &Evidence,
    mut items: Vec<EvidenceItem>,
    lead: &str,
    fails: impl Fn(&IntervisionMembership) -> Option<String>,
) -> Finding {
    if evidence.therapists.is_empty() {
        return no_therapists(evidence, items);
    }
    let mut failing = Vec::new();
    for therapist in &evidence.therapists {
        if therapist.intervision.is_empty() {
            failing.push(format!("{}: no intervision group", therapist.agb));
        }
        for group in &therapist.intervision {
            if let Some(why) = fails(group) {
                failing.push(format!("{}: group {} {why}", therapist.agb, group.group_id));
            }
        }
    }
    items.push(list("failing", failing.clone()));
    Finding::failing_unless_empty(items, lead, &failing)
}

/// 001 §1.1b: "minimaal 4 keer per jaar ... in fysieke bijeenkomsten": per therapist, the physical
/// meetings attended in Y over all their groups reach the minimum.
fn intervision_meetings(evidence: &Evidence, thresholds: &Thresholds) -> Finding {
    let minimum = thresholds.intervision_min_physical_meetings;
    let mut items = vec![count("minimum", minimum)];
    if evidence.therapists.is_empty() {
        return no_therapists(evidence, items);
    }
    let failing: Vec<String> = evidence
        .therapists
        .iter()
        .filter_map(|therapist| {
            let attended = therapist.intervision.iter().fold(0u32, |sum, group| {
                sum.saturating_add(group.physical_meetings_attended)
            });
            (attended < minimum).then(|| format!("{}: {attended} attended", therapist.agb))
        })
        .collect();
    items.push(list("failing", failing.clone()));
    Finding::failing_unless_empty(
        items,
        &format!("fewer than {minimum} physical intervision meetings"),
        &failing,
    )
}

/// 001 §1.1c: every group has from the minimum to the maximum members (4 to 12).
fn intervision_group_size(evidence: &Evidence, thresholds: &Thresholds) -> Finding {
    let (min, max) = (
        thresholds.intervision_group_min,
        thresholds.intervision_group_max,
    );
    let items = vec![count("minimum", min), count("maximum", max)];
    every_group(
        evidence,
        items,
        &format!("intervision group size outside {min} to {max}"),
        |group| {
            (!(min..=max).contains(&group.group_size))
                .then(|| format!("has {} members", group.group_size))
        },
    )
}

/// 001 §1.1d: every group has members from at least the minimum number of practices (2).
fn intervision_practices(evidence: &Evidence, thresholds: &Thresholds) -> Finding {
    let minimum = thresholds.intervision_min_practices;
    let items = vec![count("minimum", minimum)];
    every_group(
        evidence,
        items,
        &format!("intervision group with members from fewer than {minimum} practices"),
        |group| {
            (group.practices_in_group < minimum)
                .then(|| format!("has members from {} practices", group.practices_in_group))
        },
    )
}

/// 001 §1.1e: every group is led by a trained facilitator.
fn intervision_facilitator(evidence: &Evidence) -> Finding {
    every_group(
        evidence,
        Vec::new(),
        "intervision without a trained facilitator",
        |group| (!group.facilitator_trained_all).then(|| "has no trained facilitator".to_owned()),
    )
}

/// 001 §1.1f-g: every group's programme is ADAP-accredited for Y.
fn intervision_adap(evidence: &Evidence) -> Finding {
    every_group(
        evidence,
        Vec::new(),
        "intervision without ADAP accreditation for the year",
        |group| (!group.adap_accredited_for_year).then(|| "is not ADAP-accredited".to_owned()),
    )
}

/// 001 §1.2a, b, g: a positive visitation in Y, the entry visitation passed in time, the report
/// uploaded. Not met when any is known to fail; else unknown when any is unknown.
fn visitation(evidence: &Evidence) -> Finding {
    let visitation = evidence.visitation;
    let mut items = vec![flag(
        "visitation_positive_in_year",
        visitation.visitation_positive_in_year,
    )];
    let mut failing = Vec::new();
    let mut unknown = Vec::new();
    if !visitation.visitation_positive_in_year {
        failing.push(format!("no positive visitation in {}", evidence.year));
    }
    match visitation.report_uploaded {
        Some(uploaded) => {
            items.push(flag("report_uploaded", uploaded));
            if !uploaded {
                failing.push("the visitation report is not uploaded".to_owned());
            }
        }
        None => unknown.push("whether the visitation report is uploaded is unknown".to_owned()),
    }
    match visitation.entry_visitation_in_time {
        Some(in_time) => {
            items.push(flag("entry_visitation_in_time", in_time));
            if !in_time {
                failing.push("the entry visitation was not passed in time".to_owned());
            }
        }
        None => {
            unknown.push("whether the entry visitation was passed in time is unknown".to_owned())
        }
    }
    if !failing.is_empty() {
        Finding::not_met(items, failing.join("; "))
    } else if !unknown.is_empty() {
        Finding::unknown(items, unknown.join("; "))
    } else {
        Finding::met(items)
    }
}

/// 001 §1.3c: consent to share practice-level quality data with the insurer. Unknown when no
/// insurer is in question, since consent is given per insurer (DESIGN §3.6).
fn consent(evidence: &Evidence) -> Finding {
    match evidence.consent_given {
        Some(true) => Finding::met(vec![flag("consent_given", true)]),
        Some(false) => Finding::not_met(
            vec![flag("consent_given", false)],
            "no consent to share practice-level quality data with the insurer",
        ),
        None => Finding::unknown(
            Vec::new(),
            "no insurer is in question; consent is given per insurer",
        ),
    }
}

/// 001 §1.5h: the PREM offered to at least the minimum share (70%) of eligible patients, over the
/// delivered months. Unknown when no patient was eligible.
fn prem_offered(evidence: &Evidence, thresholds: &Thresholds) -> Finding {
    let minimum = thresholds.prem_offered_rate_plus;
    let totals = MonthTotals::of(&evidence.months);
    let mut items = vec![
        count("prem_eligible", totals.prem_eligible),
        count("prem_offered", totals.prem_offered),
        number("minimum", minimum),
    ];
    let Some(rate) = prem_offered_rate_over_months(&evidence.months) else {
        return Finding::unknown(
            items,
            format!(
                "no PREM-eligible patient in the due months of {}",
                evidence.year
            ),
        );
    };
    items.push(number("prem_offered_rate", rate));
    if rate >= minimum {
        Finding::met(items)
    } else {
        Finding::not_met(
            items,
            format!(
                "PREM offered to {} ({} of {} eligible patients), below {}",
                percent(rate),
                totals.prem_offered,
                totals.prem_eligible,
                percent(minimum)
            ),
        )
    }
}

/// 001 §1.5g: "op alle vragen/domeinen ... minimaal gemiddeld in de benchmark": the practice mean
/// at least the benchmark mean on every domain. Not met when any domain is below; else unknown
/// when a domain lacks either mean, or no domain is known at all.
fn prem_scores(evidence: &Evidence) -> Finding {
    let scores = &evidence.prem.domain_scores;
    let mut below = Vec::new();
    let mut missing = Vec::new();
    for score in scores {
        match (score.practice_mean, score.benchmark_mean) {
            (Some(practice), Some(benchmark)) if practice.is_finite() && benchmark.is_finite() => {
                if practice < benchmark {
                    below.push(format!(
                        "{}: {practice} below benchmark {benchmark}",
                        score.domain
                    ));
                }
            }
            _ => missing.push(score.domain.clone()),
        }
    }
    let items = vec![
        count_of("domains", scores.len()),
        list("below_benchmark", below.clone()),
        list("without_score_or_benchmark", missing.clone()),
    ];
    if !below.is_empty() {
        Finding::not_met(
            items,
            format!("PREM below the benchmark average: {}", below.join("; ")),
        )
    } else if scores.is_empty() {
        Finding::unknown(
            items,
            format!("no PREM domain score of {} is known", evidence.year),
        )
    } else if !missing.is_empty() {
        Finding::unknown(
            items,
            format!("no practice score or benchmark for {}", missing.join(", ")),
        )
    } else {
        Finding::met(items)
    }
}

/// 001 §1.6a-b: every therapist has an IOP drawn up in Y, uploaded to KP, and updated in every
/// quarter of Y that ended before `as_of`; drawing the IOP up counts as the update of its quarter.
fn iop(evidence: &Evidence) -> Finding {
    let year = evidence.year;
    let due = quarters_ended(year, evidence.as_of);
    let mut items = vec![count("quarters_due", due)];
    if evidence.therapists.is_empty() {
        return no_therapists(evidence, items);
    }
    let mut failing = Vec::new();
    for therapist in &evidence.therapists {
        let agb = &therapist.agb;
        let Some(plan) = &therapist.iop else {
            failing.push(format!("{agb}: no IOP"));
            continue;
        };
        if quarter_in(year, plan.drawn_up_on).is_none() {
            failing.push(format!(
                "{agb}: IOP drawn up on {}, not in {year}",
                plan.drawn_up_on
            ));
        }
        if plan.uploaded_to_kp_on.is_none() {
            failing.push(format!("{agb}: IOP not uploaded to KP"));
        }
        let updated: Vec<u32> = std::iter::once(plan.drawn_up_on)
            .chain(plan.quarterly_updates.iter().copied())
            .filter_map(|date| quarter_in(year, date))
            .collect();
        let not_updated: Vec<String> = (1..=due)
            .filter(|quarter| !updated.contains(quarter))
            .map(|quarter| format!("Q{quarter}"))
            .collect();
        if !not_updated.is_empty() {
            failing.push(format!(
                "{agb}: IOP not updated in {year} {}",
                not_updated.join(", ")
            ));
        }
    }
    items.push(list("failing", failing.clone()));
    Finding::failing_unless_empty(items, "IOP requirements not met", &failing)
}

/// 001 §2.1b: towards every other practice at the same address the practice has its own KvK
/// registration, entrance, phone, website, waiting room, reception, administration and logo. Met
/// when it shares no address.
fn shared_address(evidence: &Evidence) -> Finding {
    let failing: Vec<String> = evidence
        .shared_address
        .iter()
        .filter_map(|shared| {
            let missing = shared.missing();
            (!missing.is_empty())
                .then(|| format!("{}: {}", shared.other_practice_agb, missing.join(", ")))
        })
        .collect();
    let items = vec![
        count_of("practices_at_same_address", evidence.shared_address.len()),
        list("missing", failing.clone()),
    ];
    Finding::failing_unless_empty(
        items,
        "not distinguished from a practice at the same address",
        &failing,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::percent;
    use crate::KpStatus;
    use ComplianceStatus::{Met, NotMet, Unknown};
    use Criterion as C;

    fn list_of<'a>(result: &'a CriterionResult, name: &str) -> &'a [String] {
        match item(result, name) {
            EvidenceValue::List(values) => values,
            other => panic!("{name} is {other:?}"),
        }
    }

    #[test]
    fn percent_rounds_down_to_a_tenth() {
        assert_eq!(percent(0.899), "89.9%");
        assert_eq!(percent(0.8999), "89.9%");
        assert_eq!(percent(0.9), "90.0%");
        assert_eq!(percent(0.57), "57.0%");
        assert_eq!(percent(1.0), "100.0%");
    }

    // 001 §1.3f: "voor minimaal 90% gevuld": 89.9% is not met, 90.0% is.
    #[test]
    fn plus_ldo_fill_rate_edge_001_1_3f() {
        let mut evidence = compliant();
        set_ldo(&mut evidence, 1000, 899);
        let result = judge(&evidence, C::PlusLdoFillRate);
        assert_eq!(result.status, NotMet);
        assert_eq!(
            item(&result, "ldo_fill_rate"),
            &EvidenceValue::Number(0.899)
        );
        assert_eq!(item(&result, "minimum"), &EvidenceValue::Number(0.9));
        set_ldo(&mut evidence, 1000, 900);
        assert_eq!(status(&evidence, C::PlusLdoFillRate), Met);
        // The module's 80% does not apply within Plus, and 90% is more than it needs.
        assert_eq!(status(&evidence, C::LdiLdoFillRate), Met);
    }

    // 001 module Leren door Inzicht condition 5: "voor minimaal 80% gevuld": 79.9% vs 80.0%.
    #[test]
    fn ldi_ldo_fill_rate_edge_001_ldi_condition_5() {
        let mut evidence = compliant();
        set_ldo(&mut evidence, 1000, 799);
        assert_eq!(status(&evidence, C::LdiLdoFillRate), NotMet);
        let report = evaluate(CriteriaSet::Ldi, &evidence, &Thresholds::default());
        assert_eq!(report.outcome, NotMet);
        set_ldo(&mut evidence, 1000, 800);
        assert_eq!(status(&evidence, C::LdiLdoFillRate), Met);
        assert_eq!(status(&evidence, C::PlusLdoFillRate), NotMet);
        let report = evaluate(CriteriaSet::Ldi, &evidence, &Thresholds::default());
        assert_eq!(report.outcome, Met);
    }

    // 001 §1.3f, module condition 5: a fill rate over no delivered record is unknown; the
    // figures of an undelivered month are not counted.
    #[test]
    fn ldo_fill_rate_without_records_is_unknown() {
        let mut evidence = compliant();
        set_ldo(&mut evidence, 0, 0);
        for criterion in [C::LdiLdoFillRate, C::PlusLdoFillRate] {
            let result = judge(&evidence, criterion);
            assert_eq!(result.status, Unknown);
            assert!(result.reason.unwrap().contains("no LDO record"));
        }
        set_ldo(&mut evidence, 1000, 100);
        evidence.months[0].delivered = false;
        assert_eq!(status(&evidence, C::PlusLdoFillRate), Unknown);
    }

    // 001 §1.3b and module condition 2: "minimaal 1x per maand": a due month without a delivery,
    // or delivered without an LDO upload, is not met.
    #[test]
    fn month_without_upload_001_1_3b() {
        let mut evidence = compliant();
        evidence.months[2].delivered = false;
        for criterion in [C::LdiLdoMonthlyUpload, C::PlusLdoMonthlyUpload] {
            let result = judge(&evidence, criterion);
            assert_eq!(result.status, NotMet);
            assert_eq!(list_of(&result, "months_without_upload"), ["2026-03"]);
            assert_eq!(item(&result, "months_due"), &EvidenceValue::Count(10));
            assert_eq!(
                item(&result, "months_with_upload"),
                &EvidenceValue::Count(9)
            );
            assert_eq!(result.reason.as_deref(), Some("no LDO upload for 2026-03"));
        }
        let mut evidence = compliant();
        evidence.months[9].ldo_upload_date = None;
        let result = judge(&evidence, C::PlusLdoMonthlyUpload);
        assert_eq!(result.status, NotMet);
        assert_eq!(list_of(&result, "months_without_upload"), ["2026-10"]);
        // No month of Y due yet: nothing to judge.
        evidence.months.clear();
        assert_eq!(status(&evidence, C::PlusLdoMonthlyUpload), Unknown);
    }

    // 001 §1.5h: "bij tenminste 70% ... uitgezet": 69.9% vs 70.0%.
    #[test]
    fn prem_offered_edge_001_1_5h() {
        let mut evidence = compliant();
        set_prem(&mut evidence, 1000, 699);
        let result = judge(&evidence, C::PlusPremOffered);
        assert_eq!(result.status, NotMet);
        assert_eq!(
            result.reason.as_deref(),
            Some("PREM offered to 69.9% (699 of 1000 eligible patients), below 70.0%")
        );
        set_prem(&mut evidence, 1000, 700);
        assert_eq!(status(&evidence, C::PlusPremOffered), Met);
        set_prem(&mut evidence, 0, 0);
        assert_eq!(status(&evidence, C::PlusPremOffered), Unknown);
    }

    // 001 §1.1b: "minimaal 4 keer per jaar ... in fysieke bijeenkomsten": 3 vs 4.
    #[test]
    fn physical_meetings_edge_001_1_1b() {
        let mut evidence = compliant();
        evidence.therapists[1].intervision[0].physical_meetings_attended = 3;
        let result = judge(&evidence, C::PlusIntervisionPhysicalMeetings);
        assert_eq!(result.status, NotMet);
        assert_eq!(list_of(&result, "failing"), ["07100002: 3 attended"]);
        evidence.therapists[1].intervision[0].physical_meetings_attended = 4;
        assert_eq!(status(&evidence, C::PlusIntervisionPhysicalMeetings), Met);
        // Meetings of two groups in the year add up.
        let mut second = group("G2");
        second.physical_meetings_attended = 2;
        evidence.therapists[1].intervision = vec![second.clone(), second];
        assert_eq!(status(&evidence, C::PlusIntervisionPhysicalMeetings), Met);
    }

    // 001 §1.1c: "minimaal 4 tot maximaal 12 oefentherapeuten": 3 and 13 fail, 4 and 12 pass.
    #[test]
    fn group_size_edges_001_1_1c() {
        let mut evidence = compliant();
        for (size, expected) in [(3, NotMet), (4, Met), (12, Met), (13, NotMet)] {
            evidence.therapists[0].intervision[0].group_size = size;
            assert_eq!(
                status(&evidence, C::PlusIntervisionGroupSize),
                expected,
                "group of {size}"
            );
        }
        let result = judge(&evidence, C::PlusIntervisionGroupSize);
        assert_eq!(
            list_of(&result, "failing"),
            ["07100001: group G1 has 13 members"]
        );
    }

    // 001 §1.1d: "minimaal 2 verschillende praktijken": one practice vs two.
    #[test]
    fn practices_in_group_edge_001_1_1d() {
        let mut evidence = compliant();
        evidence.therapists[0].intervision[0].practices_in_group = 1;
        assert_eq!(status(&evidence, C::PlusIntervisionPractices), NotMet);
        evidence.therapists[0].intervision[0].practices_in_group = 2;
        assert_eq!(status(&evidence, C::PlusIntervisionPractices), Met);
    }

    // 001 §1.1e (trained facilitator) and §1.1f-g (ADAP accreditation of the year).
    #[test]
    fn facilitator_and_adap_001_1_1e_f() {
        let mut evidence = compliant();
        evidence.therapists[0].intervision[0].facilitator_trained_all = false;
        assert_eq!(status(&evidence, C::PlusIntervisionFacilitator), NotMet);
        assert_eq!(status(&evidence, C::PlusIntervisionAdap), Met);
        evidence.therapists[0].intervision[0].adap_accredited_for_year = false;
        assert_eq!(status(&evidence, C::PlusIntervisionAdap), NotMet);
    }

    // 001 §1.1a: a therapist without an intervision group fails every intervision criterion.
    #[test]
    fn therapist_without_group_001_1_1a() {
        let mut evidence = compliant();
        evidence.therapists[1].intervision.clear();
        for criterion in [
            C::PlusIntervisionParticipation,
            C::PlusIntervisionPhysicalMeetings,
            C::PlusIntervisionGroupSize,
            C::PlusIntervisionPractices,
            C::PlusIntervisionFacilitator,
            C::PlusIntervisionAdap,
        ] {
            let result = judge(&evidence, criterion);
            assert_eq!(result.status, NotMet, "{criterion}");
            assert!(result.reason.unwrap().contains("07100002"), "{criterion}");
        }
    }

    // 001 Plus condition 2 (DESIGN §3.5): at most the ceiling; 149 vs 149.1 against 149.
    #[test]
    fn treatment_index_edge_001_plus_condition_2() {
        let mut evidence = compliant();
        let index = |value: f64, ci_lower: Option<f64>| {
            Some(TreatmentIndexEvidence {
                value,
                ci_lower,
                ci_upper: None,
            })
        };
        evidence.treatment_index = index(149.0, None);
        assert_eq!(status(&evidence, C::PlusTreatmentIndex), Met);
        evidence.treatment_index = index(149.1, None);
        let result = judge(&evidence, C::PlusTreatmentIndex);
        assert_eq!(result.status, NotMet);
        assert_eq!(
            result.reason.as_deref(),
            Some("treatment index value 149.1 is above the ceiling 149")
        );
        assert_eq!(
            item(&result, "ceiling_source"),
            &EvidenceValue::Text("default".into())
        );
        // DESIGN §3.5: "lower confidence bound where given": 150 with a lower bound of 148.5.
        evidence.treatment_index = index(150.0, Some(148.5));
        assert_eq!(status(&evidence, C::PlusTreatmentIndex), Met);
        evidence.treatment_index = index(150.0, Some(149.1));
        assert_eq!(status(&evidence, C::PlusTreatmentIndex), NotMet);
        // The insurer's ceiling replaces the configured one.
        evidence.treatment_index = index(140.0, None);
        evidence.insurer_ceiling = Some(130.0);
        let result = judge(&evidence, C::PlusTreatmentIndex);
        assert_eq!(result.status, NotMet);
        assert_eq!(item(&result, "ceiling"), &EvidenceValue::Number(130.0));
        evidence.insurer_ceiling = Some(140.0);
        assert_eq!(status(&evidence, C::PlusTreatmentIndex), Met);
        // No index known: unknown.
        evidence.treatment_index = None;
        assert_eq!(status(&evidence, C::PlusTreatmentIndex), Unknown);
    }

    // 001 §1.3c: consent to share quality data with the insurer.
    #[test]
    fn consent_missing_001_1_3c() {
        let mut evidence = compliant();
        evidence.consent_given = Some(false);
        assert_eq!(status(&evidence, C::PlusConsent), NotMet);
        evidence.consent_given = None;
        let result = judge(&evidence, C::PlusConsent);
        assert_eq!(result.status, Unknown);
        assert!(result.reason.unwrap().contains("per insurer"));
    }

    // 001 §1.6b: "elk kwartaal geüpdatet": on 1 November Q1-Q3 are due; no update in Q2 fails.
    #[test]
    fn iop_missing_quarterly_update_001_1_6b() {
        let mut evidence = compliant();
        let plan = evidence.therapists[0].iop.as_mut().unwrap();
        plan.quarterly_updates = vec![date("2026-08-10")];
        let result = judge(&evidence, C::PlusIop);
        assert_eq!(result.status, NotMet);
        assert_eq!(item(&result, "quarters_due"), &EvidenceValue::Count(3));
        assert_eq!(
            list_of(&result, "failing"),
            ["07100001: IOP not updated in 2026 Q2"]
        );
        // On 30 June only Q1 has ended; drawing the IOP up in January counts for it.
        evidence.as_of = date("2026-06-30");
        assert_eq!(status(&evidence, C::PlusIop), Met);
        // On 1 July Q2 is due.
        evidence.as_of = date("2026-07-01");
        assert_eq!(status(&evidence, C::PlusIop), NotMet);
    }

    // 001 §1.6a: "jaarlijks een IOP ... geüpload in het Kwaliteitsregister Paramedici".
    #[test]
    fn iop_missing_old_or_not_uploaded_001_1_6a() {
        let mut evidence = compliant();
        evidence.therapists[0].iop = None;
        let plan = evidence.therapists[1].iop.as_mut().unwrap();
        plan.uploaded_to_kp_on = None;
        plan.drawn_up_on = date("2025-12-15");
        plan.quarterly_updates = vec![date("2026-02-01"), date("2026-05-01"), date("2026-08-01")];
        let result = judge(&evidence, C::PlusIop);
        assert_eq!(result.status, NotMet);
        assert_eq!(
            list_of(&result, "failing"),
            [
                "07100001: no IOP",
                "07100002: IOP drawn up on 2025-12-15, not in 2026",
                "07100002: IOP not uploaded to KP",
            ]
        );
    }

    // 001 §2.1b: practices at one address each have their own KvK, entrance, ..., logo.
    #[test]
    fn shared_address_missing_flag_001_2_1b() {
        let mut evidence = compliant();
        assert_eq!(status(&evidence, C::PlusSharedAddress), Met);
        let mut shared = SharedAddress {
            other_practice_agb: agb("07000002"),
            own_kvk: true,
            own_entrance: true,
            own_phone: true,
            own_website: true,
            own_waiting_room: true,
            own_reception: true,
            own_administration: true,
            own_logo: true,
        };
        evidence.shared_address = vec![shared.clone()];
        assert_eq!(status(&evidence, C::PlusSharedAddress), Met);
        shared.own_waiting_room = false;
        shared.own_logo = false;
        evidence.shared_address.push(shared);
        let result = judge(&evidence, C::PlusSharedAddress);
        assert_eq!(result.status, NotMet);
        assert_eq!(
            list_of(&result, "missing"),
            ["07000002: own_waiting_room, own_logo"]
        );
    }

    // 001 Basisovereenkomst condition 1: every therapist kwaliteitsgeregistreerd; checked on
    // as_of with the registration period (DESIGN §3.1).
    #[test]
    fn kp_registered_001_basis_condition_1() {
        let mut evidence = compliant();
        evidence.therapists[1].kp_status = Some(KpStatus::Diplomageregistreerd);
        let result = judge(&evidence, C::BasisKpRegistered);
        assert_eq!(result.status, NotMet);
        assert_eq!(
            list_of(&result, "not_kwaliteitsgeregistreerd"),
            ["07100002"]
        );
        assert_eq!(
            evaluate(CriteriaSet::Basis, &evidence, &Thresholds::default()).outcome,
            NotMet
        );
        let mut evidence = compliant();
        evidence.therapists[0].kp_valid_until = Some(date("2026-10-31"));
        assert_eq!(status(&evidence, C::BasisKpRegistered), NotMet);
        evidence.therapists[0].kp_valid_until = Some(date("2026-11-01"));
        assert_eq!(status(&evidence, C::BasisKpRegistered), Met);
    }

    // 001, registration.rs: a practice without therapists meets no per-therapist criterion.
    #[test]
    fn practice_without_therapists_is_not_met() {
        let mut evidence = compliant();
        evidence.therapists.clear();
        for criterion in [
            C::BasisKpRegistered,
            C::PlusIntervisionParticipation,
            C::PlusIntervisionPhysicalMeetings,
            C::PlusIntervisionGroupSize,
            C::PlusIntervisionPractices,
            C::PlusIntervisionFacilitator,
            C::PlusIntervisionAdap,
            C::PlusIop,
        ] {
            assert_eq!(status(&evidence, criterion), NotMet, "{criterion}");
        }
    }

    // 001 Basisovereenkomst condition 2: the PREM is measured.
    #[test]
    fn prem_measured_001_basis_condition_2() {
        let mut evidence = compliant();
        evidence.prem.measured = false;
        assert_eq!(status(&evidence, C::BasisPremMeasured), NotMet);
    }

    // 001 §1.5g: "op alle vragen/domeinen ... minimaal gemiddeld": equal passes, below fails.
    #[test]
    fn prem_scores_001_1_5g() {
        let mut evidence = compliant();
        // The fixture has one domain exactly at the benchmark.
        assert_eq!(status(&evidence, C::PlusPremScores), Met);
        evidence.prem.domain_scores[1].practice_mean = Some(8.09);
        let result = judge(&evidence, C::PlusPremScores);
        assert_eq!(result.status, NotMet);
        assert_eq!(
            list_of(&result, "below_benchmark"),
            ["informatie: 8.09 below benchmark 8.1"]
        );
        // A domain without a benchmark leaves it unknown, unless another is below.
        evidence.prem.domain_scores[0].benchmark_mean = None;
        assert_eq!(status(&evidence, C::PlusPremScores), NotMet);
        evidence.prem.domain_scores[1].practice_mean = Some(8.2);
        assert_eq!(status(&evidence, C::PlusPremScores), Unknown);
        evidence.prem.domain_scores.clear();
        assert_eq!(status(&evidence, C::PlusPremScores), Unknown);
    }

    // 001 §1.2a, b, g: a report not known to be uploaded leaves the visitation unknown, unless
    // something else is not met.
    #[test]
    fn visitation_001_1_2() {
        let mut evidence = compliant();
        evidence.visitation.report_uploaded = None;
        let result = judge(&evidence, C::PlusVisitation);
        assert_eq!(result.status, Unknown);
        assert_eq!(
            result.reason.as_deref(),
            Some("whether the visitation report is uploaded is unknown")
        );
        evidence.visitation.visitation_positive_in_year = false;
        assert_eq!(status(&evidence, C::PlusVisitation), NotMet);
        let mut evidence = compliant();
        evidence.visitation.report_uploaded = Some(false);
        assert_eq!(status(&evidence, C::PlusVisitation), NotMet);
        let mut evidence = compliant();
        evidence.visitation.entry_visitation_in_time = Some(false);
        assert_eq!(status(&evidence, C::PlusVisitation), NotMet);
        evidence.visitation.entry_visitation_in_time = None;
        assert_eq!(status(&evidence, C::PlusVisitation), Unknown);
    }

    // 001 Plusovereenkomst condition 3: the practice is registered in the praktijkregister.
    #[test]
    fn registered_001_plus_condition_3() {
        let mut evidence = compliant();
        evidence.visitation.registered_for_year = false;
        assert_eq!(status(&evidence, C::PlusRegistered), NotMet);
    }

    // Thresholds come from configuration (DESIGN §3.5): an insurer's 85% applies.
    #[test]
    fn configured_thresholds_apply() {
        let mut evidence = compliant();
        set_ldo(&mut evidence, 100, 86);
        let thresholds = Thresholds {
            ldo_fill_rate_plus: 0.85,
            ..Thresholds::default()
        };
        assert_eq!(
            evaluate_criterion(C::PlusLdoFillRate, &evidence, &thresholds).status,
            Met
        );
        assert_eq!(status(&evidence, C::PlusLdoFillRate), NotMet);
    }
}
