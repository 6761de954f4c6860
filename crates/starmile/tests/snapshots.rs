//! `insta` snapshots of decoded domain values from a deterministic sandbox (fixed seed,
//! fixed epoch, frozen clock).

mod common;

use waybill_domain::Cursor;
use waybill_starmile::{ChangesQuery, sandbox::SandboxConfig};

#[tokio::test]
async fn catalogue_order_and_pool_page_decode_to_these_domain_values() {
    let config =
        SandboxConfig { preload_orders: 3, unknown_vocabulary_rate: 0.0, ..common::config() };
    let sandbox = common::start(config).await;
    let client = common::client(&sandbox, 0);

    insta::assert_yaml_snapshot!("services", client.services().await.unwrap());
    insta::assert_yaml_snapshot!("rates", client.rates().await.unwrap());
    let order = client.create_order(&common::order("PO-10294", &["TRK-1", "TRK-2"])).await.unwrap();
    insta::assert_yaml_snapshot!("order", order);
    let page = client
        .changes(&ChangesQuery { limit: 20, ..ChangesQuery::since(Cursor(0)) })
        .await
        .unwrap();
    insta::assert_yaml_snapshot!("pool_page", page);
    sandbox.shutdown().await;
}
