//! The spill file of a two-pass streaming run (see
//! [`crate::pipeline::extract_streaming`]): the first pass sets every
//! document aside here, as the [`ResolvableDocument`] resolution needs,
//! until the entities of all of them are indexed; the second reads them
//! back in order.
//!
//! The file is unnamed (gone with the process, even when it is killed) and
//! lives in the temporary directory (`TMPDIR`). Records are postcard
//! encoded, each after its length as a little-endian `u32`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::resolve::ResolvableDocument;

/// An error about the spill file in `dir`, saying what the file is.
fn spill_error(dir: &Path, e: impl std::fmt::Display, kind: std::io::ErrorKind) -> Error {
    let context = format!("the spill file of a two-pass run (TMPDIR sets where): {e}");
    Error::io(dir, std::io::Error::new(kind, context))
}

fn io_error(dir: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| spill_error(dir, &e, e.kind())
}

/// Encodes a document as one record (can run on any thread); `dir` is the
/// spill file's directory, for the error.
pub fn encode(doc: &ResolvableDocument, dir: &Path) -> Result<Vec<u8>> {
    // The length prefix first, filled in once the document is encoded.
    let mut record = postcard::to_extend(doc, vec![0; 4])
        .map_err(|e| spill_error(dir, e, std::io::ErrorKind::InvalidData))?;
    let len = u32::try_from(record.len() - 4).map_err(|_| {
        spill_error(
            dir,
            "a document over 4 GiB",
            std::io::ErrorKind::InvalidData,
        )
    })?;
    record[..4].copy_from_slice(&len.to_le_bytes());
    Ok(record)
}

/// Decodes a record's body (without its length prefix).
pub fn decode(body: &[u8], dir: &Path) -> Result<ResolvableDocument> {
    postcard::from_bytes(body).map_err(|e| spill_error(dir, e, std::io::ErrorKind::InvalidData))
}

/// Writes the records of the first pass.
pub struct SpillWriter {
    out: BufWriter<File>,
    dir: PathBuf,
    bytes: u64,
}

impl SpillWriter {
    /// An empty spill file in `dir`.
    pub fn new_in(dir: &Path) -> Result<SpillWriter> {
        let file = tempfile::tempfile_in(dir).map_err(io_error(dir))?;
        Ok(SpillWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            dir: dir.to_path_buf(),
            bytes: 0,
        })
    }

    /// Appends one record made by [`encode`].
    pub fn write(&mut self, record: &[u8]) -> Result<()> {
        self.out.write_all(record).map_err(io_error(&self.dir))?;
        self.bytes += record.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes the file and reads it from the start.
    pub fn finish(self) -> Result<SpillReader> {
        let SpillWriter { out, dir, .. } = self;
        let mut file = out
            .into_inner()
            .map_err(|e| spill_error(&dir, e.error(), e.error().kind()))?;
        file.seek(SeekFrom::Start(0)).map_err(io_error(&dir))?;
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 16, file),
            dir,
        })
    }
}

/// Reads the records back, in the order they were written.
pub struct SpillReader {
    input: BufReader<File>,
    dir: PathBuf,
}

impl SpillReader {
    /// The bodies of the next `n` records (fewer at the end; none when all
    /// are read), to [`decode`] on any thread.
    pub fn next_bodies(&mut self, n: usize) -> Result<Vec<Vec<u8>>> {
        let mut bodies = Vec::with_capacity(n);
        while bodies.len() < n {
            let mut len = [0u8; 4];
            match self.input.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(io_error(&self.dir)(e)),
            }
            let mut body = vec![0; u32::from_le_bytes(len) as usize];
            self.input
                .read_exact(&mut body)
                .map_err(io_error(&self.dir))?;
            bodies.push(body);
        }
        Ok(bodies)
    }

    /// The directory the file lives in (for errors).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DocumentMeta, EntityType, Relation, Sentence};
    use crate::resolve::{NamedEntity, ResolvableFact};

    fn document(i: usize) -> ResolvableDocument {
        ResolvableDocument {
            meta: DocumentMeta {
                id: format!("d{i}"),
                source: "x.jsonl".into(),
                title: Some("광주시, AI 산업 육성".into()),
                date: None,
                outlet: Some("\n\"odd\" outlet\u{0}".into()),
                url: None,
            },
            entities: vec![
                NamedEntity {
                    kind: EntityType::Organization,
                    canonical: Some("광주광역시".into()),
                    names: vec!["광주시".into(), "광주광역시".into()],
                    generic_names: vec![],
                },
                NamedEntity {
                    kind: EntityType::Sector,
                    canonical: None,
                    names: vec!["인공지능".repeat(i)],
                    generic_names: vec!["분야".into()],
                },
            ],
            facts: vec![ResolvableFact {
                subject: 0,
                relation: Relation::TargetsSector,
                object: 1,
                sentence: 0,
                rule: "actor-policy".into(),
                confidence: 0.85,
            }],
            sentences: vec![Sentence {
                index: 3,
                article: 1,
                text: "광주시는 인공지능 산업을 육성한다.".into(),
                start: 40,
                end: 59,
            }],
            article_titles: vec![None, Some("둘째 기사".into())],
        }
    }

    #[test]
    fn records_come_back_in_order_and_chunked() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SpillWriter::new_in(dir.path()).unwrap();
        let docs: Vec<ResolvableDocument> = (0..7).map(document).collect();
        for d in &docs {
            writer.write(&encode(d, dir.path()).unwrap()).unwrap();
        }
        assert!(writer.bytes() > 7 * 100);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "unnamed");
        let mut reader = writer.finish().unwrap();
        let mut back = Vec::new();
        loop {
            let bodies = reader.next_bodies(3).unwrap();
            if bodies.is_empty() {
                break;
            }
            assert!(bodies.len() == 3 || back.len() == 6);
            for b in bodies {
                back.push(decode(&b, reader.dir()).unwrap());
            }
        }
        assert_eq!(back, docs);
    }

    #[test]
    fn a_missing_directory_and_a_bad_record_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone");
        let Err(e) = SpillWriter::new_in(&missing) else {
            panic!("a spill file in a missing directory");
        };
        let message = e.to_string();
        assert!(message.contains(&*missing.to_string_lossy()), "{message}");
        assert!(message.contains("spill file"), "{message}");

        let e = decode(&[0xff, 0xff, 0xff], dir.path()).unwrap_err();
        assert!(e.to_string().contains("spill file"), "{e}");
    }
}
