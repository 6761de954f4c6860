//! The catalogue, a Starmile capability: the services a credential may order
//! (`GET /api/v1/services`) and their rate cards (`GET /api/v1/rates`), decoded into domain
//! [`Service`]s and [`RateCard`]s.

use waybill_domain::{
    CountryCode, Currency, Money, RateCard, RateTier, Service, ServiceId, Weight,
};

use crate::{Error, StarmileClient, error::bad, transport::Call, wire};

impl StarmileClient {
    /// The services this credential may order (`GET /api/v1/services`).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`], [`Error::Forbidden`] (no `catalogue:read`), transient
    /// errors after retries, [`Error::Decode`].
    pub async fn services(&self) -> Result<Vec<Service>, Error> {
        let rows: wire::Data<Vec<wire::ServiceRow>> =
            self.call_json(Call::get("/api/v1/services")).await?;
        rows.data.into_iter().map(service_from_wire).collect()
    }

    /// The rate cards of those services, one per service and corridor (`GET /api/v1/rates`).
    ///
    /// # Errors
    /// As [`StarmileClient::services`]; [`Error::Decode`] for a card whose tiers are not
    /// ascending or mix currencies.
    pub async fn rates(&self) -> Result<Vec<RateCard>, Error> {
        let rows: wire::Data<Vec<wire::RateRow>> =
            self.call_json(Call::get("/api/v1/rates")).await?;
        rows.data.into_iter().map(rate_from_wire).collect()
    }
}

pub(crate) fn service_from_wire(row: wire::ServiceRow) -> Result<Service, Error> {
    Ok(Service {
        id: ServiceId::new(row.id).map_err(|e| bad("service id", e))?,
        name: row.name,
        flow_key: row.flow_key,
        family: row.family,
    })
}

pub(crate) fn rate_from_wire(row: wire::RateRow) -> Result<RateCard, Error> {
    let service = ServiceId::new(row.service_id).map_err(|e| bad("rate service_id", e))?;
    let context = |what: &str| format!("rate of service {service} {what}");
    let currency = Currency::parse(&row.currency).map_err(|e| bad(&context("currency"), e))?;
    let origin = CountryCode::parse(&row.origin).map_err(|e| bad(&context("origin"), e))?;
    let destination = row
        .destination
        .as_deref()
        .map(CountryCode::parse)
        .transpose()
        .map_err(|e| bad(&context("destination"), e))?;
    let tiers = row
        .tiers
        .into_iter()
        .map(|t| {
            Ok(RateTier {
                max_weight: Weight::from_grams(t.max_weight_grams)
                    .map_err(|e| bad(&context("tier weight"), e))?,
                price: Money::new(t.price, currency).map_err(|e| bad(&context("tier price"), e))?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    RateCard::new(service, origin, destination, currency, tiers).map_err(|e| bad("rate card", e))
}
