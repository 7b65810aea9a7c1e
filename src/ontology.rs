//! Loads the model and the linguistic knowledge the extractor reads:
//! the sector vocabulary (SKOS, `sectors.ttl`) and the lexicons in
//! `ontology/lexicon/`. The files shipped in the repository are compiled in
//! as the built-in default; `Ontology::load(Some(dir))` reads a user's
//! directory instead, file by file (a file the directory lacks keeps its
//! built-in version), so lexicons can be extended without recompiling.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{NamedOrBlankNode, Term};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Error, Result};
use crate::model::{Relation, ONTOLOGY_NS};

mod substrings;

use substrings::SubstringFinder;

/// The OWL model, as shipped.
pub const BUILTIN_MODEL_TTL: &str = include_str!("../ontology/newsgraph.ttl");
/// The SKOS sector vocabulary, as shipped.
pub const BUILTIN_SECTORS_TTL: &str = include_str!("../ontology/sectors.ttl");

pub(crate) const BUILTIN_FILES: &[(&str, &str)] = &[
    ("newsgraph.ttl", BUILTIN_MODEL_TTL),
    ("sectors.ttl", BUILTIN_SECTORS_TTL),
    (
        "lexicon/organizations.tsv",
        include_str!("../ontology/lexicon/organizations.tsv"),
    ),
    (
        "lexicon/places.tsv",
        include_str!("../ontology/lexicon/places.tsv"),
    ),
    (
        "lexicon/titles.tsv",
        include_str!("../ontology/lexicon/titles.tsv"),
    ),
    (
        "lexicon/org_suffixes.tsv",
        include_str!("../ontology/lexicon/org_suffixes.tsv"),
    ),
    (
        "lexicon/cues.tsv",
        include_str!("../ontology/lexicon/cues.tsv"),
    ),
    (
        "lexicon/particles.txt",
        include_str!("../ontology/lexicon/particles.txt"),
    ),
    (
        "lexicon/surnames.txt",
        include_str!("../ontology/lexicon/surnames.txt"),
    ),
    (
        "lexicon/stopwords.tsv",
        include_str!("../ontology/lexicon/stopwords.tsv"),
    ),
];

/// What kind of organisation a gazetteer entry or a name ending denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgClass {
    /// 특별시·광역시·특별자치시.
    Metropolitan,
    /// 도·특별자치도.
    Province,
    /// 시.
    City,
    /// 군.
    County,
    /// 자치구.
    District,
    /// National ministries, 처, 청, and other central bodies.
    Ministry,
    /// The national government and its constitutional organs.
    Government,
    /// Committees, task forces, councils, promotion teams: led by a chair.
    Body,
    /// Agencies, institutes, associations, foundations …: led by a head.
    Standing,
    /// Companies.
    Company,
    /// Universities.
    University,
    /// Hospitals.
    Hospital,
    /// Local councils (의회).
    Council,
    /// Political parties.
    Party,
    /// A branch or unit of the organisation named before it.
    Branch,
}

impl OrgClass {
    fn parse(s: &str) -> Option<OrgClass> {
        Some(match s {
            "metropolitan" => OrgClass::Metropolitan,
            "province" => OrgClass::Province,
            "city" => OrgClass::City,
            "county" => OrgClass::County,
            "district" => OrgClass::District,
            "ministry" => OrgClass::Ministry,
            "government" => OrgClass::Government,
            "body" => OrgClass::Body,
            "agency" | "institute" | "standing" => OrgClass::Standing,
            "company" => OrgClass::Company,
            "university" => OrgClass::University,
            "hospital" => OrgClass::Hospital,
            "council" => OrgClass::Council,
            "party" => OrgClass::Party,
            "branch" => OrgClass::Branch,
            _ => return None,
        })
    }

    /// Local governments (광역 and 기초).
    pub fn is_local_government(self) -> bool {
        matches!(
            self,
            OrgClass::Metropolitan
                | OrgClass::Province
                | OrgClass::City
                | OrgClass::County
                | OrgClass::District
        )
    }

    /// Whether its leader `chairs` it rather than heads it.
    pub fn is_chaired(self) -> bool {
        matches!(self, OrgClass::Body)
    }
}

/// A gazetteer entry of `lexicon/organizations.tsv`.
#[derive(Debug, Clone)]
pub struct OrgEntry {
    /// The full official name.
    pub canonical: String,
    /// Its kind.
    pub class: OrgClass,
    /// Short forms and abbreviations.
    pub aliases: Vec<String>,
}

/// A concept of the sector vocabulary.
#[derive(Debug, Clone)]
pub struct SectorEntry {
    /// Canonical Korean label (`skos:prefLabel@ko`).
    pub label: String,
    /// English label, when given.
    pub english: Option<String>,
    /// Surface forms (`skos:altLabel@ko`, plus the English label).
    pub aliases: Vec<String>,
}

/// The role a title gives its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleRole {
    /// Leads the organisation (`chairs` a body, `headOf` the rest).
    Leader,
    /// Holds a non-head post (`affiliatedWith`).
    Affiliate,
    /// Marks a person only.
    None,
}

/// Which organisation a bare title refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleImplies {
    /// Nothing: a bare title links to nothing.
    Nothing,
    /// The city (or metropolitan city) the text is about.
    City,
    /// The province.
    Province,
    /// The county.
    County,
    /// The district.
    District,
    /// A local council named in the text.
    Council,
    /// A political party named in the sentence.
    Party,
    /// Only a party named right before the title.
    PartyAdjacent,
    /// An education office (교육청) named next to it.
    Education,
}

/// A title of `lexicon/titles.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleEntry {
    /// The title (직함).
    pub title: String,
    /// The role it gives.
    pub role: TitleRole,
    /// What a bare use of it refers to.
    pub implies: TitleImplies,
}

/// A name ending of `lexicon/org_suffixes.tsv`.
#[derive(Debug, Clone)]
pub struct SuffixEntry {
    /// The ending.
    pub suffix: String,
    /// The kind of organisation it makes.
    pub class: OrgClass,
    /// Whether the ending alone makes an organisation.
    pub strong: bool,
}

/// The relation a cue word signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CueKind {
    /// A scored relation.
    Relation(Relation),
    /// An agreement that is only planned or failed.
    MouNegative,
}

impl CueKind {
    /// Its place in [`CueHits`].
    fn slot(self) -> usize {
        match self {
            CueKind::Relation(r) => r as usize,
            CueKind::MouNegative => Relation::ALL.len(),
        }
    }
}

/// The cues a text contains, by kind ([`Ontology::cue_hits`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CueHits {
    best: [Option<f32>; Relation::ALL.len() + 1],
}

impl CueHits {
    fn add(&mut self, kind: CueKind, confidence: f32) {
        let best = &mut self.best[kind.slot()];
        *best = Some(best.map_or(confidence, |b| b.max(confidence)));
    }

    /// The highest confidence of the cues of `kind` found, if any.
    pub fn get(&self, kind: CueKind) -> Option<f32> {
        self.best[kind.slot()]
    }

    /// Adds the cues of `other`: the hits of two texts together.
    pub fn merge(&mut self, other: &CueHits) {
        for (kind, conf) in self.best.iter_mut().zip(other.best) {
            *kind = match (*kind, conf) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }

    /// Whether no cue was found.
    pub fn is_empty(&self) -> bool {
        self.best.iter().all(Option::is_none)
    }
}

/// The relation cues' automaton, and each pattern's kind and confidence.
#[derive(Debug, Clone)]
struct CueIndex {
    finder: SubstringFinder,
    kinds: Vec<(CueKind, f32)>,
    /// Of each cue holding a space, what precedes its first space
    /// (distinct).
    spaced_heads: Vec<String>,
}

/// Everything the extractor knows about Korean news and the domain.
///
/// Immutable once loaded: every look-up index is built from the lexicons
/// at [`Ontology::load`], so the lexicons are read through accessors.
#[derive(Debug, Clone)]
pub struct Ontology {
    /// Distinct for every [`Ontology::load`] (a clone shares it: the two
    /// are equal and neither can change), so that per-thread caches of
    /// look-ups know which ontology they were filled from.
    id: u64,
    /// Gazetteer of organisations.
    organizations: Vec<OrgEntry>,
    org_index: FxHashMap<String, usize>,
    /// Place names and their kinds (`country`, `region`).
    places: FxHashMap<String, String>,
    /// The sector vocabulary.
    sectors: Vec<SectorEntry>,
    sector_index: FxHashMap<String, usize>,
    /// Every non-empty beginning of a key of `sector_index`.
    sector_prefixes: FxHashSet<String>,
    /// The first character of every key of `sector_index`.
    sector_initials: CharSet,
    /// Titles, longest first.
    titles: Vec<TitleEntry>,
    title_index: SuffixIndex,
    /// Organisation name endings, longest first.
    org_suffixes: Vec<SuffixEntry>,
    org_suffix_index: SuffixIndex,
    /// Relation cues with confidences (see [`Ontology::cues`]).
    cues: HashMap<CueKind, Vec<(String, f32)>>,
    /// Every cue of `cues` in one automaton: one pass over a sentence finds
    /// them all.
    cue_index: Option<CueIndex>,
    /// Particles and endings, longest first.
    particles: Vec<String>,
    particle_index: SuffixIndex,
    /// Korean surnames.
    surnames: FxHashSet<String>,
    stopwords: FxHashMap<String, FxHashSet<String>>,
    /// The OWL model's Turtle text.
    model_ttl: String,
    /// The sector vocabulary's Turtle text.
    sectors_ttl: String,
}

fn ontology_error(path: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Ontology {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// Yields (1-based line number, columns) of a tab-separated file, skipping
/// blank lines, `#` comments and the header line.
fn tsv_rows<'a>(
    text: &'a str,
    header_first: &'a str,
) -> impl Iterator<Item = (usize, Vec<&'a str>)> + 'a {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_end_matches('\r')))
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .filter(move |(_, line)| line.split('\t').next() != Some(header_first))
        .map(|(n, line)| (n, line.split('\t').map(str::trim).collect()))
}

fn word_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

impl Ontology {
    /// Loads the built-in ontology, or the one in `dir` (files it lacks keep
    /// their built-in version).
    pub fn load(dir: Option<&Path>) -> Result<Ontology> {
        let mut files: HashMap<&str, (PathBuf, String)> = HashMap::new();
        for (name, text) in BUILTIN_FILES {
            let mut path = PathBuf::from("<built-in>/ontology");
            path.push(name);
            let mut entry = (path, (*text).to_string());
            if let Some(dir) = dir {
                if !dir.is_dir() {
                    return Err(ontology_error(dir, 0, "not a directory"));
                }
                let user = dir.join(name);
                if user.is_file() {
                    let text = std::fs::read_to_string(&user).map_err(|e| Error::io(&user, e))?;
                    entry = (user, text);
                }
            }
            files.insert(name, entry);
        }
        let get = |name: &str| -> &(PathBuf, String) { &files[name] };
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut ontology = Ontology {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            organizations: Vec::new(),
            org_index: FxHashMap::default(),
            places: FxHashMap::default(),
            sectors: Vec::new(),
            sector_index: FxHashMap::default(),
            sector_prefixes: FxHashSet::default(),
            sector_initials: CharSet::default(),
            titles: Vec::new(),
            title_index: SuffixIndex::default(),
            org_suffixes: Vec::new(),
            org_suffix_index: SuffixIndex::default(),
            cues: HashMap::new(),
            cue_index: None,
            particles: Vec::new(),
            particle_index: SuffixIndex::default(),
            surnames: FxHashSet::default(),
            stopwords: FxHashMap::default(),
            model_ttl: get("newsgraph.ttl").1.clone(),
            sectors_ttl: get("sectors.ttl").1.clone(),
        };
        let (path, text) = get("newsgraph.ttl");
        check_turtle(path, text)?;
        let (path, text) = get("sectors.ttl");
        ontology.load_sectors(path, text)?;
        let (path, text) = get("lexicon/organizations.tsv");
        ontology.load_organizations(path, text)?;
        let (path, text) = get("lexicon/places.tsv");
        for (line, cols) in tsv_rows(text, "name") {
            if cols.len() != 2 {
                return Err(ontology_error(
                    path,
                    line,
                    "expected 2 tab-separated columns: name, kind",
                ));
            }
            ontology
                .places
                .insert(cols[0].to_string(), cols[1].to_string());
        }
        let (path, text) = get("lexicon/titles.tsv");
        ontology.load_titles(path, text)?;
        let (path, text) = get("lexicon/org_suffixes.tsv");
        ontology.load_suffixes(path, text)?;
        let (path, text) = get("lexicon/cues.tsv");
        ontology.load_cues(path, text)?;
        let mut particles = word_list(&get("lexicon/particles.txt").1);
        particles.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
        ontology.particle_index = SuffixIndex::new(particles.iter().map(String::as_str));
        ontology.particles = particles;
        ontology.surnames = word_list(&get("lexicon/surnames.txt").1)
            .into_iter()
            .collect();
        let (path, text) = get("lexicon/stopwords.tsv");
        for (line, cols) in tsv_rows(text, "role") {
            if cols.len() != 2 {
                return Err(ontology_error(
                    path,
                    line,
                    "expected 2 tab-separated columns: role, word",
                ));
            }
            ontology
                .stopwords
                .entry(cols[0].to_string())
                .or_default()
                .insert(cols[1].to_string());
        }
        Ok(ontology)
    }

    fn load_sectors(&mut self, path: &Path, text: &str) -> Result<()> {
        let skos = "http://www.w3.org/2004/02/skos/core#";
        let mut by_subject: Vec<(String, SectorEntry)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for quad in RdfParser::from_format(RdfFormat::Turtle).for_slice(text.as_bytes()) {
            let quad = quad.map_err(|e| ontology_error(path, 0, e.to_string()))?;
            let NamedOrBlankNode::NamedNode(subject) = &quad.subject else {
                continue;
            };
            let Term::Literal(literal) = &quad.object else {
                continue;
            };
            let predicate = quad.predicate.as_str();
            let is_pref = predicate == format!("{skos}prefLabel");
            let is_alt = predicate == format!("{skos}altLabel");
            if !is_pref && !is_alt {
                continue;
            }
            let lang = literal.language().unwrap_or("");
            let value = literal.value().trim().to_string();
            let idx = *position
                .entry(subject.as_str().to_string())
                .or_insert_with(|| {
                    by_subject.push((
                        subject.as_str().to_string(),
                        SectorEntry {
                            label: String::new(),
                            english: None,
                            aliases: Vec::new(),
                        },
                    ));
                    by_subject.len() - 1
                });
            let entry = &mut by_subject[idx].1;
            match (is_pref, lang) {
                (true, "ko") => entry.label = value,
                (true, "en") => {
                    entry.aliases.push(value.clone());
                    entry.english = Some(value);
                }
                (false, _) => entry.aliases.push(value),
                _ => {}
            }
        }
        for (subject, entry) in by_subject {
            if entry.label.is_empty() {
                // The concept scheme itself, or a concept without a Korean label.
                if subject.ends_with("#sectors") || subject.starts_with(ONTOLOGY_NS) {
                    continue;
                }
                return Err(ontology_error(
                    path,
                    0,
                    format!("concept <{subject}> has no skos:prefLabel@ko"),
                ));
            }
            let idx = self.sectors.len();
            for name in std::iter::once(&entry.label).chain(&entry.aliases) {
                let key = sector_key(name);
                if let Some(c) = key.chars().next() {
                    self.sector_initials.insert(c);
                }
                for (cut, c) in key.char_indices() {
                    self.sector_prefixes
                        .insert(key[..cut + c.len_utf8()].to_string());
                }
                self.sector_index.entry(key).or_insert(idx);
            }
            self.sectors.push(entry);
        }
        Ok(())
    }

    fn load_organizations(&mut self, path: &Path, text: &str) -> Result<()> {
        for (line, cols) in tsv_rows(text, "canonical") {
            if cols.len() < 2 || cols.len() > 3 {
                return Err(ontology_error(
                    path,
                    line,
                    "expected 3 tab-separated columns: canonical, kind, aliases",
                ));
            }
            let class = OrgClass::parse(cols[1])
                .ok_or_else(|| ontology_error(path, line, format!("unknown kind `{}`", cols[1])))?;
            let aliases: Vec<String> = cols
                .get(2)
                .map(|a| {
                    a.split('|')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let idx = self.organizations.len();
            for name in std::iter::once(cols[0]).chain(aliases.iter().map(String::as_str)) {
                self.org_index.entry(name.to_string()).or_insert(idx);
            }
            self.organizations.push(OrgEntry {
                canonical: cols[0].to_string(),
                class,
                aliases,
            });
        }
        Ok(())
    }

    fn load_titles(&mut self, path: &Path, text: &str) -> Result<()> {
        for (line, cols) in tsv_rows(text, "title") {
            if cols.len() != 3 {
                return Err(ontology_error(
                    path,
                    line,
                    "expected 3 tab-separated columns: title, role, implies",
                ));
            }
            let role = match cols[1] {
                "leader" => TitleRole::Leader,
                "affiliate" => TitleRole::Affiliate,
                "none" => TitleRole::None,
                other => {
                    return Err(ontology_error(
                        path,
                        line,
                        format!("unknown role `{other}`"),
                    ))
                }
            };
            let implies = match cols[2] {
                "-" => TitleImplies::Nothing,
                "city" => TitleImplies::City,
                "province" => TitleImplies::Province,
                "county" => TitleImplies::County,
                "district" => TitleImplies::District,
                "council" => TitleImplies::Council,
                "party" => TitleImplies::Party,
                "party-adjacent" => TitleImplies::PartyAdjacent,
                "education" => TitleImplies::Education,
                other => {
                    return Err(ontology_error(
                        path,
                        line,
                        format!("unknown implied organisation `{other}`"),
                    ))
                }
            };
            self.titles.push(TitleEntry {
                title: cols[0].to_string(),
                role,
                implies,
            });
        }
        self.titles
            .sort_by_key(|t| std::cmp::Reverse(t.title.chars().count()));
        self.title_index = SuffixIndex::new(self.titles.iter().map(|t| t.title.as_str()));
        Ok(())
    }

    fn load_suffixes(&mut self, path: &Path, text: &str) -> Result<()> {
        for (line, cols) in tsv_rows(text, "suffix") {
            if cols.len() != 3 {
                return Err(ontology_error(
                    path,
                    line,
                    "expected 3 tab-separated columns: suffix, class, strength",
                ));
            }
            let class = OrgClass::parse(cols[1]).ok_or_else(|| {
                ontology_error(path, line, format!("unknown class `{}`", cols[1]))
            })?;
            let strong = match cols[2] {
                "strong" => true,
                "weak" => false,
                other => {
                    return Err(ontology_error(
                        path,
                        line,
                        format!("unknown strength `{other}`"),
                    ))
                }
            };
            self.org_suffixes.push(SuffixEntry {
                suffix: cols[0].to_string(),
                class,
                strong,
            });
        }
        self.org_suffixes
            .sort_by_key(|s| std::cmp::Reverse(s.suffix.chars().count()));
        self.org_suffix_index =
            SuffixIndex::new(self.org_suffixes.iter().map(|s| s.suffix.as_str()));
        Ok(())
    }

    fn load_cues(&mut self, path: &Path, text: &str) -> Result<()> {
        for (line, cols) in tsv_rows(text, "relation") {
            if cols.len() != 3 {
                return Err(ontology_error(
                    path,
                    line,
                    "expected 3 tab-separated columns: relation, cue, confidence",
                ));
            }
            let kind = if cols[0] == "signedMouWith-negative" {
                CueKind::MouNegative
            } else {
                CueKind::Relation(
                    cols[0]
                        .parse()
                        .map_err(|e: String| ontology_error(path, line, e))?,
                )
            };
            if cols[1].is_empty() {
                return Err(ontology_error(path, line, "empty cue"));
            }
            let confidence: f32 = cols[2]
                .parse()
                .map_err(|_| ontology_error(path, line, format!("bad confidence `{}`", cols[2])))?;
            self.cues
                .entry(kind)
                .or_default()
                .push((cols[1].to_string(), confidence));
        }
        let patterns: Vec<(&str, CueKind, f32)> = self
            .cues
            .iter()
            .flat_map(|(kind, cues)| cues.iter().map(|(c, conf)| (c.as_str(), *kind, *conf)))
            .collect();
        let finder = SubstringFinder::new(&patterns.iter().map(|(c, _, _)| c).collect::<Vec<_>>())
            .map_err(|e| ontology_error(path, 0, format!("cannot index the cues: {e}")))?;
        let mut spaced_heads: Vec<String> = Vec::new();
        for (cue, _, _) in &patterns {
            if let Some((head, _)) = cue.split_once(' ') {
                if !spaced_heads.iter().any(|h| h == head) {
                    spaced_heads.push(head.to_string());
                }
            }
        }
        self.cue_index = Some(CueIndex {
            finder,
            kinds: patterns.iter().map(|&(_, k, conf)| (k, conf)).collect(),
            spaced_heads,
        });
        Ok(())
    }

    /// The cues `text` contains: the highest confidence of each kind.
    pub fn cue_hits(&self, text: &str) -> CueHits {
        let mut hits = CueHits::default();
        if let Some(CueIndex { finder, kinds, .. }) = &self.cue_index {
            finder.for_each_match(text, |pattern| {
                let (kind, conf) = kinds[pattern];
                hits.add(kind, conf);
            });
        }
        hits
    }

    /// Whether a cue of several words (one holding a space) may begin in
    /// `word` when a space follows it: the word ends with what precedes
    /// the cue's first space. In a text of words joined by single spaces,
    /// a cue no word may begin lies inside one word, so the text's
    /// [`Ontology::cue_hits`] are its words' hits [merged](CueHits::merge).
    pub fn may_begin_cue_of_words(&self, word: &str) -> bool {
        self.cue_index.as_ref().is_some_and(|index| {
            index
                .spaced_heads
                .iter()
                .any(|h| word.ends_with(h.as_str()))
        })
    }

    /// Distinct for every loaded ontology (shared by its clones).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Gazetteer of organisations.
    pub fn organizations(&self) -> &[OrgEntry] {
        &self.organizations
    }

    /// Place names and their kinds (`country`, `region`).
    pub fn places(&self) -> impl Iterator<Item = (&str, &str)> {
        self.places.iter().map(|(n, k)| (n.as_str(), k.as_str()))
    }

    /// The sector vocabulary.
    pub fn sectors(&self) -> &[SectorEntry] {
        &self.sectors
    }

    /// Titles, longest first.
    pub fn titles(&self) -> &[TitleEntry] {
        &self.titles
    }

    /// Organisation name endings, longest first.
    pub fn org_suffixes(&self) -> &[SuffixEntry] {
        &self.org_suffixes
    }

    /// Particles and endings, longest first.
    pub fn particles(&self) -> &[String] {
        &self.particles
    }

    /// Whether `word` is a Korean surname of the lexicon.
    pub fn is_surname(&self, word: &str) -> bool {
        self.surnames.contains(word)
    }

    /// The Korean surnames of the lexicon.
    pub fn surnames(&self) -> impl Iterator<Item = &str> {
        self.surnames.iter().map(String::as_str)
    }

    /// The OWL model's Turtle text.
    pub fn model_ttl(&self) -> &str {
        &self.model_ttl
    }

    /// The sector vocabulary's Turtle text.
    pub fn sectors_ttl(&self) -> &str {
        &self.sectors_ttl
    }

    /// The gazetteer entry a name (canonical or alias) belongs to.
    pub fn organization(&self, name: &str) -> Option<&OrgEntry> {
        self.org_index.get(name).map(|&i| &self.organizations[i])
    }

    /// The sector concept a surface form belongs to (case-insensitive for
    /// Latin letters, spaces ignored).
    pub fn sector(&self, name: &str) -> Option<&SectorEntry> {
        self.sector_id(name).map(|i| &self.sectors[i])
    }

    /// [`Ontology::sector`] as an index in [`Ontology::sectors`].
    pub(crate) fn sector_id(&self, name: &str) -> Option<usize> {
        if is_sector_key(name) {
            return self.sector_id_by_key(name);
        }
        self.sector_id_by_key(&sector_key(name))
    }

    /// The sector concept whose surface form has the [`sector_key`] `key`.
    pub fn sector_by_key(&self, key: &str) -> Option<&SectorEntry> {
        self.sector_id_by_key(key).map(|i| &self.sectors[i])
    }

    /// [`Ontology::sector_by_key`] as an index in [`Ontology::sectors`].
    pub(crate) fn sector_id_by_key(&self, key: &str) -> Option<usize> {
        self.sector_index.get(key).copied()
    }

    /// Whether some surface form's [`sector_key`] starts with `key` (the
    /// empty key starts every one).
    pub fn is_sector_key_prefix(&self, key: &str) -> bool {
        key.is_empty() || self.sector_prefixes.contains(key)
    }

    /// Whether a sector surface form may begin like `word`: the first
    /// character of its [`sector_key`] begins one. When not, neither `word`
    /// nor any beginning of it is a sector ([`Ontology::sector`] is `None`).
    pub fn may_begin_sector(&self, word: &str) -> bool {
        word.chars()
            .find_map(sector_key_char)
            .is_some_and(|first| self.sector_initials.contains(first))
    }

    /// Whether `word` is a known place (country or region).
    pub fn is_place(&self, word: &str) -> bool {
        self.places.contains_key(word)
    }

    /// Whether `word` is listed under `role` in `stopwords.tsv`.
    pub fn is_stopword(&self, role: &str, word: &str) -> bool {
        self.stopwords.get(role).is_some_and(|s| s.contains(word))
    }

    /// The cues of one kind.
    pub fn cues(&self, kind: CueKind) -> &[(String, f32)] {
        self.cues.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The title a word ends with (longest match), with what precedes it.
    pub fn split_title<'a>(&self, word: &'a str) -> Option<(&'a str, &TitleEntry)> {
        self.split_title_index(word)
            .map(|(cut, title)| (&word[..cut], &self.titles[title]))
    }

    /// [`Ontology::split_title`] as the length of what precedes the title
    /// and the title's index in [`Ontology::titles`].
    pub(crate) fn split_title_index(&self, word: &str) -> Option<(usize, usize)> {
        self.title_index
            .longest_suffix(word, true)
            .map(|(cut, entries)| (cut, entries[0]))
    }

    /// The organisation ending a word ends with (longest match).
    pub fn org_suffix(&self, word: &str) -> Option<&SuffixEntry> {
        self.org_suffix_index
            .longest_suffix(word, false)
            .map(|(_, entries)| &self.org_suffixes[entries[0]])
    }

    /// Whether `word` may end with an organisation ending: when not,
    /// [`Ontology::org_suffix`] is `None` (one hash look-up instead of a
    /// walk).
    pub fn may_end_org_suffix(&self, word: &str) -> bool {
        self.org_suffix_index.may_end(word)
    }

    /// The organisation endings that are exactly `word`, longest-first
    /// order of [`Ontology::org_suffixes`] (one, unless the lexicon lists
    /// an ending twice).
    pub fn org_suffixes_equal_to<'a>(
        &'a self,
        word: &str,
    ) -> impl Iterator<Item = &'a SuffixEntry> + 'a {
        self.org_suffix_index
            .exact(word)
            .iter()
            .map(|&i| &self.org_suffixes[i])
    }

    /// Appends [`Ontology::particle_cuts`] of `word` to `cuts`.
    pub fn push_particle_cuts(&self, word: &str, cuts: &mut Vec<usize>) {
        self.particle_index.push_proper_cuts(word, cuts);
    }

    /// The particles a word ends with, longest first, as byte offsets where
    /// each starts (a particle the lexicon lists twice comes twice). Only
    /// particles shorter than the word count.
    pub fn particle_cuts<'o>(&'o self, word: &str) -> impl Iterator<Item = usize> + use<'o> {
        self.particle_index
            .suffixes(word)
            .filter(|&(cut, _)| cut > 0)
            .flat_map(|(cut, entries)| std::iter::repeat_n(cut, entries.len()))
    }
}

/// A set of characters: a bit per character of the Basic Multilingual
/// Plane (8 KiB), a hash set for the others.
#[derive(Debug, Clone)]
struct CharSet {
    bmp: Vec<u64>,
    others: FxHashSet<char>,
}

impl Default for CharSet {
    fn default() -> CharSet {
        CharSet {
            bmp: vec![0; 0x10000 / 64],
            others: FxHashSet::default(),
        }
    }
}

impl CharSet {
    fn insert(&mut self, c: char) {
        let u = c as usize;
        match self.bmp.get_mut(u / 64) {
            Some(word) => *word |= 1 << (u % 64),
            None => {
                self.others.insert(c);
            }
        }
    }

    fn contains(&self, c: char) -> bool {
        let u = c as usize;
        match self.bmp.get(u / 64) {
            Some(word) => word & (1 << (u % 64)) != 0,
            None => self.others.contains(&c),
        }
    }
}

/// Finds which strings of a list a word ends with, by walking a trie of
/// the reversed strings from the word's last character instead of
/// scanning the list.
#[derive(Debug, Clone)]
struct SuffixIndex {
    /// Trie edges: (node, previous character) → node. Node 0 is the root.
    edges: FxHashMap<(u32, char), u32>,
    /// Per node: the positions in the list of the string it spells.
    entries: Vec<Vec<usize>>,
}

impl Default for SuffixIndex {
    fn default() -> SuffixIndex {
        SuffixIndex {
            edges: FxHashMap::default(),
            entries: vec![Vec::new()],
        }
    }
}

/// The strings a word ends with, as (byte offset where each starts, trie
/// node), found shortest first and handed out longest first.
struct SuffixMatches {
    inline: [(usize, u32); 8],
    len: usize,
    /// Matches beyond the eighth (only with very long list strings).
    more: Vec<(usize, u32)>,
}

impl SuffixMatches {
    fn push(&mut self, m: (usize, u32)) {
        if self.len < self.inline.len() {
            self.inline[self.len] = m;
            self.len += 1;
        } else {
            self.more.push(m);
        }
    }

    fn pop(&mut self) -> Option<(usize, u32)> {
        if let Some(m) = self.more.pop() {
            return Some(m);
        }
        self.len = self.len.checked_sub(1)?;
        Some(self.inline[self.len])
    }
}

impl SuffixIndex {
    fn new<'a>(items: impl Iterator<Item = &'a str>) -> SuffixIndex {
        let mut index = SuffixIndex::default();
        for (i, item) in items.enumerate() {
            let mut node = 0u32;
            for c in item.chars().rev() {
                let next = index.entries.len() as u32;
                node = *index.edges.entry((node, c)).or_insert(next);
                if node == next {
                    index.entries.push(Vec::new());
                }
            }
            index.entries[node as usize].push(i);
        }
        index
    }

    /// The positions of the strings equal to `s`.
    fn exact(&self, s: &str) -> &[usize] {
        let mut node = 0u32;
        for c in s.chars().rev() {
            match self.edges.get(&(node, c)) {
                Some(&next) => node = next,
                None => return &[],
            }
        }
        &self.entries[node as usize]
    }

    /// Whether `word` may end with a list string: its last character ends
    /// one (or the list holds the empty string).
    fn may_end(&self, word: &str) -> bool {
        !self.entries[0].is_empty()
            || word
                .chars()
                .next_back()
                .is_some_and(|c| self.edges.contains_key(&(0, c)))
    }

    /// The list strings `word` ends with, shortest first, as (byte offset
    /// where each starts in `word`, trie node): the walk from the word's
    /// last character that every look-up below shares.
    fn walk<'s>(&'s self, word: &'s str) -> impl Iterator<Item = (usize, u32)> + 's {
        let empty = (!self.entries[0].is_empty()).then_some((word.len(), 0));
        let mut chars = word.char_indices().rev();
        let mut node = 0u32;
        empty.into_iter().chain(std::iter::from_fn(move || loop {
            let (i, c) = chars.next()?;
            node = *self.edges.get(&(node, c))?;
            if !self.entries[node as usize].is_empty() {
                return Some((i, node));
            }
        }))
    }

    /// Appends to `out` where the list strings `word` ends with start,
    /// longest first and once per list position, leaving out the one that
    /// is all of `word`: what [`SuffixIndex::suffixes`] gives with a cut
    /// past 0, without building an iterator.
    fn push_proper_cuts(&self, word: &str, out: &mut Vec<usize>) {
        let start = out.len();
        for (cut, node) in self.walk(word).filter(|&(cut, _)| cut > 0) {
            out.extend(self.entries[node as usize].iter().map(|_| cut));
        }
        // Found shortest first.
        out[start..].reverse();
    }

    /// The longest list string `word` ends with (`whole`: it may be all of
    /// `word`): the byte offset where it starts in `word`, and its
    /// positions in the list. The first of [`SuffixIndex::suffixes`] (that
    /// starts past 0 unless `whole`), without listing the others.
    fn longest_suffix(&self, word: &str, whole: bool) -> Option<(usize, &[usize])> {
        self.walk(word)
            .filter(|&(cut, _)| whole || cut > 0)
            .last()
            .map(|(cut, node)| (cut, self.entries[node as usize].as_slice()))
    }

    /// The list strings `word` ends with, longest first: the byte offset
    /// where each starts in `word`, and its positions in the list.
    fn suffixes<'s>(&'s self, word: &str) -> impl Iterator<Item = (usize, &'s [usize])> + use<'s> {
        let mut found = SuffixMatches {
            inline: [(0, 0); 8],
            len: 0,
            more: Vec::new(),
        };
        for m in self.walk(word) {
            found.push(m);
        }
        std::iter::from_fn(move || found.pop())
            .map(|(cut, node)| (cut, self.entries[node as usize].as_slice()))
    }
}

/// Whether `name` is its own [`sector_key`].
fn is_sector_key(name: &str) -> bool {
    !name
        .chars()
        .any(|c| c.is_whitespace() || c.is_ascii_uppercase() || matches!(c, '・' | '․' | '‧' | '∙'))
}

/// The key under which sector surface forms are compared: spaces removed,
/// Latin letters lower-cased, middle dots unified.
pub fn sector_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    push_sector_key(&mut key, name);
    key
}

/// Appends the [`sector_key`] of `name` to `key` (the key of a text is the
/// keys of its parts, one after the other).
pub fn push_sector_key(key: &mut String, name: &str) {
    // Hangul syllables and the ASCII that maps to itself are copied in
    // runs, from `run` on, without being decoded.
    let bytes = name.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            if !b.is_ascii_uppercase() && !matches!(b, b'\t'..=b'\r' | b' ') {
                i += 1;
                continue;
            }
        } else if crate::model::hangul_syllable_at(bytes, i) {
            i += 3;
            continue;
        }
        let Some(c) = name[i..].chars().next() else {
            break;
        };
        key.push_str(&name[run..i]);
        push_sector_key_char(key, c);
        i += c.len_utf8();
        run = i;
    }
    key.push_str(&name[run..]);
}

/// Appends the [`sector_key`] of one character to `key`.
#[inline]
pub fn push_sector_key_char(key: &mut String, c: char) {
    if let Some(k) = sector_key_char(c) {
        key.push(k);
    }
}

/// What one character is in a [`sector_key`]: nothing for white space,
/// Latin letters in lower case, middle dots unified.
#[inline]
fn sector_key_char(c: char) -> Option<char> {
    if ('가'..='힣').contains(&c) {
        return Some(c);
    }
    if c.is_whitespace() {
        return None;
    }
    Some(match c {
        '・' | '․' | '‧' | '∙' => '·',
        c => c.to_ascii_lowercase(),
    })
}

fn check_turtle(path: &Path, text: &str) -> Result<()> {
    for quad in RdfParser::from_format(RdfFormat::Turtle).for_slice(text.as_bytes()) {
        quad.map_err(|e| ontology_error(path, 0, e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_keys_agree_with_the_character_at_a_time_code() {
        let pieces = [
            "가", "힣", "\u{abff}", "\u{d7a4}", "\u{a000}", "a", "A", "Z", "7", " ", "\t", "\u{b}",
            "\u{3000}", "・", "·", "∙", "É", "-", "😀",
        ];
        for t in &crate::test_support::every_sequence(&pieces, 4) {
            let mut by_char = String::from("앞");
            for c in t.chars() {
                push_sector_key_char(&mut by_char, c);
            }
            let mut key = String::from("앞");
            push_sector_key(&mut key, t);
            assert_eq!(key, by_char, "{t:?}");
        }
    }

    #[test]
    fn cue_hits_are_the_best_confidence_of_the_cues_each_text_contains() {
        let o = Ontology::load(None).expect("built-in ontology");
        let kinds: Vec<CueKind> = Relation::ALL
            .iter()
            .map(|&r| CueKind::Relation(r))
            .chain([CueKind::MouNegative])
            .collect();
        // Every cue alone, every pair of cues side by side, and sentences.
        let cues: Vec<&str> = o.cues.values().flatten().map(|(c, _)| c.as_str()).collect();
        let mut texts: Vec<String> = cues.iter().map(|c| c.to_string()).collect();
        for (i, a) in cues.iter().enumerate() {
            texts.push(format!("{a}{}", cues[(i * 7 + 3) % cues.len()]));
        }
        texts.push("광주시와 한전은 업무협약을 체결하고 위원장을 맡았다.".into());
        texts.push(String::new());
        for text in &texts {
            let hits = o.cue_hits(text);
            for &kind in &kinds {
                let naive = o
                    .cues(kind)
                    .iter()
                    .filter(|(c, _)| text.contains(c.as_str()))
                    .map(|(_, conf)| *conf)
                    .fold(None, |best: Option<f32>, c| {
                        Some(best.map_or(c, |b| b.max(c)))
                    });
                assert_eq!(hits.get(kind), naive, "{kind:?} in {text:?}");
            }
        }
    }

    #[test]
    fn builtin_ontology_loads() {
        let o = Ontology::load(None).expect("built-in ontology");
        assert_eq!(o.sector("AI").map(|s| s.label.as_str()), Some("인공지능"));
        assert_eq!(o.sector("ai").map(|s| s.label.as_str()), Some("인공지능"));
        assert_eq!(
            o.sector("공기 산업").map(|s| s.label.as_str()),
            Some("공기산업")
        );
        assert_eq!(
            o.organization("광주시").map(|e| e.canonical.as_str()),
            Some("광주광역시")
        );
        let (prefix, title) = o.split_title("문화경제부시장").expect("title");
        assert_eq!((prefix, title.title.as_str()), ("문화경제", "부시장"));
        assert_eq!(
            o.org_suffix("한국광산업진흥회").map(|s| s.class),
            Some(OrgClass::Standing)
        );
        assert!(o.surnames.contains("김"));
        assert!(!o
            .cues(CueKind::Relation(Relation::SignedMouWith))
            .is_empty());
    }

    /// The indexed look-ups give what scanning the longest-first lists gives.
    #[test]
    fn char_sets_hold_what_was_put_in() {
        let mut set = CharSet::default();
        let members = ['a', '가', '힣', '\u{ffff}', '\u{10000}', '😀'];
        for c in members {
            set.insert(c);
        }
        for c in members {
            assert!(set.contains(c), "{c:?}");
        }
        for c in ['b', '각', '\u{fffe}', '\u{10001}', '\0'] {
            assert!(!set.contains(c), "{c:?}");
        }
    }

    #[test]
    fn words_no_sector_begins_like_are_no_sector() {
        let o = Ontology::load(None).expect("built-in ontology");
        let mut forms = 0;
        for s in &o.sectors {
            for form in std::iter::once(&s.label).chain(&s.aliases) {
                assert!(o.may_begin_sector(form), "{form}");
                assert!(o.may_begin_sector(&format!(" {form}산업")), "{form}");
                forms += 1;
            }
        }
        assert!(forms > 100);
        for word in ["", " ", "광주시는", "협약을", "밝혔다", "###"] {
            assert!(
                o.may_begin_sector(word) || o.sector(word).is_none(),
                "{word}"
            );
        }
        assert!(!o.may_begin_sector("밝혔다"));
    }

    #[test]
    fn suffix_lookups_match_linear_scans() {
        let o = Ontology::load(None).expect("built-in ontology");
        let mut words: Vec<String> = vec![String::new(), "가".into(), "AI".into()];
        let endings = o
            .titles
            .iter()
            .map(|t| t.title.clone())
            .chain(o.org_suffixes.iter().map(|s| s.suffix.clone()))
            .chain(o.particles.iter().cloned());
        for ending in endings {
            for head in ["", "광주", "부", "산업", "위원"] {
                for tail in ["", "은", "에서는"] {
                    words.push(format!("{head}{ending}{tail}"));
                }
            }
        }
        for w in &words {
            let title = o
                .titles
                .iter()
                .find(|t| w.ends_with(t.title.as_str()))
                .map(|t| (&w[..w.len() - t.title.len()], t));
            assert_eq!(o.split_title(w), title, "{w}");
            let suffix = o
                .org_suffixes
                .iter()
                .find(|s| w.ends_with(s.suffix.as_str()) && w.len() > s.suffix.len());
            assert_eq!(
                o.org_suffix(w).map(|s| s.suffix.as_str()),
                suffix.map(|s| s.suffix.as_str()),
                "{w}"
            );
            assert!(o.may_end_org_suffix(w) || suffix.is_none(), "{w}");
            let cuts: Vec<usize> = o
                .particles
                .iter()
                .filter(|p| w.len() > p.len() && w.ends_with(p.as_str()))
                .map(|p| w.len() - p.len())
                .collect();
            assert_eq!(o.particle_cuts(w).collect::<Vec<_>>(), cuts, "{w}");
            let mut pushed = vec![usize::MAX];
            o.push_particle_cuts(w, &mut pushed);
            assert_eq!(pushed[1..], cuts, "{w}");
        }
    }

    /// Loads the ontology of a user directory holding one lexicon file.
    fn load_with_lexicon(file: &str, text: &str) -> Result<Ontology> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("lexicon")).expect("mkdir");
        std::fs::write(dir.path().join("lexicon").join(file), text).expect("write");
        Ontology::load(Some(dir.path()))
    }

    #[test]
    fn user_directory_overrides_one_file() {
        let o = load_with_lexicon(
            "organizations.tsv",
            "canonical\tkind\taliases\n가상시험공단\tagency\t가시공\n",
        )
        .expect("load");
        assert_eq!(
            o.organization("가시공").map(|e| e.canonical.as_str()),
            Some("가상시험공단")
        );
        assert!(o.organization("광주시").is_none());
        assert!(o.sector("AI").is_some(), "other files stay built in");
    }

    #[test]
    fn malformed_lexicon_names_file_and_line() {
        let err = load_with_lexicon("titles.tsv", "title\trole\timplies\n시장\tboss\t-\n")
            .expect_err("bad role");
        let msg = err.to_string();
        assert!(msg.contains("titles.tsv:2"), "{msg}");
        assert!(msg.contains("boss"), "{msg}");
    }

    /// An empty cue would be in every sentence: a mistake, not a cue.
    #[test]
    fn empty_cue_names_file_and_line() {
        let err = load_with_lexicon(
            "cues.tsv",
            "relation\tcue\tconfidence\nchairs\t위원장을 맡\t0.9\nchairs\t \t0.9\n",
        )
        .expect_err("empty cue");
        let msg = err.to_string();
        assert!(
            msg.contains("cues.tsv:3") && msg.contains("empty cue"),
            "{msg}"
        );
    }
}
