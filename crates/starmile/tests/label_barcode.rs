//! The sandbox's label is a real PDF: `pdftoppm` (Debian `poppler-utils`) renders it and
//! `zbarimg` (Debian `zbar-tools`) reads the Code 128 barcode back as the parcel's
//! Starmile tracking number. Both programs are required: `cargo xtask ci` installs them;
//! elsewhere run `apt-get install poppler-utils zbar-tools`. The test fails (never skips)
//! without them.

mod common;

use std::process::Command;

use waybill_domain::{LabelTarget, MerchantTrackingNumber};

fn require(program: &str, package: &str) {
    let found = Command::new(program).arg("-v").output().is_ok();
    assert!(found, "`{program}` is missing: install it with `apt-get install {package}` (Debian)");
}

#[tokio::test]
async fn the_label_renders_and_its_barcode_decodes_to_the_parcel_number() {
    require("pdftoppm", "poppler-utils");
    require("zbarimg", "zbar-tools");
    let sandbox = common::start(common::config()).await;
    let client = common::client(&sandbox, 0);
    let order =
        client.create_order(&common::order("PO-LABEL", &["TRK-L1", "TRK-L2"])).await.unwrap();
    let second = &order.parcels[1];
    let pdf = client
        .label(&LabelTarget::MerchantTracking(MerchantTrackingNumber::parse("TRK-L2").unwrap()))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("waybill-label-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pdf_path = dir.join("label.pdf");
    std::fs::write(&pdf_path, pdf.as_bytes()).unwrap();

    // A6 at 150 dpi: 620 × 874 pixels.
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "150", "-singlefile"])
        .arg(&pdf_path)
        .arg(dir.join("label"))
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftoppm failed: {}", String::from_utf8_lossy(&out.stderr));
    let png = dir.join("label.png");
    let info = Command::new("pdfinfo").arg(&pdf_path).output().unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("297.64 x 419.53 pts"), "an A6 page: {text}");
    let out = Command::new("zbarimg").args(["--quiet", "--raw"]).arg(&png).output().unwrap();
    assert!(
        out.status.success(),
        "zbarimg found no barcode: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(decoded, second.tracking_number.as_str());
    std::fs::remove_dir_all(&dir).ok();
    sandbox.shutdown().await;
}
