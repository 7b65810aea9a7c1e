//! Helpers shared by the unit tests.

/// Every text made of up to `max_pieces` of `pieces` one after the other
/// (the empty text included), each once: for checking a fast routine
/// against a plain one on every short combination of the characters that
/// matter to it.
pub fn every_sequence(pieces: &[&str], max_pieces: usize) -> Vec<String> {
    let mut texts = vec![String::new()];
    for _ in 0..max_pieces {
        let mut longer = Vec::new();
        for t in &texts {
            for p in pieces {
                longer.push(format!("{t}{p}"));
            }
        }
        texts.extend(longer);
        texts.sort();
        texts.dedup();
    }
    texts
}

/// The property tests' configuration: `cases` random cases, and no file
/// of past failures (a failing case is printed, minimised, in the test's
/// output).
pub fn proptest_config(cases: u32) -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig {
        cases,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_every_combination_once() {
        let texts = every_sequence(&["a", "b"], 2);
        assert_eq!(texts, ["", "a", "aa", "ab", "b", "ba", "bb"]);
    }
}
