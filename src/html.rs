//! HTML pages to text, for the read stage: one linear pass, no tree (so
//! deeply nested or broken markup costs nothing extra). Script, style,
//! navigation, header, footer, aside, form and comment blocks are dropped;
//! block elements become line breaks; character references are decoded.
//! Title, date, outlet, URL and charset come from `<title>`, `og:` and
//! `article:` meta tags.

/// What the page's head says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlMeta {
    /// `og:title`, else `<title>`.
    pub title: Option<String>,
    /// `article:published_time` and similar, as given.
    pub date: Option<String>,
    /// `og:site_name` and similar.
    pub outlet: Option<String>,
    /// `og:url`, else the canonical link.
    pub url: Option<String>,
    /// The declared charset.
    pub charset: Option<String>,
}

/// Elements whose whole content is dropped.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "select", "button", "svg", "head",
];
/// Elements that end a line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "figcaption",
    "figure",
    "blockquote",
    "dd",
    "dt",
    "dl",
    "hr",
    "main",
    "td",
    "th",
    "caption",
    "pre",
];

/// Whether bytes look like an HTML page.
pub fn looks_like_html(text: &str) -> bool {
    // A marker within the first 512 characters; the markers are ASCII,
    // compared without case.
    let text = text.trim_start();
    // 512 characters take at most 2048 bytes: a marker past those is past
    // them, and the characters are counted only for a marker found.
    let window = &text.as_bytes()[..text.len().min(512 * 4)];
    let within = |at: usize, marker: &[u8]| {
        starts_with_ignore_ascii_case(&window[at..], marker)
            && text[..at + marker.len()].chars().count() <= 512
    };
    within(0, b"<!doctype html")
        || within(0, b"<html")
        || memchr::memchr_iter(b'<', window).any(|at| within(at, b"<body") || within(at, b"<head"))
}

/// Whether `haystack` starts with `needle` (lower-case ASCII), whatever the
/// case of its ASCII letters.
fn starts_with_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Where `needle` (lower-case ASCII, ending with a character that is not
/// a letter) first occurs in `haystack`, whatever the case of its ASCII
/// letters. The last byte is looked for first (`memchr`): all occurrences
/// have the same length, so the first to end is the first to start.
fn find_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&last, _) = needle.split_last()?;
    debug_assert!(!last.is_ascii_alphabetic());
    memchr::memchr_iter(last, haystack)
        .filter_map(|end| (end + 1).checked_sub(needle.len()))
        .find(|&start| starts_with_ignore_ascii_case(&haystack[start..], needle))
}

/// The charset a page declares in its first bytes (`<meta charset=…>` or
/// `content="text/html; charset=…"`), lower-cased.
pub fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    // Every byte of "charset=" is ASCII: found in the bytes as in the text.
    let at = find_ignore_ascii_case(head, b"charset=")?;
    let rest = &head[at + 8..];
    let skip = rest
        .iter()
        .position(|b| !matches!(b, b'"' | b'\'' | b' '))
        .unwrap_or(rest.len());
    let value: String = rest[skip..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect();
    (!value.is_empty()).then_some(value)
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "middot" => '·',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "ndash" => '–',
        "mdash" => '—',
        "bull" => '•',
        "copy" => '©',
        _ => return None,
    })
}

/// Decodes character references (`&amp;`, `&#54620;`, `&#xD55C;`).
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .char_indices()
            .take(10)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        match end.and_then(|e| decode_entity(&after[..e]).map(|c| (e, c))) {
            Some((e, c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of attribute `name` in a tag's text (`meta property="og:title" content="…"`).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(name) {
        let start = from + pos;
        from = start + name.len();
        let before_ok = start == 0 || lower.as_bytes()[start - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let (quote, body) = match value.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
            _ => (None, value),
        };
        let end = match quote {
            Some(q) => body.find(q).unwrap_or(body.len()),
            None => body
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(body.len()),
        };
        return Some(decode_entities(body[..end].trim()));
    }
    None
}

/// Converts an HTML page to text lines and reads its metadata.
pub fn html_to_text(html: &str) -> (String, HtmlMeta) {
    let mut out = String::with_capacity(html.len() / 2);
    let mut meta = HtmlMeta::default();
    let mut skip: Option<(String, usize)> = None;
    let mut in_title = false;
    let mut title_text = String::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if skip.is_none() {
                out.push_str(&decode_entities(rest));
            }
            break;
        };
        let text = &rest[..lt];
        if in_title {
            title_text.push_str(text);
        } else if skip.is_none() {
            out.push_str(&decode_entities(text));
        }
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = match rest.find("-->") {
                Some(end) => &rest[end + 3..],
                None => "",
            };
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if name == "title" {
            in_title = !closing;
            continue;
        }
        if name == "meta" || name == "link" {
            read_meta(tag, &mut meta);
            continue;
        }
        if let Some((skipped, depth)) = skip.as_mut() {
            if *skipped == name {
                if closing {
                    *depth -= 1;
                    if *depth == 0 {
                        skip = None;
                    }
                } else if !tag.ends_with('/') {
                    *depth += 1;
                }
            }
            continue;
        }
        if !closing && SKIPPED.contains(&name.as_str()) && !tag.ends_with('/') {
            // <head> holds the metadata: read its tags, drop its text.
            if name != "head" {
                skip = Some((name, 1));
            }
            continue;
        }
        if BLOCKS.contains(&name.as_str()) {
            out.push('\n');
        }
    }
    let title = decode_entities(title_text.trim());
    if meta.title.is_none() && !title.is_empty() {
        meta.title = Some(title);
    }
    (out, meta)
}

fn read_meta(tag: &str, meta: &mut HtmlMeta) {
    let key = attribute(tag, "property")
        .or_else(|| attribute(tag, "name"))
        .or_else(|| attribute(tag, "itemprop"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Some(charset) = attribute(tag, "charset") {
        meta.charset.get_or_insert(charset);
    }
    let rel = attribute(tag, "rel").unwrap_or_default();
    if rel.eq_ignore_ascii_case("canonical") {
        if let Some(href) = attribute(tag, "href") {
            meta.url.get_or_insert(href);
        }
        return;
    }
    let Some(content) = attribute(tag, "content").filter(|c| !c.is_empty()) else {
        return;
    };
    match key.as_str() {
        "og:title" | "twitter:title" | "title" if key == "og:title" || meta.title.is_none() => {
            meta.title = Some(content);
        }
        "article:published_time"
        | "og:article:published_time"
        | "pubdate"
        | "publishdate"
        | "date"
        | "datepublished"
        | "article:published" => {
            meta.date.get_or_insert(content);
        }
        "og:site_name" | "article:publisher" | "publisher" => meta.outlet = Some(content),
        "og:url" => meta.url = Some(content),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first versions, kept as the reference of the byte-level ones.
    fn looks_like_html_by_lowering(text: &str) -> bool {
        let head: String = text
            .trim_start()
            .chars()
            .take(512)
            .collect::<String>()
            .to_ascii_lowercase();
        head.starts_with("<!doctype html")
            || head.starts_with("<html")
            || head.contains("<body")
            || head.contains("<head")
    }

    fn declared_charset_by_lowering(bytes: &[u8]) -> Option<String> {
        let head = &bytes[..bytes.len().min(4096)];
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        let at = head.find("charset=")?;
        let rest = head[at + 8..].trim_start_matches(['"', '\'', ' ']);
        let value: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!value.is_empty()).then_some(value)
    }

    #[test]
    fn byte_level_checks_agree_with_lowering_the_text() {
        let mut cases: Vec<String> = [
            "",
            "  \n<!DOCTYPE HTML><p>x",
            "<HtMl lang=ko>",
            "광주시는 <BODY> 안에",
            "<hea",
            "텍스트 <Head",
            "<meta CHARSET=\"EUC-KR\">",
            "<meta http-equiv=content-type content='text/html; Charset= \"utf-8\"'>",
            "charset=",
            "charset=\"\"",
            "chARSet=x_Y-9z!",
            "cccharset=abc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Markers just inside and just outside the first 512 characters.
        for pad in [505, 506, 507, 508] {
            cases.push(format!("{}<body>", "가".repeat(pad)));
            cases.push(format!("{}<BODY>", "a".repeat(pad)));
            cases.push(format!("{}<body>", "😀é".repeat(pad / 2)));
        }
        for s in &cases {
            assert_eq!(looks_like_html(s), looks_like_html_by_lowering(s), "{s:?}");
            assert_eq!(
                declared_charset(s.as_bytes()),
                declared_charset_by_lowering(s.as_bytes()),
                "{s:?}"
            );
        }
        // Invalid UTF-8 and the 4096-byte limit.
        let mut bytes = vec![0xB0u8, 0xA1, 0xFF, b'C', 0xC3];
        bytes.extend_from_slice(b"harset=euc-kr");
        bytes.extend_from_slice(&[0xE0, 0x80]);
        bytes.extend_from_slice(b" charset=ks_c_5601-1987");
        let mut long = vec![0xEAu8; 4090];
        long.extend_from_slice(b"charset=utf-8");
        let mut edge = vec![b' '; 4088];
        edge.extend_from_slice(b"charset=utf-8");
        for b in [&bytes, &long, &edge] {
            assert_eq!(declared_charset(b), declared_charset_by_lowering(b));
        }
    }

    #[test]
    fn keeps_the_body_and_reads_the_head() {
        let html = r#"<!DOCTYPE html><html><head><meta charset="utf-8">
            <title>제목 | 신문</title>
            <meta property="og:title" content="광주시, AI 산업 육성 &amp; 투자">
            <meta property="article:published_time" content="2024-03-05T09:00:00+09:00">
            <meta property="og:site_name" content="광주일보"><meta property="og:url" content="https://news.example/a/1">
            <script>var x = "<p>광고</p>";</script><style>p{}</style></head>
            <body><nav><a>사회</a><a>정치</a></nav><header>로고</header>
            <article><h1>광주시, AI 산업 육성</h1><p>광주시는 인공지능 산업을 육성한다고&nbsp;밝혔다.</p>
            <!-- 광고 --><p>두 번째 문단이다 &#54620;&#xAE00;.</p></article>
            <aside>가장 많이 본 뉴스</aside><footer>ⓒ 광주일보</footer></body></html>"#;
        let (text, meta) = html_to_text(html);
        assert!(
            text.contains("광주시는 인공지능 산업을 육성한다고 밝혔다."),
            "{text}"
        );
        assert!(text.contains("두 번째 문단이다 한글."), "{text}");
        for gone in ["광고", "사회", "로고", "가장 많이", "ⓒ", "var x"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        assert_eq!(meta.title.as_deref(), Some("광주시, AI 산업 육성 & 투자"));
        assert_eq!(meta.date.as_deref(), Some("2024-03-05T09:00:00+09:00"));
        assert_eq!(meta.outlet.as_deref(), Some("광주일보"));
        assert_eq!(meta.url.as_deref(), Some("https://news.example/a/1"));
        assert_eq!(meta.charset.as_deref(), Some("utf-8"));
    }

    #[test]
    fn deep_and_broken_markup_is_linear() {
        let mut html = String::new();
        for _ in 0..100_000 {
            html.push_str("<div><span>");
        }
        html.push_str("본문이다.");
        html.push_str("<p unclosed <script>never closed");
        let (text, _) = html_to_text(&html);
        assert!(text.contains("본문이다."));
    }

    #[test]
    fn charset_is_found_in_the_head() {
        assert_eq!(
            declared_charset(
                br#"<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">"#
            )
            .as_deref(),
            Some("euc-kr")
        );
        assert_eq!(declared_charset(b"<html>").as_deref(), None);
    }
}
