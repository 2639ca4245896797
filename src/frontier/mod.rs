//! The frontier: which URLs the crawl will fetch, in what order, and why others are left out.
//! It owns scope (`--scope page|host|site|any`, `site` meaning the same registrable domain by
//! the public suffix list), depth, `--include`/`--exclude`, `--max-pages`, de-duplication by
//! canonical URL, and the bounds that keep a crawler out of traps (URL length, repeated path
//! segments, endless query variants of one path, pages per host).
//!
//! Requisites of an archived page are always admitted, whatever their host: a page is not
//! preserved without its images. Depth counts navigation links followed from a target;
//! redirects, `meta refresh` and requisites add none.

use std::collections::{HashMap, HashSet, VecDeque};

use regex::Regex;
use url::Url;

use crate::extract::LinkKind;

/// Which linked pages the crawl follows.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only the targets themselves (and their requisites).
    Page,
    /// Pages on the same host as a target.
    Host,
    /// Pages on the same registrable domain as a target (`www.cna.com.tw` and `news.cna.com.tw`).
    #[default]
    Site,
    /// Pages on any host.
    Any,
}

/// Crawler-trap bounds, with Heritrix-like defaults.
#[derive(Debug, Clone)]
pub struct TrapBounds {
    pub max_url_length: usize,
    /// Path segments repeated in a row more than this many times (`/a/b/a/b/a/b/a/b/...`)
    /// are a trap.
    pub max_repeated_segment: usize,
    /// Distinct query strings admitted for one path (`calendar?month=...` forever).
    pub max_queries_per_path: usize,
    /// The same, for what pages need (an image service's `/_next/image?url=...&w=...`, one
    /// path for every picture of the site at every width): counted apart from pages, and
    /// bounded higher, as only a page's markup names them.
    pub max_requisite_queries_per_path: usize,
    pub max_pages_per_host: usize,
}

impl Default for TrapBounds {
    fn default() -> TrapBounds {
        TrapBounds {
            max_url_length: 2048,
            max_repeated_segment: 3,
            max_queries_per_path: 100,
            max_requisite_queries_per_path: 2_000,
            max_pages_per_host: 20_000,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub scope: Scope,
    pub max_depth: u32,
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
    pub max_pages: Option<u64>,
    pub traps: TrapBounds,
}

/// A URL waiting to be fetched, and how the crawl came to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub url: Url,
    /// Navigation links followed from the target to reach it.
    pub depth: u32,
    pub kind: CandidateKind,
    /// The page or redirect that led here.
    pub via: Option<Url>,
    /// Heritrix's hop path: `L` a link, `E` an embed, `R` a redirect; `""` for a target.
    pub hops: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateKind {
    /// A target given on the command line or in a post.
    Target,
    /// A page reached by a link.
    Page,
    /// Something a page needs to render.
    Requisite,
}

impl CandidateKind {
    pub fn is_page(self) -> bool {
        matches!(self, CandidateKind::Target | CandidateKind::Page)
    }
}

/// Where a crawl starts: a URL given on the command line (depth 0), or what a post names: its
/// source article (depth 0), the pages its body links to (depth 1, as related news of the
/// source would be) and the images in it (requisites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub url: Url,
    pub depth: u32,
    pub kind: CandidateKind,
}

/// Why a URL was not queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    AlreadySeen,
    OutOfScope,
    TooDeep,
    Excluded,
    NotIncluded,
    MaxPages,
    Trap(&'static str),
}

pub struct Frontier {
    rules: Rules,
    queue: VecDeque<Candidate>,
    seen: HashSet<String>,
    target_hosts: HashSet<String>,
    target_sites: HashSet<String>,
    pages_admitted: u64,
    pages_per_host: HashMap<String, usize>,
    queries_per_path: HashMap<String, usize>,
    /// Candidates admitted since the last [`Frontier::take_admitted`], for a persistent log.
    admitted: Vec<Candidate>,
}

impl Frontier {
    pub fn new(rules: Rules) -> Frontier {
        Frontier {
            rules,
            queue: VecDeque::new(),
            seen: HashSet::new(),
            target_hosts: HashSet::new(),
            target_sites: HashSet::new(),
            pages_admitted: 0,
            pages_per_host: HashMap::new(),
            queries_per_path: HashMap::new(),
            admitted: Vec::new(),
        }
    }

    /// Queues a target: always in scope, at depth 0.
    pub fn add_target(&mut self, url: Url) -> Result<(), Refusal> {
        self.add_seed(Seed {
            url,
            depth: 0,
            kind: CandidateKind::Target,
        })
    }

    /// Queues a seed: a target (in scope whatever its host, its site then in scope too), or a
    /// requisite named by the input itself (an image in a post's body).
    pub fn add_seed(&mut self, seed: Seed) -> Result<(), Refusal> {
        if seed.kind == CandidateKind::Target
            && let Some(host) = seed.url.host_str()
        {
            self.target_hosts.insert(host.to_string());
            self.target_sites.insert(registrable_domain(host));
        }
        self.admit(Candidate {
            url: seed.url,
            depth: seed.depth,
            kind: seed.kind,
            via: None,
            hops: String::new(),
        })
    }

    /// Queues what `from` links to, if the rules allow.
    pub fn add_link(&mut self, from: &Candidate, url: Url, kind: LinkKind) -> Result<(), Refusal> {
        let (depth, candidate_kind, hop) = match kind {
            LinkKind::Requisite => (from.depth, CandidateKind::Requisite, 'E'),
            LinkKind::Navigation => (from.depth + 1, CandidateKind::Page, 'L'),
            // A refresh leads where the page itself would have: same depth, same kind.
            LinkKind::Refresh => (from.depth, from.kind, 'R'),
        };
        self.admit(Candidate {
            url,
            depth,
            kind: candidate_kind,
            via: Some(from.url.clone()),
            hops: format!("{}{hop}", from.hops),
        })
    }

    /// Queues where a redirect leads: the same depth and kind as what redirected.
    pub fn add_redirect(&mut self, from: &Candidate, url: Url) -> Result<(), Refusal> {
        let kind = if from.kind == CandidateKind::Target {
            CandidateKind::Target
        } else {
            from.kind
        };
        self.admit(Candidate {
            url,
            depth: from.depth,
            kind,
            via: Some(from.url.clone()),
            hops: format!("{}R", from.hops),
        })
    }

    pub fn pop(&mut self) -> Option<Candidate> {
        self.queue.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// The candidates admitted since the last call: what a resumable crawl persists.
    pub fn take_admitted(&mut self) -> Vec<Candidate> {
        std::mem::take(&mut self.admitted)
    }

    /// The candidates admitted since the last call, taken out of the queue too: for a crawl
    /// whose queue is shared with other workers, which keeps them instead.
    pub fn hand_off(&mut self) -> Vec<Candidate> {
        self.queue.clear();
        std::mem::take(&mut self.admitted)
    }

    /// Queues a candidate an interrupted run had admitted but not archived, as it was.
    pub fn requeue(&mut self, candidate: Candidate) -> Result<(), Refusal> {
        self.admit(candidate)
    }

    /// Marks a URL as already handled (by an earlier, interrupted run) without queuing it.
    pub fn mark_seen(&mut self, url: &Url) {
        self.seen.insert(canonical(url));
    }

    fn admit(&mut self, candidate: Candidate) -> Result<(), Refusal> {
        let url = &candidate.url;
        if self.rules.exclude.iter().any(|r| r.is_match(url.as_str())) {
            return Err(Refusal::Excluded);
        }
        self.check_traps(url)?;
        if candidate.kind == CandidateKind::Page {
            if candidate.depth > self.rules.max_depth {
                return Err(Refusal::TooDeep);
            }
            if !self.in_scope(url) {
                return Err(Refusal::OutOfScope);
            }
            if !self.rules.include.is_empty()
                && !self.rules.include.iter().any(|r| r.is_match(url.as_str()))
            {
                return Err(Refusal::NotIncluded);
            }
        }
        let key = canonical(url);
        if self.seen.contains(&key) {
            return Err(Refusal::AlreadySeen);
        }
        if candidate.kind.is_page() {
            if self
                .rules
                .max_pages
                .is_some_and(|max| self.pages_admitted >= max)
            {
                return Err(Refusal::MaxPages);
            }
            let host = url.host_str().unwrap_or("").to_string();
            let count = self.pages_per_host.entry(host).or_default();
            if *count >= self.rules.traps.max_pages_per_host {
                return Err(Refusal::Trap("too many pages on one host"));
            }
            *count += 1;
            self.pages_admitted += 1;
        }
        if url.query().is_some() {
            let requisite = candidate.kind == CandidateKind::Requisite;
            let (kind, bound) = if requisite {
                ("requisite", self.rules.traps.max_requisite_queries_per_path)
            } else {
                ("page", self.rules.traps.max_queries_per_path)
            };
            let path_key = format!("{kind} {}{}", url.host_str().unwrap_or(""), url.path());
            let count = self.queries_per_path.entry(path_key).or_default();
            if *count >= bound {
                return Err(Refusal::Trap("too many query variants of one path"));
            }
            *count += 1;
        }
        self.seen.insert(key);
        self.admitted.push(candidate.clone());
        if candidate.kind == CandidateKind::Requisite {
            // Requisites first: a page is done when what it needs is in.
            self.queue.push_front(candidate);
        } else {
            self.queue.push_back(candidate);
        }
        Ok(())
    }

    fn check_traps(&self, url: &Url) -> Result<(), Refusal> {
        let bounds = &self.rules.traps;
        if url.as_str().len() > bounds.max_url_length {
            return Err(Refusal::Trap("URL too long"));
        }
        let segments: Vec<&str> = url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if repeats_in_a_row(&segments) > bounds.max_repeated_segment {
            return Err(Refusal::Trap("path segment repeats"));
        }
        Ok(())
    }

    fn in_scope(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or("");
        match self.rules.scope {
            Scope::Page => false,
            Scope::Host => self.target_hosts.contains(host),
            Scope::Site => self.target_sites.contains(&registrable_domain(host)),
            Scope::Any => true,
        }
    }
}

/// The most times a run of path segments follows itself (`a/b/a/b/a/b/x`: 3), as a relative
/// link followed from the page it leads to repeats it, over and over (Heritrix's pathological
/// path rule). A segment repeated apart from itself is no trap: image services name crops
/// that way (Le Monde's `/0/0/5000/3333/664/0/75/0/`).
fn repeats_in_a_row(segments: &[&str]) -> usize {
    let mut most = segments.len().min(1);
    for period in 1..=segments.len() / 2 {
        let mut run = 0;
        for i in period..segments.len() {
            if segments[i] == segments[i - period] {
                run += 1;
                most = most.max(run / period + 1);
            } else {
                run = 0;
            }
        }
    }
    most
}

/// The key two URLs share when they name the same resource: the url crate's normalized form
/// (lowercase scheme and host, default port dropped, dot segments resolved, percent-encoding
/// of the path made canonical) without the fragment.
pub fn canonical(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    url.into()
}

/// `www.cna.com.tw` -> `cna.com.tw`, by the public suffix list; an IP or a bare suffix stays.
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&host).unwrap_or(&host).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(scope: Scope, depth: u32) -> Rules {
        Rules {
            scope,
            max_depth: depth,
            include: vec![],
            exclude: vec![],
            max_pages: None,
            traps: TrapBounds::default(),
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn site_scope_uses_the_registrable_domain() {
        assert_eq!(registrable_domain("www.cna.com.tw"), "cna.com.tw");
        assert_eq!(registrable_domain("imgcdn.cna.com.tw"), "cna.com.tw");
        assert_eq!(registrable_domain("example.co.uk"), "example.co.uk");
        let mut f = Frontier::new(rules(Scope::Site, 1));
        f.add_target(url("https://www.cna.com.tw/news/1.aspx"))
            .unwrap();
        let page = f.pop().unwrap();
        assert_eq!(
            f.add_link(
                &page,
                url("https://news.cna.com.tw/x"),
                LinkKind::Navigation
            ),
            Ok(())
        );
        assert_eq!(
            f.add_link(
                &page,
                url("https://www.example.com/x"),
                LinkKind::Navigation
            ),
            Err(Refusal::OutOfScope)
        );
        // Requisites come whatever their host.
        assert_eq!(
            f.add_link(
                &page,
                url("https://cdn.example.net/a.jpg"),
                LinkKind::Requisite
            ),
            Ok(())
        );
        assert_eq!(
            f.pop().unwrap().kind,
            CandidateKind::Requisite,
            "requisites go first"
        );
    }

    /// An image service names one path at every width for every picture: a page's
    /// requisites there are not a calendar trap, and are counted apart from pages.
    #[test]
    fn query_variants_of_requisites_are_bounded_apart_from_pages() {
        let mut f = Frontier::new(rules(Scope::Host, 2));
        f.add_target(url("https://a.example/")).unwrap();
        let page = f.pop().unwrap();
        let variant = |i: usize, kind| {
            let link = format!("https://a.example/_next/image?url=%2Fi{i}.jpg&w=640");
            (url(&link), kind)
        };
        let admitted = |f: &mut Frontier, kind| {
            (0..150)
                .filter(|i| {
                    let (link, kind) = variant(
                        *i + if kind == LinkKind::Requisite { 0 } else { 1000 },
                        kind,
                    );
                    f.add_link(&page, link, kind).is_ok()
                })
                .count()
        };
        assert_eq!(admitted(&mut f, LinkKind::Requisite), 150);
        assert_eq!(admitted(&mut f, LinkKind::Navigation), 100);
    }

    #[test]
    fn depth_counts_links_not_redirects_or_requisites() {
        let mut f = Frontier::new(rules(Scope::Host, 1));
        f.add_target(url("https://a.example/")).unwrap();
        let target = f.pop().unwrap();
        f.add_redirect(&target, url("https://a.example/home"))
            .unwrap();
        let home = f.pop().unwrap();
        assert_eq!(
            (home.depth, home.kind, home.hops.as_str()),
            (0, CandidateKind::Target, "R")
        );
        f.add_link(
            &home,
            url("https://a.example/related"),
            LinkKind::Navigation,
        )
        .unwrap();
        let related = f.pop().unwrap();
        assert_eq!((related.depth, related.hops.as_str()), (1, "RL"));
        f.add_link(
            &related,
            url("https://a.example/img.png"),
            LinkKind::Requisite,
        )
        .unwrap();
        assert_eq!(
            f.add_link(
                &related,
                url("https://a.example/deeper"),
                LinkKind::Navigation
            ),
            Err(Refusal::TooDeep)
        );
        assert_eq!(f.pop().unwrap().depth, 1);
    }

    #[test]
    fn duplicates_and_traps_are_refused() {
        let mut r = rules(Scope::Any, 100);
        r.traps.max_queries_per_path = 5;
        let mut f = Frontier::new(r);
        f.add_target(url("https://a.example/x#one")).unwrap();
        let t = f.pop().unwrap();
        assert_eq!(
            f.add_link(&t, url("HTTPS://A.EXAMPLE:443/x#two"), LinkKind::Navigation),
            Err(Refusal::AlreadySeen)
        );
        assert_eq!(
            f.add_link(
                &t,
                url("https://a.example/a/b/a/b/a/b/a/b"),
                LinkKind::Navigation
            ),
            Err(Refusal::Trap("path segment repeats"))
        );
        assert_eq!(
            f.add_link(
                &t,
                url("https://a.example/news/news/news/news/a.html"),
                LinkKind::Navigation
            ),
            Err(Refusal::Trap("path segment repeats"))
        );
        // Apart from itself, a segment repeats as often as a URL likes: Le Monde's crops.
        let crop = "https://img.lemde.example/2023/03/21/0/0/5000/3333/664/0/75/0/4f0_ap.jpg";
        assert_eq!(f.add_link(&t, url(crop), LinkKind::Requisite), Ok(()));
        for month in 0..10 {
            let r = f.add_link(
                &t,
                url(&format!("https://a.example/cal?m={month}")),
                LinkKind::Navigation,
            );
            assert_eq!(r.is_ok(), month < 5, "month {month}");
        }
        let long = format!("https://a.example/{}", "x".repeat(3000));
        assert_eq!(
            f.add_link(&t, url(&long), LinkKind::Navigation),
            Err(Refusal::Trap("URL too long"))
        );
    }

    #[test]
    fn include_exclude_and_max_pages() {
        let mut r = rules(Scope::Any, 5);
        r.include = vec![Regex::new("/news/").unwrap()];
        r.exclude = vec![Regex::new(r"\.pdf$").unwrap()];
        r.max_pages = Some(2);
        let mut f = Frontier::new(r);
        f.add_target(url("https://a.example/")).unwrap();
        let t = f.pop().unwrap();
        assert_eq!(
            f.add_link(&t, url("https://a.example/about"), LinkKind::Navigation),
            Err(Refusal::NotIncluded)
        );
        assert_eq!(
            f.add_link(&t, url("https://a.example/news/a.pdf"), LinkKind::Requisite),
            Err(Refusal::Excluded)
        );
        assert_eq!(
            f.add_link(&t, url("https://a.example/news/1"), LinkKind::Navigation),
            Ok(())
        );
        assert_eq!(
            f.add_link(&t, url("https://a.example/news/2"), LinkKind::Navigation),
            Err(Refusal::MaxPages)
        );
        assert_eq!(
            f.add_link(&t, url("https://a.example/logo.png"), LinkKind::Requisite),
            Ok(())
        );
    }
}
