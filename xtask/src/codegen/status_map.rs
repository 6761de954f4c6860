//! Status-map specs (`specs/status-map/*.toml`) → Rust lookup tables for one adapter.
//!
//! Every raw status names its unified status, its milestone and a sentence for people, and
//! every reason code its sentence; a spec missing any of them, naming a value the domain does
//! not know, or pairing a milestone with a status it does not allow
//! ([`Milestone::allowed_statuses`]) is refused, so `cargo xtask codegen --check` enforces
//! completeness. The names are parsed by the domain's own types, so they cannot drift.

use std::{collections::BTreeMap, fmt::Write, path::Path};

use anyhow::{Context, bail};
use serde::Deserialize;
use waybill_domain::{Milestone, TrackingStatus};

use super::generated::{Generated, reformat};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    carrier: String,
    #[serde(rename = "match")]
    matching: Matching,
    output: String,
    statuses: toml::Table,
    #[serde(default)]
    order_statuses: Option<toml::Table>,
    #[serde(default)]
    reasons: BTreeMap<String, toml::Table>,
}

/// One raw status as the spec writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    status: String,
    milestone: String,
    description: String,
}

/// One raw status, checked.
struct Entry {
    raw: String,
    status: TrackingStatus,
    milestone: Milestone,
    description: String,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Matching {
    Exact,
    Normalized,
}

/// Lower-cases and drops every character that is not a letter or digit.
fn normalize(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// `in_transit` → `InTransit`: the variant name of a snake_case domain name.
fn variant(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn sentence(what: &str, text: &str) -> anyhow::Result<()> {
    if text.trim().is_empty() {
        bail!("{what} has an empty description: write the sentence people read");
    }
    if text.trim() != text {
        bail!("{what}'s description has surrounding whitespace");
    }
    Ok(())
}

/// One table: raw value → checked entry, in spec order.
fn table(t: &toml::Table) -> anyhow::Result<Vec<Entry>> {
    t.iter()
        .map(|(raw, v)| {
            let e: RawEntry = v.clone().try_into().with_context(|| {
                format!(
                    "{raw:?} must be {{ status = \"…\", milestone = \"…\", description = \"…\" }}"
                )
            })?;
            let status: TrackingStatus = e.status.parse()?;
            let milestone: Milestone = e.milestone.parse()?;
            if !milestone.allowed_statuses().contains(&status) {
                let allowed: Vec<&str> =
                    milestone.allowed_statuses().iter().map(|s| s.as_str()).collect();
                bail!(
                    "{raw:?}: milestone {milestone} does not allow status {status} (allowed: {})",
                    allowed.join(", ")
                );
            }
            sentence(&format!("{raw:?}"), &e.description)?;
            Ok(Entry { raw: raw.clone(), status, milestone, description: e.description })
        })
        .collect()
}

/// The arms of an entry lookup: key → index, exact keys or normalized keys checked for
/// conflicts (spellings that meet must agree on status and milestone).
fn arms(rows: &[Entry], matching: Matching, table: &str) -> anyhow::Result<String> {
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    for (i, e) in rows.iter().enumerate() {
        let key = match matching {
            Matching::Exact => e.raw.clone(),
            Matching::Normalized => normalize(&e.raw),
        };
        if let Some(&j) = keys.get(&key) {
            let other = &rows[j];
            if (other.status, other.milestone) != (e.status, e.milestone) {
                bail!(
                    "{:?} and {:?} match alike but map to {}/{} and {}/{}",
                    e.raw,
                    other.raw,
                    e.status,
                    e.milestone,
                    other.status,
                    other.milestone
                );
            }
            continue;
        }
        keys.insert(key, i);
    }
    let mut out = String::new();
    for (key, i) in keys {
        writeln!(out, "{key:?} => Some(&{table}[{i}]),")?;
    }
    Ok(out)
}

fn entries_const(rows: &[Entry]) -> String {
    rows.iter()
        .map(|e| {
            format!(
                "Entry {{ raw: {:?}, status: TrackingStatus::{}, milestone: Milestone::{}, description: {:?} }},",
                e.raw,
                variant(e.status.as_str()),
                variant(e.milestone.as_str()),
                e.description
            )
        })
        .collect()
}

fn pairs_const(rows: &[Entry]) -> String {
    rows.iter()
        .map(|e| format!("({:?}, TrackingStatus::{}),", e.raw, variant(e.status.as_str())))
        .collect()
}

/// Renders the Rust module for one spec file.
pub(super) fn render(text: &str, spec_path: &Path) -> anyhow::Result<Generated> {
    let spec: Spec = toml::from_str(text)?;
    let statuses = table(&spec.statuses).context("in [statuses]")?;
    let spec_name = spec_path.display().to_string().replace('\\', "/");
    let carrier = &spec.carrier;
    let key_expr = match spec.matching {
        Matching::Exact => "raw",
        Matching::Normalized => "normalize(raw).as_str()",
    };
    let order = match &spec.order_statuses {
        Some(t) => Some(table(t).context("in [order_statuses]")?),
        None => None,
    };
    let describe_fallback = if order.is_some() { ".or_else(|| order_entry(raw))" } else { "" };
    let mut src = format!(
        "//! {carrier} raw status → unified [`TrackingStatus`] and [`Milestone`] tables, with a\n\
         //! sentence for people per raw status and reason code.\n\
         //!\n\
         //! generated by `cargo xtask codegen` from `{spec_name}`, do not edit.\n\
         \n\
         use waybill_domain::{{Milestone, TrackingStatus, Vocabulary}};\n\
         \n\
         /// One raw status of the vocabulary.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq)]\n\
         pub struct Entry {{\n\
             /// The raw status, as the spec spells it.\n\
             pub raw: &'static str,\n\
             /// Its unified status.\n\
             pub status: TrackingStatus,\n\
             /// Its milestone.\n\
             pub milestone: Milestone,\n\
             /// What it means, for people.\n\
             pub description: &'static str,\n\
         }}\n\
         \n\
         /// Every raw status the carrier documents, in spec order.\n\
         pub const ENTRIES: &[Entry] = &[{entries}];\n\
         \n\
         /// Every raw status the carrier documents, with its unified status, in spec order.\n\
         pub const STATUSES: &[(&str, TrackingStatus)] = &[{pairs}];\n\
         \n\
         /// The entry of a raw status; `None` for a value the table does not know.\n\
         #[must_use]\n\
         pub fn entry(raw: &str) -> Option<&'static Entry> {{\n\
             match {key_expr} {{ {arms} _ => None, }}\n\
         }}\n\
         \n\
         /// The unified status of a raw status; [`TrackingStatus::Unknown`] for a value the\n\
         /// table does not know (the caller keeps the raw text).\n\
         #[must_use]\n\
         pub fn unified(raw: &str) -> TrackingStatus {{\n\
             entry(raw).map_or(TrackingStatus::Unknown, |e| e.status)\n\
         }}\n\
         \n\
         /// The milestone of a raw status; [`Milestone::Unknown`] for a value the table does\n\
         /// not know.\n\
         #[must_use]\n\
         pub fn milestone(raw: &str) -> Milestone {{\n\
             entry(raw).map_or(Milestone::Unknown, |e| e.milestone)\n\
         }}\n\
         \n\
         /// The sentence for a raw status; `None` for a value the tables do not know.\n\
         #[must_use]\n\
         pub fn describe(raw: &str) -> Option<&'static str> {{\n\
             entry(raw){describe_fallback}.map(|e| e.description)\n\
         }}\n\
         \n\
         /// The carrier's sentences, for its `CarrierInfo`.\n\
         pub const VOCABULARY: Vocabulary = Vocabulary {{ describe, describe_reason }};\n",
        entries = entries_const(&statuses),
        pairs = pairs_const(&statuses),
        arms = arms(&statuses, spec.matching, "ENTRIES")?,
    );
    if spec.matching == Matching::Normalized {
        src.push_str(
            "\n/// The matching key of a raw value: ASCII letters and digits only, lower-cased,\n\
             /// so \"In Transit\", \"InTransit\" and \"in_transit\" meet.\n\
             #[must_use]\n\
             pub fn normalize(raw: &str) -> String {\n\
                 raw.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()\n\
             }\n",
        );
    }
    if let Some(rows) = &order {
        write!(
            src,
            "\n/// Every documented order status, in spec order.\n\
             pub const ORDER_ENTRIES: &[Entry] = &[{entries}];\n\
             \n\
             /// Every documented order status, with its unified status, in spec order.\n\
             pub const ORDER_STATUSES: &[(&str, TrackingStatus)] = &[{pairs}];\n\
             \n\
             /// The entry of an order status; `None` when unknown.\n\
             #[must_use]\n\
             pub fn order_entry(raw: &str) -> Option<&'static Entry> {{\n\
                 match {key_expr} {{ {arms} _ => None, }}\n\
             }}\n\
             \n\
             /// The unified status of an order status; [`TrackingStatus::Unknown`] when unknown.\n\
             #[must_use]\n\
             pub fn unified_order_status(raw: &str) -> TrackingStatus {{\n\
                 order_entry(raw).map_or(TrackingStatus::Unknown, |e| e.status)\n\
             }}\n\
             \n\
             /// The milestone of an order status; [`Milestone::Unknown`] when unknown.\n\
             #[must_use]\n\
             pub fn order_milestone(raw: &str) -> Milestone {{\n\
                 order_entry(raw).map_or(Milestone::Unknown, |e| e.milestone)\n\
             }}\n",
            entries = entries_const(rows),
            pairs = pairs_const(rows),
            arms = arms(rows, spec.matching, "ORDER_ENTRIES")?,
        )?;
    }
    let mut codes = String::new();
    let mut sentences = String::new();
    for (status, table) in &spec.reasons {
        if !spec.statuses.contains_key(status) {
            bail!("reasons are listed for {status:?}, which is not a status of this map");
        }
        let mut list = String::new();
        for (code, text) in table {
            let text = text
                .as_str()
                .with_context(|| format!("reason {status}/{code} must map to its sentence"))?;
            sentence(&format!("reason {status}/{code}"), text)?;
            write!(list, "{code:?},")?;
            write!(sentences, "({status:?}, {code:?}, {text:?}),")?;
        }
        write!(codes, "({status:?}, &[{list}]),")?;
    }
    write!(
        src,
        "\n/// Documented reason codes per raw status. Carriers only ever add codes, so an\n\
         /// unlisted code is passed through, never rejected.\n\
         pub const REASONS: &[(&str, &[&str])] = &[{codes}];\n\
         \n\
         /// (raw status, reason code, sentence) of every documented reason.\n\
         pub const REASON_DESCRIPTIONS: &[(&str, &str, &str)] = &[{sentences}];\n\
         \n\
         /// True when `code` is a documented reason for the raw `status`.\n\
         #[must_use]\n\
         pub fn is_known_reason(status: &str, code: &str) -> bool {{\n\
             REASONS.iter().any(|(s, codes)| *s == status && codes.contains(&code))\n\
         }}\n\
         \n\
         /// The sentence for a reason code of a raw status; `None` when unknown.\n\
         #[must_use]\n\
         pub fn describe_reason(status: &str, code: &str) -> Option<&'static str> {{\n\
             REASON_DESCRIPTIONS.iter().find(|(s, c, _)| *s == status && *c == code).map(|(_, _, d)| *d)\n\
         }}\n"
    )?;
    Ok(Generated { path: spec.output.into(), contents: reformat(&src)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "carrier = \"x\"\nmatch = \"normalized\"\noutput = \"o.rs\"\n[statuses]\n";

    fn err(spec: &str) -> String {
        render(spec, Path::new("x.toml")).err().map(|e| format!("{e:#}")).unwrap_or_default()
    }

    #[test]
    fn normalized_maps_reject_conflicting_spellings() {
        let spec = format!(
            "{HEAD}\"In Transit\" = {{ status = \"in_transit\", milestone = \"in_transit\", description = \"a\" }}\n\"InTransit\" = {{ status = \"delivered\", milestone = \"delivered\", description = \"b\" }}\n"
        );
        assert!(err(&spec).contains("match alike"), "{}", err(&spec));
    }

    #[test]
    fn unknown_names_are_rejected() {
        let spec = format!(
            "{HEAD}a = {{ status = \"lost\", milestone = \"in_transit\", description = \"a\" }}\n"
        );
        assert!(err(&spec).contains("unknown unified status \"lost\""), "{}", err(&spec));
        let spec = format!(
            "{HEAD}a = {{ status = \"in_transit\", milestone = \"moon\", description = \"a\" }}\n"
        );
        assert!(err(&spec).contains("unknown milestone \"moon\""), "{}", err(&spec));
    }

    #[test]
    fn every_entry_needs_a_milestone_and_a_description() {
        let spec = format!("{HEAD}a = {{ status = \"in_transit\", milestone = \"linehaul\" }}\n");
        assert!(err(&spec).contains("must be { status"), "{}", err(&spec));
        let spec = format!("{HEAD}a = \"in_transit\"\n");
        assert!(err(&spec).contains("must be { status"), "{}", err(&spec));
        let spec = format!(
            "{HEAD}a = {{ status = \"in_transit\", milestone = \"linehaul\", description = \" \" }}\n"
        );
        assert!(err(&spec).contains("empty description"), "{}", err(&spec));
        let spec = format!(
            "{HEAD}a = {{ status = \"in_transit\", milestone = \"linehaul\", description = \"a\" }}\n[reasons.a]\nr = \"\"\n"
        );
        assert!(err(&spec).contains("reason a/r has an empty description"), "{}", err(&spec));
    }

    #[test]
    fn custody_is_never_info_received() {
        let spec = format!(
            "{HEAD}sorted = {{ status = \"info_received\", milestone = \"at_origin_hub\", description = \"a\" }}\n"
        );
        assert!(
            err(&spec).contains("milestone at_origin_hub does not allow status info_received"),
            "{}",
            err(&spec)
        );
    }

    #[test]
    fn output_names_the_command_and_source() {
        let spec = format!(
            "{HEAD}a = {{ status = \"pending\", milestone = \"announced\", description = \"Announced.\" }}\n"
        );
        let g = render(&spec, Path::new("specs/status-map/x.toml")).unwrap();
        assert!(g.contents.contains(
            "generated by `cargo xtask codegen` from `specs/status-map/x.toml`, do not edit."
        ));
        assert!(g.contents.contains("milestone: Milestone::Announced"), "{}", g.contents);
        assert!(g.contents.contains("\"a\" => Some(&ENTRIES[0])"), "{}", g.contents);
    }
}
