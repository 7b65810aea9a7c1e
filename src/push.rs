//! `newsgraph push`: sends the store's documents to an external SPARQL
//! store, each document's named graph replaced as a unit.
//!
//! Two protocols:
//! - [`PushProtocol::Update`] (default): SPARQL 1.1 Update to the update
//!   endpoint — per document `DROP SILENT GRAPH <doc> ; INSERT DATA { GRAPH
//!   <doc> { … } }`, several documents per request (a batch closes once it
//!   holds [`PushOptions::batch_quads`] quads; a document is never split).
//!   A store that runs an update request atomically (Oxigraph, Virtuoso,
//!   Fuseki) never shows a document half replaced.
//! - [`PushProtocol::GraphStore`]: SPARQL 1.1 Graph Store HTTP Protocol —
//!   one `PUT <endpoint>?graph=<doc>` with the document's N-Triples per
//!   document; a PUT replaces the graph.
//!
//! Both replace what the external store held for the document and nothing
//! else, so pushing again is idempotent and shards pushed by different
//! workers add up. Transient failures — connection errors, timeouts, 408,
//! 429 and 5xx answers — are retried with exponential back-off (honouring
//! `Retry-After`); any other answer stops the push with the server's
//! message. Quads in the store's default graph (documents are named
//! graphs) and graphs named by blank nodes are not sent, and counted.

use std::fmt::Write as _;
use std::io::Read;
use std::time::Duration;

use oxigraph::model::{GraphNameRef, NamedOrBlankNode, Quad};

use crate::store::GraphStore;
use crate::{Error, Result};

/// How [`push`] talks to the external store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushProtocol {
    /// SPARQL 1.1 Update (`DROP SILENT GRAPH` + `INSERT DATA`), batched.
    #[default]
    Update,
    /// SPARQL 1.1 Graph Store HTTP Protocol (`PUT ?graph=`), one request per
    /// document.
    GraphStore,
}

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// The update endpoint (`http://host:7878/update`) or, for
    /// [`PushProtocol::GraphStore`], the graph store (`http://host:7878/store`).
    pub endpoint: String,
    /// The protocol.
    pub protocol: PushProtocol,
    /// HTTP basic authentication: user name.
    pub user: Option<String>,
    /// HTTP basic authentication: password (empty when only a user is given).
    pub password: Option<String>,
    /// Extra request headers (`Authorization: Bearer …`, …).
    pub headers: Vec<(String, String)>,
    /// An update request closes once it holds this many quads.
    pub batch_quads: usize,
    /// Retries of a request after a transient failure.
    pub retries: u32,
    /// Wait before the first retry; it doubles with every further retry.
    pub initial_backoff: Duration,
    /// Longest wait between two tries.
    pub max_backoff: Duration,
    /// Time limit of one request.
    pub timeout: Duration,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            endpoint: String::new(),
            protocol: PushProtocol::Update,
            user: None,
            password: None,
            headers: Vec::new(),
            batch_quads: 50_000,
            retries: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(300),
        }
    }
}

/// What [`push`] sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushSummary {
    /// Documents (named graphs) sent, each replacing its earlier version.
    pub documents: usize,
    /// Quads sent.
    pub quads: usize,
    /// Requests that succeeded.
    pub requests: usize,
    /// Tries repeated after a transient failure.
    pub retries: usize,
    /// Request body bytes sent (successful requests).
    pub bytes: usize,
    /// Quads of the store's default graph, not sent.
    pub skipped_default_graph_quads: usize,
    /// Graphs named by a blank node, not sent (they cannot be addressed).
    pub skipped_blank_graphs: usize,
}

/// Parses a `Name: value` header.
pub fn parse_header(text: &str) -> Result<(String, String)> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| Error::Push(format!("header `{text}`: expected `Name: value`")))?;
    let name = name.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(Error::Push(format!(
            "header `{text}`: `{name}` is not a header name"
        )));
    }
    let value = value.trim();
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Error::Push(format!(
            "header `{name}`: control characters in the value"
        )));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Standard base64 (RFC 4648, with padding), for basic authentication.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The wait before retry number `attempt` (from 0): `initial · 2^attempt`,
/// at most `max`; a `Retry-After` in seconds from the server wins when it
/// is longer (still at most `max`).
pub fn backoff(
    attempt: u32,
    initial: Duration,
    max: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    let exponential = initial.saturating_mul(2u32.saturating_pow(attempt.min(30)));
    exponential.max(retry_after.unwrap_or_default()).min(max)
}

fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || (500..600).contains(&status)
}

fn transient_error(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
            | ureq::Error::BodyStalled
    )
}

/// The HTTP side of a push: one agent, the options, the running counts.
struct Sender<'a> {
    agent: ureq::Agent,
    options: &'a PushOptions,
    authorization: Option<String>,
    summary: PushSummary,
}

impl Sender<'_> {
    /// Sends one SPARQL Update request holding `documents` documents
    /// (`quads` quads) and counts them in the summary.
    fn send_update_batch(&mut self, batch: &str, documents: usize, quads: usize) -> Result<()> {
        let endpoint = self.options.endpoint.clone();
        self.send(
            "POST",
            &endpoint,
            "application/sparql-update",
            batch.as_bytes(),
        )?;
        self.summary.documents += documents;
        self.summary.quads += quads;
        Ok(())
    }

    /// Sends one request, retrying transient failures.
    fn send(&mut self, method: &str, url: &str, content_type: &str, body: &[u8]) -> Result<()> {
        let mut attempt = 0;
        loop {
            let mut request = match method {
                "PUT" => self.agent.put(url),
                _ => self.agent.post(url),
            }
            .header("Content-Type", content_type);
            if let Some(auth) = &self.authorization {
                request = request.header("Authorization", auth);
            }
            for (name, value) in &self.options.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let (transient, message, retry_after) = match request.send(body) {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if (200..300).contains(&status) {
                        self.summary.requests += 1;
                        self.summary.bytes += body.len();
                        return Ok(());
                    }
                    let retry_after = response
                        .headers()
                        .get("Retry-After")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let mut text = String::new();
                    let _ = response
                        .body_mut()
                        .as_reader()
                        .take(2000)
                        .read_to_string(&mut text);
                    let text = text.trim();
                    (
                        transient_status(status),
                        format!(
                            "{method} {url} answered {status}{}{text}",
                            if text.is_empty() { "" } else { ": " }
                        ),
                        retry_after,
                    )
                }
                Err(e) => (
                    transient_error(&e),
                    format!("{method} {url} failed: {e}"),
                    None,
                ),
            };
            if !transient || attempt >= self.options.retries {
                let tries = if transient {
                    format!(" (after {} tries)", attempt + 1)
                } else {
                    String::new()
                };
                return Err(Error::Push(format!("{message}{tries}")));
            }
            std::thread::sleep(backoff(
                attempt,
                self.options.initial_backoff,
                self.options.max_backoff,
                retry_after,
            ));
            attempt += 1;
            self.summary.retries += 1;
        }
    }
}

/// Writes the triples of `quads` as N-Triples lines (also valid inside
/// SPARQL `INSERT DATA`).
fn write_triples(out: &mut String, quads: &[Quad]) {
    for q in quads {
        let _ = writeln!(out, "{} {} {} .", q.subject, q.predicate, q.object);
    }
}

/// Pushes every document (named graph) of `store` to the external store;
/// `progress` gets the number of documents sent so far.
pub fn push(
    store: &GraphStore,
    options: &PushOptions,
    progress: &dyn Fn(usize),
) -> Result<PushSummary> {
    if !(options.endpoint.starts_with("http://") || options.endpoint.starts_with("https://")) {
        return Err(Error::Push(format!(
            "endpoint `{}` is not an http:// or https:// URL",
            options.endpoint
        )));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(options.timeout))
        .build()
        .into();
    let authorization = options.user.as_ref().map(|user| {
        let password = options.password.as_deref().unwrap_or("");
        format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
    });
    let mut sender = Sender {
        agent,
        options,
        authorization,
        summary: PushSummary::default(),
    };

    let inner = store.inner();
    let store_err = |e: oxigraph::store::StorageError| store.store_error(e);
    let mut graphs = Vec::new();
    for g in inner.named_graphs() {
        match g.map_err(store_err)? {
            NamedOrBlankNode::NamedNode(n) => graphs.push(n),
            NamedOrBlankNode::BlankNode(_) => sender.summary.skipped_blank_graphs += 1,
        }
    }
    graphs.sort();
    sender.summary.skipped_default_graph_quads = inner
        .quads_for_pattern(None, None, None, Some(GraphNameRef::DefaultGraph))
        .count();

    let mut batch = String::new();
    let mut batch_quads = 0;
    let mut batch_documents = 0;
    for graph in &graphs {
        let quads = inner
            .quads_for_pattern(None, None, None, Some(graph.as_ref().into()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(store_err)?;
        match options.protocol {
            PushProtocol::GraphStore => {
                let mut body = String::new();
                write_triples(&mut body, &quads);
                let separator = if options.endpoint.contains('?') {
                    '&'
                } else {
                    '?'
                };
                let url = format!(
                    "{}{separator}graph={}",
                    options.endpoint,
                    percent_encode(graph.as_str())
                );
                sender.send("PUT", &url, "application/n-triples", body.as_bytes())?;
                sender.summary.documents += 1;
                sender.summary.quads += quads.len();
                progress(sender.summary.documents);
            }
            PushProtocol::Update => {
                let _ = writeln!(
                    batch,
                    "DROP SILENT GRAPH {graph} ;\nINSERT DATA {{ GRAPH {graph} {{"
                );
                write_triples(&mut batch, &quads);
                batch.push_str("} } ;\n");
                batch_quads += quads.len();
                batch_documents += 1;
                if batch_quads >= options.batch_quads.max(1) {
                    sender.send_update_batch(&batch, batch_documents, batch_quads)?;
                    progress(sender.summary.documents);
                    batch.clear();
                    batch_quads = 0;
                    batch_documents = 0;
                }
            }
        }
    }
    if batch_documents > 0 {
        sender.send_update_batch(&batch, batch_documents, batch_quads)?;
        progress(sender.summary.documents);
    }
    Ok(sender.summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn headers_are_checked() {
        assert_eq!(
            parse_header("X-Api-Key:  abc ").ok(),
            Some(("X-Api-Key".to_string(), "abc".to_string()))
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        assert!(parse_header("X: a\nb").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let ms = Duration::from_millis;
        let b = |a, after| backoff(a, ms(100), ms(1000), after);
        assert_eq!(b(0, None), ms(100));
        assert_eq!(b(1, None), ms(200));
        assert_eq!(b(3, None), ms(800));
        assert_eq!(b(4, None), ms(1000));
        assert_eq!(b(40, None), ms(1000));
        assert_eq!(b(0, Some(ms(500))), ms(500));
        assert_eq!(b(0, Some(ms(5000))), ms(1000));
    }

    /// A loopback server answering each connection with the next status of
    /// `statuses` (and `Connection: close`); returns its URL and a handle
    /// giving the request lines it saw.
    fn scripted_server(
        statuses: Vec<u16>,
    ) -> (String, std::thread::JoinHandle<Vec<(String, String)>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/update", listener.local_addr().expect("addr"));
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for status in statuses {
                let Ok((stream, _)) = listener.accept() else {
                    break;
                };
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut length = 0;
                let mut auth = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        auth = line.trim().to_string();
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                seen.push((request_line.trim().to_string(), auth));
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
                );
            }
            seen
        });
        (url, handle)
    }

    fn one_document_store() -> GraphStore {
        let store = GraphStore::in_memory().expect("store");
        store
            .inner()
            .load_from_slice(
                oxigraph::io::RdfFormat::NQuads,
                "<http://e/s> <http://e/p> \"x\" <http://e/g> .\n",
            )
            .expect("load");
        store
    }

    #[test]
    fn transient_failures_are_retried() {
        let (url, server) = scripted_server(vec![503, 502, 204]);
        let options = PushOptions {
            endpoint: url,
            user: Some("ann".into()),
            password: Some("secret".into()),
            initial_backoff: Duration::from_millis(5),
            ..PushOptions::default()
        };
        let summary = push(&one_document_store(), &options, &|_| {}).expect("push");
        assert_eq!(
            (
                summary.documents,
                summary.quads,
                summary.requests,
                summary.retries
            ),
            (1, 1, 1, 2)
        );
        let seen = server.join().expect("server");
        assert_eq!(seen.len(), 3);
        assert!(seen
            .iter()
            .all(|(line, _)| line.starts_with("POST /update")));
        let (name, value) = seen[0].1.split_once(':').unwrap_or_default();
        assert!(name.eq_ignore_ascii_case("authorization"));
        assert_eq!(value.trim(), format!("Basic {}", base64(b"ann:secret")));
    }

    #[test]
    fn other_failures_stop_the_push() {
        let (url, server) = scripted_server(vec![400]);
        let options = PushOptions {
            endpoint: url,
            initial_backoff: Duration::from_millis(5),
            ..PushOptions::default()
        };
        let err = push(&one_document_store(), &options, &|_| {}).expect_err("400");
        assert!(err.to_string().contains("answered 400: nope"), "{err}");
        assert_eq!(server.join().expect("server").len(), 1);

        let (url, server) = scripted_server(vec![500, 500]);
        let options = PushOptions {
            endpoint: url,
            retries: 1,
            initial_backoff: Duration::from_millis(5),
            ..PushOptions::default()
        };
        let err = push(&one_document_store(), &options, &|_| {}).expect_err("500");
        assert!(err.to_string().contains("after 2 tries"), "{err}");
        assert_eq!(server.join().expect("server").len(), 2);
    }
}
