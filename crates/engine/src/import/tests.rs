//! Import tests: reading and grouping rows, and whole imports against a scripted order desk
//! and a real SQLite store.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use async_trait::async_trait;
use waybill_domain::{
    CarrierError, Destination, Order, OrderParcel, PackageType, PointId, RegionStatus,
    TrackingNumber, Weight,
};
use waybill_store::{ImportJournal, OrderBook, SqliteStore};

use super::*;

fn read(ext: &str, text: &[u8]) -> (Vec<Planned>, rows::Source) {
    let mut source = rows::read(ext, text, &format!("o.{ext}")).unwrap();
    let (planned, _) = rows::group(&mut source);
    (planned, source)
}

fn refs(planned: &[Planned]) -> Vec<String> {
    planned.iter().map(|p| p.request.reference().to_string()).collect()
}

#[test]
fn csv_rows_group_into_orders_and_bad_rows_keep_line_numbers() {
    let (orders, source) = read(
        "csv",
        b"reference,service_id,merchant_tracking_number,weight\n\
          PO-1,5,TRK-1,1.5kg\n\
          PO-1,5,TRK-2,\n\
          PO-2,zero,TRK-3,\n\
          PO-3,5,TRK 4,\n\
          PO-4,5,TRK-1,\n\
          PO-5,5,TRK-5,900g\n",
    );
    assert_eq!(refs(&orders), ["PO-1", "PO-5"]);
    assert_eq!(orders[0].request.items().len(), 2);
    assert_eq!(orders[0].lines, [2, 3]);
    let lines: Vec<_> = source.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [4, 5, 6], "{:?}", source.errors);
    assert!(source.errors[2].reason.contains("also on line 2"), "{:?}", source.errors);
    assert_eq!(source.row_count, 6);
}

#[test]
fn an_order_with_one_bad_row_is_not_created_at_all() {
    // The case: the second parcel's weight is `heavy`.
    let (orders, source) = read(
        "csv",
        b"reference,service_id,merchant_tracking_number,weight\n\
          PO-1,5,TRK-1,1kg\n\
          PO-1,5,TRK-2,heavy\n\
          PO-2,5,TRK-3,\n",
    );
    assert_eq!(refs(&orders), ["PO-2"]);
    let reasons: Vec<(u64, &str)> =
        source.errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, 2);
    assert!(reasons[0].1.contains("order PO-1 is not created: its row on line 3"), "{reasons:?}");
    assert_eq!(reasons[1].0, 3);
    assert!(reasons[1].1.contains("heavy"), "{reasons:?}");
}

#[test]
fn optional_columns_make_full_orders_and_their_rules_hold() {
    let (orders, source) = read(
        "csv",
        b"reference,service_id,merchant_tracking_number,weight,customer_name,customer_phone,customer_email,pudo_id,region,address_first,zip,package_type,dimensions,product_name,hs_code,declared_value,currency,quantity\n\
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
    assert_eq!(refs(&orders), ["PO-1", "PO-2", "PO-7"], "{:?}", source.errors);
    let po1 = &orders[0].request;
    assert_eq!(
        po1.destination(),
        Some(&Destination::PickupPoint { id: PointId::new(42).unwrap() })
    );
    assert_eq!(po1.items()[0].products[0].quantity().get(), 2);
    assert_eq!(po1.items()[0].package_type, Some(PackageType::Fragile));
    assert_eq!(po1.items()[1].products[0].name().as_str(), "Socks");
    assert!(
        matches!(orders[1].request.destination(), Some(Destination::Home(h)) if h.region.as_str() == "Auckland")
    );
    assert!(orders[2].request.recipient().is_none(), "the spec's minimal row stays minimal");
    let reasons: Vec<(u64, &str)> =
        source.errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
    assert!(reasons[0].0 == 5 && reasons[0].1.contains("phone number or an email"), "{reasons:?}");
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
    let (orders, source) = read(
        "jsonl",
        b"{\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T1\",\"weight\":500}\n\nnot json\n",
    );
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].request.items()[0].weight.map(Weight::grams), Some(500));
    assert_eq!(source.errors[0].line, 3);
    assert_eq!(source.row_count, 2);
}

#[test]
fn a_missing_column_is_a_format_error() {
    let err = rows::read("csv", b"ref,service_id\nPO-1,5\n", "o.csv").err().unwrap().to_string();
    assert!(err.contains("no \"reference\" column"), "{err}");
}

#[test]
fn unknown_columns_and_keys_are_refused_naming_the_closest_known_one() {
    let err = rows::read(
        "csv",
        b"reference,service_id,merchant_tracking_number,weigth,colour\nPO-1,5,T1,5kg,red\n",
        "o.csv",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("unknown columns \"weigth\" (did you mean \"weight\"?), \"colour\""),
        "{err}"
    );
    let (orders, source) = read(
        "jsonl",
        b"{\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T1\",\"weigth\":500}\n\
          {\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T2\"}\n\
          {\"reference\":\"PO-2\",\"service_id\":5,\"merchant_tracking_number\":\"T3\",\"reason\":\"was bad\"}\n",
    );
    assert_eq!(refs(&orders), ["PO-2"], "`reason` is a known column; PO-1 is tainted");
    assert!(
        source.errors[0].reason.contains("unknown key \"weigth\" (did you mean \"weight\"?)"),
        "{:?}",
        source.errors
    );
    assert_eq!(source.errors.len(), 2);
}

#[test]
fn unnamed_and_repeated_columns_are_refused() {
    let err = |text: &[u8]| rows::read("csv", text, "o.csv").err().unwrap().to_string();
    let e = err(b"reference,service_id,merchant_tracking_number,\nPO-1,5,T1,\n");
    assert!(e.contains("column 4 of the CSV header has no name"), "{e}");
    let e =
        err(b"reference,service_id,weight,merchant_tracking_number,weight\nPO-1,5,1kg,T1,2kg\n");
    assert!(e.contains("names \"weight\" twice (columns 3 and 5)"), "{e}");
}

#[test]
fn a_byte_order_mark_is_skipped_in_csv_and_jsonl() {
    let (orders, source) =
        read("csv", b"\xEF\xBB\xBFreference,service_id,merchant_tracking_number\nPO-1,5,T1\n");
    assert_eq!((refs(&orders), source.errors.len()), (vec!["PO-1".to_owned()], 0));
    let (orders, source) = read(
        "jsonl",
        b"\xEF\xBB\xBF{\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T1\"}\n",
    );
    assert_eq!((refs(&orders), source.errors.len()), (vec!["PO-1".to_owned()], 0));
}

#[test]
fn an_invalid_utf8_line_is_reported_by_number_and_the_rest_imported() {
    let (orders, source) = read(
        "jsonl",
        b"{\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T1\"}\n\
          {\"reference\":\"PO-2\",\"service_id\":5,\"merchant_tracking_number\":\"T\xff2\"}\n\
          {\"reference\":\"PO-3\",\"service_id\":5,\"merchant_tracking_number\":\"T3\"}\n",
    );
    assert_eq!(refs(&orders), ["PO-1", "PO-3"]);
    assert_eq!(source.errors.len(), 1);
    assert_eq!(source.errors[0].line, 2);
    assert!(source.errors[0].reason.contains("line 2 is not valid UTF-8"), "{:?}", source.errors);
    let (orders, source) = read(
        "csv",
        b"reference,service_id,merchant_tracking_number\nPO-1,5,T1\nPO-2,5,T\xff2\nPO-3,5,T3\n",
    );
    assert_eq!(refs(&orders), ["PO-1", "PO-3"]);
    assert!(
        source.errors[0]
            .reason
            .contains("line 3 is not valid UTF-8 (column merchant_tracking_number)")
    );
}

#[test]
fn whitespace_around_a_jsonl_reference_is_refused_and_taints_its_order() {
    let (orders, source) = read(
        "jsonl",
        b"{\"reference\":\" PO-1 \",\"service_id\":5,\"merchant_tracking_number\":\"T1\"}\n\
          {\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T2\"}\n",
    );
    assert!(orders.is_empty());
    assert!(
        source.errors[0].reason.contains("leading or trailing whitespace"),
        "{:?}",
        source.errors
    );
}

/// An order desk whose answers are scripted per reference (then it creates normally).
#[derive(Default)]
struct ScriptedDesk {
    script: Mutex<HashMap<String, VecDeque<Result<(), CarrierError>>>>,
    created: Mutex<HashMap<String, Order>>,
    calls: Mutex<u64>,
}

impl ScriptedDesk {
    fn fail(&self, reference: &str, errors: Vec<CarrierError>) {
        self.script.lock().unwrap().insert(reference.into(), errors.into_iter().map(Err).collect());
    }
}

#[async_trait]
impl OrderDesk for ScriptedDesk {
    async fn create_order(&self, request: &OrderRequest) -> Result<Order, CarrierError> {
        *self.calls.lock().unwrap() += 1;
        let reference = request.reference().to_string();
        if let Some(Some(Err(e))) =
            self.script.lock().unwrap().get_mut(&reference).map(VecDeque::pop_front)
        {
            return Err(e);
        }
        let mut created = self.created.lock().unwrap();
        if let Some(order) = created.get(&reference) {
            return Ok(Order { duplicate: true, ..order.clone() });
        }
        let order = Order {
            reference: request.reference().clone(),
            tracking_number: TrackingNumber::parse(format!("STM-{reference}")).unwrap(),
            duplicate: false,
            region_status: RegionStatus::NotApplicable,
            parcels: request
                .items()
                .iter()
                .map(|i| OrderParcel {
                    item_id: Some(i.merchant_tracking_number.to_string()),
                    merchant_tracking_number: Some(i.merchant_tracking_number.clone()),
                    tracking_number: TrackingNumber::parse(format!(
                        "P-{}",
                        i.merchant_tracking_number
                    ))
                    .unwrap(),
                })
                .collect(),
        };
        created.insert(reference, order.clone());
        Ok(order)
    }

    async fn cancel_order(
        &self,
        _: &PartnerOrderRef,
        _: Option<String>,
    ) -> Result<(), CarrierError> {
        Ok(())
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    desk: Arc<ScriptedDesk>,
    store: Arc<SqliteStore>,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("w.db")).await.unwrap());
        Self { dir, desk: Arc::new(ScriptedDesk::default()), store }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    async fn import(&self, path: &Path, options: &ImportOptions) -> ImportReport {
        let desk: Arc<dyn OrderDesk> = self.desk.clone();
        let store: Arc<dyn Store> = self.store.clone();
        import_file(path, "main", desk, store, options).await.unwrap()
    }

    async fn parcels(&self, reference: &str) -> Vec<String> {
        let r = PartnerOrderRef::parse(reference).unwrap();
        self.store
            .order(Some("main"), &r)
            .await
            .unwrap()
            .map(|o| o.parcels.iter().map(|p| p.merchant_tracking_number.to_string()).collect())
            .unwrap_or_default()
    }
}

fn quick(deadline_ms: u64) -> ImportOptions {
    ImportOptions {
        concurrency: 4,
        retry: RetryBudget {
            deadline: Duration::from_millis(deadline_ms),
            attempt_timeout: Duration::from_secs(5),
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        rejects: None,
        progress: false,
    }
}

#[tokio::test]
async fn transient_failures_are_retried_and_what_outlasts_the_budget_is_not_yet() {
    let f = Fixture::new().await;
    let csv = "reference,service_id,merchant_tracking_number\nPO-1,5,A1\nPO-2,5,A2\nPO-3,5,A3\nPO-4,5,A4\n";
    let file = f.file("o.csv", csv);
    let unavailable =
        || CarrierError::Unavailable { status: 502, message: "<html>bad gateway</html>".into() };
    f.desk.fail(
        "PO-1",
        vec![
            CarrierError::RateLimited { retry_after: Some(Duration::from_millis(10)) },
            unavailable(),
            CarrierError::Transport { message: "connection reset".into() },
        ],
    );
    f.desk.fail("PO-2", (0..10_000).map(|_| unavailable()).collect());
    f.desk.fail(
        "PO-3",
        vec![CarrierError::Validation {
            message: "service 5 is closed".into(),
            fields: Default::default(),
        }],
    );
    let report = f.import(&file, &quick(300)).await;
    assert_eq!((report.created, report.orders), (2, 4), "{report:?}");
    assert_eq!(report.retries.by_kind.get("429"), Some(&1));
    assert_eq!(report.retries.by_kind.get("network"), Some(&1));
    assert!(report.retries.by_kind["5xx"] >= 2, "{report:?}");
    assert_eq!(report.not_yet.len(), 1);
    assert_eq!(report.not_yet[0].reference, "PO-2");
    assert!(report.not_yet[0].reason.contains("nothing to fix, re-run"), "{report:?}");
    assert_eq!(report.refused.len(), 1);
    assert!(report.refused[0].reason.contains("service 5 is closed"), "{report:?}");
    assert!(report.needs_fixing());

    // The re-run: PO-2's outage is over, PO-3 is still refused, the rest is done.
    f.desk.script.lock().unwrap().clear();
    let again = f.import(&file, &quick(300)).await;
    assert_eq!((again.created, again.already_done), (2, 2), "{again:?}");
    assert!(again.is_clean(), "{again:?}");
}

#[tokio::test]
async fn an_attempt_that_hangs_is_abandoned_and_its_replay_resolves_it() {
    /// Commits, then answers only after the attempt timeout (the sandbox's fault).
    struct Hangs(ScriptedDesk, Mutex<bool>);
    #[async_trait]
    impl OrderDesk for Hangs {
        async fn create_order(&self, request: &OrderRequest) -> Result<Order, CarrierError> {
            let order = self.0.create_order(request).await?;
            let first = std::mem::replace(&mut *self.1.lock().unwrap(), false);
            if first {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            Ok(order)
        }
        async fn cancel_order(
            &self,
            r: &PartnerOrderRef,
            why: Option<String>,
        ) -> Result<(), CarrierError> {
            self.0.cancel_order(r, why).await
        }
    }
    let f = Fixture::new().await;
    let file = f.file("o.csv", "reference,service_id,merchant_tracking_number\nPO-1,5,A1\n");
    let desk: Arc<dyn OrderDesk> = Arc::new(Hangs(ScriptedDesk::default(), Mutex::new(true)));
    let mut options = quick(5_000);
    options.retry.attempt_timeout = Duration::from_millis(100);
    let store: Arc<dyn Store> = f.store.clone();
    let report = import_file(&file, "main", desk, store, &options).await.unwrap();
    assert_eq!((report.created, report.duplicates), (0, 1), "{report:?}");
    assert_eq!(report.retries.by_kind.get("timeout"), Some(&1));
    assert_eq!(f.parcels("PO-1").await, ["A1"]);
}

#[tokio::test]
async fn the_fixed_re_run_creates_a_once_bad_order_whole() {
    let f = Fixture::new().await;
    let bad = f.file(
        "o.csv",
        "reference,service_id,merchant_tracking_number,weight\nPO-1,5,A1,1kg\nPO-1,5,A2,heavy\nPO-2,5,B1,\n",
    );
    let rejects = f.dir.path().join("rejects.csv");
    let options = ImportOptions { rejects: Some(rejects.clone()), ..quick(1_000) };
    let first = f.import(&bad, &options).await;
    assert_eq!(first.created, 1);
    assert_eq!(first.bad_rows.len(), 2);
    assert!(f.parcels("PO-1").await.is_empty(), "nothing of PO-1 was created");
    assert!(matches!(
        f.store.journal_get("main", &PartnerOrderRef::parse("PO-1").unwrap()).await.unwrap(),
        Some(JournalEntry::Failed { .. })
    ));
    assert_eq!(first.rejects_written, Some(2));
    let written = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "reference,service_id,merchant_tracking_number,weight,reason");
    assert!(lines[1].starts_with("PO-1,5,A1,1kg,line 2: order PO-1 is not created"), "{written}");
    assert!(lines[2].starts_with("PO-1,5,A2,heavy,\"line 3: weight"), "{written}");

    // The user fixes the rejects file in place and imports it as it is.
    std::fs::write(&rejects, written.replace("A2,heavy", "A2,2kg")).unwrap();
    let fixed = f.import(&rejects, &quick(1_000)).await;
    assert!(fixed.is_clean(), "{fixed:?}");
    assert_eq!(fixed.created, 1);
    assert_eq!(f.parcels("PO-1").await, ["A1", "A2"]);
    // And the original file, re-run, now creates nothing and refuses nothing but its bad row.
    let rerun = f.import(&bad, &quick(1_000)).await;
    assert_eq!((rerun.created, rerun.already_done), (0, 1), "{rerun:?}");
}

#[tokio::test]
async fn a_changed_order_under_a_done_reference_is_refused_and_changes_nothing() {
    let f = Fixture::new().await;
    let file = f.file("o.csv", "reference,service_id,merchant_tracking_number\nPO-1,3,A\n");
    assert_eq!(f.import(&file, &quick(1_000)).await.created, 1);
    let changed = f.file("p.csv", "reference,service_id,merchant_tracking_number\nPO-1,7,B\n");
    let calls = *f.desk.calls.lock().unwrap();
    let report = f.import(&changed, &quick(1_000)).await;
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert!(
        report.refused[0]
            .reason
            .contains("created with item A via service 3; this request has item B via service 7"),
        "{report:?}"
    );
    assert_eq!(*f.desk.calls.lock().unwrap(), calls, "the conflicting order was never sent");
    assert_eq!(f.parcels("PO-1").await, ["A"]);
    assert!(matches!(
        f.store.journal_get("main", &PartnerOrderRef::parse("PO-1").unwrap()).await.unwrap(),
        Some(JournalEntry::Done { .. })
    ));
}

#[tokio::test]
async fn the_rejects_file_must_not_be_the_input() {
    let f = Fixture::new().await;
    let file = f.file("o.csv", "reference,service_id,merchant_tracking_number\nPO-1,3,A\n");
    let options = ImportOptions { rejects: Some(file.clone()), ..quick(1_000) };
    let desk: Arc<dyn OrderDesk> = f.desk.clone();
    let store: Arc<dyn Store> = f.store.clone();
    let err = import_file(&file, "main", desk, store, &options).await.err().unwrap().to_string();
    assert!(err.contains("is the file being imported"), "{err}");
}
