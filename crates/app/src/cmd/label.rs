//! `waybill label NUMBER -o FILE.pdf`: downloads a parcel's label from Starmile (by merchant
//! tracking number, or `--parcel-id` for a Starmile parcel number, or `--order` for an
//! order's own label by its Starmile number); `--all` takes an order reference and writes
//! one `<merchant tracking number>.pdf` per stored parcel into the `-o` directory.

use std::path::{Path, PathBuf};

use waybill_domain::{
    LabelTarget, MerchantTrackingNumber, ParcelDesk, PartnerOrderRef, TrackingNumber,
};
use waybill_store::OrderBook;

use crate::{carriers, context::Context, exit::Failure, output::Output};

/// `waybill label` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A merchant tracking number (default), a Starmile number (`--parcel-id`, `--order`),
    /// or an order reference (`--all`).
    pub number: String,
    /// Where to write: a PDF file, or a directory with `--all`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// NUMBER is a Starmile parcel tracking number.
    #[arg(long, conflicts_with_all = ["order", "all"])]
    pub parcel_id: bool,
    /// NUMBER is a Starmile order tracking number: the order's own label.
    #[arg(long, conflicts_with = "all")]
    pub order: bool,
    /// NUMBER is an order reference: every stored parcel's label, one file each.
    #[arg(long)]
    pub all: bool,
}

/// Downloads and writes the label(s).
///
/// # Errors
/// Usage, store (for `--all`), configuration, carrier or file-system failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let usage = |e: waybill_domain::ParseError| Failure::usage(e.to_string());
    let targets: Vec<(LabelTarget, PathBuf)> = if args.all {
        let reference = PartnerOrderRef::parse(args.number.clone()).map_err(usage)?;
        let store = ctx.existing_store().await?;
        let Some(order) = store.order(None, &reference).await.map_err(Failure::store)? else {
            return Err(Failure::not_found(format!(
                "no stored order {reference}; see `waybill orders list`"
            )));
        };
        std::fs::create_dir_all(&args.output).map_err(|e| write_failure(&args.output, &e))?;
        order
            .parcels
            .iter()
            .map(|p| {
                let file = args
                    .output
                    .join(format!("{}.pdf", safe_name(p.merchant_tracking_number.as_str())));
                (LabelTarget::MerchantTracking(p.merchant_tracking_number.clone()), file)
            })
            .collect()
    } else if args.parcel_id || args.order {
        let number = TrackingNumber::parse(args.number.clone()).map_err(usage)?;
        let target =
            if args.order { LabelTarget::Order(number) } else { LabelTarget::Parcel(number) };
        vec![(target, args.output.clone())]
    } else {
        let number = MerchantTrackingNumber::parse(args.number.clone()).map_err(usage)?;
        vec![(LabelTarget::MerchantTracking(number), args.output.clone())]
    };
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let mut written = Vec::new();
    for (target, file) in targets {
        let pdf = ParcelDesk::label(&client, &target)
            .await
            .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
        std::fs::write(&file, pdf.as_bytes()).map_err(|e| write_failure(&file, &e))?;
        written.push((file, pdf.as_bytes().len()));
    }
    if out.json {
        let files: Vec<_> = written
            .iter()
            .map(|(f, n)| serde_json::json!({ "file": f.display().to_string(), "bytes": n }))
            .collect();
        out.json_value(&serde_json::json!({ "labels": files }));
    } else {
        for (file, bytes) in &written {
            out.line(format!("wrote {} ({bytes} bytes)", file.display()));
        }
    }
    Ok(())
}

fn write_failure(path: &Path, e: &std::io::Error) -> Failure {
    Failure::runtime(format!("cannot write {}: {e}", path.display()))
}

/// A merchant tracking number as a file name: `/` and `\` become `_`.
fn safe_name(s: &str) -> String {
    s.replace(['/', '\\'], "_")
}
