//! The status pool, a Starmile capability: the page query, the page call
//! (`GET /api/v1/partner/changes`) and the stream over pages, and pool rows → domain
//! [`FeedItem`]s.
//!
//! A page is decoded row by row: a row that cannot be read (a field missing, a time that is
//! not one) does not fail its page but comes back raw in [`ChangePage::undecoded`], with its
//! cursor when that much is readable and the reason, so sync can keep it aside and move on.
//! Only a page whose envelope (`data`, `next_cursor`) is unreadable fails.

use futures::Stream;
use jiff::{civil, tz::TimeZone};
use waybill_domain::{
    ChangePage, CountryCode, Cursor, EventTime, FeedItem, MerchantTrackingNumber, PartnerOrderRef,
    Reason, TrackingEvent, TrackingNumber, UndecodedRow,
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
    /// `query.since`, the limit clamped to 1–200. Rows that cannot be decoded come back raw
    /// in [`ChangePage::undecoded`] (see [`decode_changes_page`]).
    ///
    /// # Errors
    /// [`Error::Forbidden`] (no `status:read`), transient errors after retries,
    /// [`Error::Decode`] for a page whose envelope cannot be read.
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
        let body = self.call(call).await?;
        let page = decode_changes_page(&body)?;
        for row in &page.undecoded {
            tracing::warn!(cursor = ?row.cursor.map(|c| c.0), error = %row.error, "status pool row could not be decoded; handing it on raw");
        }
        Ok(page)
    }

    /// Every pool row after `since`, page after page (200 rows each) while `has_more`.
    /// Each [`FeedItem`] carries its cursor: persist it only once the item is stored. A row
    /// that cannot be decoded is yielded as an [`Error::Decode`] naming it and the stream
    /// goes on; the stream ends when Starmile reports no more rows, or after a page fails.
    pub fn change_stream(
        &self,
        since: Cursor,
    ) -> impl Stream<Item = Result<FeedItem, Error>> + Send + '_ {
        struct State {
            cursor: Cursor,
            buffer: std::collections::VecDeque<Result<FeedItem, Error>>,
            more: bool,
        }
        let start = State { cursor: since, buffer: Default::default(), more: true };
        futures::stream::unfold(Some(start), move |state| async move {
            let mut state = state?;
            loop {
                if let Some(item) = state.buffer.pop_front() {
                    return Some((item, Some(state)));
                }
                if !state.more {
                    return None;
                }
                match self.changes(&ChangesQuery::since(state.cursor)).await {
                    Ok(page) => {
                        state.cursor = page.next_cursor;
                        let rows = page.items.len() + page.undecoded.len();
                        // An empty page with has_more would loop forever; treat it as the end.
                        state.more = page.has_more && rows > 0;
                        state.buffer.extend(page.items.into_iter().map(Ok));
                        state.buffer.extend(
                            page.undecoded.into_iter().map(|row| {
                                Err(Error::Decode { message: row.error, body: row.raw })
                            }),
                        );
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
/// times made exact where the row names a known zone, and each row that cannot be decoded
/// kept raw in [`ChangePage::undecoded`] (its JSON text as received, its cursor when
/// readable, the reason). Public for benchmarks, fuzzing and callers that fetch pages
/// themselves.
///
/// # Errors
/// [`Error::Decode`] when the body is not a page: not JSON, or `data` is not an array, or
/// `next_cursor` is missing or not a number.
pub fn decode_changes_page(body: &[u8]) -> Result<ChangePage, Error> {
    // The common case: the page reads as typed rows and every row decodes.
    if let Ok(page) = serde_json::from_slice::<wire::ChangesPage>(body)
        && let Ok(items) = page.data.into_iter().map(item_from_row).collect::<Result<Vec<_>, _>>()
    {
        return Ok(ChangePage {
            items,
            undecoded: Vec::new(),
            next_cursor: Cursor(page.next_cursor),
            has_more: page.has_more,
        });
    }
    // Some row (or the envelope) is bad: read the envelope with every row kept as its raw
    // text, then decode row by row, keeping the rows that fail as they came.
    let page: wire::RawChangesPage<'_> =
        serde_json::from_slice(body).map_err(|e| Error::decode(e.to_string(), body))?;
    let mut items = Vec::with_capacity(page.data.len());
    let mut undecoded = Vec::new();
    for raw in page.data {
        let text = raw.get();
        let row = serde_json::from_str::<wire::PoolRow>(text).map_err(|e| match row_cursor(text) {
            Some(c) => format!("status pool row at cursor {c}: {e}"),
            None => format!("status pool row without a readable cursor: {e}"),
        });
        match row.and_then(item_from_row) {
            Ok(item) => items.push(item),
            Err(error) => undecoded.push(UndecodedRow {
                cursor: row_cursor(text).map(Cursor),
                raw: text.to_owned(),
                error,
            }),
        }
    }
    Ok(ChangePage {
        items,
        undecoded,
        next_cursor: Cursor(page.next_cursor),
        has_more: page.has_more,
    })
}

/// The `cursor` of a raw row, when it is there and a whole number.
fn row_cursor(raw: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct CursorOnly {
        cursor: u64,
    }
    serde_json::from_str::<CursorOnly>(raw).ok().map(|c| c.cursor)
}

/// One pool row as a domain [`FeedItem`]. Unknown statuses and reason codes pass through
/// (status [`Unknown`](waybill_domain::TrackingStatus::Unknown), raw text kept).
///
/// # Errors
/// Why the row cannot be an event (naming its cursor and the field): no tracking number,
/// no or an unreadable `occurred_at`.
pub(crate) fn item_from_row(row: wire::PoolRow) -> Result<FeedItem, String> {
    let cursor = row.cursor;
    let fail = |what: String| format!("status pool row at cursor {cursor}: {what}");
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

    /// A page body of these row texts.
    fn page_of(rows: &[&str], next: u64) -> Vec<u8> {
        format!(r#"{{"data":[{}],"next_cursor":{next},"has_more":false}}"#, rows.join(","))
            .into_bytes()
    }

    fn good(cursor: u64) -> String {
        format!(
            r#"{{"cursor":{cursor},"tracking_number":"STM{cursor:06}","external_parent_id":"PO-1","external_id":null,"country":"AU","status":"received_at_hub","previous_status":null,"occurred_at":"2026-06-20 09:14:00","timezone":"Australia/Sydney","reason":null,"reason_detail":null}}"#
        )
    }

    #[test]
    fn a_bad_row_is_kept_raw_and_the_rest_of_the_page_decodes() {
        // The row seen in the wild: an empty occurred_at at cursor 1.
        let bad = good(1).replace(r#""occurred_at":"2026-06-20 09:14:00""#, r#""occurred_at":"""#);
        let body = page_of(&[&bad, &good(2), &good(3)], 3);
        let page = decode_changes_page(&body).unwrap();
        assert_eq!(page.items.iter().map(|i| i.cursor.0).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(page.next_cursor, Cursor(3));
        let [row] = page.undecoded.as_slice() else { panic!("{:?}", page.undecoded) };
        assert_eq!(row.cursor, Some(Cursor(1)));
        assert_eq!(row.raw, bad, "the row exactly as received");
        assert!(
            row.error.contains("cursor 1") && row.error.contains("occurred_at"),
            "{}",
            row.error
        );
    }

    #[test]
    fn rows_of_the_wrong_shape_are_kept_with_or_without_a_cursor() {
        let no_status = good(4).replace(r#""status":"received_at_hub","#, "");
        let body = page_of(&["17", r#"{"cursor":"x"}"#, &no_status, &good(5)], 5);
        let page = decode_changes_page(&body).unwrap();
        assert_eq!(page.items.len(), 1);
        let cursors: Vec<_> = page.undecoded.iter().map(|r| r.cursor).collect();
        assert_eq!(cursors, [None, None, Some(Cursor(4))]);
        assert_eq!(page.undecoded[0].raw, "17");
        assert!(
            page.undecoded[0].error.contains("without a readable cursor"),
            "{}",
            page.undecoded[0].error
        );
        assert!(
            page.undecoded[2].error.contains("cursor 4")
                && page.undecoded[2].error.contains("status")
        );
    }

    #[test]
    fn only_an_unreadable_envelope_fails_the_page() {
        for body in [
            &b"<html>502</html>"[..],
            br#"{"data":{},"next_cursor":1}"#,
            br#"{"data":[]}"#,
            br#"{"data":[],"next_cursor":"7"}"#,
        ] {
            let e = decode_changes_page(body).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        }
        let page = decode_changes_page(br#"{"data":[],"next_cursor":7}"#).unwrap();
        assert_eq!((page.items.len(), page.undecoded.len(), page.next_cursor), (0, 0, Cursor(7)));
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

        /// Whatever the rows are, every row comes out exactly once: decoded, or raw.
        #[test]
        fn every_row_is_decoded_or_kept(
            rows in proptest::collection::vec(
                prop_oneof![
                    (1u64..1000).prop_map(good),
                    (1u64..1000, "\\PC{0,12}").prop_map(|(c, t)| good(c).replace("2026-06-20 09:14:00", &t.replace(['"', '\\'], ""))),
                    Just("null".to_owned()),
                    Just(r#"{"cursor":9}"#.to_owned()),
                ],
                0..12,
            )
        ) {
            let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
            let page = decode_changes_page(&page_of(&refs, 0)).unwrap();
            prop_assert_eq!(page.items.len() + page.undecoded.len(), rows.len());
            for row in &page.undecoded {
                prop_assert!(rows.contains(&row.raw));
            }
        }

        #[test]
        fn the_time_parser_never_panics(s in "\\PC{0,30}", z in proptest::option::of("\\PC{0,20}")) {
            let _ = event_time(&s, z.as_deref());
        }
    }
}
