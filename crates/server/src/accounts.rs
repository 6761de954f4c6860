//! Which configured carrier account a request uses, and a carrier's failure as the API's
//! answer: the two steps every route that calls a carrier shares.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::ApiError,
    state::{Account, AppState},
};

/// Which account to use.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// The configured account (default, or when empty: the first).
    pub account: Option<String>,
}

/// The account `name` names (the first without one, or with an empty one), or a 400 naming
/// the configured ones.
pub(crate) fn resolve<'a>(
    state: &'a AppState,
    name: Option<&str>,
) -> Result<&'a Account, ApiError> {
    let name = name.filter(|n| !n.is_empty());
    state.account(name).ok_or_else(|| {
        let configured: Vec<&str> = state.accounts.iter().map(|a| a.name.as_str()).collect();
        ApiError::invalid_field(
            "account",
            format!(
                "no account named {:?} is configured; use one of: {}",
                name.unwrap_or_default(),
                configured.join(", ")
            ),
        )
    })
}

/// A carrier's failure as the API's answer, counted by kind.
pub(crate) fn carrier_error(
    state: &AppState,
    account: &Account,
    e: &waybill_domain::CarrierError,
) -> ApiError {
    state.metrics.remote_error(account.carrier.as_str(), e.kind());
    ApiError::carrier(&format!("{} account {}", account.carrier, account.name), e)
}
