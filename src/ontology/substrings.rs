//! Which of a set of patterns a text contains: every occurrence, the
//! overlapping ones too, in one pass over the text's bytes.
//!
//! An Aho-Corasick automaton with standard match semantics lists, in each
//! of its match states, every pattern that ends there (those reached
//! through failure transitions included), so walking it byte by byte and
//! reporting each match state's patterns finds every occurrence. The walk
//! is written here, with the state in a register, rather than through the
//! crate's resumable overlapping search, which keeps its position in memory
//! between matches: the relation cues are searched for in every sentence.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous;
use aho_corasick::{dfa, Anchored, BuildError, MatchKind, StartKind};

/// Up to this many patterns the automaton is a DFA (one table look-up per
/// byte); beyond, a contiguous NFA, whose size follows the patterns' bytes
/// rather than their bytes times the alphabet. The `aho-corasick` crate
/// makes the same choice at the same number.
const DFA_MAX_PATTERNS: usize = 100;

/// Finds which of its patterns occur in a text.
#[derive(Debug, Clone)]
pub(crate) struct SubstringFinder {
    /// The non-empty patterns.
    automaton: Kind,
    /// The unanchored start state.
    start: StateID,
    /// Per pattern of the automaton, its index among the caller's patterns.
    index: Vec<usize>,
    /// The caller's empty patterns, which every text contains.
    empty: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Kind {
    Dfa(dfa::DFA),
    Nfa(contiguous::NFA),
}

impl SubstringFinder {
    /// An automaton of `patterns`; a pattern's index in the slice is what
    /// [`SubstringFinder::for_each_match`] reports.
    pub(crate) fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<SubstringFinder, BuildError> {
        let (empty, index): (Vec<usize>, Vec<usize>) =
            (0..patterns.len()).partition(|&i| patterns[i].as_ref().is_empty());
        let searched = index.iter().map(|&i| &patterns[i]);
        // No prefilter: the walk below never consults one.
        let automaton = if index.len() <= DFA_MAX_PATTERNS {
            Kind::Dfa(
                dfa::DFA::builder()
                    .match_kind(MatchKind::Standard)
                    .start_kind(StartKind::Unanchored)
                    .prefilter(false)
                    .build(searched)?,
            )
        } else {
            Kind::Nfa(
                contiguous::NFA::builder()
                    .match_kind(MatchKind::Standard)
                    .prefilter(false)
                    .build(searched)?,
            )
        };
        let start = match &automaton {
            Kind::Dfa(a) => a.start_state(Anchored::No),
            Kind::Nfa(a) => a.start_state(Anchored::No),
        }
        .expect("an automaton built for unanchored searches has an unanchored start state");
        Ok(SubstringFinder {
            automaton,
            start,
            index,
            empty,
        })
    }

    /// Calls `found` with the index of a pattern at each place in `text`
    /// where it ends, and once with each empty pattern.
    pub(crate) fn for_each_match(&self, text: &str, mut found: impl FnMut(usize)) {
        for &i in &self.empty {
            found(i);
        }
        let index = |pattern: usize| self.index[pattern];
        match &self.automaton {
            Kind::Dfa(a) => walk(a, self.start, text.as_bytes(), |p| found(index(p))),
            Kind::Nfa(a) => walk(a, self.start, text.as_bytes(), |p| found(index(p))),
        }
    }
}

/// The walk, compiled once for each kind of automaton. With standard
/// semantics and an unanchored start there is no dead state to stop at.
fn walk<A: Automaton>(automaton: &A, start: StateID, text: &[u8], mut found: impl FnMut(usize)) {
    let mut state = start;
    for &byte in text {
        state = automaton.next_state(Anchored::No, state, byte);
        if automaton.is_match(state) {
            for i in 0..automaton.match_len(state) {
                found(automaton.match_pattern(state, i).as_usize());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns occurring in `text`, as `str::contains` finds them
    /// (the empty one in every text).
    fn contained(patterns: &[String], text: &str) -> Vec<usize> {
        (0..patterns.len())
            .filter(|&i| text.contains(patterns[i].as_str()))
            .collect()
    }

    fn found(finder: &SubstringFinder, text: &str) -> Vec<usize> {
        let mut found = Vec::new();
        finder.for_each_match(text, |i| found.push(i));
        found.sort_unstable();
        found.dedup();
        found
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(1000))]

        /// Suffixes, prefixes, repeats and the same pattern twice: every
        /// pattern the text contains is found, and no other.
        #[test]
        fn finds_the_patterns_the_text_contains(
            patterns in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec!["가", "나", "a", "b", " "]), 0..4),
                1..8,
            ),
            text in proptest::collection::vec(proptest::sample::select(vec!["가", "나", "a", "b", " ", "다"]), 0..16),
        ) {
            let patterns: Vec<String> = patterns.iter().map(|p| p.concat()).collect();
            let text = text.concat();
            let finder = SubstringFinder::new(&patterns).expect("small patterns build");
            proptest::prop_assert_eq!(found(&finder, &text), contained(&patterns, &text));
        }
    }

    /// Past [`DFA_MAX_PATTERNS`] the automaton is an NFA, which finds the
    /// same.
    #[test]
    fn many_patterns_are_found_by_the_nfa() {
        let syllables = ["가", "나", "다", "라", "마", "바"];
        let mut patterns: Vec<String> = Vec::new();
        for a in syllables {
            for b in syllables {
                for c in ["", "사", "아", "자", "차"] {
                    patterns.push(format!("{a}{b}{c}"));
                }
            }
        }
        assert!(patterns.len() > DFA_MAX_PATTERNS);
        let finder = SubstringFinder::new(&patterns).expect("patterns build");
        assert!(matches!(finder.automaton, Kind::Nfa(_)));
        for text in [
            "가나다라마바사",
            "바가 나자 다차라아",
            "",
            "사아자차",
            "마바마바사",
        ] {
            assert_eq!(found(&finder, text), contained(&patterns, text), "{text}");
        }
        let few = SubstringFinder::new(&patterns[..10]).expect("patterns build");
        assert!(matches!(few.automaton, Kind::Dfa(_)));
    }
}
