//! The domain port implemented by [`StarshipitClient`]: [`Tracker`], so the app can follow
//! first-leg shipments without naming StarShipIT.

use async_trait::async_trait;
use waybill_domain::{CarrierError, Shipment, TrackQuery, Tracker};

use crate::StarshipitClient;

#[async_trait]
impl Tracker for StarshipitClient {
    async fn track(&self, query: &TrackQuery) -> Result<Vec<Shipment>, CarrierError> {
        Ok(StarshipitClient::track(self, query).await?)
    }
}
