//! A direct N-Quads writer for the quads of [`crate::store`]: the same
//! bytes as Oxigraph's N-Quads serialiser (`oxttl`), written straight into
//! a buffer instead of through `fmt::Display`.
//!
//! IRIs are written as they are (a [`NamedNodeRef`] holds a valid IRI);
//! literals are quoted with the N-Quads escapes of `oxrdf`:
//! `\b \t \n \f \r \" \\`, `\uXXXX` for the other control characters,
//! U+007F, U+FFFE and U+FFFF, every other character as it is. Blank nodes
//! and any other kind of term are written by their `Display`, as `oxttl`
//! does.

use std::io::Write as _;

use crate::swar;

use oxigraph::model::vocab::xsd;
use oxigraph::model::{
    GraphNameRef, LiteralRef, NamedNodeRef, NamedOrBlankNodeRef, QuadRef, TermRef,
};

/// Appends `pieces` (byte slices) to `out` one after the other, making
/// room once; the constant ones are copied by plain moves.
#[inline(always)]
fn append_all<const N: usize>(out: &mut Vec<u8>, pieces: &[&[u8]; N]) {
    // (Saturating, so that it cannot wrap: a total past `isize::MAX` makes
    // `reserve` panic.)
    let total = pieces.iter().fold(0usize, |n, p| n.saturating_add(p.len()));
    out.reserve(total);
    // SAFETY: `reserve` made room for `total` more bytes after `len` (it
    // panics on a saturated total), and the pieces, `total` bytes in all,
    // are copied there one after the other; they are shared borrows, so
    // none overlaps the `Vec`'s room, which `out` borrows mutably. Every
    // byte up to the new length is written before it counts.
    unsafe {
        let mut at = out.as_mut_ptr().add(out.len());
        for piece in pieces {
            std::ptr::copy_nonoverlapping(piece.as_ptr(), at, piece.len());
            at = at.add(piece.len());
        }
        out.set_len(out.len() + total);
    }
}

/// Appends one quad as an N-Quads line (`s p o g .` and a newline; no
/// graph name for the default graph).
pub fn write_quad(out: &mut Vec<u8>, quad: QuadRef<'_>) {
    // Most quads of a document graph: IRIs, and an IRI or a literal with
    // nothing to escape, in a named graph. They are the line's pieces one
    // after the other, copied into room made once.
    let (NamedOrBlankNodeRef::NamedNode(s), GraphNameRef::NamedNode(g)) =
        (quad.subject, quad.graph_name)
    else {
        return write_quad_piece_by_piece(out, quad);
    };
    let (s, p, g) = (iri_bytes(s), iri_bytes(quad.predicate), iri_bytes(g));
    match quad.object {
        TermRef::NamedNode(o) => append_all(
            out,
            &[
                b"<",
                s,
                b"> <",
                p,
                b"> <",
                iri_bytes(o),
                b"> <",
                g,
                b"> .\n",
            ],
        ),
        TermRef::Literal(l) if !may_need_escapes(l.value()) => {
            let value = l.value().as_bytes();
            // One arm per kind of literal, so that the pieces around the
            // value are constants, copied by moves: one arm with the tail
            // in variables cost 1 % more of a whole extract.
            match l.language() {
                Some(language) => append_all(
                    out,
                    &[
                        b"<",
                        s,
                        b"> <",
                        p,
                        b"> \"",
                        value,
                        b"\"@",
                        language.as_bytes(),
                        b" <",
                        g,
                        b"> .\n",
                    ],
                ),
                None if l.datatype() == xsd::STRING => append_all(
                    out,
                    &[b"<", s, b"> <", p, b"> \"", value, b"\" <", g, b"> .\n"],
                ),
                None => append_all(
                    out,
                    &[
                        b"<",
                        s,
                        b"> <",
                        p,
                        b"> \"",
                        value,
                        b"\"^^<",
                        iri_bytes(l.datatype()),
                        b"> <",
                        g,
                        b"> .\n",
                    ],
                ),
            }
        }
        _ => write_quad_piece_by_piece(out, quad),
    }
}

fn iri_bytes(iri: NamedNodeRef<'_>) -> &[u8] {
    iri.as_str().as_bytes()
}

/// Whether `value` holds a byte that starts something [`write_quoted`]
/// may escape (when not, the value is written as it is).
fn may_need_escapes(value: &str) -> bool {
    let bytes = value.as_bytes();
    let i = swar::skip_unflagged(bytes, 0, escape_flags);
    bytes[i..].iter().any(|&b| MAY_ESCAPE[usize::from(b)])
}

/// The bytes of a word that may need escaping (see [`MAY_ESCAPE`]).
fn escape_flags(word: u64) -> u64 {
    swar::below(word, 0x20)
        | swar::equal(word, b'"')
        | swar::equal(word, b'\\')
        | swar::equal(word, 0x7F)
        | swar::equal(word, 0xEF)
}

/// [`write_quad`] for any quad, one piece at a time.
fn write_quad_piece_by_piece(out: &mut Vec<u8>, quad: QuadRef<'_>) {
    match quad.subject {
        NamedOrBlankNodeRef::NamedNode(n) => write_iri(out, n),
        other => {
            let _ = write!(out, "{other}");
        }
    }
    out.push(b' ');
    write_iri(out, quad.predicate);
    out.push(b' ');
    match quad.object {
        TermRef::NamedNode(n) => write_iri(out, n),
        TermRef::Literal(l) => write_literal(out, l),
        other => {
            let _ = write!(out, "{other}");
        }
    }
    match quad.graph_name {
        GraphNameRef::DefaultGraph => {}
        GraphNameRef::NamedNode(n) => {
            out.push(b' ');
            write_iri(out, n);
        }
        other => {
            let _ = write!(out, " {other}");
        }
    }
    out.extend_from_slice(b" .\n");
}

/// `<iri>`.
fn write_iri(out: &mut Vec<u8>, iri: NamedNodeRef<'_>) {
    out.push(b'<');
    out.extend_from_slice(iri.as_str().as_bytes());
    out.push(b'>');
}

/// `"value"`, `"value"@lang` or `"value"^^<datatype>`.
fn write_literal(out: &mut Vec<u8>, literal: LiteralRef<'_>) {
    write_quoted(out, literal.value());
    if let Some(language) = literal.language() {
        out.push(b'@');
        out.extend_from_slice(language.as_bytes());
    } else if literal.datatype() != xsd::STRING {
        out.extend_from_slice(b"^^");
        write_iri(out, literal.datatype());
    }
}

/// The bytes that start something [`write_quoted`] escapes: controls,
/// `"`, `\\`, DEL, and the first byte of U+FFFE / U+FFFF.
const MAY_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0x7F] = true;
    table[0xEF] = true;
    table
};

/// A string between double quotes, escaped as `oxrdf` escapes it.
fn write_quoted(out: &mut Vec<u8>, value: &str) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    let bytes = value.as_bytes();
    // Bytes copied as they are up to `i`, from `run`.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Most bytes are copied as they are: skipped eight at a time while
        // none may need escaping, else one at a time by a table look-up.
        i = swar::skip_unflagged(bytes, i, escape_flags);
        let Some(&b) = bytes.get(i) else {
            break;
        };
        if !MAY_ESCAPE[usize::from(b)] {
            i += 1;
            continue;
        }
        let escape: Option<(usize, &[u8])> = match b {
            0x08 => Some((1, b"\\b")),
            b'\t' => Some((1, b"\\t")),
            b'\n' => Some((1, b"\\n")),
            0x0C => Some((1, b"\\f")),
            b'\r' => Some((1, b"\\r")),
            b'"' => Some((1, b"\\\"")),
            b'\\' => Some((1, b"\\\\")),
            0x00..=0x1F | 0x7F => Some((1, b"")),
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF.
            0xEF if bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
            {
                Some((3, b""))
            }
            _ => None,
        };
        let Some((len, text)) = escape else {
            i += 1;
            continue;
        };
        out.extend_from_slice(&bytes[run..i]);
        if text.is_empty() {
            let c = value[i..].chars().next().map_or(0, u32::from);
            let _ = write!(out, "\\u{c:04X}");
        } else {
            out.extend_from_slice(text);
        }
        i += len;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::io::{RdfFormat, RdfSerializer};
    use oxigraph::model::{BlankNode, GraphName, Literal, NamedNode, Quad, Term};

    fn oxttl(quad: &Quad) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut writer = RdfSerializer::from_format(RdfFormat::NQuads).for_writer(&mut buf);
        writer.serialize_quad(quad).expect("write to a Vec");
        writer.finish().expect("write to a Vec");
        buf
    }

    fn ours(quad: &Quad) -> Vec<u8> {
        let mut buf = Vec::new();
        write_quad(&mut buf, quad.as_ref());
        buf
    }

    const TRICKY: &[&str] = &[
        "",
        "plain",
        "광주시는 \"인공지능\" 산업을 육성한다.",
        "back\\slash and \\\" both",
        "line\nbreak\r\ncarriage\ttab",
        "\u{0}\u{1}\u{7}\u{8}\u{b}\u{c}\u{e}\u{1f}\u{7f}\u{80}\u{9f}",
        "nonchar \u{fffe} \u{ffff} \u{fffd} \u{efbf} \u{10ffff}",
        "\u{feff}bom \u{200b} zero-width, emoji 🙂, ㈜대성정밀",
        "'single' <angle> {braces} ^^ @ko #frag %41",
        "ends with backslash \\",
        "\"",
        "full-width，comma and ＡＢＣ: EF-led, nothing to escape",
        "eight bytes long, then \\",
    ];

    #[test]
    fn literals_are_written_as_oxttl_writes_them() {
        let s = NamedNode::new_unchecked("https://w3id.org/newsgraph/doc/a%20b#f0");
        let p = NamedNode::new_unchecked("https://w3id.org/newsgraph/ontology#text");
        let g = GraphName::NamedNode(NamedNode::new_unchecked(
            "https://w3id.org/newsgraph/doc/가나",
        ));
        for text in TRICKY {
            let objects: Vec<Term> = vec![
                Literal::new_simple_literal(*text).into(),
                Literal::new_language_tagged_literal_unchecked(*text, "ko").into(),
                Literal::new_language_tagged_literal_unchecked(*text, "en-US").into(),
                Literal::new_typed_literal(*text, xsd::INTEGER).into(),
                Literal::new_typed_literal(*text, xsd::STRING).into(),
                Literal::new_typed_literal(
                    *text,
                    NamedNode::new_unchecked("http://example.com/dt#x"),
                )
                .into(),
            ];
            for o in objects {
                for graph in [g.clone(), GraphName::DefaultGraph] {
                    let quad = Quad::new(s.clone(), p.clone(), o.clone(), graph);
                    assert_eq!(
                        String::from_utf8_lossy(&ours(&quad)),
                        String::from_utf8_lossy(&oxttl(&quad)),
                        "{text:?}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(2000))]

        /// Literals of the bytes that matter to the escaper (controls,
        /// quotes, backslashes, DEL, EF-led characters among them
        /// U+FFFE and U+FFFF) next to plain text, in each kind of literal
        /// and graph.
        #[test]
        fn any_literal_is_written_as_oxttl_writes_it(
            text in "[\\x00-\\x7F가-힣\u{F000}-\u{F00F}\u{FF00}-\u{FFFF}]{0,40}",
            kind in 0..3u8,
            named in proptest::bool::ANY,
        ) {
            let s = NamedNode::new_unchecked("https://w3id.org/newsgraph/doc/d.txt#f1");
            let object: Term = match kind {
                0 => Literal::new_simple_literal(&text).into(),
                1 => Literal::new_language_tagged_literal_unchecked(&text, "ko").into(),
                _ => Literal::new_typed_literal(&text, xsd::DECIMAL).into(),
            };
            let graph = if named {
                GraphName::NamedNode(NamedNode::new_unchecked("https://w3id.org/newsgraph/doc/d.txt"))
            } else {
                GraphName::DefaultGraph
            };
            let quad = Quad::new(s.clone(), s, object, graph);
            proptest::prop_assert_eq!(ours(&quad), oxttl(&quad));
        }
    }

    #[test]
    fn iris_and_blank_nodes_are_written_as_oxttl_writes_them() {
        let iri = NamedNode::new_unchecked("https://w3id.org/newsgraph/id/Organization/광주광역시");
        let blank = BlankNode::new_unchecked("b0");
        let g = NamedNode::new_unchecked("https://w3id.org/newsgraph/doc/x.txt");
        let quads = [
            Quad::new(iri.clone(), iri.clone(), iri.clone(), g.clone()),
            Quad::new(blank.clone(), iri.clone(), blank.clone(), g.clone()),
            Quad::new(iri.clone(), iri.clone(), blank.clone(), blank.clone()),
            Quad::new(
                iri.clone(),
                iri.clone(),
                iri.clone(),
                GraphName::DefaultGraph,
            ),
        ];
        for quad in &quads {
            assert_eq!(ours(quad), oxttl(quad));
        }
    }

    #[test]
    fn every_character_is_escaped_as_oxttl_escapes_it() {
        let s = NamedNode::new_unchecked("http://example.com/s");
        let mut text = String::new();
        for c in (0..0x3000)
            .chain(0xFFF0..0x10010)
            .filter_map(char::from_u32)
        {
            text.push(c);
            text.push('a');
        }
        let quad = Quad::new(
            s.clone(),
            s.clone(),
            Literal::new_simple_literal(text),
            GraphName::DefaultGraph,
        );
        assert_eq!(ours(&quad), oxttl(&quad));
    }
}
