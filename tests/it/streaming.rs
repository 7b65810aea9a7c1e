//! The streaming pipeline (`build`, `extract`) gives the same graph as
//! extracting everything in memory, in input order, from files and from
//! standard input, when the corpus is larger than one chunk (two passes).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::ok;
use newsgraph::ontology::Ontology;
use newsgraph::pipeline::{
    extract_inputs, extract_streaming, ExtractOptions, StreamStage, StreamSummary, STREAM_CHUNK,
};
use newsgraph::store::document_quads;

/// Generates `docs` documents into `dir/corpus`.
fn corpus(dir: &Path, docs: usize) -> PathBuf {
    ok(Command::new(env!("CARGO_BIN_EXE_newsgraph-bench"))
        .args([
            "corpus",
            "--docs",
            &docs.to_string(),
            "--seed",
            "11",
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap());
    dir.join("corpus")
}

/// Every document of a streaming run over `inputs`, in hand-over order,
/// and the run's summary. Checks the progress reports on the way: every
/// document extracted, then every one written, each stage counting up.
fn stream_all(
    inputs: &[PathBuf],
    ontology: &Ontology,
    options: &ExtractOptions,
) -> (Vec<newsgraph::model::DocumentGraph>, StreamSummary) {
    let mut streamed = Vec::new();
    let reports = std::sync::Mutex::new(Vec::new());
    let summary = extract_streaming(
        inputs,
        ontology,
        options,
        &|_| true,
        &|stage, n| reports.lock().unwrap().push((stage, n)),
        &|doc| doc,
        &mut |doc| {
            streamed.push(doc);
            Ok(())
        },
    )
    .unwrap();
    let reports = reports.into_inner().unwrap();
    let count = |stage| reports.iter().filter(|(s, _)| *s == stage).count();
    assert_eq!(count(StreamStage::Extracting), summary.documents);
    assert_eq!(count(StreamStage::Writing), summary.documents);
    let written: Vec<usize> = reports
        .iter()
        .skip_while(|(s, _)| *s == StreamStage::Extracting)
        .map(|&(s, n)| {
            assert_eq!(
                s,
                StreamStage::Writing,
                "extraction reported after writing began"
            );
            n
        })
        .collect();
    assert_eq!(written, (1..=summary.documents).collect::<Vec<_>>());
    (streamed, summary)
}

/// The document ids, in order.
fn ids(docs: &[newsgraph::model::DocumentGraph]) -> Vec<String> {
    docs.iter().map(|g| g.meta.id.clone()).collect()
}

fn quad_lines(docs: &[newsgraph::model::DocumentGraph]) -> BTreeSet<String> {
    docs.iter()
        .flat_map(document_quads)
        .map(|q| format!("{q} ."))
        .collect()
}

#[test]
fn two_passes_give_the_in_memory_graph_in_input_order() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = STREAM_CHUNK * 2 + 37;
    let corpus = corpus(tmp.path(), docs);
    let ontology = Ontology::load(None).unwrap();
    let options = ExtractOptions::default();
    let inputs = [corpus];

    let in_memory = extract_inputs(&inputs, &ontology, &options, &|_| {}).unwrap();
    assert_eq!(in_memory.documents.len(), docs);

    let expected_quads = quad_lines(&in_memory.documents);
    let graph_bytes = expected_quads.iter().map(String::len).sum::<usize>() as u64;
    // Held in memory between the passes (the default budget), all spilled
    // (no budget), and spilled once the budget is passed mid-run (the
    // documents held so far go to the file first).
    for (hold_in_memory, spilled) in [
        (options.hold_in_memory, false),
        (0, true),
        (in_memory.bytes / 2, true),
    ] {
        let options = ExtractOptions {
            hold_in_memory,
            ..options.clone()
        };
        let (streamed, summary) = stream_all(&inputs, &ontology, &options);
        assert_eq!(summary.spill_bytes.is_some(), spilled, "{hold_in_memory}");
        if let Some(spill) = summary.spill_bytes {
            // What is set aside is much less than the graph written.
            assert!(spill > 0 && spill < graph_bytes / 4, "{spill}");
        }
        assert_eq!(summary.documents, docs);
        assert_eq!(summary.bytes, in_memory.bytes);
        assert!(summary.skipped.is_empty());
        // Input order, the same graphs.
        assert_eq!(ids(&streamed), ids(&in_memory.documents));
        assert!(quad_lines(&streamed) == expected_quads, "{hold_in_memory}");
    }
}

#[test]
fn a_consumer_error_stops_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = corpus(tmp.path(), STREAM_CHUNK + 10);
    let ontology = Ontology::load(None).unwrap();
    let mut seen = 0;
    let err = extract_streaming(
        &[corpus],
        &ontology,
        &ExtractOptions::default(),
        &|_| true,
        &|_, _| {},
        &|doc| doc,
        &mut |_| {
            seen += 1;
            if seen == 3 {
                Err(newsgraph::Error::io(
                    "<sink>",
                    std::io::Error::other("full"),
                ))
            } else {
                Ok(())
            }
        },
    )
    .expect_err("the sink failed");
    assert!(err.to_string().contains("full"), "{err}");
    assert_eq!(seen, 3);
}

/// Runs `newsgraph --quiet extract ARGS` with `stdin` on standard input.
fn extract_with_stdin(args: &[&std::ffi::OsStr], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .args(["--quiet", "extract"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let text = stdin.to_string();
    let feeder = std::thread::spawn(move || pipe.write_all(text.as_bytes()));
    let out = ok(child.wait_with_output().unwrap());
    feeder.join().unwrap().unwrap();
    out
}

#[test]
fn standard_input_is_read_once_in_a_two_pass_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = corpus(tmp.path(), STREAM_CHUNK + 50);
    let mut files = walk(&corpus);
    files.sort();
    let page = std::fs::read_to_string(&files[0]).unwrap();
    let stdin_graph = "<https://w3id.org/newsgraph/doc/stdin> .";
    let graph_of = |out: &str, stdin: bool| -> BTreeSet<String> {
        out.lines()
            .filter(|l| l.ends_with(stdin_graph) == stdin)
            .map(str::to_string)
            .collect()
    };

    // The page alone on standard input: one chunk, one pass.
    let alone = extract_with_stdin(&[std::ffi::OsStr::new("-")], &page);
    // The corpus and the page on standard input: two passes.
    let both = extract_with_stdin(&[corpus.as_os_str(), std::ffi::OsStr::new("-")], &page);
    let corpus_only = ok(Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .args(["--quiet", "extract"])
        .arg(&corpus)
        .output()
        .unwrap());

    let stdin_alone = graph_of(&alone, true);
    assert!(stdin_alone.len() > 50, "{} quads", stdin_alone.len());
    assert!(
        graph_of(&both, true) == stdin_alone,
        "standard input's document differs in the two-pass run"
    );
    assert!(
        graph_of(&both, false) == graph_of(&corpus_only, false),
        "the corpus documents differ when standard input is added"
    );
    // The same run twice writes the same bytes: input order, not arrival.
    let again = ok(Command::new(env!("CARGO_BIN_EXE_newsgraph"))
        .args(["--quiet", "extract"])
        .arg(&corpus)
        .output()
        .unwrap());
    assert!(again == corpus_only, "two runs wrote different bytes");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn jsonl_lines_across_chunks_come_in_order_and_read_errors_once() {
    // One JSONL file whose lines straddle chunk boundaries, with bad lines
    // in the first chunk and in the third, then a second file.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dump");
    std::fs::create_dir(&dir).unwrap();
    let mut lines = String::new();
    for i in 0..STREAM_CHUNK * 2 + 40 {
        if i == 100 || i == STREAM_CHUNK * 2 + 10 {
            lines.push_str("{not json\n");
            continue;
        }
        let city = ["광주시", "부산시", "전라남도", "울산시"][i % 4];
        lines.push_str(&format!(
            "{{\"id\": \"d{i}\", \"text\": \"{city}는 인공지능 산업 육성 계획 {i}호를 발표했다. \
             {city}와 한국전력공사는 에너지 신산업 업무협약을 체결했다.\"}}\n"
        ));
    }
    std::fs::write(dir.join("a.jsonl"), lines).unwrap();
    std::fs::write(
        dir.join("b.txt"),
        "부산시는 해양 산업을 육성한다고 밝혔다.\n",
    )
    .unwrap();
    let ontology = Ontology::load(None).unwrap();
    let options = ExtractOptions::default();
    let inputs = [dir];

    let in_memory = extract_inputs(&inputs, &ontology, &options, &|_| {}).unwrap();
    let spilling = ExtractOptions {
        hold_in_memory: 0,
        ..options.clone()
    };
    let (streamed, summary) = stream_all(&inputs, &ontology, &spilling);
    assert!(summary.spill_bytes.is_some());
    assert_eq!(summary.documents, in_memory.documents.len());
    assert_eq!(summary.bytes, in_memory.bytes);
    let errors =
        |e: &[newsgraph::Error]| -> Vec<String> { e.iter().map(|e| e.to_string()).collect() };
    assert_eq!(errors(&summary.skipped), errors(&in_memory.skipped));
    assert_eq!(summary.skipped.len(), 2);
    assert_eq!(ids(&streamed), ids(&in_memory.documents));
    assert_eq!(quad_lines(&streamed), quad_lines(&in_memory.documents));
}

#[test]
fn the_spill_file_lives_in_tmpdir_leaves_nothing_and_a_bad_tmpdir_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = corpus(tmp.path(), STREAM_CHUNK + 20);
    let spill_dir = tmp.path().join("spill");
    std::fs::create_dir(&spill_dir).unwrap();
    let run_holding = |tmpdir: &Path, mib: &str| {
        Command::new(env!("CARGO_BIN_EXE_newsgraph"))
            .env("TMPDIR", tmpdir)
            .args(["--quiet", "--hold-in-memory", mib, "extract"])
            .arg(&corpus)
            .output()
            .unwrap()
    };
    let run = |tmpdir: &Path| run_holding(tmpdir, "0");
    let quads = ok(run(&spill_dir));
    assert!(
        quads.lines().count() > 1000,
        "{} quads",
        quads.lines().count()
    );
    assert_eq!(
        std::fs::read_dir(&spill_dir).unwrap().count(),
        0,
        "the spill file is unnamed and gone with the run"
    );

    let missing = tmp.path().join("no-such-dir");
    let out = run(&missing);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&*missing.to_string_lossy()),
        "the error names the temporary directory: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is written before the spill fails"
    );

    // Held in memory (the default budget), the run needs no spill file.
    let held = ok(run_holding(&missing, "32"));
    assert!(held == quads, "held in memory, the run wrote other quads");
}
