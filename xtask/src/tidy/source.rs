//! A small hand-written scanner over source text: what the tidy rules read instead of a parser.
//!
//! The rules need only three facts about a Rust file: where its comments are, where its string
//! and character literals are, and the identifiers, `::` separators and brackets in between,
//! each with its line. A scanner of this size answers exactly that. It is preferred over `syn`
//! because `syn` is not a workspace dependency (xtask stays light to build), because it would
//! need whole, parseable files where these rules only read tokens, and because `syn` drops
//! comments — the one thing the carrier rule must tell apart from code.
//!
//! [`mask`] blanks comments (and, on request, literals) while keeping every line break, so
//! line numbers stay those of the original file; [`tokens`] splits masked text into tokens.

/// One token of masked Rust text: an identifier (or number), `::`, or one punctuation char.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The token's text; raw identifiers lose their `r#`.
    pub(crate) text: String,
    /// The 1-based line the token starts on.
    pub(crate) line: usize,
}

/// What [`mask`] keeps besides code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Keep string, byte-string and character literals as written (only comments go).
    Literals,
    /// Blank literals too: what is left is tokens that can name items.
    CodeOnly,
}

/// `text` with every comment (`//…`, `/* … */`, nested) replaced by spaces, and literals too
/// unless `keep` says otherwise. Line breaks survive, so lines keep their numbers.
pub(crate) fn mask(text: &str, keep: Keep) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let end = block_comment_end(&c, i);
            c[i..end].iter().for_each(|&ch| blank(&mut out, ch));
            i = end;
        } else if let Some(end) = literal_end(&c, i) {
            for &ch in &c[i..end] {
                if keep == Keep::Literals { out.push(ch) } else { blank(&mut out, ch) }
            }
            i = end;
        } else if is_ident_start(c[i]) {
            // Whole identifiers at once, so a literal prefix (`r`, `b`, `c`, `br`) is only
            // recognised at the start of a word.
            while i < c.len() && is_ident_continue(c[i]) {
                out.push(c[i]);
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// `text` (SQL) with `-- …` and `/* … */` comments blanked; single-quoted strings are kept
/// and may contain `--`.
pub(crate) fn mask_sql(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '-' && next == Some('-') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let end = find(&c, i + 2, &['*', '/']).map_or(c.len(), |j| j + 2);
            c[i..end].iter().for_each(|&ch| blank(&mut out, ch));
            i = end;
        } else if c[i] == '\'' {
            // '' inside a string is an escaped quote: the scan simply reopens the string.
            let end = c[i + 1..].iter().position(|&ch| ch == '\'').map_or(c.len(), |j| i + j + 2);
            out.extend(&c[i..end]);
            i = end;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The tokens of text already passed through [`mask`] with [`Keep::CodeOnly`].
pub(crate) fn tokens(masked: &str) -> Vec<Token> {
    let c: Vec<char> = masked.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if is_ident_continue(ch) {
            let raw = ch == 'r'
                && c.get(i + 1) == Some(&'#')
                && c.get(i + 2).is_some_and(|&n| is_ident_start(n));
            let start = if raw { i + 2 } else { i };
            let mut end = start;
            while end < c.len() && is_ident_continue(c[end]) {
                end += 1;
            }
            out.push(Token { text: c[start..end].iter().collect(), line });
            i = end;
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Token { text: "::".into(), line });
            i += 2;
        } else {
            out.push(Token { text: ch.to_string(), line });
            i += 1;
        }
    }
    out
}

fn blank(out: &mut String, ch: char) {
    out.push(if ch == '\n' { '\n' } else { ' ' });
}

fn is_ident_start(ch: char) -> bool {
    ch == '_' || ch.is_alphabetic()
}

fn is_ident_continue(ch: char) -> bool {
    ch == '_' || ch.is_alphanumeric()
}

/// The first index at or after `from` where `pat` starts.
fn find(c: &[char], from: usize, pat: &[char]) -> Option<usize> {
    (from..c.len()).find(|&j| c[j..].starts_with(pat))
}

/// The index just past the (possibly nested) block comment opening at `start`.
fn block_comment_end(c: &[char], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < c.len() {
        if c[i..].starts_with(&['/', '*']) {
            depth += 1;
            i += 2;
        } else if c[i..].starts_with(&['*', '/']) {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    c.len()
}

/// The index just past the literal starting at `i`, if one does: `"…"`, `'x'`, and the
/// prefixed forms `b"…"`, `c"…"`, `b'x'`, `r"…"`, `r#"…"#`, `br#"…"#`, `cr"…"`. A `'` that
/// starts a lifetime or label is not a literal.
fn literal_end(c: &[char], i: usize) -> Option<usize> {
    let at = |j: usize| c.get(j).copied();
    match c[i] {
        '"' => return Some(quoted_end(c, i + 1, '"')),
        '\'' => return char_end(c, i),
        _ => {}
    }
    let prefix = ["br", "cr", "r", "b", "c"]
        .into_iter()
        .find(|p| p.chars().enumerate().all(|(k, pc)| at(i + k) == Some(pc)))?;
    let after = i + prefix.len();
    if prefix.ends_with('r') {
        let hashes = (after..c.len()).take_while(|&j| c[j] == '#').count();
        if at(after + hashes) != Some('"') {
            return None; // an identifier such as `r#type`, or just a word starting with r
        }
        let mut close = vec!['"'];
        close.extend(std::iter::repeat_n('#', hashes));
        let body = after + hashes + 1;
        return Some(find(c, body, &close).map_or(c.len(), |j| j + close.len()));
    }
    match at(after) {
        Some('"') => Some(quoted_end(c, after + 1, '"')),
        Some('\'') if prefix == "b" => char_end(c, after),
        _ => None,
    }
}

/// The index just past the closing `quote` of a literal whose body starts at `body`,
/// honouring backslash escapes.
fn quoted_end(c: &[char], body: usize, quote: char) -> usize {
    let mut j = body;
    while j < c.len() {
        match c[j] {
            '\\' => j += 2,
            ch if ch == quote => return j + 1,
            _ => j += 1,
        }
    }
    c.len()
}

/// The end of a character literal at `i` (which holds `'`), or `None` for a lifetime.
fn char_end(c: &[char], i: usize) -> Option<usize> {
    match (c.get(i + 1), c.get(i + 2)) {
        (Some('\\'), _) => Some(quoted_end(c, i + 1, '\'')),
        (Some(_), Some('\'')) => Some(i + 3),
        _ => None,
    }
}

#[test]
fn masking_blanks_comments_and_keeps_lines() {
    let text = "a // x\n/* b /* nested */ still */ c\n/// doc\nd";
    let masked = mask(text, Keep::Literals);
    assert_eq!(masked.lines().count(), 4);
    let words: Vec<&str> = masked.split_whitespace().collect();
    assert_eq!(words, ["a", "c", "d"]);
}

#[test]
fn masking_knows_strings_raw_strings_chars_and_lifetimes() {
    let text = r####"let s = "a \" // not a comment"; let r = r#"x "quoted" y"#;
let b = br"raw\"; let c = '"'; let q = '\''; fn f<'a>(x: &'a str) {} let e = b'{';
let id = r#type; let w = bar"####;
    let code = mask(text, Keep::CodeOnly);
    for gone in ["not a comment", "quoted", "raw", "'\"'", "'{'"] {
        assert!(!code.contains(gone), "{gone} survived: {code}");
    }
    assert!(code.contains("<'a>") && code.contains("&'a str"), "{code}");
    assert!(code.contains("r#type") && code.contains("bar"), "{code}");
    assert_eq!(code.lines().count(), 3);
    let kept = mask(text, Keep::Literals);
    assert!(kept.contains("\"a \\\" // not a comment\"") && kept.contains("quoted"), "{kept}");
}

#[test]
fn tokens_carry_lines_and_unraw_identifiers() {
    let toks = tokens("use crate::a;\nr#type::B");
    let texts: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["use", "crate", "::", "a", ";", "type", "::", "B"]);
    assert_eq!(toks[5].line, 2);
}

#[test]
fn sql_masking_keeps_strings_with_dashes() {
    let masked = mask_sql("select '--x' -- gone\n/* also gone */ from t");
    assert!(masked.contains("'--x'") && !masked.contains("gone") && masked.contains("from t"));
}
