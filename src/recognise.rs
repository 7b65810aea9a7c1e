//! Stage 4 — recognise: finds the people, organisations and sectors each
//! sentence names, strips Korean particles from them, and groups the
//! mentions of one document into document-local entities (abbreviations
//! introduced with `(이하 X)` or `A(B)`, short forms from the gazetteer,
//! bare `전담팀`/`위원회` referring back, `정부` for `X 정부`).
//!
//! Everything here is driven by the lexicons of [`Ontology`]: titles, name
//! endings, the gazetteer and the sector vocabulary.

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use crate::model::{hangul_syllable_at, is_hangul_syllable, EntityType, Sentence};
use words::{with_cache, WordCache, WordFlags};

mod words;
use crate::ontology::{
    push_sector_key, push_sector_key_char, sector_key, CueHits, Ontology, OrgClass, TitleEntry,
    TitleImplies,
};

/// A word or a punctuation mark of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The text (held inline up to 24 bytes, so most words allocate
    /// nothing).
    pub text: CompactString,
    /// Byte offset in the sentence.
    pub start: usize,
    /// Whether white space precedes it.
    pub space_before: bool,
    /// Whether it is a word (not punctuation).
    pub is_word: bool,
}

const PUNCTUATION: &[char] = &[
    ',', '‘', '’', '“', '”', '"', '\'', '(', ')', '[', ']', '「', '」', '『', '』', '▲', '△', '■',
    '□', '◆', '◇', '·', ';', ':', '!', '?', '/', '〈', '〉', '<', '>', '…', '《', '》', '|', '=',
    '~', '.', '○', '●', '-', '&',
];

/// Whether `c` is one of [`PUNCTUATION`] (ASCII marks by a table look-up).
fn is_punctuation(c: char) -> bool {
    const fn ascii_table() -> [bool; 128] {
        let mut table = [false; 128];
        let mut i = 0;
        while i < PUNCTUATION.len() {
            if (PUNCTUATION[i] as u32) < 128 {
                table[PUNCTUATION[i] as usize] = true;
            }
            i += 1;
        }
        table
    }
    const ASCII: [bool; 128] = ascii_table();
    if c.is_ascii() {
        return ASCII[c as usize];
    }
    PUNCTUATION.contains(&c)
}

/// Ends the word of `sentence` that `current` holds (its start and whether
/// white space precedes it), if any, at `end`, and pushes its token.
fn push_word(
    tokens: &mut Vec<Token>,
    sentence: &str,
    current: &mut Option<(usize, bool)>,
    end: usize,
) {
    if let Some((start, space_before)) = current.take() {
        tokens.push(Token {
            text: CompactString::from(&sentence[start..end]),
            start,
            space_before,
            is_word: true,
        });
    }
}

/// Splits a sentence into words and punctuation marks.
pub fn tokenize(sentence: &str) -> Vec<Token> {
    let bytes = sentence.as_bytes();
    let mut tokens: Vec<Token> = Vec::with_capacity(sentence.len() / 4);
    let mut current: Option<(usize, bool)> = None;
    let mut space = true;
    let flush = |tokens: &mut Vec<Token>, current: &mut Option<(usize, bool)>, end: usize| {
        push_word(tokens, sentence, current, end);
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Hangul syllables (U+AC00–U+D7A3, three bytes led by 0xEA–0xED),
        // the bulk of the text, are word characters: read without being
        // decoded into a `char`.
        if hangul_syllable_at(bytes, i) {
            if current.is_none() {
                current = Some((i, space));
            }
            space = false;
            i += 3;
            // The rest of a run of syllables, without the checks above.
            while hangul_syllable_at(bytes, i) {
                i += 3;
            }
            continue;
        }
        let (c, len) = if b.is_ascii() {
            (char::from(b), 1)
        } else {
            match sentence[i..].chars().next() {
                Some(c) => (c, c.len_utf8()),
                None => break,
            }
        };
        if c.is_whitespace() {
            flush(&mut tokens, &mut current, i);
            space = true;
            i += len;
            continue;
        }
        // Keep '.', '-' inside words and numbers ("e-모빌리티", "3.0", "RE100").
        let inner = matches!(c, '.' | '-')
            && current.is_some()
            && sentence[i + len..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        if is_punctuation(c) && !inner {
            flush(&mut tokens, &mut current, i);
            tokens.push(Token {
                text: CompactString::from(&sentence[i..i + len]),
                start: i,
                space_before: space,
                is_word: false,
            });
            space = false;
            i += len;
            continue;
        }
        if current.is_none() {
            current = Some((i, space));
        }
        space = false;
        i += len;
    }
    flush(&mut tokens, &mut current, sentence.len());
    tokens
}

/// [`tokenize`] as first written, a `char` at a time.
#[cfg(test)]
fn tokenize_by_char(sentence: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut current: Option<(usize, bool)> = None;
    let mut space = true;
    let flush = |tokens: &mut Vec<Token>, current: &mut Option<(usize, bool)>, end: usize| {
        push_word(tokens, sentence, current, end);
    };
    let mut chars = sentence.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if ('가'..='힣').contains(&c) {
            if current.is_none() {
                current = Some((i, space));
            }
            space = false;
            continue;
        }
        if c.is_whitespace() {
            flush(&mut tokens, &mut current, i);
            space = true;
            continue;
        }
        let inner = matches!(c, '.' | '-')
            && current.is_some()
            && chars.peek().is_some_and(|&(_, n)| n.is_alphanumeric());
        if is_punctuation(c) && !inner {
            flush(&mut tokens, &mut current, i);
            tokens.push(Token {
                text: CompactString::from(&*c.encode_utf8(&mut [0; 4])),
                start: i,
                space_before: space,
                is_word: false,
            });
            space = false;
            continue;
        }
        if current.is_none() {
            current = Some((i, space));
        }
        space = false;
    }
    flush(&mut tokens, &mut current, sentence.len());
    tokens
}

fn hangul_len(s: &str) -> Option<usize> {
    s.chars().all(is_hangul_syllable).then(|| s.chars().count())
}

/// A word with a particle stripped: (stem, particle). The word itself
/// (empty particle) comes first, then ever shorter stems.
pub fn stems<'a>(word: &'a str, ontology: &Ontology) -> Vec<(&'a str, &'a str)> {
    stems_iter(word, ontology).collect()
}

/// [`stems`] without collecting them.
pub fn stems_iter<'w, 'o>(
    word: &'w str,
    ontology: &'o Ontology,
) -> impl Iterator<Item = (&'w str, &'w str)> + use<'w, 'o> {
    std::iter::once((word, "")).chain(
        ontology
            .particle_cuts(word)
            .map(move |cut| (&word[..cut], &word[cut..])),
    )
}

/// The tokens of a sentence with their words in the thread's
/// [`WordCache`]: what the lexicons say about each token, looked up once
/// per token.
#[derive(Clone, Copy)]
struct SentenceWords<'a> {
    tokens: &'a [Token],
    cache: &'a WordCache,
    /// The ontology the cache's facts come from.
    ontology: &'a Ontology,
    /// Per token, its id in `cache`.
    ids: &'a [u32],
    /// Per token, its word's [`WordCache::flags`].
    flags: &'a [u8],
}

impl<'a> SentenceWords<'a> {
    /// Token `i`'s text and its id in the cache.
    fn word(&self, i: usize) -> (&'a str, u32) {
        (self.tokens[i].text.as_str(), self.ids[i])
    }

    /// [`stems_iter`] of token `i`'s text.
    fn of(&self, i: usize) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        let (word, id) = self.word(i);
        std::iter::once((word, "")).chain(
            self.cache
                .cuts(id)
                .iter()
                .map(move |&cut| (&word[..cut], &word[cut..])),
        )
    }

    /// The first particle split of token `i` (the word itself first)
    /// whose stem names an organisation: (stem, particle, name).
    fn org_word(&self, i: usize) -> Option<(&'a str, &'a str, &'a OrgName)> {
        if self.flags[i] & WordFlags::ORG == 0 {
            return None;
        }
        let (word, id) = self.word(i);
        let (stem, name) = self.cache.org_word(id, self.ontology)?;
        Some((&word[..stem], &word[stem..], name))
    }

    /// The organisation token `i` names as it is ([`org_name_of`] of its
    /// text).
    fn org_name(&self, i: usize) -> Option<&'a OrgName> {
        if self.flags[i] & WordFlags::ORG == 0 {
            return None;
        }
        self.cache.org_name(self.ids[i], self.ontology)
    }

    /// The first particle split of token `i` (the word itself first)
    /// whose stem `is` accepts, looked for only when some split
    /// [`refers_back`] (what every caller's `is` is a part of).
    fn referring_split(&self, i: usize, is: impl Fn(&str) -> bool) -> Option<(&'a str, &'a str)> {
        if self.flags[i] & WordFlags::REFERS_BACK == 0 {
            return None;
        }
        self.of(i).find(|(stem, _)| is(stem))
    }

    /// Whether token `i` may begin a sector form of several words: a
    /// sector form begins like its [`sector_key`].
    fn may_begin_sector_form(&self, i: usize) -> bool {
        self.flags[i] & WordFlags::BEGINS_SECTOR_FORM != 0
    }

    /// What token `i` says of sectors on its own.
    fn sector_word(&self, i: usize) -> SectorWord {
        self.cache.sector_word(self.ids[i], self.ontology)
    }

    /// Whether a particle split of token `i` is `분야` or `분과`.
    fn is_field_word(&self, i: usize) -> bool {
        self.cache.is_field_word(self.ids[i])
    }

    /// The relation cues of the sentence's words.
    fn cues(&self) -> SentenceCues {
        let mut cues = SentenceCues::default();
        let either = WordFlags::CUE | WordFlags::BEGINS_CUE_OF_WORDS;
        // (Most words have neither flag.)
        for (i, &flags) in self.flags.iter().enumerate() {
            if flags & either == 0 {
                continue;
            }
            if flags & WordFlags::CUE != 0 {
                if let Some(hits) = self.cache.cue_hits(self.ids[i], self.ontology) {
                    cues.in_words.push((i, *hits));
                }
            }
            cues.across_words |= flags & WordFlags::BEGINS_CUE_OF_WORDS != 0;
        }
        cues
    }

    /// The first particle split of token `i` whose stem ends in a title:
    /// (stem, particle, what precedes the title, the title).
    fn title(&self, i: usize) -> Option<(&'a str, &'a str, &'a str, &'a TitleEntry)> {
        if self.flags[i] & WordFlags::TITLE == 0 {
            return None;
        }
        let (word, id) = self.word(i);
        let (stem, prefix, title) = self.cache.title(id, self.ontology)?;
        Some((&word[..stem], &word[stem..], &word[..prefix], title))
    }
}

/// How sure the recogniser is that an organisation mention is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// From the gazetteer or a strong name ending.
    Strong,
    /// A facility-like ending or a bare region name: kept only when the
    /// name acts in the sentence or the document names it otherwise.
    Weak,
}

/// A name found in a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    /// Index of the document-local entity.
    pub entity: usize,
    /// Its type.
    pub kind: EntityType,
    /// The surface name, particle stripped.
    pub name: CompactString,
    /// First token.
    pub first: usize,
    /// One past the last token.
    pub last: usize,
    /// The particle on the last token (`은`, `와`, `의` …).
    pub particle: CompactString,
    /// For sectors: only a modifier (`AI기반`), not a target.
    pub modifier: bool,
    /// For sectors: marked as a field (`X 분야`, `X 분과`, `X산업`).
    pub field: bool,
    /// For `X 분과`: a sub-committee of the parent body.
    pub subcommittee: bool,
    /// A bare region name (광주, 전남) standing for its government.
    pub bare_region: bool,
}

/// A person's title as the text gives it, with the organisation named
/// next to it (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct TitleMention {
    /// The person entity.
    pub person: usize,
    /// The title.
    pub title: TitleEntry,
    /// The organisation named with the title.
    pub organization: Option<usize>,
    /// `전` (former) precedes it.
    pub former: bool,
    /// Token of the title.
    pub token: usize,
}

/// A document-local entity: every mention of one thing in one document.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalEntity {
    /// Its type.
    pub kind: EntityType,
    /// The canonical name when the gazetteer or vocabulary gives one.
    pub canonical: Option<String>,
    /// Every surface name seen, in order of first appearance.
    pub names: Vec<String>,
    /// Names that only refer back (`정부`, `전담팀`): kept as aliases but
    /// never used to merge entities across documents.
    pub generic_names: Vec<String>,
    /// Organisation kind.
    pub class: Option<OrgClass>,
    /// The organisation named before it in its full name
    /// (`더불어민주당` of `더불어민주당 미래경제성장전략위원회`).
    pub parent: Option<usize>,
    /// Whether any mention is strong.
    pub strong: bool,
}

impl LocalEntity {
    /// The fullest name: the canonical one, else the longest seen.
    pub fn label(&self) -> &str {
        fullest_name(self.canonical.as_deref(), &self.names, &self.generic_names)
    }
}

/// The label of an entity with these names: `canonical` when given, else
/// the longest of `names` that is not generic and has no parenthesis (the
/// first name when none is left).
pub fn fullest_name<'a>(
    canonical: Option<&'a str>,
    names: &'a [String],
    generic_names: &[String],
) -> &'a str {
    if let Some(c) = canonical {
        return c;
    }
    names
        .iter()
        .filter(|n| !generic_names.contains(n) && !n.contains('('))
        .max_by_key(|n| name_weight(n))
        .or_else(|| names.first())
        .map(String::as_str)
        .unwrap_or("")
}

/// How full a name is, for [`fullest_name`]: its characters, its Hangul
/// syllables counted twice. Counted over the bytes: a character is a byte
/// that does not continue another.
fn name_weight(name: &str) -> usize {
    let bytes = name.as_bytes();
    let mut weight = 0;
    let mut i = 0;
    while i < bytes.len() {
        if hangul_syllable_at(bytes, i) {
            weight += 2;
            i += 3;
        } else {
            weight += usize::from(bytes[i] & 0xC0 != 0x80);
            i += 1;
        }
    }
    weight
}

/// What recognition found in one sentence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SentenceMentions {
    /// The tokens.
    pub tokens: Vec<Token>,
    /// The names, in token order.
    pub mentions: Vec<Mention>,
    /// Titles attached to persons.
    pub titles: Vec<TitleMention>,
    /// The relation cues its words hold.
    pub cues: SentenceCues,
}

/// The relation cues ([`Ontology::cue_hits`]) the words of a sentence
/// hold, looked up with the words' other lexicon facts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SentenceCues {
    /// Each token whose text holds a cue, and its cues, in token order.
    pub in_words: Vec<(usize, CueHits)>,
    /// Whether a cue of several words may begin in one of the tokens
    /// ([`Ontology::may_begin_cue_of_words`]). When none may, the cues of
    /// the tokens joined by spaces are those of `in_words`.
    pub across_words: bool,
}

/// The recogniser's output for a document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recognised {
    /// Document-local entities.
    pub entities: Vec<LocalEntity>,
    /// Per sentence, in order.
    pub sentences: Vec<SentenceMentions>,
}

/// Generic words that refer back to an organisation named before.
const ANAPHORS: &[(&str, &[&str])] = &[
    ("전담팀", &["전담팀", "TF", "태스크포스"]),
    ("TF", &["전담팀", "TF", "태스크포스"]),
    ("위원회", &["위원회"]),
    ("특위", &["특별위원회", "특위"]),
    ("협의회", &["협의회"]),
    ("협의체", &["협의체"]),
    ("사업단", &["사업단"]),
    ("추진단", &["추진단"]),
    ("컨소시엄", &["컨소시엄"]),
    ("재단", &["재단"]),
    ("진흥원", &["진흥원"]),
    ("연구원", &["연구원"]),
    ("협회", &["협회"]),
    ("연합회", &["연합회"]),
    ("공사", &["공사"]),
    ("공단", &["공단"]),
    ("시당", &["시당"]),
    ("도당", &["도당"]),
];

impl Recogniser<'_> {
    /// The organisation a generic word (`위원회`, `전담팀`) refers back to:
    /// the latest one whose name ends like it.
    fn anaphor(&self, word: &str) -> Option<usize> {
        let (_, endings) = ANAPHORS.iter().find(|(w, _)| *w == word)?;
        (0..self.entities.len()).rev().find(|&e| {
            self.entities[e].kind == EntityType::Organization
                && self.entities[e]
                    .names
                    .iter()
                    .any(|n| n != word && endings.iter().any(|s| n.ends_with(s)))
        })
    }
}

/// Whether `stem` is `정부`, a bare council or a word referring back: what
/// the rules for governments, councils and [`ANAPHORS`] look for.
fn refers_back(stem: &str) -> bool {
    stem == "정부"
        || BARE_COUNCILS.iter().any(|(c, _)| *c == stem)
        || ANAPHORS.iter().any(|(w, _)| *w == stem)
}

/// Councils named without their city: the city the text is about.
const BARE_COUNCILS: &[(&str, &[OrgClass])] = &[
    ("시의회", &[OrgClass::Metropolitan, OrgClass::City]),
    ("도의회", &[OrgClass::Province]),
    ("군의회", &[OrgClass::County]),
    ("구의회", &[OrgClass::District]),
];

/// Suffix synonyms: a name ending in one is the same body as with the other.
const SYNONYM_ENDINGS: &[(&str, &str)] = &[("TF", "전담팀"), ("태스크포스", "전담팀")];

/// Endings after a sector that make it a field of its own (`X산업`).
const FIELD_ENDINGS: &[&str] = &["산업군", "산업", "분야", "분과", "신산업"];
/// Endings after a sector inside one word that keep it a sector mention.
const COMPOUND_ENDINGS: &[&str] = &[
    "산업",
    "분야",
    "분과",
    "특화",
    "산단",
    "단지",
    "클러스터",
    "허브",
    "밸리",
    "생태계",
    "기술",
    "컴퓨팅",
    "융합",
    "실증",
    "인프라",
    "기업",
    "도시",
    "중심",
];

struct Recogniser<'o> {
    ontology: &'o Ontology,
    /// The word cache's id of `등` ("and so on"), which ends a list of
    /// examples; `None` when no word of the document is `등`.
    etc: Option<u32>,
    /// What the lexicons say about every word of the document.
    words: &'o WordCache,
    entities: Vec<LocalEntity>,
    /// The entity each name stands for, per [`EntityType`] (see [`kind_slot`]);
    /// most names are held inline.
    by_name: [FxHashMap<CompactString, usize>; 4],
}

/// The slot of an entity type in [`Recogniser::by_name`].
fn kind_slot(kind: EntityType) -> usize {
    match kind {
        EntityType::Person => 0,
        EntityType::Organization => 1,
        EntityType::Sector => 2,
        EntityType::Place => 3,
    }
}

impl<'o> Recogniser<'o> {
    /// Makes `name` stand for entity `idx`, replacing what it stood for.
    fn set_name(&mut self, kind: EntityType, name: &str, idx: usize) {
        let map = &mut self.by_name[kind_slot(kind)];
        match map.get_mut(name) {
            Some(slot) => *slot = idx,
            None => {
                map.insert(CompactString::from(name), idx);
            }
        }
    }

    /// Makes `name` stand for entity `idx` unless it already stands for one.
    fn keep_name(&mut self, kind: EntityType, name: &str, idx: usize) {
        let map = &mut self.by_name[kind_slot(kind)];
        if !map.contains_key(name) {
            map.insert(CompactString::from(name), idx);
        }
    }

    fn entity(
        &mut self,
        kind: EntityType,
        name: &str,
        canonical: Option<&str>,
        class: Option<OrgClass>,
        strong: bool,
    ) -> usize {
        let key_name = canonical.unwrap_or(name);
        let map = &self.by_name[kind_slot(kind)];
        let by_key = map.get(key_name).copied();
        let existing = by_key.or_else(|| map.get(name).copied());
        let idx = match existing {
            Some(i) => i,
            None => {
                self.entities.push(LocalEntity {
                    kind,
                    canonical: canonical.map(str::to_string),
                    names: Vec::new(),
                    generic_names: Vec::new(),
                    class,
                    parent: None,
                    strong: false,
                });
                self.entities.len() - 1
            }
        };
        self.add_name(idx, name);
        // Where `key_name` stands for the entity already, it still does
        // (`add_name` replaces no name's entity).
        if by_key != Some(idx) {
            self.set_name(kind, key_name, idx);
        }
        let e = &mut self.entities[idx];
        e.strong |= strong;
        if e.class.is_none() {
            e.class = class;
        }
        idx
    }

    fn add_name(&mut self, idx: usize, name: &str) {
        // A name the entity already has was added here before, and what
        // that did to `by_name` still holds: `keep_name` never replaces,
        // and nothing removes a name from that map.
        if self.entities[idx].names.iter().any(|n| n == name) {
            return;
        }
        let kind = self.entities[idx].kind;
        self.entities[idx].names.push(name.to_string());
        self.keep_name(kind, name, idx);
        for (a, b) in SYNONYM_ENDINGS {
            for (from, to) in [(a, b), (b, a)] {
                if let Some(base) = name.strip_suffix(from) {
                    if !base.trim().is_empty() {
                        self.keep_name(kind, &format!("{base}{to}"), idx);
                    }
                }
            }
        }
    }

    fn add_generic_name(&mut self, idx: usize, name: &str) {
        self.add_name(idx, name);
        if !self.entities[idx].generic_names.iter().any(|n| n == name) {
            self.entities[idx].generic_names.push(name.to_string());
        }
    }

    fn find(&self, kind: EntityType, name: &str) -> Option<usize> {
        self.by_name[kind_slot(kind)].get(name).copied()
    }

    /// [`org_name_of`] `name`, from the cache when the word has been seen.
    fn org_name(&self, name: &str) -> Option<OrgName> {
        match self.words.get(name) {
            Some(id) => self.words.org_name(id, self.ontology).cloned(),
            None => org_name_of(self.ontology, name),
        }
    }

    /// [`person_name_of`] `word`, from the cache when the word has been
    /// seen.
    fn is_person_name(&self, word: &str) -> bool {
        match self.words.get(word) {
            Some(id) => self.words.person(id, self.ontology),
            None => person_name_of(self.ontology, word),
        }
    }

    /// The name in a word that may carry a particle (장현우는 → 장현우).
    fn person_in_word(&self, word: &str) -> Option<String> {
        let candidates = || stems_iter(word, self.ontology);
        let stripped = candidates()
            .skip(1)
            .filter(|(_, p)| {
                matches!(
                    *p,
                    "은" | "는"
                        | "이"
                        | "가"
                        | "을"
                        | "를"
                        | "과"
                        | "와"
                        | "의"
                        | "도"
                        | "에게"
                        | "께서"
                )
            })
            .find(|(st, _)| hangul_len(st).is_some_and(|n| n >= 2) && self.is_person_name(st));
        stripped
            .or_else(|| candidates().find(|(st, _)| self.is_person_name(st)))
            .map(|(st, _)| st.to_string())
    }
}

/// A canonical organisation name, shared by every use of a cached
/// [`OrgName`].
type SharedName = std::rc::Rc<str>;

/// How a name was recognised as an organisation's.
#[derive(Debug, Clone, PartialEq)]
struct OrgName {
    /// The canonical name, when the gazetteer (or an office's government)
    /// gives one.
    canonical: Option<SharedName>,
    /// Its kind.
    class: OrgClass,
    /// How sure the name is one.
    strength: Strength,
}

/// Recognises an organisation name (no particle): gazetteer first, then
/// name endings.
fn org_name_of(o: &Ontology, name: &str) -> Option<OrgName> {
    if let Some(entry) = o.organization(name) {
        let bare_region = entry.class.is_local_government()
            && !["시", "도", "군", "구"].iter().any(|s| name.ends_with(s));
        // Two-syllable short forms (삼성, 한전) are often other words.
        let short_alias = name != entry.canonical && hangul_len(name).is_some_and(|n| n <= 2);
        let strength = if bare_region || short_alias {
            Strength::Weak
        } else {
            Strength::Strong
        };
        return Some(OrgName {
            canonical: Some(SharedName::from(entry.canonical.as_str())),
            class: entry.class,
            strength,
        });
    }
    // Past the gazetteer, only an office, a company mark or a name
    // ending makes an organisation.
    let office_like = name.ends_with('청');
    let marked = name.starts_with(['㈜', '(']) || name.ends_with(['㈜', ')']);
    if !(office_like || marked || o.may_end_org_suffix(name)) {
        return None;
    }
    if name.chars().nth(2).is_none() || o.is_place(name) {
        return None;
    }
    // 광산구청 → 광산구: an office stands for its government.
    for (office, gov, class) in [
        ("구청", "구", OrgClass::District),
        ("군청", "군", OrgClass::County),
        ("시청", "시", OrgClass::City),
    ]
    .into_iter()
    .filter(|_| office_like)
    {
        if let Some(base) = name
            .strip_suffix(office)
            .filter(|b| hangul_len(b).is_some_and(|n| n >= 1))
        {
            let government = format!("{base}{gov}");
            let (canonical, class) = match o.organization(&government) {
                Some(e) => (e.canonical.clone(), e.class),
                None => (government, class),
            };
            return Some(OrgName {
                canonical: Some(SharedName::from(canonical)),
                class,
                strength: Strength::Strong,
            });
        }
    }
    // ㈜해양수소에너지, (주)대성정밀, 대성정밀㈜: companies by their mark.
    for mark in ["㈜", "(주)", "(유)", "(재)", "(사)"]
        .into_iter()
        .filter(|_| marked)
    {
        let rest = name.strip_prefix(mark).or_else(|| name.strip_suffix(mark));
        let has_particle = || {
            stems_iter(name, o)
                .skip(1)
                .any(|(st, _)| st.chars().count() > mark.chars().count() + 1)
        };
        if rest.is_some_and(|r| r.chars().count() >= 2) && !has_particle() {
            let class = if mark == "(재)" || mark == "(사)" {
                OrgClass::Standing
            } else {
                OrgClass::Company
            };
            return Some(OrgName {
                canonical: None,
                class,
                strength: Strength::Strong,
            });
        }
    }
    if name.is_ascii() {
        return None;
    }
    // An ending alone names nothing ("협의회" is not 협 + 의회).
    if o.org_suffixes_equal_to(name).next().is_some() {
        return None;
    }
    let suffix = o.org_suffix(name)?;
    let prefix = &name[..name.len() - suffix.suffix.len()];
    if prefix.chars().all(|c| c.is_ascii_digit()) || o.is_stopword("org-prefix", prefix) {
        return None;
    }
    // A title is not an organisation ("위원장" ends in 장, "경제부지사"
    // in 부지사 rather than 지사 …).
    if o.split_title(name)
        .is_some_and(|(p, t)| p.is_empty() || t.title.len() >= suffix.suffix.len())
    {
        return None;
    }
    let strength = if suffix.strong {
        Strength::Strong
    } else {
        Strength::Weak
    };
    Some(OrgName {
        canonical: None,
        class: suffix.class,
        strength,
    })
}

/// Whether `word` (no particle) is a person's name: two to four
/// syllables, a surname first, and nothing the lexicons know otherwise.
fn person_name_of(o: &Ontology, word: &str) -> bool {
    let Some(n) = hangul_len(word) else {
        return false;
    };
    if !(2..=4).contains(&n) || o.is_stopword("person", word) {
        return false;
    }
    let first: String = word.chars().take(1).collect();
    let first_two: String = word.chars().take(2).collect();
    let has_surname = o.is_surname(&first) || (n >= 3 && o.is_surname(&first_two));
    has_surname
        && o.organization(word).is_none()
        && !o.is_place(word)
        && o.sector(word).is_none()
        && o.split_title(word).is_none()
        && o.org_suffix(word).is_none()
        && o.org_suffixes_equal_to(word).next().is_none()
        && stems_iter(word, o)
            .skip(1)
            .all(|(st, _)| o.split_title(st).is_none() && o.organization(st).is_none())
}

fn word_at(tokens: &[Token], i: usize) -> Option<&str> {
    tokens.get(i).filter(|t| t.is_word).map(|t| t.text.as_str())
}

/// Recognises the names of every sentence of a document.
///
/// What the lexicons say about each distinct word is kept in a cache of
/// the calling thread and reused by later documents recognised on it with
/// the same ontology: up to 100 000 words, about 20 MB, freed when the
/// thread ends.
pub fn recognise(sentences: &[Sentence], ontology: &Ontology) -> Recognised {
    with_cache(ontology, |cache| recognise_with(sentences, ontology, cache))
}

/// [`recognise`] with the words looked up in (and added to) `cache`.
fn recognise_with(
    sentences: &[Sentence],
    ontology: &Ontology,
    cache: &mut WordCache,
) -> Recognised {
    // Every word is looked up (or worked out) once per sentence; the rules
    // then read the cache.
    let mut ids: Vec<u32> = Vec::new();
    let tokenized: Vec<(Vec<Token>, std::ops::Range<usize>)> = sentences
        .iter()
        .map(|sentence| {
            let tokens = tokenize(&sentence.text);
            let start = ids.len();
            ids.extend(tokens.iter().map(|t| cache.intern(&t.text, ontology)));
            (tokens, start..ids.len())
        })
        .collect();
    let flags: Vec<u8> = ids.iter().map(|&id| cache.flags(id, ontology)).collect();
    let mut r = Recogniser {
        ontology,
        etc: cache.get("등"),
        words: &*cache,
        entities: Vec::new(),
        // Room for a document's names from the start.
        by_name: std::array::from_fn(|_| {
            FxHashMap::with_capacity_and_hasher(16, Default::default())
        }),
    };
    let mut out = Vec::with_capacity(sentences.len());
    let mut scratch = SentenceScratch::default();
    for (tokens, range) in tokenized {
        out.push(recognise_sentence(
            &mut r,
            tokens,
            &ids[range.clone()],
            &flags[range],
            &mut scratch,
        ));
    }
    merge_prefixed_forms(&mut r, &mut out);
    // Weak mentions survive only where the entity is strong somewhere.
    for s in &mut out {
        s.mentions
            .retain(|m| r.entities[m.entity].strong || m.kind != EntityType::Organization);
        s.titles
            .retain(|t| t.organization.is_none_or(|o| r.entities[o].strong));
    }
    Recognised {
        entities: r.entities,
        sentences: out,
    }
}

/// Prefixes an organisation's full name has that its short form drops
/// (한국광산업진흥회 / 광산업진흥회).
const DROPPABLE_PREFIXES: &[&str] = &[
    "한국",
    "대한",
    "국립",
    "재단법인 ",
    "사단법인 ",
    "(사)",
    "(재)",
    "㈜",
    "(주)",
];

/// Merges an organisation named by its short form into the one named in
/// full elsewhere in the document.
#[allow(clippy::needless_range_loop)] // `short` indexes entities and targets alike
fn merge_prefixed_forms(r: &mut Recogniser<'_>, sentences: &mut [SentenceMentions]) {
    let n = r.entities.len();
    let mut target: Vec<usize> = (0..n).collect();
    // Labels change only where names move: recomputed for those two.
    let mut labels: Vec<String> = r.entities.iter().map(|e| e.label().to_string()).collect();
    for short in 0..n {
        if r.entities[short].kind != EntityType::Organization
            || r.entities[short].canonical.is_some()
        {
            continue;
        }
        let short_name = labels[short].as_str();
        let full = (0..n).find(|&f| {
            if f == short || r.entities[f].kind != EntityType::Organization {
                return false;
            }
            let label = labels[f].as_str();
            // Both forms below end with the short name.
            if !label.ends_with(short_name) {
                return false;
            }
            DROPPABLE_PREFIXES
                .iter()
                .any(|p| label.strip_prefix(p) == Some(short_name))
                || label.strip_suffix(short_name).is_some_and(|head| {
                    // 충남 미래차 전환 추진단 / 미래차 전환 추진단
                    head.ends_with(' ') && {
                        let region = head.trim();
                        r.ontology.is_place(region)
                            || r.ontology
                                .organization(region)
                                .is_some_and(|e| e.class.is_local_government())
                    }
                })
        });
        if let Some(full) = full {
            target[short] = full;
            let names = std::mem::take(&mut r.entities[short].names);
            for name in names {
                r.add_name(full, &name);
            }
            let strong = r.entities[short].strong;
            r.entities[full].strong |= strong;
            labels[short] = r.entities[short].label().to_string();
            labels[full] = r.entities[full].label().to_string();
        }
    }
    for s in sentences.iter_mut() {
        for m in &mut s.mentions {
            m.entity = target[m.entity];
        }
        for t in &mut s.titles {
            if let Some(o) = t.organization.as_mut() {
                *o = target[*o];
            }
        }
    }
    for e in &mut r.entities {
        if let Some(p) = e.parent.as_mut() {
            *p = target[*p];
        }
    }
}

const ACTING_PARTICLES: &[&str] = &["은", "는", "이", "가", "와", "과", "께서", "도"];

/// The working buffers of [`recognise_sentence`], kept from one sentence
/// to the next so that they allocate once per document.
#[derive(Default)]
struct SentenceScratch {
    covered: Vec<bool>,
    sectors: SectorScratch,
}

/// The working buffers of [`sectors_in`].
#[derive(Default)]
struct SectorScratch {
    /// Tokens already part of a mention.
    taken: Vec<bool>,
    /// Tokens a multi-word sector form may start at.
    starts: Vec<usize>,
    /// Token indexes of a coordinated list.
    items: Vec<usize>,
    /// The words of a multi-word form, joined by spaces.
    joined: String,
    /// The sector key of a multi-word form: its words before the last,
    /// then the stem of the last one tried.
    head_key: String,
}

/// Recognises the names of one sentence: its tokens, their ids in the
/// recogniser's word cache and their words' flags.
fn recognise_sentence(
    r: &mut Recogniser<'_>,
    tokens: Vec<Token>,
    ids: &[u32],
    flags: &[u8],
    scratch: &mut SentenceScratch,
) -> SentenceMentions {
    let o = r.ontology;
    let words = SentenceWords {
        tokens: &tokens,
        cache: r.words,
        ontology: o,
        ids,
        flags,
    };
    let SentenceScratch { covered, sectors } = scratch;
    let mut mentions: Vec<Mention> = Vec::new();
    let mut titles: Vec<TitleMention> = Vec::new();
    covered.clear();
    covered.resize(tokens.len(), false);

    // 1. Quoted organisation names: ‘광주산업 르네상스 전담팀(TF)’.
    let mut i = 0;
    while i < tokens.len() {
        // Quotes are punctuation: words are passed over at once.
        if !tokens[i].is_word && matches!(tokens[i].text.as_str(), "‘" | "'" | "“" | "\"") {
            let close = match tokens[i].text.as_str() {
                "‘" => "’",
                "“" => "”",
                q => q,
            };
            if let Some(len) = tokens[i + 1..]
                .iter()
                .take(12)
                .position(|t| t.text == close)
            {
                let j = i + 1 + len;
                if let Some(m) = quoted_org(r, &tokens, i + 1, j) {
                    for c in &mut covered[i..=j] {
                        *c = true;
                    }
                    mentions.push(m);
                    i = j + 1;
                    continue;
                }
            }
        }
        i += 1;
    }

    // 2. Organisation words, extended left over the organisation or place
    //    that names them (`더불어민주당 미래경제성장전략위원회`).
    for i in 0..tokens.len() {
        // Every rule below starts from a word that refers back or names
        // an organisation.
        if flags[i] & (WordFlags::REFERS_BACK | WordFlags::ORG) == 0
            || covered[i]
            || !tokens[i].is_word
        {
            continue;
        }
        let word = tokens[i].text.as_str();
        // "X 정부": the government of president X.
        if let Some((stem, particle)) = words.referring_split(i, |s| s == "정부") {
            let _ = stem;
            let prev = i.checked_sub(1).and_then(|p| word_at(&tokens, p));
            if let Some(prev) = prev.filter(|p| {
                r.is_person_name(p)
                    && !["의", "는", "은", "가", "을", "를", "와", "과"]
                        .iter()
                        .any(|e| p.ends_with(e))
            }) {
                let full = format!("{prev} 정부");
                let person = r.entity(EntityType::Person, prev, None, None, true);
                mentions.push(Mention {
                    entity: person,
                    kind: EntityType::Person,
                    name: CompactString::from(prev),
                    first: i - 1,
                    last: i,
                    particle: CompactString::default(),
                    modifier: false,
                    field: false,
                    subcommittee: false,
                    bare_region: false,
                });
                let gov = r.entity(
                    EntityType::Organization,
                    &full,
                    None,
                    Some(OrgClass::Government),
                    true,
                );
                r.set_name(EntityType::Organization, "정부", gov);
                r.add_generic_name(gov, "정부");
                mentions.push(org_mention(gov, &full, i - 1, i + 1, particle));
                covered[i - 1] = true;
                covered[i] = true;
                continue;
            }
            let blocked = prev.is_some_and(|p| o.is_stopword("actor-block", p));
            if blocked {
                covered[i] = true;
                continue;
            }
            if word.starts_with("정부") && !particle.is_empty() || word == "정부" {
                let gov = match r.find(EntityType::Organization, "정부") {
                    Some(g) => g,
                    None => {
                        let canonical = o.organization("정부").map(|e| e.canonical.clone());
                        r.entity(
                            EntityType::Organization,
                            "정부",
                            canonical.as_deref(),
                            Some(OrgClass::Government),
                            true,
                        )
                    }
                };
                r.add_generic_name(gov, "정부");
                mentions.push(org_mention(gov, "정부", i, i + 1, particle));
                covered[i] = true;
                continue;
            }
        }
        // Bare councils: 시의회 → the council of the city the text is about.
        if let Some((stem, particle)) =
            words.referring_split(i, |s| BARE_COUNCILS.iter().any(|(c, _)| *c == s))
        {
            let classes = BARE_COUNCILS
                .iter()
                .find(|(c, _)| *c == stem)
                .map(|(_, k)| *k)
                .unwrap_or(&[]);
            let government = (0..r.entities.len()).rev().find(|&e| {
                r.entities[e].strong && r.entities[e].class.is_some_and(|c| classes.contains(&c))
            });
            let idx = match government {
                Some(g) => {
                    let full = format!("{}의회", r.entities[g].label());
                    let canonical = o
                        .organization(&full)
                        .map(|e| e.canonical.clone())
                        .unwrap_or(full.clone());
                    r.entity(
                        EntityType::Organization,
                        &full,
                        Some(&canonical),
                        Some(OrgClass::Council),
                        true,
                    )
                }
                None => r.entity(
                    EntityType::Organization,
                    stem,
                    None,
                    Some(OrgClass::Council),
                    true,
                ),
            };
            r.add_generic_name(idx, stem);
            mentions.push(org_mention(idx, stem, i, i + 1, particle));
            covered[i] = true;
            continue;
        }
        // Bare generic words refer back: 전담팀, 위원회, 사업단 …
        let anaphor = words.referring_split(i, |s| ANAPHORS.iter().any(|(w, _)| *w == s));
        let named_here = anaphor.as_ref().is_some_and(|(stem, _)| {
            o.org_suffixes_equal_to(stem)
                .any(|x| matches!(x.class, OrgClass::Body | OrgClass::Branch))
        }) && body_name_anchor(r, &tokens, &mentions, i).is_some();
        if let Some((stem, particle)) = anaphor.filter(|_| !named_here) {
            let target = r.anaphor(stem);
            if let Some(target) = target {
                r.add_generic_name(target, stem);
                mentions.push(org_mention(target, stem, i, i + 1, particle));
                covered[i] = true;
            }
            continue;
        }
        let found = words
            .org_word(i)
            .map(|(st, p, n)| (st, p, n.canonical.as_deref(), n.class, n.strength))
            .or_else(|| {
                // The body ending alone, its name given by the words before it.
                named_here.then(|| {
                    words.of(i).find_map(|(st, p)| {
                        o.org_suffixes_equal_to(st)
                            .next()
                            .map(|x| (st, p, None, x.class, Strength::Strong))
                    })
                })?
            });
        let Some((stem, particle, canonical, class, strength)) = found else {
            continue;
        };
        // A name of several words: `더불어민주당 미래경제성장전략위원회`.
        let mut start = i;
        let mut parent: Option<usize> = None;
        let mut full = stem.to_string();
        let mut prefixed_by_org = false;
        if canonical.is_none() && matches!(class, OrgClass::Body | OrgClass::Branch) {
            if let Some((anchor, anchor_entity)) = body_name_anchor(r, &tokens, &mentions, i) {
                if let Some(pos) = mentions.iter().position(|m| {
                    m.kind == EntityType::Organization && m.first == anchor && m.last == anchor + 1
                }) {
                    mentions.remove(pos);
                }
                if let Some(e) = anchor_entity {
                    parent = Some(e);
                    prefixed_by_org = true;
                }
                let mut name = String::new();
                for t in &tokens[anchor..i] {
                    name.push_str(&t.text);
                    name.push(' ');
                }
                name.push_str(stem);
                full = name;
                start = anchor;
            }
        }
        if canonical.is_none() && start == i {
            // Extend left over names without particles.
            while start > 0 && tokens[start].space_before {
                let Some(prev) = word_at(&tokens, start - 1) else {
                    break;
                };
                if covered[start - 1] {
                    // An organisation just recognised, without particle:
                    // `더불어민주당 미래경제성장전략위원회`.
                    let Some(pos) = mentions.iter().position(|m| {
                        m.kind == EntityType::Organization
                            && m.last == start
                            && m.first == start - 1
                            && m.particle.is_empty()
                    }) else {
                        break;
                    };
                    if mentions[pos].name != prev {
                        break;
                    }
                    let m = mentions.remove(pos);
                    if parent.is_none() && !m.bare_region {
                        parent = Some(m.entity);
                    }
                    prefixed_by_org |= !m.bare_region;
                    full = format!("{prev} {full}");
                    start -= 1;
                    continue;
                }
                let prev_org = words.org_name(start - 1);
                let is_place =
                    o.is_place(prev) || prev_org.is_some_and(|n| n.strength == Strength::Weak);
                if prev_org.is_none() && !is_place {
                    break;
                }
                if let Some(n) = prev_org.filter(|n| n.strength == Strength::Strong) {
                    prefixed_by_org = true;
                    if parent.is_none() && !n.class.is_local_government()
                        || parent.is_none() && start == i
                    {
                        let name = n.canonical.as_deref().unwrap_or(prev);
                        let p = r.entity(
                            EntityType::Organization,
                            prev,
                            Some(name),
                            Some(n.class),
                            true,
                        );
                        parent = Some(p);
                    }
                }
                full = format!("{prev} {full}");
                start -= 1;
            }
        }
        let acting = ACTING_PARTICLES.contains(&particle)
            || tokens.get(i + 1).is_some_and(|t| {
                t.is_word && o.split_title(&t.text).is_some_and(|(p, _)| p.is_empty())
            });
        let strong =
            strength == Strength::Strong || acting && canonical.is_none() || prefixed_by_org;
        // A multi-word name whose last part names a known entity is that entity.
        let idx = if start < i {
            match r.find(EntityType::Organization, stem) {
                Some(known)
                    if !r.entities[known].names.iter().all(|n| n == stem)
                        || r.entities[known].canonical.is_some() =>
                {
                    r.add_name(known, &full);
                    known
                }
                _ => {
                    let idx = r.entity(EntityType::Organization, &full, None, Some(class), strong);
                    r.add_name(idx, stem);
                    r.set_name(EntityType::Organization, stem, idx);
                    if r.entities[idx].parent.is_none() {
                        r.entities[idx].parent = parent;
                    }
                    idx
                }
            }
        } else {
            let named_in_full = canonical.is_none().then(|| {
                // A name that ends with a space and the stem.
                let ends_with_word =
                    |n: &String| n.strip_suffix(stem).is_some_and(|head| head.ends_with(' '));
                (0..r.entities.len()).rev().find(|&e| {
                    r.entities[e].kind == EntityType::Organization
                        && r.entities[e].names.iter().any(ends_with_word)
                })
            });
            match named_in_full.flatten() {
                Some(e) => {
                    r.add_name(e, stem);
                    r.entities[e].strong |= strong;
                    e
                }
                None => r.entity(
                    EntityType::Organization,
                    stem,
                    canonical,
                    Some(class),
                    strong,
                ),
            }
        };
        for c in &mut covered[start..=i] {
            *c = true;
        }
        let mut m = org_mention(idx, &full, start, i + 1, particle);
        m.bare_region = start == i && strength == Strength::Weak && class.is_local_government();
        // "A(B)": B is another name of A; "(이하 B)" likewise.
        if let Some(alias_end) = parenthetical_alias(r, &tokens, i + 1, idx) {
            for c in &mut covered[i + 1..alias_end] {
                *c = true;
            }
            m.last = alias_end;
            if let Some(p) = word_at(&tokens, alias_end) {
                let _ = p;
            }
        }
        if m.particle.is_empty() {
            if let Some(t) = tokens.get(m.last).filter(|t| t.is_word && !t.space_before) {
                m.particle = t.text.clone();
            }
        }
        mentions.push(m);
    }

    // 3. Persons, found through their titles.
    for k in 0..tokens.len() {
        if flags[k] & WordFlags::TITLE == 0 || !tokens[k].is_word {
            continue;
        }
        let Some((_, _, prefix, title)) = words.title(k) else {
            continue;
        };
        // An ordinal is part of the title (제1차관); other digits make it no
        // title (제2전시장).
        let prefix = match prefix
            .strip_prefix('제')
            .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            Some(_) => "",
            None => prefix,
        };
        if prefix.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        // The organisation inside the title word (광주시장, 한국인공지능협회장).
        let mut org: Option<usize> = None;
        let mut org_start = k;
        if !prefix.is_empty() {
            let with_head = title
                .title
                .strip_suffix('장')
                .filter(|s| !s.is_empty())
                .map(|s| format!("{prefix}{s}"));
            let implied_gov = match title.implies {
                TitleImplies::City => Some(format!("{prefix}시")),
                TitleImplies::Province => Some(format!("{prefix}도")),
                TitleImplies::County => Some(format!("{prefix}군")),
                TitleImplies::District => Some(format!("{prefix}구")),
                _ => None,
            };
            let candidates = [
                (Some(prefix.to_string()), false),
                (implied_gov, false),
                (with_head, true),
            ];
            for (candidate, must_be_strong) in candidates
                .into_iter()
                .filter_map(|(c, s)| c.map(|c| (c, s)))
            {
                // "경기지방중소벤처기업청장": a government office (청) shows
                // itself through its head's title.
                let office = (must_be_strong
                    && candidate.ends_with('청')
                    && hangul_len(&candidate).is_some_and(|n| n >= 4))
                .then_some(OrgName {
                    canonical: None,
                    class: OrgClass::Ministry,
                    strength: Strength::Strong,
                });
                let Some(OrgName {
                    canonical,
                    class,
                    strength,
                }) = r.org_name(&candidate).or(office)
                else {
                    continue;
                };
                if must_be_strong && strength == Strength::Weak {
                    continue;
                }
                // Extend left over an organisation word without particle
                // (한국고려인단체 전국연합회장).
                let mut full = candidate.clone();
                if canonical.is_none() && k > 0 && tokens[k].space_before {
                    if let Some(pos) = mentions.iter().position(|m| {
                        m.kind == EntityType::Organization && m.last == k && m.particle.is_empty()
                    }) {
                        let m = mentions.remove(pos);
                        full = format!("{} {candidate}", m.name);
                        org_start = m.first;
                    } else if let Some(prev) = word_at(&tokens, k - 1) {
                        if !covered[k - 1] && r.org_name(prev).is_some() {
                            full = format!("{prev} {candidate}");
                            covered[k - 1] = true;
                            org_start = k - 1;
                        }
                    }
                }
                let idx = match r
                    .find(EntityType::Organization, &candidate)
                    .filter(|_| full == candidate)
                {
                    Some(known) => known,
                    None => r.entity(
                        EntityType::Organization,
                        &full,
                        canonical.as_deref(),
                        Some(class),
                        true,
                    ),
                };
                r.entities[idx].strong = true;
                if full != candidate {
                    r.add_name(idx, &candidate);
                }
                mentions.push(org_mention(idx, &full, org_start, k + 1, ""));
                org = Some(idx);
                break;
            }
            if org.is_none() && prefix.chars().count() > 6 {
                continue;
            }
        }
        // The organisation named in the words before the title.
        let mut name_end = org_start;
        if org.is_none() {
            if let Some(m) = mentions
                .iter()
                .filter(|m| {
                    m.kind == EntityType::Organization && m.last == k && m.particle.is_empty()
                })
                .min_by_key(|m| m.first)
            {
                org = Some(m.entity);
                name_end = m.first;
            }
        }
        // Skip a parenthetical after the name: 안도걸(광주 동남을) 국회의원.
        if name_end > 0 && tokens[name_end - 1].text == ")" {
            if let Some(open) = (0..name_end - 1)
                .rev()
                .take(8)
                .find(|&j| tokens[j].text == "(")
            {
                name_end = open;
            }
        }
        let mut former = name_end >= 2 && word_at(&tokens, name_end - 2) == Some("전");
        // "김두열 전 울산시장": the former post between name and title.
        if name_end >= 1 && word_at(&tokens, name_end - 1) == Some("전") {
            former = true;
            name_end -= 1;
        }
        let mut names: Vec<(usize, String)> = Vec::new();
        if let Some((first, name)) = person_before(r, &tokens, covered, name_end) {
            names.push((first, name));
            // 최지현·박수기 시의원: names joined by middle dots share the title.
            let mut first = names[0].0;
            while first >= 2 && tokens[first - 1].text == "·" {
                match word_at(&tokens, first - 2).filter(|w| r.is_person_name(w)) {
                    Some(w) => {
                        names.push((first - 2, w.to_string()));
                        first -= 2;
                    }
                    None => break,
                }
            }
        } else if let Some(next) = word_at(&tokens, k + 1) {
            // 광주시장 강기정: the name follows the title.
            let next_stem = r.person_in_word(next);
            if let Some(n) = next_stem {
                // "부산시장 장현우", "산업통상자원부 장관 안병철": an organisation
                // named with the title, then the name.
                let org_in_title =
                    !prefix.is_empty() && org_start == k && title.implies != TitleImplies::Nothing;
                let org_before = prefix.is_empty() && org.is_some();
                if tokens[k + 1].space_before && org.is_some() && (org_in_title || org_before) {
                    names.push((k + 1, n));
                }
            }
        }
        // "한국탄소산업진흥원 방재희 원장": the organisation before the name.
        if org.is_none() {
            if let Some(&(first, _)) = names.first() {
                if first <= k {
                    org = mentions
                        .iter()
                        .filter(|m| {
                            m.kind == EntityType::Organization
                                && m.last == first
                                && m.particle.is_empty()
                        })
                        .min_by_key(|m| m.first)
                        .map(|m| m.entity);
                }
            }
        }
        for (first, name) in names {
            let person = r.entity(EntityType::Person, &name, None, None, true);
            let last = if first > k {
                first + 1
            } else {
                name_end.max(first + 1)
            };
            mentions.push(Mention {
                entity: person,
                kind: EntityType::Person,
                name: CompactString::from(name.as_str()),
                first,
                last,
                particle: CompactString::default(),
                modifier: false,
                field: false,
                subcommittee: false,
                bare_region: false,
            });
            titles.push(TitleMention {
                person,
                title: title.clone(),
                organization: org,
                former,
                token: k,
            });
            // "부위원장인 안도걸", "(위원장 이언주 최고위원)": a title before the name.
            if first >= 1 {
                if let Some(prev) = word_at(&tokens, first - 1) {
                    let prev_title = stems_iter(prev, o)
                        .filter(|(_, p)| p.is_empty() || *p == "인")
                        .find_map(|(s, _)| {
                            o.split_title(s)
                                .filter(|(p, _)| p.is_empty())
                                .map(|(_, t)| t.clone())
                        });
                    if let Some(t) = prev_title {
                        let mut j = first - 1;
                        while j > 0
                            && word_at(&tokens, j - 1).is_some_and(|w| {
                                matches!(w, "수석" | "상임" | "공동" | "상근" | "신임")
                            })
                        {
                            j -= 1;
                        }
                        if j > 0 && tokens[j - 1].text == "(" {
                            j -= 1;
                        }
                        let before = mentions
                            .iter()
                            .filter(|m| m.kind == EntityType::Organization && m.last == j)
                            .min_by_key(|m| m.first)
                            .map(|m| m.entity);
                        titles.push(TitleMention {
                            person,
                            title: t,
                            organization: before,
                            former: false,
                            token: first - 1,
                        });
                    }
                }
            }
        }
    }

    // Weak names listed with strong ones (나주시, 한국전력공사, 일진전기 등)
    // are organisations too.
    mentions.sort_by_key(|m| (m.first, m.last));
    let orgs: Vec<&Mention> = mentions
        .iter()
        .filter(|m| m.kind == EntityType::Organization)
        .collect();
    let mut promote = Vec::new();
    for w in orgs.windows(2) {
        let listed = w[1].first == w[0].last + 1
            && tokens
                .get(w[0].last)
                .is_some_and(|t| t.text == "," || t.text == "·");
        if listed {
            let (a, b) = (w[0].entity, w[1].entity);
            if r.entities[a].strong || r.entities[b].strong {
                promote.extend([a, b]);
            }
        }
    }
    for e in promote {
        // Only names found by their ending; a bare region stays a place.
        if r.entities[e].canonical.is_none() {
            r.entities[e].strong = true;
        }
    }

    // 4. Sectors.
    sectors_in(r, &tokens, words, covered, &mut mentions, sectors);

    mentions.sort_by_key(|m| (m.first, m.last));
    let cues = words.cues();
    SentenceMentions {
        tokens,
        mentions,
        titles,
        cues,
    }
}

/// For a body's name ending at token `end` (`경상남도 기계산업 고도화
/// 협의체`): the token where the name starts — a region or organisation
/// followed by up to three plain nouns — and the organisation it names.
fn body_name_anchor(
    r: &mut Recogniser<'_>,
    tokens: &[Token],
    mentions: &[Mention],
    end: usize,
) -> Option<(usize, Option<usize>)> {
    let o = r.ontology;
    let mut j = end;
    for _ in 0..4 {
        if j == 0 || !tokens[j].space_before {
            return None;
        }
        let prev = word_at(tokens, j - 1)?;
        j -= 1;
        // An organisation just recognised (without particle) anchors it.
        if let Some(m) = mentions.iter().find(|m| {
            m.kind == EntityType::Organization
                && m.first == j
                && m.last == j + 1
                && m.particle.is_empty()
        }) {
            return Some((j, (!m.bare_region).then_some(m.entity)));
        }
        if o.is_place(prev) {
            return Some((j, None));
        }
        if let Some(OrgName {
            canonical,
            class,
            strength,
        }) = r.org_name(prev)
        {
            if strength == Strength::Weak && class.is_local_government() {
                return Some((j, None));
            }
            let name = canonical.as_deref().unwrap_or(prev);
            let e = r.entity(
                EntityType::Organization,
                prev,
                Some(name),
                Some(class),
                true,
            );
            return Some((j, Some(e)));
        }
        let plain = prev
            .chars()
            .all(|c| is_hangul_syllable(c) || c.is_ascii_alphanumeric())
            && stems_iter(prev, o).nth(1).is_none()
            && ![
                "한", "된", "는", "던", "고", "며", "서", "해", "게", "인", "적", "들",
            ]
            .iter()
            .any(|e| prev.ends_with(e));
        if !plain {
            return None;
        }
    }
    None
}

fn org_mention(entity: usize, name: &str, first: usize, last: usize, particle: &str) -> Mention {
    Mention {
        entity,
        kind: EntityType::Organization,
        name: CompactString::from(name),
        first,
        last,
        particle: CompactString::from(particle),
        modifier: false,
        field: false,
        subcommittee: false,
        bare_region: false,
    }
}

/// The name of a person ending right before token `end`.
fn person_before(
    r: &Recogniser<'_>,
    tokens: &[Token],
    covered: &[bool],
    end: usize,
) -> Option<(usize, String)> {
    let n = end.checked_sub(1)?;
    if covered[n] {
        return None;
    }
    let word = word_at(tokens, n)?;
    let prev = n
        .checked_sub(1)
        .filter(|&p| !covered[p])
        .and_then(|p| word_at(tokens, p).map(|w| (p, w)));
    // 김 알렉산드라: a one-syllable surname and a transliterated given name.
    if let Some((p, w)) = prev {
        let foreign = hangul_len(word).is_some_and(|l| (2..=6).contains(&l));
        if foreign && hangul_len(w) == Some(1) && r.ontology.is_surname(w) && tokens[n].space_before
        {
            return Some((p, format!("{w} {word}")));
        }
        // 지가이 빅토리아: two transliterated words at the start of a list item.
        let at_item_start = p == 0 || matches!(tokens[p - 1].text.as_str(), "," | "(" | "·" | "▲");
        let word_first: String = word.chars().take(1).collect();
        if at_item_start
            && hangul_len(word).is_some_and(|l| (3..=6).contains(&l))
            && !r.ontology.is_surname(&word_first)
            && hangul_len(w).is_some_and(|l| (2..=4).contains(&l))
            && r.ontology.organization(w).is_none()
            && !r.ontology.is_stopword("person", w)
        {
            return Some((p, format!("{w} {word}")));
        }
    }
    r.is_person_name(word).then(|| (n, word.to_string()))
}

/// A quoted span that names an organisation (its last word has an
/// organisation ending), e.g. ‘광주산업 르네상스 전담팀(TF)’.
fn quoted_org(r: &mut Recogniser<'_>, tokens: &[Token], from: usize, to: usize) -> Option<Mention> {
    if to <= from {
        return None;
    }
    // Drop a trailing "(ABBR)".
    let mut end = to;
    let mut abbr: Option<String> = None;
    if end >= from + 3 && tokens[end - 1].text == ")" && tokens[end - 3].text == "(" {
        abbr = word_at(tokens, end - 2).map(str::to_string);
        end -= 3;
    }
    let last = word_at(tokens, end.checked_sub(1)?)?;
    // The name's own ending decides its kind (광양시 4차산업혁명위원회 is a
    // local committee whatever the gazetteer says of its last word).
    let own_class = r.ontology.org_suffix(last).map(|s| s.class);
    let (class, strength) = match r.org_name(last) {
        Some(OrgName {
            class, strength, ..
        }) => (own_class.unwrap_or(class), strength),
        None => {
            let suffix = r
                .ontology
                .org_suffixes_equal_to(last)
                .next()
                .or_else(|| r.ontology.org_suffix(last))?;
            (
                suffix.class,
                if suffix.strong {
                    Strength::Strong
                } else {
                    Strength::Weak
                },
            )
        }
    };
    if strength == Strength::Weak || end - from < 2 {
        return None;
    }
    let mut name = String::new();
    for t in &tokens[from..end] {
        if t.space_before && !name.is_empty() {
            name.push(' ');
        }
        name.push_str(&t.text);
    }
    let idx = match r.find(EntityType::Organization, &name) {
        Some(i) => i,
        None => r.entity(EntityType::Organization, &name, None, Some(class), true),
    };
    r.add_name(idx, &name);
    if let Some(abbr) = abbr {
        r.add_name(idx, &format!("{name}({abbr})"));
        r.add_generic_name(idx, &format!("{last}({abbr})"));
    }
    // A governing organisation written first inside the quotes.
    if let Some(first) = word_at(tokens, from) {
        if let Some(OrgName {
            canonical,
            class: pclass,
            strength: Strength::Strong,
        }) = r.org_name(first)
        {
            if end - from >= 2 && r.entities[idx].parent.is_none() {
                let p = r.entity(
                    EntityType::Organization,
                    first,
                    canonical.as_deref(),
                    Some(pclass),
                    true,
                );
                if p != idx {
                    r.entities[idx].parent = Some(p);
                }
            }
        }
    }
    let particle = tokens
        .get(to + 1)
        .filter(|t| t.is_word && !t.space_before)
        .map(|t| t.text.clone())
        .unwrap_or_default();
    Some(Mention {
        entity: idx,
        kind: EntityType::Organization,
        name: name.into(),
        first: from - 1,
        last: to + 1,
        particle,
        modifier: false,
        field: false,
        subcommittee: false,
        bare_region: false,
    })
}

/// `(이하 X)` or `(X)` right after an organisation: X is another of its
/// names. Returns the token index one past the closing parenthesis.
fn parenthetical_alias(
    r: &mut Recogniser<'_>,
    tokens: &[Token],
    open: usize,
    entity: usize,
) -> Option<usize> {
    if tokens.get(open)?.text != "(" || tokens[open].space_before {
        return None;
    }
    let mut i = open + 1;
    if word_at(tokens, i) == Some("이하") {
        i += 1;
    }
    let alias = word_at(tokens, i)?.to_string();
    if tokens.get(i + 1)?.text != ")" {
        return None;
    }
    // Only short names or acronyms, not titles or explanations.
    let is_alias = alias.chars().any(|c| c.is_ascii_uppercase())
        || r.org_name(&alias).is_some()
        || i > open + 1;
    if !is_alias || r.ontology.split_title(&alias).is_some() && i == open + 1 {
        return None;
    }
    r.add_name(entity, &alias);
    let name = r.entities[entity].names[0].clone();
    if i == open + 1 {
        r.add_name(entity, &format!("{name}({alias})"));
    }
    Some(i + 2)
}

/// Finds sector mentions in the words not covered by organisation names.
fn sectors_in(
    r: &mut Recogniser<'_>,
    tokens: &[Token],
    words: SentenceWords<'_>,
    covered: &[bool],
    mentions: &mut Vec<Mention>,
    scratch: &mut SectorScratch,
) {
    let o = r.ontology;
    let SectorScratch {
        taken,
        starts,
        items,
        joined,
        head_key,
    } = scratch;
    taken.clear();
    taken.extend_from_slice(covered);
    let push = |r: &mut Recogniser<'_>,
                mentions: &mut Vec<Mention>,
                label: &str,
                surface: &str,
                first: usize,
                last: usize,
                particle: &str,
                field: bool| {
        let idx = r.entity(EntityType::Sector, surface, Some(label), None, true);
        let next = word_at(tokens, last).unwrap_or("");
        let modifier = next.starts_with("기반") || surface.ends_with("기반");
        let subcommittee = next.starts_with("분과")
            && tokens.get(last).is_some_and(|t| t.space_before)
            || surface.ends_with("분과");
        let field = field
            || next.starts_with("분야")
            || next.starts_with("분과")
            || next.starts_with("산업");
        mentions.push(Mention {
            entity: idx,
            kind: EntityType::Sector,
            name: CompactString::from(surface),
            first,
            last,
            particle: CompactString::from(particle),
            modifier,
            field,
            subcommittee,
            bare_region: false,
        });
    };
    // Multi-word forms first (광기술 융합산업, 에너지 신산업), longest first.
    // Every form tried below starts with the words before the last (the
    // endings stripped are inside the last word): a form starts only at a
    // word some form starts like.
    starts.clear();
    starts.extend(
        (0..tokens.len())
            .filter(|&i| words.may_begin_sector_form(i) && tokens[i].is_word && !taken[i]),
    );
    for width in (2..=3).rev() {
        for &i in starts.iter() {
            if i + width > tokens.len()
                || taken[i..i + width].iter().any(|t| *t)
                || !tokens[i..i + width].iter().all(|t| t.is_word)
            {
                continue;
            }
            // The sector key of the words before the last; the key of a
            // text is the keys of its parts one after the other, and
            // spaces have none.
            head_key.clear();
            for t in &tokens[i..i + width - 1] {
                push_sector_key(head_key, &t.text);
            }
            if width > 2 && !o.is_sector_key_prefix(head_key) {
                continue;
            }
            let head_len = head_key.len();
            for (stem, particle) in words.of(i + width - 1) {
                head_key.truncate(head_len);
                push_sector_key(head_key, stem);
                let key = head_key.as_str();
                // The form itself, else the form less a field ending
                // (Hangul, so its own key) at the end of its last word.
                let found = o.sector_by_key(key).or_else(|| {
                    FIELD_ENDINGS.iter().find_map(|e| {
                        stem.ends_with(e)
                            .then(|| o.sector_by_key(&key[..key.len() - e.len()]))
                            .flatten()
                    })
                });
                if let Some(sector) = found {
                    let label = sector.label.clone();
                    // The words before the last, each followed by a space.
                    joined.clear();
                    for t in &tokens[i..i + width - 1] {
                        joined.push_str(&t.text);
                        joined.push(' ');
                    }
                    joined.push_str(stem);
                    push(r, mentions, &label, joined, i, i + width, particle, true);
                    for t in &mut taken[i..i + width] {
                        *t = true;
                    }
                    break;
                }
            }
        }
    }
    for i in 0..tokens.len() {
        if taken[i] || !tokens[i].is_word {
            continue;
        }
        let text = tokens[i].text.as_str();
        let slice = |(a, b): (u32, u32)| &text[a as usize..b as usize];
        match words.sector_word(i) {
            SectorWord::Form {
                stem,
                sector,
                field,
            } => {
                let label = &o.sectors()[sector as usize].label;
                let particle = &text[stem.1 as usize..];
                push(r, mentions, label, slice(stem), i, i + 1, particle, field);
            }
            SectorWord::Compound {
                surface,
                sector,
                modifier,
            } => {
                let label = &o.sectors()[sector as usize].label;
                push(r, mentions, label, slice(surface), i, i + 1, "", false);
                if modifier {
                    if let Some(m) = mentions.last_mut() {
                        m.modifier = true;
                    }
                }
            }
            SectorWord::Productive { stem, base_end } => {
                let base = slice((stem.0, base_end));
                let particle = &text[stem.1 as usize..];
                push(r, mentions, base, slice(stem), i, i + 1, particle, true);
            }
            // X 분야 / X 분과 (two words).
            SectorWord::Nothing { field_base } => {
                let next_is_field = || {
                    word_at(tokens, i + 1).is_some()
                        && tokens[i + 1].space_before
                        && words.is_field_word(i + 1)
                };
                if !(field_base && next_is_field()) {
                    continue;
                }
                let word = text.strip_prefix("e-").unwrap_or(text);
                push(r, mentions, word, word, i, i + 1, "", true);
            }
        }
        taken[i] = true;
    }
    // "X, Y, Z 등 다양한 분야": examples of where something applies, not
    // sectors of their own.
    let etc = r.etc.unwrap_or(u32::MAX);
    for i in 0..tokens.len().saturating_sub(1) {
        // (No word has the id `u32::MAX`: the cache holds fewer words.)
        if words.ids[i] == etc && tokens[i + 1].text.starts_with("다양한") {
            let mut j = i;
            while j > 0 {
                let prev = &tokens[j - 1];
                if prev.is_word {
                    mentions.retain(|m| {
                        !(m.kind == EntityType::Sector && m.first == j - 1 && !m.field)
                    });
                } else if prev.text != "," && prev.text != "·" {
                    break;
                }
                j -= 1;
            }
        }
    }
    // Coordinated lists where most items are sectors: the rest are too
    // (가전, 자율주행차, 로봇, 사물인터넷, 가상현실, 스마트공장 등).
    let is_separator = |t: &Token| !t.is_word && matches!(t.text.as_str(), "," | "·");
    let mut i = 0;
    while i < tokens.len() {
        // A list has a word, then a separator, at its start.
        if !tokens[i].is_word || !tokens.get(i + 1).is_some_and(is_separator) {
            i += 1;
            continue;
        }
        items.clear();
        let mut j = i;
        while j < tokens.len() && tokens[j].is_word {
            items.push(j);
            // (Commas and dots are punctuation: a word is none.)
            match tokens
                .get(j + 1)
                .filter(|t| !t.is_word)
                .map(|t| t.text.as_str())
            {
                Some("," | "·") => j += 2,
                _ => break,
            }
        }
        if items.len() >= 3 {
            let sectors = items
                .iter()
                .filter(|&&t| {
                    mentions
                        .iter()
                        .any(|m| m.kind == EntityType::Sector && m.first == t)
                })
                .count();
            if sectors * 2 >= items.len() {
                for &t in items.iter() {
                    if taken[t] {
                        continue;
                    }
                    let (stem, particle) = words
                        .of(t)
                        .find(|(s, _)| {
                            hangul_len(s).is_some_and(|l| (2..=6).contains(&l))
                                && productive_base(o, s)
                        })
                        .unwrap_or(("", ""));
                    if !stem.is_empty() && (particle.is_empty() || t == *items.last().unwrap_or(&t))
                    {
                        let stem = stem.to_string();
                        push(r, mentions, &stem, &stem, t, t + 1, particle, false);
                        taken[t] = true;
                    }
                }
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
}

/// The longest sector form a word starts with: the sector's index in
/// [`Ontology::sectors`] and the byte offset where the form ends.
fn sector_prefix(o: &Ontology, word: &str) -> Option<(usize, usize)> {
    // Heads of two characters up to all but the last, growing until no
    // sector form starts like the head: the last one found is the longest.
    if !o.may_begin_sector(word) {
        return None;
    }
    let mut key = String::with_capacity(word.len());
    let mut longest = None;
    for (n, (byte, c)) in word.char_indices().enumerate() {
        if n >= 2 {
            if let Some(s) = o.sector_id_by_key(&key) {
                longest = Some((s, byte));
            }
        }
        push_sector_key_char(&mut key, c);
        if !o.is_sector_key_prefix(&key) {
            break;
        }
    }
    longest
}

/// What a word says of sectors on its own, before its neighbours are
/// looked at (the rules of [`sectors_in`] for one word, in their order).
/// Ranges are byte offsets in the token's text; the rules read the word
/// after an `e-` it starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectorWord {
    /// A particle split whose stem is a sector form (`field`: or
    /// `X산업`, `X분야` … of one): the stem's range and the sector.
    Form {
        stem: (u32, u32),
        sector: u32,
        field: bool,
    },
    /// A compound that starts with a sector form and goes on with a
    /// compound ending (`AI기반`, `바이오클러스터`): the form's range, the
    /// sector, and whether `기반` follows it.
    Compound {
        surface: (u32, u32),
        sector: u32,
        modifier: bool,
    },
    /// A productive field `X산업` (X not in the vocabulary): the stem's
    /// range and where X ends.
    Productive { stem: (u32, u32), base_end: u32 },
    /// None of these. `field_base`: the word has no particle and may name
    /// a field when `분야` or `분과` follows it.
    Nothing { field_base: bool },
}

/// [`SectorWord`] of a token's text.
fn sector_word(o: &Ontology, text: &str) -> SectorWord {
    let word = text.strip_prefix("e-").unwrap_or(text);
    let start = text.len() - word.len();
    let range = |stem: &str| (start as u32, (start + stem.len()) as u32);
    // The stems begin like the word: none is a sector (nor `X산업` of
    // one) when no sector begins so.
    if o.may_begin_sector(word) {
        for (stem, _) in stems_iter(word, o) {
            if let Some(sector) = o.sector_id(stem) {
                return SectorWord::Form {
                    stem: range(stem),
                    sector: sector as u32,
                    field: false,
                };
            }
            // X산업, X분야 with X in the vocabulary.
            if let Some(base) = FIELD_ENDINGS.iter().find_map(|e| stem.strip_suffix(e)) {
                if let Some(sector) = o.sector_id(base) {
                    return SectorWord::Form {
                        stem: range(stem),
                        sector: sector as u32,
                        field: true,
                    };
                }
            }
        }
    }
    // Compounds that start with a sector: AI기반, 항공특화산단, 바이오클러스터.
    if let Some((sector, end)) = sector_prefix(o, word) {
        let rest = &word[end..];
        if COMPOUND_ENDINGS.iter().any(|e| rest.starts_with(e)) || rest.starts_with("기반") {
            return SectorWord::Compound {
                surface: range(&word[..end]),
                sector: sector as u32,
                modifier: rest.starts_with("기반"),
            };
        }
    }
    // Productive fields: X산업 (one word).
    for (stem, _) in stems_iter(word, o) {
        if let Some(base) = stem.strip_suffix("산업") {
            if productive_base(o, base) {
                return SectorWord::Productive {
                    stem: range(stem),
                    base_end: (start + base.len()) as u32,
                };
            }
        }
    }
    SectorWord::Nothing {
        field_base: stems_iter(word, o).nth(1).is_none() && productive_base(o, word),
    }
}

/// Whether X of a productive `X산업`/`X 분야` can name a sector.
fn productive_base(o: &Ontology, base: &str) -> bool {
    let Some(n) = hangul_len(base) else {
        return false;
    };
    let first_word: String = base.chars().take(2).collect();
    (2..=6).contains(&n)
        && !o.is_stopword("sector-modifier", base)
        && (n <= 2 || !o.is_stopword("sector-modifier", &first_word))
        && ![
            "한", "적", "된", "인", "의", "별", "등", "간", "및", "고", "며", "서", "다", "해",
            "게", "여", "면", "지",
        ]
        .iter()
        .any(|e| base.ends_with(e))
        && o.organization(base).is_none()
        && !o.is_place(base)
        && o.org_suffix(base).is_none()
}

/// The sector key used for matching (exposed for tests).
pub fn key(name: &str) -> String {
    sector_key(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sentence;

    fn run(text: &str) -> (Recognised, Ontology) {
        let o = Ontology::load(None).expect("ontology");
        (run_with(text, &o), o)
    }

    fn run_with(text: &str, o: &Ontology) -> Recognised {
        let sentences: Vec<Sentence> = crate::segment::split_sentences(text)
            .into_iter()
            .enumerate()
            .map(|(i, s)| Sentence {
                index: i,
                article: 0,
                text: s.to_string(),
                start: 0,
                end: 0,
            })
            .collect();
        recognise(&sentences, o)
    }

    fn builtin_file(name: &str) -> &'static str {
        crate::ontology::BUILTIN_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
            .expect("built-in file")
    }

    fn names(r: &Recognised, kind: EntityType) -> Vec<String> {
        r.entities
            .iter()
            .filter(|e| e.kind == kind && e.strong)
            .map(|e| e.label().to_string())
            .collect()
    }

    /// The multi-word sector search takes a field ending off the end of a
    /// form's key by the ending's length: each ending is its own key.
    #[test]
    fn field_endings_are_their_own_sector_keys() {
        for ending in FIELD_ENDINGS {
            assert_eq!(sector_key(ending), *ending);
        }
    }

    /// The pruned search finds the longest sector head a plain scan finds.
    #[test]
    fn sector_prefix_matches_a_scan_of_every_head() {
        let o = Ontology::load(None).expect("ontology");
        let scan = |word: &str| {
            let chars: Vec<(usize, char)> = word.char_indices().collect();
            (2..chars.len()).rev().find_map(|cut| {
                let byte = chars[cut].0;
                o.sector(&word[..byte]).map(|s| {
                    (
                        s.label.clone(),
                        word[..byte].to_string(),
                        word[byte..].to_string(),
                    )
                })
            })
        };
        for s in o.sectors() {
            for form in std::iter::once(&s.label).chain(&s.aliases) {
                for tail in ["", "기반", "산업", "클러스터", "x"] {
                    let word = format!("{form}{tail}");
                    let found = sector_prefix(&o, &word).map(|(s, byte)| {
                        (
                            o.sectors()[s].label.clone(),
                            word[..byte].to_string(),
                            word[byte..].to_string(),
                        )
                    });
                    assert_eq!(found, scan(&word), "{word}");
                }
            }
        }
    }

    /// A sentence's words read from a cache: the tokens and their ids.
    fn cached_words(
        text: &str,
        o: &Ontology,
        cache: &mut words::WordCache,
    ) -> (Vec<Token>, Vec<u32>) {
        let tokens = tokenize(text);
        let ids = tokens.iter().map(|t| cache.intern(&t.text, o)).collect();
        (tokens, ids)
    }

    const MIXED: &str = "광주시는 e-모빌리티와 인공지능(AI) 산업을, 한국전력공사의 위원장에게 \
                         ‘TF’를 맡겼으며 은 는 이가 께서도 X-ray 3.0으로부터 광산구청은 \
                         ㈜해양수소에너지와 김철수 시장, 전남도지사 정부는 시의회와 전담팀에 \
                         장현우는 한국광기술원장 부위원장인 위원회가 이차전지 반도체산업 \
                         AI기반 가구산업을 주얼리 분야";

    /// Checks every cached fact of every token of a sentence against what
    /// the lexicons give for its text.
    fn assert_facts_of_sentence(
        tokens: &[Token],
        ids: &[u32],
        cache: &words::WordCache,
        o: &Ontology,
    ) {
        let flags: Vec<u8> = ids.iter().map(|&id| cache.flags(id, o)).collect();
        let words = SentenceWords {
            tokens,
            cache,
            ontology: o,
            ids,
            flags: &flags,
        };
        for i in 0..tokens.len() {
            assert_facts_of(words, tokens, i, o);
        }
    }

    /// Checks every cached fact of token `i` against what the lexicons
    /// give for its text.
    fn assert_facts_of(words: SentenceWords<'_>, tokens: &[Token], i: usize, o: &Ontology) {
        let word = tokens[i].text.as_str();
        let stems: Vec<_> = stems_iter(word, o).collect();
        assert_eq!(words.of(i).collect::<Vec<_>>(), stems, "{word}");
        let org = stems
            .iter()
            .find_map(|&(st, p)| org_name_of(o, st).map(|n| (st, p, n)));
        assert_eq!(
            words.org_word(i).map(|(st, p, n)| (st, p, n.clone())),
            org,
            "{word}"
        );
        assert_eq!(words.org_name(i).cloned(), org_name_of(o, word), "{word}");
        let title = stems.iter().find_map(|&(st, p)| {
            o.split_title(st)
                .map(|(prefix, t)| (st, p, prefix, t.title.clone()))
        });
        assert_eq!(
            words
                .title(i)
                .map(|(st, p, prefix, t)| (st, p, prefix, t.title.clone())),
            title,
            "{word}"
        );
        assert_eq!(
            words.cache.person(words.ids[i], o),
            person_name_of(o, word),
            "{word}"
        );
        assert_eq!(
            words.cache.refers_back(words.ids[i]),
            stems.iter().any(|(st, _)| refers_back(st)),
            "{word}"
        );
        assert_eq!(
            words.may_begin_sector_form(i),
            o.may_begin_sector(word) && o.is_sector_key_prefix(&sector_key(word)),
            "{word}"
        );
        assert_eq!(words.sector_word(i), sector_word(o, word), "{word}");
        assert_eq!(
            words.is_field_word(i),
            stems.iter().any(|(st, _)| *st == "분야" || *st == "분과"),
            "{word}"
        );
    }

    /// Every fact the cache keeps is what the lexicons give for the word,
    /// whether the word was new or seen before.
    #[test]
    fn cached_word_facts_are_what_the_lexicons_give() {
        let o = Ontology::load(None).expect("ontology");
        let mut cache = words::WordCache::for_ontology(&o);
        // Seen twice: facts of earlier words must not leak into later ones.
        cached_words("광주시는 인공지능 산업을 키운다", &o, &mut cache);
        let (tokens, ids) = cached_words(MIXED, &o, &mut cache);
        assert_facts_of_sentence(&tokens, &ids, &cache, &o);
        // The mix above has each kind of fact at least once.
        assert!(ids.iter().any(|&id| cache.org_word(id, &o).is_some()));
        assert!(ids.iter().any(|&id| cache.person(id, &o)));
        assert!(ids.iter().any(|&id| cache.refers_back(id)));
        assert!(ids.iter().any(|&id| cache.may_begin_sector_form(id, &o)));
        assert!(ids.iter().any(|&id| cache.title(id, &o).is_some()));
        for kind in 0..4 {
            assert!(
                ids.iter().any(|&id| match cache.sector_word(id, &o) {
                    SectorWord::Form { .. } => kind == 0,
                    SectorWord::Compound { .. } => kind == 1,
                    SectorWord::Productive { .. } => kind == 2,
                    SectorWord::Nothing { field_base } => kind == 3 && field_base,
                }),
                "no sector fact of kind {kind}"
            );
        }
        assert!(ids.iter().any(|&id| cache.is_field_word(id)));
    }

    /// The same on every word of the seed and development articles (real
    /// pages), each sentence read through one cache: words seen in earlier
    /// articles keep their facts.
    #[test]
    fn cached_word_facts_of_real_articles() {
        let o = Ontology::load(None).expect("ontology");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = ["seeds", "tests/fixtures/dev"]
            .iter()
            .flat_map(|d| std::fs::read_dir(root.join(d)).expect("read dir"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        assert!(files.len() >= 20, "{files:?}");
        let mut cache = words::WordCache::for_ontology(&o);
        let mut checked = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).expect("read");
            let segmented = crate::segment::segment(&crate::clean::clean(&text));
            for sentence in &segmented.sentences {
                let (tokens, ids) = cached_words(&sentence.text, &o, &mut cache);
                assert_facts_of_sentence(&tokens, &ids, &cache, &o);
                checked += tokens.len();
            }
        }
        assert!(checked > 5000, "{checked} tokens");
    }

    /// A thread's cache filled from one ontology is not read for another:
    /// the same text recognised on one thread with the built-in lexicons,
    /// then with a user's that knows one more body, gives each its own.
    #[test]
    fn word_cache_follows_the_ontology() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("lexicon")).expect("mkdir");
        let builtin = Ontology::load(None).expect("ontology");
        let organizations = builtin_file("lexicon/organizations.tsv");
        std::fs::write(
            dir.path().join("lexicon/organizations.tsv"),
            format!("{organizations}가상시험공단\tagency\t가시공\n"),
        )
        .expect("write");
        let user = Ontology::load(Some(dir.path())).expect("load");
        let text = "가시공은 광주시와 협약을 맺었다.";
        let orgs = |o: &Ontology| names(&run_with(text, o), EntityType::Organization);
        for _ in 0..2 {
            assert!(!orgs(&builtin).contains(&"가상시험공단".to_string()));
            assert!(orgs(&user).contains(&"가상시험공단".to_string()));
        }
        // A clone is the same ontology: its cache is kept.
        assert!(orgs(&user.clone()).contains(&"가상시험공단".to_string()));
    }

    #[test]
    fn tokenizer_agrees_with_the_character_at_a_time_code() {
        // Hangul syllables and their neighbours in the 0xEA–0xED lead
        // bytes, white space of every width, and the marks kept inside
        // words.
        let pieces = [
            "가", "힣", "\u{abff}", "\u{d7a4}", "\u{a000}", "\u{e000}", "a", "7", " ", "\t",
            "\u{b}", "\u{3000}", "\u{85}", ".", "-", ",", "·", "‘", "’", "(", "٣", "é", "😀",
        ];
        for t in &crate::test_support::every_sequence(&pieces, 4) {
            assert_eq!(tokenize(t), tokenize_by_char(t), "{t:?}");
        }
    }

    #[test]
    fn name_weight_counts_characters_and_hangul_twice() {
        let pieces = [
            "가", "힣", "a", " ", "é", "😀", "\u{a000}", "\u{d7a4}", "\u{abff}", "(주)",
        ];
        for name in crate::test_support::every_sequence(&pieces, 4) {
            let by_char =
                name.chars().filter(|c| is_hangul_syllable(*c)).count() + name.chars().count();
            assert_eq!(name_weight(&name), by_char, "{name:?}");
        }
    }

    #[test]
    fn tokenizer_separates_punctuation() {
        let t: Vec<String> = tokenize("인공지능(AI)·모빌리티 ‘TF’를")
            .into_iter()
            .map(|t| t.text.to_string())
            .collect();
        assert_eq!(
            t,
            [
                "인공지능",
                "(",
                "AI",
                ")",
                "·",
                "모빌리티",
                "‘",
                "TF",
                "’",
                "를"
            ]
        );
    }

    #[test]
    fn strips_particles_from_organisation_names() {
        let (r, _) = run("광주시는 한국광산업진흥회와 협약을 맺었다.");
        let orgs = names(&r, EntityType::Organization);
        assert!(orgs.contains(&"광주광역시".to_string()), "{orgs:?}");
        assert!(orgs.contains(&"한국광산업진흥회".to_string()), "{orgs:?}");
    }

    #[test]
    fn abbreviations_become_aliases() {
        let (r, _) = run("광주시 산하 인공지능산업융합사업단(이하 AI사업단)은 협약을 체결했다. AI사업단은 기업을 지원한다.");
        let e = r
            .entities
            .iter()
            .find(|e| e.label() == "인공지능산업융합사업단")
            .expect("entity");
        assert!(e.names.contains(&"AI사업단".to_string()), "{:?}", e.names);
        assert_eq!(
            r.entities
                .iter()
                .filter(|e| e.kind == EntityType::Organization)
                .count(),
            2
        );
    }

    #[test]
    fn persons_need_a_title() {
        let (r, _) = run("김준하 인공지능산업융합사업단장은 말했다. 김영문 문화경제부시장이 맡았다. 정부는 지원한다.");
        let persons = names(&r, EntityType::Person);
        assert_eq!(persons, ["김준하", "김영문"]);
        let (r, _) = run("이번 사업은 지역에서 추진된다.");
        assert!(names(&r, EntityType::Person).is_empty());
    }

    #[test]
    fn sectors_map_to_the_vocabulary() {
        let (r, _) =
            run("광주시는 ▲친환경자동차산업 ▲에너지 및 수소산업 ▲인공지능(AI) 분야를 육성한다.");
        let sectors = names(&r, EntityType::Sector);
        for s in ["친환경자동차", "에너지", "수소", "인공지능"] {
            assert!(sectors.contains(&s.to_string()), "{s} in {sectors:?}");
        }
    }
}
