//! How an article changed (issue 18): the fixture publishes the seed article, then edits it
//! (a headline changed, a paragraph added, a correction appended); cairn captures both.
//! `cairn history` marks the capture whose text changed, `cairn diff` names exactly those
//! three changes, by character in the Chinese headline (coloured on a terminal); replay shows
//! the versions as a calendar and a timeline, and the diff inline and side by side, in
//! Chromium with nothing leaving the server (screenshots in `target/test-artifacts/`); a job
//! names the changed page in its history and runs its `on_change` command with it. A crawl of
//! the section front reports the edited article one link away; another tool's captures
//! (warcio's, one of them chunked and gzip-encoded) get their texts, history, diff and replay
//! view when first asked.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::archive::archive_ok;
use crate::fixture::HttpsFixture;
use crate::replay::ReplayServer;
use crate::site::{self, ADDED_PARAGRAPH, CORRECTION, EDITED_HEADLINE, HEADLINE};
use crate::support::*;

/// The article captured as first published, then as edited (each with what it needs, no
/// related pages), then once more unchanged: three captures, the text changed at the second.
fn three_captures(archives: &Path) -> (HttpsFixture, Value) {
    let edited = Arc::new(AtomicBool::new(false));
    let fixture = site::start_editions(edited.clone()).unwrap();
    let depth0 = ["--depth", "0", "--no-progress"];
    archive_ok(archives, &fixture, &depth0, &[site::ARTICLE]);
    edited.store(true, Ordering::SeqCst);
    // A second apart at least: captures are told apart by their 14-digit timestamps.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = archive_ok(
        archives,
        &fixture,
        &[&depth0[..], &["--json"]].concat(),
        &[site::ARTICLE],
    );
    let summary: Value = serde_json::from_slice(&second.stdout).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    archive_ok(archives, &fixture, &depth0, &[site::ARTICLE]);
    (fixture, summary)
}

fn cairn_json(archives: &Path, args: &[&str]) -> Value {
    let out = run_ok(
        cairn()
            .arg("--archives")
            .arg(archives)
            .arg("--json")
            .args(args),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The paragraphs of a `cairn diff --json` that are not the same in both captures.
fn changed_paragraphs(diff: &Value) -> Vec<&Value> {
    diff["diff"]["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["change"] != "same")
        .collect()
}

/// The text of one side of a word diff: what the spans of `kind` and the same spans make.
fn side(spans: &Value, left_out: &str) -> String {
    spans
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] != left_out)
        .map(|s| s["text"].as_str().unwrap())
        .collect()
}

#[test]
fn history_and_diff_name_exactly_the_edits_of_the_article() {
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let (_fixture, second_run) = three_captures(&archives);
    assert_eq!(
        second_run["texts"]["changed"],
        serde_json::json!([site::ARTICLE]),
        "the crawl that met the edit says so"
    );

    let history = cairn_json(&archives, &["history", site::ARTICLE]);
    let marks: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["text"].as_str().unwrap())
        .collect();
    assert_eq!(marks, ["first", "changed", "unchanged"], "{history:#}");
    assert_eq!(history["versions"][1]["title"], EDITED_HEADLINE);
    assert_eq!(
        history["versions"][2]["revisit"], true,
        "the third capture stored nothing new"
    );

    // The default: the last two captures whose texts differ.
    let diff = cairn_json(&archives, &["diff", site::ARTICLE]);
    let title = &diff["diff"]["title"];
    assert_eq!(side(title, "added"), HEADLINE);
    assert_eq!(side(title, "removed"), EDITED_HEADLINE);
    let changed_chars: String = title
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] != "same")
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        changed_chars.chars().count() < 20,
        "the headline's edit is marked by character, not whole: {title}"
    );
    assert!(diff["diff"].get("byline").is_none());
    let changes = changed_paragraphs(&diff);
    assert_eq!(
        changes.len(),
        2,
        "exactly the added paragraph and the correction: {changes:#?}"
    );
    assert_eq!(
        (changes[0]["change"].as_str(), changes[0]["new"].as_u64()),
        (Some("added"), Some(4))
    );
    assert_eq!(changes[0]["text"], ADDED_PARAGRAPH);
    assert_eq!(changes[1]["change"], "added");
    assert_eq!(changes[1]["text"], CORRECTION);

    // Two timestamps: the captures nearest to them, here the first and the third.
    let first = history["versions"][0]["timestamp"].as_str().unwrap();
    let third = history["versions"][2]["timestamp"].as_str().unwrap();
    let explicit = cairn_json(&archives, &["diff", site::ARTICLE, first, third]);
    assert_eq!(explicit["diff"], diff["diff"]);
    assert_eq!(explicit["from"]["timestamp"], first);

    // For a reader: git's word-diff marks when stdout is no terminal.
    let plain = stdout(&run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .args(["diff", site::ARTICLE]),
    ));
    assert!(
        plain.contains(&format!("+ ¶4 {{+{ADDED_PARAGRAPH}+}}")),
        "{plain}"
    );
    assert!(
        plain.contains("title: ") && plain.contains("[-") && plain.contains("{+"),
        "{plain}"
    );
    assert!(
        plain.contains("2 paragraphs added, 0 removed, 0 changed, title changed"),
        "{plain}"
    );

    // On a terminal (util-linux `script` gives it one): red struck through and green,
    // without the marks; `NO_COLOR` keeps the marks.
    let on_terminal = |no_color: bool| {
        let line = format!(
            "{} --archives {} diff {}",
            env!("CARGO_BIN_EXE_cairn"),
            archives.display(),
            site::ARTICLE
        );
        let mut script = tool("script");
        script.args(["-qec", &line, "/dev/null"]);
        if no_color {
            script.env("NO_COLOR", "1");
        }
        stdout(&run_ok(&mut script))
    };
    let coloured = on_terminal(false);
    assert!(
        coloured.contains(&format!("\x1b[32m{ADDED_PARAGRAPH}\x1b[0m"))
            && coloured.contains("\x1b[31;9m")
            && !coloured.contains("{+"),
        "{coloured:?}"
    );
    let uncoloured = on_terminal(true);
    assert!(
        uncoloured.contains("{+") && !uncoloured.contains('\x1b'),
        "{uncoloured:?}"
    );

    // The texts were kept as the crawls ended, one line per page payload.
    let texts = std::fs::read_to_string(archives.join("default/texts.jsonl")).unwrap();
    assert_eq!(texts.lines().count(), 2, "{texts}");

    let not_archived = cairn()
        .arg("--archives")
        .arg(&archives)
        .args(["diff", "https://www.cna.com.tw/news/never.aspx"])
        .output()
        .unwrap();
    assert_eq!(not_archived.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&not_archived.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn replay_shows_the_versions_and_what_changed() {
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let _fixture = three_captures(&archives);
    let history = cairn_json(&archives, &["history", site::ARTICLE]);
    let stamp = |i: usize| {
        history["versions"][i]["timestamp"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Texts a collection lacks (an older one, another tool's) are made by the versions page,
    // and kept.
    let texts = archives.join("default/texts.jsonl");
    std::fs::remove_file(&texts).unwrap();
    let server = ReplayServer::start(&archives);

    let (status, _, calendar) = server.get(&format!("/default/*/{}", site::ARTICLE));
    let calendar = String::from_utf8(calendar).unwrap();
    assert_eq!(status, 200, "{calendar}");
    assert!(
        calendar.contains("3 captures from") && calendar.contains("changed 1 time."),
        "{calendar}"
    );
    assert_eq!(calendar.matches("mark changed").count(), 1, "{calendar}");
    assert!(!calendar.contains("<script"), "usable without JavaScript");
    assert_eq!(std::fs::read_to_string(&texts).unwrap().lines().count(), 2);

    let diff_path = format!("/default/diff/{}/{}/{}", stamp(0), stamp(1), site::ARTICLE);
    let (status, _, diff) = server.get(&diff_path);
    let diff = String::from_utf8(diff).unwrap();
    assert_eq!(status, 200);
    assert!(
        diff.contains(&format!("<p class=added><ins>{ADDED_PARAGRAPH}</ins></p>")),
        "{diff}"
    );
    assert!(diff.contains(&format!("<p class=added><ins>{CORRECTION}</ins></p>")));
    assert_eq!(diff.matches("<p class=added>").count(), 2);
    assert!(!diff.contains("<p class=removed>") && diff.contains("<del>"));

    // The timeline's form, sent as a browser sends it without script.
    let form = format!(
        "/default/diff?url={}&from={}&to={}&view=side",
        urlencoding(site::ARTICLE),
        stamp(0),
        stamp(2)
    );
    let (status, _, side) = server.get(&form);
    let side = String::from_utf8(side).unwrap();
    assert_eq!(status, 200);
    assert!(
        side.contains("<table class=side>") && side.contains(CORRECTION),
        "{side}"
    );

    // The banner of a replayed version links to them all.
    let (_, _, page) = server.get(&format!("/default/{}/{}", stamp(2), site::ARTICLE));
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains("3 versions, text changed"),
        "{}",
        &page[..page.len().min(2000)]
    );
    assert!(page.contains(&format!("href=\"/default/*/{}\"", site::ARTICLE)));

    // The listing groups pages by host, with each page's capture count.
    let (_, _, listing) = server.get("/default/");
    let listing = String::from_utf8(listing).unwrap();
    assert!(
        listing.contains("<h2>www.cna.com.tw <small>(1 page)</small></h2>"),
        "{listing}"
    );
    assert!(listing.contains(&format!(
        "<a href=\"/default/*/{}\">3 captures</a>",
        site::ARTICLE
    )));

    if !requires(&["chromium", "python3", "python:websockets"]) {
        return;
    }
    let origin = format!("{}/", server.origin);
    for (path, shot, check) in [
        (
            format!("/default/*/{}", site::ARTICLE),
            "versions-calendar.png",
            "document.querySelectorAll('td.has.changed').length + ',' + document.querySelectorAll('tr.changed').length",
        ),
        (
            diff_path.clone(),
            "versions-diff.png",
            "document.querySelectorAll('p.added').length + ',' + document.querySelectorAll('del').length",
        ),
        (
            format!(
                "/default/diff/side/{}/{}/{}",
                stamp(0),
                stamp(1),
                site::ARTICLE
            ),
            "versions-diff-side.png",
            "document.querySelectorAll('table.side ins').length + ',' + document.title",
        ),
    ] {
        let report = browse(&format!("{}{path}", server.origin), shot, check);
        let escaped: Vec<&str> = report["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|r| !r.starts_with(&origin))
            .collect();
        assert!(
            escaped.is_empty(),
            "{path} reached beyond the server: {escaped:?}"
        );
        let value = report["evals"][0].as_str().unwrap_or_default().to_string();
        match shot {
            "versions-calendar.png" => assert_eq!(value, "1,1", "{path}"),
            "versions-diff.png" => {
                assert!(value.starts_with("2,"), "{value}");
                assert_ne!(value, "2,0", "the headline's removed characters are struck");
            }
            _ => assert!(value.starts_with("2,What changed"), "{value}"),
        }
    }
}

/// Opens a page in headless Chromium, cut off from every network, evaluating one expression.
fn browse(url: &str, screenshot: &str, expression: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser_check.py");
    let out = run_ok(
        tool("python3")
            .arg(script)
            .arg(url)
            .arg(crate::browser::artifacts().join(screenshot))
            .args(["--eval", expression]),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[test]
fn a_job_names_the_changed_page_and_runs_its_on_change_command() {
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let edited = Arc::new(AtomicBool::new(false));
    let fixture = site::start_editions(edited.clone()).unwrap();
    let told = work.path().join("told");
    let config = work.path().join("cairn.toml");
    std::fs::write(
        &config,
        format!(
            "[[job]]\nname = \"cna\"\ntargets = [{:?}]\nschedule = \"0 */6 * * *\"\ndepth = 0\n{}\
             on_change = \"printf '%s\\\\n' \\\"$CAIRN_JOB\\\" \\\"$@\\\" > {}; cat >> {}; exit 3\"\n",
            site::ARTICLE,
            crate::jobs::fixture_keys(&fixture),
            told.display(),
            told.display(),
        ),
    )
    .unwrap();
    let jobs = |action: &str| {
        run_ok(
            cairn()
                .arg("--archives")
                .arg(&archives)
                .args(["jobs", "--config"])
                .arg(&config)
                .args([action, "cna"]),
        )
    };
    let run = || jobs("run");
    run();
    assert!(
        !told.exists(),
        "nothing changed in the first run: no notification"
    );
    edited.store(true, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let said = String::from_utf8_lossy(&run().stderr).into_owned();
    assert!(said.contains("job \"cna\": on_change: exit 3"), "{said}");
    let told = std::fs::read_to_string(&told).unwrap();
    assert_eq!(
        told,
        format!("cna\n{0}\n{0}\n", site::ARTICLE),
        "the job's name, the URL as argument, and the URL on stdin"
    );
    let history = cairn_json(
        &archives,
        &[
            "jobs",
            "--config",
            config.to_str().unwrap(),
            "history",
            "cna",
        ],
    );
    assert_eq!(history[0]["changed"], serde_json::json!([]));
    assert!(history[0]["on_change"].is_null());
    assert_eq!(history[1]["changed"], serde_json::json!([site::ARTICLE]));
    assert_eq!(
        history[1]["on_change"], "exit 3",
        "its exit status is recorded"
    );
    let plain = stdout(&jobs("history"));
    assert!(
        plain.contains(&format!("  text changed: {}", site::ARTICLE)),
        "{plain}"
    );
    assert!(plain.contains("  on_change: exit 3"), "{plain}");
}

#[test]
fn pages_the_extractor_cannot_take_are_archived_whole_and_quietly() {
    // dom_smoothie 0.19 panics on this iframe title; 2,000 nested levels would take it
    // seconds (the time grows with the square of the depth).
    let tricky = "<title>Tricky</title><article><p>A paragraph of the article that is long enough to be read as one by the reader view.</p><iframe title=\"中youtube.com\" src=\"/embed\"></iframe><p>Another paragraph of the article, as long, so that the article is read.</p></article>".to_string();
    let deep = format!(
        "<title>Deep</title><article><p>{}Deep text.{}</p></article>",
        "<div>".repeat(2000),
        "</div>".repeat(2000)
    );
    let handler: crate::fixture::Handler = Arc::new(move |req: &crate::fixture::Request| {
        let body = match req.target.as_str() {
            "/tricky" => tricky.clone(),
            "/deep" => deep.clone(),
            _ => "not here".to_string(),
        };
        vec![crate::fixture::Step::Send(crate::fixture::response(
            "200 OK",
            "text/html; charset=utf-8",
            body.as_bytes(),
        ))]
    });
    let fixture = HttpsFixture::start(&["odd.example"], handler).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let started = std::time::Instant::now();
    let out = archive_ok(
        &archives,
        &fixture,
        &["--depth", "0", "--no-progress", "--json"],
        &["https://odd.example/tricky", "https://odd.example/deep"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["texts"]["made"], 2,
        "both tried, neither has a text"
    );
    assert_eq!(
        summary["crawl"]["pages"]
            .as_u64()
            .or(summary["pages"].as_u64()),
        Some(2)
    );
    let history = cairn_json(&archives, &["history", "https://odd.example/tricky"]);
    assert_eq!(history["versions"][0]["text"], "no_text");
}

/// Three captures of one article written by warcio, as another tool leaves them: the second
/// sent gzip-encoded and chunked (kept raw, as warcio records it), one word of its third
/// paragraph edited; the third with a correction appended. Imported, they get their texts
/// when first asked, and the default diff is the last two that differ.
const FOREIGN_ARTICLE: &str = r#"
import gzip, io, sys
from warcio.warcwriter import WARCWriter
from warcio.statusandheaders import StatusAndHeaders
path = sys.argv[1]
url = "https://nachrichten.example/2024/03/hochwasser-an-der-elbe.html"
paragraphs = [
    "Das Hochwasser an der Elbe hat in der Nacht zu Freitag in Dresden seinen Höchststand erreicht. Der Pegel stieg nach Angaben des Landesamts auf 7,12 Meter, deutlich über der Marke der Alarmstufe drei.",
    "Die Feuerwehr sicherte die Altstadt mit mobilen Schutzwänden. Anwohner in Laubegast und Kleinzschachwitz wurden gebeten, Keller und Garagen zu räumen und Fahrzeuge auf höher gelegene Straßen zu bringen.",
    "Nach Angaben der Stadtverwaltung mussten drei Schulen geschlossen werden. Der Unterricht soll bis Montag in benachbarten Gebäuden stattfinden, sofern die Zufahrtsstraßen bis dahin wieder befahrbar sind.",
    "Meteorologen rechnen für das Wochenende mit weiterem Regen im Erzgebirge und in Böhmen. Die Talsperren seien zwar noch aufnahmefähig, hieß es, doch die Lage bleibe angespannt und werde stündlich neu bewertet.",
    "Der Oberbürgermeister dankte den Helferinnen und Helfern, die seit Mittwoch Sandsäcke füllen. Spenden für betroffene Familien nimmt die Stadt über ein eigens eingerichtetes Konto entgegen.",
]
def page(paras):
    body = "".join(f"<p>{p}</p>" for p in paras)
    return ("<!DOCTYPE html><html lang=de><head><meta charset=utf-8><title>Hochwasser an der Elbe erreicht Höchststand | Nachrichten</title></head>"
            "<body><nav><a href='/'>Start</a> <a href='/politik'>Politik</a> <a href='/wetter'>Wetter</a></nav>"
            "<article><h1>Hochwasser an der Elbe erreicht Höchststand</h1><p class=byline>Von Anna Berger</p>" + body +
            "</article><footer>© Nachrichten 2024 · Impressum · Datenschutz</footer></body></html>").encode()
def chunked(data, size=700):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"
edited = list(paragraphs)
edited[2] = edited[2].replace("drei Schulen", "vier Schulen")
corrected = edited + ["Korrektur: In einer früheren Fassung hieß es, der Pegel habe 7,21 Meter erreicht. Richtig ist 7,12 Meter."]
with open(path, "wb") as f:
    w = WARCWriter(f, gzip=True, warc_version="1.1")
    for date, paras, raw in [("2024-03-01T08:00:00Z", paragraphs, False), ("2024-03-01T12:00:00Z", edited, True), ("2024-03-02T09:00:00Z", corrected, False)]:
        headers = [("Content-Type", "text/html; charset=utf-8")]
        body = page(paras)
        if raw:
            headers += [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]
            body = chunked(gzip.compress(body))
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": date}))
"#;

#[test]
fn another_tool_s_captures_get_their_history_and_diff_when_first_asked() {
    if !requires(&["warcio"]) {
        return;
    }
    const URL: &str = "https://nachrichten.example/2024/03/hochwasser-an-der-elbe.html";
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let warc = work.path().join("nachrichten.warc.gz");
    run_ok(tool("python3").args(["-c", FOREIGN_ARTICLE]).arg(&warc));
    run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .arg("import")
            .arg(&warc),
    );

    let history = cairn_json(&archives, &["history", URL]);
    let versions = history["versions"].as_array().unwrap();
    let marks: Vec<&str> = versions
        .iter()
        .map(|v| v["text"].as_str().unwrap())
        .collect();
    assert_eq!(marks, ["first", "changed", "changed"], "{history:#}");
    let stamps: Vec<&str> = versions
        .iter()
        .map(|v| v["timestamp"].as_str().unwrap())
        .collect();
    assert_eq!(
        stamps,
        ["20240301080000", "20240301120000", "20240302090000"]
    );
    assert!(versions.iter().all(|v| v["status"] == 200), "{history:#}");
    assert_eq!(
        versions[0]["title"],
        "Hochwasser an der Elbe erreicht Höchststand"
    );

    // The default: the last two that differ, the second and third, where the correction came.
    let diff = cairn_json(&archives, &["diff", URL]);
    assert_eq!(
        (
            diff["from"]["timestamp"].as_str(),
            diff["to"]["timestamp"].as_str()
        ),
        (Some(stamps[1]), Some(stamps[2]))
    );
    let changes = changed_paragraphs(&diff);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["change"], "added");
    assert!(
        changes[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Korrektur:"),
        "{changes:#?}"
    );

    // The first two: one word of one paragraph, read through the chunked gzip body.
    let edit = cairn_json(&archives, &["diff", URL, stamps[0], stamps[1]]);
    let changes = changed_paragraphs(&edit);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(
        (changes[0]["change"].as_str(), changes[0]["old"].as_u64()),
        (Some("changed"), Some(3))
    );
    let words = &changes[0]["words"];
    let marked: Vec<(&str, &str)> = words
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] != "same")
        .map(|s| (s["kind"].as_str().unwrap(), s["text"].as_str().unwrap()))
        .collect();
    assert_eq!(marked, [("removed", "drei"), ("added", "vier")], "{words}");

    // Replay shows the same edit, the word struck and the new one in place.
    let server = ReplayServer::start(&archives);
    let (status, _, view) = server.get(&format!("/default/diff/{}/{}/{URL}", stamps[0], stamps[1]));
    let view = String::from_utf8(view).unwrap();
    assert_eq!(status, 200, "{view}");
    assert_eq!(view.matches("<p class=changed>").count(), 1, "{view}");
    assert!(
        view.contains("mussten <del>drei</del><ins>vier</ins> Schulen"),
        "{view}"
    );
}

/// A crawl of a section front reaches the article one link away: no target, yet its edit is
/// what the second crawl reports, and the front, the same both times, is not.
#[test]
fn an_edited_article_one_link_from_the_crawled_front_is_reported_changed() {
    let edited = Arc::new(AtomicBool::new(false));
    let fixture = site::start_editions(edited.clone()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let crawl = || {
        let out = archive_ok(
            &archives,
            &fixture,
            &["--depth", "1", "--no-progress", "--json"],
            &[site::SECTION],
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = crawl();
    assert_eq!(
        first["texts"]["changed"],
        serde_json::json!([]),
        "{first:#}"
    );
    edited.store(true, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = crawl();
    assert_eq!(
        second["texts"]["changed"],
        serde_json::json!([site::ARTICLE]),
        "{:#}",
        second["texts"]
    );
    let history = cairn_json(&archives, &["history", site::ARTICLE]);
    assert_eq!(history["versions"][1]["text"], "changed", "{history:#}");
}
