//! Fixed words looked for in many short texts (`clean`'s lines,
//! `relate`'s sentences): each word's (or list's) searcher is built once,
//! on first use, instead of on every call as `str::contains` builds its
//! own.

/// Whether `$text` (a `str` or `String`, or a reference to one) contains
/// the string literal `$word` anywhere, as `str::contains` does (inside a
/// longer word too).
macro_rules! contains_literal {
    ($text:expr, $word:literal) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($word));
        let text: &str = &$text;
        FINDER.find(text.as_bytes()).is_some()
    }};
}

/// The searcher for any of `$words` (an expression of string literals,
/// such as a `const` slice of them), built once, on first use.
macro_rules! any_literal {
    ($words:expr) => {{
        static FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
            std::sync::LazyLock::new(|| {
                aho_corasick::AhoCorasick::new($words)
                    .expect("a few literal words make an automaton")
            });
        &*FINDER
    }};
}

pub(crate) use {any_literal, contains_literal};

#[cfg(test)]
mod tests {
    #[test]
    fn finds_what_str_contains_finds() {
        let texts = [
            "",
            "함께",
            "함",
            "그는 A와 함께 협의회를 구성했다",
            "함께께",
            "x함께",
            "함 께",
        ];
        for text in texts {
            assert_eq!(
                contains_literal!(text, "함께"),
                text.contains("함께"),
                "{text:?}"
            );
            assert_eq!(
                contains_literal!(text, "께"),
                text.contains("께"),
                "{text:?}"
            );
            const WORDS: &[&str] = &["구성", "께", "A와 함"];
            assert_eq!(
                any_literal!(WORDS).is_match(text),
                WORDS.iter().any(|w| text.contains(w)),
                "{text:?}"
            );
        }
    }
}
