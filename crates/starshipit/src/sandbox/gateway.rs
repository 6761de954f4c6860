//! The emulated Azure API Management gateway: subscription keys and their tiers, and a
//! sliding one-second window per key that answers 429 beyond the tier's rate.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

/// A subscription key's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// 2 requests per second, as a new account gets.
    Developer,
    /// 20 requests per second.
    Production,
}

impl Tier {
    pub fn per_second(self) -> usize {
        match self {
            Self::Developer => 2,
            Self::Production => 20,
        }
    }
}

/// Accepted request times per key over the last second.
#[derive(Debug, Default)]
pub(crate) struct Windows {
    accepted: HashMap<String, VecDeque<Instant>>,
}

impl Windows {
    /// Admits a request arriving `now`, or says how many whole seconds to wait.
    pub fn admit(&mut self, key: &str, tier: Tier, now: Instant) -> Result<(), u64> {
        const WINDOW: Duration = Duration::from_secs(1);
        let q = self.accepted.entry(key.to_owned()).or_default();
        while q.front().is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW) {
            q.pop_front();
        }
        if q.len() >= tier.per_second() {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = (oldest + WINDOW).saturating_duration_since(now);
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        q.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_developer_request_in_a_second_is_refused() {
        let mut w = Windows::default();
        let t = Instant::now();
        assert_eq!(w.admit("k", Tier::Developer, t), Ok(()));
        assert_eq!(w.admit("k", Tier::Developer, t + Duration::from_millis(100)), Ok(()));
        assert_eq!(w.admit("k", Tier::Developer, t + Duration::from_millis(900)), Err(1));
        assert_eq!(w.admit("other", Tier::Developer, t + Duration::from_millis(900)), Ok(()));
        assert_eq!(w.admit("k", Tier::Developer, t + Duration::from_millis(1000)), Ok(()));
    }
}
