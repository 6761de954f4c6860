//! `waybill webhooks deliveries|redeliver`: the outbound webhook delivery log, and sending
//! one delivery again. Deliveries are written by the store in the transaction that changed a
//! parcel's status (see `waybill_store::Outbox`) and sent by `serve` and `sync`; these
//! commands need only the store (and, to redeliver, the subscription's secret).

use waybill_domain::MerchantTrackingNumber;
use waybill_store::{Delivery, DeliveryFilter, DeliveryState, Outbox};

use crate::{context::Context, exit::Failure, output::Output};

/// `waybill webhooks …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// List outbound webhook deliveries, newest first: id, subscription, parcel, the change,
    /// state, attempts and the last answer (`--json`: whole deliveries).
    #[command(
        after_help = "Examples:\n  waybill webhooks deliveries\n  waybill webhooks deliveries --state failed --subscription erp\n  waybill webhooks deliveries --parcel TRK-1001 --json | jq '.[0].last_error'"
    )]
    Deliveries(DeliveriesArgs),
    /// Send one delivery again now (delivered, failed or pending), with its retry time
    /// restarted; prints how the attempt went.
    #[command(
        after_help = "Examples:\n  waybill webhooks redeliver 42\n  waybill webhooks deliveries --state failed --json | jq -r '.[].id' | xargs -n1 waybill webhooks redeliver"
    )]
    Redeliver(RedeliverArgs),
}

/// `waybill webhooks deliveries` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DeliveriesArgs {
    /// Only deliveries in this state: pending, delivered or failed.
    #[arg(long, value_parser = parse_state)]
    pub state: Option<DeliveryState>,
    /// Only this subscription's.
    #[arg(long, value_name = "NAME")]
    pub subscription: Option<String>,
    /// Only this parcel's (its merchant tracking number).
    #[arg(long, value_name = "NUMBER")]
    pub parcel: Option<String>,
    /// Only deliveries older than this id (the next page: the last id shown).
    #[arg(long, value_name = "ID")]
    pub before: Option<u64>,
    /// At most this many (1–1000).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: u32,
}

/// `waybill webhooks redeliver` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RedeliverArgs {
    /// The delivery's id (from `waybill webhooks deliveries`).
    pub id: u64,
}

fn parse_state(s: &str) -> Result<DeliveryState, String> {
    s.parse()
}

/// Runs a webhooks subcommand.
///
/// # Errors
/// Bad arguments, a store failure, or (redeliver) a delivery that cannot be sent.
pub async fn run(ctx: &Context, command: &Command, out: &mut Output) -> Result<(), Failure> {
    match command {
        Command::Deliveries(args) => deliveries(ctx, args, out).await,
        Command::Redeliver(args) => redeliver(ctx, args, out).await,
    }
}

async fn deliveries(ctx: &Context, args: &DeliveriesArgs, out: &mut Output) -> Result<(), Failure> {
    if !(1..=DeliveryFilter::MAX_LIMIT).contains(&args.limit) {
        return Err(Failure::usage(format!(
            "--limit {} is out of range: list 1 to {} deliveries at a time",
            args.limit,
            DeliveryFilter::MAX_LIMIT
        )));
    }
    let parcel = args
        .parcel
        .as_deref()
        .map(MerchantTrackingNumber::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("--parcel: {e}")))?;
    let store = ctx.existing_store().await?;
    let filter = DeliveryFilter {
        subscription: args.subscription.clone(),
        state: args.state,
        parcel,
        before: args.before,
        limit: args.limit,
    };
    let listed = store.deliveries(&filter).await.map_err(Failure::store)?;
    if out.json {
        out.json_value(&listed);
        return Ok(());
    }
    if listed.is_empty() {
        let filtered = args.state.is_some()
            || args.subscription.is_some()
            || args.parcel.is_some()
            || args.before.is_some();
        out.line(if filtered {
            "no webhook deliveries match"
        } else {
            "no webhook deliveries yet: add [[outbound_webhooks]] to the configuration; `serve` and `sync` send one for every parcel status change"
        });
        return Ok(());
    }
    let rows = listed.iter().map(row).collect();
    out.table(
        &["ID", "SUBSCRIPTION", "PARCEL", "CHANGE", "STATE", "ATTEMPTS", "LAST ANSWER"],
        rows,
    );
    if listed.len() as u64 == u64::from(args.limit)
        && let Some(last) = listed.last()
    {
        let mut next = format!("more: waybill webhooks deliveries --before {}", last.id);
        if let Some(state) = args.state {
            next.push_str(&format!(" --state {state}"));
        }
        if let Some(s) = &args.subscription {
            next.push_str(&format!(" --subscription {s}"));
        }
        if let Some(p) = &args.parcel {
            next.push_str(&format!(" --parcel {p}"));
        }
        out.note(next);
    }
    Ok(())
}

fn row(d: &Delivery) -> Vec<String> {
    let c = &d.change;
    let last = match (&d.last_status_code, &d.last_error, d.state) {
        (_, Some(error), _) => one_line(error),
        (Some(code), None, _) => format!("HTTP {code}"),
        (None, None, DeliveryState::Pending) => format!("due {:.0}", d.next_attempt_at),
        (None, None, _) => "-".to_owned(),
    };
    vec![
        d.id.to_string(),
        d.subscription.clone(),
        c.merchant_tracking_number.to_string(),
        format!("{} → {}", c.previous_status, c.status),
        d.state.to_string(),
        d.attempts.to_string(),
        last,
    ]
}

/// Text from outside (a receiver's answer) on one line, control characters as spaces.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

async fn redeliver(ctx: &Context, args: &RedeliverArgs, out: &mut Output) -> Result<(), Failure> {
    let store = ctx.existing_store().await?;
    let Some(sender) = ctx.webhook_sender(&store)? else {
        return Err(Failure::config(
            "no [[outbound_webhooks]] in the configuration: redelivering needs the subscription's url and secret",
        ));
    };
    use waybill_engine::outbound::RedeliverError as E;
    let delivery = sender.redeliver(args.id).await.map_err(|e| match e {
        E::NotFound(_) => Failure::not_found(e.to_string()),
        E::SubscriptionRemoved { .. } | E::Busy(_) => Failure::usage(e.to_string()),
        E::Store(s) => Failure::store(s),
    })?;
    if out.json {
        out.json_value(&delivery);
        return Ok(());
    }
    match delivery.state {
        DeliveryState::Delivered => out.line(format!(
            "delivery {} delivered to {} (HTTP {}, attempt {})",
            delivery.id,
            delivery.subscription,
            delivery.last_status_code.unwrap_or_default(),
            delivery.attempts
        )),
        state => out.line(format!(
            "delivery {} not delivered ({}): {}; it is {state}{}",
            delivery.id,
            delivery.subscription,
            delivery.last_error.as_deref().map_or_else(String::new, one_line),
            if state == DeliveryState::Pending {
                format!(", retried from {:.0}", delivery.next_attempt_at)
            } else {
                String::new()
            }
        )),
    }
    Ok(())
}
