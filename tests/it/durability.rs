//! Durability of the on-disk store, with the real binary on a generated
//! corpus (`newsgraph-bench corpus`):
//! - a build killed with SIGKILL while it writes leaves a store that opens
//!   and holds only whole documents, and a rerun completes it to the same
//!   quads as a clean build;
//! - a store directory that cannot be written gives a clear error and stays
//!   as it was;
//! - the generated corpus keeps its extraction recall above a floor.
//!
//! No timing asserts: loops that wait are bounded by counts, not by speed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use newsgraph::store::GraphStore;
use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::GraphName;

fn newsgraph() -> Command {
    Command::new(env!("CARGO_BIN_EXE_newsgraph"))
}

/// Generates `docs` documents into `dir/corpus` (gold in `dir/gold`).
fn corpus(dir: &Path, docs: usize) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_newsgraph-bench"))
        .args([
            "corpus",
            "--docs",
            &docs.to_string(),
            "--seed",
            "7",
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("corpus")
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "status {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Quads per document graph of `newsgraph extract` on the corpus: what a
/// clean build writes.
fn expected_counts(corpus: &Path) -> BTreeMap<String, usize> {
    let out = ok(newsgraph()
        .args(["--quiet", "extract"])
        .arg(corpus)
        .output()
        .unwrap());
    let mut counts = BTreeMap::new();
    for q in RdfParser::from_format(RdfFormat::NQuads).for_slice(&out.stdout) {
        let q = q.unwrap();
        let GraphName::NamedNode(g) = q.graph_name else {
            panic!("quad outside a document graph: {q}");
        };
        *counts.entry(g.into_string()).or_default() += 1;
    }
    counts
}

/// Quads per named graph in the store, and whether each graph holds its
/// `ng:Document` node.
fn store_counts(path: &Path) -> (BTreeMap<String, usize>, BTreeSet<String>) {
    let store = GraphStore::open_existing(path).expect("the store opens");
    let mut counts = BTreeMap::new();
    let mut documents = BTreeSet::new();
    let doc_class = "https://w3id.org/newsgraph/ontology#Document";
    for q in store.inner().iter() {
        let q = q.unwrap();
        let GraphName::NamedNode(g) = &q.graph_name else {
            panic!("quad outside a document graph: {q}");
        };
        let g = g.as_str().to_string();
        if q.subject.to_string() == format!("<{g}>")
            && q.predicate.as_str() == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
            && q.object.to_string() == format!("<{doc_class}>")
        {
            documents.insert(g.clone());
        }
        *counts.entry(g).or_default() += 1;
    }
    (counts, documents)
}

#[test]
fn a_killed_build_leaves_whole_documents_and_a_rerun_completes_it() {
    let tmp = tempfile::tempdir().unwrap();
    // Several commits: new documents are committed every 250.
    let corpus = corpus(tmp.path(), 3000);
    let expected = expected_counts(&corpus);
    let total: usize = expected.values().sum();
    assert_eq!(expected.len(), 3000);
    assert!(total > 300_000, "{total} quads: too few commits");

    // A clean build gives the time a build takes on this machine now.
    let store = tmp.path().join("store.db");
    let build = |store: &Path| {
        let mut cmd = newsgraph();
        cmd.arg("--quiet")
            .arg("--store")
            .arg(store)
            .arg("build")
            .arg("--commit-every")
            .arg("250")
            .arg(&corpus);
        cmd
    };
    let started = Instant::now();
    ok(build(&store).output().unwrap());
    let clean = started.elapsed();

    // Kill points: a deterministic spread over the second half of a build
    // (documents are written while the second pass runs), then SIGKILL. An
    // attempt counts when the kill lands between the first and the last
    // commit.
    let mut killed = None;
    for (attempt, fraction) in [0.6, 0.75, 0.5, 0.85, 0.4, 0.95, 0.3]
        .into_iter()
        .enumerate()
    {
        let _ = std::fs::remove_dir_all(&store);
        let mut child = build(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(clean.mul_f64(fraction));
        // SIGKILL (Child::kill): no destructor runs, nothing is flushed.
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            eprintln!("attempt {attempt}: the build finished first");
            continue;
        }
        // The store opens; every document in it is whole.
        let (counts, documents) = store_counts(&store);
        for (g, n) in &counts {
            let want = expected
                .get(g)
                .unwrap_or_else(|| panic!("unknown graph {g}"));
            assert_eq!(n, want, "document {g} is partly written");
            assert!(documents.contains(g), "document {g} lacks its ng:Document");
        }
        assert_eq!(documents.len(), counts.len());
        eprintln!(
            "attempt {attempt}: killed with {} documents stored",
            counts.len()
        );
        if !counts.is_empty() && counts.len() < expected.len() {
            killed = Some(counts.len());
            break;
        }
    }
    let stored = killed.expect("no kill landed between the first and the last commit");
    eprintln!(
        "killed with {stored} of {} documents stored",
        expected.len()
    );

    // A rerun completes it: the same quads as a clean build.
    ok(newsgraph()
        .arg("--quiet")
        .arg("--store")
        .arg(&store)
        .arg("build")
        .arg(&corpus)
        .output()
        .unwrap());
    let (counts, documents) = store_counts(&store);
    assert_eq!(counts, expected);
    assert_eq!(documents.len(), expected.len());
    assert_eq!(counts.values().sum::<usize>(), total);
    // The killed bulk load's unfinished files were cleared away.
    let leftovers: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("bulk-"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

/// Clears the immutable attribute again, whatever happens in the test.
struct Immutable(Vec<PathBuf>);

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(p).status();
        }
    }
}

#[test]
fn an_unwritable_store_gives_a_clear_error_and_stays_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let first = corpus(&tmp.path().join("a"), 20);
    let second = Command::new(env!("CARGO_BIN_EXE_newsgraph-bench"))
        .args([
            "corpus",
            "--docs",
            "20",
            "--seed",
            "8",
            "--variant",
            "1",
            "--out",
        ])
        .arg(tmp.path().join("b"))
        .output()
        .unwrap();
    assert!(second.status.success());
    let second = tmp.path().join("b/corpus");
    let store = tmp.path().join("store.db");
    ok(newsgraph()
        .arg("--quiet")
        .arg("--store")
        .arg(&store)
        .arg("build")
        .arg(&first)
        .output()
        .unwrap());
    let before = store_counts(&store);

    // Root ignores permission bits: make the directory and its files
    // immutable instead (chattr +i), which stops root too.
    let mut paths = vec![store.clone()];
    paths.extend(
        std::fs::read_dir(&store)
            .unwrap()
            .flatten()
            .map(|e| e.path()),
    );
    let guard = Immutable(paths.clone());
    let immutable = paths.iter().all(|p| {
        Command::new("chattr")
            .arg("+i")
            .arg(p)
            .status()
            .is_ok_and(|s| s.success())
    });
    if immutable && std::fs::write(store.join("probe"), b"x").is_err() {
        let out = build_output(&store, &second);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("newsgraph: error:"), "{stderr}");
        assert!(
            stderr.contains(&store.display().to_string()),
            "the error names the store: {stderr}"
        );
        drop(guard);
        assert_eq!(store_counts(&store), before, "the store changed");
    } else {
        drop(guard);
        eprintln!("chattr +i is not available here; only the parent-is-a-file case is tested");
    }

    // A store path below a regular file cannot be created: a clear error.
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let out = newsgraph()
        .arg("--store")
        .arg(file.join("store.db"))
        .arg("build")
        .arg(&second)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot create the directory"), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
    assert_eq!(store_counts(&store), before);
}

/// Recall of the generated corpus against its own gold (floors measured on
/// seed 7, 300 documents: relations 0.958, entities 0.933 at the time of
/// writing; the floors leave a little room).
#[test]
fn the_generated_corpus_is_extracted_with_high_recall() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = corpus(tmp.path(), 300);
    let out = ok(newsgraph()
        .args(["--quiet", "eval", "--json", "--gold"])
        .arg(tmp.path().join("gold"))
        .arg(&corpus)
        .output()
        .unwrap());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["documents"], 300);
    let recall = |k: &str| report[k]["recall"].as_f64().unwrap();
    let precision = |k: &str| report[k]["precision"].as_f64().unwrap();
    eprintln!(
        "relations P {:.3} R {:.3}; entities P {:.3} R {:.3}",
        precision("relations_overall"),
        recall("relations_overall"),
        precision("entities_overall"),
        recall("entities_overall")
    );
    assert!(recall("relations_overall") >= RELATION_RECALL_FLOOR);
    assert!(recall("entities_overall") >= ENTITY_RECALL_FLOOR);
    assert!(precision("relations_overall") >= RELATION_PRECISION_FLOOR);
    for rel in [
        "signedMouWith",
        "chairs",
        "headOf",
        "partOf",
        "targetsSector",
    ] {
        assert!(
            report["relations"][rel]["recall"].as_f64().unwrap() >= 0.9,
            "{rel}: {}",
            report["relations"][rel]
        );
    }
}

const RELATION_RECALL_FLOOR: f64 = 0.93;
const ENTITY_RECALL_FLOOR: f64 = 0.90;
const RELATION_PRECISION_FLOOR: f64 = 0.95;

/// `newsgraph --store STORE build INPUT`, run to its end.
fn build_output(store: &Path, input: &Path) -> Output {
    newsgraph()
        .arg("--store")
        .arg(store)
        .arg("build")
        .arg(input)
        .output()
        .unwrap()
}

/// `newsgraph --quiet --store STORE build INPUT`, which must succeed.
fn build_quietly(store: &Path, input: &Path) {
    ok(newsgraph()
        .args(["--quiet", "--store"])
        .arg(store)
        .arg("build")
        .arg(input)
        .output()
        .unwrap());
}

/// Unmounts a test file system again, whatever happens in the test.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mounts a tmpfs of `megabytes` at `dir`; false where mounting is not
/// allowed (not root, no CAP_SYS_ADMIN).
fn mount_tmpfs(dir: &Path, megabytes: usize) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The second build of the disk-full tests: `corpus_parent` holds a
/// corpus whose documents are new to the store (their ids start with
/// `corpus/`). Returns the build's standard error.
fn assert_failed_build_kept_the_store(
    store: &Path,
    before: &(BTreeMap<String, usize>, BTreeSet<String>),
    second_expected: &BTreeMap<String, usize>,
    out: Output,
    reopen: impl FnOnce(),
) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("newsgraph: error:"), "{stderr}");
    assert!(
        stderr.contains(&store.display().to_string()),
        "the error names the store: {stderr}"
    );
    reopen();
    // The documents stored before are as they were; anything else the
    // build committed before the failure is whole.
    let (counts, documents) = store_counts(store);
    for (g, n) in &before.0 {
        assert_eq!(counts.get(g), Some(n), "document {g} changed");
    }
    for (g, n) in &counts {
        if !before.0.contains_key(g) {
            assert_eq!(
                second_expected.get(g),
                Some(n),
                "document {g} is partly written"
            );
            assert!(documents.contains(g), "{g} lacks its ng:Document");
        }
    }
    assert!(
        counts.len() < before.0.len() + second_expected.len(),
        "the build did not fail before the end"
    );
    stderr
}

#[test]
fn a_full_disk_gives_a_clear_error_and_the_store_keeps_whole_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let first = corpus(&tmp.path().join("a"), 20);
    // Documents new to the store: ids below `corpus/`.
    corpus(&tmp.path().join("b"), 1000);
    let second = tmp.path().join("b");
    let second_expected = expected_counts(&second);

    // A real full disk: a 12 MB tmpfs (the first store takes about 1 MB,
    // the second corpus needs tens).
    let disk = tmp.path().join("disk");
    if mount_tmpfs(&disk, 12) {
        let _mounted = Mounted(disk.clone());
        let store = disk.join("store.db");
        build_quietly(&store, &first);
        let before = store_counts(&store);
        let out = build_output(&store, &second);
        let stderr =
            assert_failed_build_kept_the_store(&store, &before, &second_expected, out, || {
                // Room to open the store again (RocksDB writes on opening).
                assert!(Command::new("mount")
                    .args(["-o", "remount,size=256m"])
                    .arg(&disk)
                    .status()
                    .unwrap()
                    .success());
            });
        assert!(stderr.contains("the disk is full"), "{stderr}");
        // The unfinished bulk files were removed.
        let leftovers = std::fs::read_dir(&store)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("bulk-"))
            .count();
        assert_eq!(leftovers, 0);
        // With space again, a rerun finishes the build.
        build_quietly(&store, &second);
        let (counts, _) = store_counts(&store);
        assert_eq!(counts.len(), before.0.len() + second_expected.len());
    } else {
        eprintln!("cannot mount a tmpfs here; only the file-size limit case is tested");
    }

    // The same through the file-size limit (RLIMIT_FSIZE, with SIGXFSZ
    // ignored: writes fail with EFBIG), which needs no privileges.
    let store = tmp.path().join("limited.db");
    build_quietly(&store, &first);
    let before = store_counts(&store);
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 8192 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_newsgraph"))
        .arg("--store")
        .arg(&store)
        .arg("build")
        .arg(&second)
        .output()
        .unwrap();
    let stderr = assert_failed_build_kept_the_store(&store, &before, &second_expected, out, || {});
    assert!(stderr.contains("size limit"), "{stderr}");
}
