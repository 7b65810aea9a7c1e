//! `newsgraph-bench`: a deterministic corpus generator and the benchmark
//! runner of BENCHMARKS.md.
//!
//! ```sh
//! newsgraph-bench corpus --docs 10000 --seed 1 --out /tmp/ng-corpus   # corpus/ and gold/
//! newsgraph-bench run --docs 1000 --repeat 3 --work /tmp/ng-bench      # every figure, one run
//! ```
//!
//! The corpus is Korean news-style pages built from templates: cities from
//! the gazetteer, generated organisations (name + ending), persons with
//! titles, sectors from `ontology/sectors.ttl`, agreements, committees,
//! strategies, weather / byline / copyright clutter, a second article on
//! some pages and a "most read" teaser list (not article text). Every page
//! has its gold file in SCHEMA.md's format, so `newsgraph eval` measures
//! recall at any size. The same `--seed` and `--docs` give byte-identical
//! output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use newsgraph::store::{dir_size, table_files};

/// Deterministic corpus generator and benchmark runner for newsgraph.
#[derive(Parser, Debug)]
#[command(name = "newsgraph-bench")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Write N pages into OUT/corpus (1000 per sub-directory) and their gold
    /// files into OUT/gold.
    Corpus {
        /// Number of documents (pages).
        #[arg(long, default_value_t = 1000)]
        docs: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Variant of the text (a changed document for the incremental
        /// benchmark uses variant 1).
        #[arg(long, default_value_t = 0)]
        variant: u64,
    },
    /// Run every benchmark on a generated corpus and print a Markdown table.
    Run {
        /// Number of documents.
        #[arg(long, default_value_t = 1000)]
        docs: usize,
        /// Repetitions of each measurement (min / median / max).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Working directory (corpus, stores, exports).
        #[arg(long, default_value = "/tmp/ng-bench")]
        work: PathBuf,
        /// The newsgraph binary (default: next to this one).
        #[arg(long)]
        newsgraph: Option<PathBuf>,
        /// Python with networkx and rdflib (default: .venv/bin/python).
        #[arg(long, default_value = ".venv/bin/python")]
        python: PathBuf,
        /// Give rdflib at most this many seconds (load + queries).
        #[arg(long, default_value_t = 600)]
        rdflib_timeout: u64,
        /// Kill a query after this many seconds.
        #[arg(long, default_value_t = 60)]
        query_timeout: u64,
        /// Skip the rdflib peer.
        #[arg(long)]
        no_rdflib: bool,
        /// Run only these sections (comma-separated); `export` and
        /// `queries` then use the store and N-Quads an earlier run left in
        /// the working directory.
        #[arg(long, value_enum, value_delimiter = ',')]
        only: Vec<Section>,
        /// Also count the instructions of a one-thread extract under
        /// valgrind's callgrind: a figure that does not move with the
        /// machine's speed (needs valgrind; takes about 50× the extract).
        #[arg(long)]
        instructions: bool,
    },
}

/// A part of the benchmark run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    /// Extraction only, one thread and all cores, and ripgrep.
    Extract,
    /// Build into a fresh store, and Oxigraph's bulk loader.
    Build,
    /// Rebuild of 1 % changed documents.
    Incremental,
    /// Exports, and networkx.
    Export,
    /// The example queries, and rdflib.
    Queries,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Corpus {
            docs,
            seed,
            out,
            variant,
        } => {
            let s = write_corpus(&out, docs, seed, variant, None)?;
            eprintln!(
                "wrote {} documents ({} bytes, {} gold relations) to {}",
                s.docs,
                s.bytes,
                s.relations,
                out.display()
            );
            Ok(())
        }
        Cmd::Run {
            docs,
            repeat,
            work,
            newsgraph,
            python,
            rdflib_timeout,
            query_timeout,
            no_rdflib,
            only,
            instructions,
        } => {
            let ng = match newsgraph {
                Some(p) => p,
                None => std::env::current_exe()?
                    .parent()
                    .context("no parent of the executable")?
                    .join("newsgraph"),
            };
            run_bench(&Bench {
                docs,
                repeat: repeat.max(1),
                work,
                ng,
                python,
                rdflib_timeout: Duration::from_secs(rdflib_timeout),
                rdflib: !no_rdflib,
                query_timeout: Duration::from_secs(query_timeout),
                only,
                instructions,
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Corpus generator
// ---------------------------------------------------------------------------

/// SplitMix64: small, fast, and stable across versions (no external crate
/// whose stream could change).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    /// `k` distinct indices below `n`.
    fn distinct(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        while out.len() < k.min(n) {
            let i = self.below(n);
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }
}

/// (canonical name, short form used in running text, bare region name).
const CITIES: &[(&str, &str, &str)] = &[
    ("서울특별시", "서울시", "서울"),
    ("부산광역시", "부산시", "부산"),
    ("대구광역시", "대구시", "대구"),
    ("인천광역시", "인천시", "인천"),
    ("광주광역시", "광주시", "광주"),
    ("대전광역시", "대전시", "대전"),
    ("울산광역시", "울산시", "울산"),
    ("세종특별자치시", "세종시", "세종"),
    ("수원시", "수원시", "수원"),
    ("성남시", "성남시", "성남"),
    ("안산시", "안산시", "안산"),
    ("평택시", "평택시", "평택"),
    ("춘천시", "춘천시", "춘천"),
    ("원주시", "원주시", "원주"),
    ("파주시", "파주시", "파주"),
    ("김포시", "김포시", "김포"),
];

const ORG_STEMS: &[&str] = &[
    "한빛", "새론", "누리", "가온", "다온", "미르", "아라", "해솔", "별하", "온새", "나래", "한결",
    "라온", "소담", "여울", "든솔", "예담", "슬기", "초롱", "하람", "윤슬", "보람", "다솜", "마루",
    "세움", "이음", "늘품", "참빛", "고운", "푸름",
];
const ORG_MIDDLES: &[&str] = &["", "", "첨단", "미래", "스마트", "글로벌", "융합", "신소재"];
/// (ending, title of its head).
const ORG_ENDINGS: &[(&str, &str)] = &[
    ("전자", "대표"),
    ("로보틱스", "대표"),
    ("테크놀로지", "대표"),
    ("시스템즈", "대표"),
    ("솔루션", "대표"),
    ("진흥원", "원장"),
    ("연구원", "원장"),
    ("재단", "이사장"),
    ("협회", "회장"),
];
const SURNAMES: &[&str] = &[
    "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황",
    "안", "송", "홍", "전",
];
const GIVEN: &[&str] = &[
    "민준", "서연", "지훈", "하은", "도윤", "수빈", "현우", "지민", "준호", "예린", "성민", "영수",
    "정희", "동현", "은지", "태호", "승우", "미경", "상철", "혜진", "재원", "유진", "경호", "소영",
];
const WEATHER: &[&str] = &["맑음", "흐림", "구름많음", "비", "눈"];
const SECTIONS: &[&str] = &["경제", "사회", "지역", "산업", "정치"];
const OUTLETS: &[&str] = &["포탈뉴스통신", "지역경제신문", "한국산업일보", "남도뉴스"];
const FILLER: &[&str] = &[
    "이날 행사에는 지역 기업인과 관계자 100여명이 참석했다.",
    "관련 예산은 내년 상반기 중 확정될 전망이다.",
    "지역 경제계는 이번 결정을 환영한다는 입장을 밝혔다.",
    "세부 계획은 다음 달 공청회를 거쳐 확정된다.",
    "참석자들은 지역 일자리 창출 효과에 기대감을 나타냈다.",
    "한편 올해 지역 내 신규 투자 규모는 지난해보다 12% 늘어난 것으로 집계됐다.",
    "업계에서는 인력 수급과 기반시설 확충이 과제로 꼽힌다는 지적도 나온다.",
    "행사는 온라인으로도 생중계돼 시민 누구나 시청할 수 있었다.",
    "주최 측은 내년에도 같은 행사를 정례적으로 개최할 방침이다.",
];

/// Sector labels (`skos:prefLabel`) of the built-in vocabulary.
fn sectors() -> Vec<String> {
    let ttl = include_str!("../../ontology/sectors.ttl");
    let mut out = Vec::new();
    for part in ttl.split("prefLabel").skip(1) {
        if let Some(rest) = part.trim_start().strip_prefix('"') {
            if let Some(end) = rest.find("\"@ko") {
                let label = &rest[..end];
                if !label.contains(' ') && !out.iter().any(|l| l == label) {
                    out.push(label.to_string());
                }
            }
        }
    }
    out
}

/// Whether the last syllable of `s` has a final consonant (받침).
fn batchim(s: &str) -> bool {
    match s.chars().last() {
        Some(c @ '가'..='힣') => (c as u32 - 0xAC00) % 28 != 0,
        _ => false,
    }
}
/// 은/는
fn topic(s: &str) -> String {
    format!("{s}{}", if batchim(s) { "은" } else { "는" })
}
/// 와/과
fn with(s: &str) -> String {
    format!("{s}{}", if batchim(s) { "과" } else { "와" })
}

#[derive(Default)]
struct Gold {
    entities: BTreeMap<String, serde_json::Value>,
    relations: Vec<serde_json::Value>,
}

impl Gold {
    fn entity(&mut self, id: &str, kind: &str, name: &str, aliases: &[&str]) {
        self.entities.entry(id.to_string()).or_insert_with(
            || serde_json::json!({"id": id, "type": kind, "name": name, "aliases": aliases}),
        );
    }
    fn relation(&mut self, s: &str, p: &str, o: &str, evidence: &str) {
        let r =
            serde_json::json!({"subject": s, "predicate": p, "object": o, "evidence": evidence});
        if !self.relations.contains(&r) {
            self.relations.push(r);
        }
    }
}

struct Org {
    id: String,
    name: String,
    head_title: &'static str,
}

fn org(rng: &mut Rng, n: usize) -> Org {
    let (ending, head_title) = *rng.pick(ORG_ENDINGS);
    Org {
        id: format!("org{n}"),
        name: format!("{}{}{}", rng.pick(ORG_STEMS), rng.pick(ORG_MIDDLES), ending),
        head_title,
    }
}

fn person(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

fn sector_id(label: &str) -> String {
    format!("sector:{label}")
}

/// One article (headline + paragraphs), its facts added to `gold` with ids
/// prefixed by `p`.
fn article(
    rng: &mut Rng,
    sectors: &[String],
    gold: &mut Gold,
    p: &str,
    day: u32,
    outlet: &str,
) -> String {
    let (city, city_short, bare) = *rng.pick(CITIES);
    let city_id = format!("city:{city}");
    gold.entity(&city_id, "Organization", city, &[city_short, bare]);
    let mut paras: Vec<String> = Vec::new();
    let mut orgs: Vec<Org> = (0..5).map(|i| org(rng, i)).collect();
    orgs.dedup_by(|a, b| a.name == b.name);
    for o in &mut orgs {
        o.id = format!("{p}{}", o.id);
    }
    let sec: Vec<&String> = rng
        .distinct(sectors.len(), 3)
        .into_iter()
        .map(|i| &sectors[i])
        .collect();
    for s in &sec {
        gold.entity(&sector_id(s), "Sector", s, &[]);
    }
    let headline = format!("{city_short}, {} 산업 미래 전략 본격 추진", sec[0]);

    // Strategy: the city targets three sectors.
    if rng.chance(80) {
        let text = format!(
            "{} {}·{}·{} 등 지역 전략산업을 집중 육성한다고 {day}일 밝혔다.",
            topic(city_short),
            sec[0],
            sec[1],
            sec[2]
        );
        for s in &sec {
            gold.relation(&city_id, "targetsSector", &sector_id(s), &text);
        }
        paras.push(format!("({outlet}) {text}"));
    }

    // Agreement between two organisations.
    if rng.chance(70) && orgs.len() >= 2 {
        let (a, b) = (&orgs[0], &orgs[1]);
        gold.entity(&a.id, "Organization", &a.name, &[]);
        gold.entity(&b.id, "Organization", &b.name, &[]);
        let text = format!(
            "{} {} {day}일 {}에서 {} 산업 활성화를 위한 업무협약(MOU)을 체결했다.",
            with(&a.name),
            topic(&b.name),
            a.name,
            sec[1]
        );
        gold.relation(&a.id, "signedMouWith", &b.id, &text);
        gold.relation(&a.id, "targetsSector", &sector_id(sec[1]), &text);
        gold.relation(&b.id, "targetsSector", &sector_id(sec[1]), &text);
        paras.push(text);
        if rng.chance(60) {
            let head = person(rng);
            let pid = format!("{p}person:{head}");
            gold.entity(&pid, "Person", &head, &[]);
            let text = format!(
                "{} {head} {} “지역 산업 생태계를 함께 만들어 가겠다”고 말했다.",
                b.name,
                topic(b.head_title)
            );
            gold.relation(&pid, "headOf", &b.id, &text);
            paras.push(text);
        }
    }

    // A committee set up by the city, its chair and members.
    if rng.chance(60) && orgs.len() >= 5 {
        let body = format!("{bare} 미래산업 추진위원회");
        let body_id = format!("{p}body");
        gold.entity(&body_id, "Organization", &body, &[]);
        let text = format!(
            "{} {day}일 시청 대회의실에서 ‘{body}’ 출범식을 열고 본격적인 활동에 들어갔다.",
            topic(city)
        );
        gold.relation(&body_id, "partOf", &city_id, &text);
        paras.push(text);
        let chair = person(rng);
        let chair_id = format!("{p}person:{chair}");
        gold.entity(&chair_id, "Person", &chair, &[]);
        let members = &orgs[2..5];
        for m in members {
            gold.entity(&m.id, "Organization", &m.name, &[]);
        }
        let text = format!(
            "위원장은 {chair} {city_short} 부시장이 맡았으며, 위원으로는 {}, {}, {} 등 지역 주요 기관 전문가 20여명이 참여했다.",
            members[0].name, members[1].name, members[2].name
        );
        gold.relation(&chair_id, "chairs", &body_id, &text);
        gold.relation(&chair_id, "affiliatedWith", &city_id, &text);
        for m in members {
            gold.relation(&m.id, "memberOf", &body_id, &text);
        }
        paras.push(text);
    }

    if paras.is_empty() {
        let text = format!(
            "{} {} 산업 경쟁력을 강화하기 위한 지원 사업을 추진한다고 {day}일 밝혔다.",
            topic(city_short),
            sec[2]
        );
        gold.relation(&city_id, "targetsSector", &sector_id(sec[2]), &text);
        paras.push(format!("({outlet}) {text}"));
    }
    // Clutter inside the article: a photo credit and filler sentences.
    if rng.chance(50) {
        paras.insert(paras.len().min(1), format!("[사진={city_short} 제공]"));
    }
    for _ in 0..2 + rng.below(3) {
        paras.push(format!("{} {}", rng.pick(FILLER), rng.pick(FILLER)));
    }
    let mut out = String::new();
    let _ = writeln!(out, "{headline}\n");
    for para in paras {
        let _ = writeln!(out, "{para}\n");
    }
    let reporter = person(rng);
    let _ = writeln!(
        out,
        "{reporter} 기자 reporter{}@news.example.kr\n",
        rng.below(1000)
    );
    out
}

/// One page: clutter, one or two articles, a teaser list; its gold.
fn page(rng: &mut Rng, sectors: &[String], doc: usize) -> (String, Gold) {
    let mut gold = Gold::default();
    let month = 1 + (doc / 28) % 12;
    let day = 1 + (doc % 28) as u32;
    let outlet = *rng.pick(OUTLETS);
    let mut text = String::new();
    let _ = writeln!(text, "2024.{month:02}.{day:02}\n");
    for _ in 0..3 + rng.below(4) {
        let (_, _, bare) = *rng.pick(CITIES);
        let _ = writeln!(
            text,
            "  • {}{bare} {}.{}℃",
            rng.pick(WEATHER),
            rng.below(15),
            rng.below(10)
        );
    }
    let _ = writeln!(text, "기상청 제공\n\n{}\n", rng.pick(SECTIONS));
    text.push_str(&article(rng, sectors, &mut gold, "a.", day, outlet));
    if rng.chance(30) {
        text.push_str(&article(rng, sectors, &mut gold, "b.", day, outlet));
    }
    let _ = writeln!(
        text,
        "Copyright ⓒ {outlet}. 무단전재 및 재배포 금지\n\n가장 많이 본 뉴스\n"
    );
    // Teasers of other articles: not article text, nothing there is gold.
    for _ in 0..3 {
        let a = org(rng, 0);
        let b = org(rng, 1);
        let _ = writeln!(
            text,
            "{}·{} {} 업무협약 체결",
            a.name,
            b.name,
            rng.pick(sectors)
        );
    }
    (text, gold)
}

struct CorpusSummary {
    docs: usize,
    bytes: u64,
    relations: usize,
}

/// The relative path of document `i`: 1000 documents per directory.
fn doc_path(i: usize) -> String {
    format!("{:04}/{:07}.txt", i / 1000, i)
}

/// Writes documents `0..docs` (or only `only`) into `out/corpus` and their
/// gold into `out/gold`. Document `i` depends only on (seed, variant, i).
fn write_corpus(
    out: &Path,
    docs: usize,
    seed: u64,
    variant: u64,
    only: Option<&[usize]>,
) -> Result<CorpusSummary> {
    let sectors = sectors();
    let corpus = out.join("corpus");
    let gold_dir = out.join("gold");
    std::fs::create_dir_all(&gold_dir)?;
    let mut summary = CorpusSummary {
        docs: 0,
        bytes: 0,
        relations: 0,
    };
    let all: Vec<usize>;
    let indices = match only {
        Some(o) => o,
        None => {
            all = (0..docs).collect();
            &all
        }
    };
    for &i in indices {
        let mut rng = Rng::new(
            seed.wrapping_mul(0x1000_0000_01B3)
                ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)
                ^ variant.wrapping_mul(0x51_7CC1_B727_220A),
        );
        let (text, gold) = page(&mut rng, &sectors, i);
        let rel = doc_path(i);
        let path = corpus.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        let name = format!("{:07}.txt", i);
        let json = serde_json::json!({
            "doc": name,
            "entities": gold.entities.values().collect::<Vec<_>>(),
            "relations": gold.relations,
        });
        std::fs::write(
            gold_dir.join(format!("{name}.json")),
            serde_json::to_string_pretty(&json)?,
        )?;
        summary.docs += 1;
        summary.bytes += text.len() as u64;
        summary.relations += gold.relations.len();
    }
    Ok(summary)
}

// ---------------------------------------------------------------------------
// Benchmark runner
// ---------------------------------------------------------------------------

struct Bench {
    docs: usize,
    repeat: usize,
    work: PathBuf,
    ng: PathBuf,
    python: PathBuf,
    rdflib_timeout: Duration,
    rdflib: bool,
    query_timeout: Duration,
    /// Sections to run; empty: all.
    only: Vec<Section>,
    /// Count the one-thread extract's instructions (callgrind).
    instructions: bool,
}

impl Bench {
    /// A quiet `newsgraph` command with `args`.
    fn newsgraph(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.ng);
        c.arg("--quiet").args(args);
        c
    }

    fn runs(&self, section: Section) -> bool {
        self.only.is_empty() || self.only.contains(&section)
    }
}

/// Named series of timings printed by a peer script.
type Timings = Vec<(String, Vec<f64>)>;

/// One measured child process.
#[derive(Clone, Copy)]
struct Sample {
    secs: f64,
    /// Peak resident set of the child in MiB (`/usr/bin/time %M`).
    peak_mib: f64,
}

/// The instructions `cmd` executes, counted by valgrind's callgrind (its
/// profile is not kept); fails on a non-zero exit or when valgrind is
/// missing.
fn count_instructions(cmd: Command) -> Result<u64> {
    let mut counted = Command::new("valgrind");
    counted
        .arg("--tool=callgrind")
        .arg("--callgrind-out-file=/dev/null")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => counted.env(k, v),
            None => counted.env_remove(k),
        };
    }
    let output = counted.output().context("cannot run valgrind")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{cmd:?} under callgrind failed: {stderr}");
    }
    // "==1234== Collected : 784829280"
    stderr
        .lines()
        .find_map(|l| l.split_once("Collected : ")?.1.trim().parse().ok())
        .with_context(|| format!("no instruction count in callgrind's report: {stderr}"))
}

/// Runs `cmd` under `/usr/bin/time -f %M`, stdout to `stdout` (or
/// /dev/null); fails on a non-zero exit.
fn measure(cmd: Command, stdout: Option<&Path>) -> Result<Sample> {
    let rss = tempfile_path("rss");
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(cmd.get_program());
    timed.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    timed.stdout(match stdout {
        Some(p) => Stdio::from(std::fs::File::create(p)?),
        None => Stdio::null(),
    });
    timed.stderr(Stdio::piped());
    let started = Instant::now();
    let output = timed.output().context("cannot run /usr/bin/time")?;
    let secs = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "{:?} failed: {}",
            cmd,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let kib: f64 = std::fs::read_to_string(&rss)?
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0.0);
    let _ = std::fs::remove_file(&rss);
    Ok(Sample {
        secs,
        peak_mib: kib / 1024.0,
    })
}

fn tempfile_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ng-bench-{}-{tag}", std::process::id()))
}

/// min / median / max.
fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn repeat(n: usize, mut f: impl FnMut() -> Result<Sample>) -> Result<Vec<Sample>> {
    (0..n).map(|_| f()).collect()
}

struct Table {
    rows: Vec<String>,
}

impl Table {
    fn row(&mut self, what: &str, unit: &str, v: (f64, f64, f64), note: &str) {
        let line = format!(
            "| {what} | {unit} | {} | {} | {} | {note} |",
            figure(v.0),
            figure(v.1),
            figure(v.2)
        );
        self.text_row(line);
    }

    /// A row written as it is (a limit instead of figures).
    fn text_row(&mut self, line: String) {
        println!("{line}");
        self.rows.push(line);
    }
}

/// A measured figure with two decimals, or three significant digits when
/// it is below 1.
fn figure(v: f64) -> String {
    if v.is_finite() && v.abs() < 1.0 && v != 0.0 {
        let decimals = (2 - v.abs().log10().floor() as i32).clamp(2, 9) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.2}")
    }
}

const CUES: &[&str] = &[
    "업무협약",
    "협약",
    "MOU",
    "양해각서",
    "육성",
    "전략산업",
    "위원장",
    "참여",
    "출범",
    "가동",
    "원장",
    "대표",
];

fn run_bench(b: &Bench) -> Result<()> {
    let dir = b.work.join(format!("n{}", b.docs));
    let corpus = dir.join("corpus");
    if !corpus.is_dir() {
        eprintln!("generating {} documents in {}", b.docs, dir.display());
        write_corpus(&dir, b.docs, 1, 0, None)?;
    }
    let bytes = dir_size(&corpus) as f64;
    let mib = bytes / 1048576.0;
    let n = b.docs as f64;
    let mut t = Table { rows: Vec::new() };
    println!(
        "\n## {} documents, {:.1} MiB, {} repetitions\n",
        b.docs, mib, b.repeat
    );
    println!("| measurement | unit | min | median | max | note |");
    println!("| --- | --- | ---: | ---: | ---: | --- |");
    let ng = |args: &[&str]| b.newsgraph(args);
    let corpus_s = corpus.to_string_lossy().to_string();

    // Extraction only, 1 thread and all cores.
    let mut ext_secs = Vec::new();
    for threads in ["1", ""].into_iter().filter(|_| b.runs(Section::Extract)) {
        let s = repeat(b.repeat, || {
            let mut c = ng(&["extract", &corpus_s]);
            if threads.is_empty() {
                c.env_remove("RAYON_NUM_THREADS");
            } else {
                c.env("RAYON_NUM_THREADS", threads);
            }
            measure(c, None)
        })?;
        let label = if threads.is_empty() {
            "all cores"
        } else {
            "1 thread"
        };
        let secs: Vec<f64> = s.iter().map(|x| x.secs).collect();
        t.row(
            &format!("extract ({label})"),
            "MB/s",
            stats(secs.iter().map(|x| bytes / 1e6 / x).collect()),
            "",
        );
        t.row(
            &format!("extract ({label})"),
            "docs/s",
            stats(secs.iter().map(|x| n / x).collect()),
            "",
        );
        t.row(
            &format!("extract ({label}) peak RSS"),
            "MiB",
            stats(s.iter().map(|x| x.peak_mib).collect()),
            "",
        );
        ext_secs.push(stats(secs).1);
    }
    if ext_secs.is_empty() {
        ext_secs = vec![f64::NAN, f64::NAN];
    }
    if b.runs(Section::Extract) {
        t.row(
            "extract speed-up all cores / 1 thread",
            "×",
            (
                ext_secs[0] / ext_secs[1],
                ext_secs[0] / ext_secs[1],
                ext_secs[0] / ext_secs[1],
            ),
            "from medians",
        );
        let rg = repeat(b.repeat, || {
            let mut c = Command::new("rg");
            c.arg("-c").arg("-j1");
            for cue in CUES {
                c.arg("-e").arg(cue);
            }
            c.arg(&corpus);
            measure(c, None)
        });
        match rg {
            Ok(rg) => {
                let secs: Vec<f64> = rg.iter().map(|x| x.secs).collect();
                let med = stats(secs.clone()).1;
                t.row(
                    "peer: ripgrep cue scan (1 thread)",
                    "MB/s",
                    stats(secs.iter().map(|x| bytes / 1e6 / x).collect()),
                    &format!(
                        "newsgraph 1-thread extract takes {:.0}× rg's time",
                        ext_secs[0] / med
                    ),
                );
            }
            Err(e) => eprintln!("ripgrep not run: {e:#}"),
        }
        if b.instructions {
            let mut c = ng(&["extract", &corpus_s]);
            c.env("RAYON_NUM_THREADS", "1");
            match count_instructions(c) {
                Ok(count) => {
                    let per_byte = count as f64 / bytes;
                    t.row(
                        "extract (1 thread) instructions",
                        "per input byte",
                        (per_byte, per_byte, per_byte),
                        &format!(
                            "callgrind, one run: {:.1} M instructions",
                            count as f64 / 1e6
                        ),
                    );
                }
                Err(e) => eprintln!("instructions not counted: {e:#}"),
            }
        }
    }

    // Build (extract + store) vs extract + Oxigraph bulk load of the N-Quads.
    let nq = dir.join("corpus.nq");
    let store = dir.join("store.db");
    if b.runs(Section::Build) || !nq.is_file() {
        measure(ng(&["extract", &corpus_s]), Some(&nq))?;
    }
    let quads = count_lines(&nq)?;
    let mut build_secs = Vec::new();
    if b.runs(Section::Build) {
        let s = repeat(b.repeat, || {
            let _ = std::fs::remove_dir_all(&store);
            let st = store.to_string_lossy().to_string();
            let r = measure(ng(&["--store", &st, "build", &corpus_s]), None)?;
            build_secs.push(r.secs);
            Ok(r)
        })?;
        t.row(
            "build on disk (extract + store)",
            "docs/s",
            stats(build_secs.iter().map(|x| n / x).collect()),
            &format!("{quads} quads, {:.0} quads/doc", quads as f64 / n),
        );
        t.row(
            "build peak RSS",
            "MiB",
            stats(s.iter().map(|x| x.peak_mib).collect()),
            "",
        );
        let size = dir_size(&store) as f64 / 1048576.0;
        t.row("store size on disk", "MiB", (size, size, size), "");
        let loaded = dir.join("load.db");
        let load = repeat(b.repeat, || {
            let _ = std::fs::remove_dir_all(&loaded);
            let st = loaded.to_string_lossy().to_string();
            measure(ng(&["--store", &st, "load", &nq.to_string_lossy()]), None)
        })?;
        let load_secs: Vec<f64> = load.iter().map(|x| x.secs).collect();
        t.row(
            "peer: `newsgraph load` (Oxigraph bulk loader) of the same N-Quads",
            "quads/s",
            stats(load_secs.iter().map(|x| quads as f64 / x).collect()),
            "",
        );
        let build_med = stats(build_secs.clone()).1;
        let store_part = build_med - ext_secs[1];
        let load_med = stats(load_secs).1;
        const STORE_PART: &str = "store part of build (build − extract, medians)";
        if store_part > 0.0 {
            let rate = quads as f64 / store_part;
            t.row(
                STORE_PART,
                "quads/s",
                (rate, rate, rate),
                &format!(
                    "{:.2}× the bulk loader's time (target ≤ 1.3×)",
                    store_part / load_med
                ),
            );
        } else {
            // On a small corpus the difference is within the noise, and
            // `extract` also formats N-Quads, which `build` does not.
            let why = if ext_secs[1].is_nan() {
                "not measurable in this run: the extract section did not run".to_string()
            } else {
                format!(
                    "not measurable at this size: the build ({build_med:.3} s) took no \
                     longer than `extract` alone ({:.3} s)",
                    ext_secs[1]
                )
            };
            t.text_row(format!("| {STORE_PART} | quads/s | – | – | – | {why} |"));
        }
    }

    // Incremental: 1 % of the documents changed, rebuilt into the store.
    if b.runs(Section::Incremental) {
        let changed: Vec<usize> = (0..b.docs).step_by(100).collect();
        let inc_dir = dir.join("changed");
        let _ = std::fs::remove_dir_all(&inc_dir);
        write_corpus(&inc_dir, b.docs, 1, 1, Some(&changed))?;
        let st = store.to_string_lossy().to_string();
        let changed_corpus = inc_dir.join("corpus").to_string_lossy().to_string();
        let rebuild = || measure(ng(&["--store", &st, "build", &changed_corpus]), None);
        // Straight after the full build, the store still holds the files
        // the bulk loader ingested: the first rebuild compacts them too.
        let inc = repeat(b.repeat, &rebuild)?;
        let inc_secs: Vec<f64> = inc.iter().map(|x| x.secs).collect();
        let after = if build_secs.is_empty() {
            "on the store an earlier run left".to_string()
        } else {
            let full = stats(build_secs.clone()).1;
            format!("straight after the full build (median {full:.2} s)")
        };
        t.row(
            &format!(
                "incremental rebuild of {} changed documents (1 %)",
                changed.len()
            ),
            "s",
            stats(inc_secs),
            &after,
        );
        let before = table_files(&store);
        let optimize = measure(ng(&["--store", &st, "optimize"]), None)?;
        t.row(
            "optimize (compaction) after the rebuilds",
            "s",
            (optimize.secs, optimize.secs, optimize.secs),
            &format!("{before} → {} store files", table_files(&store)),
        );
        let settled = repeat(b.repeat, &rebuild)?;
        t.row(
            &format!(
                "incremental rebuild of {} changed documents (1 %), after optimize",
                changed.len()
            ),
            "s",
            stats(settled.iter().map(|x| x.secs).collect()),
            "",
        );
    }
    // Back to the clean state for the exports and queries.
    if b.runs(Section::Incremental) || !store.is_dir() {
        let _ = std::fs::remove_dir_all(&store);
        measure(
            ng(&["--store", &store.to_string_lossy(), "build", &corpus_s]),
            None,
        )?;
    }

    let st = store.to_string_lossy().to_string();
    if b.runs(Section::Export) {
        export_bench(b, &store, &dir.join("export"), &mut t)?;
    }
    if b.runs(Section::Queries) {
        query_bench(b, &st, &nq, quads, &mut t)?;
    }
    let results = if b.only.is_empty() {
        "results.md"
    } else {
        "results-partial.md"
    };
    std::fs::write(dir.join(results), t.rows.join("\n") + "\n")?;
    Ok(())
}

/// The last line of an error (a Python traceback ends with the error), fit
/// for a table cell.
fn last_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .replace('|', "/")
}

/// The non-empty lines of a file (the quads of an N-Quads file), read in
/// blocks: the N-Quads of a 100 k corpus are several gigabytes.
fn count_lines(path: &Path) -> Result<usize> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let (mut lines, mut at_line_start) = (0, true);
    loop {
        let block = reader.fill_buf()?;
        if block.is_empty() {
            return Ok(lines);
        }
        for &byte in block {
            if byte == b'\n' {
                at_line_start = true;
            } else if at_line_start {
                lines += 1;
                at_line_start = false;
            }
        }
        let len = block.len();
        reader.consume(len);
    }
}

/// Exports of the built store, whole command and write only, vs networkx.
fn export_bench(b: &Bench, store: &Path, exp: &Path, t: &mut Table) -> Result<()> {
    let ng = |args: &[&str]| b.newsgraph(args);
    std::fs::create_dir_all(exp)?;
    let st = store.to_string_lossy().to_string();
    let mut export_med = BTreeMap::new();
    for (format, out) in [
        ("graphml", exp.join("graph.graphml")),
        ("gexf", exp.join("graph.gexf")),
        ("csv", exp.join("csv")),
    ] {
        let s = repeat(b.repeat, || {
            measure(
                ng(&[
                    "--store",
                    &st,
                    "export",
                    "--format",
                    format,
                    "--out",
                    &out.to_string_lossy(),
                ]),
                None,
            )
        })?;
        let secs: Vec<f64> = s.iter().map(|x| x.secs).collect();
        export_med.insert(format, stats(secs.clone()).1);
        t.row(
            &format!("export {format} (whole command)"),
            "s",
            stats(secs),
            &format!("peak RSS {:.0} MiB", s[0].peak_mib),
        );
    }
    // Write only, in process: the graph read from the store once (timed
    // apart), then each format written into a file.
    let gs = newsgraph::store::GraphStore::open_existing(store)?;
    let started = Instant::now();
    let graph = newsgraph::graph::Graph::from_store(&gs, &newsgraph::graph::Selection::default())?;
    let read_secs = started.elapsed().as_secs_f64();
    let size_note = format!("{} nodes, {} edges", graph.nodes.len(), graph.edges.len());
    t.row(
        "export: read graph from store + measures (in process)",
        "s",
        (read_secs, read_secs, read_secs),
        &size_note,
    );
    let mut write_med = BTreeMap::new();
    for format in ["graphml", "gexf", "csv"] {
        let mut secs = Vec::new();
        for _ in 0..b.repeat {
            // Into a file, as networkx writes, through the writer `export`
            // uses (the file written on a thread of its own), without
            // `export`'s fsync and rename.
            let path = exp.join(format!("write-only.{format}"));
            let started = Instant::now();
            let mut sink = newsgraph::export::WriteBehind::new(std::fs::File::create(&path)?)?;
            match format {
                "graphml" => newsgraph::export::write_graphml(&graph, &mut sink)?,
                "gexf" => newsgraph::export::write_gexf(&graph, &mut sink)?,
                _ => {
                    newsgraph::export::write_nodes_csv(&graph, &mut sink)?;
                    newsgraph::export::write_edges_csv(&graph, &mut sink)?;
                }
            }
            sink.into_inner()?;
            secs.push(started.elapsed().as_secs_f64());
            std::fs::remove_file(&path)?;
        }
        let st3 = stats(secs);
        write_med.insert(format.to_string(), st3.1);
        t.row(
            &format!("export {format} (write only, in process)"),
            "s",
            st3,
            "",
        );
    }
    match networkx_times(b, exp) {
        Ok(nx) => {
            for (format, secs) in nx {
                let ours = write_med.get(&format).copied().unwrap_or(f64::NAN);
                let whole = export_med.get(format.as_str()).copied().unwrap_or(f64::NAN);
                let st3 = stats(secs);
                t.row(
                    &format!("peer: networkx write {format} (write only)"),
                    "s",
                    st3,
                    &format!(
                        "networkx / newsgraph write = {:.1}×; / whole command = {:.2}×",
                        st3.1 / ours,
                        st3.1 / whole
                    ),
                );
            }
        }
        Err(e) => {
            eprintln!("networkx not run: {e:#}");
            t.text_row(format!(
                "| peer: networkx | | | | | did not run: {} |",
                last_line(&e)
            ));
        }
    }
    Ok(())
}

/// The example queries against the built store, each in its own process,
/// vs rdflib on the same N-Quads.
fn query_bench(b: &Bench, st: &str, nq: &Path, quads: usize, t: &mut Table) -> Result<()> {
    let ng = |args: &[&str]| b.newsgraph(args);

    // Queries in process (store opened once), vs rdflib.
    let queries = query_files()?;
    let mut ours = BTreeMap::new();
    // Rows each query gave (ours), to check that rdflib gives as many.
    let mut our_rows = BTreeMap::new();
    let answer = nq.with_file_name("query-answer.csv");
    // Each query is a `newsgraph query` process killed after the limit,
    // its answer written to a file; the cost of starting it and opening
    // the store is measured with a 1-row SELECT and subtracted.
    let run_query = |text: &str| -> Result<Option<f64>> {
        let out =
            std::fs::File::create(&answer).with_context(|| format!("{}", answer.display()))?;
        let mut child = ng(&["--store", st, "query", "--results", "csv", text])
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    bail!("query failed: {text}");
                }
                return Ok(Some(started.elapsed().as_secs_f64() * 1000.0));
            }
            if started.elapsed() > b.query_timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    let mut overhead = Vec::new();
    for _ in 0..b.repeat.max(3) {
        overhead.push(run_query("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1")?.unwrap_or(f64::NAN));
    }
    let overhead = stats(overhead);
    t.row(
        "query process start + store open (1-row SELECT)",
        "ms",
        overhead,
        "subtracted below",
    );
    for (name, text) in &queries {
        let mut secs = Vec::new();
        let mut timed_out = false;
        for _ in 0..b.repeat.max(3) {
            match run_query(text)? {
                Some(ms) => secs.push((ms - overhead.1).max(0.0)),
                None => {
                    timed_out = true;
                    break;
                }
            }
        }
        if timed_out {
            t.text_row(format!(
                "| query {name} | ms | | > {} | | over the limit, killed |",
                b.query_timeout.as_millis()
            ));
            continue;
        }
        let rows = csv::Reader::from_path(&answer)?.into_records().count();
        our_rows.insert(name.clone(), rows);
        t.row(
            &format!("query {name}"),
            "ms",
            stats(secs),
            &format!("{rows} rows"),
        );
    }
    let _ = std::fs::remove_file(&answer);
    // The same queries in process, the store opened once: what rdflib,
    // which holds its graph in memory, is compared with. Only queries that
    // finished within the limit above (an in-process query cannot be
    // stopped).
    let store = newsgraph::store::GraphStore::open_existing(Path::new(st))?;
    for (name, text) in &queries {
        if !our_rows.contains_key(name) {
            ours.insert(name.clone(), f64::NAN);
            continue;
        }
        let mut ms = Vec::new();
        for _ in 0..b.repeat.max(3) {
            let mut answer = Vec::new();
            let started = Instant::now();
            newsgraph::query::run_query(
                &store,
                text,
                newsgraph::query::ResultsFormat::Csv,
                &mut answer,
            )?;
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let st3 = stats(ms);
        ours.insert(name.clone(), st3.1);
        t.row(&format!("query {name} (in process)"), "ms", st3, "");
    }
    drop(store);
    if b.rdflib {
        match rdflib_times(b, nq) {
            Ok(run) => {
                let rate = quads as f64 / run.parse;
                t.row(
                    "peer: rdflib parse N-Quads",
                    "quads/s",
                    (rate, rate, rate),
                    "",
                );
                let mut not_reached: Vec<&str> = queries.iter().map(|(n, _)| n.as_str()).collect();
                not_reached.retain(|q| {
                    !run.queries.iter().any(|(n, _)| n == q)
                        && !run.over_limit.iter().any(|n| n == q)
                });
                for (name, ms) in run.queries {
                    let st3 = stats(ms);
                    let r = st3.1 / ours.get(&name).copied().unwrap_or(f64::NAN);
                    let rows = run.rows.get(&name).copied().unwrap_or(0);
                    let same = match our_rows.get(&name) {
                        Some(&n) if n == rows => format!("the same {rows} rows"),
                        Some(&n) => format!("{rows} rows against our {n}"),
                        None => format!("{rows} rows"),
                    };
                    t.row(
                        &format!("peer: rdflib query {name}"),
                        "ms",
                        st3,
                        &format!("rdflib / newsgraph in process = {r:.0}×, {same}"),
                    );
                }
                for name in run.over_limit {
                    let limit = b.query_timeout.as_millis();
                    let at_least = limit as f64 / ours.get(&name).copied().unwrap_or(f64::NAN);
                    t.text_row(format!(
                        "| peer: rdflib query {name} | ms | | > {limit} | | over the limit, stopped; rdflib / newsgraph in process > {at_least:.0}× |"
                    ));
                }
                if !not_reached.is_empty() {
                    t.text_row(format!(
                        "| peer: rdflib | | | | | did not reach {} within {} s |",
                        not_reached.join(", "),
                        b.rdflib_timeout.as_secs()
                    ));
                }
            }
            Err(e) => {
                eprintln!("rdflib: {e:#}");
                t.text_row(format!(
                    "| peer: rdflib | | | | | did not finish: {} |",
                    last_line(&e)
                ));
            }
        }
    }
    Ok(())
}

fn query_files() -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/queries");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rq"))
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        out.push((name, std::fs::read_to_string(&p)?));
    }
    Ok(out)
}

/// Runs a Python script with a time limit; returns its standard output.
fn python(b: &Bench, script: &str, args: &[&Path], limit: Duration) -> Result<String> {
    let mut child = Command::new(&b.python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", b.python.display()))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let out = child.wait_with_output()?;
            if !status.success() {
                bail!("python failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output()?;
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str("timeout\n");
            return Ok(text);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const NX_SCRIPT: &str = r#"
import csv, sys, time, os
import networkx as nx
d, reps = sys.argv[1], int(sys.argv[2])
# Cells of large graphs (an edge's documents) pass the csv module's 128 KiB.
csv.field_size_limit(sys.maxsize)
# The same graph with every attribute ours has: GraphML and GEXF are
# written from our GraphML read back, CSV from our CSV's columns.
G = nx.read_graphml(os.path.join(d, "graph.graphml"))
def table(name):
    with open(os.path.join(d, "csv", name), newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)
node_cols, node_rows = table("nodes.csv")
edge_cols, edge_rows = table("edges.csv")
H = nx.MultiDiGraph()
for row in node_rows:
    H.add_node(row[0], **dict(zip(node_cols, row)))
for row in edge_rows:
    H.add_edge(row[0], row[1], **dict(zip(edge_cols, row)))
out = os.path.join(d, "nx")
os.makedirs(out, exist_ok=True)
def write_csv():
    with open(os.path.join(out, "nodes.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f); w.writerow(node_cols)
        for n, a in H.nodes(data=True):
            w.writerow([a.get(c, "") for c in node_cols])
    with open(os.path.join(out, "edges.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f); w.writerow(edge_cols)
        for s, t, a in H.edges(data=True):
            w.writerow([a.get(c, "") for c in edge_cols])
for name, fn in [("graphml", lambda: nx.write_graphml(G, os.path.join(out, "g.graphml"))),
                 ("gexf", lambda: nx.write_gexf(G, os.path.join(out, "g.gexf"))),
                 ("csv", write_csv)]:
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    print(name, *ts)
print("size", G.number_of_nodes(), G.number_of_edges(), file=sys.stderr)
"#;

fn networkx_times(b: &Bench, exp: &Path) -> Result<Timings> {
    let reps = b.repeat.to_string();
    let out = python(
        b,
        NX_SCRIPT,
        &[exp, Path::new(&reps)],
        Duration::from_secs(3600),
    )?;
    parse_times(&out)
}

fn parse_times(out: &str) -> Result<Timings> {
    let mut v = Vec::new();
    for line in out.lines() {
        let mut it = line.split_whitespace();
        let Some(name) = it.next() else { continue };
        let secs: Vec<f64> = it.filter_map(|x| x.parse().ok()).collect();
        if !secs.is_empty() {
            v.push((name.to_string(), secs));
        }
    }
    Ok(v)
}

const RDFLIB_SCRIPT: &str = r#"
import sys, time, os, glob, signal
import rdflib
nq, qdir, reps, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
ds = rdflib.Dataset(default_union=True)
t = time.perf_counter(); ds.parse(nq, format="nquads"); print("parse", time.perf_counter() - t, flush=True)
class Limit(Exception):
    pass
def stop(signum, frame):
    raise Limit()
signal.signal(signal.SIGALRM, stop)
for q in sorted(glob.glob(os.path.join(qdir, "*.rq"))):
    name = os.path.basename(q)[:-3]
    text = open(q).read()
    ts = []
    try:
        for _ in range(reps):
            signal.setitimer(signal.ITIMER_REAL, limit)
            t = time.perf_counter(); rows = len(list(ds.query(text))); ts.append((time.perf_counter() - t) * 1000)
            signal.setitimer(signal.ITIMER_REAL, 0)
        print("rows:" + name, rows)
        print(name, *ts, flush=True)
    except Limit:
        print(name, "over-the-limit", flush=True)
"#;

/// What rdflib did with the N-Quads and the example queries.
struct RdflibRun {
    /// Seconds to parse the N-Quads.
    parse: f64,
    /// Milliseconds of each repetition, per query that finished.
    queries: Timings,
    /// Queries a repetition of which ran over the per-query limit.
    over_limit: Vec<String>,
    /// Rows of each query's answer.
    rows: BTreeMap<String, usize>,
}

/// Parses the N-Quads into an rdflib `Dataset` (default graph = union, as
/// ours) and runs every example query `repeat` times, each run stopped
/// after `--query-timeout` like ours; the whole run is killed after
/// `--rdflib-timeout`.
fn rdflib_times(b: &Bench, nq: &Path) -> Result<RdflibRun> {
    let qdir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/queries");
    let reps = b.repeat.to_string();
    let limit = b.query_timeout.as_secs_f64().to_string();
    let out = python(
        b,
        RDFLIB_SCRIPT,
        &[nq, &qdir, Path::new(&reps), Path::new(&limit)],
        b.rdflib_timeout,
    )?;
    if !out.contains("parse ") {
        bail!("rdflib did not parse the N-Quads within the limit");
    }
    let mut queries = parse_times(&out)?;
    let parse = match queries.iter().position(|(n, _)| n == "parse") {
        Some(i) => queries.remove(i).1[0],
        None => bail!("rdflib gave no parse time"),
    };
    let mut rows = BTreeMap::new();
    queries.retain(|(name, values)| match name.strip_prefix("rows:") {
        Some(query) => {
            rows.insert(query.to_string(), values[0] as usize);
            false
        }
        None => true,
    });
    let over_limit = out
        .lines()
        .filter_map(|l| l.strip_suffix(" over-the-limit"))
        .map(str::to_string)
        .collect();
    Ok(RdflibRun {
        parse,
        queries,
        over_limit,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn particles_follow_the_final_consonant() {
        assert_eq!(topic("광주시"), "광주시는");
        assert_eq!(topic("한빛전자"), "한빛전자는");
        assert_eq!(with("진흥원"), "진흥원과");
    }

    #[test]
    fn pages_are_deterministic() {
        let s = sectors();
        assert!(s.len() > 20, "{s:?}");
        let a = page(&mut Rng::new(7), &s, 3).0;
        let b = page(&mut Rng::new(7), &s, 3).0;
        assert_eq!(a, b);
    }

    #[test]
    fn lines_are_counted_across_blocks_and_without_a_final_newline() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("ng-count-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("q.nq");
        let line = "<a> <b> <c> <g> .\n".repeat(1 << 16);
        std::fs::write(&path, format!("{line}\n\n<x> <y> <z> ."))?;
        let counted = count_lines(&path)?;
        std::fs::remove_dir_all(&dir)?;
        assert_eq!(counted, (1 << 16) + 1);
        Ok(())
    }
}
