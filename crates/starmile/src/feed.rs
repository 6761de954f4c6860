//! The status pool, a Starmile capability: the page query, the page call
//! (`GET /api/v1/partner/changes`) and the stream over pages, and pool rows → domain
//! [`FeedItem`]s.

use futures::Stream;
use jiff::{civil, tz::TimeZone};
use waybill_domain::{
    ChangePage, CountryCode, Cursor, EventTime, FeedItem, MerchantTrackingNumber, PartnerOrderRef,
    Reason, TrackingEvent, TrackingNumber,
};

use crate::{Error, StarmileClient, status_map, transport::Call, wire};

/// One page request to the status pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesQuery {
    /// Rows strictly after this cursor (`Cursor(0)` = from the beginning).
    pub since: Cursor,
    /// Rows per page; clamped to 1..=200 when sent.
    pub limit: u32,
    /// Only rows of this order or parcel tracking number.
    pub tracking_number: Option<TrackingNumber>,
    /// Only rows of this partner order reference (`external_parent_id`).
    pub reference: Option<PartnerOrderRef>,
}

impl ChangesQuery {
    /// The largest page Starmile serves.
    pub const MAX_LIMIT: u32 = 200;

    /// All rows after `since`, in pages of [`ChangesQuery::MAX_LIMIT`].
    #[must_use]
    pub fn since(since: Cursor) -> Self {
        Self { since, limit: Self::MAX_LIMIT, tracking_number: None, reference: None }
    }

    /// The limit actually sent: `limit` clamped to 1..=200.
    #[must_use]
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}

impl StarmileClient {
    /// One page of the status pool (`GET /api/v1/partner/changes`), rows after
    /// `query.since`, the limit clamped to 1–200.
    ///
    /// # Errors
    /// [`Error::Forbidden`] (no `status:read`), transient errors after retries,
    /// [`Error::Decode`] for a row that cannot be read (naming its cursor).
    pub async fn changes(&self, query: &ChangesQuery) -> Result<ChangePage, Error> {
        let mut params = vec![
            ("since", query.since.0.to_string()),
            ("limit", query.clamped_limit().to_string()),
        ];
        if let Some(t) = &query.tracking_number {
            params.push(("tracking_number", t.as_str().to_owned()));
        }
        if let Some(r) = &query.reference {
            params.push(("external_parent_id", r.as_str().to_owned()));
        }
        let call = Call { query: params, ..Call::get("/api/v1/partner/changes") };
        let page: wire::ChangesPage = self.call_json(call).await?;
        page_from_wire(page)
    }

    /// Every pool row after `since`, page after page (200 rows each) while `has_more`;
    /// the stream ends when Starmile reports no more rows, or after yielding an error.
    /// Each [`FeedItem`] carries its cursor: persist it only once the item is stored.
    pub fn change_stream(
        &self,
        since: Cursor,
    ) -> impl Stream<Item = Result<FeedItem, Error>> + Send + '_ {
        struct State {
            cursor: Cursor,
            buffer: std::collections::VecDeque<FeedItem>,
            more: bool,
        }
        let start = State { cursor: since, buffer: Default::default(), more: true };
        futures::stream::unfold(Some(start), move |state| async move {
            let mut state = state?;
            loop {
                if let Some(item) = state.buffer.pop_front() {
                    return Some((Ok(item), Some(state)));
                }
                if !state.more {
                    return None;
                }
                match self.changes(&ChangesQuery::since(state.cursor)).await {
                    Ok(page) => {
                        state.cursor = page.next_cursor;
                        // An empty page with has_more would loop forever; treat it as the end.
                        state.more = page.has_more && !page.items.is_empty();
                        state.buffer.extend(page.items);
                    }
                    Err(e) => return Some((Err(e), None)),
                }
            }
        })
    }
}

/// Decodes the body of a `GET /api/v1/partner/changes` answer (`{"data":[…],
/// "next_cursor":…,"has_more":…}`) into domain values, exactly as
/// [`StarmileClient::changes`](crate::StarmileClient::changes) does: statuses normalised,
/// times made exact where the row names a known zone. Public for benchmarks and for callers
/// that fetch pages themselves.
///
/// # Errors
/// [`Error::Decode`] when the body is not a page, or a row cannot be read (naming its
/// cursor).
pub fn decode_changes_page(body: &[u8]) -> Result<ChangePage, Error> {
    let page: wire::ChangesPage =
        serde_json::from_slice(body).map_err(|e| Error::decode(e.to_string(), body))?;
    page_from_wire(page)
}

/// Decodes a whole page; the first bad row fails it, naming that row's cursor.
pub(crate) fn page_from_wire(page: wire::ChangesPage) -> Result<ChangePage, Error> {
    let items = page.data.into_iter().map(item_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(ChangePage { items, next_cursor: Cursor(page.next_cursor), has_more: page.has_more })
}

/// One pool row as a domain [`FeedItem`]. Unknown statuses and reason codes pass through
/// (status [`Unknown`](waybill_domain::TrackingStatus::Unknown), raw text kept).
pub(crate) fn item_from_row(row: wire::PoolRow) -> Result<FeedItem, Error> {
    let cursor = row.cursor;
    let fail = |what: String| Error::Decode {
        message: format!("status pool row at cursor {cursor}: {what}"),
        body: format!("{row:?}"),
    };
    let tracking_number = match row.tracking_number.as_deref().map(TrackingNumber::parse) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err(fail(format!("tracking_number: {e}"))),
        None => return Err(fail("tracking_number is null".into())),
    };
    let Some(raw_time) = row.occurred_at.clone() else {
        return Err(fail("occurred_at is null".into()));
    };
    let occurred_at = event_time(&raw_time, row.timezone.as_deref())
        .map_err(|e| fail(format!("occurred_at {raw_time:?}: {e}")))?;
    let country = row.country.as_deref().and_then(|c| match CountryCode::parse(c) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(cursor, "ignoring the row's country: {e}");
            None
        }
    });
    let mut event = TrackingEvent::new(
        crate::CARRIER_ID,
        tracking_number,
        occurred_at,
        row.status.clone(),
        status_map::unified(&row.status),
    );
    event.milestone = Some(status_map::milestone(&row.status));
    event.raw_time = Some(raw_time);
    event.country = country;
    event.source_id = Some(cursor.to_string());
    // This client sends item_id = merchant tracking number, so external_id names it.
    event.merchant_tracking_number =
        row.external_id.as_deref().and_then(|id| MerchantTrackingNumber::parse(id).ok());
    event.reason = row.reason.map(|code| Reason { code, detail: row.reason_detail });
    Ok(FeedItem {
        cursor: Cursor(cursor),
        reference: row.external_parent_id.and_then(|r| PartnerOrderRef::parse(r).ok()),
        item_ref: row.external_id,
        previous_status: row.previous_status,
        event,
    })
}

/// A naive `YYYY-MM-DD HH:MM:SS` plus an IANA zone → an exact instant; an unknown or
/// missing zone → a local time (never a guessed UTC). See the crate docs for why.
pub(crate) fn event_time(raw: &str, zone: Option<&str>) -> Result<EventTime, jiff::Error> {
    let at: civil::DateTime = raw.trim().parse()?;
    let Some(name) = zone else {
        return Ok(EventTime::Local { at });
    };
    match TimeZone::get(name) {
        Ok(tz) => Ok(EventTime::exact(at.to_zoned(tz)?.timestamp(), Some(name.to_owned()))),
        Err(e) => {
            tracing::warn!(zone = name, "unknown time zone; keeping the local time: {e}");
            Ok(EventTime::Local { at })
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use waybill_domain::TrackingStatus;

    use super::*;

    fn row(status: &str) -> wire::PoolRow {
        wire::PoolRow {
            cursor: 42,
            tracking_number: Some("STM000124".into()),
            external_parent_id: Some("PO-10294".into()),
            external_id: Some("TRK-1".into()),
            country: Some("AU".into()),
            status: status.into(),
            previous_status: Some("received_at_hub".into()),
            occurred_at: Some("2026-06-20 09:14:00".into()),
            timezone: Some("Australia/Sydney".into()),
            reason: None,
            reason_detail: None,
        }
    }

    #[test]
    fn a_row_becomes_an_exact_event() {
        let item = item_from_row(row("accepted_at_hub")).unwrap();
        assert_eq!(item.cursor, Cursor(42));
        // Hub processing is custody: in transit, at the origin hub.
        assert_eq!(item.event.status, TrackingStatus::InTransit);
        assert_eq!(item.event.milestone, Some(waybill_domain::Milestone::AtOriginHub));
        assert_eq!(
            item.event.occurred_at,
            EventTime::exact(
                "2026-06-19T23:14:00Z".parse().unwrap(),
                Some("Australia/Sydney".into())
            )
        );
        assert_eq!(item.event.raw_time.as_deref(), Some("2026-06-20 09:14:00"));
        assert_eq!(item.event.source_id.as_deref(), Some("42"));
        assert_eq!(item.event.merchant_tracking_number.unwrap().as_str(), "TRK-1");
        assert_eq!(item.reference.unwrap().as_str(), "PO-10294");
    }

    #[test]
    fn unknown_status_reason_and_zone_pass_through() {
        let mut r = row("teleported");
        r.reason = Some("wormhole".into());
        r.reason_detail = Some("spacetime".into());
        r.timezone = Some("Mars/Olympus_Mons".into());
        let item = item_from_row(r).unwrap();
        assert_eq!(item.event.status, TrackingStatus::Unknown);
        assert_eq!(item.event.raw_status, "teleported");
        assert_eq!(item.event.reason.unwrap().code, "wormhole");
        assert_eq!(
            item.event.occurred_at,
            EventTime::Local { at: "2026-06-20T09:14:00".parse().unwrap() }
        );
    }

    #[test]
    fn unreadable_rows_name_their_cursor() {
        let mut r = row("delivered");
        r.occurred_at = Some("yesterday".into());
        let e = item_from_row(r).unwrap_err().to_string();
        assert!(e.contains("cursor 42") && e.contains("occurred_at"), "{e}");
        let mut r = row("delivered");
        r.tracking_number = None;
        assert!(item_from_row(r).unwrap_err().to_string().contains("cursor 42"));
    }

    #[test]
    fn limits_are_clamped() {
        let mut q = ChangesQuery::since(Cursor(0));
        q.limit = 0;
        assert_eq!(q.clamped_limit(), 1);
        q.limit = 500;
        assert_eq!(q.clamped_limit(), 200);
    }

    proptest! {
        #[test]
        fn any_valid_naive_time_in_any_listed_zone_decodes_exactly(
            secs in 0i64..4_000_000_000,
            zone in prop_oneof![Just("UTC"), Just("Australia/Sydney"), Just("Asia/Hong_Kong"), Just("Pacific/Auckland")]
        ) {
            let tz = TimeZone::get(zone).unwrap();
            let at = jiff::Timestamp::from_second(secs).unwrap().to_zoned(tz).datetime();
            let raw = at.strftime("%Y-%m-%d %H:%M:%S").to_string();
            let t = event_time(&raw, Some(zone)).unwrap();
            prop_assert!(t.is_exact());
        }

        #[test]
        fn the_time_parser_never_panics(s in "\\PC{0,30}", z in proptest::option::of("\\PC{0,20}")) {
            let _ = event_time(&s, z.as_deref());
        }
    }
}
