//! The SQL of declared relations.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{DeclaredRelation, RelationParty};
use uuid::Uuid;

use super::Relation;
use crate::schema::declared_relations;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = declared_relations)]
pub struct RelationRow {
    pub id: Uuid,
    pub practice_agb: String,
    pub other_practice_agb: Option<String>,
    pub visitor_id: Option<String>,
    pub reason: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl RelationRow {
    pub fn view(self) -> Relation {
        Relation {
            id: self.id,
            practice_agb: self.practice_agb,
            other_practice_agb: self.other_practice_agb,
            visitor_id: self.visitor_id,
            reason: self.reason,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        }
    }

    /// The relation as the conflict rules see it.
    pub fn rule(&self) -> Option<DeclaredRelation> {
        let party = match (&self.other_practice_agb, &self.visitor_id) {
            (Some(other), None) => RelationParty::Practice(other.clone()),
            (None, Some(visitor)) => RelationParty::Visitor(visitor.clone()),
            _ => return None,
        };
        Some(DeclaredRelation {
            party,
            practice_agb: self.practice_agb.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        })
    }
}

pub async fn insert(conn: &mut AsyncPgConnection, row: &RelationRow, by: &str) -> QueryResult<()> {
    diesel::insert_into(declared_relations::table)
        .values((
            declared_relations::id.eq(row.id),
            declared_relations::practice_agb.eq(&row.practice_agb),
            declared_relations::other_practice_agb.eq(&row.other_practice_agb),
            declared_relations::visitor_id.eq(&row.visitor_id),
            declared_relations::reason.eq(&row.reason),
            declared_relations::valid_from.eq(row.valid_from),
            declared_relations::valid_until.eq(row.valid_until),
            declared_relations::created_by.eq(by),
        ))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<RelationRow>> {
    let mut query = declared_relations::table
        .select(RelationRow::as_select())
        .order(declared_relations::id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(declared_relations::id.gt(after));
    }
    query.load(conn).await
}

/// Every declared relation, as the conflict rules see them.
pub async fn rules(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DeclaredRelation>> {
    let rows: Vec<RelationRow> = declared_relations::table
        .select(RelationRow::as_select())
        .order(declared_relations::id)
        .load(conn)
        .await?;
    Ok(rows.iter().filter_map(RelationRow::rule).collect())
}
