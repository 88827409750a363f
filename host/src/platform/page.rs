//! Cursor pagination shared by every list: newest first, keyed on the time-ordered id.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{PlatformError, Result};

/// The largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 200;
/// The page size when the caller names none.
pub const DEFAULT_LIMIT: u32 = 50;

/// Where a list starts and how much of it to return.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Only items strictly older than this id (decoded from the caller's cursor).
    pub before_id: Option<String>,
    pub limit: u32,
    /// Only items created strictly after this time (Unix ms).
    pub created_after: Option<i64>,
}

impl PageRequest {
    /// Validates the caller's `limit`, `cursor` and `created_after`.
    pub fn new(limit: Option<u32>, cursor: Option<&str>, created_after: Option<&str>) -> Result<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PlatformError::Invalid(format!(
                "`limit` must be between 1 and {MAX_LIMIT}"
            )));
        }
        let before_id = cursor.map(decode_cursor).transpose()?;
        let created_after = created_after.map(super::parse_time).transpose()?;
        Ok(Self {
            before_id,
            limit,
            created_after,
        })
    }
}

/// One page of a list and the cursor for the next one, if there is more.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> &str) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(id_of(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

fn decode_cursor(cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| id.len() < 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .ok_or_else(|| {
            PlatformError::Invalid(
                "`cursor` is not valid; pass the `next_cursor` of the previous page unchanged".into(),
            )
        })
}

/// Appends the keyset conditions of `page` to a query whose other parameters are numbered
/// `1..next`, returning the extra SQL and its string/int arguments in order.
pub(crate) struct Keyset {
    pub sql: String,
    pub before_id: Option<String>,
    pub created_after: Option<i64>,
}

impl Keyset {
    pub(crate) fn new(page: &PageRequest, mut next: usize, id_col: &str, time_col: &str) -> Self {
        let mut sql = String::new();
        if page.before_id.is_some() {
            sql.push_str(&format!(" AND {id_col} < ${next}"));
            next += 1;
        }
        if page.created_after.is_some() {
            sql.push_str(&format!(" AND {time_col} > ${next}"));
            next += 1;
        }
        sql.push_str(&format!(" ORDER BY {id_col} DESC LIMIT ${next}"));
        Keyset {
            sql,
            before_id: page.before_id.clone(),
            created_after: page.created_after,
        }
    }

    /// Binds this keyset's arguments (after the caller's own) to `query`.
    pub(crate) fn bind<'q, O>(
        self,
        mut query: crate::store::QueryAs<'q, O>,
        limit: u32,
    ) -> crate::store::QueryAs<'q, O> {
        if let Some(id) = self.before_id {
            query = query.bind(id);
        }
        if let Some(after) = self.created_after {
            query = query.bind(after);
        }
        query.bind(i64::from(limit) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let page = Page::from_rows(vec!["prj_b", "prj_a", "prj_0"], 2, |s| s);
        let cursor = page.next_cursor.unwrap();
        let req = PageRequest::new(Some(2), Some(&cursor), None).unwrap();
        assert_eq!(req.before_id.as_deref(), Some("prj_a"));
        assert!(PageRequest::new(None, Some("%%%"), None).is_err());
        assert!(PageRequest::new(None, Some(&encode_cursor("x' OR 1=1")), None).is_err());
    }

    #[test]
    fn last_page_has_no_cursor() {
        let page = Page::from_rows(vec!["b", "a"], 2, |s| s);
        assert!(page.next_cursor.is_none());
    }

    #[test]
    fn limit_is_bounded() {
        assert!(PageRequest::new(Some(0), None, None).is_err());
        assert!(PageRequest::new(Some(MAX_LIMIT + 1), None, None).is_err());
        assert_eq!(PageRequest::new(None, None, None).unwrap().limit, DEFAULT_LIMIT);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever a caller sends as a cursor is either refused with a message or decodes to
        /// a plain id: it never panics and never carries SQL through.
        #[test]
        fn any_cursor_is_refused_or_a_plain_id(cursor in ".{0,80}") {
            if let Ok(page) = PageRequest::new(None, Some(&cursor), None) {
                let id = page.before_id.unwrap();
                prop_assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            }
        }

        #[test]
        fn every_id_round_trips_through_its_cursor(id in "[a-z]{3}_[0-9a-z]{26}") {
            let cursor = encode_cursor(&id);
            let page = PageRequest::new(None, Some(&cursor), None).unwrap();
            prop_assert_eq!(page.before_id, Some(id));
        }

        #[test]
        fn pages_never_exceed_their_limit(rows in 0usize..300, limit in 1u32..=MAX_LIMIT) {
            let ids: Vec<String> = (0..rows).rev().map(|n| format!("prj_{n:08}")).collect();
            let page = Page::from_rows(ids, limit, |s| s);
            prop_assert!(page.items.len() <= limit as usize);
            prop_assert_eq!(page.next_cursor.is_some(), rows > limit as usize);
        }
    }
}
