//! Bulk import of orders from CSV or JSONL: one row per parcel, rows grouped into orders by
//! partner reference, created with bounded concurrency. Bad rows are reported with their
//! line number and never stop good ones; a journal in the store makes a re-run or a resumed
//! run create nothing twice (and Starmile's idempotency on the reference backs it up).
//!
//! Columns (CSV header names, or JSONL keys):
//! - `reference` — the partner order reference (`external_parent_id`), required;
//! - `service_id` — the Starmile service id, required, the same on every row of an order;
//! - `merchant_tracking_number` — the parcel's sticker code, required, unique;
//! - `weight` — optional, grams (`1500`) or with a unit (`1.5kg`, `750g`).
//!
//! Optional columns for a full (cross-border) order; empty cells are absent values:
//! - recipient, per order: `customer_name`, `customer_phone`, `customer_email`, `gov_id`
//!   (a phone or an email is required once any recipient or destination column is set);
//! - destination, per order: `pudo_id` (pickup point) | `locker_id` | home: `region`,
//!   `address_first` and optionally `parent_region`, `address_second`, `zip`;
//! - per parcel: `package_type` (`fragile`, `breakable`, `liquid`), `dimensions`
//!   (`300x200x100` mm) and one declared product: `product_name`, `hs_code`,
//!   `declared_value` + `currency`, `quantity` (a full order needs a product on every parcel).
//!
//! Order-level values may repeat on each of an order's rows; two different values for the
//! same order are an error naming both lines.

use std::{collections::HashMap, io::BufRead, path::Path, sync::Arc};

use futures::{StreamExt, stream};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use waybill_domain::{
    AddressLine, Currency, Destination, Dimensions, Email, GovId, HomeAddress, HsCode,
    MerchantTrackingNumber, Money, OrderDesk, OrderItem, OrderRequest, PackageType,
    PartnerOrderRef, Phone, PointId, PostalCode, Product, ProductName, Quantity, Recipient,
    RecipientName, Region, ServiceId, Weight,
};

use waybill_store::{JournalEntry, Store, StoreError};

/// A row that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line number in the file (the CSV header is line 1).
    pub line: u64,
    /// What is wrong, and what to fix.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows read (excluding a CSV header and blank lines).
    pub rows: u64,
    /// Orders created at the carrier by this run.
    pub created: u64,
    /// Orders the carrier already had (it answered `duplicate: true`).
    pub duplicates: u64,
    /// Orders skipped because the journal says an earlier run created them.
    pub already_done: u64,
    /// Orders the carrier refused (also recorded in the journal; a re-run retries them).
    pub failed_orders: Vec<RowError>,
    /// Rows that could not be parsed, or belong to an order with such a row.
    pub bad_rows: Vec<RowError>,
}

impl ImportReport {
    /// True when every row made it.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.failed_orders.is_empty() && self.bad_rows.is_empty()
    }
}

/// Why an import could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file's format could not be determined or its header is wrong.
    #[error("{0}")]
    Format(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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
struct OrderCols {
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

struct Row {
    line: u64,
    reference: PartnerOrderRef,
    service_id: ServiceId,
    item: OrderItem,
    order: OrderCols,
}

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

/// Reads a CSV or JSONL file (by extension: `.csv`, `.jsonl`/`.ndjson`) into rows and row errors.
fn read_rows(path: &Path) -> Result<(Vec<Row>, Vec<RowError>), ImportError> {
    let io = |source| ImportError::Io { path: path.display().to_string(), source };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if !matches!(ext.as_str(), "csv" | "jsonl" | "ndjson") {
        return Err(ImportError::Format(format!(
            "{}: unknown file type {ext:?}; use .csv or .jsonl",
            path.display()
        )));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    read_rows_from(&ext, std::io::BufReader::new(file), path)
}

/// Reads rows of the file type `ext` from `input`; `path` names the file in messages.
fn read_rows_from(
    ext: &str,
    input: impl BufRead,
    path: &Path,
) -> Result<(Vec<Row>, Vec<RowError>), ImportError> {
    let io = |source| ImportError::Io { path: path.display().to_string(), source };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    match ext {
        "csv" => {
            let mut reader =
                csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
            let headers = reader
                .headers()
                .map_err(|e| {
                    ImportError::Format(format!("{}: bad CSV header: {e}", path.display()))
                })?
                .clone();
            for needed in ["reference", "service_id", "merchant_tracking_number"] {
                if !headers.iter().any(|h| h == needed) {
                    return Err(ImportError::Format(format!(
                        "{}: the CSV header has no {needed:?} column (expected reference,service_id,merchant_tracking_number[,weight])",
                        path.display()
                    )));
                }
            }
            for record in reader.records() {
                let (line, result) = match record {
                    Ok(r) => {
                        let line = r.position().map_or(0, csv::Position::line);
                        (line, r.deserialize::<RawRow>(Some(&headers)).map_err(|e| e.to_string()))
                    }
                    Err(e) => (e.position().map_or(0, csv::Position::line), Err(e.to_string())),
                };
                match result
                    .map_err(|reason| RowError { line, reason })
                    .and_then(|raw| parse_row(line, raw))
                {
                    Ok(row) => rows.push(row),
                    Err(e) => errors.push(e),
                }
            }
        }
        "jsonl" | "ndjson" => {
            for (i, line) in input.lines().enumerate() {
                let line_no = i as u64 + 1;
                let text = line.map_err(io)?;
                if text.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<RawRow>(&text)
                    .map_err(|e| RowError {
                        line: line_no,
                        reason: format!("not a JSON object with the import keys: {e}"),
                    })
                    .and_then(|raw| parse_row(line_no, raw))
                {
                    Ok(row) => rows.push(row),
                    Err(e) => errors.push(e),
                }
            }
        }
        other => {
            return Err(ImportError::Format(format!(
                "{}: unknown file type {other:?}; use .csv or .jsonl",
                path.display()
            )));
        }
    }
    Ok((rows, errors))
}

/// Fuzzing entry point (`fuzzing` feature): reads `bytes` as an import file of type `ext`
/// (`csv`, `jsonl`) and groups the rows into orders, exactly as [`import_file`] does before it
/// calls the carrier. Returns the orders' references and the row errors.
///
/// # Errors
/// [`ImportError`] when the input cannot be read at all (no header, not UTF-8 JSONL).
#[cfg(feature = "fuzzing")]
pub fn read_orders(ext: &str, bytes: &[u8]) -> Result<(Vec<String>, Vec<RowError>), ImportError> {
    let (rows, mut errors) = read_rows_from(ext, bytes, Path::new(&format!("input.{ext}")))?;
    let orders = group(rows, &mut errors);
    Ok((orders.into_iter().map(|(_, o)| o.reference().to_string()).collect(), errors))
}

/// Groups rows into validated order requests, moving every row of an invalid order to errors
/// (an order is never created with some of its parcels missing).
fn group(rows: Vec<Row>, errors: &mut Vec<RowError>) -> Vec<(u64, OrderRequest)> {
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
    let mut out = Vec::new();
    for reference in order {
        let Some(rows) = groups.remove(&reference) else { continue };
        let first_line = rows[0].line;
        let service = rows[0].service_id;
        let mut problem = None;
        if let Some(r) = rows.iter().find(|r| r.service_id != service) {
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
            Ok(req) => out.push((first_line, req)),
            Err(reason) => errors
                .extend(lines.into_iter().map(|line| RowError { line, reason: reason.clone() })),
        }
    }
    out
}

/// Imports a file into an account through its order desk.
///
/// # Errors
/// [`ImportError`] when the file cannot be read at all or the store fails; row and order
/// problems are reported in the [`ImportReport`] instead.
pub async fn import_file(
    path: &Path,
    account: &str,
    desk: Arc<dyn OrderDesk>,
    store: Arc<dyn Store>,
    concurrency: usize,
) -> Result<ImportReport, ImportError> {
    let (rows, mut bad_rows) = read_rows(path)?;
    let mut report =
        ImportReport { rows: (rows.len() + bad_rows.len()) as u64, ..ImportReport::default() };
    let requests = group(rows, &mut bad_rows);
    bad_rows.sort_by_key(|e| e.line);
    report.bad_rows = bad_rows;

    let bar =
        ProgressBar::with_draw_target(Some(requests.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:30}] {pos}/{len} orders ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let outcomes: Vec<Result<Outcome, ImportError>> = stream::iter(requests)
        .map(|(line, req)| {
            let desk = Arc::clone(&desk);
            let store = Arc::clone(&store);
            let bar = bar.clone();
            async move {
                let outcome = import_one(account, line, &req, desk.as_ref(), store.as_ref()).await;
                bar.inc(1);
                outcome
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    for outcome in outcomes {
        match outcome? {
            Outcome::Created => report.created += 1,
            Outcome::Duplicate => report.duplicates += 1,
            Outcome::AlreadyDone => report.already_done += 1,
            Outcome::Failed(e) => report.failed_orders.push(e),
        }
    }
    report.failed_orders.sort_by_key(|e| e.line);
    Ok(report)
}

enum Outcome {
    Created,
    Duplicate,
    AlreadyDone,
    Failed(RowError),
}

async fn import_one(
    account: &str,
    line: u64,
    req: &OrderRequest,
    desk: &dyn OrderDesk,
    store: &dyn Store,
) -> Result<Outcome, ImportError> {
    if let Some(JournalEntry::Done { .. }) = store.journal_get(account, req.reference()).await? {
        return Ok(Outcome::AlreadyDone);
    }
    match desk.create_order(req).await {
        Ok(order) => {
            // Order first, then journal: a crash between them replays as a harmless duplicate.
            store.save_order(account, req, &order).await?;
            store
                .journal_put(
                    account,
                    req.reference(),
                    &JournalEntry::Done { tracking_number: order.tracking_number.clone() },
                )
                .await?;
            Ok(if order.duplicate { Outcome::Duplicate } else { Outcome::Created })
        }
        Err(e) => {
            let message = e.to_string();
            store
                .journal_put(
                    account,
                    req.reference(),
                    &JournalEntry::Failed { message: message.clone() },
                )
                .await?;
            Ok(Outcome::Failed(RowError {
                line,
                reason: format!("order {}: {message}", req.reference()),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_rows_group_into_orders_and_bad_rows_keep_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "o.csv",
            "reference,service_id,merchant_tracking_number,weight\n\
             PO-1,5,TRK-1,1.5kg\n\
             PO-1,5,TRK-2,\n\
             PO-2,zero,TRK-3,\n\
             PO-3,5,TRK 4,\n\
             PO-4,5,TRK-1,\n\
             PO-5,5,TRK-5,900g\n",
        );
        let (rows, mut errors) = read_rows(&p).unwrap();
        assert_eq!(rows.len(), 4);
        let orders = group(rows, &mut errors);
        errors.sort_by_key(|e| e.line);
        let refs: Vec<_> = orders.iter().map(|(_, o)| o.reference().to_string()).collect();
        assert_eq!(refs, ["PO-1", "PO-5"]);
        assert_eq!(orders[0].1.items().len(), 2);
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [4, 5, 6], "{errors:?}");
        assert!(errors[2].reason.contains("also on line 2"), "{errors:?}");
    }

    #[test]
    fn optional_columns_make_full_orders_and_their_rules_hold() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "full.csv",
            "reference,service_id,merchant_tracking_number,weight,customer_name,customer_phone,customer_email,pudo_id,region,address_first,zip,package_type,dimensions,product_name,hs_code,declared_value,currency,quantity\n\
             PO-1,9,F-1,1.2kg,Jane Doe,+64211234567,,42,,,,fragile,300x200x100,Running shoes,640299,59.99,USD,2\n\
             PO-1,9,F-2,,,,,42,,,,,,Socks,,,,\n\
             PO-2,5,F-3,,Ann,,ann@example.com,,Auckland,12 Queen Street,1010,,,Cap,,,,\n\
             PO-3,9,F-4,,Bob,,,42,,,,,,Cap,,,,\n\
             PO-4,9,F-5,,,+64211234567,,42,,,,,,,,,,\n\
             PO-5,9,F-6,,,+64211234567,,42,,,,,,Cap,,,,\n\
             PO-5,9,F-7,,,+64211234567,,43,,,,,,Cap,,,,\n\
             PO-6,5,F-8,,,,,,,,,,,,,9.99,,\n\
             PO-7,5,F-9,,,,,,,,,,,,,,,\n",
        );
        let (rows, mut errors) = read_rows(&p).unwrap();
        let orders = group(rows, &mut errors);
        errors.sort_by_key(|e| e.line);
        let refs: Vec<_> = orders.iter().map(|(_, o)| o.reference().to_string()).collect();
        assert_eq!(refs, ["PO-1", "PO-2", "PO-7"], "{errors:?}");
        let po1 = &orders[0].1;
        assert_eq!(
            po1.destination(),
            Some(&Destination::PickupPoint { id: PointId::new(42).unwrap() })
        );
        assert_eq!(po1.items()[0].products[0].quantity().get(), 2);
        assert_eq!(po1.items()[0].package_type, Some(PackageType::Fragile));
        assert_eq!(po1.items()[1].products[0].name().as_str(), "Socks");
        assert!(
            matches!(orders[1].1.destination(), Some(Destination::Home(h)) if h.region.as_str() == "Auckland")
        );
        assert!(orders[2].1.recipient().is_none(), "the spec's minimal row stays minimal");
        let reasons: Vec<(u64, &str)> =
            errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert!(
            reasons[0].0 == 5 && reasons[0].1.contains("phone number or an email"),
            "{reasons:?}"
        );
        assert!(reasons[1].0 == 6 && reasons[1].1.contains("declares no products"), "{reasons:?}");
        assert!(
            reasons[2].1.contains("pudo_id is \"42\" on line 7 but \"43\" on line 8"),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|(l, r)| *l == 9 && r.contains("product_name is empty")),
            "{reasons:?}"
        );
    }

    #[test]
    fn jsonl_rows_are_read_and_bad_json_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "o.jsonl",
            "{\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T1\",\"weight\":500}\n\nnot json\n",
        );
        let (rows, errors) = read_rows(&p).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].item.weight.map(Weight::grams), Some(500));
        assert_eq!(errors[0].line, 3);
    }

    #[test]
    fn a_missing_column_is_a_format_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "o.csv", "ref,service_id\nPO-1,5\n");
        let err = read_rows(&p).err().unwrap().to_string();
        assert!(err.contains("no \"reference\" column"), "{err}");
    }
}
