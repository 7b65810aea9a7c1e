//! Stage 3 — segment: splits the cleaned articles into sentences, each
//! with its character offsets in the document's cleaned text.
//!
//! The cleaned text is the articles' paragraphs joined by a newline, with a
//! blank line between articles. Paragraphs that a web page broke in the
//! middle of a word (`…발전 방향` / `을 제시하고…`) are joined first.

use std::borrow::Cow;

use crate::clean::{is_sentence_line, CleanDocument};
use crate::model::Sentence;

/// A document split into sentences.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segmented {
    /// The cleaned text the offsets refer to.
    pub text: String,
    /// The sentences, in order.
    pub sentences: Vec<Sentence>,
}

/// Words that begin a sentence although they are one syllable long.
const SHORT_SENTENCE_STARTS: &[&str] = &[
    "각", "양", "두", "이", "그", "또", "전", "총", "더", "및", "한", "새", "본", "당", "현", "약",
    "첫", "또한", "이에", "이날",
];

/// Whether paragraph `next` goes on with `previous`, broken in the middle
/// of a sentence; each comes with whether it [`is_sentence_line`].
fn continues_previous(
    (previous, previous_is_sentence): (&str, bool),
    (next, next_is_sentence): (&str, bool),
) -> bool {
    if previous_is_sentence || previous.ends_with(['.', '!', '?', ':', '"', '”', '’', '\'']) {
        return false;
    }
    let first = next.split(' ').next().unwrap_or("");
    let syllables = first.chars().filter(|c| ('가'..='힣').contains(c)).count();
    first
        .chars()
        .next()
        .is_some_and(|c| ('가'..='힣').contains(&c))
        && syllables <= 2
        && syllables == first.chars().count()
        && !SHORT_SENTENCE_STARTS.contains(&first)
        && next_is_sentence
}

/// Joins paragraphs broken in the middle of a sentence (the others are
/// borrowed as they are).
fn join_broken(paragraphs: &[String]) -> Vec<Cow<'_, str>> {
    let mut out: Vec<Cow<'_, str>> = Vec::with_capacity(paragraphs.len());
    let mut body_started = false;
    // Whether the last paragraph of `out`, as it stands, is a sentence.
    let mut last_is_sentence = false;
    for p in paragraphs {
        let p_is_sentence = is_sentence_line(p);
        match out.last_mut() {
            Some(last)
                if body_started
                    && continues_previous((last, last_is_sentence), (p, p_is_sentence)) =>
            {
                last.to_mut().push_str(p);
                last_is_sentence = is_sentence_line(last);
            }
            _ => {
                out.push(Cow::Borrowed(p));
                last_is_sentence = p_is_sentence;
            }
        }
        body_started |= p_is_sentence;
    }
    out
}

/// Closing quotes and brackets a sentence end may be followed by.
const CLOSERS: [char; 7] = ['"', '”', '’', '\'', ')', '」', '』'];

/// Splits a paragraph into sentences: after `.`, `!` or `?` (and any
/// closing quotes) followed by white space, unless a digit precedes it.
pub fn split_sentences(paragraph: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    // Where the search for the next mark goes on. The marks are ASCII, so
    // a byte search finds them and no other character's bytes.
    let mut from = 0;
    while let Some(found) = memchr::memchr3(b'.', b'!', b'?', &paragraph.as_bytes()[from..]) {
        let mark = from + found;
        from = mark + 1;
        // A mark after a digit (3.5) or first in the paragraph ends nothing.
        let ends_nothing = paragraph[..mark]
            .chars()
            .next_back()
            .is_none_or(|p| p.is_ascii_digit());
        if ends_nothing {
            continue;
        }
        let after = paragraph[mark + 1..].trim_start_matches(CLOSERS);
        if let Some(space) = after.chars().next().filter(|w| w.is_whitespace()) {
            let end = paragraph.len() - after.len();
            let s = paragraph[start..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = end;
            // Go on after the white space.
            from = end + space.len_utf8();
        }
    }
    let rest = paragraph[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Segments a cleaned document.
pub fn segment(doc: &CleanDocument) -> Segmented {
    // Room for the paragraphs and the newlines between them (an upper
    // bound: two bytes a paragraph).
    let text_len = doc
        .articles
        .iter()
        .flat_map(|a| &a.paragraphs)
        .map(|p| p.len() + 2)
        .sum();
    let mut text = String::with_capacity(text_len);
    let mut chars = 0usize;
    let mut sentences = Vec::new();
    for (article_index, article) in doc.articles.iter().enumerate() {
        if article_index > 0 {
            text.push_str("\n\n");
            chars += 2;
        }
        for (pi, paragraph) in join_broken(&article.paragraphs).iter().enumerate() {
            if pi > 0 {
                text.push('\n');
                chars += 1;
            }
            let base_byte = text.len();
            text.push_str(paragraph);
            // Characters counted so far in this paragraph, and their bytes:
            // each character is counted once, in a gap between sentences or
            // in a sentence.
            let (mut counted_bytes, mut counted_chars) = (0usize, 0usize);
            for s in split_sentences(paragraph) {
                // `s` is a sub-slice of `paragraph`: find its byte offset.
                let offset = s.as_ptr() as usize - paragraph.as_ptr() as usize;
                counted_chars += paragraph[counted_bytes..offset].chars().count();
                let start = chars + counted_chars;
                let len = s.chars().count();
                counted_chars += len;
                counted_bytes = offset + s.len();
                let end = start + len;
                debug_assert_eq!(&text[base_byte + offset..base_byte + offset + s.len()], s);
                sentences.push(Sentence {
                    index: sentences.len(),
                    article: article_index,
                    text: s.to_string(),
                    start,
                    end,
                });
            }
            chars += counted_chars + paragraph[counted_bytes..].chars().count();
        }
    }
    Segmented { text, sentences }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::Article;

    /// The splitter as it was before it searched bytes: the reference.
    fn split_by_chars(paragraph: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut previous: Option<char> = None;
        let mut chars = paragraph.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            if matches!(c, '.' | '!' | '?') && previous.is_some_and(|p| !p.is_ascii_digit()) {
                let mut after = chars.clone();
                while after
                    .next_if(|&(_, q)| matches!(q, '"' | '”' | '’' | '\'' | ')' | '」' | '』'))
                    .is_some()
                {}
                if let Some(&(end, space)) = after.peek().filter(|(_, w)| w.is_whitespace()) {
                    let s = paragraph[start..end].trim();
                    if !s.is_empty() {
                        out.push(s);
                    }
                    start = end;
                    // Go on after the white space.
                    after.next();
                    chars = after;
                    previous = Some(space);
                    continue;
                }
            }
            previous = Some(c);
        }
        let rest = paragraph[start..].trim();
        if !rest.is_empty() {
            out.push(rest);
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(2000))]

        /// Every sentence's character offsets point at its text in the
        /// cleaned text, whatever the paragraphs (broken mid-word or not,
        /// with white space around them or none) and articles.
        #[test]
        fn offsets_point_at_the_sentences(
            articles in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::collection::vec(
                        proptest::sample::select(vec![
                            "광주시는", "산업을", "육성한다.", "방향", "을", "제시했다.", " ", "  ",
                            "\u{3000}", "3.5", "“좋다.”", "!", "?", "a", "é", "😀",
                        ]),
                        0..10,
                    ),
                    1..5,
                ),
                1..4,
            )
        ) {
            let doc = CleanDocument {
                articles: articles
                    .iter()
                    .map(|paragraphs| Article {
                        title: None,
                        date: None,
                        paragraphs: paragraphs.iter().map(|p| p.concat()).collect(),
                    })
                    .collect(),
            };
            let seg = segment(&doc);
            let chars: Vec<char> = seg.text.chars().collect();
            for s in &seg.sentences {
                let slice: String = chars[s.start..s.end].iter().collect();
                proptest::prop_assert_eq!(slice, s.text.clone());
            }
        }

        /// The byte search splits every text as the character walk did.
        #[test]
        fn splits_as_the_character_walk(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    ".", "!", "?", "\"", "”", "’", "'", ")", "」", "』", " ", "\n",
                    "\u{3000}", "가", "다", "1", "a", "…", "·",
                ]),
                0..24,
            )
        ) {
            let text: String = pieces.concat();
            proptest::prop_assert_eq!(split_sentences(&text), split_by_chars(&text));
        }
    }

    #[test]
    fn splits_on_sentence_ends_not_decimals() {
        assert_eq!(
            split_sentences("기온은 2.7도였다. 광주시는 “좋다.”라고 말했다. 끝!"),
            ["기온은 2.7도였다.", "광주시는 “좋다.”라고 말했다.", "끝!"]
        );
    }

    /// The splitter as first written, over a vector of characters.
    fn split_sentences_by_index(paragraph: &str) -> Vec<&str> {
        let chars: Vec<(usize, char)> = paragraph.char_indices().collect();
        let mut out = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < chars.len() {
            let (_, c) = chars[i];
            if matches!(c, '.' | '!' | '?') && i > 0 && !chars[i - 1].1.is_ascii_digit() {
                let mut j = i + 1;
                while j < chars.len()
                    && matches!(chars[j].1, '"' | '”' | '’' | '\'' | ')' | '」' | '』')
                {
                    j += 1;
                }
                if j < chars.len() && chars[j].1.is_whitespace() {
                    let end = chars[j].0;
                    let s = paragraph[start..end].trim();
                    if !s.is_empty() {
                        out.push(s);
                    }
                    start = end;
                    i = j;
                }
            }
            i += 1;
        }
        let rest = paragraph[start..].trim();
        if !rest.is_empty() {
            out.push(rest);
        }
        out
    }

    #[test]
    fn splitting_agrees_with_the_indexed_splitter() {
        let pieces = [
            "가", "다.", "1.", "!", "?", ".", "”", "’", ")", "」", "\"", " ", "  ", "\n",
            "\u{3000}", "a", "2", "요?", "다.”", "...",
        ];
        let texts = crate::test_support::every_sequence(&pieces, 4);
        for t in &texts {
            assert_eq!(split_sentences(t), split_sentences_by_index(t), "{t:?}");
        }
    }

    #[test]
    fn offsets_point_into_the_cleaned_text() {
        let doc = CleanDocument {
            articles: vec![
                Article {
                    title: Some("제목".into()),
                    date: None,
                    paragraphs: vec!["제목 줄".into(), "첫 문장이다. 둘째 문장이다.".into()],
                },
                Article {
                    title: None,
                    date: None,
                    paragraphs: vec!["다른 기사다.".into()],
                },
            ],
        };
        let seg = segment(&doc);
        let chars: Vec<char> = seg.text.chars().collect();
        for s in &seg.sentences {
            let slice: String = chars[s.start..s.end].iter().collect();
            assert_eq!(slice, s.text);
        }
        assert_eq!(seg.sentences.len(), 4);
        assert_eq!(seg.sentences[3].article, 1);
    }

    /// [`join_broken`] as first written: each paragraph looked at as a
    /// sentence or not each time it is needed.
    fn join_broken_plain(paragraphs: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut body_started = false;
        for p in paragraphs {
            match out.last_mut() {
                Some(last)
                    if body_started
                        && continues_previous(
                            (last, is_sentence_line(last)),
                            (p, is_sentence_line(p)),
                        ) =>
                {
                    last.push_str(p)
                }
                _ => out.push(p.clone()),
            }
            body_started |= is_sentence_line(p);
        }
        out
    }

    #[test]
    fn paragraphs_are_joined_as_the_plain_code_joins_them() {
        let pieces = [
            "머리 문장이 여기 있다.",
            "이번 협약은 발전 방향",
            "을 제시하고 마련됐다.",
            "을 제시하고",
            "고 밝혔다",
            "을 제시하고 마련했다",
            "이 참여한다 고 한다.",
            "제목",
            "",
        ];
        let mut joins = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        let paragraphs = [a, b, c, d].map(String::from);
                        let joined = join_broken(&paragraphs);
                        assert_eq!(joined, join_broken_plain(&paragraphs), "{paragraphs:?}");
                        joins += usize::from(joined.len() < 4);
                    }
                }
            }
        }
        assert!(joins > 100, "{joins}");
    }

    #[test]
    fn joins_paragraphs_broken_mid_word() {
        let paragraphs = [
            "머리 문장이 여기 있다.".to_string(),
            "이번 협약은 발전 방향".to_string(),
            "을 제시하고 마련됐다.".to_string(),
            "양 기관은 협력한다.".to_string(),
        ];
        let joined = join_broken(&paragraphs);
        assert_eq!(joined[1], "이번 협약은 발전 방향을 제시하고 마련됐다.");
        assert_eq!(joined.len(), 3);
    }
}
