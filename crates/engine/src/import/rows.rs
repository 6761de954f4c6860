//! Reading an import file into orders: CSV or JSONL bytes → rows (one per parcel) → order
//! requests grouped by reference, validated whole.
//!
//! What is refused, and how:
//! - a column (CSV header) or key (JSONL) that is not an import column: a CSV header refuses
//!   the whole file, a JSONL line refuses its row; both name the unknown name and the closest
//!   known one (`weigth` → `weight`), because a silently dropped column loses data;
//! - a line that is not UTF-8: reported by line number, the other lines are read;
//! - a row that does not parse: reported with its line and the rule it broke;
//! - an order with any bad row: **none** of its rows is used (an order is never created with
//!   some of its parcels missing), each of its lines is reported.
//!
//! A UTF-8 byte order mark at the start of a file is skipped (spreadsheets write one). CSV
//! cells are trimmed (the CSV convention `a, b`); JSONL values are taken as given, so a
//! reference with whitespace around it is refused by its parser.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use waybill_domain::{
    AddressLine, Currency, Destination, Dimensions, Email, GovId, HomeAddress, HsCode,
    MerchantTrackingNumber, Money, OrderItem, OrderRequest, PackageType, PartnerOrderRef, Phone,
    PointId, PostalCode, Product, ProductName, Quantity, Recipient, RecipientName, Region,
    ServiceId, Weight,
};

use super::report::{ImportError, RowError};

/// Every column an import file may have, in the order a rejects file writes them. `reason` is
/// the column a rejects file adds; it is read and ignored, so a fixed rejects file imports.
pub const COLUMNS: &[&str] = &[
    "reference",
    "service_id",
    "merchant_tracking_number",
    "weight",
    "customer_name",
    "customer_phone",
    "customer_email",
    "gov_id",
    "pudo_id",
    "locker_id",
    "parent_region",
    "region",
    "address_first",
    "address_second",
    "zip",
    "package_type",
    "dimensions",
    "product_name",
    "hs_code",
    "declared_value",
    "currency",
    "quantity",
    REASON,
];

/// The column a rejects file adds, saying what to fix.
pub const REASON: &str = "reason";

/// The columns every file needs.
const REQUIRED: &[&str] = &["reference", "service_id", "merchant_tracking_number"];

/// A file read into rows: the good ones, the errors, and every line's cells as text (for a
/// rejects file).
pub(super) struct Source {
    /// The file's columns, in its own order (CSV) or in [`COLUMNS`] order (JSONL).
    pub(super) columns: Vec<String>,
    /// Rows that parsed.
    pub(super) rows: Vec<Row>,
    /// Rows that did not, by line.
    pub(super) errors: Vec<RowError>,
    /// References named by rows that did not parse (trimmed), with their first such line:
    /// those orders are not created at all.
    pub(super) tainted: HashMap<String, u64>,
    /// Each line's cells by column, as text.
    pub(super) cells: HashMap<u64, BTreeMap<String, String>>,
    /// Rows read (excluding a CSV header and blank lines).
    pub(super) row_count: u64,
}

/// An order ready to send: its request and the lines it came from.
pub(super) struct Planned {
    /// Every line of the order, first line first.
    pub(super) lines: Vec<u64>,
    /// The validated request.
    pub(super) request: OrderRequest,
}

/// An order that cannot be sent because of its rows.
pub(super) struct Invalid {
    /// The order's reference.
    pub(super) reference: PartnerOrderRef,
    /// Why.
    pub(super) reason: String,
}

/// Reads `bytes` as a file of type `ext` (`csv`, `jsonl`, `ndjson`); `name` names the file in
/// messages.
pub(super) fn read(ext: &str, bytes: &[u8], name: &str) -> Result<Source, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut source = Source {
        columns: Vec::new(),
        rows: Vec::new(),
        errors: Vec::new(),
        tainted: HashMap::new(),
        cells: HashMap::new(),
        row_count: 0,
    };
    match ext {
        "csv" => read_csv(bytes, name, &mut source)?,
        "jsonl" | "ndjson" => read_jsonl(bytes, &mut source),
        other => {
            return Err(ImportError::Format(format!(
                "{name}: unknown file type {other:?}; use .csv or .jsonl"
            )));
        }
    }
    Ok(source)
}

/// The closest known column to an unknown one, when it is plausibly a typo.
fn closest(unknown: &str) -> Option<&'static str> {
    let lower = unknown.to_ascii_lowercase();
    COLUMNS
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `"weigth" (did you mean "weight"?)`.
fn describe_unknown(unknown: &[String]) -> String {
    unknown
        .iter()
        .map(|u| match closest(u) {
            Some(c) => format!("{u:?} (did you mean {c:?}?)"),
            None => format!("{u:?}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_csv(bytes: &[u8], name: &str, source: &mut Source) -> Result<(), ImportError> {
    // Only header names are trimmed: a cell is parsed as written, so an identifier padded
    // with spaces is refused by its own rule (a quoted " PO-1 " would become a phantom order).
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::Headers).from_reader(bytes);
    let headers = reader
        .byte_headers()
        .map_err(|e| ImportError::Format(format!("{name}: bad CSV header: {e}")))?
        .clone();
    let headers: Vec<String> = headers
        .iter()
        .map(|h| {
            std::str::from_utf8(h).map(str::to_owned).map_err(|_| {
                ImportError::Format(format!(
                    "{name}: the CSV header (line 1) is not valid UTF-8: save the file as UTF-8"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    for needed in REQUIRED {
        if !headers.iter().any(|h| h == needed) {
            return Err(ImportError::Format(format!(
                "{name}: the CSV header has no {needed:?} column (expected reference,service_id,merchant_tracking_number[,weight,…])"
            )));
        }
    }
    if let Some(position) = headers.iter().position(String::is_empty) {
        return Err(ImportError::Format(format!(
            "{name}: column {} of the CSV header has no name: name it or remove it (and its cells)",
            position + 1
        )));
    }
    if let Some((i, twice)) = headers.iter().enumerate().find(|(i, h)| headers[..*i].contains(h)) {
        return Err(ImportError::Format(format!(
            "{name}: the CSV header names {twice:?} twice (columns {} and {}): keep one",
            headers.iter().position(|h| h == twice).map_or(0, |p| p + 1),
            i + 1
        )));
    }
    let unknown: Vec<String> =
        headers.iter().filter(|h| !COLUMNS.contains(&h.as_str())).cloned().collect();
    if !unknown.is_empty() {
        return Err(ImportError::Format(format!(
            "{name}: unknown column{} {} in the CSV header: rename or remove {}; the import columns are {}",
            if unknown.len() == 1 { "" } else { "s" },
            describe_unknown(&unknown),
            if unknown.len() == 1 { "it" } else { "them" },
            COLUMNS.join(", ")
        )));
    }
    source.columns.clone_from(&headers);
    for record in reader.byte_records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                source.row_count += 1;
                source.errors.push(RowError { line, reason: format!("unreadable CSV row: {e}") });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        source.row_count += 1;
        let mut cells = BTreeMap::new();
        let mut bad_utf8 = None;
        for (header, cell) in headers.iter().zip(record.iter()) {
            let text = match std::str::from_utf8(cell) {
                Ok(t) => t.to_owned(),
                Err(_) => {
                    bad_utf8.get_or_insert_with(|| header.clone());
                    String::from_utf8_lossy(cell).into_owned()
                }
            };
            if !text.is_empty() {
                cells.insert(header.clone(), text);
            }
        }
        if record.len() > headers.len() {
            let extra = record.len() - headers.len();
            source.note_bad(
                line,
                &cells,
                format!("the row has {extra} more cell(s) than the header has columns"),
            );
        } else if let Some(column) = bad_utf8 {
            source.note_bad(
                line,
                &cells,
                format!("line {line} is not valid UTF-8 (column {column}): save the file as UTF-8"),
            );
        } else {
            let object = cells
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            source.parse(line, &cells, serde_json::Value::Object(object));
        }
        source.cells.insert(line, cells);
    }
    Ok(())
}

fn read_jsonl(bytes: &[u8], source: &mut Source) {
    let mut seen: Vec<&'static str> = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        source.row_count += 1;
        let (decoded, utf8_error) = match std::str::from_utf8(raw) {
            Ok(t) => (std::borrow::Cow::Borrowed(t), None),
            Err(e) => (String::from_utf8_lossy(raw), Some(e.valid_up_to())),
        };
        let value = serde_json::from_str::<serde_json::Value>(&decoded);
        let cells: BTreeMap<String, String> = match &value {
            Ok(serde_json::Value::Object(map)) => map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), text(v)))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            _ => BTreeMap::new(),
        };
        for key in cells.keys() {
            if let Some(known) = COLUMNS.iter().find(|c| **c == key.as_str())
                && !seen.contains(known)
            {
                seen.push(known);
            }
        }
        match (utf8_error, value) {
            (Some(at), _) => source.note_bad(
                line,
                &cells,
                format!(
                    "line {line} is not valid UTF-8 (at byte {}): save the file as UTF-8",
                    at + 1
                ),
            ),
            (None, Ok(serde_json::Value::Object(map))) => {
                let unknown: Vec<String> =
                    map.keys().filter(|k| !COLUMNS.contains(&k.as_str())).cloned().collect();
                if unknown.is_empty() {
                    source.parse(line, &cells, serde_json::Value::Object(map));
                } else {
                    source.note_bad(
                        line,
                        &cells,
                        format!(
                            "unknown key{} {}: rename or remove {}",
                            if unknown.len() == 1 { "" } else { "s" },
                            describe_unknown(&unknown),
                            if unknown.len() == 1 { "it" } else { "them" },
                        ),
                    );
                }
            }
            (None, Ok(_)) => source.note_bad(
                line,
                &cells,
                "not a JSON object: each line must be one object with the import keys".into(),
            ),
            (None, Err(e)) => source.note_bad(
                line,
                &cells,
                format!("not a JSON object with the import keys: {e}"),
            ),
        }
        source.cells.insert(line, cells);
    }
    source.columns = COLUMNS.iter().filter(|c| seen.contains(c)).map(|c| (*c).to_owned()).collect();
}

impl Source {
    /// Records a bad row, and taints its order when it names one.
    fn note_bad(&mut self, line: u64, cells: &BTreeMap<String, String>, reason: String) {
        if let Some(reference) = cells.get("reference").map(|r| r.trim()).filter(|r| !r.is_empty())
        {
            self.tainted.entry(reference.to_owned()).or_insert(line);
        }
        self.errors.push(RowError { line, reason });
    }

    /// Parses one row's object into a [`Row`] or a bad row.
    fn parse(&mut self, line: u64, cells: &BTreeMap<String, String>, object: serde_json::Value) {
        let parsed = serde_json::from_value::<RawRow>(object)
            .map_err(|e| RowError { line, reason: format!("unreadable row: {e}") })
            .and_then(|raw| parse_row(line, raw));
        match parsed {
            Ok(row) => self.rows.push(row),
            Err(e) => self.note_bad(line, cells, e.reason),
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawRow {
    reference: Option<String>,
    service_id: Option<serde_json::Value>,
    merchant_tracking_number: Option<String>,
    weight: Option<serde_json::Value>,
    #[serde(flatten)]
    order: OrderCols,
    package_type: Option<String>,
    dimensions: Option<String>,
    product_name: Option<String>,
    hs_code: Option<serde_json::Value>,
    declared_value: Option<serde_json::Value>,
    currency: Option<String>,
    quantity: Option<serde_json::Value>,
}

/// The order-level optional columns of a row, as text (empty = absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(super) struct OrderCols {
    #[serde(default, deserialize_with = "opt_text")]
    customer_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    customer_phone: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    customer_email: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    gov_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pudo_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    locker_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    parent_region: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    region: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    address_first: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    address_second: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    zip: Option<String>,
}

/// Text or a number as text; empty and null are absent.
fn opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.map(|v| text(&v)).filter(|s| !s.trim().is_empty() && s != "null"))
}

/// One parsed row: one parcel of an order.
pub(super) struct Row {
    pub(super) line: u64,
    pub(super) reference: PartnerOrderRef,
    pub(super) service_id: ServiceId,
    pub(super) item: OrderItem,
    pub(super) order: OrderCols,
}

/// A cell's text: a string as is, anything else as JSON.
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_row(line: u64, raw: RawRow) -> Result<Row, RowError> {
    let err = |reason: String| RowError { line, reason };
    let reference = raw
        .reference
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| err("reference is missing".into()))?;
    let reference = PartnerOrderRef::parse(reference).map_err(|e| err(e.to_string()))?;
    let service = raw.service_id.ok_or_else(|| err("service_id is missing".into()))?;
    let service_id: ServiceId =
        text(&service).parse().map_err(|e: waybill_domain::ParseError| err(e.to_string()))?;
    let mtn = raw
        .merchant_tracking_number
        .filter(|s| !s.is_empty())
        .ok_or_else(|| err("merchant_tracking_number is missing".into()))?;
    let mtn = MerchantTrackingNumber::parse(mtn).map_err(|e| err(e.to_string()))?;
    let weight = match raw.weight.as_ref().map(text).filter(|s| !s.trim().is_empty() && s != "null")
    {
        Some(w) => Some(w.parse::<Weight>().map_err(|e| err(e.to_string()))?),
        None => None,
    };
    let cell = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let value = |v: &Option<serde_json::Value>| {
        v.as_ref().map(text).filter(|s| !s.trim().is_empty() && s != "null")
    };
    let mut item = OrderItem { weight, ..OrderItem::new(mtn) };
    if let Some(p) = cell(&raw.package_type) {
        item.package_type = Some(p.parse::<PackageType>().map_err(|e| err(e.to_string()))?);
    }
    if let Some(d) = cell(&raw.dimensions) {
        item.dimensions = Some(d.parse::<Dimensions>().map_err(|e| err(e.to_string()))?);
    }
    let hs = value(&raw.hs_code);
    let declared = value(&raw.declared_value);
    let currency = cell(&raw.currency);
    let quantity = value(&raw.quantity);
    match cell(&raw.product_name) {
        Some(name) => {
            let mut product =
                Product::new(ProductName::parse(name).map_err(|e| err(e.to_string()))?);
            if let Some(hs) = hs {
                product = product.with_hs_code(HsCode::parse(hs).map_err(|e| err(e.to_string()))?);
            }
            match (declared, currency) {
                (Some(v), Some(c)) => {
                    let amount = v.parse().map_err(|_| {
                        err(format!("declared_value {v:?} is not a decimal amount"))
                    })?;
                    let currency = Currency::parse(&c).map_err(|e| err(e.to_string()))?;
                    let money = Money::new(amount, currency).map_err(|e| err(e.to_string()))?;
                    product = product.with_declared_value(money);
                }
                (None, None) => {}
                _ => return Err(err("declared_value and currency go together: give both".into())),
            }
            if let Some(q) = quantity {
                let n =
                    q.parse().map_err(|_| err(format!("quantity {q:?} is not a whole number")))?;
                product = product.with_quantity(Quantity::new(n).map_err(|e| err(e.to_string()))?);
            }
            item.products.push(product);
        }
        None if hs.is_some() || declared.is_some() || currency.is_some() || quantity.is_some() => {
            return Err(err("product columns are set but product_name is empty".into()));
        }
        None => {}
    }
    Ok(Row { line, reference, service_id, item, order: raw.order })
}

/// The recipient and destination an order's rows describe, when any column is set.
fn shipment(cols: &OrderCols) -> Result<Option<(Recipient, Destination)>, String> {
    if *cols == OrderCols::default() {
        return Ok(None);
    }
    let e = |e: waybill_domain::ParseError| e.to_string();
    let name = cols.customer_name.clone().map(RecipientName::parse).transpose().map_err(e)?;
    let phone = cols.customer_phone.clone().map(Phone::parse).transpose().map_err(e)?;
    let email = cols.customer_email.clone().map(Email::parse).transpose().map_err(e)?;
    let mut recipient = Recipient::new(name, phone, email).map_err(|e| e.to_string())?;
    if let Some(id) = cols.gov_id.clone() {
        recipient = recipient.with_gov_id(GovId::parse(id).map_err(e)?);
    }
    let destination = match (&cols.pudo_id, &cols.locker_id, &cols.region) {
        (Some(p), None, None) => Destination::PickupPoint { id: p.parse::<PointId>().map_err(e)? },
        (None, Some(l), None) => Destination::Locker { id: l.parse::<PointId>().map_err(e)? },
        (None, None, Some(region)) => Destination::Home(HomeAddress {
            parent_region: cols.parent_region.clone().map(Region::parse).transpose().map_err(e)?,
            region: Region::parse(region.clone()).map_err(e)?,
            address_first: AddressLine::parse(
                cols.address_first
                    .clone()
                    .ok_or("address_first is required for a home destination (with region)")?,
            )
            .map_err(e)?,
            address_second: cols
                .address_second
                .clone()
                .map(AddressLine::parse)
                .transpose()
                .map_err(e)?,
            zip: cols.zip.clone().map(PostalCode::parse).transpose().map_err(e)?,
        }),
        (None, None, None) => {
            return Err(
                "a destination is required: pudo_id, locker_id, or region + address_first".into()
            );
        }
        _ => return Err("give one destination: pudo_id, locker_id or region, not several".into()),
    };
    Ok(Some((recipient, destination)))
}

/// Merges the order-level columns of an order's rows: a value may repeat, never differ.
fn merge_order_cols(rows: &[Row]) -> Result<OrderCols, String> {
    let mut merged = OrderCols::default();
    let mut from: HashMap<&'static str, u64> = HashMap::new();
    for r in rows {
        let c = &r.order;
        let pairs: [(&'static str, &Option<String>, &mut Option<String>); 11] = [
            ("customer_name", &c.customer_name, &mut merged.customer_name),
            ("customer_phone", &c.customer_phone, &mut merged.customer_phone),
            ("customer_email", &c.customer_email, &mut merged.customer_email),
            ("gov_id", &c.gov_id, &mut merged.gov_id),
            ("pudo_id", &c.pudo_id, &mut merged.pudo_id),
            ("locker_id", &c.locker_id, &mut merged.locker_id),
            ("parent_region", &c.parent_region, &mut merged.parent_region),
            ("region", &c.region, &mut merged.region),
            ("address_first", &c.address_first, &mut merged.address_first),
            ("address_second", &c.address_second, &mut merged.address_second),
            ("zip", &c.zip, &mut merged.zip),
        ];
        for (name, value, slot) in pairs {
            let Some(v) = value else { continue };
            match slot {
                Some(old) if old != v => {
                    let first = from.get(name).copied().unwrap_or(0);
                    return Err(format!(
                        "{name} is {old:?} on line {first} but {v:?} on line {}",
                        r.line
                    ));
                }
                Some(_) => {}
                None => {
                    *slot = Some(v.clone());
                    from.insert(name, r.line);
                }
            }
        }
    }
    Ok(merged)
}

/// Groups rows into validated order requests. Every row of an order with a bad row (a
/// tainted reference) or that breaks an order-level rule goes to `errors` instead: an order
/// is never created with some of its parcels missing. Returns the orders to send and the
/// orders refused by their rows.
pub(super) fn group(source: &mut Source) -> (Vec<Planned>, Vec<Invalid>) {
    let rows = std::mem::take(&mut source.rows);
    let mut order: Vec<PartnerOrderRef> = Vec::new();
    let mut groups: HashMap<PartnerOrderRef, Vec<Row>> = HashMap::new();
    for row in rows {
        let entry = groups.entry(row.reference.clone()).or_default();
        if entry.is_empty() {
            order.push(row.reference.clone());
        }
        entry.push(row);
    }
    let mut seen_mtn: HashMap<MerchantTrackingNumber, u64> = HashMap::new();
    let mut planned = Vec::new();
    let mut invalid = Vec::new();
    for reference in order {
        let Some(rows) = groups.remove(&reference) else { continue };
        let first_line = rows[0].line;
        let service = rows[0].service_id;
        let mut problem = source.tainted.get(reference.as_str()).map(|bad| {
            format!("order {reference} is not created: its row on line {bad} is invalid; fix that row and re-run")
        });
        if let Some(r) = rows.iter().find(|r| r.service_id != service)
            && problem.is_none()
        {
            problem = Some(format!(
                "order {reference} names service {} on line {first_line} but {} on line {}",
                service, r.service_id, r.line
            ));
        }
        for r in &rows {
            if let Some(prev) = seen_mtn.insert(r.item.merchant_tracking_number.clone(), r.line)
                && problem.is_none()
                && rows.iter().all(|x| x.line != prev)
            {
                problem = Some(format!(
                    "merchant tracking number {} is also on line {prev}",
                    r.item.merchant_tracking_number
                ));
            }
        }
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        let details = merge_order_cols(&rows).and_then(|cols| shipment(&cols));
        let request = match (problem, details) {
            (Some(p), _) | (None, Err(p)) => Err(p),
            (None, Ok(details)) => OrderRequest::new(
                service,
                reference.clone(),
                rows.into_iter().map(|r| r.item).collect(),
            )
            .and_then(|req| match details {
                Some((recipient, destination)) => req.with_shipment(recipient, destination),
                None => Ok(req),
            })
            .map_err(|e| e.to_string()),
        };
        match request {
            Ok(request) => planned.push(Planned { lines, request }),
            Err(reason) => {
                source.errors.extend(
                    lines.into_iter().map(|line| RowError { line, reason: reason.clone() }),
                );
                invalid.push(Invalid { reference, reason });
            }
        }
    }
    source.errors.sort_by_key(|e| e.line);
    (planned, invalid)
}
