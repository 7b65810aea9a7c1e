//! Each relation's cues on short Korean sentences written for these tests:
//! what must be found, and what must not.

use std::path::PathBuf;

use newsgraph::model::{DocumentGraph, EntityType};
use newsgraph::ontology::Ontology;
use newsgraph::pipeline::{extract_texts, ExtractOptions};
use newsgraph::read::RawDocument;

fn extract(text: &str) -> DocumentGraph {
    let ontology = Ontology::load(None).expect("ontology");
    let raw = RawDocument {
        id: "t.txt".into(),
        source: PathBuf::from("t.txt"),
        text: text.into(),
        encoding: "UTF-8",
        ..RawDocument::default()
    };
    extract_texts(&[raw], &ontology, &ExtractOptions::default()).remove(0)
}

fn facts(doc: &DocumentGraph) -> Vec<String> {
    let label = |iri: &str| {
        doc.entities
            .iter()
            .find(|e| *e.iri == *iri)
            .map(|e| e.label.to_string())
            .unwrap_or_default()
    };
    doc.facts
        .iter()
        .map(|f| format!("{} {} {}", label(&f.subject), f.relation, label(&f.object)))
        .collect()
}

fn has(doc: &DocumentGraph, fact: &str) -> bool {
    facts(doc).iter().any(|f| f == fact)
}

fn has_either(doc: &DocumentGraph, a: &str, rel: &str, b: &str) -> bool {
    has(doc, &format!("{a} {rel} {b}")) || has(doc, &format!("{b} {rel} {a}"))
}

#[test]
fn mou_between_subject_and_partner() {
    let d = extract("전북테크노파크는 12일 한국탄소산업진흥원과 탄소소재 산업 육성을 위한 업무협약(MOU)을 체결했다고 밝혔다.");
    assert!(
        has_either(&d, "전북테크노파크", "signedMouWith", "한국탄소산업진흥원"),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn mou_with_coordinated_parties_links_every_pair() {
    let d = extract("대구시와 경북도, 포스텍은 이날 수소 산업 생태계 조성을 위한 협약을 맺었다.");
    for (a, b) in [
        ("대구광역시", "경상북도"),
        ("대구광역시", "포항공과대학교"),
        ("경상북도", "포항공과대학교"),
    ] {
        assert!(
            has_either(&d, a, "signedMouWith", b),
            "{a}-{b}: {:?}",
            facts(&d)
        );
    }
}

#[test]
fn planned_mou_is_not_an_agreement() {
    let d = extract("부산시는 다음 달 한국해양진흥공사와 업무협약을 체결할 예정이다.");
    assert!(
        !facts(&d).iter().any(|f| f.contains("signedMouWith")),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn head_from_title_after_name() {
    let d = extract("박형준 부산시장은 이날 조선 산업을 집중 육성하겠다고 밝혔다.");
    assert!(has(&d, "박형준 headOf 부산광역시"), "{:?}", facts(&d));
    assert!(
        has(&d, "부산광역시 targetsSector 조선해양"),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn head_with_organisation_glued_to_the_title() {
    let d = extract("이정우 한국전자기술연구원장은 반도체 분야 협력을 강조했다.");
    assert!(
        has(&d, "이정우 headOf 한국전자기술연구원"),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn deputy_is_affiliated_not_head() {
    let d = extract(
        "최민수 대전시 행정부시장은 회의에 참석했다. 정다은 한국로봇산업진흥원 본부장도 발언했다.",
    );
    assert!(
        has(&d, "최민수 affiliatedWith 대전광역시"),
        "{:?}",
        facts(&d)
    );
    assert!(
        has(&d, "정다은 affiliatedWith 한국로봇산업진흥원"),
        "{:?}",
        facts(&d)
    );
    assert!(
        !facts(&d).iter().any(|f| f.contains("headOf")),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn chair_of_a_committee_not_head() {
    let d = extract("울산시 탄소중립위원회는 이날 출범했다. 위원장은 오세진 울산대 교수가 맡았으며 위원으로는 울산테크노파크, 울산대학교 등이 참여했다.");
    assert!(
        has(&d, "오세진 chairs 울산시 탄소중립위원회")
            || facts(&d).iter().any(|f| f.starts_with("오세진 chairs")),
        "{:?}",
        facts(&d)
    );
    assert!(
        !facts(&d).iter().any(|f| f.starts_with("오세진 headOf")),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn chair_in_parentheses() {
    let d = extract("국민의힘 지역균형발전특별위원회(위원장 강민호 최고위원)는 세미나를 열었다.");
    let f = facts(&d);
    assert!(
        f.iter()
            .any(|x| x.starts_with("강민호 chairs") && x.contains("지역균형발전특별위원회")),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|x| x.contains("지역균형발전특별위원회 partOf 국민의힘")),
        "{f:?}"
    );
}

#[test]
fn former_post_gives_no_relation() {
    let d = extract("이날 토론에는 전 김철수 강원도지사가 참석했다.");
    assert!(
        !facts(&d).iter().any(|f| f.starts_with("김철수")),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn members_of_a_task_force() {
    let d = extract("충남도는 ‘충남 수소경제 추진단’을 출범했다. 추진단에는 충남테크노파크, 한국가스공사, 공주대학교 등이 참여했다.");
    let f = facts(&d);
    for m in ["충남테크노파크", "한국가스공사"] {
        assert!(
            f.iter().any(|x| x.starts_with(&format!("{m} memberOf"))),
            "{m}: {f:?}"
        );
    }
    assert!(f.iter().any(|x| x.contains("partOf 충청남도")), "{f:?}");
}

#[test]
fn attending_a_meeting_is_not_membership() {
    let d = extract("경남도는 창원시, 한국전기연구원 등이 참석한 가운데 전략회의를 개최했다.");
    assert!(
        !facts(&d).iter().any(|f| f.contains("memberOf")),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn sectors_from_bullet_lists() {
    let d = extract(
        "전남도는 5대 전략산업으로 ▲이차전지 ▲해상풍력 ▲바이오 ▲우주항공 ▲관광산업을 선정했다.",
    );
    let f = facts(&d);
    for s in ["이차전지", "에너지", "바이오", "우주항공", "관광"] {
        assert!(
            f.contains(&format!("전라남도 targetsSector {s}")),
            "{s}: {f:?}"
        );
    }
}

#[test]
fn sector_named_only_as_a_basis_is_not_a_target() {
    let d = extract("강원도는 AI기반 관광 산업을 육성한다.");
    let f = facts(&d);
    assert!(
        f.contains(&"강원특별자치도 targetsSector 관광".to_string()),
        "{f:?}"
    );
    assert!(
        !f.contains(&"강원특별자치도 targetsSector 인공지능".to_string()),
        "{f:?}"
    );
}

#[test]
fn unit_under_an_organisation() {
    let d = extract("산업통상자원부 산하 한국산업기술진흥원은 소재 분야 지원을 확대한다.");
    assert!(
        has(&d, "한국산업기술진흥원 partOf 산업통상자원부"),
        "{:?}",
        facts(&d)
    );
}

#[test]
fn no_person_without_a_title() {
    let d = extract("이번 사업은 지역 기업과 대학이 함께 추진한다.");
    assert!(
        d.entities.iter().all(|e| e.kind != EntityType::Person),
        "{:?}",
        d.entities
    );
}

#[test]
fn facts_of_a_page_with_two_articles_carry_their_own_headlines() {
    let d = extract(
        "부산시, 조선 산업 육성 계획 발표\n박형준 부산시장은 조선 산업을 집중 육성하겠다고 밝혔다.\n/갑돌이 기자 a@b.kr\n\
         대구시, 로봇 산업 육성 전략 공개\n홍준표 대구시장은 로봇 산업을 집중 육성하겠다고 밝혔다.\n/을순이 기자 c@d.kr\n",
    );
    let title_of = |needle: &str| {
        d.facts
            .iter()
            .find(|f| f.evidence.text.contains(needle))
            .and_then(|f| f.evidence.article_title.clone())
    };
    assert_eq!(
        title_of("박형준").as_deref(),
        Some("부산시, 조선 산업 육성 계획 발표")
    );
    assert_eq!(
        title_of("홍준표").as_deref(),
        Some("대구시, 로봇 산업 육성 전략 공개")
    );
    assert!(d.facts.iter().any(|f| f.evidence.article == 1));
}
