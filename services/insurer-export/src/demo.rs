//! Demonstration data of the insurer-export service (`praktijkregister seed --demo`): three
//! insurers that contract differentiated, each with its criteria set for the next contract year,
//! and one webhook endpoint. The practices arrive from the register's outbox once both services
//! run; the snapshot is built by the schedule (the export date has passed) or by the registrar.

use chrono::{DateTime, Datelike, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use praktijkregister_domain::{
    amsterdam_date, ContractYear, CriteriaSet, Criterion, Thresholds, UzoviCode,
};
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::error::ApiError;

use crate::insurers::add_version;
use crate::schema::{insurers, webhook_endpoints};
use crate::webhooks::sealing::SecretKey;

/// The insurer of the register's demo insurer client, which also gets the webhook endpoint.
pub const DEMO_INSURER: &str = "3311";

/// Where the demo's webhook endpoint posts: a receiver the operator starts on the machine.
pub const DEMO_WEBHOOK_URL: &str = "http://127.0.0.1:8099/webhooks/praktijkregister";

/// What the demo seeded.
pub struct DemoSummary {
    pub contract_year: ContractYear,
    /// `None` when the service already had insurers (nothing was seeded).
    pub webhook_secret: Option<String>,
}

/// Seeds the demonstration data into an export database without insurers; leaves one that has
/// any untouched.
pub async fn seed(
    pool: &DbPool,
    key: &SecretKey,
    now: DateTime<Utc>,
) -> Result<DemoSummary, ApiError> {
    let next = u16::try_from(amsterdam_date(now).year() + 1).unwrap_or(2027);
    let contract_year =
        ContractYear::try_from(next).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let mut conn = pool.get().await.map_err(ApiError::internal)?;
    let secret = conn
        .transaction::<_, ApiError, _>(|conn| {
            async move {
                let any: i64 = insurers::table.count().get_result(conn).await?;
                if any > 0 {
                    return Ok(None);
                }
                let ceiling = Thresholds {
                    treatment_index_ceiling: 140.0,
                    ..Thresholds::default()
                };
                for (uzovi, name, set, thresholds) in [
                    (
                        DEMO_INSURER,
                        "Zilveren Kruis",
                        CriteriaSet::Plus,
                        Thresholds::default(),
                    ),
                    ("7095", "VGZ", CriteriaSet::Ldi, Thresholds::default()),
                    ("9664", "CZ", CriteriaSet::Plus, ceiling),
                ] {
                    let uzovi = UzoviCode::parse(uzovi).map_err(ApiError::internal)?;
                    diesel::insert_into(insurers::table)
                        .values((
                            insurers::uzovi.eq(uzovi.as_str()),
                            insurers::name.eq(name),
                            insurers::differentiated.eq(true),
                        ))
                        .execute(conn)
                        .await?;
                    let criteria: Vec<Criterion> = set.criteria().to_vec();
                    add_version(
                        conn,
                        &uzovi,
                        contract_year,
                        Some(set),
                        &criteria,
                        &thresholds,
                        "demo",
                    )
                    .await?;
                }
                let secret = crate::webhooks::new_secret();
                let id = uuid::Uuid::now_v7();
                diesel::insert_into(webhook_endpoints::table)
                    .values((
                        webhook_endpoints::id.eq(id),
                        webhook_endpoints::insurer_uzovi.eq(DEMO_INSURER),
                        webhook_endpoints::url.eq(DEMO_WEBHOOK_URL),
                        webhook_endpoints::sealed_secret.eq(key.seal(id, &secret)?),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Some(secret))
            }
            .scope_boxed()
        })
        .await?;
    Ok(DemoSummary {
        contract_year,
        webhook_secret: secret,
    })
}
