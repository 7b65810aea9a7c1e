//! The typed values that flow between pipeline stages.
//!
//! Every stage takes and returns these types only, so that data flows one
//! way: read → clean → segment → recognise → relate → resolve → store.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Namespace of the newsgraph ontology (classes and properties).
pub const ONTOLOGY_NS: &str = "https://w3id.org/newsgraph/ontology#";
/// Namespace of entity IRIs: `{RESOURCE_NS}{Type}/{canonical name}`.
pub const RESOURCE_NS: &str = "https://w3id.org/newsgraph/id/";
/// Namespace of document IRIs (also the names of the per-document graphs).
pub const DOCUMENT_NS: &str = "https://w3id.org/newsgraph/doc/";

/// The kind of thing an entity is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum EntityType {
    /// A named human being.
    Person,
    /// Governments, agencies, companies, universities, parties, committees …
    Organization,
    /// An industry or technology sector.
    Sector,
    /// A geographic place used as a place, not as an actor.
    Place,
}

impl EntityType {
    /// All entity types, scored ones first.
    pub const ALL: [EntityType; 4] = [
        EntityType::Person,
        EntityType::Organization,
        EntityType::Sector,
        EntityType::Place,
    ];

    /// The local name of the ontology class (`Person`, `Organization`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Person => "Person",
            EntityType::Organization => "Organization",
            EntityType::Sector => "Sector",
            EntityType::Place => "Place",
        }
    }

    /// The ontology class IRI.
    pub fn class_iri(self) -> String {
        format!("{ONTOLOGY_NS}{}", self.as_str())
    }

    /// Whether SCHEMA.md scores this type.
    pub fn is_scored(self) -> bool {
        !matches!(self, EntityType::Place)
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown entity type `{s}`"))
    }
}

/// The seven scored relations of SCHEMA.md.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Relation {
    /// Organization ↔ Organization: both signed an MOU (symmetric).
    SignedMouWith,
    /// Person → Organization: chairs a committee, task force, council, board.
    Chairs,
    /// Organization → Sector: fosters, prioritises or targets the sector.
    TargetsSector,
    /// Person → Organization: heads a standing organisation.
    HeadOf,
    /// Person → Organization: holds a non-head post there.
    AffiliatedWith,
    /// Organization → Organization: member or participant of a body.
    MemberOf,
    /// Organization → Organization: unit, branch or body of the second.
    PartOf,
}

impl Relation {
    /// All relations in SCHEMA.md order.
    pub const ALL: [Relation; 7] = [
        Relation::SignedMouWith,
        Relation::Chairs,
        Relation::TargetsSector,
        Relation::HeadOf,
        Relation::AffiliatedWith,
        Relation::MemberOf,
        Relation::PartOf,
    ];

    /// The ontology property's local name (`signedMouWith`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::SignedMouWith => "signedMouWith",
            Relation::Chairs => "chairs",
            Relation::TargetsSector => "targetsSector",
            Relation::HeadOf => "headOf",
            Relation::AffiliatedWith => "affiliatedWith",
            Relation::MemberOf => "memberOf",
            Relation::PartOf => "partOf",
        }
    }

    /// The Korean label used in exports.
    pub fn korean_label(self) -> &'static str {
        match self {
            Relation::SignedMouWith => "업무협약 체결",
            Relation::Chairs => "위원장",
            Relation::TargetsSector => "육성 산업",
            Relation::HeadOf => "기관장",
            Relation::AffiliatedWith => "소속",
            Relation::MemberOf => "참여",
            Relation::PartOf => "산하",
        }
    }

    /// The ontology property IRI.
    pub fn property_iri(self) -> String {
        format!("{ONTOLOGY_NS}{}", self.as_str())
    }

    /// Whether the relation holds in both directions.
    pub fn is_symmetric(self) -> bool {
        matches!(self, Relation::SignedMouWith)
    }

    /// The entity types at the two ends.
    pub fn signature(self) -> (EntityType, EntityType) {
        use EntityType::*;
        match self {
            Relation::SignedMouWith | Relation::MemberOf | Relation::PartOf => {
                (Organization, Organization)
            }
            Relation::TargetsSector => (Organization, Sector),
            Relation::Chairs | Relation::HeadOf | Relation::AffiliatedWith => {
                (Person, Organization)
            }
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Relation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Relation::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown relation `{s}`"))
    }
}

/// What is known about a source document.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DocumentMeta {
    /// Path relative to the input that was given (SCHEMA.md), or the JSONL id.
    pub id: String,
    /// Where the document was read from.
    pub source: String,
    /// Headline, when the text gives one.
    pub title: Option<String>,
    /// Publication date as `YYYY-MM-DD`, when the text gives one.
    pub date: Option<String>,
    /// The outlet, when the source names it (HTML meta tags, JSONL `source`).
    pub outlet: Option<String>,
    /// The article's URL, when the source gives it.
    pub url: Option<String>,
}

impl DocumentMeta {
    /// The document's IRI, which is also the name of its graph.
    pub fn iri(&self) -> String {
        document_iri(&self.id)
    }
}

/// The IRI of a document id.
pub fn document_iri(id: &str) -> String {
    let mut iri = String::with_capacity(DOCUMENT_NS.len() + id.len());
    iri.push_str(DOCUMENT_NS);
    push_iri_escaped(&mut iri, id);
    iri
}

/// The deterministic IRI of an entity from its type and canonical name.
pub fn entity_iri(kind: EntityType, canonical: &str) -> String {
    let kind = kind.as_str();
    let mut iri = String::with_capacity(RESOURCE_NS.len() + kind.len() + 1 + canonical.len());
    iri.push_str(RESOURCE_NS);
    iri.push_str(kind);
    iri.push('/');
    push_iri_escaped(&mut iri, canonical);
    iri
}

/// Whether `c` is a precomposed Hangul syllable (가–힣), most of the text.
pub fn is_hangul_syllable(c: char) -> bool {
    ('가'..='힣').contains(&c)
}

/// Whether the UTF-8 text `bytes` has a Hangul syllable at byte `i`: its
/// three bytes read without decoding a `char` (the text's loops over
/// bytes pass over Hangul this way).
#[inline]
pub(crate) fn hangul_syllable_at(bytes: &[u8], i: usize) -> bool {
    // The lead byte first: most bytes looked at are ASCII.
    let Some(&lead @ 0xEA..=0xED) = bytes.get(i) else {
        return false;
    };
    let Some(&[b, c]) = bytes.get(i + 1..i + 3) else {
        return false;
    };
    // The low twelve bits of the code point; the lead byte gives the top
    // four. U+B000–U+CFFF (lead 0xEB, 0xEC) are all syllables.
    let low = u32::from(b & 0x3F) << 6 | u32::from(c & 0x3F);
    match lead {
        0xEA => low >= 0xC00,
        0xED => low <= 0x7A3,
        _ => true,
    }
}

/// Escapes a name for use in an IRI path segment. Hangul and other
/// non-ASCII letters stay readable (IRIs allow them); spaces become `_`;
/// every other character an IRI path segment does not allow as it is
/// (ASCII outside the unreserved set, white space, controls, private use,
/// noncharacters) is percent-encoded, so the result always passes
/// [`is_escaped_path`].
pub fn iri_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    push_iri_escaped(&mut out, name);
    out
}

/// Appends [`iri_escape`]`(name)` to `out`.
fn push_iri_escaped(out: &mut String, name: &str) {
    for c in name.trim().chars() {
        match c {
            // Hangul syllables, most of a name, stay as they are.
            '가'..='힣' => out.push(c),
            ' ' => out.push('_'),
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' => out.push(c),
            c if is_plain_ucschar(c) => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push('%');
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0xf)]));
                }
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `c` is an IRI `ucschar` (RFC 3987) that is neither white space
/// nor a control: what [`iri_escape`] keeps as it is outside ASCII.
fn is_plain_ucschar(c: char) -> bool {
    // Most of the text: a `ucschar`, neither white space nor a control.
    if is_hangul_syllable(c) {
        return true;
    }
    let u = u32::from(c);
    let ucschar = matches!(u, 0xA0..=0xD7FF | 0xF900..=0xFDCF | 0xFDF0..=0xFFEF | 0xE1000..=0xEFFFD)
        || ((0x10000..=0xDFFFD).contains(&u) && (u & 0xFFFF) <= 0xFFFD);
    ucschar && !c.is_whitespace() && !c.is_control()
}

/// Whether `path` is made only of what [`iri_escape`] writes, and `/`:
/// such a path after one of our namespaces is a valid IRI, with no need to
/// parse it.
pub fn is_escaped_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            i += 1;
        } else if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else if b < 0x80 {
            return false;
        } else if hangul_syllable_at(bytes, i) {
            // Most of the names: plain `ucschar`s, read without decoding.
            i += 3;
        } else {
            // A non-ASCII character: `path` is a str, so it is whole.
            let c = path[i..].chars().next().unwrap_or('\0');
            if !is_plain_ucschar(c) {
                return false;
            }
            i += c.len_utf8();
        }
    }
    true
}

/// A sentence of a document, with its place in the cleaned text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sentence {
    /// Index of the sentence in its document (0-based).
    pub index: usize,
    /// Index of the article on the page the sentence belongs to.
    pub article: usize,
    /// The sentence text.
    pub text: String,
    /// Character offset (Unicode scalar values) of the sentence's start in
    /// the document's cleaned text.
    pub start: usize,
    /// Character offset one past the sentence's end.
    pub end: usize,
}

/// Why a fact is believed: where it was stated and which rule found it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence {
    /// Index of the sentence in the document.
    pub sentence: usize,
    /// The sentence text.
    pub text: String,
    /// Character offsets of the sentence in the cleaned document text.
    pub start: usize,
    /// One past the end.
    pub end: usize,
    /// The name of the rule that fired.
    pub rule: String,
    /// The rule's confidence in `0.0..=1.0`.
    pub confidence: f32,
    /// Index of the article on the page the sentence belongs to.
    pub article: usize,
    /// That article's headline, when the page gives one (pages with
    /// several articles attribute each fact to its own article). Shared by
    /// the facts of the article.
    pub article_title: Option<Arc<str>>,
}

/// An entity as one document sees it, after resolution to global identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Deterministic IRI (see [`entity_iri`]). Shared: every document
    /// graph of a run that mentions the entity holds the same string.
    pub iri: Arc<str>,
    /// Its type.
    pub kind: EntityType,
    /// The fullest name known (shared like the IRI).
    pub label: Arc<str>,
    /// Every other surface form seen for it (in this document).
    pub aliases: BTreeSet<String>,
}

/// A relation between two entities, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// IRI of the subject entity (the [`Entity::iri`] itself, shared).
    pub subject: Arc<str>,
    /// The relation.
    pub relation: Relation,
    /// IRI of the object entity (shared likewise).
    pub object: Arc<str>,
    /// Where and why.
    pub evidence: Evidence,
}

/// Everything extracted from one document, resolved to global IRIs:
/// the unit the store writes (one named graph per document).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentGraph {
    /// The document.
    pub meta: DocumentMeta,
    /// The entities the document mentions.
    pub entities: Vec<Entity>,
    /// The facts the document states.
    pub facts: Vec<Fact>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_syllables_are_found_by_their_bytes() {
        // Every character of the blocks around the syllables' lead bytes
        // (0xEA–0xED: U+A000–U+DFFF; surrogates are no `char`), and others.
        let around = ('\u{9000}'..='\u{ffff}').chain(['a', 'é', '😀']);
        for c in around {
            let text = format!("x{c}y");
            assert_eq!(
                hangul_syllable_at(text.as_bytes(), 1),
                is_hangul_syllable(c),
                "{c}"
            );
            assert!(!hangul_syllable_at(text.as_bytes(), 0));
        }
        // Cut short: no syllable.
        assert!(!hangul_syllable_at(&"가".as_bytes()[..2], 0));
        assert!(!hangul_syllable_at(b"", 0));
    }

    #[test]
    fn iris_are_deterministic_and_readable() {
        assert_eq!(
            entity_iri(EntityType::Organization, "광주산업 르네상스 TF"),
            "https://w3id.org/newsgraph/id/Organization/광주산업_르네상스_TF"
        );
        assert_eq!(iri_escape("a<b>\"c"), "a%3Cb%3E%22c");
        assert_eq!(
            document_iri("dir/x.txt"),
            "https://w3id.org/newsgraph/doc/dir%2Fx.txt"
        );
    }

    #[test]
    fn escaped_names_make_valid_iris_and_the_fast_check_agrees() {
        let names = [
            "광주산업 르네상스 TF",
            "a<b>\"c{d}|e\\f^g`h",
            "\u{3000}전각\u{3000}공백\u{a0}",
            "\u{fdd0}\u{fdef}\u{fffe}\u{1fffe}\u{e000}\u{f0000}\u{e0001}",
            "제어\u{0}\u{7f}\u{85}문자",
            "100%/50% 🚀 𝔸",
        ];
        for name in names {
            let escaped = iri_escape(name);
            assert!(is_escaped_path(&escaped), "{name:?} → {escaped}");
            let iri = format!("{RESOURCE_NS}Organization/{escaped}");
            assert!(oxigraph::model::NamedNode::new(&iri).is_ok(), "{iri}");
        }
        // Every character of the Hangul blocks and around them, alone.
        for c in '\u{9000}'..='\u{ffff}' {
            assert_eq!(
                is_escaped_path(&format!("a{c}/b")),
                is_plain_ucschar(c),
                "{c:?}"
            );
        }
        for bad in [
            "a b",
            "a%2",
            "a%zz",
            "a<b",
            "\u{fdd0}",
            "a\u{3000}b",
            "a?b",
            "a#b",
        ] {
            assert!(!is_escaped_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn relation_names_round_trip() {
        for r in Relation::ALL {
            assert_eq!(r.as_str().parse::<Relation>(), Ok(r));
        }
        assert!("nonsense".parse::<Relation>().is_err());
    }
}
