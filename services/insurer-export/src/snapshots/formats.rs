//! The other forms of a snapshot: CSV for spreadsheets and a FHIR R4 Bundle for systems that
//! speak FHIR. Both are derived from the signed JSON body; only that body is signed.

use serde_json::{json, Value};

use super::{ListedPractice, SnapshotBody};

/// FHIR naming system of AGB codes (Vektis AGB-Z), as the Dutch FHIR profiles name it.
pub const AGB_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/agb-z";
/// FHIR naming system of KvK numbers.
pub const KVK_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/kvk";

/// The field separator of the CSV form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `;` with a UTF-8 byte-order mark, as Dutch Excel opens it.
    Semicolon,
    /// `,` without a byte-order mark, for everything else.
    Comma,
}

/// One row per listed practice, in the order of the JSON body: its registration, consent,
/// overall answer and the status of each criterion of the set (one column per criterion id).
pub fn csv(body: &SnapshotBody, delimiter: Delimiter) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    let separator = match delimiter {
        Delimiter::Semicolon => {
            out.extend_from_slice("\u{feff}".as_bytes());
            b';'
        }
        Delimiter::Comma => b',',
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(separator)
        .from_writer(out);
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
    header.extend(
        body.criteria_set
            .criteria
            .iter()
            .map(|c| c.as_str().to_string()),
    );
    writer.write_record(&header)?;
    for practice in &body.practices {
        writer.write_record(row(practice))?;
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

/// A FHIR R4 `Bundle` (type `collection`, id the snapshot id): one `Organization` per practice
/// with its AGB code and KvK number, and one `Location` per vestiging with its AGB code, address
/// and `managingOrganization`.
pub fn fhir_bundle(body: &SnapshotBody, snapshot_id: &str) -> Value {
    let mut entries = Vec::new();
    for practice in &body.practices {
        let organization_id = format!("agb-{}", practice.agb);
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
    }
    json!({
        "resourceType": "Bundle",
        "id": snapshot_id,
        "type": "collection",
        "timestamp": body.built_at.to_rfc3339(),
        "entry": entries,
    })
}
