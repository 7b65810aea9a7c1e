//! Stage 1 — read: turns the paths a user gives into decoded documents.
//!
//! A path is a file, a directory (read recursively, in sorted order, hidden
//! entries skipped) or `-` for standard input. Bytes are decoded as UTF-8
//! when they are valid UTF-8, otherwise by the charset an HTML page declares
//! or the one detected from the bytes (EUC-KR/CP949 is common on Korean news
//! sites); invalid bytes become U+FFFD and never panic.
//!
//! Formats: plain text; HTML pages (`.html`, `.htm`, or text that starts
//! like a page: see [`crate::html`]); JSONL dumps (`.jsonl`, `.ndjson`: one
//! article per line with `id`, `text` or `body`, optional `title`, `date`,
//! `url`, `source`); CSV (`.csv`, the text in `--text-column`, default
//! `text` or `body`). A bad line is reported with its file and line number
//! and the other lines are still read.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::html::{declared_charset, html_to_text, looks_like_html};

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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawDocument {
    /// Document id.
    pub id: String,
    /// Where it was read from.
    pub source: PathBuf,
    /// The decoded text (markup already removed).
    pub text: String,
    /// The encoding it was decoded from (`UTF-8`, `EUC-KR`, …).
    pub encoding: &'static str,
    /// Title given by the source (HTML meta tags, a JSONL field).
    pub title: Option<String>,
    /// Date given by the source.
    pub date: Option<String>,
    /// Outlet given by the source.
    pub outlet: Option<String>,
    /// URL given by the source.
    pub url: Option<String>,
}

/// How to read inputs.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The CSV column holding the article text (default: `text`, else `body`).
    pub text_column: Option<String>,
}

/// Expands the given paths into input files. Paths that do not exist or
/// cannot be listed are returned as errors; the others are still expanded.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for found in InputWalk::new(paths) {
        match found {
            Ok(file) => files.push(file),
            Err(e) => errors.push(e),
        }
    }
    (files, errors)
}

/// The input files of the given paths, found one at a time, in the order of
/// [`collect_inputs`]: each directory is listed when the walk reaches it, so
/// memory holds the listings of the directories being walked rather than
/// every path of a corpus. A path that does not exist or cannot be listed
/// comes as an error in its place.
#[derive(Debug)]
pub struct InputWalk {
    /// The given paths not started yet, last first.
    given: Vec<PathBuf>,
    /// The directories being walked, innermost last: the given directory
    /// that ids are relative to, and the entries still to visit, last first.
    open: Vec<(PathBuf, Vec<Entry>)>,
    /// Errors of the last listing, to hand out before its entries.
    errors: std::collections::VecDeque<Error>,
}

impl InputWalk {
    /// A walk over `paths` (files, directories or `-` for standard input).
    pub fn new(paths: &[PathBuf]) -> Self {
        InputWalk {
            given: paths.iter().rev().cloned().collect(),
            open: Vec::new(),
            errors: std::collections::VecDeque::new(),
        }
    }

    /// Lists `dir` (sorted, hidden entries left out) and walks it next.
    fn enter(&mut self, root: PathBuf, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.errors.push_back(Error::io(dir, e));
                return;
            }
        };
        // Sorted by name, which orders paths of one directory as `Path`
        // does, without splitting them into components at each comparison.
        let mut named: Vec<(std::ffi::OsString, Entry)> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let name = entry.file_name();
                    if !name.as_encoded_bytes().starts_with(b".") {
                        // The listing tells most entries' types without a
                        // call per file; a link is followed later.
                        let is_dir = entry
                            .file_type()
                            .ok()
                            .filter(|t| !t.is_symlink())
                            .map(|t| t.is_dir());
                        let path = entry.path();
                        named.push((name, Entry { path, is_dir }));
                    }
                }
                Err(e) => self.errors.push_back(Error::io(dir, e)),
            }
        }
        named.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        let entries = named.into_iter().map(|(_, entry)| entry).collect();
        self.open.push((root, entries));
    }

    /// One step in the innermost open directory: `None` when no directory
    /// is open, `Some(None)` when the step gives nothing to hand out (a
    /// directory entered or finished, a file newsgraph does not read), else
    /// the file or error found.
    fn next_in_directory(&mut self) -> Option<Option<Result<InputFile>>> {
        let (root, entries) = self.open.last_mut()?;
        let Some(Entry { path, is_dir }) = entries.pop() else {
            self.open.pop();
            return Some(None);
        };
        let is_dir = match is_dir {
            Some(is_dir) => Ok(is_dir),
            None => std::fs::metadata(&path).map(|meta| meta.is_dir()),
        };
        Some(match is_dir {
            Ok(true) => {
                let root = root.clone();
                self.enter(root, &path);
                None
            }
            // In a directory, only the formats newsgraph reads (gold JSON
            // files or images next to articles are not articles).
            Ok(_) if !is_article_file(&path) => None,
            Ok(_) => {
                let id = path
                    .strip_prefix(&*root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                Some(Ok(InputFile { path, id }))
            }
            Err(e) => Some(Err(Error::io(&path, e))),
        })
    }
}

/// An entry of a directory being walked.
#[derive(Debug)]
struct Entry {
    path: PathBuf,
    /// Whether it is a directory, when the listing told (not for links,
    /// which are followed).
    is_dir: Option<bool>,
}

/// Once done, the walk stays done: nothing is left to pop.
impl std::iter::FusedIterator for InputWalk {}

impl Iterator for InputWalk {
    type Item = Result<InputFile>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.errors.pop_front() {
                return Some(Err(e));
            }
            match self.next_in_directory() {
                Some(Some(found)) => return Some(found),
                Some(None) => continue,
                None => {}
            }
            let path = self.given.pop()?;
            if path.as_os_str() == "-" {
                return Some(Ok(InputFile {
                    path,
                    id: "stdin".to_string(),
                }));
            }
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => self.enter(path.clone(), &path),
                Ok(_) => {
                    let id = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.to_string_lossy().into_owned());
                    return Some(Ok(InputFile { path, id }));
                }
                Err(e) => return Some(Err(Error::io(&path, e))),
            }
        }
    }
}

/// Whether a file found in a directory is one newsgraph reads: text, HTML,
/// JSONL or CSV by its extension, or a file without one.
fn is_article_file(path: &Path) -> bool {
    match path.extension() {
        None => true,
        Some(ext) => matches!(
            ext.to_string_lossy().to_ascii_lowercase().as_str(),
            "txt" | "text" | "html" | "htm" | "xhtml" | "jsonl" | "ndjson" | "csv"
        ),
    }
}

/// Reads and decodes one input file. A file holds one document, or one per
/// line (JSONL) or row (CSV); each of those is `Ok` or the error of its line.
pub fn read_file(file: &InputFile, options: &ReadOptions) -> Result<Vec<Result<RawDocument>>> {
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
    decode_file(file, &bytes, options)
}

/// Decodes the bytes of one input file (read already, e.g. standard input)
/// as [`read_file`] does.
pub fn decode_file(
    file: &InputFile,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<Vec<Result<RawDocument>>> {
    let extension = file
        .path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jsonl" | "ndjson" => Ok(read_jsonl(file, bytes)),
        "csv" => read_csv(file, bytes, options),
        _ => Ok(vec![Ok(read_page(
            file,
            bytes,
            extension == "html" || extension == "htm",
        ))]),
    }
}

/// Reads and decodes a file holding one document.
pub fn read_document(file: &InputFile) -> Result<RawDocument> {
    read_file(file, &ReadOptions::default())?
        .into_iter()
        .next()
        .unwrap_or_else(|| {
            Ok(RawDocument {
                id: file.id.clone(),
                source: file.path.clone(),
                ..RawDocument::default()
            })
        })
}

fn read_page(file: &InputFile, bytes: &[u8], is_html: bool) -> RawDocument {
    let declared = declared_charset(bytes)
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()));
    // Valid UTF-8 is read as such whatever the page declares; otherwise
    // the declared charset, else the detected one.
    let (text, encoding) = match (as_utf8(without_bom(bytes)), declared) {
        (Some(text), _) => (text.to_string(), "UTF-8"),
        (None, Some(enc)) => {
            let (text, actual, _) = enc.decode(bytes);
            (text.into_owned(), actual.name())
        }
        (None, None) => decode_detected(without_bom(bytes)),
    };
    let mut doc = RawDocument {
        id: file.id.clone(),
        source: file.path.clone(),
        encoding,
        ..RawDocument::default()
    };
    if is_html || looks_like_html(&text) {
        let (body, meta) = html_to_text(&text);
        doc.text = body;
        doc.title = meta.title;
        doc.date = meta.date;
        doc.outlet = meta.outlet;
        doc.url = meta.url;
    } else {
        doc.text = text;
    }
    doc
}

/// A JSON value as text (ids may be numbers).
fn json_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Article text that may be HTML.
fn body_text(text: String) -> String {
    if text.trim_start().starts_with('<') || looks_like_html(&text) {
        html_to_text(&text).0
    } else {
        text
    }
}

fn read_jsonl(file: &InputFile, bytes: &[u8]) -> Vec<Result<RawDocument>> {
    let (text, encoding) = decode(bytes);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let error = |message: String| Error::Input {
            path: file.path.clone(),
            line: line_no,
            message,
        };
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                out.push(Err(error(format!("not a JSON object: {e}"))));
                continue;
            }
        };
        let Some(object) = value.as_object() else {
            out.push(Err(error("not a JSON object".into())));
            continue;
        };
        let Some(body) = json_text(object.get("text")).or_else(|| json_text(object.get("body")))
        else {
            out.push(Err(error("no `text` or `body` field".into())));
            continue;
        };
        let id = json_text(object.get("id")).unwrap_or_else(|| format!("{}#L{line_no}", file.id));
        out.push(Ok(RawDocument {
            id,
            source: file.path.clone(),
            text: body_text(body),
            encoding,
            title: json_text(object.get("title")),
            date: json_text(object.get("date")),
            outlet: json_text(object.get("source")),
            url: json_text(object.get("url")),
        }));
    }
    out
}

fn read_csv(
    file: &InputFile,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<Vec<Result<RawDocument>>> {
    let (text, encoding) = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::Input {
            path: file.path.clone(),
            line: 1,
            message: format!("bad CSV header: {e}"),
        })?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let text_column = match &options.text_column {
        Some(name) => column(name),
        None => column("text").or_else(|| column("body")),
    }
    .ok_or_else(|| Error::Input {
        path: file.path.clone(),
        line: 1,
        message: format!(
            "no text column `{}` in the header ({})",
            options.text_column.as_deref().unwrap_or("text"),
            headers.iter().collect::<Vec<_>>().join(", ")
        ),
    })?;
    let (id_col, title_col, date_col, url_col, source_col) = (
        column("id"),
        column("title"),
        column("date"),
        column("url"),
        column("source"),
    );
    let mut out = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(row + 2, |p| p.line() as usize);
                out.push(Err(Error::Input {
                    path: file.path.clone(),
                    line,
                    message: format!("bad CSV row: {e}"),
                }));
                continue;
            }
        };
        let line = record.position().map_or(row + 2, |p| p.line() as usize);
        let field = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let Some(body) = field(Some(text_column)) else {
            out.push(Err(Error::Input {
                path: file.path.clone(),
                line,
                message: "empty text".into(),
            }));
            continue;
        };
        out.push(Ok(RawDocument {
            id: field(id_col).unwrap_or_else(|| format!("{}#L{line}", file.id)),
            source: file.path.clone(),
            text: body_text(body),
            encoding,
            title: field(title_col),
            date: field(date_col),
            outlet: field(source_col),
            url: field(url_col),
        }));
    }
    Ok(out)
}

/// The text of `bytes` if they are valid UTF-8 (checked with SIMD: most
/// of the input is Korean, where the standard check runs byte by byte).
fn as_utf8(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// Decodes bytes: UTF-8 (a BOM is dropped) when valid, otherwise the
/// encoding detected from the bytes (EUC-KR/CP949 for Korean pages).
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = without_bom(bytes);
    match as_utf8(bytes) {
        Some(text) => (text.to_string(), "UTF-8"),
        None => decode_detected(bytes),
    }
}

/// `bytes` without a leading UTF-8 byte-order mark.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Decodes bytes that are not UTF-8 in the encoding detected from them.
fn decode_detected(bytes: &[u8]) -> (String, &'static str) {
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

    fn file(dir: &Path, name: &str, content: &[u8]) -> InputFile {
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write");
        InputFile {
            path,
            id: name.to_string(),
        }
    }

    #[test]
    fn jsonl_lines_are_documents_and_bad_lines_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = file(
            dir.path(),
            "dump.jsonl",
            "{\"id\": \"a1\", \"text\": \"광주시는 육성한다.\", \"title\": \"제목\", \"date\": \"2024-01-02\"}\n\
             not json\n\
             {\"id\": 7, \"body\": \"<p>본문이다.</p>\"}\n\
             {\"id\": \"x\"}\n"
                .as_bytes(),
        );
        let docs = read_file(&f, &ReadOptions::default()).expect("read");
        assert_eq!(docs.len(), 4);
        let first = docs[0].as_ref().expect("line 1");
        assert_eq!(
            (
                first.id.as_str(),
                first.title.as_deref(),
                first.date.as_deref()
            ),
            ("a1", Some("제목"), Some("2024-01-02"))
        );
        let bad = docs[1].as_ref().expect_err("line 2").to_string();
        assert!(bad.contains("dump.jsonl:2"), "{bad}");
        let third = docs[2].as_ref().expect("line 3");
        assert_eq!(third.id, "7");
        assert!(third.text.contains("본문이다.") && !third.text.contains("<p>"));
        assert!(docs[3]
            .as_ref()
            .expect_err("line 4")
            .to_string()
            .contains(":4: no `text`"));
    }

    #[test]
    fn csv_rows_use_the_text_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = file(
            dir.path(),
            "a.csv",
            "id,headline,content\nr1,제목,\"광주시는, 육성한다.\"\nr2,빈,\n".as_bytes(),
        );
        let options = ReadOptions {
            text_column: Some("content".into()),
        };
        let docs = read_file(&f, &options).expect("read");
        assert_eq!(docs[0].as_ref().expect("row 1").text, "광주시는, 육성한다.");
        assert!(docs[1]
            .as_ref()
            .expect_err("row 2")
            .to_string()
            .contains("a.csv:3"));
        let missing = read_file(&f, &ReadOptions::default())
            .expect_err("no text column")
            .to_string();
        assert!(missing.contains("no text column"), "{missing}");
    }

    #[test]
    fn html_pages_declaring_euc_kr_are_decoded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let page = "<html><head><meta charset=\"euc-kr\"><title>부산 소식</title></head><body><p>부산시는 조선 산업을 육성한다.</p></body></html>";
        let (bytes, _, _) = encoding_rs::EUC_KR.encode(page);
        let f = file(dir.path(), "p.html", &bytes);
        let doc = read_document(&f).expect("read");
        assert_eq!(doc.encoding, "EUC-KR");
        assert_eq!(doc.title.as_deref(), Some("부산 소식"));
        assert!(
            doc.text.contains("부산시는 조선 산업을 육성한다."),
            "{}",
            doc.text
        );
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

    #[test]
    fn the_walk_gives_files_and_errors_in_input_order_depth_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("corpus");
        for sub in ["b", "a/z", "a/y"] {
            std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        for file in [
            "b/2.txt",
            "b/1.html",
            "a/z/3.jsonl",
            "a/y/4.txt",
            "a/5.txt",
            "a/.hidden.txt",
            "a/gold.json",
            "0.txt",
        ] {
            std::fs::write(root.join(file), "x").expect("write");
        }
        let single = dir.path().join("single.txt");
        std::fs::write(&single, "x").expect("write");
        let given = [root.clone(), dir.path().join("missing"), single, "-".into()];
        let walked: Vec<std::result::Result<String, String>> = InputWalk::new(&given)
            .map(|found| found.map(|f| f.id).map_err(|e| e.to_string()))
            .collect();
        let ids: Vec<&str> = walked
            .iter()
            .map(|r| r.as_deref().unwrap_or("<error>"))
            .collect();
        assert_eq!(
            ids,
            [
                "0.txt",
                "a/5.txt",
                "a/y/4.txt",
                "a/z/3.jsonl",
                "b/1.html",
                "b/2.txt",
                "<error>",
                "single.txt",
                "stdin",
            ]
        );
        assert!(walked[6].as_ref().is_err_and(|e| e.contains("missing")));
        // collect_inputs is the same walk, its errors set apart.
        let (files, errors) = collect_inputs(&given);
        assert_eq!(files.len(), 8);
        assert_eq!(errors.len(), 1);
    }

    /// Links in a walked directory are followed: the listing's own file
    /// types are used only for what is no link.
    #[test]
    fn links_in_a_directory_are_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("corpus");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::create_dir_all(elsewhere.join("more")).expect("mkdir");
        std::fs::write(elsewhere.join("more/1.txt"), "x").expect("write");
        std::fs::write(elsewhere.join("2.txt"), "x").expect("write");
        std::os::unix::fs::symlink(elsewhere.join("more"), root.join("a")).expect("link");
        std::os::unix::fs::symlink(elsewhere.join("2.txt"), root.join("b.txt")).expect("link");
        std::os::unix::fs::symlink(elsewhere.join("gone.txt"), root.join("c.txt")).expect("link");
        let walked: Vec<std::result::Result<String, String>> = InputWalk::new(&[root])
            .map(|found| found.map(|f| f.id).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(walked.len(), 3, "{walked:?}");
        assert_eq!(walked[0].as_deref(), Ok("a/1.txt"));
        assert_eq!(walked[1].as_deref(), Ok("b.txt"));
        assert!(
            walked[2].as_ref().is_err_and(|e| e.contains("c.txt")),
            "{walked:?}"
        );
    }
}
