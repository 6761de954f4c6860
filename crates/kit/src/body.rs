//! Error bodies for error messages and logs: kept, but capped, so a gateway's huge HTML
//! page cannot bloat an error or a log line, and cut on a character boundary so the text
//! stays valid UTF-8.

/// `text` unchanged when it is at most `max` bytes; otherwise its longest prefix of at most
/// `max` bytes that ends on a character boundary, followed by `…`.
///
/// ```
/// assert_eq!(waybill_kit::truncate("short", 16), "short");
/// assert_eq!(waybill_kit::truncate("ééé", 3), "é…");
/// ```
#[must_use]
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_bodies_are_cut_on_a_char_boundary() {
        let s = "é".repeat(3000);
        let t = truncate(&s, 4096);
        assert!(t.len() <= 4096 + '…'.len_utf8());
        assert!(t.ends_with('…'));
        assert_eq!(truncate("", 0), "");
        assert_eq!(truncate("abc", 0), "…");
    }

    proptest! {
        #[test]
        fn truncation_is_a_bounded_prefix(s in "\\PC{0,64}", max in 0usize..80) {
            let t = truncate(&s, max);
            if s.len() <= max {
                prop_assert_eq!(t, s);
            } else {
                let kept = t.strip_suffix('…').unwrap_or_default();
                prop_assert!(kept.len() <= max);
                prop_assert!(s.starts_with(kept));
                prop_assert!(max - kept.len() < 4, "cut at most one character short");
            }
        }
    }
}
