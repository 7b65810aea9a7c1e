//! Robustness of the reader and the extractor: arbitrary and pathological
//! input never panics, and what comes out stays consistent (sentence
//! offsets point into the cleaned text, every fact's ends are entities of
//! its document). The proptest cases are bounded in number, not in time.

use std::path::PathBuf;

use newsgraph::clean::clean;
use newsgraph::html::html_to_text;
use newsgraph::ontology::Ontology;
use newsgraph::pipeline::{extract_texts, ExtractOptions};
use newsgraph::read::{decode, RawDocument};
use newsgraph::segment::segment;
use proptest::prelude::*;

fn ontology() -> &'static Ontology {
    static O: std::sync::OnceLock<Ontology> = std::sync::OnceLock::new();
    O.get_or_init(|| Ontology::load(None).expect("ontology"))
}

fn check(text: &str) {
    let raw = RawDocument {
        id: "p.txt".into(),
        source: PathBuf::from("p.txt"),
        text: text.into(),
        encoding: "UTF-8",
        ..RawDocument::default()
    };
    let docs = extract_texts(&[raw], ontology(), &ExtractOptions::default());
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    for f in &doc.facts {
        assert!(
            doc.entities.iter().any(|e| e.iri == f.subject),
            "dangling subject"
        );
        assert!(
            doc.entities.iter().any(|e| e.iri == f.object),
            "dangling object"
        );
        assert!(f.evidence.start <= f.evidence.end);
    }
    let seg = segment(&clean(text));
    let chars: Vec<char> = seg.text.chars().collect();
    for s in &seg.sentences {
        let slice: String = chars[s.start..s.end].iter().collect();
        assert_eq!(slice, s.text);
    }
}

/// Korean news-like fragments, particles, punctuation, markup and other
/// scripts, glued at random.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("광주시는".to_string()),
        Just("한국광산업진흥회와".to_string()),
        Just("업무협약(MOU)을 체결했다.".to_string()),
        Just("김준하 인공지능산업융합사업단장은".to_string()),
        Just("(위원장 이언주 최고위원)".to_string()),
        Just("▲인공지능 ▲모빌리티".to_string()),
        Just("‘광주산업 르네상스 전담팀(TF)’".to_string()),
        Just("은는이가을를".to_string()),
        Just("/홍길동 기자 a@b.kr".to_string()),
        Just("더보기".to_string()),
        Just("<div><p>".to_string()),
        Just("&amp;&#xD55C;&#99999999;".to_string()),
        Just("日本語 العربية English ⓒ ℃".to_string()),
        Just("\n".to_string()),
        Just(" ".to_string()),
        "[가-힣]{1,6}",
        "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(parts in proptest::collection::vec(fragment(), 0..40)) {
        check(&parts.concat());
    }

    #[test]
    fn arbitrary_bytes_decode(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (text, _) = decode(&bytes);
        check(&text);
        let _ = html_to_text(&text);
    }
}

#[test]
fn a_ten_megabyte_single_line() {
    let sentence = "광주시는 인공지능 산업을 육성하고 한국광산업진흥회와 업무협약을 체결했다. ";
    let line: String = sentence.repeat(10 * 1024 * 1024 / sentence.len());
    assert!(line.len() > 9 * 1024 * 1024 && !line.contains('\n'));
    check(&line);
}

#[test]
fn deeply_nested_html() {
    let mut html = String::from("<html><body>");
    for _ in 0..200_000 {
        html.push_str("<div><span>");
    }
    html.push_str("<p>부산시는 조선 산업을 육성한다고 밝혔다.</p>");
    let (text, _) = html_to_text(&html);
    assert!(text.contains("부산시는 조선 산업을 육성한다고 밝혔다."));
    check(&text);
}

#[test]
fn only_particles_and_mixed_scripts() {
    check(&"은 는 이 가 을 를 의 에 와 과 도 ".repeat(2000));
    check(&"AI産業 인공지능 Ｉｎｄｕｓｔｒｙ 😀 \u{202e}RTL\u{0} 광주시는 육성한다.".repeat(500));
    check("");
}
