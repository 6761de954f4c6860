//! The domain ports implemented by [`StarmileClient`]: catalogue, order desk, status feed.

use async_trait::async_trait;
use waybill_domain::{
    CarrierError, Catalog, ChangePage, Cursor, Order, OrderDesk, OrderRequest, PartnerOrderRef,
    RateCard, Service, StatusFeed,
};

use crate::{ChangesQuery, StarmileClient};

#[async_trait]
impl Catalog for StarmileClient {
    async fn services(&self) -> Result<Vec<Service>, CarrierError> {
        Ok(StarmileClient::services(self).await?)
    }

    async fn rates(&self) -> Result<Vec<RateCard>, CarrierError> {
        Ok(StarmileClient::rates(self).await?)
    }
}

#[async_trait]
impl OrderDesk for StarmileClient {
    async fn create_order(&self, request: &OrderRequest) -> Result<Order, CarrierError> {
        Ok(StarmileClient::create_order(self, request).await?)
    }

    async fn cancel_order(
        &self,
        reference: &PartnerOrderRef,
        reason: Option<String>,
    ) -> Result<(), CarrierError> {
        Ok(StarmileClient::cancel_order(self, reference, reason.as_deref()).await?)
    }
}

#[async_trait]
impl StatusFeed for StarmileClient {
    async fn changes(&self, since: Cursor, limit: u32) -> Result<ChangePage, CarrierError> {
        let query = ChangesQuery { limit, ..ChangesQuery::since(since) };
        Ok(StarmileClient::changes(self, &query).await?)
    }
}
