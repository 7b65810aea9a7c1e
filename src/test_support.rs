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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_every_combination_once() {
        let texts = every_sequence(&["a", "b"], 2);
        assert_eq!(texts, ["", "a", "aa", "ab", "b", "ba", "bb"]);
    }
}
