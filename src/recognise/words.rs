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

use std::cell::RefCell;
use std::rc::Rc;

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use super::{org_name_of, person_name_of, refers_back, sector_word, OrgName, SectorWord};
use crate::ontology::{sector_key, Ontology, TitleEntry};

/// Distinct words a thread's cache holds before it starts again empty
/// (some 10–20 MB).
pub(super) const MAX_WORDS: usize = 1 << 17;

/// What the lexicons say about one word.
#[derive(Debug, Clone)]
pub(super) struct WordFacts {
    /// Its range in [`WordCache::cuts`]: the byte offsets where particles
    /// start, longest particle first ([`Ontology::particle_cuts`]).
    cuts: (u32, u32),
    /// The first particle split (the word itself first) whose stem names
    /// an organisation: the stem's length in bytes and the name.
    org: Option<(u32, OrgName)>,
    /// The first particle split whose stem ends in a title: the stem's
    /// length, the length of what precedes the title, and the title's
    /// index in [`Ontology::titles`].
    title: Option<(u32, u32, u32)>,
    /// Whether the word itself is a person's name.
    person: bool,
    /// Whether a particle split is [`refers_back`].
    refers_back: bool,
    /// Whether a sector form may begin with the word: one begins like
    /// the word's [`sector_key`] and with its first character.
    may_begin_sector_form: bool,
    /// What the word says of sectors on its own.
    sector: SectorWord,
    /// Whether a particle split is `분야` or `분과`.
    field_word: bool,
}

/// The facts of the words a thread has seen, by word.
#[derive(Debug, Default)]
pub(super) struct WordCache {
    /// The [`Ontology::id`] the facts come from.
    ontology: Option<u64>,
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
            self.index.clear();
            self.facts.clear();
            self.cuts.clear();
            self.ontology = Some(ontology.id());
        }
    }

    /// The id of `word`'s facts, worked out now if it is new.
    pub(super) fn intern(&mut self, word: &str, o: &Ontology) -> u32 {
        if let Some(&id) = self.index.get(word) {
            return id;
        }
        let start = self.cuts.len();
        o.push_particle_cuts(word, &mut self.cuts);
        let cuts = &self.cuts[start..];
        let stems = || {
            std::iter::once(word.len())
                .chain(cuts.iter().copied())
                .map(|cut| &word[..cut])
        };
        let org = stems().find_map(|stem| org_name_of(o, stem).map(|n| (stem.len() as u32, n)));
        let title = stems().find_map(|stem| {
            o.split_title_index(stem)
                .map(|(prefix, title)| (stem.len() as u32, prefix as u32, title as u32))
        });
        let facts = WordFacts {
            cuts: (start as u32, self.cuts.len() as u32),
            org,
            title,
            person: person_name_of(o, word),
            refers_back: stems().any(refers_back),
            may_begin_sector_form: o.may_begin_sector(word)
                && o.is_sector_key_prefix(&sector_key(word)),
            sector: sector_word(o, word),
            field_word: stems().any(|stem| stem == "분야" || stem == "분과"),
        };
        let id = self.facts.len() as u32;
        self.facts.push(facts);
        self.index.insert(CompactString::from(word), id);
        id
    }

    /// The id of `word`'s facts, if it has been seen.
    pub(super) fn get(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// The byte offsets where the particles of word `id` start.
    pub(super) fn cuts(&self, id: u32) -> &[usize] {
        let (start, end) = self.facts[id as usize].cuts;
        &self.cuts[start as usize..end as usize]
    }

    /// The organisation named by the first particle split of word `id`
    /// (the word itself first) that names one, with the stem's length.
    pub(super) fn org_word(&self, id: u32) -> Option<(usize, &OrgName)> {
        self.facts[id as usize]
            .org
            .as_ref()
            .map(|(len, name)| (*len as usize, name))
    }

    /// The organisation word `id` names as it is, particle and all:
    /// `org_name_of` of the word.
    pub(super) fn org_name(&self, id: u32, word: &str) -> Option<&OrgName> {
        self.org_word(id)
            .filter(|(len, _)| *len == word.len())
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
        self.facts[id as usize]
            .title
            .map(|(stem, prefix, t)| (stem as usize, prefix as usize, &o.titles()[t as usize]))
    }

    /// Whether a particle split of word `id` (the word itself first) is
    /// [`refers_back`].
    pub(super) fn refers_back(&self, id: u32) -> bool {
        self.facts[id as usize].refers_back
    }

    /// Whether a sector form of several words may begin with word `id`.
    pub(super) fn may_begin_sector_form(&self, id: u32) -> bool {
        self.facts[id as usize].may_begin_sector_form
    }

    /// What word `id` says of sectors on its own.
    pub(super) fn sector_word(&self, id: u32) -> SectorWord {
        self.facts[id as usize].sector
    }

    /// Whether a particle split of word `id` is `분야` or `분과`.
    pub(super) fn is_field_word(&self, id: u32) -> bool {
        self.facts[id as usize].field_word
    }

    /// Whether word `id` is a person's name.
    pub(super) fn person(&self, id: u32) -> bool {
        self.facts[id as usize].person
    }
}

/// A canonical organisation name shared by every use of a cached fact.
pub(super) type SharedName = Rc<str>;

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(cache.facts.is_empty() && cache.index.is_empty() && cache.cuts.is_empty());
        let id = cache.intern("광주시는", &o);
        assert_eq!(cache.cuts(id), &[9]);
    }
}
