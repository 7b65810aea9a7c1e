//! Stage 5 — relate: finds the seven relations between the entities each
//! sentence names, using the cues of `ontology/lexicon/cues.tsv`, the
//! titles of `titles.tsv` and the Korean sentence structure (the topic
//! marked by 은/는/이/가, companions marked by 와/과, genitives by 의, and
//! `▲` item lists).
//!
//! Every fact records the sentence that states it, the rule that fired and
//! a confidence.

use std::cell::{Cell, OnceCell};

use compact_str::CompactString;
use rustc_hash::FxHashSet;

use crate::model::{EntityType, Relation, Sentence};
use crate::needle::{any_literal, contains_literal};
use crate::ontology::{CueHits, CueKind, Ontology, OrgClass, TitleImplies, TitleRole};
use crate::recognise::{Mention, Recognised, SentenceMentions};

/// A relation between two document-local entities.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFact {
    /// Subject entity (index into [`Recognised::entities`]).
    pub subject: usize,
    /// The relation.
    pub relation: Relation,
    /// Object entity.
    pub object: usize,
    /// Index of the sentence that states it.
    pub sentence: usize,
    /// The rule that fired.
    pub rule: &'static str,
    /// Confidence in `0.0..=1.0`.
    pub confidence: f32,
}

const TOPIC_PARTICLES: &[&str] = &["은", "는", "이", "가", "께서", "에서는"];
const WITH_PARTICLES: &[&str] = &["와", "과", "와의", "과의"];
const PRONOUNS: &[&str] = &["그는", "그녀는", "이들은", "그가", "그녀가", "그러면서"];
/// The verbs that give a post (`맡았다`, `선임됐다` …), looked for
/// anywhere in a word.
const ASSIGN_VERBS: &[&str] = &["맡", "선임", "임명", "추대", "선출", "위촉"];
const GROUP_WORDS: &[&str] = &[
    "양 기관",
    "두 기관",
    "양측",
    "양 측",
    "양사",
    "양 기관은",
    "세 기관",
    "3개 기관",
    "이들 기관",
];

/// Whether `text` speaks of the parties of an agreement together (`양
/// 기관`, `양측` …).
fn names_the_parties_together(text: &str) -> bool {
    any_literal!(GROUP_WORDS).is_match(text)
}

struct Doc<'a> {
    rec: &'a Recognised,
    /// The cues of the sentence being related.
    cues: CueHits,
    ontology: &'a Ontology,
    sentences: &'a [Sentence],
    facts: Vec<LocalFact>,
    seen: FxHashSet<(usize, Relation, usize)>,
}

impl Doc<'_> {
    fn add(
        &mut self,
        subject: usize,
        relation: Relation,
        object: usize,
        sentence: usize,
        rule: &'static str,
        confidence: f32,
    ) {
        if subject == object {
            return;
        }
        let (s, o) = (&self.rec.entities[subject], &self.rec.entities[object]);
        let (ds, dob) = relation.signature();
        if s.kind != ds || o.kind != dob {
            return;
        }
        let key = if relation.is_symmetric() && object < subject {
            (object, relation, subject)
        } else {
            (subject, relation, object)
        };
        if self.seen.insert(key) {
            self.facts.push(LocalFact {
                subject: key.0,
                relation,
                object: key.2,
                sentence,
                rule,
                confidence,
            });
        }
    }

    fn class(&self, entity: usize) -> Option<OrgClass> {
        self.rec.entities[entity].class
    }
}

/// The particle a mention carries, looking past a parenthesis that
/// follows it (`위원회(위원장 …)는`).
fn particle(s: &SentenceMentions, m: &Mention) -> CompactString {
    if !m.particle.is_empty() {
        return m.particle.clone();
    }
    let tokens = &s.tokens;
    let mut i = m.last;
    if tokens
        .get(i)
        .is_some_and(|t| t.text == "(" && !t.space_before)
    {
        if let Some(close) = (i..tokens.len().min(i + 12)).find(|&j| tokens[j].text == ")") {
            i = close + 1;
        }
    }
    match tokens.get(i) {
        Some(t) if t.is_word && !t.space_before => t.text.clone(),
        Some(t) if t.text == "," => CompactString::const_new(","),
        _ => CompactString::default(),
    }
}

/// Finds the relations of a document: `rec` is what
/// [`crate::recognise::recognise`] found in `sentences` (each token a piece
/// of its sentence's text).
pub fn relate(sentences: &[Sentence], rec: &Recognised, ontology: &Ontology) -> Vec<LocalFact> {
    let mut doc = Doc {
        rec,
        ontology,
        sentences,
        facts: Vec::new(),
        seen: FxHashSet::with_capacity_and_hasher(32, Default::default()),
        cues: CueHits::default(),
    };
    let main_actors = main_actors(&doc);
    let mut last_parties: Vec<usize> = Vec::new();
    let mut last_body: Option<usize> = None;
    // Room for most sentences from the start.
    let mut cue_buffer = String::with_capacity(512);
    let mut inside_buffer = Vec::with_capacity(64);
    for (si, s) in rec.sentences.iter().enumerate() {
        let sentence = &sentences[si];
        // Cues are looked for outside names ("발전협의회" holds no 발전).
        inside_organisation_names(s, &mut inside_buffer);
        let cue = CueText {
            sentence: &sentence.text,
            mentions: s,
            inside: &inside_buffer,
            spare: Cell::new(std::mem::take(&mut cue_buffer)),
            text: OnceCell::new(),
        };
        doc.cues = cues_of(s, ontology, &cue);
        let main_actor = main_actors.get(sentence.article).copied().flatten();
        if let Some(body) = s.mentions.iter().find(|m| {
            m.kind == EntityType::Organization && doc.class(m.entity) == Some(OrgClass::Body)
        }) {
            last_body = Some(body.entity);
        }
        titles(&mut doc, si, s, main_actor);
        part_of(&mut doc, si, s);
        let parties = mou(&mut doc, si, s, &cue, &last_parties);
        if parties.len() >= 2 {
            last_parties = parties.clone();
        }
        chairs(&mut doc, si, s, &cue, last_body);
        member_of(&mut doc, si, s, &cue, last_body);
        let context = Context {
            main_actor,
            parties: &parties,
            last_parties: &last_parties,
            last_body,
        };
        targets(&mut doc, si, s, &cue, &context);
        cue_buffer = cue.into_buffer();
    }
    doc.facts
}

/// Marks, in `inside` (cleared first), the sentence's tokens that are
/// inside organisation names.
fn inside_organisation_names(s: &SentenceMentions, inside: &mut Vec<bool>) {
    inside.clear();
    inside.resize(s.tokens.len(), false);
    for m in s
        .mentions
        .iter()
        .filter(|m| m.kind == EntityType::Organization)
    {
        for x in &mut inside[m.first..m.last.min(s.tokens.len())] {
            *x = true;
        }
    }
}

/// Writes the sentence's tokens not `inside` organisation names, joined
/// by spaces, into `out` (cleared first).
fn write_cue_text(s: &SentenceMentions, inside: &[bool], out: &mut String) {
    out.clear();
    for (t, _) in s
        .tokens
        .iter()
        .zip(inside.iter())
        .filter(|(_, inside)| !**inside)
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t.text);
    }
}

/// What the rules read of a sentence: its words outside organisation
/// names, joined by spaces ([`write_cue_text`]), written when a rule
/// first asks for them.
struct CueText<'a> {
    /// The sentence's text, which holds every word of the cue text.
    sentence: &'a str,
    mentions: &'a SentenceMentions,
    /// Per token, whether it is inside an organisation name.
    inside: &'a [bool],
    /// The buffer the text is written into.
    spare: Cell<String>,
    text: OnceCell<String>,
}

impl CueText<'_> {
    /// The text, written now if it was not yet.
    fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let mut out = self.spare.take();
            write_cue_text(self.mentions, self.inside, &mut out);
            out
        })
    }

    /// The buffer, for the next sentence's text.
    fn into_buffer(self) -> String {
        self.text
            .into_inner()
            .unwrap_or_else(|| self.spare.into_inner())
    }
}

/// Whether `word` holds no space (the words [`cue_text_contains`] looks
/// for).
const fn no_space(word: &str) -> bool {
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether a [`CueText`] holds `$word`, a literal without spaces (checked
/// when compiled). A word without spaces lies inside one token, so it is
/// looked for in the sentence first, and the cue text is written only
/// when the sentence holds it.
macro_rules! cue_text_contains {
    ($cue:expr, $word:literal) => {{
        const { assert!(no_space($word), "a word without spaces") };
        let cue: &CueText<'_> = $cue;
        contains_literal!(cue.sentence, $word) && contains_literal!(cue.text(), $word)
    }};
}

/// The cues of the sentence's [`CueText`]: [`Ontology::cue_hits`] of the
/// text, or, when no cue of several words may begin in a word, those of
/// the words the text keeps, as recognition found them.
fn cues_of(s: &SentenceMentions, ontology: &Ontology, cue: &CueText<'_>) -> CueHits {
    if s.cues.across_words {
        return ontology.cue_hits(cue.text());
    }
    let mut hits = CueHits::default();
    for (i, word_hits) in &s.cues.in_words {
        if cue.inside.get(*i) == Some(&false) {
            hits.merge(word_hits);
        }
    }
    hits
}

/// Per article: the organisation the article is about — the first one
/// that is the topic of one of its first sentences (or stands before a
/// comma in the headline).
fn main_actors(doc: &Doc<'_>) -> Vec<Option<usize>> {
    let articles = doc
        .sentences
        .iter()
        .map(|s| s.article + 1)
        .max()
        .unwrap_or(0);
    let mut out = vec![None; articles];
    let mut count = vec![0usize; articles];
    for (si, s) in doc.rec.sentences.iter().enumerate() {
        let a = doc.sentences[si].article;
        if out[a].is_some() || count[a] >= 6 {
            continue;
        }
        count[a] += 1;
        out[a] = s
            .mentions
            .iter()
            .filter(|m| m.kind == EntityType::Organization)
            .find(|m| {
                let p = particle(s, m);
                TOPIC_PARTICLES.contains(&p.as_str()) || p == ","
            })
            .map(|m| m.entity);
    }
    out
}

/// headOf, chairs and affiliatedWith from titles.
fn titles(doc: &mut Doc<'_>, si: usize, s: &SentenceMentions, main_actor: Option<usize>) {
    for t in &s.titles {
        if t.former || t.title.role == TitleRole::None {
            continue;
        }
        let org = match t.organization {
            Some(org) => {
                if t.title.implies == TitleImplies::Education
                    && !doc.rec.entities[org].label().ends_with("교육청")
                {
                    continue;
                }
                if t.title.implies == TitleImplies::PartyAdjacent
                    && !matches!(doc.class(org), Some(OrgClass::Party | OrgClass::Council))
                {
                    continue;
                }
                Some(org)
            }
            None => implied_organization(doc, s, t.title.implies, main_actor),
        };
        let Some(org) = org else { continue };
        let (relation, rule, confidence) = match t.title.role {
            TitleRole::Leader if doc.class(org).is_some_and(OrgClass::is_chaired) => {
                (Relation::Chairs, "title-leader-of-body", 0.9)
            }
            TitleRole::Leader => (Relation::HeadOf, "title-head", 0.9),
            TitleRole::Affiliate => (Relation::AffiliatedWith, "title-post", 0.85),
            TitleRole::None => continue,
        };
        let confidence = if t.organization.is_some() {
            confidence
        } else {
            confidence - 0.1
        };
        doc.add(t.person, relation, org, si, rule, confidence);
    }
}

/// The organisation a bare title refers to.
fn implied_organization(
    doc: &Doc<'_>,
    s: &SentenceMentions,
    implies: TitleImplies,
    main_actor: Option<usize>,
) -> Option<usize> {
    let wanted: &[OrgClass] = match implies {
        TitleImplies::City => &[OrgClass::City, OrgClass::Metropolitan],
        TitleImplies::Province => &[OrgClass::Province],
        TitleImplies::County => &[OrgClass::County],
        TitleImplies::District => &[OrgClass::District],
        TitleImplies::Council => &[OrgClass::Council],
        TitleImplies::Party => &[OrgClass::Party],
        _ => return None,
    };
    let fits = |e: usize| doc.class(e).is_some_and(|c| wanted.contains(&c));
    // In the sentence first, then the article's main actor, then the
    // document (for councils and cities only).
    if let Some(m) = s
        .mentions
        .iter()
        .find(|m| m.kind == EntityType::Organization && fits(m.entity))
    {
        return Some(m.entity);
    }
    // The organisation a named one belongs to (the party of its committee).
    if let Some(p) = s
        .mentions
        .iter()
        .filter_map(|m| doc.rec.entities[m.entity].parent)
        .find(|&p| fits(p))
    {
        return Some(p);
    }
    if implies == TitleImplies::Party {
        return None;
    }
    if let Some(a) = main_actor.filter(|&a| fits(a)) {
        return Some(a);
    }
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for m in doc.rec.sentences.iter().flat_map(|s| &s.mentions) {
        if m.kind == EntityType::Organization && fits(m.entity) {
            match counts.iter_mut().find(|(e, _)| *e == m.entity) {
                Some((_, c)) => *c += 1,
                None => counts.push((m.entity, 1)),
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(e, c)| (c, std::cmp::Reverse(e)))
        .map(|(e, _)| e)
}

/// partOf: `A 산하 B`, `A 소속 B`, `A B` names (the parent written first),
/// and bodies an organisation sets up (`A가 ‘B TF’를 가동한다`, `A가 구성한
/// 협의체`, `A는 ‘B 특별위원회’ 출범식을 열었다`).
fn part_of(doc: &mut Doc<'_>, si: usize, s: &SentenceMentions) {
    let orgs: Vec<&Mention> = s
        .mentions
        .iter()
        .filter(|m| m.kind == EntityType::Organization)
        .collect();
    for m in &orgs {
        if let Some(parent) = doc.rec.entities[m.entity].parent {
            let child_class = doc.class(m.entity);
            if matches!(
                child_class,
                Some(OrgClass::Body | OrgClass::Branch | OrgClass::Standing)
            ) {
                doc.add(
                    m.entity,
                    Relation::PartOf,
                    parent,
                    si,
                    "name-with-parent",
                    0.85,
                );
            }
        }
    }
    // A 산하 B / A 소속 B — B the next organisation named.
    for (i, a) in orgs.iter().enumerate() {
        let marker = s.tokens.get(a.last).map(|t| t.text.as_str()).unwrap_or("");
        if marker != "산하" && marker != "소속" {
            continue;
        }
        if let Some(b) = orgs[i + 1..].iter().find(|b| b.first > a.last) {
            let adjacent = b.first == a.last + 1;
            if adjacent || marker == "산하" {
                doc.add(
                    b.entity,
                    Relation::PartOf,
                    a.entity,
                    si,
                    "under",
                    if adjacent { 0.95 } else { 0.8 },
                );
            }
        }
    }
    let Some(conf) = doc.cues.get(CueKind::Relation(Relation::PartOf)) else {
        return;
    };
    let Some(topic) = orgs
        .iter()
        .find(|m| TOPIC_PARTICLES.contains(&particle(s, m).as_str()))
    else {
        return;
    };
    let creation_cues: Vec<&str> = doc
        .ontology
        .cues(CueKind::Relation(Relation::PartOf))
        .iter()
        .map(|(c, _)| c.as_str())
        .filter(|c| *c != "산하")
        .collect();
    for m in &orgs {
        if m.entity == topic.entity || doc.class(m.entity) != Some(OrgClass::Body) {
            continue;
        }
        let p = particle(s, m);
        let object = matches!(p.as_str(), "을" | "를");
        let before = m
            .first
            .checked_sub(1)
            .and_then(|i| s.tokens.get(i))
            .map(|t| t.text.as_str())
            .unwrap_or("");
        let after = s.tokens.get(m.last).map(|t| t.text.as_str()).unwrap_or("");
        let made_before = creation_cues.iter().any(|c| before.starts_with(c))
            && (before.ends_with('한') || before.ends_with('된'));
        let launched_after = ["출범식", "발족식", "창립", "출범"]
            .iter()
            .any(|c| after.starts_with(c));
        if object || made_before || launched_after {
            doc.add(
                m.entity,
                Relation::PartOf,
                topic.entity,
                si,
                "sets-up-body",
                conf.min(0.8),
            );
        }
    }
}

/// signedMouWith: the parties are the sentence's subject (with its 와/과
/// companions) and the organisations it signs with. Returns the parties.
fn mou(
    doc: &mut Doc<'_>,
    si: usize,
    s: &SentenceMentions,
    cue: &CueText<'_>,
    last_parties: &[usize],
) -> Vec<usize> {
    let Some(conf) = doc.cues.get(CueKind::Relation(Relation::SignedMouWith)) else {
        return Vec::new();
    };
    if doc.cues.get(CueKind::MouNegative).is_some() || cue_text_contains!(cue, "않") {
        return Vec::new();
    }
    let mut parties: Vec<usize> = Vec::new();
    for (i, m) in s.mentions.iter().enumerate() {
        if m.kind != EntityType::Organization {
            continue;
        }
        let p = particle(s, m);
        let listed = s.tokens.get(m.last).is_some_and(|t| t.text == ",")
            && s.mentions
                .get(i + 1)
                .is_some_and(|n| n.kind == EntityType::Organization);
        let before_deung = s
            .tokens
            .get(m.last)
            .is_some_and(|t| t.text == "등" || t.text.starts_with("등"));
        if TOPIC_PARTICLES.contains(&p.as_str())
            || WITH_PARTICLES.contains(&p.as_str())
            || listed
            || before_deung
            || p == "도"
        {
            // Not the parent of `X 산하 Y`.
            if s.tokens.get(m.last).is_some_and(|t| t.text == "산하") {
                continue;
            }
            if !parties.contains(&m.entity) {
                parties.push(m.entity);
            }
        }
    }
    if parties.len() < 2 && names_the_parties_together(cue.text()) {
        return last_parties.to_vec();
    }
    // "이번 협약에는 C와 D도 참여해": new parties join the last agreement.
    let joins_last = s
        .tokens
        .iter()
        .take(3)
        .any(|t| t.text == "협약에는" || t.text == "협약에")
        && (cue_text_contains!(cue, "참여") || cue_text_contains!(cue, "서명"));
    if joins_last {
        for &p in last_parties {
            if !parties.contains(&p) {
                parties.push(p);
            }
        }
    }
    if parties.len() >= 2 {
        for i in 0..parties.len() {
            for j in i + 1..parties.len() {
                doc.add(
                    parties[i],
                    Relation::SignedMouWith,
                    parties[j],
                    si,
                    "mou-parties",
                    conf,
                );
            }
        }
    }
    parties
}

/// chairs: `X 위원장은 NAME이 맡았으며`, `(위원장 NAME)`, `NAME이 위원장을
/// 맡아 이끄는 X`, `NAME 주재로 … 회의`; and the non-leading posts of the same
/// pattern (`부위원장은 NAME과 NAME이 맡았다`) as affiliatedWith.
fn chairs(
    doc: &mut Doc<'_>,
    si: usize,
    s: &SentenceMentions,
    cue: &CueText<'_>,
    last_body: Option<usize>,
) {
    let persons: Vec<&Mention> = s
        .mentions
        .iter()
        .filter(|m| m.kind == EntityType::Person)
        .collect();
    if persons.is_empty() {
        return;
    }
    let o = doc.ontology;
    let bodies: Vec<&Mention> = s
        .mentions
        .iter()
        .filter(|m| {
            m.kind == EntityType::Organization && doc.class(m.entity) == Some(OrgClass::Body)
        })
        .collect();
    let verbs = any_literal!(ASSIGN_VERBS);
    let assigned_at = verbs
        .is_match(&doc.sentences[si].text)
        .then(|| {
            s.tokens
                .iter()
                .position(|t| verbs.is_match(t.text.as_str()))
        })
        .flatten();
    // A post as the topic: "(위원회) 공동위원장은 A과 B가 맡았다".
    if let Some(verb) = assigned_at {
        for (ti, t) in s.tokens.iter().enumerate().take(verb) {
            let stem = crate::recognise::stems(&t.text, o)
                .into_iter()
                .find(|(st, p)| {
                    matches!(*p, "은" | "는" | "에는" | "에" | "으로는" | "로는")
                        && o.split_title(st).is_some()
                })
                .map(|(st, _)| st);
            let Some(stem) = stem else { continue };
            let Some((prefix, title)) = o.split_title(stem) else {
                continue;
            };
            // The body: named right before the post, in its prefix
            // (협의회장 → the council), or the last one named.
            let body = bodies
                .iter()
                .find(|b| b.last == ti)
                .map(|b| b.entity)
                .or_else(|| {
                    (!prefix.is_empty()
                        && ["협의", "추진", "위원", "특"]
                            .iter()
                            .any(|p| prefix.starts_with(p)))
                    .then_some(last_body)
                    .flatten()
                })
                .or(if prefix.is_empty() { last_body } else { None });
            let Some(body) = body else { continue };
            let holders: Vec<&&Mention> = persons
                .iter()
                .filter(|p| p.first > ti && p.first < verb)
                .collect();
            let Some(first_holder) = holders.first() else {
                continue;
            };
            // Persons joined by 과/와 share the post.
            let mut chosen = vec![first_holder.entity];
            for h in holders.iter().skip(1) {
                let joined = s.tokens[..h.first]
                    .iter()
                    .rev()
                    .find(|t| t.is_word)
                    .is_some_and(|t| t.text.ends_with('과') || t.text.ends_with('와'));
                if joined {
                    chosen.push(h.entity);
                }
            }
            let leader = title.role == crate::ontology::TitleRole::Leader
                && !title.title.starts_with("분과")
                && !title.title.starts_with('부');
            for p in chosen {
                if leader {
                    doc.add(p, Relation::Chairs, body, si, "post-assigned", 0.9);
                } else if title.role == crate::ontology::TitleRole::Affiliate {
                    doc.add(p, Relation::AffiliatedWith, body, si, "post-assigned", 0.85);
                }
            }
        }
    }
    // "NAME이 위원장을 맡아 이끄는 TF", "NAME 위원장이 이끄는 TF".
    if let Some(pos) = s
        .tokens
        .iter()
        .position(|t| t.text.starts_with("이끄는") || t.text.starts_with("이끌"))
    {
        let leads = s.tokens[..pos]
            .iter()
            .any(|t| t.text.starts_with("위원장") || t.text.starts_with("단장"));
        if let (Some(p), Some(b)) = (
            persons.iter().rfind(|p| p.first < pos),
            bodies.iter().find(|b| b.first > pos),
        ) {
            if leads || p.last + 2 >= pos {
                doc.add(p.entity, Relation::Chairs, b.entity, si, "leads-body", 0.85);
            }
        }
    }
    if let Some(conf) = doc.cues.get(CueKind::Relation(Relation::Chairs)) {
        if let Some(pos) = s.tokens.iter().position(|t| t.text.starts_with("주재")) {
            let presider = persons.iter().rfind(|p| p.first < pos && pos - p.last <= 2);
            let body = bodies.iter().find(|b| b.first > pos);
            if let (Some(p), Some(b)) = (presider, body) {
                if cue_text_contains!(cue, "회의") {
                    doc.add(
                        p.entity,
                        Relation::Chairs,
                        b.entity,
                        si,
                        "presides-meeting",
                        conf.min(0.8),
                    );
                }
            }
        }
    }
}

/// memberOf: `위원으로는 A, B, C …이 참여`, `협의체에는 A, B …이 참여`,
/// `A는 B, C와 함께 협의회를 구성했다`.
fn member_of(
    doc: &mut Doc<'_>,
    si: usize,
    s: &SentenceMentions,
    cue: &CueText<'_>,
    last_body: Option<usize>,
) {
    let cue_conf = doc.cues.get(CueKind::Relation(Relation::MemberOf));
    let founded_together = cue_text_contains!(cue, "함께") && cue_text_contains!(cue, "구성");
    if cue_conf.is_none() && !founded_together {
        return;
    }
    if cue_text_contains!(cue, "참석") && !cue_text_contains!(cue, "참여") {
        return;
    }
    let body = s
        .mentions
        .iter()
        .find(|m| m.kind == EntityType::Organization && doc.class(m.entity) == Some(OrgClass::Body))
        .map(|m| m.entity)
        .or(last_body.filter(|_| {
            cue_text_contains!(cue, "위원으로") || cue_text_contains!(cue, "참여기관")
        }));
    let Some(body) = body else { return };
    let conf = cue_conf.unwrap_or(0.8);
    let orgs: Vec<&Mention> = s
        .mentions
        .iter()
        .filter(|m| m.kind == EntityType::Organization && m.entity != body && !m.bare_region)
        .collect();
    for m in orgs {
        let next = s.tokens.get(m.last).map(|t| t.text.as_str()).unwrap_or("");
        let p = particle(s, m);
        // A headline's subject ("충남도, …") is not a member.
        if m.first == 0 && next == "," {
            continue;
        }
        let in_list = matches!(next, "," | "·" | "등")
            || next.starts_with("등")
            || matches!(p.as_str(), "이" | "가" | "과" | "와" | "은" | "는");
        let holds_post = s.titles.iter().any(|t| t.organization == Some(m.entity));
        let parent_of_body = doc.rec.entities[body].parent == Some(m.entity);
        let member_not_founder = founded_together || !matches!(p.as_str(), "은" | "는");
        if in_list && !holds_post && !parent_of_body && member_not_founder {
            doc.add(m.entity, Relation::MemberOf, body, si, "participates", conf);
        }
    }
}

/// targetsSector: the sentence's actor and the sectors it names, when a
/// policy cue is present.
/// What the sentences before tell the current one.
struct Context<'a> {
    /// The organisation the article is about.
    main_actor: Option<usize>,
    /// Parties of an agreement signed in this sentence.
    parties: &'a [usize],
    /// Parties of the last agreement of the document.
    last_parties: &'a [usize],
    /// The last committee, task force or council named.
    last_body: Option<usize>,
}

fn targets(
    doc: &mut Doc<'_>,
    si: usize,
    s: &SentenceMentions,
    cue: &CueText<'_>,
    context: &Context<'_>,
) {
    let Context {
        main_actor,
        parties,
        last_parties,
        last_body,
    } = *context;
    let sectors: Vec<&Mention> = s
        .mentions
        .iter()
        .filter(|m| m.kind == EntityType::Sector && !m.modifier)
        .collect();
    if sectors.is_empty() {
        return;
    }
    let conf = doc.cues.get(CueKind::Relation(Relation::TargetsSector));
    // The parties of an agreement signed in this sentence target what it
    // is about (the sectors its title or purpose names).
    if parties.len() >= 2 {
        for &party in parties {
            for sec in &sectors {
                doc.add(
                    party,
                    Relation::TargetsSector,
                    sec.entity,
                    si,
                    "agreement-about",
                    0.8,
                );
            }
        }
        return;
    }
    let Some(conf) = conf else {
        return;
    };
    // ▲ items that start with an organisation: each item is its own.
    let bullets: Vec<usize> = s
        .tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.text == "▲")
        .map(|(i, _)| i)
        .collect();
    let mut item_handled: FxHashSet<usize> = FxHashSet::default();
    if bullets.len() >= 2 {
        for (bi, &b) in bullets.iter().enumerate() {
            let end = bullets.get(bi + 1).copied().unwrap_or(s.tokens.len());
            let Some(org) = s
                .mentions
                .iter()
                .find(|m| m.first == b + 1 && m.kind == EntityType::Organization)
            else {
                continue;
            };
            for sec in sectors.iter().filter(|m| m.first > b && m.first < end) {
                doc.add(
                    org.entity,
                    Relation::TargetsSector,
                    sec.entity,
                    si,
                    "bullet-item",
                    conf.min(0.8),
                );
                item_handled.insert(sec.first);
            }
        }
    }
    // Genitive: 정부의 수소경제 육성정책.
    for m in s
        .mentions
        .iter()
        .filter(|m| m.kind == EntityType::Organization && particle(s, m) == "의")
    {
        if let Some(sec) = sectors
            .iter()
            .find(|x| x.first == m.last || x.first == m.last + 1)
        {
            doc.add(
                m.entity,
                Relation::TargetsSector,
                sec.entity,
                si,
                "genitive-policy",
                conf.min(0.8),
            );
        }
    }
    let mut actors = actors(doc, s, cue, main_actor, last_parties, last_body);
    // "A는 B와 함께 …": B acts too.
    for m in s
        .mentions
        .iter()
        .filter(|m| m.kind == EntityType::Organization && !m.bare_region)
    {
        let together = s
            .tokens
            .get(m.last)
            .is_some_and(|t| t.text.starts_with("함께"));
        if together
            && WITH_PARTICLES.contains(&particle(s, m).as_str())
            && !actors.contains(&m.entity)
        {
            actors.push(m.entity);
        }
    }
    for actor in actors {
        for sec in &sectors {
            if item_handled.contains(&sec.first) {
                continue;
            }
            doc.add(
                actor,
                Relation::TargetsSector,
                sec.entity,
                si,
                "actor-policy",
                conf,
            );
        }
    }
}

/// Who acts in a sentence: its topic (with 와/과 companions), the parties
/// of the last agreement for `양 기관`, the body of a `X 분과`, the
/// organisation of an official who speaks, or else the article's subject.
fn actors(
    doc: &Doc<'_>,
    s: &SentenceMentions,
    cue: &CueText<'_>,
    main_actor: Option<usize>,
    last_parties: &[usize],
    last_body: Option<usize>,
) -> Vec<usize> {
    if !last_parties.is_empty() && names_the_parties_together(cue.text()) {
        return last_parties.to_vec();
    }
    // An official whose title carries the topic particle speaks for the
    // organisation (문완규 광주도시공사 경영본부장은 …).
    for t in &s.titles {
        let word = s.tokens.get(t.token).map(|t| t.text.as_str()).unwrap_or("");
        if TOPIC_PARTICLES.iter().any(|p| word.ends_with(p)) {
            if let Some(org) = t
                .organization
                .or_else(|| person_organization(doc, t.person))
            {
                return vec![org];
            }
        }
    }
    for (i, m) in s.mentions.iter().enumerate() {
        let p = particle(s, m);
        let topic = TOPIC_PARTICLES.contains(&p.as_str()) || (p == "," && m.first == 0);
        if !topic {
            continue;
        }
        match m.kind {
            EntityType::Organization => {
                let mut group = vec![m.entity];
                for prev in s.mentions[..i].iter().rev() {
                    if prev.kind == EntityType::Organization
                        && WITH_PARTICLES.contains(&particle(s, prev).as_str())
                    {
                        group.push(prev.entity);
                    } else {
                        break;
                    }
                }
                return group;
            }
            EntityType::Person => {
                if let Some(org) = person_organization(doc, m.entity) {
                    return vec![org];
                }
            }
            EntityType::Sector if m.subcommittee => {
                if let Some(body) = last_body {
                    return vec![body];
                }
            }
            _ => {}
        }
    }
    // "황 보좌관은": a surname and a title refer back to a person.
    if let Some(first) = s
        .tokens
        .first()
        .filter(|t| t.is_word && t.text.chars().count() == 1)
    {
        if doc.ontology.is_surname(first.text.as_str()) {
            let person = doc.rec.entities.iter().enumerate().find(|(_, e)| {
                e.kind == EntityType::Person
                    && e.label().starts_with(first.text.as_str())
                    && e.label().chars().count() >= 2
            });
            if let Some((p, _)) = person {
                if let Some(org) = person_organization(doc, p) {
                    return vec![org];
                }
            }
        }
    }
    // An agreement as topic (이번 협약은 …): its parties.
    let about_agreement = s.tokens.iter().take(3).any(|t| {
        t.text.starts_with("협약")
            && !t.text.starts_with("협약식")
            && (t.text == "협약" || t.text.ends_with('은'))
    });
    if about_agreement && !last_parties.is_empty() {
        return last_parties.to_vec();
    }
    // No topic: the first organisation the sentence names as a name (not
    // a genitive, a place or an object).
    let named = s.mentions.iter().find(|m| {
        m.kind == EntityType::Organization
            && !m.bare_region
            && !matches!(
                particle(s, m).as_str(),
                "의" | "에서" | "을" | "를" | "로" | "으로" | "에" | "에게" | "도"
            )
    });
    if let Some(m) = named {
        if s.mentions.iter().any(|m| m.kind == EntityType::Person) {
            return vec![m.entity];
        }
    }
    if s.mentions.iter().any(|m| m.kind == EntityType::Person) {
        return Vec::new();
    }
    // Sectors of sub-committees (로봇·의료·모빌리티 3개 분과) are the body's.
    if cue_text_contains!(cue, "분과") {
        return last_body.into_iter().collect();
    }
    // A pronoun subject (그는, 이들은) refers to a person, not the article's subject.
    if s.tokens
        .first()
        .is_some_and(|t| PRONOUNS.iter().any(|p| t.text == *p))
    {
        return Vec::new();
    }
    // A headline without a topic: the organisations it names act
    // (AI사업단·광산업진흥회 … 협약).
    if !crate::clean::is_sentence_line(cue.text()) {
        let named: Vec<usize> = s
            .mentions
            .iter()
            .filter(|m| {
                m.kind == EntityType::Organization
                    && !m.bare_region
                    && (particle(s, m).is_empty() || particle(s, m) == "·")
            })
            .map(|m| m.entity)
            .collect();
        if !named.is_empty() {
            return named;
        }
    }
    main_actor.into_iter().collect()
}

/// The organisation a person holds a post in, from the facts found so far.
fn person_organization(doc: &Doc<'_>, person: usize) -> Option<usize> {
    doc.facts
        .iter()
        .find(|f| {
            f.subject == person
                && matches!(
                    f.relation,
                    Relation::HeadOf | Relation::AffiliatedWith | Relation::Chairs
                )
        })
        .map(|f| f.object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognise::recognise;

    /// The cues found from the words' own cues are those found in the cue
    /// text, on every short sentence of cue words, the parts of cues of
    /// several words, organisation names and punctuation.
    #[test]
    fn cues_from_the_words_are_the_cues_of_the_cue_text() {
        let o = Ontology::load(None).expect("ontology");
        let pieces = [
            "업무협약을",
            "협약을",
            " ",
            "체결",
            "했다",
            "광주시와",
            "한국전력공사",
            "MOU",
            ",",
            "위원장을",
            "맡",
            "추진",
            "손을",
            "맞잡",
            "상생협약위원회는",
        ];
        let texts = crate::test_support::every_sequence(&pieces, 4);
        let sentences: Vec<Sentence> = texts
            .iter()
            .filter(|t| !t.trim().is_empty())
            .enumerate()
            .map(|(index, t)| Sentence {
                index,
                article: 0,
                text: t.clone(),
                start: 0,
                end: 0,
            })
            .collect();
        let rec = recognise(&sentences, &o);
        let mut inside = Vec::new();
        let (mut from_words, mut with_org, mut in_a_name) = (0, 0, 0);
        for (s, sentence) in rec.sentences.iter().zip(&sentences) {
            inside_organisation_names(s, &mut inside);
            let cue = || CueText {
                sentence: &sentence.text,
                mentions: s,
                inside: &inside,
                spare: Cell::default(),
                text: OnceCell::new(),
            };
            let text = cue().text().to_string();
            let expected = o.cue_hits(&text);
            assert_eq!(cues_of(s, &o, &cue()), expected, "{:?}", sentence.text);
            if !s.cues.across_words && !expected.is_empty() {
                from_words += 1;
                with_org += usize::from(inside.contains(&true));
            }
            // A cue of several words in the text: one of them is flagged.
            if text.contains("협약을 체결") || text.contains("위원장을 맡") {
                assert!(s.cues.across_words, "{:?}", sentence.text);
            }
            // Words are looked for in the sentence first, then in the text.
            assert_eq!(cue_text_contains!(&cue(), "협약"), text.contains("협약"));
            in_a_name += usize::from(sentence.text.contains("협약") && !text.contains("협약"));
            assert_eq!(cue_text_contains!(&cue(), "맡"), text.contains("맡"));
        }
        // Both ways were taken, and names were left out.
        assert!(
            from_words > 1000 && with_org > 100 && in_a_name > 100,
            "{from_words} {with_org} {in_a_name}"
        );
    }

    #[test]
    fn cues_of_several_words_begin_where_their_first_word_ends() {
        let o = Ontology::load(None).expect("ontology");
        for word in ["협약을", "업무협약을", "위원장을", "체결"] {
            assert!(o.may_begin_cue_of_words(word), "{word}");
        }
        for word in ["협약을 ", "예정", "협약은", "MOU"] {
            assert!(!o.may_begin_cue_of_words(word), "{word}");
        }
    }
}
