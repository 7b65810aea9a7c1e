//! Eight bytes at a time: finds the first byte of a word that belongs to a
//! small set, so that the escapers (N-Quads, XML) skip long runs of Hangul
//! without looking at each byte.
//!
//! Each function returns one bit (the high bit of the byte) per flagged
//! byte of a little-endian word. False positives of the bit trick only sit
//! above a true one, so the lowest set bit is exactly the first flagged
//! byte, and zero means none.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `word` below `n` (`n` ≤ 0x80).
pub(crate) fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// The bytes of `word` equal to `b`.
pub(crate) fn equal(word: u64, b: u8) -> u64 {
    let x = word ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The eight bytes of `bytes` from `i`, as a little-endian word, if there
/// are eight.
pub(crate) fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    bytes
        .get(i..i + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map(u64::from_le_bytes)
}

/// The offset in the word of the first flagged byte of a non-zero mask.
pub(crate) fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// From `i`, skips whole words in which `flags` flags no byte, and returns
/// the offset of the first flagged byte, or where the last (partial) word
/// begins when none is flagged: the bytes from there on are to be looked
/// at one by one.
pub(crate) fn skip_unflagged(bytes: &[u8], mut i: usize, flags: impl Fn(u64) -> u64) -> usize {
    while let Some(word) = word_at(bytes, i) {
        let flagged = flags(word);
        if flagged != 0 {
            return i + first(flagged);
        }
        i += 8;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every position, alone and behind a smaller or
    /// equal one: the lowest flag is the first true byte.
    #[test]
    fn the_lowest_flag_is_the_first_matching_byte() {
        let fillers = [0x00u8, 0x1F, 0x20, 0x41, 0x7F, 0x80, 0xEA, 0xEF, 0xFF];
        for filler in fillers {
            for at in 0..8 {
                for b in 0..=255u8 {
                    let mut bytes = [filler; 8];
                    bytes[at] = b;
                    let word = u64::from_le_bytes(bytes);
                    for n in [0x20u8, 0x80] {
                        let expected = bytes.iter().position(|&x| x < n);
                        let got = below(word, n);
                        assert_eq!((got != 0).then(|| first(got)), expected, "{bytes:?} < {n}");
                    }
                    for target in [b'"', b'\\', 0x7F, 0xEF, b'&'] {
                        let expected = bytes.iter().position(|&x| x == target);
                        let got = equal(word, target);
                        assert_eq!(
                            (got != 0).then(|| first(got)),
                            expected,
                            "{bytes:?} == {target}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn skipping_stops_at_the_first_flagged_byte_or_the_last_partial_word() {
        let text = b"0123456789abcdefXhij";
        let x = |word| equal(word, b'X');
        assert_eq!(skip_unflagged(text, 0, x), 16);
        assert_eq!(skip_unflagged(text, 17, x), 17, "three bytes left");
        assert_eq!(skip_unflagged(b"0123456789ab", 0, x), 8);
        assert_eq!(skip_unflagged(b"", 0, x), 0);
    }

    #[test]
    fn words_are_read_little_endian_and_only_whole() {
        let bytes = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(word_at(&bytes, 0), Some(0x0807_0605_0403_0201));
        assert_eq!(word_at(&bytes, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(word_at(&bytes, 2), None);
    }
}
