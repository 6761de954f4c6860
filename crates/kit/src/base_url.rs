//! The base URL rule every adapter applies before it sends a credential: `https`, or plain
//! `http` only when the host is loopback (a sandbox on `127.0.0.1`, `[::1]` or
//! `localhost`), so keys and tokens never cross a network in clear.
//!
//! The check returns a typed [`SchemeError`] rather than a message: each adapter words the
//! fix for its own users (naming its production URL), the rule itself stays one.

use url::{Host, Url};

/// Why a base URL's scheme is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    /// `http://` to a host that is not loopback.
    #[error(
        "plain http to a remote host would send credentials in clear; use https (http is allowed only for loopback hosts such as 127.0.0.1 or localhost)"
    )]
    PlainHttpToRemoteHost,
    /// A scheme other than `https` or `http`.
    #[error("scheme {scheme:?} is not supported; use https (or http for a loopback sandbox)")]
    Unsupported {
        /// The scheme as parsed (lowercase).
        scheme: String,
    },
}

/// True when `url`'s host is a loopback address or `localhost` (any case).
///
/// ```
/// let url = url::Url::parse("http://[::1]:8080").expect("a url");
/// assert!(waybill_kit::is_loopback(&url));
/// ```
#[must_use]
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Accepts `https`, and `http` to a loopback host; refuses anything else.
///
/// # Errors
/// [`SchemeError::PlainHttpToRemoteHost`] for `http` to another host,
/// [`SchemeError::Unsupported`] for any other scheme.
///
/// ```
/// use waybill_kit::{SchemeError, check_scheme};
/// let remote = url::Url::parse("http://api.example").expect("a url");
/// assert_eq!(check_scheme(&remote), Err(SchemeError::PlainHttpToRemoteHost));
/// ```
pub fn check_scheme(url: &Url) -> Result<(), SchemeError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(SchemeError::PlainHttpToRemoteHost),
        other => Err(SchemeError::Unsupported { scheme: other.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn check(raw: &str) -> Result<(), SchemeError> {
        check_scheme(&Url::parse(raw).unwrap())
    }

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        assert_eq!(check("https://api.example/"), Ok(()));
        assert_eq!(check("http://127.0.0.1:8080"), Ok(()));
        assert_eq!(check("http://127.9.9.9"), Ok(()));
        assert_eq!(check("http://LOCALHOST:1/"), Ok(()));
        assert_eq!(check("http://[::1]:1"), Ok(()));
        assert_eq!(check("http://api.example"), Err(SchemeError::PlainHttpToRemoteHost));
        assert_eq!(check("http://10.0.0.1"), Err(SchemeError::PlainHttpToRemoteHost));
        assert_eq!(check("ftp://x"), Err(SchemeError::Unsupported { scheme: "ftp".into() }));
        let message = SchemeError::PlainHttpToRemoteHost.to_string();
        assert!(message.contains("https") && message.contains("loopback"), "{message}");
    }

    proptest! {
        #[test]
        fn https_is_always_accepted(host in "[a-z]{1,12}(\\.[a-z]{1,8}){0,2}", port in 1u16..) {
            prop_assert_eq!(check(&format!("https://{host}:{port}/")), Ok(()));
        }

        #[test]
        fn http_is_accepted_exactly_for_loopback(a in 0u8.., b in 0u8.., c in 0u8.., d in 0u8..) {
            let url = Url::parse(&format!("http://{a}.{b}.{c}.{d}/")).unwrap();
            prop_assert_eq!(check_scheme(&url).is_ok(), a == 127);
        }
    }
}
