//! `newsgraph serve`: a [SPARQL 1.1 Protocol](https://www.w3.org/TR/sparql11-protocol/)
//! endpoint over the store.
//!
//! - `GET /sparql?query=…` and `POST /sparql` with a `query=` form or an
//!   `application/sparql-query` body (also under `/query` and `/`);
//!   `default-graph-uri` / `named-graph-uri` choose the dataset, otherwise
//!   the default graph is the union of the documents' graphs, as for
//!   `newsgraph query`, and the same prefixes are predeclared.
//! - Results by content negotiation (`Accept`, or a `format=` parameter):
//!   SPARQL JSON (default), XML, CSV and TSV for SELECT and ASK; Turtle
//!   (default), N-Triples, JSON-LD and RDF/XML for CONSTRUCT and DESCRIBE.
//! - Updates (`update=` form or an `application/sparql-update` body, on
//!   `/sparql` or `/update`) only when the server was started with
//!   [`ServeOptions::allow_update`]; otherwise 403.
//! - Limits: a query running longer than [`ServeOptions::timeout`] is
//!   cancelled and answered 503; results larger than
//!   [`ServeOptions::max_result_bytes`] and request bodies larger than
//!   [`ServeOptions::max_request_bytes`] are answered 413; a query that does
//!   not parse is answered 400 with the parser's message (line and column).
//! - CORS: every answer allows any origin, `OPTIONS` answers pre-flights,
//!   so browser tools such as YASGUI can use the endpoint.
//! - `GET /` without a query is a small HTML page with a query box.
//!
//! The HTTP layer is [`tiny_http`]: Oxigraph evaluates queries
//! synchronously and CPU-bound, so a fixed pool of worker threads that pull
//! requests from tiny_http's queue is the whole concurrency model — no async
//! runtime, few dependencies. Results are serialised into memory first
//! (bounded by the size limit), so a timeout or an oversized result is
//! still answered with a proper status code rather than a cut-off body.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::model::{GraphName, NamedNode, NamedOrBlankNode};
use oxigraph::sparql::results::{QueryResultsFormat, QueryResultsSerializer};
use oxigraph::sparql::{CancellationToken, QueryEvaluationError, QueryResults, SparqlEvaluator};
use tiny_http::{Header, Method, Request, Response};

use crate::query::parse_query;
use crate::store::{GraphStore, PREFIXES};
use crate::{Error, Result};

/// How [`SparqlServer`] listens and what it allows.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:7878`; port 0 picks a free port).
    pub bind: String,
    /// Accept SPARQL updates (otherwise they are refused with 403).
    pub allow_update: bool,
    /// A query (evaluation and serialisation) running longer is cancelled.
    pub timeout: Duration,
    /// Larger results are refused with 413.
    pub max_result_bytes: usize,
    /// Larger request bodies (and query strings) are refused with 413.
    pub max_request_bytes: usize,
    /// Worker threads, i.e. requests evaluated at the same time.
    pub threads: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: "127.0.0.1:7878".into(),
            allow_update: false,
            timeout: Duration::from_secs(30),
            max_result_bytes: 64 << 20,
            max_request_bytes: 16 << 20,
            threads: 8,
        }
    }
}

/// Stops a running [`SparqlServer`]: requests being answered are finished,
/// then [`SparqlServer::run`] returns.
#[derive(Debug, Clone)]
pub struct ShutdownHandle(Arc<AtomicBool>);

impl ShutdownHandle {
    /// Asks the server to stop.
    pub fn shutdown(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a server did, returned by [`SparqlServer::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeSummary {
    /// Requests answered.
    pub requests: u64,
    /// Queries answered with results.
    pub queries: u64,
    /// Updates applied.
    pub updates: u64,
}

/// A SPARQL endpoint bound to its address, ready to [`run`](Self::run).
pub struct SparqlServer {
    http: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    addr: Option<SocketAddr>,
}

impl fmt::Debug for SparqlServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SparqlServer")
            .field("addr", &self.addr)
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

struct Shared {
    store: GraphStore,
    options: ServeOptions,
    shutdown: ShutdownHandle,
    requests: AtomicU64,
    queries: AtomicU64,
    updates: AtomicU64,
}

impl SparqlServer {
    /// Binds the listening socket; nothing is answered before
    /// [`run`](Self::run).
    pub fn bind(store: GraphStore, options: ServeOptions) -> Result<Self> {
        let http = tiny_http::Server::http(options.bind.as_str())
            .map_err(|e| Error::Server(format!("cannot listen on {}: {e}", options.bind)))?;
        let addr = http.server_addr().to_ip();
        Ok(SparqlServer {
            http: Arc::new(http),
            shared: Arc::new(Shared {
                store,
                options,
                shutdown: ShutdownHandle(Arc::new(AtomicBool::new(false))),
                requests: AtomicU64::new(0),
                queries: AtomicU64::new(0),
                updates: AtomicU64::new(0),
            }),
            addr,
        })
    }

    /// The address the server listens on (with the real port when the
    /// options asked for port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// A handle that stops the server, for a signal handler or a test.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shared.shutdown.clone()
    }

    /// Answers requests until [`ShutdownHandle::shutdown`] is called; then
    /// finishes the requests in progress and returns.
    pub fn run(self) -> Result<ServeSummary> {
        let threads = self.shared.options.threads.max(1);
        let mut workers = Vec::with_capacity(threads);
        for n in 0..threads {
            let http = Arc::clone(&self.http);
            let shared = Arc::clone(&self.shared);
            let worker = thread::Builder::new()
                .name(format!("sparql-{n}"))
                .spawn(move || {
                    while !shared.shutdown.is_shutting_down() {
                        match http.recv_timeout(Duration::from_millis(100)) {
                            Ok(Some(request)) => {
                                // A panic answering one request must not
                                // take the worker down (the client sees
                                // its connection close).
                                let _ =
                                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                        shared.handle(request)
                                    }));
                            }
                            Ok(None) => {}
                            // A connection that failed before a request
                            // was read: nothing to answer.
                            Err(_) => {}
                        }
                    }
                })
                .map_err(|e| Error::Server(format!("cannot start a worker thread: {e}")))?;
            workers.push(worker);
        }
        let mut panicked = 0;
        for w in workers {
            if w.join().is_err() {
                panicked += 1;
            }
        }
        if panicked > 0 {
            return Err(Error::Server(format!(
                "{panicked} worker thread(s) panicked"
            )));
        }
        Ok(ServeSummary {
            requests: self.shared.requests.load(Ordering::SeqCst),
            queries: self.shared.queries.load(Ordering::SeqCst),
            updates: self.shared.updates.load(Ordering::SeqCst),
        })
    }
}

/// An answer before it is sent.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Reply {
            status,
            content_type,
            body,
            headers: Vec::new(),
        }
    }

    /// A plain-text error answer.
    fn error(status: u16, message: impl fmt::Display) -> Self {
        let mut text = message.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Reply::new(status, "text/plain; charset=utf-8", text.into_bytes())
    }

    fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// `Accept`-style media type lists: `(media type, q)` in preference order.
fn parse_accept(accept: &str) -> Vec<String> {
    let mut items: Vec<(String, f32, usize)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            if media.is_empty() {
                return None;
            }
            let mut q = 1.0;
            for p in parts {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            (q > 0.0).then_some((media, q, i))
        })
        .collect();
    items.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    items.into_iter().map(|(m, _, _)| m).collect()
}

/// Picks the first offer the client accepts (`offers[0]` is the default
/// for `*/*` and for no `Accept` at all).
fn negotiate<T: Copy>(accept: Option<&str>, offers: &[(&str, T)]) -> Option<T> {
    let default = offers.first()?.1;
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(default);
    };
    for media in parse_accept(accept) {
        if media == "*/*" || media == "*" {
            return Some(default);
        }
        if let Some(main) = media.strip_suffix("/*") {
            if let Some((_, f)) = offers
                .iter()
                .find(|(m, _)| m.split('/').next() == Some(main))
            {
                return Some(*f);
            }
            continue;
        }
        if let Some((_, f)) = offers.iter().find(|(m, _)| *m == media) {
            return Some(*f);
        }
    }
    None
}

const SOLUTION_OFFERS: [(&str, QueryResultsFormat); 9] = [
    ("application/sparql-results+json", QueryResultsFormat::Json),
    ("application/json", QueryResultsFormat::Json),
    ("text/javascript", QueryResultsFormat::Json),
    ("application/sparql-results+xml", QueryResultsFormat::Xml),
    ("application/xml", QueryResultsFormat::Xml),
    ("text/xml", QueryResultsFormat::Xml),
    ("text/csv", QueryResultsFormat::Csv),
    ("text/tab-separated-values", QueryResultsFormat::Tsv),
    ("text/plain", QueryResultsFormat::Tsv),
];

const JSON_LD: RdfFormat = RdfFormat::JsonLd {
    profile: oxigraph::io::JsonLdProfileSet::empty(),
};

const GRAPH_OFFERS: [(&str, RdfFormat); 11] = [
    ("text/turtle", RdfFormat::Turtle),
    ("application/turtle", RdfFormat::Turtle),
    ("application/x-turtle", RdfFormat::Turtle),
    ("application/n-triples", RdfFormat::NTriples),
    ("text/plain", RdfFormat::NTriples),
    ("application/ld+json", JSON_LD),
    ("application/json", JSON_LD),
    ("application/rdf+xml", RdfFormat::RdfXml),
    ("application/xml", RdfFormat::RdfXml),
    ("text/xml", RdfFormat::RdfXml),
    ("text/n3", RdfFormat::N3),
];

/// The media type a `format=` parameter stands for (`json`, `csv`,
/// `turtle`, … or a media type itself).
fn format_parameter(value: &str, graph: bool) -> Option<&'static str> {
    let v = value.trim().to_ascii_lowercase();
    let known: &[(&str, &str)] = if graph {
        &[
            ("turtle", "text/turtle"),
            ("ttl", "text/turtle"),
            ("ntriples", "application/n-triples"),
            ("n-triples", "application/n-triples"),
            ("nt", "application/n-triples"),
            ("jsonld", "application/ld+json"),
            ("json-ld", "application/ld+json"),
            ("json", "application/ld+json"),
            ("rdfxml", "application/rdf+xml"),
            ("rdf+xml", "application/rdf+xml"),
            ("xml", "application/rdf+xml"),
        ]
    } else {
        &[
            ("json", "application/sparql-results+json"),
            ("xml", "application/sparql-results+xml"),
            ("csv", "text/csv"),
            ("tsv", "text/tab-separated-values"),
        ]
    };
    known
        .iter()
        .find(|(k, _)| *k == v)
        .map(|(_, m)| *m)
        .or_else(|| {
            let offers: Vec<&'static str> = if graph {
                GRAPH_OFFERS.iter().map(|(m, _)| *m).collect()
            } else {
                SOLUTION_OFFERS.iter().map(|(m, _)| *m).collect()
            };
            offers.into_iter().find(|m| *m == v)
        })
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Results larger than the limit: the marker inside the `io::Error`.
#[derive(Debug)]
struct TooLarge;

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("result too large")
    }
}

impl std::error::Error for TooLarge {}

/// A `Vec<u8>` writer that refuses to grow past `max` bytes.
struct Limited {
    buf: Vec<u8>,
    max: usize,
}

impl Write for Limited {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len().saturating_add(data.len()) > self.max {
            return Err(io::Error::other(TooLarge));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a query produced no answer.
enum Failure {
    TooLarge,
    Timeout,
    Evaluation(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<TooLarge>()) {
            Failure::TooLarge
        } else {
            Failure::Evaluation(format!("cannot write the results: {e}"))
        }
    }
}

impl From<QueryEvaluationError> for Failure {
    fn from(e: QueryEvaluationError) -> Self {
        match e {
            QueryEvaluationError::Cancelled => Failure::Timeout,
            other => Failure::Evaluation(other.to_string()),
        }
    }
}

/// The parameters of one request: from the URL and, for a form POST, from
/// the body.
#[derive(Default)]
struct Params {
    query: Vec<String>,
    update: Vec<String>,
    default_graphs: Vec<String>,
    named_graphs: Vec<String>,
    format: Option<String>,
}

impl Params {
    fn add(&mut self, pairs: Vec<(String, String)>) {
        for (k, v) in pairs {
            match k.as_str() {
                "query" => self.query.push(v),
                "update" => self.update.push(v),
                "default-graph-uri" | "using-graph-uri" => self.default_graphs.push(v),
                "named-graph-uri" | "using-named-graph-uri" => self.named_graphs.push(v),
                "format" | "output" => self.format = Some(v),
                _ => {}
            }
        }
    }
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

const CORS_HEADERS: [(&str, &str); 3] = [
    ("Access-Control-Allow-Origin", "*"),
    (
        "Access-Control-Expose-Headers",
        "Content-Type, Content-Length",
    ),
    ("X-Content-Type-Options", "nosniff"),
];

impl Shared {
    fn handle(&self, mut request: Request) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let reply = self.route(&mut request);
        let mut response = Response::from_data(reply.body).with_status_code(reply.status);
        let mut headers: Vec<(&str, String)> = vec![("Content-Type", reply.content_type.into())];
        headers.extend(CORS_HEADERS.iter().map(|(k, v)| (*k, v.to_string())));
        headers.extend(reply.headers);
        for (name, value) in headers {
            if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(h);
            }
        }
        // The client may have gone away: nothing left to do then.
        let _ = request.respond(response);
    }

    fn route(&self, request: &mut Request) -> Reply {
        let url = request.url().to_string();
        let (path, query_string) = url.split_once('?').unwrap_or((url.as_str(), ""));
        if query_string.len() > self.options.max_request_bytes {
            return Reply::error(413, "the query string is too long");
        }
        let method = request.method().clone();
        if method == Method::Options {
            let allow_headers = header(request, "Access-Control-Request-Headers")
                .unwrap_or("Content-Type, Accept, Authorization")
                .to_string();
            return Reply::new(204, "text/plain; charset=utf-8", Vec::new())
                .with_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                .with_header("Access-Control-Allow-Headers", allow_headers)
                .with_header("Access-Control-Max-Age", "86400")
                .with_header("Allow", "GET, POST, OPTIONS");
        }
        if !matches!(path, "/" | "/sparql" | "/query" | "/update") {
            return Reply::error(
                404,
                format!("no such resource {path}: the SPARQL endpoint is /sparql"),
            );
        }
        let mut params = Params::default();
        params.add(parse_form(query_string));
        match method {
            Method::Get => {
                if !params.update.is_empty() {
                    return Reply::error(405, "updates must be sent with POST")
                        .with_header("Allow", "POST, OPTIONS");
                }
                if params.query.is_empty() {
                    return if path == "/" {
                        Reply::new(200, "text/html; charset=utf-8", html_page().into_bytes())
                    } else {
                        Reply::error(400, "give a SPARQL query in the query= parameter")
                    };
                }
            }
            Method::Post => {
                let content_type = header(request, "Content-Type")
                    .unwrap_or("")
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                let body = match self.read_body(request) {
                    Ok(body) => body,
                    Err(reply) => return *reply,
                };
                match content_type.as_str() {
                    "application/x-www-form-urlencoded" => params.add(parse_form(&body)),
                    "application/sparql-query" => params.query.push(body),
                    "application/sparql-update" => params.update.push(body),
                    other => {
                        return Reply::error(
                            415,
                            format!(
                            "unsupported Content-Type `{other}`: send application/sparql-query, \
                                 application/sparql-update or application/x-www-form-urlencoded"
                        ),
                        )
                    }
                }
            }
            other => {
                return Reply::error(405, format!("method {other} is not allowed"))
                    .with_header("Allow", "GET, POST, OPTIONS")
            }
        }
        match (params.query.len(), params.update.len()) {
            (1, 0) if path != "/update" => {
                let accept = header(request, "Accept").map(str::to_string);
                self.query(&params, accept.as_deref())
            }
            (0, 1) if path != "/query" => self.update(&params),
            (0, 0) => Reply::error(400, "give a query (query=) or an update (update=)"),
            (1, 0) => Reply::error(400, "/update takes updates, not queries"),
            (0, 1) => Reply::error(400, "/query takes queries, not updates"),
            _ => Reply::error(400, "give exactly one query or one update"),
        }
    }

    fn read_body(&self, request: &mut Request) -> std::result::Result<String, Box<Reply>> {
        let max = self.options.max_request_bytes;
        let too_large = || {
            Box::new(
                Reply::error(413, format!("the request body is larger than {max} bytes"))
                    .with_header("Connection", "close"),
            )
        };
        if request.body_length().is_some_and(|n| n > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        request
            .as_reader()
            .take(max as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| Box::new(Reply::error(400, format!("cannot read the request: {e}"))))?;
        if body.len() > max {
            return Err(too_large());
        }
        String::from_utf8(body)
            .map_err(|_| Box::new(Reply::error(400, "the request body is not UTF-8")))
    }

    fn query(&self, params: &Params, accept: Option<&str>) -> Reply {
        let text = &params.query[0];
        let parsed = match parse_query(text, &[]) {
            Ok(q) => q,
            Err(Error::Query(message)) => return Reply::error(400, message),
            Err(e) => return Reply::error(400, e),
        };
        let graph = matches!(
            parsed,
            spargebra::Query::Construct { .. } | spargebra::Query::Describe { .. }
        );
        let explicit = params
            .format
            .as_deref()
            .and_then(|f| format_parameter(f, graph));
        let accept = explicit.or(accept);
        let token = CancellationToken::new();
        let mut prepared = SparqlEvaluator::new()
            .with_cancellation_token(token.clone())
            .for_query(parsed);
        if !params.default_graphs.is_empty() || !params.named_graphs.is_empty() {
            let mut default = Vec::new();
            for g in &params.default_graphs {
                match NamedNode::new(g) {
                    Ok(n) => default.push(GraphName::NamedNode(n)),
                    Err(e) => return Reply::error(400, format!("default-graph-uri `{g}`: {e}")),
                }
            }
            let mut named = Vec::new();
            for g in &params.named_graphs {
                match NamedNode::new(g) {
                    Ok(n) => named.push(NamedOrBlankNode::NamedNode(n)),
                    Err(e) => return Reply::error(400, format!("named-graph-uri `{g}`: {e}")),
                }
            }
            let dataset = prepared.dataset_mut();
            dataset.set_default_graph(default);
            if !named.is_empty() {
                dataset.set_available_named_graphs(named);
            }
        } else if prepared.dataset().is_default_dataset() {
            prepared.dataset_mut().set_default_graph_as_union();
        }

        // The watchdog cancels the query when it runs past the timeout; it
        // ends as soon as the query does (`done` is dropped).
        let (done, watch) = mpsc::channel::<()>();
        let timeout = self.options.timeout;
        let watchdog_token = token.clone();
        let watchdog = thread::Builder::new()
            .name("sparql-timeout".into())
            .spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = watch.recv_timeout(timeout) {
                    watchdog_token.cancel();
                }
            });
        if let Err(e) = watchdog {
            return Reply::error(503, format!("cannot start the query timer: {e}"));
        }
        let mut out = Limited {
            buf: Vec::new(),
            max: self.options.max_result_bytes,
        };
        let result = prepared
            .on_store(self.store.inner())
            .execute()
            .map_err(Failure::from)
            .and_then(|results| write_results(results, accept, &mut out));
        drop(done);
        match result {
            Ok(Some(content_type)) => {
                self.queries.fetch_add(1, Ordering::Relaxed);
                Reply::new(200, content_type, out.buf).with_header("Vary", "Accept")
            }
            Ok(None) => Reply::error(
                406,
                format!(
                    "cannot give the results as {}: for SELECT and ASK ask for {}; \
                     for CONSTRUCT and DESCRIBE for {}",
                    accept.unwrap_or("?"),
                    "application/sparql-results+json, application/sparql-results+xml, text/csv or text/tab-separated-values",
                    "text/turtle, application/n-triples, application/ld+json or application/rdf+xml"
                ),
            ),
            Err(Failure::TooLarge) => Reply::error(
                413,
                format!(
                    "the results are larger than {} bytes: add a LIMIT, or start the server with a larger --max-result-bytes",
                    self.options.max_result_bytes
                ),
            ),
            Err(Failure::Timeout) => Reply::error(
                503,
                format!(
                    "the query ran longer than {:.3} s and was cancelled: narrow it down, or start the server with a longer --timeout",
                    timeout.as_secs_f64()
                ),
            )
            .with_header("Retry-After", "1"),
            Err(Failure::Evaluation(message)) => {
                Reply::error(500, format!("evaluation failed: {message}"))
            }
        }
    }

    fn update(&self, params: &Params) -> Reply {
        if !self.options.allow_update {
            return Reply::error(
                403,
                "this endpoint is read-only: start `newsgraph serve --allow-update` to accept updates",
            );
        }
        let text = &params.update[0];
        let mut evaluator = SparqlEvaluator::new();
        for (prefix, iri) in PREFIXES {
            evaluator = match evaluator.with_prefix(prefix, iri) {
                Ok(e) => e,
                Err(e) => return Reply::error(500, format!("prefix {prefix}: {e}")),
            };
        }
        let prepared = match evaluator.parse_update(text) {
            Ok(u) => u,
            Err(e) => {
                return Reply::error(
                    400,
                    crate::query::describe_syntax_error(text, &e.to_string()),
                )
            }
        };
        match prepared.on_store(self.store.inner()).execute() {
            Ok(()) => {
                self.updates.fetch_add(1, Ordering::Relaxed);
                Reply::new(204, "text/plain; charset=utf-8", Vec::new())
            }
            Err(e) => Reply::error(500, format!("update failed: {e}")),
        }
    }
}

/// Serialises the results in the negotiated format; `Ok(None)` when the
/// client accepts none of the formats for this kind of result.
fn write_results(
    results: QueryResults<'_>,
    accept: Option<&str>,
    out: &mut Limited,
) -> std::result::Result<Option<&'static str>, Failure> {
    match results {
        QueryResults::Boolean(value) => {
            let Some(format) = negotiate(accept, &SOLUTION_OFFERS) else {
                return Ok(None);
            };
            QueryResultsSerializer::from_format(format)
                .serialize_boolean_to_writer(&mut *out, value)?;
            Ok(Some(format.media_type()))
        }
        QueryResults::Solutions(solutions) => {
            let Some(format) = negotiate(accept, &SOLUTION_OFFERS) else {
                return Ok(None);
            };
            let mut writer = QueryResultsSerializer::from_format(format)
                .serialize_solutions_to_writer(&mut *out, solutions.variables().to_vec())?;
            for solution in solutions {
                writer.serialize(&solution?)?;
            }
            writer.finish()?;
            Ok(Some(format.media_type()))
        }
        QueryResults::Graph(triples) => {
            let Some(format) = negotiate(accept, &GRAPH_OFFERS) else {
                return Ok(None);
            };
            let mut serializer = RdfSerializer::from_format(format);
            if matches!(
                format,
                RdfFormat::Turtle | RdfFormat::N3 | RdfFormat::RdfXml
            ) {
                for (prefix, iri) in PREFIXES {
                    serializer = serializer
                        .with_prefix(prefix, iri)
                        .map_err(|e| Failure::Evaluation(format!("prefix {prefix}: {e}")))?;
                }
            }
            let mut writer = serializer.for_writer(&mut *out);
            for triple in triples {
                writer.serialize_triple(&triple?)?;
            }
            writer.finish()?;
            Ok(Some(format.media_type()))
        }
    }
}

/// The ready-made questions of `examples/queries/`, offered on the page.
const EXAMPLES: [(&str, &str); 7] = [
    (
        "mou-partners",
        include_str!("../examples/queries/mou-partners.rq"),
    ),
    (
        "sector-organisations",
        include_str!("../examples/queries/sector-organisations.rq"),
    ),
    (
        "committee-chairs",
        include_str!("../examples/queries/committee-chairs.rq"),
    ),
    (
        "task-force-members",
        include_str!("../examples/queries/task-force-members.rq"),
    ),
    (
        "city-sectors",
        include_str!("../examples/queries/city-sectors.rq"),
    ),
    (
        "edge-evidence",
        include_str!("../examples/queries/edge-evidence.rq"),
    ),
    (
        "facts-first-seen",
        include_str!("../examples/queries/facts-first-seen.rq"),
    ),
];

/// The page at `/`: a query box that posts to `/sparql` and shows the
/// results as a table (or as text for graphs and other formats).
fn html_page() -> String {
    let examples: serde_json::Map<String, serde_json::Value> = EXAMPLES
        .iter()
        .map(|(name, text)| ((*name).to_string(), serde_json::Value::from(*text)))
        .collect();
    // `</` inside a script element would end it.
    let examples = serde_json::Value::Object(examples)
        .to_string()
        .replace("</", "<\\/");
    PAGE.replace("__EXAMPLES__", &examples)
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<title>newsgraph SPARQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: system-ui, "Noto Sans CJK KR", sans-serif; margin: 1.5rem; max-width: 70rem; }
textarea { width: 100%; height: 16rem; font-family: ui-monospace, monospace; font-size: 0.9rem; }
table { border-collapse: collapse; margin-top: 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
pre { background: #f7f7f7; padding: 0.5rem; overflow: auto; }
.error { color: #a00; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>newsgraph SPARQL</h1>
<p>The endpoint is <code>/sparql</code> (SPARQL 1.1 Protocol); <code>/?example=NAME</code> opens and runs a ready-made question. Prefixes <code>ng: id: doc: rdf: rdfs: xsd: skos: dcterms: prov: owl:</code> are predeclared; the default graph is the union of all documents.</p>
<form id="form">
<label>Example: <select id="example"><option value="">—</option></select></label>
<label>Results: <select id="accept">
<option value="application/sparql-results+json">table (JSON)</option>
<option value="text/csv">CSV</option>
<option value="text/tab-separated-values">TSV</option>
<option value="application/sparql-results+xml">XML</option>
<option value="text/turtle">Turtle (CONSTRUCT)</option>
<option value="application/ld+json">JSON-LD (CONSTRUCT)</option>
</select></label>
<textarea id="query" name="query" spellcheck="false">SELECT ?org ?label WHERE { ?org a ng:Organization ; rdfs:label ?label } ORDER BY ?label LIMIT 20</textarea>
<button type="submit">Run</button> <span id="status"></span>
</form>
<div id="out"></div>
<script>
const EXAMPLES = __EXAMPLES__;
const sel = document.getElementById("example");
for (const name of Object.keys(EXAMPLES)) {
  const o = document.createElement("option"); o.value = name; o.textContent = name; sel.appendChild(o);
}
sel.addEventListener("change", () => { if (sel.value) document.getElementById("query").value = EXAMPLES[sel.value]; });
function cell(term) {
  if (!term) return "";
  return term.value;
}
document.getElementById("form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.getElementById("out"), status = document.getElementById("status");
  const accept = document.getElementById("accept").value;
  out.textContent = ""; status.textContent = "running…";
  const started = performance.now();
  try {
    const resp = await fetch("sparql", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": accept },
      body: "query=" + encodeURIComponent(document.getElementById("query").value),
    });
    const text = await resp.text();
    status.textContent = resp.status + " · " + Math.round(performance.now() - started) + " ms";
    if (!resp.ok) { const p = document.createElement("p"); p.className = "error"; p.textContent = text; out.appendChild(p); return; }
    const type = resp.headers.get("Content-Type") || "";
    if (type.startsWith("application/sparql-results+json")) {
      const data = JSON.parse(text);
      if ("boolean" in data) { out.textContent = String(data.boolean); return; }
      const table = document.createElement("table");
      const head = table.insertRow();
      for (const v of data.head.vars) { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); }
      for (const b of data.results.bindings) {
        const row = table.insertRow();
        for (const v of data.head.vars) row.insertCell().textContent = cell(b[v]);
      }
      const n = document.createElement("p"); n.textContent = data.results.bindings.length + " rows";
      out.appendChild(n); out.appendChild(table);
    } else {
      const pre = document.createElement("pre"); pre.textContent = text; out.appendChild(pre);
    }
  } catch (e) {
    status.textContent = "failed: " + e;
  }
});
// `/?example=mou-partners` opens and runs a ready-made question.
const wanted = new URLSearchParams(location.search).get("example");
if (wanted && EXAMPLES[wanted]) {
  sel.value = wanted;
  document.getElementById("query").value = EXAMPLES[wanted];
  document.getElementById("form").requestSubmit();
}
</script>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded() {
        assert_eq!(
            parse_form("query=SELECT+%3Fs%20WHERE+%7B%7D&x=%E2%9C%93&bad=%zz&end=%4"),
            vec![
                ("query".to_string(), "SELECT ?s WHERE {}".to_string()),
                ("x".to_string(), "✓".to_string()),
                ("bad".to_string(), "%zz".to_string()),
                ("end".to_string(), "%4".to_string()),
            ]
        );
    }

    #[test]
    fn accept_headers_are_negotiated() {
        let n = |a: Option<&str>| negotiate(a, &SOLUTION_OFFERS);
        assert_eq!(n(None), Some(QueryResultsFormat::Json));
        assert_eq!(n(Some("*/*")), Some(QueryResultsFormat::Json));
        assert_eq!(n(Some("text/csv")), Some(QueryResultsFormat::Csv));
        assert_eq!(
            n(Some("text/csv;q=0.5, application/sparql-results+xml")),
            Some(QueryResultsFormat::Xml)
        );
        assert_eq!(
            n(Some("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")),
            Some(QueryResultsFormat::Json)
        );
        assert_eq!(n(Some("image/png")), None);
        assert_eq!(
            negotiate(Some("application/ld+json"), &GRAPH_OFFERS),
            Some(JSON_LD)
        );
        assert_eq!(
            negotiate(Some("text/*"), &GRAPH_OFFERS),
            Some(RdfFormat::Turtle)
        );
    }

    #[test]
    fn results_stop_at_the_limit() {
        let mut out = Limited {
            buf: Vec::new(),
            max: 4,
        };
        assert!(out.write_all(b"abcd").is_ok());
        let err = out.write_all(b"e").map_err(Failure::from);
        assert!(matches!(err, Err(Failure::TooLarge)));
    }
}
