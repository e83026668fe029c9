//! Reading a stored snapshot body a practice at a time, so that a CSV or FHIR pull of a national
//! list never holds the whole list (DESIGN §7: an insurer's pull is streamed). The body is
//! canonical JSON (RFC 8785): its members are sorted, so everything a rendering needs before the
//! practices (`built_at`, `contract_year`, `criteria_set`, `cycle_year`) comes before
//! `practices`. [`Splitter`] takes the bytes
//! in chunks of any size, gives the head once it is complete, then each practice as soon as its
//! last byte has arrived; only the unfinished practice is kept between chunks.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{ListedPractice, SnapshotCriteria};

/// What comes before the practices in a body, as far as the renderings need it.
#[derive(Debug, Clone, Deserialize)]
pub struct Head {
    pub built_at: DateTime<Utc>,
    pub contract_year: u16,
    pub criteria_set: SnapshotCriteria,
    pub cycle_year: u16,
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("the snapshot body has no list of practices")]
    NoPractices,
    #[error("the snapshot body ended before its list of practices did")]
    Truncated,
    #[error("the snapshot body is not what was stored: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `"practices":[`.
    Head,
    /// Between or inside the practices.
    Practices,
    /// After the closing `]`.
    Done,
}

/// Splits a body fed in chunks into its head and its practices.
#[derive(Debug)]
pub struct Splitter {
    /// The bytes not yet consumed.
    pending: Vec<u8>,
    /// How far `pending` has been scanned.
    scan: usize,
    phase: Phase,
    /// Nesting depth at `scan`: of the whole body in the head, of the list's items after it.
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Head: where the string being read at depth 1 started, and the last one that ended there.
    string_start: usize,
    last_string: Option<(usize, usize)>,
    /// Head: the member name `practices` has been read and its `:` seen.
    practices_key: Option<usize>,
    head: Option<Head>,
    /// Practices: where the practice being read starts.
    item_start: Option<usize>,
}

impl Default for Splitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Splitter {
    pub fn new() -> Self {
        Self {
            pending: Vec::new(),
            scan: 0,
            phase: Phase::Head,
            depth: 0,
            in_string: false,
            escaped: false,
            string_start: 0,
            last_string: None,
            practices_key: None,
            head: None,
            item_start: None,
        }
    }

    /// Adds the next bytes of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        self.pending.extend_from_slice(chunk);
    }

    /// Whether the list of practices has been read to its end.
    pub fn finished(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The head, once the bytes up to the practices have arrived; `None` until then.
    pub fn head(&mut self) -> Result<Option<&Head>, SplitError> {
        if self.phase == Phase::Head {
            self.scan_head()?;
        }
        Ok(self.head.as_ref())
    }

    /// The next practice whose bytes have all arrived; `None` when more bytes are needed or the
    /// list has ended ([`Splitter::finished`]).
    pub fn next_practice(&mut self) -> Result<Option<ListedPractice>, SplitError> {
        if self.phase == Phase::Head && self.head()?.is_none() {
            return Ok(None);
        }
        while self.phase == Phase::Practices && self.scan < self.pending.len() {
            let byte = self.pending[self.scan];
            let at = self.scan;
            self.scan += 1;
            if self.in_string {
                self.string_byte(byte);
                continue;
            }
            match byte {
                b'"' => {
                    self.in_string = true;
                    self.begin_item(at);
                }
                b'{' | b'[' => {
                    self.begin_item(at);
                    self.depth += 1;
                }
                b'}' | b']' if self.depth == 0 => {
                    // The list's own `]`.
                    self.phase = Phase::Done;
                    self.pending.clear();
                    self.scan = 0;
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let start = self.item_start.take().unwrap_or(at);
                        let practice = serde_json::from_slice(&self.pending[start..=at])?;
                        self.consume();
                        return Ok(Some(practice));
                    }
                }
                b',' | b' ' | b'\n' | b'\r' | b'\t' => {}
                // A scalar item: not a practice.
                _ if self.depth == 0 => {
                    return Err(SplitError::Json(serde::de::Error::custom(
                        "a practice that is not an object",
                    )))
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// Called once the whole body has been pushed: an error unless the list has ended.
    pub fn end(&self) -> Result<(), SplitError> {
        match self.phase {
            Phase::Done => Ok(()),
            Phase::Head => Err(SplitError::NoPractices),
            Phase::Practices => Err(SplitError::Truncated),
        }
    }

    fn begin_item(&mut self, at: usize) {
        if self.depth == 0 && self.item_start.is_none() {
            self.item_start = Some(at);
        }
    }

    fn string_byte(&mut self, byte: u8) {
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.in_string = false;
        }
    }

    /// Drops the bytes of the practices already given.
    fn consume(&mut self) {
        self.pending.drain(..self.scan);
        self.scan = 0;
    }

    fn scan_head(&mut self) -> Result<(), SplitError> {
        while self.phase == Phase::Head && self.scan < self.pending.len() {
            let byte = self.pending[self.scan];
            let at = self.scan;
            self.scan += 1;
            if self.in_string {
                self.string_byte(byte);
                if !self.in_string && self.depth == 1 {
                    self.last_string = Some((self.string_start, at + 1));
                }
                continue;
            }
            match byte {
                b'"' => {
                    self.in_string = true;
                    self.string_start = at;
                    self.practices_key = None;
                }
                b':' if self.depth == 1 => {
                    let is_practices = self
                        .last_string
                        .is_some_and(|(s, e)| &self.pending[s..e] == b"\"practices\"");
                    self.practices_key = is_practices.then(|| self.last_string.map_or(0, |l| l.0));
                }
                b'[' if self.depth == 1 && self.practices_key.is_some() => {
                    let key = self.practices_key.unwrap_or(0);
                    self.head = Some(self.parse_head(key)?);
                    self.pending.drain(..=at);
                    self.scan = 0;
                    self.depth = 0;
                    self.phase = Phase::Practices;
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    self.practices_key = None;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Err(SplitError::NoPractices);
                    }
                }
                b' ' | b'\n' | b'\r' | b'\t' | b',' => {}
                _ => self.practices_key = None,
            }
        }
        Ok(())
    }

    /// The members before `practices`, closed into an object of their own.
    fn parse_head(&self, key: usize) -> Result<Head, SplitError> {
        let mut head = self.pending[..key].to_vec();
        while head
            .last()
            .is_some_and(|b| matches!(b, b',' | b' ' | b'\n' | b'\r' | b'\t'))
        {
            head.pop();
        }
        head.push(b'}');
        Ok(serde_json::from_slice(&head)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::snapshots::SnapshotBody;

    fn body(names: &[&str]) -> Vec<u8> {
        let practices: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                json!({
                    "agb": format!("0700{i:04}"), "name": name,
                    "kvk_number": "12345678", "tier": "praktijkregister",
                    "registered_at": "2026-06-01T10:00:00Z",
                    "locations": [{"agb": format!("0799{i:04}"), "kvk_branch_number": "000012345678",
                        "street": "Lindelaan [1]", "house_number": "1", "postal_code": "3511 AB", "city": "Utrecht"}],
                    "consent": true, "eligible": true, "outcome": "met",
                    "criteria": [{"id": "basis.kp_registered", "title": "KP", "source": "001",
                        "status": "met", "evidence": [], "reason": null}]
                })
            })
            .collect();
        let body: SnapshotBody = serde_json::from_value(json!({
            "format": "praktijkregister-insurer-snapshot/1",
            "insurer": {"uzovi": "3311", "name": "Zorgverzekeraar \"practices\":[ Oost"},
            "contract_year": 2027, "cycle_year": 2026, "built_at": "2026-11-01T00:00:00Z",
            "criteria_set": {"version": 1, "base_set": null, "criteria": ["basis.kp_registered"],
                "thresholds": {}},
            "supersedes": "abc", "correction_reason": "a \\ reason }]",
            "practices": practices
        }))
        .unwrap();
        praktijkregister_platform::canonical_json::to_vec_of(&body).unwrap()
    }

    fn split(bytes: &[u8], chunk: usize) -> (Head, Vec<ListedPractice>) {
        let mut splitter = Splitter::new();
        let mut practices = Vec::new();
        let mut head = None;
        for piece in bytes.chunks(chunk) {
            splitter.push(piece);
            if head.is_none() {
                head = splitter.head().unwrap().cloned();
            }
            while let Some(practice) = splitter.next_practice().unwrap() {
                practices.push(practice);
            }
        }
        splitter.end().unwrap();
        (head.expect("a head"), practices)
    }

    #[test]
    fn chunks_of_any_size_give_the_practices_of_the_whole_body() {
        let names = [
            "De Linde",
            "Quote \" and } and ]",
            "Back\\slash {",
            "Ünïcode ✓",
            "",
        ];
        let bytes = body(&names);
        let whole: SnapshotBody = serde_json::from_slice(&bytes).unwrap();
        for chunk in [1, 2, 3, 7, 64, 1000, bytes.len()] {
            let (head, practices) = split(&bytes, chunk);
            assert_eq!(practices, whole.practices, "chunks of {chunk}");
            assert_eq!(head.built_at, whole.built_at);
            assert_eq!(head.criteria_set, whole.criteria_set);
            assert_eq!(
                (head.contract_year, head.cycle_year),
                (whole.contract_year, whole.cycle_year)
            );
        }
        let (_, none) = split(&body(&[]), 5);
        assert!(none.is_empty());
    }

    #[test]
    fn a_body_cut_short_or_without_practices_is_refused() {
        let bytes = body(&["De Linde", "De Eik"]);
        let mut splitter = Splitter::new();
        // Cut inside the last practice (the body ends with `],"supersedes":"abc"}`).
        splitter.push(&bytes[..bytes.len() - 60]);
        while splitter.next_practice().unwrap().is_some() {}
        assert!(matches!(splitter.end(), Err(SplitError::Truncated)));
        let mut splitter = Splitter::new();
        splitter.push(br#"{"built_at":"2026-11-01T00:00:00Z","other":[1]}"#);
        assert!(matches!(splitter.head(), Err(SplitError::NoPractices)));
    }
}
