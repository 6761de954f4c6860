//! The benchmark report: raw scenario measurements → figures, each next to its ceiling (or
//! reference), the ratio, and the first performance budget; rendered as JSON and Markdown.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a scenario driver printed (see `bench/src/measure.rs`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct ScenarioRaw {
    /// `intake`, `pool`, `tracking`, `serving` or `parsing`.
    pub scenario: String,
    /// Named numbers.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Sizes, settings, and what could not be measured.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Which number a budget check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Subject {
    /// The figure's value.
    Value,
    /// value / ceiling.
    Ratio,
}

/// How it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) enum Op {
    /// `>=`
    #[serde(rename = ">=")]
    AtLeast,
    /// `<`
    #[serde(rename = "<")]
    Below,
    /// `==`
    #[serde(rename = "==")]
    Exactly,
    /// `>`
    #[serde(rename = ">")]
    Above,
}

/// One condition of the budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Check {
    /// What is checked.
    pub subject: Subject,
    /// How.
    pub op: Op,
    /// Against what.
    pub bound: f64,
}

impl Check {
    const fn new(subject: Subject, op: Op, bound: f64) -> Self {
        Self { subject, op, bound }
    }

    fn passes(&self, value: f64, ratio: Option<f64>) -> Option<bool> {
        let x = match self.subject {
            Subject::Value => value,
            Subject::Ratio => ratio?,
        };
        Some(match self.op {
            Op::AtLeast => x >= self.bound,
            Op::Below => x < self.bound,
            Op::Exactly => (x - self.bound).abs() < 1e-9,
            Op::Above => x > self.bound,
        })
    }

    fn text(&self, unit: &str) -> String {
        let op = match self.op {
            Op::AtLeast => "≥",
            Op::Below => "<",
            Op::Exactly => "=",
            Op::Above => ">",
        };
        match self.subject {
            Subject::Value => format!("{op} {} {unit}", number(self.bound)).trim_end().to_owned(),
            Subject::Ratio => format!("ratio {op} {}", number(self.bound)),
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Figure {
    /// The scenario it belongs to.
    pub scenario: String,
    /// What it measures.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// The measured value (absent when not measured).
    pub value: Option<f64>,
    /// What the value is compared with (the ceiling, a limit or a reference).
    pub ceiling: Option<f64>,
    /// What that ceiling is.
    pub ceiling_name: String,
    /// value / ceiling (for parsing: reference time / typed time, > 1 = typed faster).
    pub ratio: Option<f64>,
    /// The budget's conditions.
    pub budget: Vec<Check>,
    /// Whether every condition holds (absent without a value or a budget).
    pub met: Option<bool>,
}

struct Spec {
    name: &'static str,
    unit: &'static str,
    value: &'static str,
    ceiling: Option<&'static str>,
    ceiling_name: &'static str,
    /// Ratio is ceiling / value instead of value / ceiling (for times: lower is better).
    inverse: bool,
    budget: Vec<Check>,
}

fn spec(name: &'static str, unit: &'static str, value: &'static str) -> Spec {
    Spec { name, unit, value, ceiling: None, ceiling_name: "", inverse: false, budget: Vec::new() }
}

impl Spec {
    fn vs(mut self, ceiling: &'static str, ceiling_name: &'static str) -> Self {
        self.ceiling = Some(ceiling);
        self.ceiling_name = ceiling_name;
        self
    }

    fn inverse(mut self) -> Self {
        self.inverse = true;
        self
    }

    fn budget(mut self, budget: &[Check]) -> Self {
        self.budget = budget.to_vec();
        self
    }
}

use Op::{Above, AtLeast, Below, Exactly};
use Subject::{Ratio, Value};

fn specs(scenario: &str) -> Vec<Spec> {
    const WRK: &str = "wrk, same POST";
    match scenario {
        "intake" => vec![
            spec("StarmileClient", "orders/s", "client_orders_per_s")
                .vs("ceiling_orders_per_s", WRK)
                .budget(&[Check::new(Ratio, AtLeast, 0.8)]),
            spec("waybill orders import", "orders/s", "import_orders_per_s")
                .vs("client_orders_per_s", "StarmileClient, same concurrency")
                .budget(&[Check::new(Ratio, AtLeast, 0.7)]),
            spec("token requests (client)", "", "client_token_requests")
                .budget(&[Check::new(Value, Exactly, 1.0)]),
            spec("token requests (import)", "", "import_token_requests")
                .budget(&[Check::new(Value, Exactly, 1.0)]),
        ],
        "latency" => vec![
            spec("waybill orders import, 50 ms RTT", "orders/s", "import_orders_per_s")
                .vs("ceiling_orders_per_s", "concurrency / RTT")
                .budget(&[Check::new(Ratio, AtLeast, 0.9)]),
            spec("sequential client (reference)", "orders/s", "sequential_orders_per_s")
                .vs("ceiling_orders_per_s", "concurrency / RTT"),
            spec("round trip (sequential client)", "ms", "rtt_ms"),
        ],
        "pool" => vec![
            spec("sync engine → SQLite store", "rows/s", "ingest_rows_per_s")
                .vs("ceiling_rows_per_s", "bulk insert, 1 tx")
                .budget(&[Check::new(Ratio, AtLeast, 0.5)]),
            spec("feed alone (fetch + decode)", "rows/s", "feed_rows_per_s")
                .vs("ceiling_rows_per_s", "bulk insert, 1 tx"),
            spec("ingest peak RSS", "MB", "ingest_peak_rss_mb")
                .budget(&[Check::new(Value, Below, 100.0)]),
            spec("sync engine → PostgreSQL store", "rows/s", "pg_ingest_rows_per_s")
                .vs("ceiling_rows_per_s", "bulk insert, 1 tx (SQLite)"),
            spec("ingest peak RSS (PostgreSQL)", "MB", "pg_ingest_peak_rss_mb")
                .budget(&[Check::new(Value, Below, 150.0)]),
        ],
        "tracking" => vec![
            spec("achieved lookup rate", "req/s", "achieved_per_s")
                .vs("limit_per_s", "key limit")
                .budget(&[Check::new(Ratio, AtLeast, 0.98)]),
            spec("429 answers", "", "rate_limited_429").budget(&[Check::new(Value, Exactly, 0.0)]),
            spec("busiest second", "req", "max_in_one_second")
                .vs("limit_per_s", "key limit")
                .budget(&[Check::new(Ratio, Below, 1.0 + 1e-9)]),
        ],
        "freshness" => vec![
            spec("mean scan → store delay, schedule", "s", "sched_mean_s")
                .vs("rr_mean_s", "round-robin, same key")
                .budget(&[Check::new(Ratio, Below, 1.0 / 3.0 + 1e-9)]),
            spec("p95 scan → store delay, schedule", "s", "sched_p95_s")
                .vs("rr_p95_s", "round-robin, same key"),
            spec("mean delay, parcels no webhook covers", "s", "sched_polled_mean_s")
                .vs("rr_polled_mean_s", "round-robin, same key"),
            spec("scans measured", "", "scans_measured"),
            spec("scans still unstored at the end, schedule", "", "sched_unstored"),
            spec("lookups on handed-over parcels, schedule", "", "sched_lookups_handed_over")
                .budget(&[Check::new(Value, Exactly, 0.0)]),
            spec("lookups on handed-over parcels, round-robin", "", "rr_lookups_handed_over"),
            spec("lookup rate, schedule", "req/s", "sched_per_s").vs("limit_per_s", "key limit"),
            spec("429 answers", "", "rate_limited_429").budget(&[Check::new(Value, Exactly, 0.0)]),
        ],
        "serving" => {
            const HEALTHZ: &str = "/healthz, same server and load";
            const PG_HEALTHZ: &str = "/healthz on PostgreSQL, same load";
            vec![
                spec("/healthz (serving ceiling)", "req/s", "healthz_per_s"),
                spec("/healthz p99", "ms", "healthz_p99_ms"),
                spec("/track/{number}", "req/s", "track_page_per_s")
                    .vs("healthz_per_s", HEALTHZ)
                    .budget(&[Check::new(Value, AtLeast, 1_000.0)]),
                spec("/track/{number} p50", "ms", "track_page_p50_ms"),
                spec("/track/{number} p99", "ms", "track_page_p99_ms")
                    .budget(&[Check::new(Value, Below, 5.0)]),
                spec("timeline API", "req/s", "timeline_api_per_s")
                    .vs("healthz_per_s", HEALTHZ)
                    .budget(&[Check::new(Value, AtLeast, 1_000.0)]),
                spec("timeline API p50", "ms", "timeline_api_p50_ms"),
                spec("timeline API p99", "ms", "timeline_api_p99_ms")
                    .budget(&[Check::new(Value, Below, 5.0)]),
                spec("/healthz on PostgreSQL", "req/s", "pg_healthz_per_s"),
                spec("/track/{number} on PostgreSQL", "req/s", "pg_track_page_per_s")
                    .vs("pg_healthz_per_s", PG_HEALTHZ),
                spec("/track/{number} p99 on PostgreSQL", "ms", "pg_track_page_p99_ms")
                    .budget(&[Check::new(Value, Below, 5.0)]),
                spec("timeline API on PostgreSQL", "req/s", "pg_timeline_api_per_s")
                    .vs("pg_healthz_per_s", PG_HEALTHZ),
                spec("timeline API p99 on PostgreSQL", "ms", "pg_timeline_api_p99_ms")
                    .budget(&[Check::new(Value, Below, 5.0)]),
            ]
        }
        "parsing" => vec![
            spec("StarShipIT spec sample, typed", "µs", "track_sample_typed_us")
                .vs("track_sample_value_us", "serde_json::Value")
                .inverse()
                .budget(&[Check::new(Ratio, Above, 1.0)]),
            spec("200-row pool page, typed", "µs", "pool_page_typed_us")
                .vs("pool_page_value_us", "serde_json::Value")
                .inverse()
                .budget(&[Check::new(Ratio, Above, 1.0)]),
        ],
        _ => Vec::new(),
    }
}

/// The figures of one scenario's measurements.
pub(crate) fn figures(raw: &ScenarioRaw) -> Vec<Figure> {
    specs(&raw.scenario)
        .into_iter()
        .map(|s| {
            let value = raw.metrics.get(s.value).copied();
            let ceiling = s.ceiling.and_then(|c| raw.metrics.get(c).copied());
            let ratio = match (value, ceiling) {
                (Some(v), Some(c)) if s.inverse && v > 0.0 => Some(c / v),
                (Some(v), Some(c)) if !s.inverse && c > 0.0 => Some(v / c),
                _ => None,
            };
            let met = match value {
                Some(v) if !s.budget.is_empty() => s
                    .budget
                    .iter()
                    .map(|c| c.passes(v, ratio))
                    .collect::<Option<Vec<_>>>()
                    .map(|all| all.into_iter().all(|ok| ok)),
                _ => None,
            };
            Figure {
                scenario: raw.scenario.clone(),
                name: s.name.to_owned(),
                unit: s.unit.to_owned(),
                value,
                ceiling,
                ceiling_name: s.ceiling_name.to_owned(),
                ratio,
                budget: s.budget.clone(),
                met,
            }
        })
        .collect()
}

/// The machine a report was made on.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub(crate) struct Machine {
    /// Logical cores available.
    pub cores: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu: String,
    /// Memory, GiB.
    pub memory_gib: f64,
    /// `rustc -V`.
    pub rustc: String,
    /// When (UTC, RFC 3339).
    pub date: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// Whether sizes were scaled down.
    pub quick: bool,
    /// Every figure.
    pub figures: Vec<Figure>,
    /// The raw measurements and notes, per scenario.
    pub scenarios: Vec<ScenarioRaw>,
}

impl Report {
    /// A report of these scenarios.
    pub(crate) fn new(machine: Machine, quick: bool, scenarios: Vec<ScenarioRaw>) -> Self {
        let figures = scenarios.iter().flat_map(figures).collect();
        Self { machine, quick, figures, scenarios }
    }

    /// The Markdown rendering.
    pub(crate) fn to_markdown(&self) -> String {
        let m = &self.machine;
        let mut out = format!(
            "# waybill benchmarks{}\n\n{} · {} cores · {} GiB · {} · {}\n\n",
            if self.quick { " (quick run: scaled-down sizes)" } else { "" },
            m.cpu,
            m.cores,
            number(m.memory_gib),
            m.rustc,
            m.date
        );
        out.push_str(
            "| scenario | figure | value | ceiling / reference | ratio | budget | met |\n",
        );
        out.push_str("|---|---|--:|--:|--:|---|:-:|\n");
        for f in &self.figures {
            let value =
                f.value.map_or_else(|| "not measured".to_owned(), |v| with_unit(v, &f.unit));
            let ceiling = match f.ceiling {
                Some(c) => format!("{} ({})", with_unit(c, &f.unit), f.ceiling_name),
                None => "—".into(),
            };
            let ratio = f.ratio.map_or_else(|| "—".into(), |r| format!("{r:.2}"));
            let budget = if f.budget.is_empty() {
                "—".to_owned()
            } else {
                f.budget.iter().map(|c| c.text(&f.unit)).collect::<Vec<_>>().join(", ")
            };
            let met = match f.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            out.push_str(&format!(
                "| {} | {} | {value} | {ceiling} | {ratio} | {budget} | {met} |\n",
                f.scenario, f.name
            ));
        }
        out.push_str("\n## Notes\n\n");
        for s in &self.scenarios {
            for n in &s.notes {
                out.push_str(&format!("- {}: {n}\n", s.scenario));
            }
        }
        out
    }
}

/// A number with thousands separators, at most 2 decimals (fewer for large values).
pub(crate) fn number(x: f64) -> String {
    let decimals = if x.abs() >= 1000.0 {
        0
    } else if x.abs() >= 100.0 || x.fract() == 0.0 {
        if x.fract() == 0.0 { 0 } else { 1 }
    } else {
        2
    };
    let text = format!("{x:.decimals$}");
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn with_unit(x: f64, unit: &str) -> String {
    if unit.is_empty() { number(x) } else { format!("{} {unit}", number(x)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(scenario: &str, metrics: &[(&str, f64)]) -> ScenarioRaw {
        ScenarioRaw {
            scenario: scenario.into(),
            metrics: metrics.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn figures_carry_ceiling_ratio_and_budget() {
        let intake = raw(
            "intake",
            &[
                ("client_orders_per_s", 8_000.0),
                ("import_orders_per_s", 5_000.0),
                ("ceiling_orders_per_s", 10_000.0),
                ("client_token_requests", 1.0),
            ],
        );
        let f = figures(&intake);
        assert_eq!(f[0].ratio, Some(0.8));
        assert_eq!(f[0].met, Some(true));
        assert_eq!(f[1].met, Some(false));
        assert_eq!(f[2].met, Some(true));
        // Not measured: no value, no verdict.
        assert_eq!((f[3].value, f[3].met), (None, None));

        let pool = raw(
            "pool",
            &[
                ("ingest_rows_per_s", 160_000.0),
                ("ceiling_rows_per_s", 400_000.0),
                ("ingest_peak_rss_mb", 90.0),
            ],
        );
        let f = figures(&pool);
        // The ratio 0.4 misses 0.5.
        assert_eq!((f[0].ratio, f[0].met), (Some(0.4), Some(false)));
        assert_eq!(f[2].met, Some(true));
    }

    #[test]
    fn serving_rates_are_ratios_of_the_same_servers_healthz() {
        let serving = raw(
            "serving",
            &[
                ("healthz_per_s", 10_000.0),
                ("track_page_per_s", 4_000.0),
                ("track_page_p99_ms", 4.2),
                ("timeline_api_per_s", 5_000.0),
                ("timeline_api_p99_ms", 6.0),
            ],
        );
        let f = figures(&serving);
        let find = |name: &str| f.iter().find(|f| f.name == name).unwrap();
        assert_eq!(find("/track/{number}").ratio, Some(0.4));
        assert_eq!(find("timeline API").ratio, Some(0.5));
        assert_eq!(find("/track/{number} p99").met, Some(true));
        assert_eq!(find("timeline API p99").met, Some(false), "the p99 budget is below 5 ms");
        assert_eq!(find("/track/{number} on PostgreSQL").ratio, None);
    }

    #[test]
    fn freshness_compares_the_schedule_with_round_robin() {
        let run = |sched: f64| {
            raw(
                "freshness",
                &[("sched_mean_s", sched), ("rr_mean_s", 300.0), ("rate_limited_429", 0.0)],
            )
        };
        let f = figures(&run(100.0));
        assert_eq!((f[0].ratio, f[0].met), (Some(1.0 / 3.0), Some(true)), "exactly a third holds");
        assert_eq!(figures(&run(101.0))[0].met, Some(false));
        assert!(f.iter().any(|f| f.name == "429 answers" && f.met == Some(true)));
    }

    #[test]
    fn parsing_ratio_is_a_speedup() {
        let parsing =
            raw("parsing", &[("pool_page_typed_us", 50.0), ("pool_page_value_us", 100.0)]);
        let f = figures(&parsing);
        assert_eq!((f[1].ratio, f[1].met), (Some(2.0), Some(true)));
    }

    #[test]
    fn markdown_lists_machine_figures_and_notes() {
        let machine = Machine {
            cores: 2,
            cpu: "Test CPU".into(),
            memory_gib: 24.0,
            rustc: "rustc 1.95.0".into(),
            date: "2026-11-01T00:00:00Z".into(),
        };
        let report = Report::new(
            machine,
            true,
            vec![raw("tracking", &[("achieved_per_s", 19.7), ("limit_per_s", 20.0)])],
        );
        let md = report.to_markdown();
        assert!(md.contains("Test CPU · 2 cores"), "{md}");
        assert!(md.contains(
            "| tracking | achieved lookup rate | 19.70 req/s | 20 req/s (key limit) | 0.98 | ratio ≥ 0.98 | yes |"
        ), "{md}");
        assert!(md.contains("| tracking | 429 answers | not measured |"), "{md}");
        assert!(md.contains("- tracking: a note"), "{md}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["figures"][0]["budget"][0]["op"], ">=");
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(number(1_234_567.8), "1,234,568");
        assert_eq!(number(0.975), "0.97");
        assert_eq!(number(150.0), "150");
        assert_eq!(number(-2_500.0), "-2,500");
    }
}
