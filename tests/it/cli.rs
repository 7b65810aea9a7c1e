//! The real `newsgraph` binary, end to end, on the seed articles, with an
//! on-disk store in a temporary directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use oxigraph::io::{RdfFormat, RdfParser};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "exit code; stderr:\n{}", self.stderr);
        self
    }
}

fn newsgraph<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .args(args)
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

fn seed_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(seeds())
        .expect("seeds/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

fn gold() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gold/seeds")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Builds the seeds into `<tmp>/db`, returning the store path.
fn build_seeds(tmp: &Path) -> PathBuf {
    let db = tmp.join("db");
    newsgraph(["--store", s(&db), "build", s(&seeds())]).ok();
    db
}

fn stats_value(stdout: &str, key: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some(key)).then(|| parts.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no `{key}` in\n{stdout}"))
}

#[test]
fn build_then_stats_query_and_export() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let out = tmp.path().join("out");
    let run = newsgraph(["--store", s(&db), "build", s(&seeds()), "--export", s(&out)]).ok();
    let n = seed_files().len();
    assert!(
        run.stderr.contains(&format!("built {n} documents: ")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("relations in "), "{}", run.stderr);
    assert!(run.stderr.contains(s(&db)), "{}", run.stderr);

    // --export wrote the CSV pair and Turtle.
    let nodes = std::fs::read_to_string(out.join("nodes.csv")).unwrap();
    assert!(
        nodes.starts_with("id,label,type,aliases,documents"),
        "{nodes}"
    );
    assert!(nodes.lines().count() > 1, "the seeds have entities");
    let edges = std::fs::read_to_string(out.join("edges.csv")).unwrap();
    assert!(
        edges.starts_with("source,target,relation,source_label,target_label,documents,weight"),
        "{edges}"
    );
    assert!(edges.lines().count() > 1, "the seeds have relations");
    let ttl = std::fs::read(out.join("graph.ttl")).unwrap();
    let triples = RdfParser::from_format(RdfFormat::Turtle)
        .for_reader(ttl.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert!(!triples.is_empty());

    // stats
    let stats = newsgraph(["--store", s(&db), "stats"]).ok();
    assert_eq!(stats_value(&stats.stdout, "documents"), n);
    assert!(stats_value(&stats.stdout, "entities") > 0);
    assert!(stats_value(&stats.stdout, "relations") > 0);
    let quads = stats_value(&stats.stdout, "quads");

    // Rebuilding the same inputs replaces, never duplicates.
    newsgraph(["-q", "--store", s(&db), "build", s(&seeds())]).ok();
    let again = newsgraph(["--store", s(&db), "stats"]).ok();
    assert_eq!(stats_value(&again.stdout, "quads"), quads);
    assert_eq!(stats_value(&again.stdout, "documents"), n);

    // query: table (default), csv, json, from a file.
    let q = "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a ng:Document }";
    let table = newsgraph(["--store", s(&db), "query", q]).ok();
    assert!(table.stdout.contains("1 row"), "{}", table.stdout);
    assert!(
        table.stdout.lines().any(|l| l.trim() == n.to_string()),
        "{}",
        table.stdout
    );
    let csv = newsgraph(["--store", s(&db), "query", q, "--results", "csv"]).ok();
    assert_eq!(
        csv.stdout.lines().map(str::trim).collect::<Vec<_>>(),
        ["n", &n.to_string()]
    );
    let qfile = tmp.path().join("q.rq");
    std::fs::write(
        &qfile,
        "SELECT ?label WHERE { ?e a ng:Organization ; rdfs:label ?label } ORDER BY ?label",
    )
    .unwrap();
    let json = newsgraph([
        "--store",
        s(&db),
        "query",
        "--file",
        s(&qfile),
        "--results",
        "json",
    ])
    .ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(!v["results"]["bindings"].as_array().unwrap().is_empty());
    let construct = newsgraph([
        "--store",
        s(&db),
        "query",
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o . ?s a ng:Person }",
        "--results",
        "ntriples",
    ])
    .ok();
    assert!(construct.stdout.lines().all(|l| l.ends_with(" .")));

    // export in every format.
    let csv_dir = tmp.path().join("csv");
    newsgraph([
        "--store",
        s(&db),
        "export",
        "--format",
        "csv",
        "--out",
        s(&csv_dir),
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(csv_dir.join("nodes.csv")).unwrap(),
        nodes,
        "export and build --export agree"
    );
    for (format, rdf) in [
        ("turtle", RdfFormat::Turtle),
        ("ntriples", RdfFormat::NTriples),
        ("nquads", RdfFormat::NQuads),
        ("trig", RdfFormat::TriG),
    ] {
        let path = tmp.path().join(format!("all.{format}"));
        newsgraph([
            "--store",
            s(&db),
            "export",
            "--format",
            format,
            "--out",
            s(&path),
        ])
        .ok();
        let parsed = RdfParser::from_format(rdf)
            .for_reader(std::fs::File::open(&path).unwrap())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert!(!parsed.is_empty(), "{format}");
        if rdf.supports_datasets() {
            assert_eq!(parsed.len(), quads, "{format} holds every quad");
        }
    }
    let stdout = newsgraph([
        "--store",
        s(&db),
        "export",
        "--format",
        "nquads",
        "--out",
        "-",
    ])
    .ok();
    assert_eq!(stdout.stdout.lines().count(), quads);
}

#[test]
fn extract_prints_rdf_without_a_store() {
    let tmp = tempfile::tempdir().unwrap();
    let file = &seed_files()[2];
    let db = tmp.path().join("never");
    let nq = newsgraph(["--store", s(&db), "extract", s(file)]).ok();
    assert!(!db.exists(), "extract must not create a store");
    let quads = RdfParser::from_format(RdfFormat::NQuads)
        .for_reader(nq.stdout.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert!(quads.iter().all(|q| !q.graph_name.is_default_graph()));
    assert!(nq
        .stdout
        .contains("<https://w3id.org/newsgraph/ontology#Document>"));

    for (format, rdf) in [("turtle", RdfFormat::Turtle), ("trig", RdfFormat::TriG)] {
        let run = newsgraph(["extract", "--format", format, s(file)]).ok();
        let parsed = RdfParser::from_format(rdf)
            .for_reader(run.stdout.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(parsed.len(), quads.len(), "{format}");
    }
}

#[test]
fn eval_scores_the_seeds() {
    let gold = gold();
    assert!(gold.is_dir(), "gold files expected in {}", gold.display());
    let run = newsgraph(["eval", "--gold", s(&gold), s(&seeds())]).ok();
    assert!(!run.stdout.trim().is_empty());
    let json = newsgraph(["eval", "--gold", s(&gold), "--json", s(&seeds())]).ok();
    let _: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON report");
    let verbose = newsgraph(["eval", "--gold", s(&gold), "--verbose", s(&seeds())]).ok();
    assert!(verbose.stdout.len() >= run.stdout.len());
}

#[test]
fn a_missing_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-article.txt");
    let db = tmp.path().join("db");
    let run = newsgraph(["--store", s(&db), "build", s(&missing)]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("no-such-article.txt"), "{}", run.stderr);
    let run = newsgraph(["extract", s(&missing)]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("no-such-article.txt"), "{}", run.stderr);
}

/// An input that cannot be read even by root (a dangling symlink) is
/// skipped with a message naming it; the rest is stored; the exit code is 1.
#[test]
fn an_unreadable_input_is_skipped_and_the_rest_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(&seed_files()[0], input.join("good.txt")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("vanished.txt"), input.join("dangling.txt"))
        .unwrap();
    let db = tmp.path().join("db");
    let run = newsgraph(["--store", s(&db), "build", s(&input)]);
    assert_eq!(run.code, 1, "stderr:\n{}", run.stderr);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("newsgraph: skipped ") && l.contains("dangling.txt")),
        "{}",
        run.stderr
    );
    let stats = newsgraph(["--store", s(&db), "stats"]).ok();
    assert_eq!(stats_value(&stats.stdout, "documents"), 1);
}

#[test]
fn bad_sparql_shows_the_parser_error() {
    let run = newsgraph(["--in-memory", "query", "SELECT ?x WHERE { ?x ?y }"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("SPARQL"), "{}", run.stderr);
    assert!(
        run.stderr.contains("line 1, column 26"),
        "position expected: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn a_corrupt_store_is_reported_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    std::fs::create_dir(&db).unwrap();
    std::fs::write(db.join("CURRENT"), "garbage\n").unwrap();
    std::fs::write(db.join("MANIFEST-000001"), b"\x00\xffjunk").unwrap();
    for args in [
        vec!["stats"],
        vec!["query", "ASK {}"],
        vec!["export", "--format", "nquads", "--out", "-"],
        vec!["build", s(&seeds())],
    ] {
        let mut all = vec!["--store", s(&db)];
        all.extend(args.iter().copied());
        let run = newsgraph(&all);
        assert_ne!(run.code, 0, "{args:?}");
        assert!(run.stderr.contains("corrupt"), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(s(&db)), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_directory_that_is_not_a_store_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("thesis.txt"), "do not touch").unwrap();
    let run = newsgraph(["--store", s(tmp.path()), "build", s(&seeds())]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("not a newsgraph store"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn reading_commands_need_an_existing_store() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("nothing-here");
    for args in [
        vec!["stats"],
        vec!["query", "ASK {}"],
        vec!["export", "--out", "x"],
        vec!["optimize"],
    ] {
        let mut all = vec!["--store", s(&db)];
        all.extend(args.iter().copied());
        let run = newsgraph(&all);
        assert_ne!(run.code, 0, "{args:?}");
        assert!(run.stderr.contains("no store at"), "{}", run.stderr);
        assert!(run.stderr.contains("newsgraph build"), "{}", run.stderr);
        assert!(!db.exists(), "{args:?} created a store");
    }
}

#[test]
fn optimize_compacts_the_store_and_keeps_every_quad() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    // One build per seed: every build ingests files of its own.
    for seed in seed_files() {
        newsgraph(["-q", "--store", s(&db), "build", s(&seed)]).ok();
    }
    let quads = crate::common::store_quads(&db);
    assert!(quads.len() > 500, "{}", quads.len());
    let files = newsgraph::store::table_files(&db);
    assert!(files > 0);

    let run = newsgraph(["--store", s(&db), "optimize"]).ok();
    assert!(
        run.stderr.contains("optimized") && run.stderr.contains("files before"),
        "{}",
        run.stderr
    );
    let after = newsgraph::store::table_files(&db);
    assert!(after > 0 && after <= files, "{files} → {after}");
    assert_eq!(crate::common::store_quads(&db), quads);
    // The store stays writable: a rebuild after it replaces in place.
    newsgraph(["-q", "--store", s(&db), "build", s(&seed_files()[0])]).ok();
    assert_eq!(crate::common::store_quads(&db), quads);
    // In memory there is nothing to compact.
    newsgraph(["-q", "--in-memory", "optimize"]).ok();
}

#[test]
fn a_second_build_replaces_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let db = build_seeds(tmp.path());
    let before = newsgraph(["--store", s(&db), "stats"]).ok();
    // Building one seed again leaves the others in place.
    newsgraph(["-q", "--store", s(&db), "build", s(&seed_files()[1])]).ok();
    let after = newsgraph(["--store", s(&db), "stats"]).ok();
    assert_eq!(
        before
            .stdout
            .replace(char::is_whitespace, "")
            .split("sizeondisk")
            .next(),
        after
            .stdout
            .replace(char::is_whitespace, "")
            .split("sizeondisk")
            .next()
    );
}

#[test]
fn euc_kr_input_is_decoded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = "부산시, 조선 산업 육성 본격화\n\
                박형준 부산시장은 12일 조선 산업과 해양 관광 산업을 집중 육성하겠다고 밝혔다.\n";
    let (bytes, _, had_errors) = encoding_rs::EUC_KR.encode(text);
    assert!(!had_errors);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the fixture really is not UTF-8"
    );
    let file = tmp.path().join("busan.txt");
    std::fs::write(&file, &bytes).expect("write");
    let run = newsgraph(["extract", "--format", "turtle", s(&file)]).ok();
    assert!(run.stdout.contains("박형준"), "{}", run.stdout);
    assert!(run.stdout.contains("부산광역시"), "{}", run.stdout);
    assert!(run.stdout.contains("headOf"), "{}", run.stdout);
}

/// `./scripts/build-seeds` runs `cargo run --release -- …`: with the bench
/// runner as a second binary, Cargo must be told which one `cargo run` means.
#[test]
fn cargo_run_means_the_newsgraph_binary() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    assert!(
        manifest.contains("default-run = \"newsgraph\""),
        "Cargo.toml lacks default-run"
    );
    let script =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-seeds"))
            .expect("script");
    assert!(script.contains("cargo run --release"), "{script}");
}

/// The `max_open_files` RocksDB was last opened with, from the store's log.
fn logged_max_open_files(db: &Path) -> u64 {
    let log = std::fs::read_to_string(db.join("LOG")).unwrap();
    log.lines()
        .find_map(|l| l.split("Options.max_open_files:").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no max_open_files in the store's log"))
}

/// This process's soft limit of open files (children inherit it).
fn open_files_soft_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[test]
fn build_and_load_keep_few_files_open_by_default_and_readers_as_many_as_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    newsgraph(["-q", "--store", s(&db), "build", s(&seeds())]).ok();
    assert_eq!(logged_max_open_files(&db), 128);
    newsgraph(["--store", s(&db), "stats"]).ok();
    let reading = logged_max_open_files(&db);
    // Oxigraph's default follows the file-descriptor limit, which allows
    // well over 128 files on any ordinary machine.
    if open_files_soft_limit().is_some_and(|n| n >= 1024) {
        assert!(
            reading > 128,
            "a reading command keeps {reading} files open"
        );
    }
    newsgraph([
        "-q",
        "--max-open-files",
        "64",
        "--store",
        s(&db),
        "build",
        s(&seeds()),
    ])
    .ok();
    assert_eq!(logged_max_open_files(&db), 64);
    let nq = tmp.path().join("seeds.nq");
    let out = newsgraph(["-q", "extract", s(&seeds())]).ok();
    std::fs::write(&nq, out.stdout).unwrap();
    let loaded = tmp.path().join("loaded");
    newsgraph(["-q", "--store", s(&loaded), "load", s(&nq)]).ok();
    assert_eq!(logged_max_open_files(&loaded), 128);
    newsgraph([
        "-q",
        "--max-open-files",
        "0",
        "--store",
        s(&loaded),
        "load",
        s(&nq),
    ])
    .ok();
    assert_eq!(logged_max_open_files(&loaded), reading);
}

#[test]
fn a_store_with_more_files_than_may_stay_open_reads_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    // A commit per document: several files per index, more than 20 in all.
    newsgraph([
        "-q",
        "--max-open-files",
        "20",
        "--store",
        s(&db),
        "build",
        "--commit-every",
        "1",
        s(&seeds()),
    ])
    .ok();
    let files = std::fs::read_dir(&db)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sst"))
        })
        .count();
    assert!(files > 20, "{files} table files");
    let counts = |limit: &str| {
        let out = newsgraph(["--max-open-files", limit, "--store", s(&db), "stats"]).ok();
        out.stdout
            .replace(char::is_whitespace, "")
            .split("sizeondisk")
            .next()
            .map(str::to_string)
    };
    let limited = counts("20");
    assert_eq!(limited, counts("0"));
    assert_eq!(limited, counts("512"));
    let reference = build_seeds(tmp.path());
    let full = newsgraph(["--store", s(&reference), "stats"]).ok();
    assert_eq!(
        limited,
        full.stdout
            .replace(char::is_whitespace, "")
            .split("sizeondisk")
            .next()
            .map(str::to_string)
    );
}
