//! HTML rewritten as a stream by lol_html, in the document's own charset, so bytes that are not
//! references stay exactly as they were. Which attributes hold references, and how their
//! values read, is [`crate::extract::references`]: the crawl followed exactly what is
//! rewritten here.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, Write};

use lol_html::html_content::{ContentType, Element, TextChunk};
use lol_html::{
    AsciiCompatibleEncoding, HtmlRewriter, MemorySettings, Settings, doc_text, element, text,
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use super::{HtmlOptions, Mapped, RewriteError, fenced_in_css, map_reference, rewrite_css};
use crate::extract::references::{
    DataDocument, LAZY_SRC, LAZY_SRCSET, Syntax, attribute, data_url_document, escape_attribute,
    references, refresh_target, srcset_spans,
};
use crate::extract::{Base, MAX_NESTED_DEPTH, MAX_NOSCRIPT_DEPTH};

/// What lol_html may hold of one document at a time: a tag it has not seen the end of (a tag
/// is buffered whole, its attributes with it). No real tag comes near; a page made of one
/// endless tag fails to rewrite rather than taking the memory of the process (issue 13).
const MAX_PARSER_MEMORY: usize = 16 << 20;

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
    let rewriting = Rewriting::new(options, Base::new(&options.base), 0);
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
    /// Whether the offline copy's CSP `<meta>` is in place.
    policy_placed: std::cell::Cell<bool>,
    /// How deep inside `<noscript>` text this document is.
    depth: usize,
}

/// An attribute to set: its name, its value before and after, all decoded; `None` after for
/// an attribute removed.
struct Change {
    attr: String,
    old: String,
    new: Option<String>,
    keep_original: bool,
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
            policy_placed: std::cell::Cell::default(),
            depth,
        }
    }

    fn run(
        &self,
        src: &mut dyn BufRead,
        out: &mut dyn Write,
        encoding: AsciiCompatibleEncoding,
    ) -> Result<(), RewriteError> {
        let mut write_error = None;
        let settings = Settings::new()
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
            }))
            .append_document_content_handler(doc_text!(|chunk| {
                self.leading_text(chunk);
                Ok(())
            }));
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

    fn mapped(&self, value: &str) -> Mapped {
        let base = self.base.borrow();
        map_reference(
            self.options.map,
            &base.url,
            value,
            &self.unresolved,
            &self.spent,
        )
    }

    /// A reference inside CSS or a `srcset`: its replacement, or `None` to leave it.
    fn map(&self, value: &str) -> Option<String> {
        fenced_in_css(self.mapped(value), self.options.fence)
    }

    /// An attribute that is one reference: its new value, `Some(None)` to remove it (behind the
    /// fence, what was not archived and acts by itself), `None` to leave it.
    fn map_attribute(&self, value: &str, link: bool) -> Option<Option<String>> {
        match self.mapped(value) {
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
        if self.depth >= MAX_NESTED_DEPTH {
            return None;
        }
        let inner = Rewriting::new(self.options, self.base.borrow().clone(), self.depth + 1);
        let mut out = Vec::with_capacity(markup.len());
        let utf8 = AsciiCompatibleEncoding::utf_8();
        inner.run(&mut markup.as_bytes(), &mut out, utf8).ok()?;
        self.unresolved
            .borrow_mut()
            .extend(inner.unresolved.into_inner());
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// Text before the first element opens the body: the policy goes before it, where the
    /// parser still puts it into the head (a `<meta>` policy in the body is ignored).
    fn leading_text(&self, chunk: &mut TextChunk<'_>) {
        let placed = self.policy_placed.get();
        if self.options.fence && self.depth == 0 && !placed && !chunk.as_str().trim().is_empty() {
            self.policy_placed.set(true);
            chunk.before(OFFLINE_POLICY, ContentType::Html);
        }
    }

    fn element(&self, el: &mut Element<'_, '_>) {
        if self.options.fence && self.depth == 0 && !self.policy_placed.replace(true) {
            place_policy(el);
        }
        // Each reference looks its element's attributes up, so thousands of them on one tag
        // (which no real page has) would cost their square: the tag goes, its content stays.
        if el.attributes().len() > crate::extract::MAX_ATTRIBUTES {
            el.remove_and_keep_content();
            return;
        }
        if el.tag_name() == "base" {
            self.base_element(el);
            return;
        }
        let mut changes = self.changes(el);
        if self.options.promote_lazy && el.tag_name() == "img" {
            promote_lazy(el, &mut changes);
        }
        if !changes.is_empty() && matches!(el.tag_name().as_str(), "link" | "script") {
            // Subresource integrity would reject a rewritten stylesheet.
            el.remove_attribute("integrity");
        }
        for change in changes {
            let removed = change.new.is_none();
            match &change.new {
                // Escaped only where it must be: a rewritten value can be megabytes.
                Some(new) => {
                    let _ = el.set_attribute(&change.attr, &htmlize::escape_attribute(new));
                }
                None => el.remove_attribute(&change.attr),
            }
            // A value that is already the rewritten one (a second run, a promoted src) is no
            // original worth keeping; a removed one is always kept, so nothing is lost.
            let keep = self.options.keep_original && change.keep_original || removed;
            if keep && !change.old.is_empty() && Some(&change.old) != change.new.as_ref() {
                let name = kept_original_name(el, &change.attr);
                if !el.has_attribute(&name) {
                    let _ = el.set_attribute(&name, &escape_attribute(&change.old));
                }
            }
        }
    }

    /// The new value of each reference attribute that changes.
    fn changes(&self, el: &Element<'_, '_>) -> Vec<Change> {
        let mut changes = Vec::new();
        for reference in references(el) {
            let Some(old) = original(el, &reference.attr) else {
                continue;
            };
            let new = match reference.syntax {
                Syntax::Url => match data_url_document(&old) {
                    Some(document) => self.data_document(&document),
                    None => self.map_attribute(&old, reference.link),
                },
                Syntax::Srcset => self.srcset(&old).map(Some),
                Syntax::Style => Some(rewrite_css(&old, &|r| self.map(r)))
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
                    keep_original: matches!(reference.syntax, Syntax::Url | Syntax::Srcset),
                });
            }
        }
        changes
    }

    /// A srcset with each candidate URL mapped and descriptors kept; `None` if none changed.
    ///
    /// Built front to back in one pass: replacing each candidate in place moved every byte
    /// after it, time N² in the number of candidates (issue 13: 200,000 candidates took 12 s).
    fn srcset(&self, value: &str) -> Option<String> {
        let mut out = String::with_capacity(value.len() + value.len() / 4);
        let mut copied = 0;
        for span in srcset_spans(value) {
            if let Some(new) = self.map(&value[span.clone()]) {
                out.push_str(&value[copied..span.start]);
                out.push_str(&new);
                copied = span.end;
            }
        }
        if copied == 0 {
            return None;
        }
        out.push_str(&value[copied..]);
        Some(out)
    }

    /// The first `<base href>` moves where references resolve; every base loses its `href`,
    /// so that local references do not resolve against the live site.
    fn base_element(&self, el: &mut Element<'_, '_>) {
        let kept = attribute(el, "data-cairn-original");
        let Some(href) = attribute(el, "href").or(kept) else {
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
            let rewritten = rewrite_css(&css, &|r| self.map(r));
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

/// The offline copy's fence for what rewriting cannot see (a script's `fetch`, a URL built at
/// run time): only local files and inline content load, forms submit nowhere. A `<meta>` CSP
/// holds only for what follows it, so it goes first: into `<html>` or `<head>`, or before the
/// first element of a page with neither (where the parser puts it into the implied head).
const OFFLINE_POLICY: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self' file: data: blob: 'unsafe-inline' 'unsafe-eval'; worker-src 'none'; form-action 'none'; base-uri 'none'\">";

fn place_policy(first: &mut Element<'_, '_>) {
    if matches!(first.tag_name().as_str(), "html" | "head") {
        first.prepend(OFFLINE_POLICY, ContentType::Html);
    } else {
        first.before(OFFLINE_POLICY, ContentType::Html);
    }
}

/// Gives a lazy image a real `src`/`srcset` from its `data-src`/`data-srcset`, so it shows
/// with no script to swap them in.
fn promote_lazy(el: &Element<'_, '_>, changes: &mut Vec<Change>) {
    for (real, lazy) in [("src", LAZY_SRC), ("srcset", LAZY_SRCSET)] {
        let Some(new) = changes
            .iter()
            .find(|c| lazy.contains(&c.attr.as_str()))
            .and_then(|c| c.new.clone())
        else {
            continue;
        };
        changes.retain(|c| c.attr != real);
        changes.push(Change {
            attr: real.to_string(),
            old: original(el, real).unwrap_or_default(),
            new: Some(new),
            keep_original: true,
        });
    }
}

/// An attribute's value before cairn rewrote it, decoded: with `data-cairn-original`
/// present, the element was rewritten before, and starting from the originals makes a second
/// run change nothing and lose nothing.
fn original(el: &Element<'_, '_>, attr: &str) -> Option<String> {
    let current = attribute(el, attr)?;
    Some(attribute(el, &kept_original_name(el, attr)).unwrap_or(current))
}

/// Where an attribute's original value is kept: `data-cairn-original` for an element's one
/// reference (its `href`, else its `src`), `data-cairn-original-ATTR` for any other, so two
/// references on one element never share a kept value.
fn kept_original_name(el: &Element<'_, '_>, attr: &str) -> String {
    match attr {
        "href" => "data-cairn-original".to_string(),
        "src" if !el.has_attribute("href") => "data-cairn-original".to_string(),
        other => format!("data-cairn-original-{other}"),
    }
}
