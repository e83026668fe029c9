//! The other forms of a snapshot: CSV for spreadsheets and a FHIR R4 Bundle for systems that
//! speak FHIR. Both are derived from the signed JSON body; only that body is signed.

use chrono::{DateTime, Utc};
use praktijkregister_domain::Criterion;
use serde_json::{json, Value};

use super::ListedPractice;

/// FHIR naming system of AGB codes (Vektis AGB-Z), as the Dutch FHIR profiles name it.
pub const AGB_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/agb-z";
/// FHIR naming system of KvK numbers.
pub const KVK_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/kvk";

/// The field separator of the CSV form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Delimiter {
    /// `;` with a UTF-8 byte-order mark, as Dutch Excel opens it.
    Semicolon,
    /// `,` without a byte-order mark, for everything else.
    Comma,
}

/// The head of the CSV form (after a byte-order mark with `;`): one column per field of a
/// listed practice (its registration, consent and overall answer) and one per criterion id of
/// the set (`criteria`). [`csv_rows`] follow, in the order of the JSON body, in as many pieces as suits.
pub fn csv_head(criteria: &[Criterion], delimiter: Delimiter) -> Result<Vec<u8>, csv::Error> {
    let mut header: Vec<String> = [
        "practice_agb",
        "name",
        "kvk_number",
        "tier",
        "registered_at",
        "location_agbs",
        "consent",
        "eligible",
        "outcome",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(criteria.iter().map(|c| c.as_str().to_string()));
    let mut bytes = records(delimiter, std::iter::once(header))?;
    if delimiter == Delimiter::Semicolon {
        bytes.splice(0..0, "\u{feff}".bytes());
    }
    Ok(bytes)
}

/// One CSV row per practice.
pub fn csv_rows(practices: &[ListedPractice], delimiter: Delimiter) -> Result<Vec<u8>, csv::Error> {
    records(delimiter, practices.iter().map(row))
}

/// The records written with the delimiter.
fn records(
    delimiter: Delimiter,
    records: impl Iterator<Item = Vec<String>>,
) -> Result<Vec<u8>, csv::Error> {
    let separator = match delimiter {
        Delimiter::Semicolon => b';',
        Delimiter::Comma => b',',
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(separator)
        .from_writer(Vec::new());
    for record in records {
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn row(practice: &ListedPractice) -> Vec<String> {
    let mut fields = vec![
        practice.agb.clone(),
        practice.name.clone(),
        practice.kvk_number.clone(),
        practice.tier.clone(),
        practice
            .registered_at
            .map(|at| at.to_rfc3339())
            .unwrap_or_default(),
        practice
            .locations
            .iter()
            .map(|l| l.agb.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        practice.consent.to_string(),
        practice.eligible.to_string(),
        practice.outcome.as_str().to_string(),
    ];
    fields.extend(
        practice
            .criteria
            .iter()
            .map(|c| c.status.as_str().to_string()),
    );
    fields
}

/// The opening of the FHIR form, a R4 `Bundle` (type `collection`, id the snapshot id) up to
/// its entries: one `Organization` per practice (its AGB code and KvK number) and one `Location`
/// per vestiging (its AGB code, address and `managingOrganization`), given by [`fhir_entries`]
/// in as many pieces as suits, then [`FHIR_TAIL`].
pub fn fhir_head(built_at: DateTime<Utc>, snapshot_id: &str) -> Result<Vec<u8>, serde_json::Error> {
    let mut head = serde_json::to_vec(&json!({
        "resourceType": "Bundle",
        "id": snapshot_id,
        "type": "collection",
        "timestamp": built_at.to_rfc3339(),
    }))?;
    // Reopen the object for the entries.
    head.pop();
    head.extend_from_slice(b",\"entry\":[");
    Ok(head)
}

/// The entries of the practices, comma-separated; `first`: these open the list.
pub fn fhir_entries(
    practices: &[ListedPractice],
    first: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut piece = Vec::new();
    for (i, entry) in practices.iter().flat_map(entries_of).enumerate() {
        if !first || i > 0 {
            piece.push(b',');
        }
        serde_json::to_writer(&mut piece, &entry)?;
    }
    Ok(piece)
}

/// The close of the FHIR form.
pub const FHIR_TAIL: &[u8] = b"]}";

/// The entries of one practice: its `Organization` and a `Location` per vestiging.
fn entries_of(practice: &ListedPractice) -> Vec<Value> {
    let organization_id = format!("agb-{}", practice.agb);
    let mut entries = Vec::new();
    entries.push(json!({"resource": {
        "resourceType": "Organization",
        "id": organization_id,
        "identifier": [
            {"system": AGB_SYSTEM, "value": practice.agb},
            {"system": KVK_SYSTEM, "value": practice.kvk_number},
        ],
        "active": true,
        "name": practice.name,
    }}));
    for location in &practice.locations {
        entries.push(json!({"resource": {
            "resourceType": "Location",
            "id": format!("agb-{}-{}", practice.agb, location.agb),
            "identifier": [{"system": AGB_SYSTEM, "value": location.agb}],
            "status": "active",
            "name": format!("{} ({})", practice.name, location.city),
            "address": {
                "use": "work",
                "line": [format!("{} {}", location.street, location.house_number)],
                "city": location.city,
                "postalCode": location.postal_code,
                "country": "NL",
            },
            "managingOrganization": {"reference": format!("Organization/{organization_id}")},
        }}));
    }
    entries
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::snapshots::SnapshotBody;

    fn body(practices: usize) -> SnapshotBody {
        let practices: Vec<Value> = (0..practices)
            .map(|i| {
                json!({
                    "agb": format!("0700{i:04}"), "name": format!("Praktijk {i}"),
                    "kvk_number": "12345678", "tier": "praktijkregister",
                    "registered_at": "2026-06-01T10:00:00Z",
                    "locations": [{"agb": format!("0799{i:04}"), "kvk_branch_number": "000012345678",
                        "street": "Lindelaan", "house_number": "1", "postal_code": "3511 AB", "city": "Utrecht"}],
                    "consent": true, "eligible": true, "outcome": "met",
                    "criteria": [{"id": "basis.kp_registered", "title": "KP", "source": "001",
                        "status": "met", "evidence": [], "reason": null}]
                })
            })
            .collect();
        serde_json::from_value(json!({
            "format": "praktijkregister.insurer-export/1",
            "insurer": {"uzovi": "3311", "name": "Zorgverzekeraar Oost"},
            "contract_year": 2027, "cycle_year": 2026, "built_at": "2026-11-01T00:00:00Z",
            "criteria_set": {"version": 1, "base_set": null, "criteria": ["basis.kp_registered"],
                "thresholds": {}},
            "supersedes": null, "correction_reason": null,
            "practices": practices
        }))
        .unwrap()
    }

    #[test]
    fn pieces_of_any_size_make_the_same_bundle_and_csv() {
        let body = body(5);
        let all = &body.practices[..];
        let whole = [
            fhir_head(body.built_at, "abc").unwrap(),
            fhir_entries(all, true).unwrap(),
            FHIR_TAIL.to_vec(),
        ]
        .concat();
        let pieced = [
            fhir_head(body.built_at, "abc").unwrap(),
            fhir_entries(&all[..2], true).unwrap(),
            fhir_entries(&all[2..4], false).unwrap(),
            fhir_entries(&all[4..], false).unwrap(),
            FHIR_TAIL.to_vec(),
        ]
        .concat();
        assert_eq!(whole, pieced);
        let bundle: Value = serde_json::from_slice(&pieced).unwrap();
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["id"], "abc");
        let entries = bundle["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 10);
        assert_eq!(entries[9]["resource"]["resourceType"], "Location");

        let head = csv_head(&body.criteria_set.criteria, Delimiter::Semicolon).unwrap();
        assert!(head.starts_with("\u{feff}practice_agb;".as_bytes()));
        let whole = [head.clone(), csv_rows(all, Delimiter::Semicolon).unwrap()].concat();
        let pieced = [
            head,
            csv_rows(&all[..3], Delimiter::Semicolon).unwrap(),
            csv_rows(&all[3..], Delimiter::Semicolon).unwrap(),
        ]
        .concat();
        assert_eq!(whole, pieced);
        assert_eq!(String::from_utf8(pieced).unwrap().lines().count(), 6);
        let comma = csv_head(&body.criteria_set.criteria, Delimiter::Comma).unwrap();
        assert!(comma.starts_with(b"practice_agb,"));
    }
}
