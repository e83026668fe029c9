//! Keyset pagination (DESIGN §4): `limit` (default 50, max 500) and an opaque `cursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 500 (default 50).
    // Read as text so that a non-number is reported against `limit`, not as a generic query error.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit.as_deref().map(|l| l.trim().parse::<i64>()) {
            None => Ok(DEFAULT_LIMIT),
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::field(
                "limit",
                "limit_range",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    /// The position after which the page starts, decoded from the cursor.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        let Some(cursor) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let invalid = || {
            ApiError::field(
                "cursor",
                "cursor_invalid",
                "the cursor is not one this API handed out",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| invalid())
    }
}

/// A page of a list: `next_cursor` is absent on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` holds up to `limit + 1` items (one extra tells whether another page exists);
    /// `key` gives the keyset position of an item.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> K) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().and_then(|last| {
                serde_json::to_vec(&key(last))
                    .ok()
                    .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
            })
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_the_last_page_has_none() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| ("key", *n));
        assert_eq!(page.items, vec![1, 2]);
        let params = PageParams {
            limit: Some("2".into()),
            cursor: page.next_cursor,
        };
        assert_eq!(
            params.after::<(String, i32)>().unwrap(),
            Some(("key".into(), 2))
        );
        assert!(Page::from_rows(vec![1, 2], 2, |n| *n).next_cursor.is_none());
    }

    #[test]
    fn limits_outside_the_range_and_forged_cursors_are_refused() {
        for limit in ["0", "501", "-1", "ten"] {
            let params = PageParams {
                limit: Some(limit.into()),
                cursor: None,
            };
            assert!(matches!(params.limit(), Err(ApiError::Validation(_))));
        }
        let params = PageParams {
            limit: None,
            cursor: Some("not-a-cursor!".into()),
        };
        assert!(matches!(
            params.after::<i64>(),
            Err(ApiError::Validation(_))
        ));
        assert_eq!(params.limit().unwrap(), DEFAULT_LIMIT);
    }
}
