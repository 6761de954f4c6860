//! The base URL rule every adapter applies before it sends a credential: `https`, or plain
//! `http` only when the host is loopback (a sandbox on `127.0.0.1`, `[::1]` or
//! `localhost`), so keys and tokens never cross a network in clear.
//!
//! The check returns a typed [`SchemeError`] rather than a message: each adapter words the
//! fix for its own users (naming its production URL), the rule itself stays one.
//!
//! A base URL never carries credentials either: `https://user:password@host` is refused
//! ([`check_no_credentials`]), and any message that quotes a base URL quotes it through
//! [`redact`], so a password typed into one is never printed, not even when the text does
//! not parse as a URL.

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

/// A base URL with a user name or password in it (`https://user:password@host`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "it has a user name or password in it (the part before '@'); remove them: credentials belong in the secret settings, never in a URL that may be logged"
)]
pub struct CredentialsInUrl;

/// Refuses a URL whose authority carries a user name or a password.
///
/// # Errors
/// [`CredentialsInUrl`] when `url` has either.
///
/// ```
/// let url = url::Url::parse("https://me:pw@api.example").expect("a url");
/// assert!(waybill_kit::check_no_credentials(&url).is_err());
/// ```
pub fn check_no_credentials(url: &Url) -> Result<(), CredentialsInUrl> {
    if url.username().is_empty() && url.password().is_none() {
        Ok(())
    } else {
        Err(CredentialsInUrl)
    }
}

/// `raw` as it may be quoted in a message: any user name and password before the host
/// replaced by `***`. Works on text that does not parse as a URL too (it looks for the
/// last `@` between `scheme://` and the first `/`, `?` or `#` after it).
///
/// ```
/// assert_eq!(waybill_kit::redact("https://me:pw@api.example/x"), "https://***@api.example/x");
/// assert_eq!(waybill_kit::redact("https://api.example"), "https://api.example");
/// ```
#[must_use]
pub fn redact(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let rest = &raw[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..start], &rest[at..]),
        None => raw.to_owned(),
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

    #[test]
    fn credentials_are_refused_and_never_quoted() {
        for raw in ["https://u:p@api.example", "https://u@api.example", "https://:p@api.example"] {
            assert_eq!(check_no_credentials(&Url::parse(raw).unwrap()), Err(CredentialsInUrl));
        }
        assert_eq!(check_no_credentials(&Url::parse("https://api.example/a@b").unwrap()), Ok(()));
        assert_eq!(redact("https://u:s3cret@h:1/p?q=@"), "https://***@h:1/p?q=@");
        assert_eq!(redact("u:s3cret@h"), "***@h", "no scheme");
        assert_eq!(redact("https://u:a@b@h"), "https://***@h", "the last @ ends the userinfo");
        assert_eq!(redact("not a url at all"), "not a url at all");
        assert_eq!(redact("https://h/a@b"), "https://h/a@b", "an @ in the path is kept");
        assert!(!CredentialsInUrl.to_string().contains("s3cret"));
    }

    proptest! {
        #[test]
        fn a_password_never_survives_redaction(
            user in "[a-z0-9]{0,8}", password in "[A-Z][A-Za-z0-9!$%&*+,;=~-]{5,15}", host in "[a-z]{1,10}(\\.[a-z]{2,5})?",
        ) {
            let raw = format!("https://{user}:{password}@{host}/v1");
            prop_assert!(!redact(&raw).contains(&password));
            let url = Url::parse(&raw).unwrap();
            prop_assert_eq!(check_no_credentials(&url), Err(CredentialsInUrl));
        }

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
