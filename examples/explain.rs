//! Shows what each stage makes of one document: the cleaned sentences,
//! the names recognised in each, and the facts with the rules that fired.
//!
//! `cargo run --release --example explain -- seeds/000_d7f6930ecccab7f7.txt`

use std::path::PathBuf;

use newsgraph::ontology::Ontology;
use newsgraph::pipeline::extract_document;
use newsgraph::read::{read_document, InputFile};

fn main() -> anyhow::Result<()> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("usage: explain FILE"))?;
    let ontology = Ontology::load(None)?;
    let raw = read_document(&InputFile {
        id: path.display().to_string(),
        path,
    })?;
    let doc = extract_document(&raw, &ontology);
    println!("title: {:?}  date: {:?}", doc.meta.title, doc.meta.date);
    for (i, e) in doc.recognised.entities.iter().enumerate() {
        let parent = e
            .parent
            .map(|p| doc.recognised.entities[p].label().to_string());
        println!(
            "entity {i}: {} {} {:?} class {:?} strong {} parent {:?}",
            e.kind.as_str(),
            e.label(),
            e.names,
            e.class,
            e.strong,
            parent
        );
    }
    for (i, s) in doc.sentences.iter().enumerate() {
        println!("\n[{i}] (article {}) {}", s.article, s.text);
        let m = &doc.recognised.sentences[i];
        for mention in &m.mentions {
            let e = &doc.recognised.entities[mention.entity];
            println!(
                "    {:<12} {:<24} → {} (particle {:?}{}{})",
                mention.kind.as_str(),
                mention.name,
                e.label(),
                mention.particle,
                if mention.modifier { ", modifier" } else { "" },
                if mention.subcommittee { ", 분과" } else { "" }
            );
        }
        for t in &m.titles {
            let org = t
                .organization
                .map(|o| doc.recognised.entities[o].label().to_string());
            println!(
                "    title: {} {} @ {:?}",
                doc.recognised.entities[t.person].label(),
                t.title.title,
                org
            );
        }
        for f in doc.facts.iter().filter(|f| f.sentence == i) {
            println!(
                "    FACT {} {} {}  [{} {:.2}]",
                doc.recognised.entities[f.subject].label(),
                f.relation,
                doc.recognised.entities[f.object].label(),
                f.rule,
                f.confidence
            );
        }
    }
    Ok(())
}
