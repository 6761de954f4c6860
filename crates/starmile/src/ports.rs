//! The domain ports implemented by [`StarmileClient`]: catalogue, order desk, parcel desk
//! (parcel changes and labels), status feed.

use async_trait::async_trait;
use waybill_domain::{
    CarrierError, Catalog, ChangePage, Cursor, LabelPdf, LabelTarget, MerchantTrackingNumber,
    Order, OrderDesk, OrderItem, OrderParcel, OrderRequest, ParcelCancellation, ParcelChanges,
    ParcelDesk, PartnerOrderRef, RateCard, Service, SplitOrder, StatusFeed,
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

#[async_trait]
impl ParcelDesk for StarmileClient {
    async fn update_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        changes: &ParcelChanges,
    ) -> Result<OrderParcel, CarrierError> {
        Ok(StarmileClient::update_parcel(self, order, parcel, changes).await?)
    }

    async fn add_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &OrderItem,
    ) -> Result<OrderParcel, CarrierError> {
        Ok(StarmileClient::add_parcel(self, order, parcel).await?)
    }

    async fn cancel_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        reason: Option<String>,
    ) -> Result<ParcelCancellation, CarrierError> {
        Ok(StarmileClient::cancel_parcel(self, order, parcel, reason.as_deref()).await?)
    }

    async fn split_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        new_reference: &PartnerOrderRef,
        reason: Option<String>,
    ) -> Result<SplitOrder, CarrierError> {
        Ok(StarmileClient::split_parcel(self, order, parcel, new_reference, reason.as_deref())
            .await?)
    }

    async fn label(&self, target: &LabelTarget) -> Result<LabelPdf, CarrierError> {
        Ok(StarmileClient::label(self, target).await?)
    }
}
