//! The commands that work against configured carriers and the store (everything but `demo`
//! and `sandbox`, which bring their own).

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use secrecy::SecretString;
use serde::Serialize;
use tokio::sync::watch;
use waybill_domain::{
    CarrierError, MerchantTrackingNumber, OrderItem, OrderRequest, PartnerOrderRef, RateCard,
    ServiceId, TrackQuery, TrackingNumber, TrackingStatus, Weight,
};
use waybill_starmile::StarmileClient;
use waybill_starshipit::StarshipitClient;

use crate::{
    cli::{Cli, Command, Failure, OrdersCommand},
    config::{Config, Resolved, ResolvedAccount},
    import,
    output::{Output, TIMELINE_HEADER, timeline_rows},
    store::{OrderFilter, SqliteStore, Store, StoredOrder},
    sync::{FeedAccount, SyncEngine, SyncOptions},
};

/// Turns a carrier error into a failure with the right exit code and the carrier named.
pub(crate) fn carrier_failure(who: &str, e: &CarrierError) -> Failure {
    let message = format!("{who}: {e}");
    match e {
        CarrierError::NotFound { .. } => Failure::not_found(message),
        CarrierError::Auth { .. }
        | CarrierError::Forbidden { .. }
        | CarrierError::Config { .. } => Failure::usage(message),
        _ => Failure::runtime(message),
    }
}

fn resolve(cli: &Cli) -> Result<Resolved, Failure> {
    let config = Config::load(&cli.config, true).map_err(|e| Failure::usage(e.to_string()))?;
    let mut resolved = config.resolve().map_err(|e| Failure::usage(e.to_string()))?;
    if let Some(db) = &cli.db {
        resolved.store_path.clone_from(db);
    }
    Ok(resolved)
}

fn pick_account<'a>(cli: &Cli, resolved: &'a Resolved) -> Result<&'a ResolvedAccount, Failure> {
    match &cli.account {
        Some(name) => resolved.accounts.iter().find(|a| &a.name == name).ok_or_else(|| {
            let names: Vec<&str> = resolved.accounts.iter().map(|a| a.name.as_str()).collect();
            Failure::usage(format!(
                "no Starmile account named {name:?}; configured: {}",
                names.join(", ")
            ))
        }),
        None => resolved
            .accounts
            .first()
            .ok_or_else(|| Failure::usage("no Starmile account configured")),
    }
}

/// Builds a Starmile client for an account.
pub(crate) fn starmile_client(account: &ResolvedAccount) -> Result<StarmileClient, Failure> {
    StarmileClient::builder(
        &account.base_url,
        account.client_id.clone(),
        account.client_secret.clone(),
    )
    .build()
    .map_err(|e| Failure::usage(format!("starmile account {}: {e}", account.name)))
}

/// Builds a StarShipIT client.
pub(crate) fn starshipit_client(
    base_url: &str,
    api_key: SecretString,
    subscription_key: SecretString,
    per_second: u32,
) -> Result<StarshipitClient, Failure> {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    StarshipitClient::builder(base_url, api_key, subscription_key)
        .rate_limit_per_second(rate)
        .build()
        .map_err(|e| Failure::usage(format!("starshipit: {e}")))
}

pub(crate) async fn open_store(resolved: &Resolved) -> Result<Arc<SqliteStore>, Failure> {
    SqliteStore::open(&resolved.store_path).await.map(Arc::new).map_err(|e| {
        Failure::runtime(format!("cannot open the store at {}: {e}", resolved.store_path.display()))
    })
}

fn store_failure(e: impl std::fmt::Display) -> Failure {
    Failure::runtime(format!("store: {e}"))
}

/// `waybill config check`.
pub(crate) fn config_check(cli: &Cli, out: &mut Output) -> Result<(), Failure> {
    let resolved = resolve(cli)?;
    #[derive(Serialize)]
    struct Summary<'a> {
        ok: bool,
        store: String,
        accounts: Vec<&'a str>,
        starshipit: bool,
    }
    let summary = Summary {
        ok: true,
        store: resolved.store_path.display().to_string(),
        accounts: resolved.accounts.iter().map(|a| a.name.as_str()).collect(),
        starshipit: resolved.starshipit.is_some(),
    };
    if out.json {
        out.json_value(&summary);
    } else {
        out.line(format!(
            "configuration ok: {} Starmile account(s) ({}), StarShipIT {}, store {}",
            summary.accounts.len(),
            summary.accounts.join(", "),
            if summary.starshipit { "configured" } else { "not configured" },
            summary.store
        ));
    }
    Ok(())
}

/// Every other command.
pub(crate) async fn run(cli: &Cli, out: &mut Output) -> Result<(), Failure> {
    let resolved = resolve(cli)?;
    let account = pick_account(cli, &resolved)?;
    let who = format!("starmile account {}", account.name);
    match &cli.command {
        Command::Services => {
            let client = starmile_client(account)?;
            let services = client.services().await.map_err(|e| carrier_failure(&who, &e.into()))?;
            if out.json {
                out.json_value(&services);
            } else {
                let rows = services
                    .iter()
                    .map(|s| {
                        vec![
                            s.id.to_string(),
                            s.name.clone(),
                            s.family.clone().unwrap_or_default(),
                            s.flow_key.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                out.table(&["id", "name", "family", "flow"], rows);
            }
        }
        Command::Rates => {
            let client = starmile_client(account)?;
            let rates = client.rates().await.map_err(|e| carrier_failure(&who, &e.into()))?;
            if out.json {
                out.json_value(&rates);
            } else {
                out.table(
                    &["service", "corridor", "currency", "tiers"],
                    rates.iter().map(rate_row).collect(),
                );
            }
        }
        Command::Quote { service, weight } => {
            let service = ServiceId::new(*service).map_err(|e| Failure::usage(e.to_string()))?;
            let weight: Weight = weight
                .parse()
                .map_err(|e: waybill_domain::ParseError| Failure::usage(e.to_string()))?;
            let client = starmile_client(account)?;
            let rates = client.rates().await.map_err(|e| carrier_failure(&who, &e.into()))?;
            let cards: Vec<&RateCard> =
                rates.iter().filter(|c| c.service_id() == service).collect();
            if cards.is_empty() {
                return Err(Failure::not_found(format!(
                    "service {service} has no rate card for this account; see `waybill rates`"
                )));
            }
            #[derive(Serialize)]
            struct Quote {
                service_id: ServiceId,
                corridor: String,
                weight_grams: u32,
                price: Option<waybill_domain::Money>,
                error: Option<String>,
            }
            let quotes: Vec<Quote> = cards
                .iter()
                .map(|c| {
                    let q = c.quote(weight);
                    Quote {
                        service_id: service,
                        corridor: corridor(c),
                        weight_grams: weight.grams(),
                        error: q.as_ref().err().map(ToString::to_string),
                        price: q.ok(),
                    }
                })
                .collect();
            if out.json {
                out.json_value(&quotes);
            } else {
                let rows = quotes
                    .iter()
                    .map(|q| {
                        vec![
                            q.service_id.to_string(),
                            q.corridor.clone(),
                            weight.to_string(),
                            q.price.map_or_else(
                                || q.error.clone().unwrap_or_default(),
                                |p| p.to_string(),
                            ),
                        ]
                    })
                    .collect();
                out.table(&["service", "corridor", "weight", "price"], rows);
            }
        }
        Command::Orders(cmd) => orders(cmd, &resolved, account, out).await?,
        Command::Track { number, order } => {
            let Some(s) = &resolved.starshipit else {
                return Err(Failure::usage(
                    "StarShipIT is not configured: add a [starshipit] table and its keys",
                ));
            };
            let client = starshipit_client(
                &s.base_url,
                s.api_key.clone(),
                s.subscription_key.clone(),
                s.rate_limit_per_second,
            )?;
            let query = if *order {
                TrackQuery::OrderNumber(number.clone())
            } else {
                TrackQuery::TrackingNumber(
                    TrackingNumber::parse(number.clone())
                        .map_err(|e| Failure::usage(e.to_string()))?,
                )
            };
            let shipments =
                client.track(&query).await.map_err(|e| carrier_failure("starshipit", &e.into()))?;
            if out.json {
                out.json_value(&shipments);
            } else {
                for s in &shipments {
                    out.line(format!(
                        "{} ({} {}) — {}",
                        s.tracking_number,
                        s.carrier_name.as_deref().unwrap_or("unknown carrier"),
                        s.carrier_service.as_deref().unwrap_or(""),
                        s.status
                    ));
                    let t = waybill_domain::Timeline::from_events(s.events.clone());
                    out.table(&TIMELINE_HEADER, timeline_rows(&t));
                }
            }
        }
        Command::Timeline { parcel } => {
            let store = open_store(&resolved).await?;
            let found = store.parcel_timeline(parcel).await.map_err(store_failure)?;
            let Some(p) = found else {
                return Err(Failure::not_found(format!(
                    "no parcel known by {parcel:?}; run `waybill sync` or check the number"
                )));
            };
            if out.json {
                out.json_value(&p);
            } else {
                out.line(format!(
                    "{} · order {} · Starmile {} · {}",
                    p.parcel.merchant_tracking_number,
                    p.reference,
                    p.parcel.tracking_number.as_ref().map_or("-", TrackingNumber::as_str),
                    p.timeline.current_status()
                ));
                out.table(&TIMELINE_HEADER, timeline_rows(&p.timeline));
            }
        }
        Command::Sync { once } => sync(&resolved, *once, out).await?,
        Command::Demo(_)
        | Command::Sandbox(_)
        | Command::Config(_)
        | Command::Serve { .. }
        | Command::Openapi => {}
    }
    Ok(())
}

fn corridor(c: &RateCard) -> String {
    format!(
        "{} → {}",
        c.origin(),
        c.destination().map_or_else(|| "any".to_string(), |d| d.to_string())
    )
}

fn rate_row(c: &RateCard) -> Vec<String> {
    let tiers: Vec<String> =
        c.tiers().iter().map(|t| format!("≤{}: {:.2}", t.max_weight, t.price.amount())).collect();
    vec![c.service_id().to_string(), corridor(c), c.currency().to_string(), tiers.join(", ")]
}

fn order_rows(orders: &[StoredOrder]) -> Vec<Vec<String>> {
    orders
        .iter()
        .map(|o| {
            vec![
                o.reference.to_string(),
                o.account.clone(),
                o.service_id.map(|s| s.to_string()).unwrap_or_default(),
                o.tracking_number.as_ref().map(ToString::to_string).unwrap_or_default(),
                o.parcels.len().to_string(),
                o.status.to_string(),
            ]
        })
        .collect()
}

async fn orders(
    cmd: &OrdersCommand,
    resolved: &Resolved,
    account: &ResolvedAccount,
    out: &mut Output,
) -> Result<(), Failure> {
    let who = format!("starmile account {}", account.name);
    match cmd {
        OrdersCommand::Create { service, reference, items } => {
            let usage = |e: &dyn std::fmt::Display| Failure::usage(e.to_string());
            let service = ServiceId::new(*service).map_err(|e| usage(&e))?;
            let reference = PartnerOrderRef::parse(reference.clone()).map_err(|e| usage(&e))?;
            let items = items
                .iter()
                .map(|i| MerchantTrackingNumber::parse(i.clone()).map(OrderItem::new))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| usage(&e))?;
            let request = OrderRequest::new(service, reference, items).map_err(|e| usage(&e))?;
            let store = open_store(resolved).await?;
            let client = starmile_client(account)?;
            let order = client
                .create_order(&request)
                .await
                .map_err(|e| carrier_failure(&who, &e.into()))?;
            store.save_order(&account.name, &request, &order).await.map_err(store_failure)?;
            if out.json {
                out.json_value(&order);
            } else {
                out.line(format!(
                    "order {} {} as {}",
                    order.reference,
                    if order.duplicate { "already existed (replay)" } else { "created" },
                    order.tracking_number
                ));
                let rows = order
                    .parcels
                    .iter()
                    .map(|p| {
                        vec![
                            p.merchant_tracking_number
                                .as_ref()
                                .map(ToString::to_string)
                                .unwrap_or_default(),
                            p.tracking_number.to_string(),
                        ]
                    })
                    .collect();
                out.table(&["merchant tracking number", "starmile tracking number"], rows);
            }
        }
        OrdersCommand::Import { file, concurrency } => {
            let store = open_store(resolved).await?;
            let client = starmile_client(account)?;
            let report =
                import::import_file(file, &account.name, Arc::new(client), store, *concurrency)
                    .await
                    .map_err(|e| match e {
                        import::ImportError::Store(s) => store_failure(s),
                        other => Failure::usage(other.to_string()),
                    })?;
            if out.json {
                out.json_value(&report);
            } else {
                out.line(format!(
                    "{} rows: {} orders created, {} already at Starmile, {} done by an earlier run, {} refused, {} bad rows",
                    report.rows,
                    report.created,
                    report.duplicates,
                    report.already_done,
                    report.failed_orders.len(),
                    report.bad_rows.len()
                ));
                for e in report.bad_rows.iter().chain(&report.failed_orders) {
                    out.line(format!("  line {}: {}", e.line, e.reason));
                }
            }
            if !report.is_clean() {
                return Err(Failure {
                    code: 4,
                    message: format!(
                        "{} bad rows and {} refused orders in {}; fix them and re-run (done orders are skipped)",
                        report.bad_rows.len(),
                        report.failed_orders.len(),
                        file.display()
                    ),
                });
            }
        }
        OrdersCommand::List { status, service, after, limit } => {
            let status = status
                .as_deref()
                .map(str::parse::<TrackingStatus>)
                .transpose()
                .map_err(|e| Failure::usage(e.to_string()))?;
            let service = service
                .map(ServiceId::new)
                .transpose()
                .map_err(|e| Failure::usage(e.to_string()))?;
            let after = after
                .clone()
                .map(PartnerOrderRef::parse)
                .transpose()
                .map_err(|e| Failure::usage(e.to_string()))?;
            let store = open_store(resolved).await?;
            let filter =
                OrderFilter { account: None, status, service_id: service, after, limit: *limit };
            let orders = store.list_orders(&filter).await.map_err(store_failure)?;
            if out.json {
                out.json_value(&orders);
            } else {
                out.table(
                    &["reference", "account", "service", "starmile number", "parcels", "status"],
                    order_rows(&orders),
                );
                if orders.len() as u32 == *limit
                    && let Some(last) = orders.last()
                {
                    out.line(format!("more: waybill orders list --after {}", last.reference));
                }
            }
        }
        OrdersCommand::Show { reference } => {
            let reference = PartnerOrderRef::parse(reference.clone())
                .map_err(|e| Failure::usage(e.to_string()))?;
            let store = open_store(resolved).await?;
            let Some(order) = store.order(None, &reference).await.map_err(store_failure)? else {
                return Err(Failure::not_found(format!(
                    "no stored order {reference}; see `waybill orders list`"
                )));
            };
            if out.json {
                out.json_value(&order);
            } else {
                out.table(
                    &["reference", "account", "service", "starmile number", "parcels", "status"],
                    order_rows(std::slice::from_ref(&order)),
                );
                let rows = order
                    .parcels
                    .iter()
                    .map(|p| {
                        vec![
                            p.merchant_tracking_number.to_string(),
                            p.tracking_number.as_ref().map(ToString::to_string).unwrap_or_default(),
                            p.status.to_string(),
                        ]
                    })
                    .collect();
                out.table(
                    &["merchant tracking number", "starmile tracking number", "status"],
                    rows,
                );
            }
        }
        OrdersCommand::Cancel { reference, reason } => {
            let reference = PartnerOrderRef::parse(reference.clone())
                .map_err(|e| Failure::usage(e.to_string()))?;
            let client = starmile_client(account)?;
            client
                .cancel_order(&reference, reason.as_deref())
                .await
                .map_err(|e| carrier_failure(&who, &e.into()))?;
            if out.json {
                out.json_value(&serde_json::json!({ "reference": reference, "cancelled": true }));
            } else {
                out.line(format!(
                    "order {reference} cancelled; the pool will report it on the next sync"
                ));
            }
        }
    }
    Ok(())
}

/// The StarShipIT client of a resolved configuration, when one is configured.
pub(crate) fn tracker_client(resolved: &Resolved) -> Result<Option<StarshipitClient>, Failure> {
    resolved
        .starshipit
        .as_ref()
        .map(|s| {
            starshipit_client(
                &s.base_url,
                s.api_key.clone(),
                s.subscription_key.clone(),
                s.rate_limit_per_second,
            )
        })
        .transpose()
}

/// The sync engine's options from the `[sync]` settings.
pub(crate) fn sync_options(resolved: &Resolved) -> SyncOptions {
    SyncOptions {
        page_size: resolved.sync.page_size,
        refresh_batch: resolved.sync.refresh_batch,
        poll_interval: Duration::from_secs(resolved.sync.poll_interval_seconds.max(1)),
        ..SyncOptions::default()
    }
}

/// Builds the sync engine for a resolved configuration.
fn engine(resolved: &Resolved, store: Arc<SqliteStore>) -> Result<SyncEngine, Failure> {
    let mut accounts = Vec::new();
    for a in &resolved.accounts {
        accounts.push(FeedAccount { name: a.name.clone(), feed: Arc::new(starmile_client(a)?) });
    }
    let tracker =
        tracker_client(resolved)?.map(|t| Arc::new(t) as Arc<dyn waybill_domain::Tracker>);
    Ok(SyncEngine::new(store, accounts, tracker, sync_options(resolved)))
}

async fn sync(resolved: &Resolved, once: bool, out: &mut Output) -> Result<(), Failure> {
    let store = open_store(resolved).await?;
    let engine = engine(resolved, store)?;
    let (tx, rx) = watch::channel(false);
    // Ctrl-C or SIGTERM: finish the current page, commit, exit.
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
    });
    let result = if once { engine.run_once(&rx).await } else { engine.run(rx).await };
    let report = result.map_err(|e| match e {
        crate::sync::SyncError::Carrier { account, source } => carrier_failure(&account, &source),
        crate::sync::SyncError::Store(s) => store_failure(s),
    })?;
    if out.json {
        out.json_value(&report);
    } else {
        out.line(format!(
            "synced: {} pages, {} new pool rows, {} parcels refreshed, {} new tracking events, {} lookups to retry",
            report.pages, report.pool_rows, report.refreshed, report.tracking_events, report.refresh_errors
        ));
    }
    Ok(())
}

/// `waybill serve`.
pub(crate) async fn serve(
    cli: &Cli,
    listen: Option<&str>,
    out: &mut Output,
) -> Result<(), Failure> {
    let config = Config::load(&cli.config, true).map_err(|e| Failure::usage(e.to_string()))?;
    let serve = config.resolve_serve(listen).map_err(|e| Failure::usage(e.to_string()))?;
    let resolved = resolve(cli)?;
    crate::serve::run(&resolved, serve, out).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
