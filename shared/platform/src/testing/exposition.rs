//! A strict reader of the Prometheus text exposition format (version 0.0.4), for tests of
//! `/metrics`: what a scraper or `promtool check metrics` would refuse or flag is an error here.
//! Where `promtool` is installed it checks the same text too; `PRR_REQUIRE_PROMTOOL=1` (CI)
//! makes its absence an error.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};

/// Label names and values, in order of appearance.
type Labels = Vec<(String, String)>;

/// One series: its labels (in order of appearance) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

/// A metric family as declared by `# HELP` and `# TYPE`, with its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub help: String,
    pub kind: String,
    pub samples: Vec<Sample>,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `text` strictly and returns its families by name; panics with every problem found,
/// then runs `promtool check metrics` on it where available.
pub fn check_exposition(text: &str) -> BTreeMap<String, Family> {
    let families = parse(text).unwrap_or_else(|problems| {
        panic!(
            "the metrics are not valid exposition text:\n{}\n---\n{text}",
            problems.join("\n")
        )
    });
    promtool(text);
    families
}

fn promtool(text: &str) {
    let required = std::env::var("PRR_REQUIRE_PROMTOOL").is_ok_and(|v| v == "1");
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            assert!(!required, "promtool is required but could not run: {error}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).expect("write to promtool");
    }
    let output = child.wait_with_output().expect("promtool's answer");
    assert!(
        output.status.success(),
        "promtool check metrics refused the text:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn valid_name(name: &str, colon: bool) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// The family a sample name belongs to, given the declared types.
fn family_of<'a>(name: &'a str, declared: &BTreeMap<String, Family>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if declared
                .get(base)
                .is_some_and(|f| f.kind == "histogram" || f.kind == "summary")
            {
                return base;
            }
        }
    }
    name
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        other => other.parse().ok(),
    }
}

/// `{a="x",b="y"}` from the start of `rest`; the labels and what follows.
fn parse_labels(rest: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    let mut chars = rest.char_indices().peekable();
    // Skips the opening brace.
    chars.next();
    loop {
        let start = match chars.peek() {
            Some((_, '}')) => {
                let (i, _) = chars.next().ok_or("unterminated labels")?;
                return Ok((labels, &rest[i + 1..]));
            }
            Some((i, _)) => *i,
            None => return Err("unterminated labels".into()),
        };
        let mut end = start;
        while let Some((i, c)) = chars.peek() {
            if *c == '=' {
                break;
            }
            end = *i + c.len_utf8();
            chars.next();
        }
        let name = &rest[start..end];
        if !valid_name(name, false) {
            return Err(format!("invalid label name {name:?}"));
        }
        chars.next();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err(format!("label {name} has no quoted value"));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("invalid escape {other:?} in label {name}")),
                },
                Some((_, '"')) => break,
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated value of label {name}")),
            }
        }
        if labels.iter().any(|(n, _)| n == name) {
            return Err(format!("label {name} twice"));
        }
        labels.push((name.to_string(), value));
        match chars.peek() {
            Some((_, ',')) => {
                chars.next();
            }
            Some((_, '}')) => {}
            _ => return Err(format!("expected , or }} after label {name}")),
        }
    }
}

fn parse(text: &str) -> Result<BTreeMap<String, Family>, Vec<String>> {
    let mut problems = Vec::new();
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series: BTreeSet<(String, Labels)> = BTreeSet::new();
    if !text.is_empty() && !text.ends_with('\n') {
        problems.push("the text does not end with a line feed".into());
    }
    for (number, line) in text.lines().enumerate() {
        let at = format!("line {}", number + 1);
        let mut switch_to = |name: &str, problems: &mut Vec<String>| {
            if current.as_deref() != Some(name) {
                if finished.contains(name) {
                    problems.push(format!("{at}: family {name} is split in two"));
                }
                if let Some(previous) = current.replace(name.to_string()) {
                    finished.insert(previous);
                }
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match words.as_slice() {
                ["HELP", name, help] => {
                    switch_to(name, &mut problems);
                    if !helped.insert(name.to_string()) {
                        problems.push(format!("{at}: second HELP for {name}"));
                    }
                    if help.trim().is_empty() {
                        problems.push(format!("{at}: empty HELP for {name}"));
                    }
                    families.entry(name.to_string()).or_insert(Family {
                        help: String::new(),
                        kind: String::new(),
                        samples: Vec::new(),
                    });
                    if let Some(family) = families.get_mut(*name) {
                        family.help = help.to_string();
                    }
                }
                ["TYPE", name, kind] => {
                    switch_to(name, &mut problems);
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                        problems.push(format!("{at}: unknown type {kind} of {name}"));
                    }
                    let family = families.entry(name.to_string()).or_insert(Family {
                        help: String::new(),
                        kind: String::new(),
                        samples: Vec::new(),
                    });
                    if !family.kind.is_empty() {
                        problems.push(format!("{at}: second TYPE for {name}"));
                    }
                    if !family.samples.is_empty() {
                        problems.push(format!("{at}: TYPE of {name} after its samples"));
                    }
                    family.kind = kind.to_string();
                }
                ["HELP" | "TYPE", ..] => problems.push(format!("{at}: incomplete {line:?}")),
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let name = &line[..name_end];
        if !valid_name(name, true) {
            problems.push(format!("{at}: invalid metric name {name:?}"));
            continue;
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            match parse_labels(&line[name_end..]) {
                Ok(parsed) => parsed,
                Err(problem) => {
                    problems.push(format!("{at}: {problem}"));
                    continue;
                }
            }
        } else {
            (Vec::new(), &line[name_end..])
        };
        let parts: Vec<&str> = rest.split_whitespace().collect();
        let value = match parts.as_slice() {
            [value] | [value, _] => parse_value(value),
            _ => None,
        };
        let Some(value) = value else {
            problems.push(format!("{at}: no valid value in {line:?}"));
            continue;
        };
        if let [_, timestamp] = parts.as_slice() {
            if timestamp.parse::<i64>().is_err() {
                problems.push(format!("{at}: invalid timestamp {timestamp:?}"));
            }
        }
        let family_name = family_of(name, &families).to_string();
        switch_to(&family_name, &mut problems);
        let Some(family) = families.get_mut(&family_name) else {
            problems.push(format!("{at}: {name} has no HELP or TYPE"));
            continue;
        };
        if family.kind.is_empty() {
            problems.push(format!("{at}: {name} has no TYPE"));
        }
        if family.help.is_empty() {
            problems.push(format!("{at}: {name} has no HELP"));
        }
        let mut key_labels = labels.clone();
        key_labels.sort();
        if !series.insert((name.to_string(), key_labels)) {
            problems.push(format!("{at}: series {line:?} appears twice"));
        }
        if family.kind == "counter" {
            if !name.ends_with("_total") {
                problems.push(format!("{at}: counter {name} does not end in _total"));
            }
            if value.is_sign_negative() || value.is_nan() {
                problems.push(format!("{at}: counter {name} is {value}"));
            }
        }
        family.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    for (name, family) in &families {
        if family.kind.is_empty() || family.help.is_empty() {
            problems.push(format!("{name} lacks HELP or TYPE"));
        }
        if family.kind == "histogram" {
            check_histogram(name, family, &mut problems);
        }
    }
    if problems.is_empty() {
        Ok(families)
    } else {
        Err(problems)
    }
}

/// Buckets cumulative and ending in `+Inf`, which equals `_count`, for every series.
fn check_histogram(name: &str, family: &Family, problems: &mut Vec<String>) {
    let without = |labels: &[(String, String)], skip: &str| {
        let mut kept: Vec<(String, String)> =
            labels.iter().filter(|(n, _)| n != skip).cloned().collect();
        kept.sort();
        kept
    };
    let mut buckets: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<Labels, f64> = BTreeMap::new();
    for sample in &family.samples {
        if sample.name == format!("{name}_bucket") {
            let Some(le) = sample.label("le").and_then(parse_value) else {
                problems.push(format!("{name}: a bucket without a valid le"));
                continue;
            };
            buckets
                .entry(without(&sample.labels, "le"))
                .or_default()
                .push((le, sample.value));
        } else if sample.name == format!("{name}_count") {
            counts.insert(without(&sample.labels, ""), sample.value);
        } else if sample.name != format!("{name}_sum") {
            problems.push(format!("{name}: unexpected sample {}", sample.name));
        }
    }
    for (labels, list) in &buckets {
        let ordered = list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        if !ordered {
            problems.push(format!("{name}{labels:?}: buckets not cumulative"));
        }
        match list.last() {
            Some((le, count)) if le.is_infinite() => {
                if counts.get(labels) != Some(count) {
                    problems.push(format!("{name}{labels:?}: +Inf bucket differs from _count"));
                }
            }
            _ => problems.push(format!("{name}{labels:?}: no +Inf bucket")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_without_help_and_type_is_refused() {
        let problems = parse("db_pool_waiting{service=\"register\"} 0\n").unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("no HELP")),
            "{problems:?}"
        );
    }

    #[test]
    fn bad_histograms_duplicates_and_counters_are_refused() {
        let text = "# HELP h Latency.\n# TYPE h histogram\nh_bucket{le=\"1\"} 3\n\
                    h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n\
                    # HELP c Requests.\n# TYPE c counter\nc 1\nc 2\n";
        let problems = parse(text).unwrap_err();
        for expected in ["not cumulative", "does not end in _total", "appears twice"] {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn valid_text_parses() {
        let text = "# HELP x_total Things.\n# TYPE x_total counter\n\
                    x_total{a=\"q\\\"uote\",b=\"\"} 1.5\n";
        let families = parse(text).unwrap();
        assert_eq!(families["x_total"].samples[0].label("a"), Some("q\"uote"));
    }
}
