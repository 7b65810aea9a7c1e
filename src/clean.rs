//! Stage 2 — clean: keeps the article text of a news page and drops the
//! rest (weather widgets, navigation, bylines, photo credits, copyright
//! lines, "most read" lists and teasers of other articles).
//!
//! A page may hold several articles: a byline (`/홍길동 기자 a@b.kr`) ends
//! one, and the next headline starts another. A list marker such as
//! `더보기` or `가장 많이 본 뉴스` after article text ends the page's
//! articles: what follows is other articles' teasers. A block with no
//! sentence of running text (an advert, a menu) is no article.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;
use rustc_hash::FxHashSet;

use crate::model::hangul_syllable_at;
use crate::needle::contains_literal;

/// One article of a page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Article {
    /// The headline.
    pub title: Option<String>,
    /// Publication date as `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Headlines, sub-headlines, body paragraphs and captions, in order.
    pub paragraphs: Vec<String>,
}

/// The article text of a page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CleanDocument {
    /// The articles, in page order.
    pub articles: Vec<Article>,
}

impl CleanDocument {
    /// The first article's title, standing for the page's.
    pub fn title(&self) -> Option<&str> {
        self.articles.iter().find_map(|a| a.title.as_deref())
    }

    /// The first date found.
    pub fn date(&self) -> Option<&str> {
        self.articles.iter().find_map(|a| a.date.as_deref())
    }
}

struct Patterns {
    byline: Regex,
    trailing_byline: Regex,
    email_only: Regex,
    dateline_prefix: Regex,
    outlet_prefix: Regex,
    photo_credit: Regex,
    related: Regex,
    image_markup: Regex,
    /// Any of [`CLUTTER_MARKERS`].
    clutter: Regex,
}

/// An e-mail address in a byline: ASCII letters, digits and `_`, and
/// Hangul (a Korean domain, or words the page glued to the address:
/// `hong@yna.co.kr입니다`). Unicode's `\w`, which this replaces, also took
/// other scripts' letters, full-width letters and other digits; an address
/// made of those is no longer a byline. `\w` compiles into an automaton
/// many times larger, and three patterns hold this one: compiling them took
/// two fifths of a small run's start-up.
const EMAIL: &str = r"[0-9A-Za-z_가-힣.+-]+@[0-9A-Za-z_가-힣-]+(?:\.[0-9A-Za-z_가-힣-]+)+";

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        // "/박진표 기자 lucky@kwangju.co.kr", "홍길동 기자", "[홍길동 기자]"
        byline: Regex::new(&format!(
            r"^[/\[(]?\s*[가-힣]{{2,4}}\s*(?:선임|수석|전문|객원)?\s*기자\s*[\])]?\s*(?:{EMAIL})?\s*$"
        ))
        .expect("valid regex"),
        trailing_byline: Regex::new(&format!(
            r"\s*/\s*[가-힣]{{2,4}}\s*(?:선임|수석)?\s*기자\s*(?:{EMAIL})?\s*$"
        ))
        .expect("valid regex"),
        email_only: Regex::new(&format!(
            r"^(?:{EMAIL}\s*)+(?:\d{{4}}[-.]\d{{2}}[-.]\d{{2}}\s*[\d:]*)?$"
        ))
        .expect("valid regex"),
        // "[광양=뉴스핌] 오정근 기자 = ", "[뉴스21 통신=홍판곤기자 ]"
        dateline_prefix: Regex::new(r"^\[[^\]]{1,30}=[^\]]{0,30}\]\s*(?:[가-힣]{2,4}\s*(?:선임|수석)?\s*기자\s*=\s*)?")
            .expect("valid regex"),
        // "(포탈뉴스통신) ", "(서울=연합뉴스) "
        outlet_prefix: Regex::new(r"^\((?:[^()]{0,12}=)?[^()]{0,12}(?:뉴스|통신|일보|신문|방송|데일리|타임즈|저널)[^()]{0,6}\)\s*")
            .expect("valid regex"),
        photo_credit: Regex::new(r"\[사진\s*=?[^\]]*\]|\(사진\s*=[^)]*\)|^▲\s*사진\s*=|^사진\s*=|제공\s*$").expect("valid regex"),
        // (`clean` checks for its first characters before it runs it.)
        related: Regex::new(r"^[〈<\[【(]\s*관련\s*기사[^〉>\]】)]*[〉>\]】)]$").expect("valid regex"),
        image_markup: Regex::new(r"!\[[^\]]*\]\([^)]*\)|\|\s*$").expect("valid regex"),
        clutter: Regex::new(
            &CLUTTER_MARKERS
                .iter()
                .map(|m| regex::escape(m))
                .collect::<Vec<_>>()
                .join("|"),
        )
        .expect("valid regex"),
    })
}

/// The date pattern of [`find_date`], for the rare lines holding a numeric
/// character other than an ASCII digit (`①`, `²`, full-width digits):
/// compiled the first time one is seen.
fn date_pattern() -> &'static Regex {
    static DATE: OnceLock<Regex> = OnceLock::new();
    DATE.get_or_init(|| {
        Regex::new(r"(\d{4})\s*[.\-/년]\s*(\d{1,2})\s*[.\-/월]\s*(\d{1,2})").expect("valid regex")
    })
}

/// Lines that, once article text has started, end the page's articles.
const TERMINATORS: &[&str] = &[
    "더보기",
    "가장많이본",
    "많이본뉴스",
    "많이본기사",
    "인기기사",
    "인기뉴스",
    "베스트기사",
    "포토이슈",
    "이전기사",
    "다음기사",
    "목록바로가기",
    "top으로",
    "주요뉴스",
    "최신뉴스",
    "추천기사",
    "핫이슈",
    "오늘의뉴스",
    "관련뉴스",
    "댓글",
];

/// Whether a squashed line starts or ends with one of [`TERMINATORS`].
fn is_terminator(squashed: &str) -> bool {
    let line = squashed.as_bytes();
    // Every terminator is at least three bytes long. Their first and last
    // three bytes are compared first, inline, before the whole.
    let (Some(head), Some(tail)) = (line.first_chunk::<3>(), line.last_chunk::<3>()) else {
        return false;
    };
    TERMINATORS.iter().any(|t| {
        let t = t.as_bytes();
        t.first_chunk::<3>() == Some(head) && line.starts_with(t)
            || t.last_chunk::<3>() == Some(tail) && line.ends_with(t)
    })
}

/// Lines that are never article text.
const CLUTTER_MARKERS: &[&str] = &[
    "기상청제공",
    "뉴스출처",
    "저작권자",
    "무단전재",
    "재배포금지",
    "copyright",
    "ⓒ",
    "©",
    "기사메일전송",
    "기사수정",
    "기사입력",
    "최종수정",
    "입력20",
    "수정20",
    "등록20",
    "글자크기",
    "인쇄",
    "바로가기",
    "구독",
    "공유하기",
    "카카오톡",
    "페이스북",
    "트위터",
];

fn squash(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    // Characters kept as they are (Hangul, which has no case, and most
    // ASCII) are copied in runs, from `run` on.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            let as_is = !b.is_ascii_uppercase()
                && !b.is_ascii_whitespace()
                && b != 0x0B
                && !matches!(b, b'[' | b']' | b':' | b'|');
            if !as_is {
                out.push_str(&line[run..i]);
                run = i + 1;
                push_squashed(&mut out, char::from(b));
            }
            i += 1;
            continue;
        }
        // Hangul syllables without decoding the character.
        if hangul_syllable_at(bytes, i) {
            i += 3;
            continue;
        }
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        out.push_str(&line[run..i]);
        i += c.len_utf8();
        run = i;
        push_squashed(&mut out, c);
    }
    out.push_str(&line[run..]);
    out
}

/// Appends what [`squash`] makes of one character: nothing for white space
/// and the separators it drops, else the character in lower case.
fn push_squashed(out: &mut String, c: char) {
    if c.is_whitespace() || matches!(c, '[' | ']' | '•' | '·' | ':' | '|') {
        return;
    }
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else {
        out.extend(c.to_lowercase());
    }
}

/// Whether `text` has fewer than `n` characters, counted only when its
/// length in bytes (one to four a character) does not tell.
fn fewer_chars_than(text: &str, n: usize) -> bool {
    text.len() < n || text.len() < 4 * n && text.chars().count() < n
}

/// Whether `line` holds a letter or a digit ([`char::is_alphanumeric`]).
/// ASCII and Hangul syllables are looked at by their bytes first:
/// `is_alphanumeric` is a table search for every other character, and
/// most lines that begin with a symbol (`▲`, `“`) go on with a syllable.
fn has_letter_or_digit(line: &str) -> bool {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphanumeric() || hangul_syllable_at(bytes, i) {
            return true;
        }
        i += 1;
    }
    line.chars().any(|c| !c.is_ascii() && c.is_alphanumeric())
}

/// Trims white space off both ends of `line` without reallocating.
fn trim_in_place(line: &mut String) {
    // Most lines start with ASCII that is no white space or with a
    // character of U+A000–U+DFFF (Hangul among them; lead bytes 0xEA–0xED),
    // none of which is white space, and end with such ASCII or a Hangul
    // syllable: nothing to trim, seen without decoding.
    let bytes = line.as_bytes();
    let kept_start = bytes
        .first()
        .is_some_and(|&b| b.is_ascii_graphic() || (0xEA..=0xED).contains(&b));
    let kept_end = match bytes.last() {
        Some(b) if b.is_ascii_graphic() => true,
        _ => bytes.len() >= 3 && hangul_syllable_at(bytes, bytes.len() - 3),
    };
    if kept_start && kept_end {
        return;
    }
    let end = line.trim_end().len();
    line.truncate(end);
    let start = line.len() - line.trim_start().len();
    if start > 0 {
        line.drain(..start);
    }
}

/// Replaces `line` by what a regex replacement made of it, if anything.
fn apply(line: &mut String, replaced: impl FnOnce(&str) -> Cow<'_, str>) {
    let new = match replaced(line) {
        Cow::Owned(new) => Some(new),
        Cow::Borrowed(_) => None,
    };
    if let Some(new) = new {
        *line = new;
    }
}

/// Whether `text` has at least three words (`split_whitespace().nth(2)`),
/// found without decoding Hangul, which is never white space.
fn has_three_words(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut words = 0;
    let mut in_word = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (space, len) = match b {
            0x00..=0x7F => (b.is_ascii_whitespace() || b == 0x0B, 1),
            // Lead bytes of U+A000–U+DFFF, Hangul syllables among them:
            // none of these is white space.
            0xEA..=0xED => (false, 3),
            _ => {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.is_whitespace(), c.len_utf8())
            }
        };
        if !space && !in_word {
            words += 1;
            if words == 3 {
                return true;
            }
        }
        in_word = !space;
        i += len;
    }
    false
}

/// Whether a line reads as running text (a sentence), not a headline or a menu.
pub fn is_sentence_line(line: &str) -> bool {
    let t = line.trim_end_matches(['"', '”', '’', '\'', ')', ' ']);
    // The ending first: it is cheaper to look at than the words.
    let ends_a_sentence = t.ends_with("다.")
        || t.ends_with('다')
        || t.ends_with("요.")
        || (t.ends_with('.') && !fewer_chars_than(t, 41));
    ends_a_sentence && has_three_words(t)
}

/// Which of a few characters a raw line holds, noted while the line is
/// normalised so that `clean` need not search the line for each of them.
/// Normalising and every later edit of a line only remove characters or
/// map them to others than these, so a mark missing means the character is
/// missing from the line as it ends up, and a mark present means a search
/// is needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LineMarks(u8);

impl LineMarks {
    const AT: u8 = 1;
    const PIPE: u8 = 1 << 1;
    const SLASH: u8 = 1 << 2;
    const PAREN: u8 = 1 << 3;
    const BANG: u8 = 1 << 4;
    const DIGIT: u8 = 1 << 5;
    /// `°`.
    const DEGREE: u8 = 1 << 6;
    /// `℃`.
    const CELSIUS: u8 = 1 << 7;

    /// The mark of each ASCII byte.
    const ASCII: [u8; 128] = {
        let mut table = [0; 128];
        table[b'@' as usize] = Self::AT;
        table[b'|' as usize] = Self::PIPE;
        table[b'/' as usize] = Self::SLASH;
        table[b'(' as usize] = Self::PAREN;
        table[b'!' as usize] = Self::BANG;
        let mut d = b'0';
        while d <= b'9' {
            table[d as usize] = Self::DIGIT;
            d += 1;
        }
        table
    };

    const fn of_char(c: char) -> u8 {
        match c {
            '°' => Self::DEGREE,
            '℃' => Self::CELSIUS,
            c if c.is_ascii() => Self::ASCII[c as usize],
            _ => 0,
        }
    }

    /// The mark of `text`'s first character, which must have one (checked
    /// when the program is compiled: see [`marked_contains`]).
    const fn of_first(text: &str) -> u8 {
        let bytes = text.as_bytes();
        // The two marked characters beyond ASCII, by their UTF-8 bytes.
        let mark = match bytes {
            [0xC2, 0xB0, ..] => Self::DEGREE,
            [0xE2, 0x84, 0x83, ..] => Self::CELSIUS,
            [b, ..] if b.is_ascii() => Self::ASCII[*b as usize],
            _ => 0,
        };
        assert!(mark != 0, "the text's first character has no mark");
        mark
    }

    /// Whether the line may hold the marked character.
    fn may_hold(self, mark: u8) -> bool {
        self.0 & mark != 0
    }
}

/// Whether the normalised `$line` contains the literal `$text`: searched
/// only when `$marks`, the raw line's marks, say that the text's first
/// character may be there (normalising a line never adds a marked
/// character). A text whose first character has no mark does not compile.
macro_rules! marked_contains {
    ($marks:expr, $line:expr, $text:literal) => {
        $marks.may_hold(const { LineMarks::of_first($text) })
            && match const { only_char($text) } {
                // One character: `str`'s own search for it, without a
                // searcher to build.
                Some(c) => $line.contains(c),
                None => contains_literal!($line, $text),
            }
    };
}

/// The character `text` is made of, when it is one character.
const fn only_char(text: &str) -> Option<char> {
    let b = text.as_bytes();
    let code = match *b {
        [a] if a < 0x80 => a as u32,
        [a, b] if a >> 5 == 0b110 => (a as u32 & 0x1F) << 6 | (b as u32 & 0x3F),
        [a, b, c] if a >> 4 == 0b1110 => {
            (a as u32 & 0x0F) << 12 | (b as u32 & 0x3F) << 6 | (c as u32 & 0x3F)
        }
        [a, b, c, d] if a >> 3 == 0b11110 => {
            (a as u32 & 0x07) << 18
                | (b as u32 & 0x3F) << 12
                | (c as u32 & 0x3F) << 6
                | (d as u32 & 0x3F)
        }
        _ => return None,
    };
    char::from_u32(code)
}

/// The line with its white space collapsed and trimmed, controls dropped
/// and look-alike characters mapped, and the marks of the raw line.
fn normalise_line(line: &str) -> (String, LineMarks) {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut last_space = true;
    let mut marks = 0;
    // Characters kept as they are are copied in runs, from `run` on.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Printable ASCII and the three-byte characters U+A000–U+DFFF
        // (Hangul syllables among them) are neither mapped nor control:
        // they are kept without being decoded.
        match bytes[i] {
            b @ 0x21..=0x7E => {
                marks |= LineMarks::ASCII[usize::from(b)];
                last_space = false;
                i += 1;
                continue;
            }
            b' ' if !last_space => {
                last_space = true;
                i += 1;
                continue;
            }
            0xEA..=0xED => {
                last_space = false;
                i += 3;
                // The rest of a run of them.
                while matches!(bytes.get(i), Some(0xEA..=0xED)) {
                    i += 3;
                }
                continue;
            }
            _ => {}
        }
        let Some(c) = line[i..].chars().next() else {
            break;
        };
        marks |= LineMarks::of_char(c);
        let mapped = match c {
            '\u{a0}' | '\u{3000}' | '\t' | '\u{200b}' => ' ',
            '․' | '・' | '‧' | '∙' => '·',
            c => c,
        };
        // White space after white space (or at the start) and control
        // characters are dropped.
        let as_is = mapped == c && !c.is_control() && !(c == ' ' && last_space);
        if as_is {
            last_space = c == ' ';
            i += c.len_utf8();
            continue;
        }
        out.push_str(&line[run..i]);
        i += c.len_utf8();
        run = i;
        if mapped == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else if !mapped.is_control() {
            out.push(mapped);
            last_space = false;
        }
    }
    out.push_str(&line[run..]);
    // A company mark written out: (주)대성정밀 → ㈜대성정밀.
    let marks = LineMarks(marks);
    if marked_contains!(marks, out, "(주)") || marked_contains!(marks, out, "( 주 )") {
        let out = out.trim().replace("(주)", "㈜").replace("( 주 )", "㈜");
        return (out, marks);
    }
    trim_in_place(&mut out);
    (out, marks)
}

/// The first `YYYY-MM-DD`-like date in a line (`2023년02월17일`, `2019-05-08`,
/// `2026.02.11`), normalised.
pub fn find_date(line: &str) -> Option<String> {
    // The numbers must parse as ASCII digits: a line without one has no
    // date (the pattern's Unicode `\d` alone would find none that parses).
    if !line.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    // A scan for the pattern with ASCII digits. Where it finds none, the
    // pattern finds none either, or one with another digit (its `\d` is
    // Unicode's), which does not parse. Where the line has such digits,
    // the pattern's match decides.
    let ascii = scan_ascii_date(line)?;
    let (year, month, day) = if line.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
        let caps = date_pattern().captures(line)?;
        (
            caps[1].parse().ok()?,
            caps[2].parse().ok()?,
            caps[3].parse().ok()?,
        )
    } else {
        ascii
    };
    ((1990..=2100).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
        .then(|| iso_date(year, month, day))
}

/// `YYYY-MM-DD` of a year of four digits, a month and a day of one or two
/// (what `format!("{year:04}-{month:02}-{day:02}")` writes, without
/// `fmt`).
fn iso_date(year: u32, month: u32, day: u32) -> String {
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        '-',
        digit(month / 10),
        digit(month),
        '-',
        digit(day / 10),
        digit(day),
    ]
    .into_iter()
    .collect()
}

/// The first match of the date pattern (`\d{4}\s*[.\-/년]\s*\d{1,2}\s*[.\-/월]\s*\d{1,2}`,
/// leftmost, greedy) in a line whose digits are all ASCII, as numbers.
fn scan_ascii_date(line: &str) -> Option<(u32, u32, u32)> {
    let bytes = line.as_bytes();
    // Up to two digits at `at`, with the offset after them (none: no digit).
    let number = |at: usize| -> Option<(u32, usize)> {
        let len = bytes[at..]
            .iter()
            .take(2)
            .take_while(|b| b.is_ascii_digit())
            .count();
        let value = line[at..at + len].parse().ok()?;
        Some((value, at + len))
    };
    let skip_space = |at: usize| -> usize {
        at + line[at..]
            .chars()
            .take_while(|c| c.is_whitespace())
            .map(char::len_utf8)
            .sum::<usize>()
    };
    let separator = |at: usize, unit: char| -> Option<usize> {
        let c = line[at..].chars().next()?;
        (matches!(c, '.' | '-' | '/') || c == unit).then(|| at + c.len_utf8())
    };
    let date_at = |start: usize| -> Option<(u32, u32, u32)> {
        let year_digits = bytes.get(start..start + 4)?;
        if !year_digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let year = line[start..start + 4].parse().ok()?;
        let at = separator(skip_space(start + 4), '년')?;
        let (month, at) = number(skip_space(at))?;
        let at = separator(skip_space(at), '월')?;
        let (day, _) = number(skip_space(at))?;
        Some((year, month, day))
    };
    // A match starts on a digit.
    (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit())
        .find_map(date_at)
}

#[derive(Default)]
struct Block {
    head: Vec<String>,
    body: Vec<String>,
    date: Option<String>,
    /// Number of head lines before the first date or byline line.
    meta_at: Option<usize>,
}

impl Block {
    fn into_article(self) -> Option<Article> {
        if self.body.is_empty() {
            return None;
        }
        // The headline: the last line that reads like one (menus and
        // section names are shorter) before the date and byline lines, else
        // the first of the last run of such lines. Lines before it are menus.
        let headline = |l: &String| l.chars().count() >= 12 && l.split(' ').count() >= 3;
        let before_meta = self
            .meta_at
            .and_then(|m| self.head[..m].iter().rposition(headline));
        let start = before_meta.unwrap_or_else(|| {
            let last = self.head.iter().rposition(headline);
            let mut start = last.unwrap_or(self.head.len());
            while start > 0 && headline(&self.head[start - 1]) {
                start -= 1;
            }
            start
        });
        let head: Vec<String> = self.head[start..].to_vec();
        let title = head.first().cloned();
        let mut paragraphs = head;
        paragraphs.extend(self.body);
        Some(Article {
            title,
            date: self.date,
            paragraphs,
        })
    }
}

/// The lines of `text` as [`str::lines`] gives them (split at `\n`, a
/// `\r` before it dropped, no last empty line), each found by `memchr`'s
/// vectorised search: `str::lines` looks for each with the standard
/// library's word-at-a-time one, which costs more on lines this short.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(end) => {
                let line = &rest[..end];
                rest = &rest[end + 1..];
                Some(line.strip_suffix('\r').unwrap_or(line))
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}

/// Keeps the article text of a page.
pub fn clean(text: &str) -> CleanDocument {
    let p = patterns();
    let mut articles = Vec::new();
    let mut block = Block::default();
    // Room for a page's lines from the start (most pages have a few
    // dozen), so that the set does not grow line by line.
    let mut seen: FxHashSet<String> = FxHashSet::with_capacity_and_hasher(64, Default::default());
    let mut body_started = false;

    for raw in lines(text) {
        let (mut line, marks) = normalise_line(raw);
        if line.is_empty() {
            continue;
        }
        // A line without a letter or digit is no text. (What `squash`
        // drops or lowers keeps a character's being a letter or digit, so
        // the line itself is looked at.)
        if !has_letter_or_digit(&line) {
            continue;
        }
        // Whether the line as it stands reads as running text.
        let sentence = is_sentence_line(&line);
        let length_checked = line.len();
        // The line squashed, for the menu and clutter markers: made only
        // for lines that are no sentence (the markers are looked for in
        // those alone).
        let squashed = if sentence {
            String::new()
        } else {
            squash(&line)
        };
        // Dates in header lines ("등록 2019-05-08", "기사입력 : 2023년02월17일").
        if !sentence && fewer_chars_than(&line, 60) {
            if let Some(date) = marks
                .may_hold(LineMarks::DIGIT)
                .then(|| find_date(&line))
                .flatten()
            {
                if block.date.is_none() && block.body.is_empty() {
                    block.date = Some(date.clone());
                }
                if block.body.is_empty() && !block.head.is_empty() && block.meta_at.is_none() {
                    block.meta_at = Some(block.head.len());
                }
                continue;
            }
        }
        if body_started && !sentence && is_terminator(&squashed) {
            break;
        }
        if marked_contains!(marks, line, "℃")
            || marked_contains!(marks, line, "°C")
            || !sentence && fewer_chars_than(&line, 80) && p.clutter.is_match(&squashed)
        {
            continue;
        }
        // Each pattern is tried only on lines holding the text it needs.
        // The first characters `related` allows, looked at before it runs.
        if line.starts_with(['〈', '<', '[', '【', '('])
            && contains_literal!(line, "관련")
            && p.related.is_match(&line)
            || !sentence
                && (contains_literal!(line, "사진") || contains_literal!(line, "제공"))
                && p.photo_credit.is_match(&line)
        {
            continue;
        }
        let has_reporter = contains_literal!(line, "기자");
        if has_reporter && p.byline.is_match(&line)
            || marked_contains!(marks, line, "@") && p.email_only.is_match(&line)
        {
            if let Some(article) = std::mem::take(&mut block).into_article() {
                articles.push(article);
            }
            continue;
        }
        if marked_contains!(marks, line, "![") || marked_contains!(marks, line, "|") {
            apply(&mut line, |l| p.image_markup.replace_all(l, ""));
        }
        trim_in_place(&mut line);
        if line.starts_with('[') {
            apply(&mut line, |l| p.dateline_prefix.replace(l, ""));
        }
        if line.starts_with('(') {
            apply(&mut line, |l| p.outlet_prefix.replace(l, ""));
        }
        let bullets = line.len()
            - line
                .trim_start_matches(['•', '○', '◆', '◇', '■', '□', '●', '-', ' '])
                .len();
        if bullets > 0 {
            line.drain(..bullets);
        }
        trim_in_place(&mut line);
        // A caption or paragraph that ends with its byline closes the article.
        let mut closes = false;
        let trailing = (marked_contains!(marks, line, "/") && contains_literal!(line, "기자"))
            .then(|| p.trailing_byline.find(&line))
            .flatten();
        if let Some(m) = trailing {
            line.truncate(m.start());
            closes = true;
        }
        if line.is_empty() || !seen.insert(line.clone()) {
            if closes {
                if let Some(article) = std::mem::take(&mut block).into_article() {
                    articles.push(article);
                }
            }
            continue;
        }
        // Every change above only takes text away: a line of the same
        // length is the line `sentence` was found for.
        let still_sentence = if line.len() == length_checked {
            sentence
        } else {
            is_sentence_line(&line)
        };
        if still_sentence {
            body_started = true;
            block.body.push(line);
        } else if block.body.is_empty() {
            block.head.push(line);
        } else if fewer_chars_than(&line, 8) && !line.contains(' ') {
            // A stray menu word inside the body ("0", "인쇄").
        } else {
            // A line of the body that does not end a sentence: a paragraph
            // broken across lines, or a sub-heading.
            block.body.push(line);
        }
        if closes {
            if let Some(article) = std::mem::take(&mut block).into_article() {
                articles.push(article);
            }
        }
    }
    if let Some(article) = block.into_article() {
        articles.push(article);
    }
    // Articles without a date of their own carry the page's: the first
    // date of an article on it (not of an advert or a menu).
    let page_date = articles.iter().find_map(|a| a.date.clone());
    for article in &mut articles {
        if article.date.is_none() {
            article.date = page_date.clone();
        }
    }
    CleanDocument { articles }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_weather_bylines_and_teasers() {
        let page = "2026.02.11 (수)\n  • 흐림광주 2.7℃\n기상청 제공\n사회\n\
                    광주시, 인공지능 산업 육성 본격화\n\
                    광주시는 인공지능 산업을 육성한다고 밝혔다.\n\
                    /홍길동 기자 hong@example.com\n\
                    더보기\n\
                    다른 기사, 부산시는 조선 산업을 육성한다고 밝혔다.";
        let doc = clean(page);
        assert_eq!(doc.articles.len(), 1);
        let a = &doc.articles[0];
        assert_eq!(
            a.title.as_deref(),
            Some("광주시, 인공지능 산업 육성 본격화")
        );
        assert_eq!(a.date.as_deref(), Some("2026-02-11"));
        assert_eq!(a.paragraphs.len(), 2);
        assert!(!a
            .paragraphs
            .iter()
            .any(|p| p.contains("부산시") || p.contains('℃') || p.contains("기자")));
    }

    #[test]
    fn splits_pages_with_several_articles_and_drops_adverts() {
        let page = "첫째 기사의 제목이 여기 있다 하나\n광주시는 첫째 일을 했다.\n/갑돌이 기자 a@b.kr\n\
                    둘째 기사의 제목이 여기 있다 둘\n전남도는 둘째 일을 했다.\n/을순이 기자 c@d.kr\n\
                    http://festival.example\n·주최 | 남원시 ·후원 | 전라북도";
        let doc = clean(page);
        assert_eq!(doc.articles.len(), 2);
        assert_eq!(
            doc.articles[1].title.as_deref(),
            Some("둘째 기사의 제목이 여기 있다 둘")
        );
        assert!(!doc
            .articles
            .iter()
            .flat_map(|a| &a.paragraphs)
            .any(|p| p.contains("남원시")));
    }

    #[test]
    fn iso_dates_are_written_as_format_writes_them() {
        for (y, m, d) in [(1990, 1, 1), (2024, 12, 31), (2100, 9, 5), (2026, 2, 11)] {
            assert_eq!(iso_date(y, m, d), format!("{y:04}-{m:02}-{d:02}"));
        }
    }

    #[test]
    fn lines_are_split_as_str_lines_splits_them() {
        let pieces = ["a", "가", "\n", "\r", "\r\n", " ", ""];
        for text in crate::test_support::every_sequence(&pieces, 5) {
            assert_eq!(
                lines(&text).collect::<Vec<_>>(),
                text.lines().collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn three_words_are_counted_as_split_whitespace_counts_them() {
        let pieces = [
            "가", "a", " ", "\u{3000}", "\u{a0}", "\u{b}", "\u{85}", "ㄱ", "힣", "é", "\n",
        ];
        let texts = crate::test_support::every_sequence(&pieces, 5);
        for t in &texts {
            assert_eq!(
                has_three_words(t),
                t.split_whitespace().nth(2).is_some(),
                "{t:?}"
            );
        }
    }

    /// `squash` and `normalise_line` as first written, a character at a
    /// time (the fast `squash` copies runs and hands the rest to
    /// `push_squashed`).
    fn squash_by_char(line: &str) -> String {
        let mut out = String::new();
        for c in line.chars() {
            push_squashed(&mut out, c);
        }
        out
    }

    fn normalise_line_by_char(line: &str) -> String {
        let mut out = String::new();
        let mut last_space = true;
        for c in line.chars() {
            let c = match c {
                '\u{a0}' | '\u{3000}' | '\t' | '\u{200b}' => ' ',
                '․' | '・' | '‧' | '∙' => '·',
                c => c,
            };
            if c == ' ' {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
            } else if !c.is_control() {
                out.push(c);
                last_space = false;
            }
        }
        if out.contains("(주)") || out.contains("( 주 )") {
            return out.trim().replace("(주)", "㈜").replace("( 주 )", "㈜");
        }
        out.trim().to_string()
    }

    #[test]
    fn line_normalisation_agrees_with_the_character_at_a_time_code() {
        let pieces = [
            "가", "a", "A", " ", "  ", "\t", "\u{a0}", "\u{3000}", "\u{200b}", "\u{b}", "\u{1}",
            "\u{85}", "・", "·", "[", ":", "|", "•", "É", "ß", "İ", "(주)", "주", "(", ")",
            "\u{7f}", "\u{9f}", "\u{a000}", "Ꙁ", "\u{d7a3}", "\u{d7a4}", "\u{e000}", "\u{2024}",
            "😀", "@", "/", "!", "°", "℃", "7",
        ];
        let texts = crate::test_support::every_sequence(&pieces, 4);
        for t in &texts {
            assert_eq!(squash(t), squash_by_char(t), "{t:?}");
            let (line, marks) = normalise_line(t);
            assert_eq!(line, normalise_line_by_char(t), "{t:?}");
            // The marks are the raw line's characters.
            for (mark, c) in [
                (LineMarks::AT, '@'),
                (LineMarks::PIPE, '|'),
                (LineMarks::SLASH, '/'),
                (LineMarks::PAREN, '('),
                (LineMarks::BANG, '!'),
                (LineMarks::DEGREE, '°'),
                (LineMarks::CELSIUS, '℃'),
            ] {
                assert_eq!(marks.may_hold(mark), t.contains(c), "{c} in {t:?}");
            }
            assert_eq!(
                marks.may_hold(LineMarks::DIGIT),
                t.bytes().any(|b| b.is_ascii_digit()),
                "{t:?}"
            );
        }
    }

    #[test]
    fn terminators_are_found_at_either_end() {
        assert!(TERMINATORS.iter().all(|t| t.len() >= 3));
        let mut pieces: Vec<&str> = TERMINATORS.to_vec();
        pieces.extend(["", "가", "a", "더", "글", "댓"]);
        for t in crate::test_support::every_sequence(&pieces, 2) {
            let plain = TERMINATORS
                .iter()
                .any(|x| t.starts_with(x) || t.ends_with(x));
            assert_eq!(is_terminator(&t), plain, "{t:?}");
        }
    }

    #[test]
    fn letters_and_digits_are_found_as_is_alphanumeric_finds_them() {
        let pieces = [
            "▲", "“", " ", ".", "가", "a", "7", "①", "Ⅻ", "é", "😀", "\u{3131}", "\u{abff}",
            "\u{d7a4}", "\u{a000}", "·",
        ];
        for t in crate::test_support::every_sequence(&pieces, 3) {
            assert_eq!(
                has_letter_or_digit(&t),
                t.chars().any(char::is_alphanumeric),
                "{t:?}"
            );
        }
    }

    #[test]
    fn characters_are_counted_only_when_the_length_does_not_tell() {
        for t in crate::test_support::every_sequence(&["가", "a", "é", "😀"], 5) {
            for n in 0..8 {
                assert_eq!(fewer_chars_than(&t, n), t.chars().count() < n, "{t:?} {n}");
            }
        }
    }

    #[test]
    fn lines_are_trimmed_as_str_trim_trims() {
        let pieces = [
            "가", "힣", "a", ".", " ", "\u{2003}", "\u{2028}", "\u{3000}", "\t", "é", "😀",
            "\u{a000}", "\u{d7a4}", "\u{abff}", "\u{85}",
        ];
        for t in crate::test_support::every_sequence(&pieces, 4) {
            let mut line = t.clone();
            trim_in_place(&mut line);
            assert_eq!(line, t.trim(), "{t:?}");
        }
    }

    #[test]
    fn marked_texts_are_searched_as_str_contains_does() {
        for t in ["", "a", "é", "°", "℃", "가", "😀", "ab", "°C", "가나"] {
            let mut chars = t.chars();
            let one = chars.next().filter(|_| chars.next().is_none());
            assert_eq!(only_char(t), one, "{t:?}");
        }
        for c in ['@', '|', '/', '(', '!', '°', '℃', '7'] {
            let text = format!("{c}x");
            assert_eq!(LineMarks::of_first(&text), LineMarks::of_char(c), "{c}");
        }
        for line in [
            "30℃ 안팎",
            "영하 3°C",
            "a|b",
            "메일 x@y.kr",
            "![사진]",
            "기자/",
            "(주)대성",
            "없음",
        ] {
            let (normal, marks) = normalise_line(line);
            assert_eq!(marked_contains!(marks, normal, "℃"), normal.contains('℃'));
            assert_eq!(marked_contains!(marks, normal, "°C"), normal.contains("°C"));
            assert_eq!(marked_contains!(marks, normal, "|"), normal.contains('|'));
            assert_eq!(marked_contains!(marks, normal, "@"), normal.contains('@'));
            assert_eq!(marked_contains!(marks, normal, "!["), normal.contains("!["));
            assert_eq!(marked_contains!(marks, normal, "/"), normal.contains('/'));
        }
    }

    /// [`find_date`] as first written: the pattern alone.
    fn find_date_by_pattern(line: &str) -> Option<String> {
        let caps = date_pattern().captures(line)?;
        let year: u32 = caps[1].parse().ok()?;
        let month: u32 = caps[2].parse().ok()?;
        let day: u32 = caps[3].parse().ok()?;
        ((1990..=2100).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
            .then(|| format!("{year:04}-{month:02}-{day:02}"))
    }

    #[test]
    fn dates_are_found_as_the_pattern_finds_them() {
        let pieces = [
            "2023", "12", "1", "0", " ", "\u{3000}", ".", "-", "/", "년", "월", "a", "가",
        ];
        let texts = crate::test_support::every_sequence(&pieces, 5);
        for t in &texts {
            assert_eq!(find_date(t), find_date_by_pattern(t), "{t:?}");
        }
        for t in [
            "２０２３.1.1 2023.1.1",
            "٢٠٢٣-1-1 2023.02.03",
            "기사입력 : 2023년02월17일 10:00",
            "등록 2019-05-08 오전",
            "20231.1.1",
            "2023.123.4",
            "2023 . 1 . 123",
            "1999.12.31~2000.1.1",
        ] {
            assert_eq!(find_date(t), find_date_by_pattern(t), "{t:?}");
        }
        assert_eq!(find_date("2023.1.123").as_deref(), Some("2023-01-12"));
    }

    #[test]
    fn related_article_markers_are_dropped_and_sentences_about_relations_kept() {
        let page = "관련 기관이 모인 회의의 제목이 여기 있다\n\
                    [관련기사]\n\
                    광주시는 관련 기관과 협약을 맺었다고 밝혔다.\n\
                    〈관련 기사〉\n\
                    (관련기사 더 보기)\n\
                    【관련기사】\n\
                    부산시는 관련 산업을 육성한다.";
        let doc = clean(page);
        let paragraphs = &doc.articles[0].paragraphs;
        assert_eq!(
            paragraphs,
            &[
                "관련 기관이 모인 회의의 제목이 여기 있다",
                "광주시는 관련 기관과 협약을 맺었다고 밝혔다.",
                "부산시는 관련 산업을 육성한다.",
            ]
        );
    }

    #[test]
    fn bylines_with_korean_in_the_address_end_the_article() {
        for byline in [
            "/김철수 기자 kim@yna.co.kr",
            "김철수 기자 kim@연합뉴스.한국",
            "김철수 기자 kim@yna.co.kr입니다",
            "김철수kim@yna.co.kr",
        ] {
            let page = format!(
                "첫째 기사의 제목이 여기 있다 하나\n광주시는 첫째 일을 했다.\n{byline}\n\
                 둘째 기사의 제목이 여기 있다 둘\n전남도는 둘째 일을 했다."
            );
            let doc = clean(&page);
            assert_eq!(doc.articles.len(), 2, "{byline}");
            assert!(
                doc.articles
                    .iter()
                    .flat_map(|a| &a.paragraphs)
                    .all(|p| !p.contains('@')),
                "{byline}"
            );
        }
    }

    #[test]
    fn repeated_paragraphs_are_kept_once() {
        let doc = clean("제목이 있는 기사 하나 둘\n같은 문장이 있다.\n같은 문장이 있다.\n");
        assert_eq!(doc.articles[0].paragraphs.len(), 2);
    }

    #[test]
    fn strips_datelines_and_outlet_prefixes() {
        let doc = clean("[광양=뉴스핌] 오정근 기자 = 광양시는 계획을 확정했다.\n(포탈뉴스통신) 광주시가 TF를 가동한다.");
        let paras = &doc.articles[0].paragraphs;
        assert_eq!(paras[0], "광양시는 계획을 확정했다.");
        assert_eq!(paras[1], "광주시가 TF를 가동한다.");
    }
}
