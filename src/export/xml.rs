//! Streaming XML output for the GraphML and GEXF writers: markup and
//! escaped values go straight into one buffer, which is handed to the
//! destination in blocks of about 64 KiB. No string is built per value, and
//! memory does not grow with the graph. Long runs of like elements (a
//! graph's edges) can be formatted on rayon's threads, a block of them per
//! task, and still reach the destination in order.

use std::fmt::Display;
use std::io::{self, Write};

use crate::swar;

/// The buffer is handed to the destination once it holds this many bytes.
const FLUSH_AT: usize = 1 << 16;

/// Bytes that need more than a copy, in element content (`attribute ==
/// false`) or in a double-quoted attribute value: markup characters,
/// control characters, and `0xEF`, the lead byte of U+FFFE and U+FFFF
/// (which XML 1.0 cannot carry).
const fn special_bytes(attribute: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[0xEF] = true;
    if attribute {
        table[b'"' as usize] = true;
        table[b'\'' as usize] = true;
    } else {
        table[b'\n' as usize] = false;
        table[b'\t' as usize] = false;
    }
    table
}

static TEXT_SPECIAL: [bool; 256] = special_bytes(false);
static ATTRIBUTE_SPECIAL: [bool; 256] = special_bytes(true);

/// Appends `s` to `out`, escaped for XML 1.0 element content (`attribute ==
/// false`) or a double-quoted attribute value. Characters XML 1.0 cannot
/// carry (most control characters, U+FFFE, U+FFFF) become U+FFFD; in
/// attributes, tabs and line breaks are written as character references so
/// that parsers keep them.
pub fn escape_into(out: &mut Vec<u8>, s: &str, attribute: bool) {
    let special = if attribute {
        &ATTRIBUTE_SPECIAL
    } else {
        &TEXT_SPECIAL
    };
    let bytes = s.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while they hold nothing to escape: the
        // evidence sentences that make most of a large export are long runs
        // of Hangul.
        i = swar::skip_unflagged(bytes, i, |word| candidate_bytes(word, attribute));
        let Some(&b) = bytes.get(i) else {
            break;
        };
        if !special[usize::from(b)] {
            // A tab or line break in element content, or the rest of a
            // string shorter than a word.
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[copied..i]);
        let mut width = 1;
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' => out.extend_from_slice(b"&apos;"),
            b'\n' => out.extend_from_slice(b"&#10;"),
            b'\t' => out.extend_from_slice(b"&#9;"),
            b'\r' => out.extend_from_slice(b"&#13;"),
            0xEF => {
                // In a `str`, 0xEF always starts a three-byte character.
                width = 3;
                match bytes.get(i..i + 3) {
                    Some([_, 0xBF, 0xBE | 0xBF]) => out.extend_from_slice("\u{FFFD}".as_bytes()),
                    Some(character) => out.extend_from_slice(character),
                    None => out.extend_from_slice(&bytes[i..]),
                }
            }
            _ => out.extend_from_slice("\u{FFFD}".as_bytes()),
        }
        i = (i + width).min(bytes.len());
        copied = i;
    }
    out.extend_from_slice(&bytes[copied..]);
}

/// One bit set per byte of `word` (little-endian) that may need escaping:
/// control characters (tabs and line breaks too), `&`, `<`, `>`, `0xEF`,
/// and in attributes `"` and `'`. Zero when there is none; otherwise the
/// lowest set bit is exactly the first such byte (see [`crate::swar`]).
fn candidate_bytes(word: u64, attribute: bool) -> u64 {
    let mut found = swar::below(word, 0x20)
        | swar::equal(word, b'&')
        | swar::equal(word, b'<')
        | swar::equal(word, b'>')
        | swar::equal(word, 0xEF);
    if attribute {
        found |= swar::equal(word, b'"') | swar::equal(word, b'\'');
    }
    found
}

/// XML being formatted: markup and escaped values appended to one buffer.
#[derive(Debug)]
pub struct XmlBuffer {
    bytes: Vec<u8>,
}

impl XmlBuffer {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        XmlBuffer {
            bytes: Vec::with_capacity(capacity),
        }
    }

    /// Appends markup as it is.
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.bytes.extend_from_slice(markup.as_bytes());
        self
    }

    /// Appends `s` escaped as element content.
    pub fn text(&mut self, s: &str) -> &mut Self {
        escape_into(&mut self.bytes, s, false);
        self
    }

    /// Appends `s` escaped as a double-quoted attribute value.
    pub fn attribute(&mut self, s: &str) -> &mut Self {
        escape_into(&mut self.bytes, s, true);
        self
    }

    /// Appends `s` escaped as element content or attribute value.
    pub fn escaped(&mut self, s: &str, attribute: bool) -> &mut Self {
        escape_into(&mut self.bytes, s, attribute);
        self
    }

    /// Appends a value that prints without markup characters (numbers).
    pub fn display(&mut self, value: impl Display) -> &mut Self {
        // Writing into a Vec cannot fail.
        let _ = write!(self.bytes, "{value}");
        self
    }
}

/// Asks the processor to start loading the first `max_bytes` of `items`
/// into its cache (a hint: nothing waits for it, and nothing happens on
/// processors we have no prefetch instruction for). The strings of a large
/// graph are scattered over the heap, and most of formatting them is
/// waiting for their first cache lines; asking a few elements ahead
/// overlaps those waits.
#[inline]
pub fn prefetch<T>(items: &[T], max_bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = items.as_ptr().cast::<i8>();
        let end = std::mem::size_of_val(items).min(max_bytes);
        let mut offset = 0;
        while offset < end {
            // SAFETY: `start + offset` lies within `items`; and a prefetch
            // only hints, it never faults or reads into the program.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, max_bytes);
}

/// Elements formatted into one block by one task of
/// [`XmlWriter::elements_in_parallel`]: about 0.3–1 MiB of a graph's edges.
pub const ELEMENTS_PER_BLOCK: usize = 512;

/// The next block a formatting task of
/// [`XmlWriter::elements_in_parallel`] has finished. On one of rayon's own
/// threads it runs waiting tasks meanwhile (in a pool of one thread they
/// would otherwise never run); elsewhere it sleeps until a block comes.
fn next_finished<B>(finished: &std::sync::mpsc::Receiver<(usize, B)>) -> io::Result<(usize, B)> {
    use std::sync::mpsc::RecvTimeoutError;
    let lost = || io::Error::other("an XML formatting task was lost");
    loop {
        match rayon::yield_now() {
            None => return finished.recv().map_err(|_| lost()),
            Some(rayon::Yield::Executed) => match finished.try_recv() {
                Ok(done) => return Ok(done),
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return Err(lost()),
            },
            Some(rayon::Yield::Idle) => {
                match finished.recv_timeout(std::time::Duration::from_micros(200)) {
                    Ok(done) => return Ok(done),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Err(lost()),
                }
            }
        }
    }
}

/// An XML document being written to a destination. It dereferences to the
/// [`XmlBuffer`] that collects what is appended.
pub struct XmlWriter<'w> {
    buffer: XmlBuffer,
    out: &'w mut dyn Write,
}

impl std::ops::Deref for XmlWriter<'_> {
    type Target = XmlBuffer;

    fn deref(&self) -> &XmlBuffer {
        &self.buffer
    }
}

impl std::ops::DerefMut for XmlWriter<'_> {
    fn deref_mut(&mut self) -> &mut XmlBuffer {
        &mut self.buffer
    }
}

impl<'w> XmlWriter<'w> {
    /// A writer onto `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        XmlWriter {
            buffer: XmlBuffer::with_capacity(FLUSH_AT + FLUSH_AT / 4),
            out,
        }
    }

    /// Hands the buffer to the destination once it is full; call between
    /// elements.
    pub fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buffer.bytes.len() >= FLUSH_AT {
            self.out.write_all(&self.buffer.bytes)?;
            self.buffer.bytes.clear();
        }
        Ok(())
    }

    /// Appends one element per item of `items`, `element(buffer, index,
    /// item)` formatting the item at `index`. The same bytes as calling
    /// `element` on each item in turn, but formatted on rayon's threads, in
    /// blocks of `per_block` items, while this thread hands the finished
    /// blocks to the destination in order. At most a few blocks per thread
    /// are held at a time, so memory does not grow with `items`.
    pub fn elements_in_parallel<T: Sync>(
        &mut self,
        items: &[T],
        per_block: usize,
        element: impl Fn(&mut XmlBuffer, usize, &T) + Sync,
    ) -> io::Result<()> {
        let per_block = per_block.max(1);
        let blocks = items.len().div_ceil(per_block);
        if blocks <= 1 {
            for (i, item) in items.iter().enumerate() {
                element(&mut self.buffer, i, item);
            }
            return self.flush_if_full();
        }
        self.out.write_all(&self.buffer.bytes)?;
        self.buffer.bytes.clear();
        let in_flight = 4 * rayon::current_num_threads().max(1);
        // Written blocks come back for the next ones: a fresh block would
        // grow by copying and fault its pages in again.
        let spare: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
        let spare = &spare;
        let format_block = |k: usize| {
            let start = k * per_block;
            let end = (start + per_block).min(items.len());
            let recycled = spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut block = recycled.map_or_else(
                || XmlBuffer::with_capacity(FLUSH_AT),
                |bytes| XmlBuffer { bytes },
            );
            for (i, item) in items[start..end].iter().enumerate() {
                element(&mut block, start + i, item);
            }
            block
        };
        let format_block = &format_block;
        rayon::in_place_scope(|scope| {
            let (done, finished) = std::sync::mpsc::channel();
            let spawn = |k: usize| {
                let done = done.clone();
                scope.spawn(move |_| {
                    let block =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| format_block(k)));
                    // The receiver is gone only if writing failed.
                    let _ = done.send((k, block));
                });
            };
            let mut spawned = 0;
            while spawned < blocks.min(in_flight) {
                spawn(spawned);
                spawned += 1;
            }
            let mut ready = std::collections::BTreeMap::new();
            for next in 0..blocks {
                let block = loop {
                    if let Some(block) = ready.remove(&next) {
                        break block;
                    }
                    let (k, block) = next_finished(&finished)?;
                    ready.insert(k, block);
                };
                let block = block.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                self.out.write_all(&block.bytes)?;
                let mut bytes = block.bytes;
                bytes.clear();
                spare.lock().unwrap_or_else(|e| e.into_inner()).push(bytes);
                if spawned < blocks {
                    spawn(spawned);
                    spawned += 1;
                }
            }
            Ok(())
        })
    }

    /// Writes what is left and flushes the destination.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.write_all(&self.buffer.bytes)?;
        self.buffer.bytes.clear();
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str, attribute: bool) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, s, attribute);
        String::from_utf8(out).expect("escaping keeps UTF-8")
    }

    /// The definition the fast escaper must agree with, character by
    /// character.
    fn escaped_slowly(s: &str, attribute: bool) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if attribute => out.push_str("&quot;"),
                '\'' if attribute => out.push_str("&apos;"),
                '\n' if attribute => out.push_str("&#10;"),
                '\t' if attribute => out.push_str("&#9;"),
                '\r' => out.push_str("&#13;"),
                '\n' | '\t' => out.push(c),
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                    out.push('\u{FFFD}')
                }
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn escapes_markup_controls_and_noncharacters() {
        let s = "a&b<c>d\"e'f\ng\th\ri\u{1}j\u{FFFE}k\u{FFFF}l\u{FFFD}m\u{FF21}n광주";
        assert_eq!(
            escaped(s, false),
            "a&amp;b&lt;c&gt;d\"e'f\ng\th&#13;i\u{FFFD}j\u{FFFD}k\u{FFFD}l\u{FFFD}m\u{FF21}n광주"
        );
        assert_eq!(
            escaped(s, true),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f&#10;g&#9;h&#13;i\u{FFFD}j\u{FFFD}k\u{FFFD}l\u{FFFD}m\u{FF21}n광주"
        );
    }

    #[test]
    fn agrees_with_the_character_definition_on_every_small_string() {
        let alphabet = [
            "a", "&", "<", ">", "\"", "'", "\n", "\t", "\r", "\u{0}", "\u{1f}", "\u{7f}",
            "\u{FFFE}", "\u{FFFF}", "\u{EFFF}", "\u{F000}", "\u{FFFD}", "가", "😀",
        ];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let s = format!("{a}{b}{c}");
                    for attribute in [false, true] {
                        assert_eq!(
                            escaped(&s, attribute),
                            escaped_slowly(&s, attribute),
                            "{s:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_character_definition_on_long_strings() {
        // Long runs of plain text with the special characters at every
        // offset of an eight-byte word: the word-at-a-time scan must find
        // each of them.
        let pieces = [
            "가나다",
            "abc",
            "&",
            "<",
            ">",
            "\"",
            "'",
            "\n",
            "\t",
            "\r",
            "\u{1}",
            "\u{FFFE}",
            "\u{FFFF}",
            "\u{EFFF}",
            "\u{FFFD}",
            "😀",
            "0123456789",
            "광주광역시 미래차",
        ];
        // A fixed linear congruential sequence: the same strings every run.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state
        };
        for _ in 0..3000 {
            let mut s = String::new();
            let len = (next() >> 59) as usize + 1;
            for _ in 0..len {
                // Besides the pieces, six picks in 24 are longer plain runs.
                let pick = (next() >> 33) as usize % (pieces.len() + 6);
                s.push_str(match pick {
                    p if p < pieces.len() => pieces[p],
                    p if p % 2 == 0 => "가나다라",
                    _ => "abcdefg",
                });
            }
            for attribute in [false, true] {
                assert_eq!(
                    escaped(&s, attribute),
                    escaped_slowly(&s, attribute),
                    "{s:?}"
                );
            }
        }
    }

    #[test]
    fn writes_in_blocks_and_all_of_it() {
        let mut out = Vec::new();
        let mut w = XmlWriter::new(&mut out);
        for i in 0..20_000 {
            w.raw("<n v=\"")
                .attribute("x&y")
                .raw("\">")
                .display(i)
                .raw("</n>\n");
            w.flush_if_full().expect("a Vec takes everything");
        }
        w.finish().expect("a Vec takes everything");
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(text.lines().count(), 20_000);
        assert!(text.ends_with("<n v=\"x&amp;y\">19999</n>\n"));
    }

    /// Formats `items` with `elements_in_parallel` into a Vec, between a
    /// header and a footer written the ordinary way.
    fn in_parallel(items: &[String], per_block: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = XmlWriter::new(&mut out);
        w.raw("<list>\n");
        w.elements_in_parallel(items, per_block, |w, i, item| {
            w.raw("<item n=\"")
                .display(i)
                .raw("\">")
                .text(item)
                .raw("</item>\n");
        })
        .expect("a Vec takes everything");
        w.raw("</list>\n");
        w.finish().expect("a Vec takes everything");
        out
    }

    #[test]
    fn elements_in_parallel_are_the_elements_in_order() {
        for count in [0, 1, 2, 5, 64, 3_000] {
            let items: Vec<String> = (0..count)
                .map(|i| format!("{i} & {}", "가".repeat(i % 97)))
                .collect();
            let mut expected = String::from("<list>\n");
            for (i, item) in items.iter().enumerate() {
                let item = item.replace('&', "&amp;");
                expected.push_str(&format!("<item n=\"{i}\">{item}</item>\n"));
            }
            expected.push_str("</list>\n");
            for per_block in [0, 1, 2, 7, 512, 10_000] {
                let out = in_parallel(&items, per_block);
                assert_eq!(
                    String::from_utf8(out).expect("UTF-8"),
                    expected,
                    "{count} items, {per_block} per block"
                );
            }
        }
    }

    #[test]
    fn elements_in_parallel_inside_a_pool_of_one_thread() {
        let items: Vec<String> = (0..1_000).map(|i| i.to_string()).collect();
        let expected = in_parallel(&items, 1_000);
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            let out = pool.install(|| in_parallel(&items, 3));
            assert_eq!(out, expected, "{threads} threads");
        }
    }

    #[test]
    fn prefetch_stays_within_what_it_is_given() {
        // A hint only: nothing to observe but that it accepts any slice.
        prefetch::<u8>(&[], 256);
        prefetch(b"short", 256);
        prefetch(&[0u64; 1000], 256);
        prefetch(&[(); 10], 256);
        prefetch(&"가".repeat(500).into_bytes(), 0);
    }

    /// A destination that takes `room` bytes, then fails.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn elements_in_parallel_stop_at_an_error_of_the_destination() {
        let items: Vec<usize> = (0..100_000).collect();
        let mut full = Full { room: 100_000 };
        let mut w = XmlWriter::new(&mut full);
        let e = w
            .elements_in_parallel(&items, 100, |w, _, n| {
                w.raw("<n>").display(n).raw("</n>\n");
            })
            .expect_err("the destination is full");
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn a_panic_while_formatting_in_parallel_reaches_the_caller() {
        let items: Vec<usize> = (0..1_000).collect();
        let caught = std::panic::catch_unwind(|| {
            let mut out = Vec::new();
            let mut w = XmlWriter::new(&mut out);
            let _ = w.elements_in_parallel(&items, 10, |w, _, &n| {
                assert!(n != 555, "item 555");
                w.display(n);
            });
        })
        .expect_err("the panic comes through");
        let message = caught
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| caught.downcast_ref::<&str>().copied());
        assert_eq!(message, Some("item 555"));
    }
}
