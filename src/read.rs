//! Stage 1 — read: turns the paths a user gives into decoded documents.
//!
//! A path is a file, a directory (read recursively, in sorted order, hidden
//! entries skipped) or `-` for standard input. Bytes are decoded as UTF-8
//! when they are valid UTF-8, otherwise the encoding is detected
//! (EUC-KR/CP949 is common on Korean news sites) and decoded; invalid bytes
//! become U+FFFD and never panic.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One input file to read, with the document id it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where to read it (`-` for standard input).
    pub path: PathBuf,
    /// The document id: the path relative to the input that was given (for
    /// a single file, its file name).
    pub id: String,
}

/// A decoded document, not yet cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDocument {
    /// Document id.
    pub id: String,
    /// Where it was read from.
    pub source: PathBuf,
    /// The decoded text.
    pub text: String,
    /// The encoding it was decoded from (`UTF-8`, `EUC-KR`, …).
    pub encoding: &'static str,
}

/// Expands the given paths into input files. Paths that do not exist or
/// cannot be listed are returned as errors; the others are still expanded.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(InputFile {
                path: path.clone(),
                id: "stdin".to_string(),
            });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, path, &mut files, &mut errors),
            Ok(_) => {
                let id = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.to_string_lossy().into_owned());
                files.push(InputFile {
                    path: path.clone(),
                    id,
                });
            }
            Err(e) => errors.push(Error::io(path, e)),
        }
    }
    (files, errors)
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<InputFile>, errors: &mut Vec<Error>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(Error::io(dir, e));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                if !entry.file_name().to_string_lossy().starts_with('.') {
                    paths.push(entry.path());
                }
            }
            Err(e) => errors.push(Error::io(dir, e)),
        }
    }
    paths.sort();
    for path in paths {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(root, &path, files, errors),
            Ok(_) => {
                let id = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push(InputFile { path, id });
            }
            Err(e) => errors.push(Error::io(&path, e)),
        }
    }
}

/// Reads and decodes one input file.
pub fn read_document(file: &InputFile) -> Result<RawDocument> {
    let bytes = if file.path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("<stdin>", e))?;
        buf
    } else {
        std::fs::read(&file.path).map_err(|e| Error::io(&file.path, e))?
    };
    let (text, encoding) = decode(&bytes);
    Ok(RawDocument {
        id: file.id.clone(),
        source: file.path.clone(),
        text,
        encoding,
    })
}

/// Decodes bytes: UTF-8 (a BOM is dropped) when valid, otherwise the
/// encoding detected from the bytes (EUC-KR/CP949 for Korean pages).
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_string(), "UTF-8");
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Deny);
    let (text, actual, _had_errors) = encoding.decode(bytes);
    (text.into_owned(), actual.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_and_euc_kr() {
        let korean = "광주시는 인공지능 산업을 육성한다.";
        assert_eq!(decode(korean.as_bytes()), (korean.to_string(), "UTF-8"));
        let (bytes, _, _) = encoding_rs::EUC_KR.encode(korean);
        let (text, encoding) = decode(&bytes);
        assert_eq!(text, korean);
        assert_eq!(encoding, "EUC-KR");
    }

    #[test]
    fn invalid_bytes_do_not_panic() {
        let (text, _) = decode(&[b'a', 0xff, 0xc3, 0x28, b'b', 0xb0]);
        assert!(text.starts_with('a'));
        assert!(text.contains('b'));
    }

    #[test]
    fn ids_are_relative_to_the_given_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/b.txt"), "b").expect("write");
        std::fs::write(dir.path().join("a.txt"), "a").expect("write");
        std::fs::write(dir.path().join(".hidden"), "h").expect("write");
        let (files, errors) =
            collect_inputs(&[dir.path().to_path_buf(), dir.path().join("missing")]);
        let ids: Vec<_> = files.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["a.txt", "sub/b.txt"]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("missing"));
    }
}
