//! Reading a CSV export of the Kwaliteitsregister Paramedici and judging each row (DESIGN §3.1).
//!
//! The file has the header `kp_number,agb,name,status,valid_from,valid_until`. Each data row is
//! checked on its own first ([`parse`]); what needs the database (does the therapist exist, does
//! another therapist hold the number) comes after ([`classify`]).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use praktijkregister_domain::{KpNumber, KpStatus, OefentherapieAgb};
use praktijkregister_platform::error::{ApiError, CodedError, FieldError};

use super::{ImportOutcome, ImportRowReport, ImportTotals};

/// The exact header line.
pub const HEADER: [&str; 6] = [
    "kp_number",
    "agb",
    "name",
    "status",
    "valid_from",
    "valid_until",
];
/// Largest accepted file.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;
/// Most data rows in one file; a full KP export of oefentherapeuten is far smaller.
pub const MAX_IMPORT_ROWS: usize = 100_000;

/// A row that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpRow {
    pub agb: OefentherapieAgb,
    pub kp_number: KpNumber,
    pub status: KpStatus,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

/// One data row after the checks that need no database.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    /// Line where the row starts; the header is line 1.
    pub line: u64,
    pub kp_number: Option<String>,
    pub agb: Option<String>,
    /// Present when `reasons` is empty.
    pub row: Option<KpRow>,
    pub reasons: Vec<FieldError>,
}

fn check<T, E: CodedError>(
    reasons: &mut Vec<FieldError>,
    field: &str,
    value: Result<T, E>,
) -> Option<T> {
    match value {
        Ok(v) => Some(v),
        Err(e) => {
            reasons.push(FieldError::new(field, e.code(), e.to_string()));
            None
        }
    }
}

/// An ISO date (`YYYY-MM-DD`); empty is `Ok(None)`.
fn parse_date(
    reasons: &mut Vec<FieldError>,
    field: &str,
    value: &str,
) -> Option<Option<NaiveDate>> {
    let value = value.trim();
    if value.is_empty() {
        return Some(None);
    }
    match value.parse::<NaiveDate>() {
        Ok(date) if value.len() == 10 => Some(Some(date)),
        _ => {
            reasons.push(FieldError::new(
                field,
                "date_format",
                format!("`{value}` is not a date in the form YYYY-MM-DD"),
            ));
            None
        }
    }
}

/// Remembers which AGB codes and KP numbers earlier rows used.
#[derive(Default)]
struct SeenInFile {
    agbs: HashMap<String, u64>,
    kp_numbers: HashMap<String, u64>,
}

impl SeenInFile {
    fn note(
        seen: &mut HashMap<String, u64>,
        reasons: &mut Vec<FieldError>,
        field: &str,
        value: &str,
        line: u64,
    ) {
        match seen.get(value) {
            Some(first) => reasons.push(FieldError::new(
                field,
                "duplicate_in_file",
                format!("`{value}` already appears on line {first}; a file names each therapist and KP number once"),
            )),
            None => {
                seen.insert(value.to_string(), line);
            }
        }
    }
}

fn parse_row(record: &csv::StringRecord, line: u64, seen: &mut SeenInFile) -> ParsedRow {
    let field = |i: usize| record.get(i).map(|v| v.trim().to_string());
    let mut parsed = ParsedRow {
        line,
        kp_number: field(0),
        agb: field(1),
        row: None,
        reasons: Vec::new(),
    };
    if record.len() != HEADER.len() {
        parsed.reasons.push(FieldError::new(
            "row",
            "column_count",
            format!(
                "the row has {} fields; the header has {}",
                record.len(),
                HEADER.len()
            ),
        ));
        return parsed;
    }
    let reasons = &mut parsed.reasons;
    let kp_number = check(reasons, "kp_number", KpNumber::parse(&record[0]));
    let agb = check(reasons, "agb", OefentherapieAgb::parse(&record[1]));
    if record[2].trim().is_empty() {
        reasons.push(FieldError::new(
            "name",
            "name_required",
            "the name is empty",
        ));
    }
    let status = check(reasons, "status", KpStatus::parse(record[3].trim()));
    let valid_from = parse_date(reasons, "valid_from", &record[4]);
    let valid_until = parse_date(reasons, "valid_until", &record[5]);
    if let (Some(Some(from)), Some(Some(until))) = (valid_from, valid_until) {
        if until < from {
            reasons.push(FieldError::new(
                "valid_until",
                "date_order",
                format!("valid_until {until} is before valid_from {from}"),
            ));
        }
    }
    // A registration has a period; only a number KP no longer lists may come without one.
    if status.is_some_and(|s| s != KpStatus::NotRegistered) {
        for (name, date) in [("valid_from", valid_from), ("valid_until", valid_until)] {
            if date == Some(None) {
                reasons.push(FieldError::new(
                    name,
                    "date_required",
                    format!("{name} is required for a registered status"),
                ));
            }
        }
    }
    if let Some(agb) = &agb {
        SeenInFile::note(&mut seen.agbs, reasons, "agb", agb.as_str(), line);
    }
    if let Some(kp_number) = &kp_number {
        SeenInFile::note(
            &mut seen.kp_numbers,
            reasons,
            "kp_number",
            kp_number.as_str(),
            line,
        );
    }
    if let (true, Some(agb), Some(kp_number), Some(status), Some(valid_from), Some(valid_until)) = (
        reasons.is_empty(),
        agb,
        kp_number,
        status,
        valid_from,
        valid_until,
    ) {
        parsed.row = Some(KpRow {
            agb,
            kp_number,
            status,
            valid_from,
            valid_until,
        });
    }
    parsed
}

/// Reads the file: a refusal of the whole file (encoding, header, size) is an error; a bad row is
/// reported in its [`ParsedRow`].
pub fn parse(body: &[u8]) -> Result<Vec<ParsedRow>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::field(
            "body",
            "encoding",
            format!(
                "the file is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    // Spreadsheet programs often write a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let csv_error = |e: csv::Error| {
        let line = e.position().map(csv::Position::line).unwrap_or_default();
        ApiError::field(
            "body",
            "csv_syntax",
            format!("the file is not valid CSV near line {line}: {e}"),
        )
    };
    let header = records.next().transpose().map_err(csv_error)?;
    if !header.as_ref().is_some_and(|h| h.iter().eq(HEADER)) {
        return Err(ApiError::field(
            "header",
            "header_mismatch",
            format!("the first line must be exactly `{}`", HEADER.join(",")),
        ));
    }
    let mut seen = SeenInFile::default();
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        if rows.len() == MAX_IMPORT_ROWS {
            return Err(ApiError::field(
                "body",
                "too_many_rows",
                format!("a file holds at most {MAX_IMPORT_ROWS} rows; split it"),
            ));
        }
        let line = record
            .position()
            .map(csv::Position::line)
            .unwrap_or_default();
        rows.push(parse_row(&record, line, &mut seen));
    }
    Ok(rows)
}

/// What the database says about the rows' therapists and KP numbers.
#[derive(Debug, Default)]
pub struct Lookup {
    /// AGB codes of the rows that are therapists of this register.
    pub known_agbs: HashSet<String>,
    /// KP number → AGB code of the therapist holding it now.
    pub kp_holders: HashMap<String, String>,
}

/// The AGB codes and KP numbers of the rows that passed [`parse`], to look up.
pub fn lookup_keys(rows: &[ParsedRow]) -> (Vec<String>, Vec<String>) {
    rows.iter()
        .filter_map(|r| r.row.as_ref())
        .map(|r| (r.agb.as_str().to_owned(), r.kp_number.as_str().to_owned()))
        .unzip()
}

/// Judges each row against the register: the report in file order, the totals, and the rows to
/// store. In a dry run valid rows are `would_apply`.
pub fn classify(
    rows: Vec<ParsedRow>,
    lookup: &Lookup,
    dry_run: bool,
) -> (Vec<ImportRowReport>, ImportTotals, Vec<KpRow>) {
    let mut totals = ImportTotals {
        rows: rows.len(),
        ..ImportTotals::default()
    };
    let mut to_apply = Vec::new();
    let report = rows
        .into_iter()
        .map(|parsed| {
            let mut reasons = parsed.reasons;
            let outcome = match parsed.row {
                None => ImportOutcome::Rejected,
                Some(row) if !lookup.known_agbs.contains(row.agb.as_str()) => {
                    reasons.push(FieldError::new(
                        "agb",
                        "therapist_unknown",
                        format!("no therapist with AGB code {} is in this register", row.agb),
                    ));
                    ImportOutcome::Skipped
                }
                Some(row) => match lookup.kp_holders.get(row.kp_number.as_str()) {
                    Some(holder) if holder != row.agb.as_str() => {
                        reasons.push(FieldError::new(
                            "kp_number",
                            "kp_number_taken",
                            format!("KP number {} is held by therapist {holder}", row.kp_number),
                        ));
                        ImportOutcome::Rejected
                    }
                    _ => {
                        to_apply.push(row);
                        if dry_run {
                            ImportOutcome::WouldApply
                        } else {
                            ImportOutcome::Applied
                        }
                    }
                },
            };
            match outcome {
                ImportOutcome::Applied => totals.applied += 1,
                ImportOutcome::WouldApply => totals.would_apply += 1,
                ImportOutcome::Rejected => totals.rejected += 1,
                ImportOutcome::Skipped => totals.skipped += 1,
            }
            ImportRowReport {
                line: parsed.line,
                kp_number: parsed.kp_number,
                agb: parsed.agb,
                outcome,
                reasons,
            }
        })
        .collect();
    (report, totals, to_apply)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const HEAD: &str = "kp_number,agb,name,status,valid_from,valid_until\n";

    fn codes(row: &ParsedRow) -> Vec<(&str, &str)> {
        row.reasons
            .iter()
            .map(|r| (r.field.as_str(), r.code.as_str()))
            .collect()
    }

    #[test]
    fn a_good_row_parses_with_its_line() {
        let rows = parse(format!("\u{feff}{HEAD}123456,07123456,A. Jansen,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\r\n").as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        let row = rows[0].row.as_ref().unwrap();
        assert_eq!(row.status, KpStatus::Kwaliteitsgeregistreerd);
        assert_eq!(row.valid_until, NaiveDate::from_ymd_opt(2028, 12, 31));
    }

    #[test]
    fn each_bad_field_is_named() {
        let csv = format!(
            "{HEAD}12a,04123456, ,geregistreerd,2024-13-01,2024-01-01\n\
             1,07000001,X,kwaliteitsgeregistreerd,2025-01-01,2024-01-01\n\
             2,07000002,X,diplomageregistreerd,,\n\
             3,07000003,X,not_registered,,\n\
             4,07000003,X\n"
        );
        let rows = parse(csv.as_bytes()).unwrap();
        assert_eq!(
            codes(&rows[0]),
            vec![
                ("kp_number", "kp_format"),
                ("agb", "agb_zorgsoort"),
                ("name", "name_required"),
                ("status", "kp_status"),
                ("valid_from", "date_format"),
            ]
        );
        assert_eq!(codes(&rows[1]), vec![("valid_until", "date_order")]);
        assert_eq!(
            codes(&rows[2]),
            vec![
                ("valid_from", "date_required"),
                ("valid_until", "date_required")
            ]
        );
        assert!(rows[3].reasons.is_empty());
        assert_eq!(codes(&rows[4]), vec![("row", "column_count")]);
        assert_eq!(rows[4].line, 6);
    }

    #[test]
    fn the_later_duplicate_is_rejected() {
        let csv = format!(
            "{HEAD}1,07000001,X,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
             2,07000001,X,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
             1,07000002,X,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n"
        );
        let rows = parse(csv.as_bytes()).unwrap();
        assert!(rows[0].reasons.is_empty());
        assert_eq!(codes(&rows[1]), vec![("agb", "duplicate_in_file")]);
        assert_eq!(codes(&rows[2]), vec![("kp_number", "duplicate_in_file")]);
    }

    #[test]
    fn the_whole_file_is_refused_for_header_encoding_and_size() {
        for bad in [
            "",
            "kp_number,agb,name,status,valid_from\n",
            "KP_NUMBER,agb,name,status,valid_from,valid_until\n",
        ] {
            let Err(ApiError::Validation(errors)) = parse(bad.as_bytes()) else {
                panic!("{bad:?}")
            };
            assert_eq!(errors[0].field, "header");
        }
        let Err(ApiError::Validation(errors)) = parse(b"kp_number,agb\xff\n") else {
            panic!()
        };
        assert_eq!(errors[0].code, "encoding");
        let mut big = HEAD.to_string();
        for i in 0..=MAX_IMPORT_ROWS {
            big.push_str(&format!("{i},07000001,X,not_registered,,\n"));
        }
        let Err(ApiError::Validation(errors)) = parse(big.as_bytes()) else {
            panic!()
        };
        assert_eq!(errors[0].code, "too_many_rows");
    }

    #[test]
    fn classify_skips_unknown_therapists_and_refuses_taken_numbers() {
        let csv = format!(
            "{HEAD}1,07000001,X,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
             2,07000002,X,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
             3,07000003,X,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
             x,07000004,X,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n"
        );
        let rows = parse(csv.as_bytes()).unwrap();
        let lookup = Lookup {
            known_agbs: ["07000001", "07000003"].map(String::from).into(),
            kp_holders: [
                ("1".to_string(), "07000001".to_string()),
                ("3".to_string(), "07000009".to_string()),
            ]
            .into(),
        };
        let (report, totals, apply) = classify(rows.clone(), &lookup, false);
        let outcomes: Vec<_> = report.iter().map(|r| r.outcome).collect();
        use ImportOutcome::*;
        assert_eq!(outcomes, vec![Applied, Skipped, Rejected, Rejected]);
        assert_eq!(report[1].reasons[0].code, "therapist_unknown");
        assert_eq!(report[2].reasons[0].code, "kp_number_taken");
        assert_eq!(
            totals,
            ImportTotals {
                rows: 4,
                applied: 1,
                would_apply: 0,
                rejected: 2,
                skipped: 1
            }
        );
        assert_eq!(apply.len(), 1);
        let (report, totals, _) = classify(rows, &lookup, true);
        assert_eq!(report[0].outcome, WouldApply);
        assert_eq!((totals.applied, totals.would_apply), (0, 1));
    }
}
