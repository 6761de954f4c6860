//! Which parcels the first-leg refresh schedule may look up at all, spelt once for every
//! backend: the same text is the `WHERE` of each backend's partial indexes (migration 0007,
//! held to it word for word by each backend's tests), so the planners use them.

use std::sync::LazyLock;

use waybill_domain::{Milestone, TrackingStatus};

/// The rank of `at_origin_hub`: from there on the main carrier holds the parcel (a first
/// leg's events never rank above `in_transit`, see `CarrierInfo::join`).
pub(crate) fn hub_rank() -> u8 {
    Milestone::AtOriginHub.rank().unwrap_or(u8::MAX)
}

/// The parcels worth a lookup at all, the `WHERE` of `parcels_by_next_refresh`: first leg
/// not ended, not final, and the main carrier not holding the parcel yet.
pub(crate) static ELIGIBLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "first_leg_ended_at IS NULL\n      AND status NOT IN ({})\n      AND (head_rank IS NULL OR head_rank < {})",
        *TERMINAL,
        hub_rank()
    )
});

/// The parcels owed one closing lookup, the `WHERE` of `parcels_to_close`: the main carrier
/// holds the parcel but no lookup or push has seen its first leg end, so the first leg's last
/// scans (the hand-over among them) may not be stored yet. The lookup ends the first leg
/// whatever it finds, so each parcel costs at most one.
pub(crate) static CLOSING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "first_leg_ended_at IS NULL\n      AND status NOT IN ({})\n      AND head_rank >= {}",
        *TERMINAL,
        hub_rank()
    )
});

/// The final statuses as a list of SQL literals (`'delivered', …`), from the domain.
static TERMINAL: LazyLock<String> = LazyLock::new(|| {
    TrackingStatus::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_name_every_final_status_and_split_at_the_hub() {
        for status in TrackingStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(TERMINAL.contains(&format!("'{}'", status.as_str())), "{status:?} missing");
        }
        assert!(!TERMINAL.contains("'in_transit'"));
        assert!(ELIGIBLE.ends_with(&format!("head_rank < {})", hub_rank())));
        assert!(CLOSING.ends_with(&format!("head_rank >= {}", hub_rank())));
    }
}
