//! What the lexicons say about each distinct word, worked out once per
//! thread: its particle splits, the organisation name and the title it
//! holds, whether it is a person's name. News repeats its words (the same
//! cities, bodies, titles and particles page after page), so the rules of
//! [`super::recognise`] mostly read these facts instead of walking the
//! lexicons again for every token.
//!
//! Every fact is a pure function of the word and the [`Ontology`], which
//! cannot change once loaded; a cache filled from another ontology (see
//! [`Ontology::id`]) is emptied before use. The cache is bounded: past
//! [`MAX_WORDS`] distinct words it starts again empty.

use std::cell::{OnceCell, RefCell};

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use super::{org_name_of, person_name_of, refers_back, sector_word, OrgName, SectorWord};
use crate::ontology::{sector_key, CueHits, Ontology, TitleEntry};

/// Distinct words a thread's cache holds before it starts again empty:
/// some 20 MB (100 000 facts of about 120 bytes, the map's 131 072
/// slots). The bound is checked between documents, so one document's own
/// words may take it past that, in proportion to the document.
pub(super) const MAX_WORDS: usize = 100_000;

/// What the lexicons say about one word. The particle splits are found
/// when the word is first seen; every other fact when it is first asked
/// for (so a word seen once costs little more than without the cache: a
/// hash insert and a copy of the word).
#[derive(Debug)]
pub(super) struct WordFacts {
    /// The word.
    word: CompactString,
    /// Its range in [`WordCache::cuts`]: the byte offsets where particles
    /// start, longest particle first ([`Ontology::particle_cuts`]).
    cuts: (u32, u32),
    /// The first particle split (the word itself first) whose stem names
    /// an organisation: the stem's length in bytes and the name.
    org: OnceCell<Option<(u32, OrgName)>>,
    /// The first particle split whose stem ends in a title: the stem's
    /// length, the length of what precedes the title, and the title's
    /// index in [`Ontology::titles`].
    title: OnceCell<Option<(u32, u32, u32)>>,
    /// Whether the word itself is a person's name.
    person: OnceCell<bool>,
    /// Whether a particle split is [`refers_back`].
    refers_back: OnceCell<bool>,
    /// Whether a sector form may begin with the word: one begins like
    /// the word's [`sector_key`] and with its first character.
    may_begin_sector_form: OnceCell<bool>,
    /// What the word says of sectors on its own.
    sector: OnceCell<SectorWord>,
    /// Whether a particle split is `분야` or `분과`.
    field_word: OnceCell<bool>,
    /// The relation cues the word holds, if any ([`Ontology::cue_hits`]).
    cues: OnceCell<Option<Box<CueHits>>>,
    /// The [`WordFlags`] of the facts above.
    flags: OnceCell<u8>,
}

/// The bits of [`WordCache::flags`]: a sentence's are read once per token
/// and then tested by each pass of the rules, instead of each pass
/// looking the word's facts up again.
pub(super) struct WordFlags;

impl WordFlags {
    /// A particle split [`refers_back`].
    pub(super) const REFERS_BACK: u8 = 1;
    /// A particle split names an organisation ([`WordCache::org_word`]).
    pub(super) const ORG: u8 = 1 << 1;
    /// A particle split ends in a title ([`WordCache::title`]).
    pub(super) const TITLE: u8 = 1 << 2;
    /// A sector form of several words may begin with the word.
    pub(super) const BEGINS_SECTOR_FORM: u8 = 1 << 3;
    /// The word holds a relation cue ([`WordCache::cue_hits`]).
    pub(super) const CUE: u8 = 1 << 4;
    /// A cue of several words may begin in the word
    /// ([`Ontology::may_begin_cue_of_words`]).
    pub(super) const BEGINS_CUE_OF_WORDS: u8 = 1 << 5;
}

/// Bytes of the words kept in [`WordCache::short_index`].
const SHORT_WORD: usize = 23;

/// A word of up to [`SHORT_WORD`] bytes as a key: its bytes, zeros, then
/// its length in the last byte (so that no two words share a key).
fn short_key(word: &str) -> Option<[u64; 3]> {
    let bytes = word.as_bytes();
    if bytes.len() > SHORT_WORD {
        return None;
    }
    let mut packed = [0u8; 24];
    packed[..bytes.len()].copy_from_slice(bytes);
    packed[23] = bytes.len() as u8;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&packed[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    Some([word(0), word(1), word(2)])
}

/// The facts of the words a thread has seen, by word.
#[derive(Debug, Default)]
pub(super) struct WordCache {
    /// The [`Ontology::id`] the facts come from.
    ontology: Option<u64>,
    /// The ids of words of up to [`SHORT_WORD`] bytes (nearly all), by
    /// the word packed into three machine words: hashed and compared
    /// without a loop or a call.
    short_index: FxHashMap<[u64; 3], u32>,
    /// The ids of longer words.
    index: FxHashMap<CompactString, u32>,
    facts: Vec<WordFacts>,
    cuts: Vec<usize>,
}

thread_local! {
    static CACHE: RefCell<WordCache> = RefCell::default();
}

/// Runs `f` with this thread's cache, made ready for `ontology`.
pub(super) fn with_cache<T>(ontology: &Ontology, f: impl FnOnce(&mut WordCache) -> T) -> T {
    CACHE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut cache) => {
            cache.prepare(ontology);
            f(&mut cache)
        }
        // Only when `f` itself recognises (it does not): a cache of its own.
        Err(_) => {
            let mut cache = WordCache::default();
            cache.prepare(ontology);
            f(&mut cache)
        }
    })
}

impl WordCache {
    /// Empties the cache when it was filled from another ontology or has
    /// grown past [`MAX_WORDS`].
    fn prepare(&mut self, ontology: &Ontology) {
        if self.ontology != Some(ontology.id()) || self.facts.len() > MAX_WORDS {
            // New storage, so that the memory of a full cache goes back.
            *self = WordCache {
                ontology: Some(ontology.id()),
                ..WordCache::default()
            };
        }
    }

    /// An empty cache for `ontology`.
    #[cfg(test)]
    pub(super) fn for_ontology(ontology: &Ontology) -> WordCache {
        let mut cache = WordCache::default();
        cache.prepare(ontology);
        cache
    }

    /// Checks (in debug builds) that `o` is the ontology the facts come
    /// from.
    fn check(&self, o: &Ontology) {
        debug_assert_eq!(
            self.ontology,
            Some(o.id()),
            "word cache of another ontology"
        );
    }

    /// The id of `word`'s facts, its particle splits found now if it is
    /// new.
    pub(super) fn intern(&mut self, word: &str, o: &Ontology) -> u32 {
        let short = short_key(word);
        let known = match &short {
            Some(key) => self.short_index.get(key),
            None => self.index.get(word),
        };
        if let Some(&id) = known {
            return id;
        }
        let start = self.cuts.len();
        o.push_particle_cuts(word, &mut self.cuts);
        let word = CompactString::from(word);
        let id = self.facts.len() as u32;
        self.facts.push(WordFacts {
            word: word.clone(),
            cuts: (start as u32, self.cuts.len() as u32),
            org: OnceCell::new(),
            title: OnceCell::new(),
            person: OnceCell::new(),
            refers_back: OnceCell::new(),
            may_begin_sector_form: OnceCell::new(),
            sector: OnceCell::new(),
            field_word: OnceCell::new(),
            cues: OnceCell::new(),
            flags: OnceCell::new(),
        });
        match short {
            Some(key) => self.short_index.insert(key, id),
            None => self.index.insert(word, id),
        };
        id
    }

    /// The id of `word`'s facts, if it has been seen.
    pub(super) fn get(&self, word: &str) -> Option<u32> {
        match short_key(word) {
            Some(key) => self.short_index.get(&key),
            None => self.index.get(word),
        }
        .copied()
    }

    fn facts(&self, id: u32) -> &WordFacts {
        &self.facts[id as usize]
    }

    /// The byte offsets where the particles of word `id` start.
    pub(super) fn cuts(&self, id: u32) -> &[usize] {
        let (start, end) = self.facts(id).cuts;
        &self.cuts[start as usize..end as usize]
    }

    /// The particle splits' stems of word `id`: the word itself first,
    /// then ever shorter stems.
    fn stems(&self, id: u32) -> impl Iterator<Item = &str> {
        let word = self.facts(id).word.as_str();
        std::iter::once(word.len())
            .chain(self.cuts(id).iter().copied())
            .map(move |cut| &word[..cut])
    }

    /// The organisation named by the first particle split of word `id`
    /// (the word itself first) that names one, with the stem's length.
    pub(super) fn org_word(&self, id: u32, o: &Ontology) -> Option<(usize, &OrgName)> {
        self.check(o);
        self.facts(id)
            .org
            .get_or_init(|| {
                self.stems(id)
                    .find_map(|stem| org_name_of(o, stem).map(|n| (stem.len() as u32, n)))
            })
            .as_ref()
            .map(|(len, name)| (*len as usize, name))
    }

    /// The organisation word `id` names as it is, particle and all:
    /// `org_name_of` of the word.
    pub(super) fn org_name(&self, id: u32, o: &Ontology) -> Option<&OrgName> {
        let len = self.facts(id).word.len();
        self.org_word(id, o)
            .filter(|(stem, _)| *stem == len)
            .map(|(_, name)| name)
    }

    /// The first particle split of word `id` whose stem ends in a title:
    /// the stem's length, the length of what precedes the title, and the
    /// title.
    pub(super) fn title<'o>(
        &self,
        id: u32,
        o: &'o Ontology,
    ) -> Option<(usize, usize, &'o TitleEntry)> {
        self.check(o);
        self.facts(id)
            .title
            .get_or_init(|| {
                self.stems(id).find_map(|stem| {
                    o.split_title_index(stem)
                        .map(|(prefix, title)| (stem.len() as u32, prefix as u32, title as u32))
                })
            })
            .map(|(stem, prefix, t)| (stem as usize, prefix as usize, &o.titles()[t as usize]))
    }

    /// Whether a particle split of word `id` (the word itself first) is
    /// [`refers_back`].
    pub(super) fn refers_back(&self, id: u32) -> bool {
        *self
            .facts(id)
            .refers_back
            .get_or_init(|| self.stems(id).any(refers_back))
    }

    /// Whether a sector form of several words may begin with word `id`.
    pub(super) fn may_begin_sector_form(&self, id: u32, o: &Ontology) -> bool {
        self.check(o);
        let facts = self.facts(id);
        *facts.may_begin_sector_form.get_or_init(|| {
            o.may_begin_sector(&facts.word) && o.is_sector_key_prefix(&sector_key(&facts.word))
        })
    }

    /// What word `id` says of sectors on its own.
    pub(super) fn sector_word(&self, id: u32, o: &Ontology) -> SectorWord {
        self.check(o);
        let facts = self.facts(id);
        *facts.sector.get_or_init(|| sector_word(o, &facts.word))
    }

    /// Whether a particle split of word `id` is `분야` or `분과`.
    pub(super) fn is_field_word(&self, id: u32) -> bool {
        *self
            .facts(id)
            .field_word
            .get_or_init(|| self.stems(id).any(|stem| stem == "분야" || stem == "분과"))
    }

    /// What the rules look for first in every word, as [`WordFlags`]: the
    /// facts behind them are worked out now if they were not yet.
    pub(super) fn flags(&self, id: u32, o: &Ontology) -> u8 {
        *self
            .facts(id)
            .flags
            .get_or_init(|| self.work_out_flags(id, o))
    }

    fn work_out_flags(&self, id: u32, o: &Ontology) -> u8 {
        let mut flags = 0;
        if self.refers_back(id) {
            flags |= WordFlags::REFERS_BACK;
        }
        if self.org_word(id, o).is_some() {
            flags |= WordFlags::ORG;
        }
        if self.title(id, o).is_some() {
            flags |= WordFlags::TITLE;
        }
        if self.may_begin_sector_form(id, o) {
            flags |= WordFlags::BEGINS_SECTOR_FORM;
        }
        if self.cue_hits(id, o).is_some() {
            flags |= WordFlags::CUE;
        }
        if o.may_begin_cue_of_words(&self.facts(id).word) {
            flags |= WordFlags::BEGINS_CUE_OF_WORDS;
        }
        flags
    }

    /// The relation cues word `id` holds, if any.
    pub(super) fn cue_hits(&self, id: u32, o: &Ontology) -> Option<&CueHits> {
        self.check(o);
        let facts = self.facts(id);
        facts
            .cues
            .get_or_init(|| {
                let hits = o.cue_hits(&facts.word);
                (!hits.is_empty()).then(|| Box::new(hits))
            })
            .as_deref()
    }

    /// Whether word `id` is a person's name.
    pub(super) fn person(&self, id: u32, o: &Ontology) -> bool {
        self.check(o);
        let facts = self.facts(id);
        *facts.person.get_or_init(|| person_name_of(o, &facts.word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_short_and_long_get_one_id_each() {
        let o = Ontology::load(None).expect("ontology");
        let mut cache = WordCache::for_ontology(&o);
        let mut words: Vec<String> = vec![String::new(), "\0".into(), "\0\0".into(), "a\0".into()];
        for len in 1..=26 {
            words.push("a".repeat(len));
            words.push(format!("{}b", "a".repeat(len - 1)));
        }
        words.extend(["광주시는", "광주시", "인공지능산업육성위원회에서는"].map(String::from));
        let ids: Vec<u32> = words.iter().map(|w| cache.intern(w, &o)).collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(cache.intern(w, &o), ids[i], "{w:?}");
            assert_eq!(cache.get(w), Some(ids[i]), "{w:?}");
            assert_eq!(cache.facts(ids[i]).word, *w);
            for (j, v) in words.iter().enumerate() {
                assert_eq!(ids[i] == ids[j], w == v, "{w:?} {v:?}");
            }
        }
        assert_eq!(cache.get("없는말"), None);
    }

    #[test]
    fn cache_starts_again_past_its_bound() {
        let o = Ontology::load(None).expect("ontology");
        let mut cache = WordCache::default();
        cache.prepare(&o);
        for n in 0..=MAX_WORDS {
            cache.intern(&n.to_string(), &o);
        }
        let again = cache.intern("0", &o);
        assert_eq!(again, 0, "a word seen is looked up, not added");
        assert_eq!(cache.facts.len(), MAX_WORDS + 1);
        cache.prepare(&o);
        assert!(
            cache.facts.is_empty()
                && cache.index.is_empty()
                && cache.short_index.is_empty()
                && cache.cuts.is_empty()
        );
        let id = cache.intern("광주시는", &o);
        assert_eq!(cache.cuts(id), &[9]);
    }
}
