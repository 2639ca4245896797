//! HTML rewritten as a stream by lol_html, in the document's own charset, so bytes that are not
//! references stay exactly as they were. Which attributes hold references, and how their
//! values read, is [`crate::extract::references`]: the crawl followed exactly what is
//! rewritten here.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io::{BufRead, Write};

use lol_html::html_content::{ContentType, Element, TextChunk};
use lol_html::{
    AsciiCompatibleEncoding, HtmlRewriter, MemorySettings, Settings, doc_text, element, text,
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use regex::Regex;
use std::sync::LazyLock;
use url::Url;

use super::{
    FENCED, HtmlOptions, Mapped, RewriteError, SpriteSource, fenced_in_css, map_reference,
    rewrite_css,
};
use crate::extract::references::{
    Attributes, DataDocument, LAZY_BACKGROUND, LAZY_POSTER, LAZY_SRCSET, Syntax, data_url_document,
    escape_attribute, looks_like_an_image, references, refresh_target, shows_an_image,
    srcset_spans,
};
use crate::extract::{Base, MAX_NESTED_DEPTH, MAX_NOSCRIPT_DEPTH};

/// What lol_html may hold of one document at a time: a tag it has not seen the end of (a tag
/// is buffered whole, its attributes with it). No real tag comes near; a page made of one
/// endless tag fails to rewrite rather than taking the memory of the process (issue 13).
const MAX_PARSER_MEMORY: usize = 16 << 20;

/// The most lol_html is given at once.
const MAX_PARSER_CHUNK: usize = 64 << 10;

/// Rewrites an HTML document in `encoding` (one lol_html cannot read is read as UTF-8, its
/// bytes kept). Returns the new bytes and the references left as they were.
pub fn rewrite_html(
    body: &[u8],
    encoding: &'static encoding_rs::Encoding,
    options: &HtmlOptions<'_>,
) -> Result<(Vec<u8>, Vec<Url>), RewriteError> {
    let encoding =
        AsciiCompatibleEncoding::new(encoding).unwrap_or_else(AsciiCompatibleEncoding::utf_8);
    let mut output = Vec::with_capacity(body.len() + body.len() / 8);
    let unresolved = rewrite_html_stream(&mut &body[..], &mut output, encoding, options)?;
    Ok((output, unresolved))
}

/// As [`rewrite_html`], from a reader to a writer in an ASCII-compatible encoding, a buffer
/// at a time: memory stays flat whatever the document's size.
pub fn rewrite_html_stream(
    src: &mut dyn BufRead,
    out: &mut dyn Write,
    encoding: AsciiCompatibleEncoding,
    options: &HtmlOptions<'_>,
) -> Result<Vec<Url>, RewriteError> {
    rewrite_page_stream(src, out, encoding, options, false)
}

/// As [`rewrite_html_stream`]; behind the fence, `declare_charset` puts a `<meta charset>`
/// naming `encoding` first, with the offline copy's policy.
pub(super) fn rewrite_page_stream(
    src: &mut dyn BufRead,
    out: &mut dyn Write,
    encoding: AsciiCompatibleEncoding,
    options: &HtmlOptions<'_>,
    declare_charset: bool,
) -> Result<Vec<Url>, RewriteError> {
    let base = Base::of_document(&options.base, encoding.into());
    let mut rewriting = Rewriting::new(options, base, 0);
    if declare_charset {
        let name = <&encoding_rs::Encoding>::from(encoding).name();
        rewriting.head = format!("<meta charset=\"{name}\">{OFFLINE_POLICY}");
    }
    rewriting.run(src, out, encoding)?;
    Ok(rewriting.unresolved.into_inner())
}

/// The state of one rewrite, shared by lol_html's handlers.
struct Rewriting<'o> {
    options: &'o HtmlOptions<'o>,
    base: RefCell<Base>,
    unresolved: RefCell<Vec<Url>>,
    /// The bytes of replacement text so far.
    spent: Cell<usize>,
    style: RefCell<String>,
    noscript: RefCell<String>,
    /// What the offline copy puts first in the document: its CSP `<meta>`, and its charset
    /// where only the HTTP header declared it.
    head: String,
    /// Whether the offline copy's CSP `<meta>` is in place.
    policy_placed: std::cell::Cell<bool>,
    /// The sprites put into this document so far, by URL.
    sprites: RefCell<HashSet<String>>,
    /// How deep inside `<noscript>` text this document is.
    depth: usize,
    /// Whether replay's client layer is in place.
    client_placed: Cell<bool>,
    /// The text so far of the classic script being read, when it is to be scoped to the
    /// client layer.
    script: RefCell<Option<String>>,
}

/// An attribute to set: its name, its value before and after, all decoded; `None` after for
/// an attribute removed.
struct Change {
    attr: String,
    old: String,
    new: Option<String>,
    keep: Keep,
}

/// Whether a change keeps the value it replaced in `data-cairn-original*`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Only when removed: a value the capture holds and a copy may drop (a rewritten
    /// `srcdoc`, a class a copy renames).
    No,
    /// Where the options ask for originals: a reference, whose original the capture holds.
    Asked,
    /// Always: a value nothing else records (a removed reference, a disabled script's type).
    Always,
}

impl<'o> Rewriting<'o> {
    fn new(options: &'o HtmlOptions<'o>, base: Base, depth: usize) -> Rewriting<'o> {
        Rewriting {
            options,
            base: RefCell::new(base),
            unresolved: RefCell::default(),
            spent: Cell::default(),
            style: RefCell::default(),
            noscript: RefCell::default(),
            head: OFFLINE_POLICY.to_string(),
            policy_placed: std::cell::Cell::default(),
            sprites: RefCell::default(),
            depth,
            client_placed: Cell::default(),
            script: RefCell::default(),
        }
    }

    fn run(
        &self,
        src: &mut dyn BufRead,
        out: &mut dyn Write,
        encoding: AsciiCompatibleEncoding,
    ) -> Result<(), RewriteError> {
        let mut write_error = None;
        // Text before the first element is looked for only where there can be any: a text
        // handler makes lol_html decode every text node of the page (perf: a tenth of the
        // offline copy's rewriting), and most pages open with a doctype and `<html>`.
        let leading_text = self.options.fence
            && self.depth == 0
            // A read error is met, and reported, by the loop below.
            && !src.fill_buf().is_ok_and(opens_with_an_element);
        let mut settings = Settings::new()
            .with_encoding(encoding)
            .with_memory_settings(
                MemorySettings::new().with_max_allowed_memory_usage(MAX_PARSER_MEMORY),
            )
            .append_element_content_handler(element!("*", |el| {
                self.element(el);
                Ok(())
            }))
            .append_element_content_handler(element!("body", |el| {
                if let (Some(banner), 0) = (&self.options.banner, self.depth) {
                    el.prepend(banner, ContentType::Html);
                }
                Ok(())
            }))
            .append_element_content_handler(text!("style", |chunk| {
                self.style(chunk);
                Ok(())
            }))
            .append_element_content_handler(text!("noscript", |chunk| {
                self.noscript(chunk);
                Ok(())
            }));
        if self.options.client.is_some() && self.depth == 0 {
            settings = settings.append_element_content_handler(text!("script", |chunk| {
                self.script_text(chunk);
                Ok(())
            }));
        }
        if leading_text {
            settings = settings.append_document_content_handler(doc_text!(|chunk| {
                self.leading_text(chunk);
                Ok(())
            }));
        }
        // lol_html's output sink cannot fail: the first write error is kept and reported.
        let mut rewriter = HtmlRewriter::new(settings, |bytes: &[u8]| {
            if write_error.is_none()
                && let Err(e) = out.write_all(bytes)
            {
                write_error = Some(e);
            }
        });
        loop {
            let chunk = match src.fill_buf() {
                Ok([]) => break,
                Ok(chunk) => chunk,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(RewriteError::Read(e)),
            };
            // lol_html copies what follows an unfinished tag into its own buffer, which counts
            // against its memory limit: a payload read whole from memory goes in by pieces.
            let chunk = &chunk[..chunk.len().min(MAX_PARSER_CHUNK)];
            rewriter.write(chunk)?;
            let n = chunk.len();
            src.consume(n);
        }
        rewriter.end()?;
        match write_error {
            Some(e) => Err(RewriteError::Write(e)),
            None => Ok(()),
        }
    }

    /// A reference in an HTML attribute.
    fn mapped(&self, value: &str) -> Mapped {
        let query_encoding = self.base.borrow().query_encoding();
        self.mapped_in(value, query_encoding)
    }

    fn mapped_in(&self, value: &str, query_encoding: &'static encoding_rs::Encoding) -> Mapped {
        let base = self.base.borrow();
        map_reference(
            self.options.map,
            &base.url,
            query_encoding,
            value,
            &self.unresolved,
            &self.spent,
        )
    }

    /// A reference in a `srcset`: its replacement, or `None` to leave it.
    fn map(&self, value: &str) -> Option<String> {
        fenced_in_css(self.mapped(value), self.options.fence)
    }

    /// A reference in CSS, whose query is UTF-8 whatever the page's encoding.
    fn map_css(&self, value: &str) -> Option<String> {
        fenced_in_css(
            self.mapped_in(value, encoding_rs::UTF_8),
            self.options.fence,
        )
    }

    /// An attribute that is one reference: its new value, `Some(None)` to remove it (behind the
    /// fence, what was not archived and acts by itself), `None` to leave it.
    fn map_attribute(&self, value: &str, link: bool) -> Option<Option<String>> {
        match self.mapped(value) {
            // Past the document's budget, offline, the reference goes rather than fail.
            Mapped::To(new) if new == FENCED && self.options.fence => Some(None),
            Mapped::To(new) => Some(Some(new)),
            Mapped::Unarchived(_) if self.options.fence && !link => Some(None),
            // Offline, a link to what was not archived leads to the live page by its absolute
            // URL, as `wget -k` writes it: left relative (`/login`, `//host/x`), it would open
            // a dead `file://` path.
            Mapped::Unarchived(absolute) if self.options.fence => Some(Some(absolute)),
            Mapped::Unarchived(_) | Mapped::Leave => None,
        }
    }

    /// A refresh content with its target mapped; removed (`Some(None)`) where the target
    /// would be fenced.
    fn refresh(&self, content: &str) -> Option<Option<String>> {
        let range = refresh_target(content)?;
        let target = self.map_attribute(&content[range.clone()], false)?;
        Some(target.map(|target| {
            let mut new = content.to_string();
            new.replace_range(range, &target);
            new
        }))
    }

    /// A `data:` URL document (a frame's `src`) rewritten as a `srcdoc` is, and written back as
    /// a `data:` URL of the same type; `Some(None)` to remove one nested too deep.
    fn data_document(&self, document: &DataDocument) -> Option<Option<String>> {
        let Some(new) = self.nested(&document.text) else {
            return Some(None);
        };
        let encoded = utf8_percent_encode(&new, NON_ALPHANUMERIC);
        let url = format!("data:{};charset=utf-8,{encoded}", document.mime);
        (new != document.text).then_some(Some(url))
    }

    /// A document inside an attribute (`iframe srcdoc`), rewritten by the same rules with the
    /// page's base, as a browser resolves it; one nested too deep, or that cannot be
    /// rewritten, is removed (`None`), so no depth hides a reference.
    fn nested(&self, markup: &str) -> Option<String> {
        self.nested_at(markup, self.base.borrow().for_nested())
    }

    /// As [`Rewriting::nested`], its references resolving against `base`.
    fn nested_at(&self, markup: &str, base: Base) -> Option<String> {
        if self.depth >= MAX_NESTED_DEPTH {
            return None;
        }
        let inner = Rewriting::new(self.options, base, self.depth + 1);
        let mut out = Vec::with_capacity(markup.len());
        let utf8 = AsciiCompatibleEncoding::utf_8();
        inner.run(&mut markup.as_bytes(), &mut out, utf8).ok()?;
        self.unresolved
            .borrow_mut()
            .extend(inner.unresolved.into_inner());
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// A `<use>` of a symbol in an archived SVG sprite: a browser refuses to load one from a
    /// file (each file is an origin of its own), so the offline copy puts the sprite into the
    /// page, hidden, once, written back from SVG's allow-list (balanced, escaped, nothing that
    /// acts: markup copied as it was could break out of the page's `<svg>`), and points the
    /// `<use>` (its `href` and `xlink:href` alike) at the symbol. Only the page's own `<use>`s
    /// are followed: a sprite's references to other sprites are dropped.
    fn inline_sprite(&self, el: &mut Element<'_, '_>, changes: &mut [Change]) {
        let Some(sprites) = self.options.sprites.filter(|_| self.depth == 0) else {
            return;
        };
        for change in changes
            .iter_mut()
            .filter(|c| matches!(c.attr.as_str(), "href" | "xlink:href") && c.new.is_some())
        {
            if change.old.trim_start().starts_with('#') {
                continue;
            }
            let Ok(mut url) = self.base.borrow().url.join(change.old.trim()) else {
                continue;
            };
            let symbol = url.fragment().unwrap_or_default().to_string();
            url.set_fragment(None);
            if !self.sprites.borrow().contains(url.as_str()) {
                // A file's `<use>` of another file fails: what cannot be put in is removed.
                let Some(svg) = self.sprite(sprites, &url).filter(|_| !symbol.is_empty()) else {
                    change.new = None;
                    continue;
                };
                el.before(
                    &format!("<svg width=\"0\" height=\"0\" aria-hidden=\"true\">{svg}</svg>"),
                    ContentType::Html,
                );
                self.sprites.borrow_mut().insert(url.to_string());
            }
            change.new = Some(format!("#{symbol}"));
        }
    }

    /// The sprite at `url`, written back from the allow-list, its references resolved against
    /// its own URL; `None` if there is none, it is not well-formed, or the document's budget
    /// for replacement text cannot hold it.
    fn sprite(&self, sprites: &SpriteSource<'_>, url: &Url) -> Option<String> {
        let text = sprites(url)?;
        if self.spent.get() + text.len() > super::MAX_REPLACEMENT_BYTES {
            return None;
        }
        self.spent.set(self.spent.get() + text.len());
        let unresolved = RefCell::new(Vec::new());
        let svg = super::sanitized_svg(&text, url, self.options, &unresolved, &self.spent);
        self.unresolved.borrow_mut().extend(unresolved.into_inner());
        svg
    }

    /// Text before the first element opens the body: the policy goes before it, where the
    /// parser still puts it into the head (a `<meta>` policy in the body is ignored). Called
    /// only behind the fence, at the top level (see [`Rewriting::run`]).
    fn leading_text(&self, chunk: &mut TextChunk<'_>) {
        // HTML's whitespace only: a no-break space (or U+3000) is text, and opens the body.
        let text = !chunk.as_str().trim_ascii().is_empty();
        if text && !self.policy_placed.get() {
            self.policy_placed.set(true);
            chunk.before(&self.head, ContentType::Html);
        }
    }

    fn element(&self, el: &mut Element<'_, '_>) {
        if self.options.fence && self.depth == 0 && !self.policy_placed.replace(true) {
            place_policy(el, &self.head);
        }
        // The tag's name is made (lowercased, allocated) once, here, for every step below.
        // Most elements of an article (`<p>`, `<li>`, `<span>`) carry no attribute, so nothing
        // to rewrite; of them only a script changes (it is fenced).
        let tag = el.tag_name();
        // Read once: every step below looks them up as the tag stood before any change.
        let attrs = Attributes::of(el);
        if let (Some(client), 0) = (&self.options.client, self.depth) {
            self.place_client(el, &attrs, &tag, client);
        }
        if attrs.is_empty() && !(self.options.fence && tag == "script") {
            return;
        }
        // Each reference looks its element's attributes up, so thousands of them on one tag
        // (which no real page has) would cost their square: the tag goes, its content stays.
        if attrs.len() > crate::extract::MAX_ATTRIBUTES {
            el.remove_and_keep_content();
            return;
        }
        if tag == "base" {
            self.base_element(el, &attrs);
            return;
        }
        let mut changes = self.changes(&attrs, &tag);
        if self.options.promote_lazy {
            promote_lazy(&attrs, &tag, &mut changes);
        }
        if self.options.fence {
            fence_scripts(&attrs, &tag, &mut changes);
            if tag == "use" {
                self.inline_sprite(el, &mut changes);
            }
        }
        if !changes.is_empty()
            && matches!(tag.as_str(), "link" | "script")
            && attrs.has("integrity")
        {
            // Subresource integrity would reject a rewritten stylesheet.
            el.remove_attribute("integrity");
        }
        if self.options.fence && attrs.has("crossorigin") {
            // A CORS request for a local file fails (its origin is opaque): offline, every
            // load is a plain one (a `<video crossorigin>` decides for its `<source>`s too).
            el.remove_attribute("crossorigin");
        }
        for change in changes {
            match &change.new {
                // Escaped only where it must be: a rewritten value can be megabytes.
                Some(new) => {
                    let _ = el.set_attribute(&change.attr, &htmlize::escape_attribute(new));
                }
                None => el.remove_attribute(&change.attr),
            }
            // A value that is already the rewritten one (a second run, a promoted src) is no
            // original worth keeping; a removed one is always kept, so nothing is lost.
            let keep = match change.keep {
                _ if change.new.is_none() => true,
                Keep::No => false,
                Keep::Asked => self.options.keep_original,
                Keep::Always => true,
            };
            if keep && !change.old.is_empty() && Some(&change.old) != change.new.as_ref() {
                let name = kept_original_name(&change.attr, || el.has_attribute("href"));
                if !el.has_attribute(&name) {
                    let _ = el.set_attribute(&name, &escape_attribute(&change.old));
                }
            }
        }
        if self.options.fence {
            stand_in_for_amp(el, &tag);
        }
    }

    /// Replay's client layer goes before the page's first element that is more than its
    /// `<head>`'s title and metadata (a `<meta charset>` stays where the prescan finds it),
    /// so it runs before any of the page's scripts; a classic inline script is marked to be
    /// scoped to it ([`Rewriting::script_text`]).
    fn place_client(&self, el: &mut Element<'_, '_>, attrs: &Attributes, tag: &str, client: &str) {
        if !self.client_placed.get() && !matches!(tag, "html" | "head" | "meta" | "title") {
            self.client_placed.set(true);
            el.before(client, ContentType::Html);
        }
        // Only a script's start changes what its text handler holds: no other element opens
        // inside one, and this runs for every element of the page.
        if tag == "script" {
            let scoped = is_classic(attrs) && !attrs.has("src");
            *self.script.borrow_mut() = scoped.then(String::new);
        }
    }

    /// A classic script's text, held until its end and put back scoped to the client layer
    /// ([`super::script::scoped`]); one too long to hold goes on as it is.
    fn script_text(&self, chunk: &mut TextChunk<'_>) {
        let mut pending = self.script.borrow_mut();
        let Some(text) = pending.as_mut() else {
            return;
        };
        text.push_str(chunk.as_str());
        let last = chunk.last_in_text_node();
        if last || text.len() > super::script::MAX_SCOPED {
            let whole = std::mem::take(text);
            *pending = None;
            let scoped = if last {
                super::script::scoped(&whole)
            } else {
                None
            };
            chunk.replace(scoped.as_deref().unwrap_or(&whole), ContentType::Html);
        } else {
            chunk.remove();
        }
    }

    /// The new value of each reference attribute that changes.
    fn changes(&self, attrs: &Attributes, tag: &str) -> Vec<Change> {
        let mut changes = Vec::new();
        for reference in references(attrs, tag) {
            let Some(old) = original(attrs, &reference.attr) else {
                continue;
            };
            let new = match reference.syntax {
                Syntax::Url => match data_url_document(&old) {
                    Some(document) => self.data_document(&document),
                    None => self.map_attribute(&old, reference.link),
                },
                Syntax::Srcset => self.srcset(&old),
                Syntax::Style => Some(rewrite_css(&old, &|r| self.map_css(r)))
                    .filter(|n| *n != old)
                    .map(Some),
                Syntax::Refresh => self.refresh(&old),
                Syntax::Html => Some(self.nested(&old)).filter(|n| n.as_ref() != Some(&old)),
                Syntax::Dropped => Some(None),
            };
            if let Some(new) = new {
                changes.push(Change {
                    attr: reference.attr,
                    old,
                    new,
                    keep: match reference.syntax {
                        Syntax::Url | Syntax::Srcset | Syntax::Style => Keep::Asked,
                        // A refresh or a `srcdoc` is rewritten whole; its original stays in
                        // the capture.
                        _ => Keep::No,
                    },
                });
            }
        }
        changes
    }

    /// A srcset with each candidate URL mapped and descriptors kept, and fenced candidates
    /// left out (a browser would pick one and be refused): `None` if none changed,
    /// `Some(None)` if none is left.
    ///
    /// Built front to back in one pass: replacing each candidate in place moved every byte
    /// after it, time N² in the number of candidates (issue 13: 200,000 candidates took 12 s).
    fn srcset(&self, value: &str) -> Option<Option<String>> {
        let mut out = String::with_capacity(value.len() + value.len() / 4);
        let mut copied = 0;
        let mut changed = false;
        let mut spans = srcset_spans(value).peekable();
        while let Some(span) = spans.next() {
            let Some(new) = self.map(&value[span.clone()]) else {
                continue;
            };
            out.push_str(&value[copied..span.start]);
            changed = true;
            if new == FENCED {
                // The candidate goes whole, descriptors and comma with it.
                copied = spans.peek().map_or(value.len(), |next| next.start);
            } else {
                out.push_str(&new);
                copied = span.end;
            }
        }
        if !changed {
            return None;
        }
        out.push_str(&value[copied..]);
        let kept = out.trim_end_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        Some((!kept.is_empty()).then(|| kept.to_string()))
    }

    /// The first `<base href>` moves where references resolve; every base loses its `href`,
    /// so that local references do not resolve against the live site.
    fn base_element(&self, el: &mut Element<'_, '_>, attrs: &Attributes) {
        let kept = attrs.value("data-cairn-original");
        let Some(href) = attrs.value("href").or(kept) else {
            return;
        };
        self.base.borrow_mut().set(&href);
        el.remove_attribute("href");
        let _ = el.set_attribute("data-cairn-original", &escape_attribute(&href));
    }

    fn style(&self, chunk: &mut TextChunk<'_>) {
        self.style.borrow_mut().push_str(chunk.as_str());
        if chunk.last_in_text_node() {
            let css = std::mem::take(&mut *self.style.borrow_mut());
            let rewritten = rewrite_css(&css, &|r| self.map_css(r));
            chunk.replace(&rewritten, ContentType::Html);
        } else {
            chunk.remove();
        }
    }

    /// `<noscript>` content, text to a parser with scripting on, is markup to a browser
    /// without scripts: it is rewritten as markup.
    fn noscript(&self, chunk: &mut TextChunk<'_>) {
        if self.depth >= MAX_NOSCRIPT_DEPTH {
            return;
        }
        self.noscript.borrow_mut().push_str(chunk.as_str());
        if !chunk.last_in_text_node() {
            chunk.remove();
            return;
        }
        let markup = std::mem::take(&mut *self.noscript.borrow_mut());
        let inner = Rewriting::new(self.options, self.base.borrow().clone(), self.depth + 1);
        let mut out = Vec::with_capacity(markup.len());
        match inner.run(
            &mut markup.as_bytes(),
            &mut out,
            AsciiCompatibleEncoding::utf_8(),
        ) {
            Ok(()) => {
                let rewritten = String::from_utf8_lossy(&out);
                chunk.replace(&rewritten, ContentType::Html);
                self.unresolved
                    .borrow_mut()
                    .extend(inner.unresolved.into_inner());
            }
            // What cannot be rewritten is left as it was.
            Err(_) => chunk.replace(&markup, ContentType::Html),
        }
    }
}

/// The offline copy's fence for what rewriting cannot see (an inline event handler, a URL
/// built by a style): no script runs, only local files and inline content load, forms submit
/// nowhere. A `<meta>` CSP
/// holds only for what follows it, so it goes first: into `<html>` or `<head>`, or before the
/// first element of a page with neither (where the parser puts it into the implied head).
const OFFLINE_POLICY: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self' file: data: blob: 'unsafe-inline'; script-src 'none'; worker-src 'none'; form-action 'none'; base-uri 'none'\">";

/// Whether `start`, a document's first bytes, shows an element before any text: only
/// whitespace, a byte order mark, comments, a doctype or processing instructions come first.
/// `false` when it cannot tell (text, or a comment the bytes cut off).
fn opens_with_an_element(start: &[u8]) -> bool {
    let mut rest = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    loop {
        rest = rest.trim_ascii_start();
        let skipped = if let Some(body) = rest.strip_prefix(b"<!--") {
            // `<!-->`, `<!--->` and `--!>` end a comment too: left undecided.
            let abrupt = body.starts_with(b">") || body.starts_with(b"->");
            memchr::memmem::find(body, b"-->")
                .filter(|&end| !abrupt && memchr::memmem::find(&body[..end], b"--!>").is_none())
                .map(|end| 4 + end + 3)
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            memchr::memchr(b'>', rest).map(|end| end + 1)
        } else {
            return rest.len() > 1 && rest[0] == b'<' && rest[1].is_ascii_alphabetic();
        };
        match skipped {
            Some(skipped) => rest = &rest[skipped..],
            None => return false,
        }
    }
}

fn place_policy(first: &mut Element<'_, '_>, head: &str) {
    if matches!(first.tag_name().as_str(), "html" | "head") {
        first.prepend(head, ContentType::Html);
    } else {
        first.before(head, ContentType::Html);
    }
}

/// Does what a lazy loader would, so the image shows with no script to run: an image's (or
/// a frame's, a video's) lazy attribute becomes its `src`, `srcset` or `poster`, and a lazy
/// background becomes a `background-image` in its `style`.
fn promote_lazy(attrs: &Attributes, tag: &str, changes: &mut Vec<Change>) {
    let image = shows_an_image(tag, attrs);
    if image || matches!(tag, "iframe" | "frame" | "video" | "audio" | "embed") {
        promote(changes, attrs, "src", PROMOTED_SRC);
    }
    if image && promote(changes, attrs, "srcset", LAZY_SRCSET) {
        size_promoted_srcset(attrs, changes);
    }
    if tag == "video" {
        promote(changes, attrs, "poster", &[LAZY_POSTER]);
    }
    let container = is_lazy_container(tag, attrs);
    let background = changes.iter().find_map(|c| {
        let lazy = LAZY_BACKGROUND.contains(&c.attr.as_str())
            || container && PROMOTED_SRC.contains(&c.attr.as_str()) && looks_like_an_image(&c.old);
        let new = c.new.as_ref().filter(|_| lazy)?;
        // Written as CSS, its `url()` fenced to nothing: there is no image to show.
        let fenced = new.contains(super::css::FENCED_URL) && !c.old.contains(super::css::EMPTY);
        (!fenced).then(|| new.clone())
    });
    if let Some(background) = background {
        promote_background(attrs, changes, &background);
    }
}

/// The lazy attributes that stand for an image's `src`, the loader's best first: a loader
/// swaps one in. Zoom and full-size attributes (`data-zoom-image`, `data-full`) name another
/// image than the one shown, and are captured, not promoted.
const PROMOTED_SRC: &[&str] = &[
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-lazyload",
    "data-lazy",
    "data-echo",
    "data-hi-res-src",
    "data-n-src",
    "data-pic",
    "data-delay",
    "datasrc",
    "data-low-res-src",
    "data-url",
];

/// Sets `real` to the new value of the first of `lazy`, in its order, that has one; whether
/// one had.
fn promote(changes: &mut Vec<Change>, attrs: &Attributes, real: &str, lazy: &[&str]) -> bool {
    let Some(new) = lazy.iter().find_map(|name| {
        changes
            .iter()
            .find(|c| c.attr == *name)
            .and_then(|c| c.new.clone())
    }) else {
        return false;
    };
    changes.retain(|c| c.attr != real);
    changes.push(Change {
        attr: real.to_string(),
        old: original(attrs, real).unwrap_or_default(),
        new: Some(new),
        keep: Keep::Asked,
    });
    true
}

/// A browser picks from a promoted `srcset` by its `sizes`; without one, for the viewport's
/// whole width, a larger candidate than the page showed (issue 19: a 1600w photo where the
/// live page, laid out at 800 px, took the 800w). lazysizes's `data-sizes="auto"`, the width
/// the loader measures, is the browser's own `sizes="auto"`, which it honours for lazy images
/// only; any other `data-sizes` is a `sizes` as it stands.
fn size_promoted_srcset(attrs: &Attributes, changes: &mut Vec<Change>) {
    if attrs.has("sizes") {
        return;
    }
    let Some(sizes) = attrs.value("data-sizes").filter(|s| !s.trim().is_empty()) else {
        return;
    };
    let auto = sizes.trim().eq_ignore_ascii_case("auto");
    let mut set = |attr: &str, value: &str| {
        changes.push(Change {
            attr: attr.to_string(),
            old: String::new(),
            new: Some(value.to_string()),
            keep: Keep::No,
        });
    };
    set("sizes", if auto { "auto" } else { sizes.trim() });
    if auto && !attrs.has("loading") {
        set("loading", "lazy");
    }
}

/// An element a lazy loader fills with a background (jQuery lazyload's `data-original` on a
/// `div`): one that shows no image, link or media of its own, whose class says it is lazy.
fn is_lazy_container(tag: &str, attrs: &Attributes) -> bool {
    let media = shows_an_image(tag, attrs)
        || matches!(
            tag,
            "a" | "picture"
                | "iframe"
                | "frame"
                | "video"
                | "audio"
                | "embed"
                | "object"
                | "script"
                | "link"
                | "input"
        );
    !media
        && attrs
            .raw("class")
            .is_some_and(|c| c.to_ascii_lowercase().contains("lazy"))
}

/// Appends the background a loader would set to the element's style (its rewritten one, if
/// it has one), once: a second run finds it there.
fn promote_background(attrs: &Attributes, changes: &mut Vec<Change>, background: &str) {
    let image = if background.to_ascii_lowercase().contains("url(") {
        background.to_string()
    } else {
        // Percent-encoded where CSS would read the character as the string's end or escape.
        let quoted = background
            .replace('\\', "%5C")
            .replace('"', "%22")
            .replace('\n', "%0A");
        format!("url(\"{quoted}\")")
    };
    let declaration = format!("background-image:{image}");
    let current = match changes.iter().find(|c| c.attr == "style") {
        Some(change) => change.new.clone().unwrap_or_default(),
        None => original(attrs, "style").unwrap_or_default(),
    };
    if current.contains(&declaration) {
        return;
    }
    changes.retain(|c| c.attr != "style");
    let separator = if current.trim_end().is_empty() || current.trim_end().ends_with(';') {
        ""
    } else {
        ";"
    };
    changes.push(Change {
        attr: "style".to_string(),
        old: original(attrs, "style").unwrap_or_default(),
        new: Some(format!("{current}{separator}{declaration}")),
        keep: Keep::Asked,
    });
}

/// The offline copy is a still copy: scripts would call the live web (ads, analytics), and the
/// policy forbids them anyway, so nothing of them may start a request. A script becomes a
/// data block (its `type` kept in `data-cairn-original-type`), and hints that would fetch a
/// script or data for one (`modulepreload`, `preload as=script`) lose their `href`.
fn fence_scripts(attrs: &Attributes, tag: &str, changes: &mut Vec<Change>) {
    match tag {
        "script" if runs(attrs) => changes.push(Change {
            attr: "type".to_string(),
            old: attrs.value("type").unwrap_or_default(),
            new: Some(DISABLED_SCRIPT.to_string()),
            keep: Keep::Always,
        }),
        "link" if fetches_for_a_script(attrs) || is_manifest(attrs) => {
            changes.retain(|c| c.attr != "href");
            if let Some(old) = original(attrs, "href") {
                changes.push(Change {
                    attr: "href".to_string(),
                    old,
                    new: None,
                    keep: Keep::Always,
                });
            }
        }
        "link" => apply_onload(attrs, changes),
        _ => {}
    }
    classes_after_scripts(attrs, tag, changes);
}

/// The classes scripts would have left: pages mark `no-js` on `<html>` or `<body>` until
/// their scripts run, and lazysizes, the most used lazy loader, hides what it has not loaded
/// (its recommended `.lazyload{opacity:0}`) until it marks it `lazyloaded`. The still copy
/// looks as the page did once they had run.
fn classes_after_scripts(attrs: &Attributes, tag: &str, changes: &mut Vec<Change>) {
    let Some(class) = attrs.value("class") else {
        return;
    };
    let root = matches!(tag, "html" | "body");
    let after = |c| match c {
        "no-js" if root => "js",
        "lazyload" => "lazyloaded",
        c => c,
    };
    if class.split_ascii_whitespace().all(|c| after(c) == c) {
        return;
    }
    let new: Vec<&str> = class.split_ascii_whitespace().map(after).collect();
    let new = new.join(" ");
    changes.push(Change {
        attr: "class".to_string(),
        old: class,
        new: Some(new),
        keep: Keep::No,
    });
}

/// A web app manifest: fetched with CORS, which a file cannot answer, and nothing a page
/// shows.
fn is_manifest(attrs: &Attributes) -> bool {
    attrs.raw("rel").is_some_and(|rel| {
        rel.split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("manifest"))
    })
}

/// What a stylesheet's `onload` would have done, done: pages load styles without blocking
/// (`<link rel=preload as=style onload="this.rel='stylesheet'">`, `media=print
/// onload="this.media='all'"`), and with no script to run the page would stay unstyled. A
/// handler runs with the element in scope, so the loadCSS pattern copied by many sites and
/// plugins names it not at all: `media=none onload="if(media!='all')media='all'"`.
fn apply_onload(attrs: &Attributes, changes: &mut Vec<Change>) {
    static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:\bthis\.|(?:^|[^\w$.]))(rel|media)\s*=\s*['"]([^'"]*)['"]"#)
            .expect("a valid pattern")
    });
    let Some(onload) = attrs.value("onload") else {
        return;
    };
    for assignment in ASSIGNMENT.captures_iter(&onload) {
        let (attr, value) = (&assignment[1], &assignment[2]);
        changes.retain(|c| c.attr != attr);
        changes.push(Change {
            attr: attr.to_string(),
            old: attrs.value(attr).unwrap_or_default(),
            new: Some(value.to_string()),
            keep: Keep::No,
        });
    }
}

/// What the AMP runtime, a script, would have done for an AMP page's look: an `<amp-img>`
/// (or `<amp-anim>`) gets the `<img>` the runtime puts into it, and the boilerplate that hides
/// the body until the runtime has run (8 seconds without it) is emptied.
fn stand_in_for_amp(el: &mut Element<'_, '_>, tag: &str) {
    match tag {
        "amp-img" | "amp-anim" => {
            let Some(src) = el.get_attribute("src") else {
                return;
            };
            // The attributes as they are now written, rewritten and escaped.
            let mut img = format!("<img src=\"{}\"", src.replace('"', "&quot;"));
            for attr in ["srcset", "sizes", "alt", "width", "height"] {
                if let Some(value) = el.get_attribute(attr) {
                    img.push_str(&format!(" {attr}=\"{}\"", value.replace('"', "&quot;")));
                }
            }
            // Without `sizes`, the runtime sizes the picture to the element's width.
            if let (None, Some(width)) = (el.get_attribute("sizes"), el.get_attribute("width")) {
                let width = width.trim();
                if !width.is_empty() && width.bytes().all(|b| b.is_ascii_digit()) {
                    img.push_str(&format!(
                        " sizes=\"(max-width: {width}px) 100vw, {width}px\""
                    ));
                }
            }
            img.push_str(" style=\"max-width:100%;height:auto\">");
            el.append(&img, ContentType::Html);
        }
        "style" if el.has_attribute("amp-boilerplate") => {
            el.set_inner_content("", ContentType::Text);
        }
        _ => {}
    }
}

/// The `type` a disabled script is given: one no browser runs.
const DISABLED_SCRIPT: &str = "text/x-cairn-disabled";

/// Whether a `<script>` runs (classic, module, import map, speculation rules) rather than
/// holding data (`application/ld+json`, templates).
fn runs(attrs: &Attributes) -> bool {
    let Some(kind) = attrs.value("type") else {
        return true;
    };
    let kind = kind.trim().to_ascii_lowercase();
    let essence = kind.split(';').next().unwrap_or_default().trim();
    essence.is_empty()
        || matches!(essence, "module" | "importmap" | "speculationrules")
        || essence.contains("javascript")
        || essence.contains("ecmascript")
        || matches!(essence, "text/jscript" | "text/livescript")
}

/// Whether a `<script>` is a classic one (not a module, an import map, data).
fn is_classic(attrs: &Attributes) -> bool {
    runs(attrs)
        && !attrs.value("type").is_some_and(|kind| {
            let kind = kind.trim().to_ascii_lowercase();
            matches!(kind.as_str(), "module" | "importmap" | "speculationrules")
        })
}

/// A `<link>` that fetches a script, a module or data for one: nothing a still copy uses,
/// and a load the policy refuses.
fn fetches_for_a_script(attrs: &Attributes) -> bool {
    let rel = attrs.raw("rel").unwrap_or_default().to_ascii_lowercase();
    let destination = attrs.raw("as").unwrap_or_default().to_ascii_lowercase();
    let hint = |name: &str| rel.split_ascii_whitespace().any(|r| r == name);
    hint("modulepreload")
        || (hint("preload") || hint("prefetch"))
            && matches!(
                destination.trim(),
                "script"
                    | "fetch"
                    | "json"
                    | "worker"
                    | "sharedworker"
                    | "serviceworker"
                    | "audioworklet"
                    | "paintworklet"
            )
}

/// An attribute's value before cairn rewrote it, decoded: with `data-cairn-original`
/// present, the element was rewritten before, and starting from the originals makes a second
/// run change nothing and lose nothing.
fn original(attrs: &Attributes, attr: &str) -> Option<String> {
    let current = attrs.value(attr)?;
    if !attrs.names().any(|name| name.starts_with(KEPT_ORIGINAL)) {
        return Some(current);
    }
    let kept = kept_original_name(attr, || attrs.has("href"));
    Some(attrs.value(&kept).unwrap_or(current))
}

/// Where an attribute's original value is kept: `data-cairn-original` for an element's one
/// reference (its `href`, else its `src`), `data-cairn-original-ATTR` for any other, so two
/// references on one element never share a kept value. Whether the element has an `href` is
/// asked of a `src` only.
fn kept_original_name(attr: &str, has_href: impl FnOnce() -> bool) -> String {
    match attr {
        "href" => KEPT_ORIGINAL.to_string(),
        "src" if !has_href() => KEPT_ORIGINAL.to_string(),
        other => format!("{KEPT_ORIGINAL}-{other}"),
    }
}

/// The attribute an element's rewritten reference keeps its original value in.
const KEPT_ORIGINAL: &str = "data-cairn-original";

#[cfg(test)]
mod tests {
    use super::{OFFLINE_POLICY, opens_with_an_element, rewrite_html};
    use crate::rewrite::HtmlOptions;

    fn fenced(page: &str) -> String {
        let options = HtmlOptions {
            base: url::Url::parse("https://example.com/a").unwrap(),
            map: &|_| None,
            keep_original: false,
            promote_lazy: true,
            banner: None,
            client: None,
            fence: true,
            sprites: None,
        };
        let (out, _) = rewrite_html(page.as_bytes(), encoding_rs::UTF_8, &options).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn replayed(page: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
        let options = HtmlOptions {
            base: url::Url::parse("https://example.com/a").unwrap(),
            map: &|url| Some(format!("/c/1/{url}")),
            keep_original: false,
            promote_lazy: true,
            banner: None,
            client: Some("<script src=/layer.js></script>".into()),
            fence: false,
            sprites: None,
        };
        let (page, _, _) = encoding.encode(page);
        rewrite_html(&page, encoding, &options).unwrap().0
    }

    /// The client layer goes first, but for the head's title and metadata (a `<meta charset>`
    /// stays where a browser's prescan finds it), and classic scripts reading `location` are
    /// scoped to it, in the page's own encoding; data blocks and modules are left.
    #[test]
    fn replay_puts_the_client_layer_first_and_scopes_classic_scripts() {
        let page = "<!doctype html><html><head><meta charset=shift_jis><title>t</title>\
            <script>var u = location.href; const 表 = \"表\";</script>\
            <script type=application/ld+json>{\"location\": 1}</script>\
            <script type=module>location.href</script></head>\
            <body><script>document.write(1)</script><img src=/i.jpg></body></html>";
        let out = replayed(page, encoding_rs::SHIFT_JIS);
        let (out, _, malformed) = encoding_rs::SHIFT_JIS.decode(&out);
        assert!(!malformed);
        assert!(
            out.starts_with(
                "<!doctype html><html><head><meta charset=shift_jis><title>t</title>\
                 <script src=/layer.js></script><script>var __cairn_scope__="
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "try{__cairn.bind(\"表\",function(){return 表},function(v){表=v})}catch(e){}\n\
                 var u = location.href; const 表 = \"表\";\n}\n</script>"
            ),
            "{out}"
        );
        assert_eq!(out.matches("layer.js").count(), 1);
        assert_eq!(out.matches("__cairn_scope__=").count(), 1, "{out}");
        assert!(out.contains("<script type=module>location.href</script>"));
        assert!(out.contains(
            "<script>document.write(1)</script><img src=\"/c/1/https://example.com/i.jpg\">"
        ));
        // A promoted `srcset` is chosen from at the width the loader would have measured.
        let out = replayed(
            "<img data-srcset=\"a.jpg 800w, b.jpg 1600w\" data-sizes=auto><img data-srcset=\"c.jpg 1x\" data-sizes=\"50vw\">",
            encoding_rs::UTF_8,
        );
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("sizes=\"auto\"") && out.contains("loading=\"lazy\""),
            "{out}"
        );
        assert!(
            out.contains("sizes=\"50vw\"") && out.matches("loading").count() == 1,
            "{out}"
        );
        // With no head, before the first element.
        let out = replayed("<p>x</p><script>location</script>", encoding_rs::UTF_8);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .starts_with("<script src=/layer.js></script><p>x</p><script>var __cairn_scope__")
        );
    }

    /// The policy is honoured only in the head: before text that opens the body, inside the
    /// first `<html>` or `<head>` otherwise.
    #[test]
    fn the_offline_policy_goes_where_the_parser_keeps_it_in_the_head() {
        for (page, policy_before) in [
            (
                "<!DOCTYPE html>\n<html><head></head><body>x</body></html>",
                "<head>",
            ),
            ("<!-- c --><head><title>t</title></head>", "<title>"),
            ("hello<p>x</p>", "hello"),
            ("\u{a0}<html><head></head><body>x</body></html>", "\u{a0}"),
            ("\u{3000}<html><body>x</body></html>", "\u{3000}"),
            ("<!-->\u{a0}<html><body>x</body></html>", "\u{a0}"),
        ] {
            let out = fenced(page);
            let policy = out
                .find(OFFLINE_POLICY)
                .unwrap_or_else(|| panic!("no policy: {out}"));
            assert!(
                policy < out.find(policy_before).unwrap(),
                "{page:?} -> {out}"
            );
        }
    }

    #[test]
    fn an_element_first_is_told_apart_from_text_first() {
        for first in [
            &b"<!DOCTYPE html>\n<html><p>x"[..],
            b"\xEF\xBB\xBF  <!doctype html><!-- a -- b --><?xml x?>\r\n<head>",
            b"<!-- <p> -->\n<body>",
        ] {
            assert!(
                opens_with_an_element(first),
                "{}",
                String::from_utf8_lossy(first)
            );
        }
        for first in [
            &b"hello <p>"[..],
            b"<!DOCTYPE html>text<html>",
            b"<!-->text<!-- x --><p>",
            b"<!--->text<!-- x --><p>",
            b"<!-- a --!>text<!-- x --><p>",
            b"<!-- cut off",
            b"<",
            b"< p>",
            b"",
        ] {
            assert!(
                !opens_with_an_element(first),
                "{}",
                String::from_utf8_lossy(first)
            );
        }
    }
}
