//! The benchmark runner (`newsgraph-bench run`) end to end on a small
//! generated corpus: every section runs against its peer (ripgrep,
//! Oxigraph's bulk loader, networkx, rdflib) and reports finite figures;
//! `--only` runs the named sections on what an earlier run left. No timing
//! is asserted.

use std::path::Path;
use std::process::Command;

use crate::common::ok;

/// Runs `newsgraph-bench run` on 40 documents in `work` with `extra`
/// arguments and returns the results table it wrote.
fn run_bench(work: &Path, extra: &[&str], results: &str) -> String {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let python = if python.exists() {
        python
    } else {
        "python3".into()
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsgraph-bench"));
    cmd.args([
        "run",
        "--docs",
        "40",
        "--repeat",
        "1",
        "--rdflib-timeout",
        "300",
    ])
    .arg("--work")
    .arg(work)
    .arg("--newsgraph")
    .arg(env!("CARGO_BIN_EXE_newsgraph"))
    .arg("--python")
    .arg(&python)
    .args(extra);
    let stdout = ok(cmd.output().expect("run newsgraph-bench"));
    let table = std::fs::read_to_string(work.join("n40").join(results))
        .expect("the run writes its results table");
    for line in table.lines() {
        assert!(stdout.contains(line), "{line} is printed too");
    }
    table
}

/// The row whose measurement is `what`, split into cells.
fn row<'t>(table: &'t str, what: &str) -> Vec<&'t str> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("| {what} |")))
        .unwrap_or_else(|| panic!("no row {what:?} in\n{table}"))
        .trim_matches('|')
        .split(" | ")
        .map(str::trim)
        .collect()
}

/// The median of a row, which must be a finite positive number.
fn median(table: &str, what: &str) -> f64 {
    let cells = row(table, what);
    let v: f64 = cells[3]
        .parse()
        .unwrap_or_else(|_| panic!("median of {what:?} is {:?}", cells[3]));
    assert!(v.is_finite() && v >= 0.0, "{what}: {v}");
    v
}

#[test]
fn every_section_runs_against_its_peer_and_only_reruns_what_is_asked() {
    let work = tempfile::tempdir().expect("temp dir");
    let table = run_bench(work.path(), &["--instructions"], "results.md");
    for what in [
        "extract (1 thread)",
        "extract (1 thread) instructions",
        "extract (all cores)",
        "extract speed-up all cores / 1 thread",
        "peer: ripgrep cue scan (1 thread)",
        "build on disk (extract + store)",
        "build peak RSS",
        "store size on disk",
        "peer: `newsgraph load` (Oxigraph bulk loader) of the same N-Quads",
        "incremental rebuild of 1 changed documents (1 %)",
        "optimize (compaction) after the rebuilds",
        "incremental rebuild of 1 changed documents (1 %), after optimize",
        "export graphml (whole command)",
        "export graphml (write only, in process)",
        "export gexf (write only, in process)",
        "export csv (write only, in process)",
        "peer: networkx write graphml (write only)",
        "peer: networkx write gexf (write only)",
        "peer: networkx write csv (write only)",
        "query process start + store open (1-row SELECT)",
        "query committee-chairs",
        "query edge-evidence",
        "query edge-evidence (in process)",
        "peer: rdflib parse N-Quads",
        "peer: rdflib query committee-chairs",
    ] {
        median(&table, what);
    }
    assert!(median(&table, "extract (1 thread)") > 0.0);
    // Callgrind counted the one-thread extract: on 40 documents the
    // process's start (the ontology, the regexes) is most of it, some
    // hundreds of instructions per input byte.
    let per_byte = median(&table, "extract (1 thread) instructions");
    assert!((50.0..20_000.0).contains(&per_byte), "{per_byte}");
    let counted = row(&table, "extract (1 thread) instructions");
    assert!(
        counted[5].starts_with("callgrind, one run: "),
        "{counted:?}"
    );
    // The store part is the difference of two timings, which on 40
    // documents can come out at or below zero: then the row says so.
    let store_part = "store part of build (build − extract, medians)";
    if !row(&table, store_part)[5].starts_with("not measurable at this size") {
        assert!(median(&table, store_part) > 0.0);
    }
    // rdflib ran every example query, each within its own limit, and
    // gave as many rows as ours.
    let queries = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/queries"))
        .expect("examples/queries")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            Some(name.strip_suffix(".rq")?.to_string())
        })
        .collect::<Vec<_>>();
    assert!(queries.len() >= 5, "{queries:?}");
    for query in &queries {
        let cells = row(&table, &format!("peer: rdflib query {query}"));
        assert!(
            cells[5].starts_with("rdflib / newsgraph in process = ")
                && !cells[5].contains("NaN")
                && !cells[5].contains("inf")
                && cells[5].contains("the same")
                || cells[5].starts_with("over the limit"),
            "{cells:?}"
        );
    }
    let nx = row(&table, "peer: networkx write graphml (write only)");
    assert!(
        nx[5].starts_with("networkx / newsgraph write = ") && !nx[5].contains("NaN"),
        "{nx:?}"
    );
    // networkx wrote the same graph: as many nodes and edges as ours.
    let ours = std::fs::read_to_string(work.path().join("n40/export/graph.graphml")).unwrap();
    let theirs = std::fs::read_to_string(work.path().join("n40/export/nx/g.graphml")).unwrap();
    for element in ["<node ", "<edge "] {
        assert_eq!(
            ours.matches(element).count(),
            theirs.matches(element).count()
        );
    }
    assert!(ours.matches("<edge ").count() > 40);

    let partial = run_bench(work.path(), &["--only", "export"], "results-partial.md");
    median(&partial, "export gexf (write only, in process)");
    assert!(!partial.contains("| extract ") && !partial.contains("| query "));
}
