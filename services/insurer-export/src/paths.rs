//! The service's path parameters, parsed before the handler runs. A malformed identifier names a
//! resource that cannot exist: 404, as for an unknown one; a malformed year is 422.

use praktijkregister_domain::{ContractYear, OefentherapieAgb, UzoviCode};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::path_param;
use praktijkregister_platform::paths::exact;
use uuid::Uuid;

path_param! {
    /// The insurer (`{uzovi}`) of the path.
    pub struct InsurerPath(UzoviCode) = "uzovi",
        description = "UZOVI code of the insurer", example = "3311", schema_of = UzoviCode,
        parse = |raw| UzoviCode::parse(exact(raw)).map_err(|_| ApiError::not_found("insurer", raw));
}

path_param! {
    /// The contract year (`{contract_year}`) of the path: the year the list serves (Y+1).
    pub struct ContractYearPath(ContractYear) = "contract_year",
        description = "Contract year (the cycle year plus one)", example = 2027, schema_of = ContractYear,
        parse = |raw| ContractYear::parse(exact(raw)).map_err(|e| ApiError::invalid("contract_year", &e));
}

path_param! {
    /// The practice (`{agb}`) of the path.
    pub struct PracticePath(OefentherapieAgb) = "agb",
        description = "AGB code of the practice", example = "07012345", schema_of = OefentherapieAgb,
        parse = |raw| OefentherapieAgb::parse(exact(raw)).map_err(|_| ApiError::not_found("practice", raw));
}

path_param! {
    /// The snapshot (`{snapshot_id}`): the SHA-256 of its body, lower-case hex.
    pub struct SnapshotPath(String) = "snapshot_id",
        description = "Snapshot id: SHA-256 of the canonical body, 64 lower-case hex digits",
        example = "9f2c0e4a6b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f",
        parse = |raw| {
            let valid = raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if valid { Ok(raw.to_string()) } else { Err(ApiError::not_found("snapshot", raw)) }
        };
}

path_param! {
    /// The webhook endpoint (`{webhook_id}`) of the path.
    pub struct WebhookPath(Uuid) = "webhook_id",
        description = "Id of the webhook endpoint", example = "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11",
        parse = |raw| Uuid::parse_str(exact(raw)).map_err(|_| ApiError::not_found("webhook", raw));
}

path_param! {
    /// The delivery (`{delivery_id}`) of a webhook endpoint.
    pub struct DeliveryPath(Uuid) = "delivery_id",
        description = "Id of the delivery", example = "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d12",
        parse = |raw| Uuid::parse_str(exact(raw)).map_err(|_| ApiError::not_found("delivery", raw));
}
