//! Classic scripts scoped to replay's client layer: a script that reads `location` is wrapped
//! in a block whose own `location`, `window`, `self`, `top` ... are the layer's, so the page
//! reads its original address and navigates within the archive, as pywb's wombat arranges
//! it. The block changes what a script declares at its top level: its `let`, `const` and
//! `class` names, which other scripts look for in the global scope, are given back to it at
//! the end; a script that cannot be wrapped (module syntax, a declaration of one of the
//! block's names, text the scan loses track of) is left as it is, reading the replay's own
//! address. Finding those needs a scan of the script's tokens, not a parse: a JavaScript
//! parser crate would cost minutes of build for what a few hundred lines do.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use crate::extract::charset::header_encoding;

/// Scripts longer than this are served as they are: no page's own script comes near.
pub const MAX_SCOPED: usize = 4 << 20;

/// The names a scoped script sees bound to the client layer's scope.
const SHADOWED: [&str; 7] = [
    "location",
    "window",
    "self",
    "globalThis",
    "top",
    "parent",
    "frames",
];

/// Before a script that reads `location` as it stands: its scope's, or the real one when the
/// client layer is not there (a script file opened without its page). A script's own
/// `"use strict"` is then a mere string, and the script sloppy: kept strict, its top-level
/// functions would be the block's alone (a sloppy script's are also global, as other scripts
/// need them).
const PROLOGUE: &str = "var __cairn_scope__=(typeof __cairn===\"object\"&&__cairn)?__cairn.scope():{window:window,location:location};{let location=__cairn_scope__.location;\n";

/// Before a script that reads `window.location` (or `self.`, `top.` ...): the window too is
/// the scope's, a proxy of the real one. Only there: a proxy is not the window it stands for
/// (`event.source === window` fails in it), so scripts that need no proxy get none.
const WINDOW_PROLOGUE: &str = "var __cairn_scope__=(typeof __cairn===\"object\"&&__cairn)?__cairn.scope():{window:window,location:location};{let window=__cairn_scope__.window,self=window,globalThis=window,frames=window,top=window.top,parent=window.parent,location=__cairn_scope__.location;\n";

/// `location` read off a window: `window.location`, `top["location"]` ...
static WINDOW_LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\b(?:window|self|globalThis|frames|top|parent)\s*(?:\.\s*location\b|\[\s*["']location)"#,
    )
    .expect("a valid pattern")
});

/// What closes the block, after a line break: the script may end in a line comment.
const EPILOGUE: &str = "\n}\n";

/// An inline script's text, scoped; `None` to leave it as it is.
pub fn scoped(text: &str) -> Option<String> {
    let prologue = prologue(text)?;
    let mut out = String::with_capacity(prologue.len() + text.len() + EPILOGUE.len());
    out.push_str(&prologue);
    out.push_str(text);
    out.push_str(EPILOGUE);
    Some(out)
}

/// A script file's bytes, scoped; `None` to serve it as it is. The file's own bytes are kept,
/// in its own encoding (the block's text is ASCII); a byte-order mark stays first, where it
/// names the encoding.
pub fn scoped_file(body: &[u8], content_type: Option<&str>) -> Option<Vec<u8>> {
    let declared = header_encoding(content_type).unwrap_or(encoding_rs::UTF_8);
    let (encoding, bom) = encoding_rs::Encoding::for_bom(body).unwrap_or((declared, 0));
    if !encoding.is_ascii_compatible() || body.len() > MAX_SCOPED {
        return None;
    }
    let (text, malformed) = encoding.decode_without_bom_handling(&body[bom..]);
    if malformed {
        return None;
    }
    let prologue = prologue(&text)?;
    let mut out = Vec::with_capacity(body.len() + prologue.len() + EPILOGUE.len());
    out.extend_from_slice(&body[..bom]);
    out.extend_from_slice(prologue.as_bytes());
    out.extend_from_slice(&body[bom..]);
    out.extend_from_slice(EPILOGUE.as_bytes());
    Some(out)
}

/// What opens the block: the scope, then the script's top-level lexical declarations given
/// back to the global scope as accessors of the block's bindings, from the block's start (a
/// script that throws midway keeps them, and another script's assignment is the block's
/// too); `None` for a script not to be wrapped.
fn prologue(text: &str) -> Option<String> {
    // Most scripts never name `location`: they are not scanned at all (bench-replay: the
    // article page at 413 requests/s with every script scanned).
    if !text.contains("location") {
        return None;
    }
    let scan = scan(text, &SHADOWED);
    let off_a_window = WINDOW_LOCATION.is_match(text);
    let unwrappable = scan.module_syntax || scan.conflicts || scan.confused;
    // A `#!` line is allowed first in a script only.
    if !(scan.uses_location || off_a_window)
        || unwrappable
        || scan.assigns_location
        || text.starts_with("#!")
    {
        return None;
    }
    let mut prologue = if off_a_window {
        WINDOW_PROLOGUE
    } else {
        PROLOGUE
    }
    .to_string();
    for name in &scan.lexical {
        let _ = write!(
            prologue,
            "try{{__cairn.bind(\"{name}\",function(){{return {name}}},function(v){{{name}=v}})}}catch(e){{}}"
        );
    }
    prologue.push('\n');
    Some(prologue)
}

/// What wrapping a classic script in a block needs to know of it.
#[derive(Debug, Default, PartialEq, Eq)]
struct ScriptScan {
    /// Names declared by `let`, `const` or `class` at the script's top level, in order,
    /// without duplicates: every declarator of a list, and the identifiers bound by
    /// destructuring patterns (`const {a, b: c, ...d} = x` gives a, c, d).
    lexical: Vec<String>,
    /// Whether the identifier `location` (not a property of that name) is used outside
    /// strings, comments and regexes.
    uses_location: bool,
    /// Whether `location` is assigned (`location = url`).
    assigns_location: bool,
    /// Whether the script has module syntax at its top level (static import, export).
    module_syntax: bool,
    /// Whether the script declares one of the shadowed names where the block's `let` would
    /// make it an early error: a `var` outside any function, a top-level `let`, `const`,
    /// `class` or `function`.
    conflicts: bool,
    /// Whether the scan lost track (unbalanced brackets, an unterminated string, template,
    /// comment or regex): the script is then left as it is.
    confused: bool,
}

/// Scans `text`, a classic script, for the hazards of wrapping it in a block
/// that declares each of `shadowed` with `let`.
fn scan(text: &str, shadowed: &[&str]) -> ScriptScan {
    let Some(toks) = Lexer::new(text).run() else {
        return ScriptScan {
            confused: true,
            ..ScriptScan::default()
        };
    };
    Analyzer::new(&toks, shadowed).run()
}

/// Keywords after which an operand is expected: a `/` after them starts a
/// regex, and a line break after them does not end a statement.
const EXPECTS_OPERAND: [&str; 15] = [
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
    "extends",
];

/// Keywords whose parenthesised head is followed by a plain block, not a
/// function body, when they appear in a block (in a class body every
/// `name(...) {` is a method).
const BLOCK_HEADS: [&str; 7] = ["if", "for", "while", "switch", "catch", "with", "await"];

/// Multi-character punctuators, longest first so the first match is the
/// maximal munch.
const PUNCTS: [&str; 33] = [
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "=>", "==", "!=",
    "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "**", "<<", ">>",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Punct,
    Str,
    Num,
    Regex,
    /// A template literal without substitutions.
    Template,
    /// `` `...${ ``: opens a substitution.
    TplHead,
    /// `` }...${ ``: closes one substitution and opens the next.
    TplMiddle,
    /// `` }...` ``: closes the last substitution.
    TplTail,
}

#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    kind: Kind,
    text: &'a str,
    /// A line terminator precedes the token (for ASI-like heuristics).
    nl: bool,
}

impl Tok<'_> {
    fn punct(&self, text: &str) -> bool {
        self.kind == Kind::Punct && self.text == text
    }

    fn ident(&self, text: &str) -> bool {
        self.kind == Kind::Ident && self.text == text
    }

    fn closes(&self) -> bool {
        matches!(self.kind, Kind::TplMiddle | Kind::TplTail)
            || (self.kind == Kind::Punct && matches!(self.text, ")" | "]" | "}"))
    }

    fn opens_pattern(&self) -> bool {
        self.punct("{") || self.punct("[")
    }
}

fn after_dot(prev: Option<Tok>) -> bool {
    prev.is_some_and(|p| p.punct(".") || p.punct("?."))
}

/// Whether the token can end an expression, so that a line break after it
/// may end the statement.
fn ends_expr(tok: Tok) -> bool {
    match tok.kind {
        Kind::Ident => !EXPECTS_OPERAND.contains(&tok.text),
        Kind::Punct => matches!(tok.text, ")" | "]" | "}" | "++" | "--"),
        Kind::TplHead | Kind::TplMiddle => false,
        _ => true,
    }
}

/// Whether a token at the start of a line continues the expression on the
/// previous line (binary operators, calls, member access, tagged templates).
fn continues(tok: Tok) -> bool {
    match tok.kind {
        Kind::Punct => !matches!(tok.text, "{" | "!" | "~" | "++" | "--"),
        Kind::Template | Kind::TplHead => true,
        Kind::Ident => matches!(tok.text, "in" | "instanceof"),
        _ => false,
    }
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

fn is_space(c: char) -> bool {
    c == '\u{feff}' || (c.is_whitespace() && c != '\u{85}' && !is_line_terminator(c))
}

/// U+2028 or U+2029 at byte `i`, which end line comments like `\n`.
fn unicode_newline_at(bytes: &[u8], i: usize) -> bool {
    bytes.get(i) == Some(&0xe2)
        && bytes.get(i + 1) == Some(&0x80)
        && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9))
}

/// End of the quoted string starting at `start`, or `None` if unterminated.
fn skip_string(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = *bytes.get(start)?;
    let mut i = start + 1;
    loop {
        match *bytes.get(i)? {
            b'\\' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'\\' => i += 2,
            b'\n' | b'\r' => return None,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// End of the regex literal (with its flags) starting at `start`, or `None`
/// if the line ends first.
fn skip_regex(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let mut class = false;
    loop {
        match *bytes.get(i)? {
            b'\\' if matches!(bytes.get(i + 1).copied(), Some(b'\n' | b'\r')) => return None,
            b'\\' => {
                i += 2;
                continue;
            }
            b'\n' | b'\r' => return None,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => break,
            _ => {}
        }
        i += 1;
    }
    i += 1;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$'))
    {
        i += 1;
    }
    Some(i)
}

/// What an open bracket in the lexer's stack is; the kind of `{` decides
/// whether a `/` after its `}` is a regex, and `Subst` makes a `}` resume a
/// template.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Paren,
    Bracket,
    Block,
    Object,
    Subst,
}

/// Splits the text into tokens, dropping whitespace and comments; `None`
/// means it lost track (unterminated or unbalanced).
struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// A line terminator was seen since the last token.
    nl: bool,
    /// Only whitespace and comments precede `pos` on its line (for `-->`).
    line_blank: bool,
    /// The last `}` closed a block statement rather than an expression.
    closed_block: bool,
    stack: Vec<Open>,
    toks: Vec<Tok<'a>>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            nl: false,
            line_blank: true,
            closed_block: false,
            stack: Vec::new(),
            toks: Vec::new(),
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..)?.chars().next()
    }

    fn run(mut self) -> Option<Vec<Tok<'a>>> {
        loop {
            self.skip_trivia()?;
            if self.pos >= self.src.len() {
                break;
            }
            self.token()?;
        }
        self.stack.is_empty().then_some(self.toks)
    }

    fn newline(&mut self) {
        self.nl = true;
        self.line_blank = true;
    }

    fn skip_trivia(&mut self) -> Option<()> {
        while let Some(&b) = self.bytes().get(self.pos) {
            let rest = self.rest();
            match b {
                b' ' | b'\t' | 0x0b | 0x0c => self.pos += 1,
                b'\n' | b'\r' => {
                    self.pos += 1;
                    self.newline();
                }
                b'/' if rest.starts_with("//") => self.line_comment(),
                b'/' if rest.starts_with("/*") => self.block_comment()?,
                b'<' if rest.starts_with("<!--") => self.line_comment(),
                b'-' if self.line_blank && rest.starts_with("-->") => self.line_comment(),
                b'#' if self.pos == 0 && rest.starts_with("#!") => self.line_comment(),
                0x80.. => {
                    let c = self.char_at(self.pos)?;
                    if is_line_terminator(c) {
                        self.newline();
                    } else if !is_space(c) {
                        return Some(());
                    }
                    self.pos += c.len_utf8();
                }
                _ => return Some(()),
            }
        }
        Some(())
    }

    /// Skips to the line terminator, leaving it for `skip_trivia`.
    fn line_comment(&mut self) {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if b == b'\n' || b == b'\r' || unicode_newline_at(bytes, self.pos) {
                return;
            }
            self.pos += 1;
        }
    }

    fn block_comment(&mut self) -> Option<()> {
        let body = self.src.get(self.pos + 2..)?;
        let end = body.find("*/")?;
        if body.get(..end)?.contains(is_line_terminator) {
            self.newline();
        }
        self.pos += end + 4;
        Some(())
    }

    fn token(&mut self) -> Option<()> {
        let start = self.pos;
        let b = *self.bytes().get(start)?;
        let kind = match b {
            b'"' | b'\'' => {
                self.pos = skip_string(self.bytes(), start)?;
                Kind::Str
            }
            b'`' => self.template(start + 1, true)?,
            b'}' if self.stack.last() == Some(&Open::Subst) => {
                self.stack.pop();
                self.template(start + 1, false)?
            }
            b'0'..=b'9' => self.number(),
            b'.' if self.bytes().get(start + 1).is_some_and(u8::is_ascii_digit) => self.number(),
            b'/' if self.regex_allowed() => {
                self.pos = skip_regex(self.bytes(), start)?;
                Kind::Regex
            }
            // An escape stands in an identifier (`\u0061`); any other backslash is text this
            // scan cannot follow (a regex it took for a division).
            b'\\' if self.bytes().get(start + 1) != Some(&b'u') => return None,
            b'_' | b'$' | b'\\' | b'#' | b'a'..=b'z' | b'A'..=b'Z' | 0x80.. => self.ident(),
            _ => self.punct()?,
        };
        if self.pos <= start {
            return None;
        }
        let text = self.src.get(start..self.pos)?;
        self.toks.push(Tok {
            kind,
            text,
            nl: self.nl,
        });
        self.nl = false;
        self.line_blank = false;
        Some(())
    }

    /// Scans template text from `from` to the closing backtick or the next
    /// `${`; `head` says whether the text began at a backtick or at a `}`.
    fn template(&mut self, from: usize, head: bool) -> Option<Kind> {
        let bytes = self.bytes();
        let mut i = from;
        loop {
            match *bytes.get(i)? {
                b'\\' => i += 2,
                b'`' => {
                    self.pos = i + 1;
                    return Some(if head { Kind::Template } else { Kind::TplTail });
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    self.pos = i + 2;
                    self.stack.push(Open::Subst);
                    return Some(if head { Kind::TplHead } else { Kind::TplMiddle });
                }
                _ => i += 1,
            }
        }
    }

    /// Numbers only need to be skipped so that their letters (`1e5`,
    /// `0xff`) are not taken for identifiers.
    fn number(&mut self) -> Kind {
        let bytes = self.bytes();
        let start = self.pos;
        let hex = bytes.get(start) == Some(&b'0')
            && matches!(bytes.get(start + 1).copied(), Some(b'x' | b'X'));
        let mut dot = false;
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            let exponent_sign = matches!(b, b'+' | b'-')
                && !hex
                && i > start
                && matches!(bytes.get(i - 1).copied(), Some(b'e' | b'E'));
            if b == b'.' && !dot && !hex {
                dot = true;
            } else if !(exponent_sign || b.is_ascii_alphanumeric() || b == b'_') {
                break;
            }
            i += 1;
        }
        self.pos = i;
        Kind::Num
    }

    fn ident(&mut self) -> Kind {
        let start = self.pos;
        while let Some(c) = self.char_at(self.pos) {
            let escape = c == '\\' && self.bytes().get(self.pos + 1) == Some(&b'u');
            let ok = c.is_ascii_alphanumeric()
                || matches!(c, '_' | '$')
                || escape
                || (c == '#' && self.pos == start)
                || (!c.is_ascii() && !is_space(c) && !is_line_terminator(c));
            if !ok {
                break;
            }
            self.pos += c.len_utf8();
        }
        Kind::Ident
    }

    fn punct(&mut self) -> Option<Kind> {
        let rest = self.rest();
        let digit_after = rest.as_bytes().get(2).is_some_and(u8::is_ascii_digit);
        let len = PUNCTS
            .iter()
            .find(|p| rest.starts_with(**p) && !(**p == "?." && digit_after))
            .map_or(1, |p| p.len());
        let text = rest.get(..len)?;
        self.pos += len;
        self.bracket(text)?;
        Some(Kind::Punct)
    }

    fn bracket(&mut self, text: &str) -> Option<()> {
        let want = match text {
            "(" | "[" | "{" => {
                let open = match text {
                    "(" => Open::Paren,
                    "[" => Open::Bracket,
                    _ => self.brace_kind(),
                };
                self.stack.push(open);
                return Some(());
            }
            ")" => Open::Paren,
            "]" => Open::Bracket,
            "}" => {
                let top = self.stack.pop()?;
                self.closed_block = top == Open::Block;
                return matches!(top, Open::Block | Open::Object).then_some(());
            }
            _ => return Some(()),
        };
        (self.stack.pop()? == want).then_some(())
    }

    /// Whether a `{` here opens a statement block (after which `/` starts a
    /// regex) or an expression such as an object literal or class body.
    fn brace_kind(&self) -> Open {
        let Some(prev) = self.toks.last() else {
            return Open::Block;
        };
        let block = match prev.kind {
            Kind::Punct => matches!(prev.text, ";" | "{" | "}" | ")" | "=>"),
            Kind::Ident => {
                matches!(prev.text, "else" | "do" | "try" | "finally")
                    || (self.nl && ends_expr(*prev))
            }
            Kind::TplHead | Kind::TplMiddle => false,
            _ => self.nl,
        };
        if block { Open::Block } else { Open::Object }
    }

    /// Whether a `/` here starts a regex rather than dividing. After `}` it
    /// does only if the `}` closed a statement block (see `brace_kind`); after
    /// `)` it never does, so `if (a) /re/.test(b)` is misread as division
    /// (usually harmless, at worst `confused`).
    fn regex_allowed(&self) -> bool {
        let Some(prev) = self.toks.last() else {
            return true;
        };
        match prev.kind {
            Kind::Punct => match prev.text {
                ")" | "]" | "++" | "--" => false,
                "}" => self.closed_block,
                _ => true,
            },
            Kind::Ident => EXPECTS_OPERAND.contains(&prev.text),
            Kind::TplHead | Kind::TplMiddle => true,
            _ => false,
        }
    }
}

/// An open bracket in the analyzer's stack; function bodies matter because
/// `var` does not hoist out of them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    Paren { params: bool },
    Bracket,
    Block { func: bool },
    Class,
    Subst,
}

/// Where a declaration list is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Expecting a name or a destructuring pattern.
    Binding,
    /// Inside a destructuring pattern.
    Pattern,
    /// After a binding: `=`, `,` or the end.
    After,
    /// Inside an initializer.
    Init,
}

/// Where an element of a destructuring pattern is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Elem {
    Start,
    /// After an object property key, which is a binding only if no `:`
    /// follows (shorthand).
    Key,
    /// After `key:`, expecting the target.
    Colon,
    Target,
    Default,
    /// Inside `[expr]` used as an object property key.
    Computed,
}

/// One `{...}` or `[...]` level of a destructuring pattern.
struct Pat<'a> {
    /// The analyzer's stack depth of the tokens directly inside.
    depth: usize,
    object: bool,
    elem: Elem,
    key: Option<&'a str>,
}

impl<'a> Pat<'a> {
    fn new(depth: usize, object: bool) -> Self {
        Pat {
            depth,
            object,
            elem: Elem::Start,
            key: None,
        }
    }

    fn commit(&mut self, names: &mut Vec<&'a str>) {
        if self.elem == Elem::Key {
            names.extend(self.key.take());
        }
    }

    /// Feeds a token directly inside this level (not a closer); returns a
    /// nested pattern it opens.
    fn element(&mut self, tok: Tok<'a>, names: &mut Vec<&'a str>) -> Option<Pat<'a>> {
        let nested = tok.opens_pattern() && !(self.object && self.elem == Elem::Start);
        match self.elem {
            Elem::Start | Elem::Colon if nested => {
                self.elem = Elem::Target;
                return Some(Pat::new(self.depth + 1, tok.text == "{"));
            }
            Elem::Start if tok.punct("...") || tok.punct(",") => {}
            Elem::Start if self.object && tok.punct("[") => {
                self.elem = Elem::Computed;
                self.key = None;
            }
            Elem::Start if self.object => {
                self.key = (tok.kind == Kind::Ident).then_some(tok.text);
                self.elem = Elem::Key;
            }
            Elem::Start | Elem::Colon => {
                if tok.kind == Kind::Ident {
                    names.push(tok.text);
                }
                self.elem = Elem::Target;
            }
            Elem::Key if tok.punct(":") => {
                self.key = None;
                self.elem = Elem::Colon;
            }
            Elem::Key | Elem::Target | Elem::Default if tok.punct(",") => {
                self.commit(names);
                self.elem = Elem::Start;
            }
            Elem::Key | Elem::Target if tok.punct("=") => {
                self.commit(names);
                self.elem = Elem::Default;
            }
            _ => {}
        }
        None
    }
}

/// What a token did to a declaration list.
enum Step {
    /// It belongs to the list, which goes on.
    Continue,
    /// It ends the list and belongs to it (`;`).
    Done,
    /// The list ended before it; it starts something else.
    Stop,
}

/// A `var`, `let` or `const` declaration list being followed.
struct Decl<'a> {
    /// The analyzer's stack depth at the keyword.
    depth: usize,
    lexical: bool,
    phase: Phase,
    pats: Vec<Pat<'a>>,
}

impl<'a> Decl<'a> {
    fn new(depth: usize, lexical: bool) -> Self {
        Decl {
            depth,
            lexical,
            phase: Phase::Binding,
            pats: Vec::new(),
        }
    }

    /// Feeds the next token, seen at stack depth `len`; bound names go to
    /// `names`.
    fn feed(
        &mut self,
        tok: Tok<'a>,
        prev: Option<Tok>,
        len: usize,
        names: &mut Vec<&'a str>,
    ) -> Step {
        match self.phase {
            Phase::Binding if tok.kind == Kind::Ident => {
                names.push(tok.text);
                self.phase = Phase::After;
            }
            Phase::Binding if tok.opens_pattern() => {
                self.pats.push(Pat::new(self.depth + 1, tok.text == "{"));
                self.phase = Phase::Pattern;
            }
            Phase::Pattern => self.pattern(tok, len, names),
            Phase::After if tok.punct("=") => self.phase = Phase::Init,
            Phase::After if tok.punct(",") => self.phase = Phase::Binding,
            Phase::Init => return self.init(tok, prev, len),
            Phase::Binding | Phase::After => return Step::Stop,
        }
        Step::Continue
    }

    /// Heuristic end of a list: `;` or a closing bracket at its own depth,
    /// or a line break between a token that can end an expression and one
    /// that cannot continue it.
    fn init(&mut self, tok: Tok, prev: Option<Tok>, len: usize) -> Step {
        if len > self.depth {
            Step::Continue
        } else if len < self.depth || tok.closes() {
            Step::Stop
        } else if tok.punct(",") {
            self.phase = Phase::Binding;
            Step::Continue
        } else if tok.punct(";") {
            Step::Done
        } else if tok.nl && prev.is_some_and(ends_expr) && !continues(tok) {
            Step::Stop
        } else {
            Step::Continue
        }
    }

    fn pattern(&mut self, tok: Tok<'a>, len: usize, names: &mut Vec<&'a str>) {
        let Some(top) = self.pats.last_mut() else {
            self.phase = Phase::After;
            return;
        };
        if len != top.depth {
            if top.elem == Elem::Computed && len == top.depth + 1 && tok.closes() {
                top.elem = Elem::Key;
            }
            return;
        }
        if tok.closes() {
            top.commit(names);
            self.pats.pop();
            if self.pats.is_empty() {
                self.phase = Phase::After;
            }
        } else if let Some(nested) = top.element(tok, names) {
            self.pats.push(nested);
        }
    }
}

/// Walks the tokens with a bracket stack, following declarations.
struct Analyzer<'a, 't> {
    toks: &'t [Tok<'a>],
    shadowed: &'t [&'t str],
    stack: Vec<Frame>,
    /// How many function bodies are open.
    fn_depth: usize,
    /// After `function`, `*` or the function's name: a `(` opens parameters.
    after_function: bool,
    /// The depth of a `class` keyword whose body has not opened yet.
    class_at: Option<usize>,
    /// The previous token closed a parameter list.
    closed_params: bool,
    decl: Option<Decl<'a>>,
    names: Vec<&'a str>,
    seen: HashSet<&'a str>,
    /// Names declared by `var` outside functions, and by top-level `function`s: in a block,
    /// one name in both is an early error.
    vars: HashSet<&'a str>,
    functions: HashSet<&'a str>,
    /// Of those functions, the async and generator ones.
    special: HashSet<&'a str>,
    out: ScriptScan,
}

impl<'a, 't> Analyzer<'a, 't> {
    fn new(toks: &'t [Tok<'a>], shadowed: &'t [&'t str]) -> Self {
        Analyzer {
            toks,
            shadowed,
            stack: Vec::new(),
            fn_depth: 0,
            after_function: false,
            class_at: None,
            closed_params: false,
            decl: None,
            names: Vec::new(),
            seen: HashSet::new(),
            vars: HashSet::new(),
            functions: HashSet::new(),
            special: HashSet::new(),
            out: ScriptScan::default(),
        }
    }

    fn prev(&self, i: usize) -> Option<Tok<'a>> {
        i.checked_sub(1).and_then(|j| self.toks.get(j)).copied()
    }

    fn next(&self, i: usize) -> Option<Tok<'a>> {
        self.toks.get(i + 1).copied()
    }

    fn run(mut self) -> ScriptScan {
        for (i, tok) in self.toks.iter().enumerate() {
            let len = self.stack.len();
            if tok.ident("location") && !after_dot(self.prev(i)) {
                self.out.uses_location = true;
                // `location = url` navigates; in the block it would only rebind.
                self.out.assigns_location |= self.next(i).is_some_and(|t| t.punct("="));
            }
            if !self.feed_decl(i, len) {
                self.statement(i, len);
            }
            self.track(i);
        }
        self.out
    }

    /// Feeds the open declaration list, if any; true if it took the token.
    fn feed_decl(&mut self, i: usize, len: usize) -> bool {
        let prev = self.prev(i);
        let Some(decl) = self.decl.as_mut() else {
            return false;
        };
        let step = decl.feed(self.toks[i], prev, len, &mut self.names);
        let lexical = decl.lexical;
        for name in std::mem::take(&mut self.names) {
            self.record(name, lexical);
        }
        match step {
            Step::Continue => true,
            Step::Done => {
                self.decl = None;
                true
            }
            Step::Stop => {
                self.decl = None;
                false
            }
        }
    }

    fn record(&mut self, name: &'a str, lexical: bool) {
        if self.shadowed.contains(&name) {
            self.out.conflicts = true;
        }
        if !lexical {
            self.vars.insert(name);
            self.out.conflicts |= self.functions.contains(name);
        }
        if lexical && self.seen.insert(name) {
            self.out.lexical.push(name.to_owned());
        }
    }

    /// Whether token `i` can start a statement: first, after `;` or `}`, or
    /// on a new line after a token that can end an expression.
    fn stmt_start(&self, i: usize) -> bool {
        let Some(prev) = self.prev(i) else {
            return true;
        };
        prev.punct(";") || prev.punct("}") || (self.toks[i].nl && ends_expr(prev))
    }

    /// Starts following declarations and notes module syntax at token `i`,
    /// seen at stack depth `len`.
    fn statement(&mut self, i: usize, len: usize) {
        let tok = self.toks[i];
        if tok.kind != Kind::Ident || after_dot(self.prev(i)) {
            return;
        }
        match tok.text {
            "var" if self.fn_depth == 0 => self.decl = Some(Decl::new(len, false)),
            _ if len > 0 => {}
            "let" if self.stmt_start(i) && self.let_declares(i) => {
                self.decl = Some(Decl::new(0, true));
            }
            "const" => self.decl = Some(Decl::new(0, true)),
            "class" if self.stmt_start(i) => {
                let name = self
                    .next(i)
                    .filter(|t| t.kind == Kind::Ident && t.text != "extends");
                if let Some(name) = name {
                    self.record(name.text, true);
                }
            }
            "function" if self.function_statement(i) => self.function_decl(i),
            "import" => {
                let call_or_meta = self.next(i).is_some_and(|t| t.punct("(") || t.punct("."));
                self.out.module_syntax |= !call_or_meta;
            }
            "export" => self.out.module_syntax = true,
            _ => {}
        }
    }

    /// `let` is an identifier in scripts unless a binding follows it.
    fn let_declares(&self, i: usize) -> bool {
        self.next(i).is_some_and(|t| {
            t.opens_pattern() || (t.kind == Kind::Ident && !matches!(t.text, "in" | "instanceof"))
        })
    }

    fn function_statement(&self, i: usize) -> bool {
        let after_async = self.prev(i).is_some_and(|p| p.ident("async")) && !self.toks[i].nl;
        self.stmt_start(i) || (after_async && self.stmt_start(i - 1))
    }

    /// A top-level function declaration. In the block, an async or generator function is
    /// the block's alone (only plain ones are also global in a sloppy script): it is given
    /// back as a lexical name is.
    fn function_decl(&mut self, i: usize) {
        let mut j = i + 1;
        let generator = self.toks.get(j).is_some_and(|t| t.punct("*"));
        if generator {
            j += 1;
        }
        let Some(name) = self.toks.get(j).filter(|t| t.kind == Kind::Ident) else {
            return;
        };
        let name = name.text;
        let special = generator || self.prev(i).is_some_and(|p| p.ident("async"));
        // In a block, two functions of one name are an early error once either is async or a
        // generator.
        let clash = self.functions.contains(name) && (special || self.special.contains(name));
        if self.shadowed.contains(&name) || self.vars.contains(name) || clash {
            self.out.conflicts = true;
        }
        self.functions.insert(name);
        if special {
            self.special.insert(name);
            if self.seen.insert(name) {
                self.out.lexical.push(name.to_owned());
            }
        }
    }

    /// Maintains the bracket stack and what decides function bodies.
    fn track(&mut self, i: usize) {
        let tok = self.toks[i];
        let prev = self.prev(i);
        let closed_params = std::mem::take(&mut self.closed_params);
        let after_function = std::mem::take(&mut self.after_function);
        match tok.kind {
            Kind::TplHead => self.stack.push(Frame::Subst),
            Kind::TplTail => {
                self.close();
            }
            Kind::Punct => match tok.text {
                "(" => {
                    let params = after_function || self.method_name(prev);
                    self.stack.push(Frame::Paren { params });
                }
                "[" => self.stack.push(Frame::Bracket),
                "{" => self.open_brace(prev, closed_params),
                ")" => self.closed_params = self.close() == Some(Frame::Paren { params: true }),
                "]" | "}" => {
                    self.close();
                }
                "*" => self.after_function = after_function,
                _ => {}
            },
            Kind::Ident if after_dot(prev) => {}
            Kind::Ident => match tok.text {
                "function" => self.after_function = true,
                "class"
                    if self
                        .next(i)
                        .is_some_and(|t| t.kind == Kind::Ident || t.punct("{")) =>
                {
                    self.class_at = Some(self.stack.len());
                }
                _ => self.after_function = after_function,
            },
            _ => {}
        }
    }

    fn close(&mut self) -> Option<Frame> {
        let frame = self.stack.pop();
        if frame == Some(Frame::Block { func: true }) {
            self.fn_depth = self.fn_depth.saturating_sub(1);
        }
        frame
    }

    /// Whether a `(` after `prev` opens a method's parameters: in a class
    /// body always; in a block or object literal (indistinguishable here)
    /// unless `prev` is a statement keyword such as `if`.
    fn method_name(&self, prev: Option<Tok>) -> bool {
        let Some(prev) = prev else {
            return false;
        };
        let named = match prev.kind {
            Kind::Ident | Kind::Str | Kind::Num => true,
            Kind::Punct => prev.text == "]",
            _ => false,
        };
        match self.stack.last() {
            Some(Frame::Class) => named,
            Some(Frame::Block { .. }) => named && !BLOCK_HEADS.contains(&prev.text),
            _ => false,
        }
    }

    /// A `{` opens a function body after `=>`, after a parameter list, or as
    /// a class static block; a class body right after `class ...`.
    fn open_brace(&mut self, prev: Option<Tok>, closed_params: bool) {
        let len = self.stack.len();
        if self.class_at == Some(len) {
            self.class_at = None;
            self.stack.push(Frame::Class);
            return;
        }
        let in_class = self.stack.last() == Some(&Frame::Class);
        let func =
            closed_params || prev.is_some_and(|p| p.punct("=>") || (in_class && p.ident("static")));
        if func {
            self.fn_depth += 1;
        }
        self.stack.push(Frame::Block { func });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_reading_location_are_scoped_and_give_back_their_declarations() {
        let text =
            "const config = {page: location.href};\nlet n = 1, m = [n, 2];\n// a last comment";
        let out = scoped(text).unwrap();
        assert_eq!(
            out,
            format!(
                "{PROLOGUE}try{{__cairn.bind(\"config\",function(){{return config}},function(v){{config=v}})}}catch(e){{}}\
                 try{{__cairn.bind(\"n\",function(){{return n}},function(v){{n=v}})}}catch(e){{}}\
                 try{{__cairn.bind(\"m\",function(){{return m}},function(v){{m=v}})}}catch(e){{}}\n{text}\n}}\n"
            )
        );
        // A window stands in only where `location` is read off one.
        assert!(
            scoped("var h = window.location.href").is_some_and(|s| s.starts_with(WINDOW_PROLOGUE))
        );
        assert!(scoped("self.location.href").is_some_and(|s| s.starts_with(WINDOW_PROLOGUE)));
        // Async and generator functions are the block's alone: given back too.
        let out = scoped("async function loadMore() {} function* ids() {} location.href").unwrap();
        assert!(
            out.contains("__cairn.bind(\"loadMore\",") && out.contains("__cairn.bind(\"ids\",")
        );
        for left in [
            // Early errors once in a block: a `var` and a function of one name.
            "var u = location.href; var trackClick; function trackClick() {}",
            "async function f() {} function f() {} location.href",
            "function share() {} if (location.hash) { var share = 1 }",
            // `location = url` navigates; in the block it would rebind.
            "function go(q) { location = '/search?q=' + q }",
            // A regex taken for a division hides nothing: the scan gives up.
            "if (a) /\\/*/.test(p); var self = this; location.href",
            "#!/usr/bin/env node\nlocation.href",
            "var p = item.location;",
            "import x from 'y'; location.href",
            "var self = location;",
            "'unterminated location",
        ] {
            assert!(scoped(left).is_none(), "{left}");
        }
    }

    #[test]
    fn script_files_keep_their_bytes_in_their_own_encoding() {
        let file = "\u{feff}location.href = '中';".as_bytes();
        let out = scoped_file(file, Some("application/javascript")).unwrap();
        assert!(out.starts_with(b"\xEF\xBB\xBFvar __cairn_scope__"));
        assert!(out.windows(file.len() - 3).any(|w| w == &file[3..]));
        // In Shift_JIS the second byte of 表 is a backslash: read as declared, the string
        // still ends where it does.
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("location.href = \"表\";");
        let out = scoped_file(&sjis, Some("text/javascript; charset=shift_jis")).unwrap();
        assert!(out.windows(sjis.len()).any(|w| w == &sjis[..]));
        assert!(
            scoped_file(&sjis, Some("text/javascript")).is_none(),
            "not UTF-8"
        );
        let (utf16, _, _) = encoding_rs::UTF_16LE.encode("location");
        assert!(scoped_file(&[&[0xFF, 0xFE][..], &utf16].concat(), None).is_none());
    }

    const SHADOWED: [&str; 7] = [
        "location",
        "window",
        "self",
        "top",
        "parent",
        "frames",
        "globalThis",
    ];

    fn s(text: &str) -> ScriptScan {
        scan(text, &SHADOWED)
    }

    fn lexical(text: &str) -> Vec<String> {
        let scanned = s(text);
        assert!(!scanned.confused, "confused by {text:?}");
        scanned.lexical
    }

    fn conflicts(text: &str) -> bool {
        let scanned = s(text);
        assert!(!scanned.confused, "confused by {text:?}");
        scanned.conflicts
    }

    fn uses(text: &str) -> bool {
        let scanned = s(text);
        assert!(!scanned.confused, "confused by {text:?}");
        scanned.uses_location
    }

    fn module(text: &str) -> bool {
        let scanned = s(text);
        assert!(!scanned.confused, "confused by {text:?}");
        scanned.module_syntax
    }

    #[test]
    fn declarator_lists() {
        assert_eq!(lexical("let a = f(1, 2), b, c = [1, 2];"), ["a", "b", "c"]);
        assert_eq!(
            lexical("let a = 1\nlet b = {x: 1}\nconst c = () => {\n}\nclass D {}"),
            ["a", "b", "c", "D"]
        );
        assert_eq!(lexical("let a = b\n, c = 1"), ["a", "c"]);
        assert_eq!(lexical("let a = b\n(c)\nfoo(x)"), ["a"]);
        assert_eq!(lexical("let\nx = 1; let y; let x = 2"), ["x", "y"]);
        assert_eq!(
            lexical("const f = function (a) { let inner = 1; }, g = 2;"),
            ["f", "g"]
        );
    }

    #[test]
    fn destructuring() {
        assert_eq!(
            lexical("const {a, b: c, ...d} = x, [e, , f = 1] = y;"),
            ["a", "c", "d", "e", "f"]
        );
        assert_eq!(
            lexical("let {a: {b, c: [d = {e: 1}]}, [k]: g, 'h': i, j = [1, 2]} = x;"),
            ["b", "d", "g", "i", "j"]
        );
        assert_eq!(lexical("let [a, [b, ...c], {d}] = x"), ["a", "b", "c", "d"]);
    }

    #[test]
    fn not_lexical() {
        assert_eq!(s("let = 5; let.x = 1; x = let"), ScriptScan::default());
        assert!(lexical("for (let i = 0; i < 3; i++) {}").is_empty());
        assert!(lexical("if (x) { let a = 1; const b = 2; class C {} }").is_empty());
        assert!(lexical("x = class Foo {}; a.let = 1; a.const = 2").is_empty());
        assert_eq!(lexical("class Foo extends Bar {}"), ["Foo"]);
        assert_eq!(
            lexical("class Foo extends mix(Bar, {a: 1}) { m() { let x } }"),
            ["Foo"]
        );
    }

    #[test]
    fn var_hoisting() {
        assert!(!conflicts("function f() { var self = this; }"));
        assert!(!conflicts(
            "var f = function () { if (a) { var self = this } }"
        ));
        assert!(!conflicts(
            "x.forEach(a => { var top = a; }); y(async (b) => { var parent })"
        ));
        assert!(conflicts("if (x) { var self = 1 }"));
        assert!(conflicts("var window;"));
        assert!(conflicts("for (var self in o) {}"));
        assert!(conflicts("for (var i = 0, frames = 1; i < 2; i++) {}"));
        assert!(conflicts("var a = 1, top = 2;"));
        assert!(conflicts("var a = {b: 1}\nvar parent = 2"));
        assert!(conflicts("var {a, b: globalThis} = x"));
        assert!(!conflicts(
            "var a = {self: 1, window: 2}; window.self = 1; x = {var: self}"
        ));
    }

    #[test]
    fn lexical_and_function_conflicts() {
        assert!(conflicts("let location = 1"));
        assert_eq!(s("let location = 1").lexical, ["location"]);
        assert!(conflicts("const [a, top] = x"));
        assert!(conflicts("class frames {}"));
        assert!(conflicts("function top() {}"));
        assert!(conflicts("x = 1\nasync function parent() {}"));
        assert!(conflicts("function* self() {}"));
        assert!(!conflicts("x = function top() {}; !function self() {}()"));
        assert!(!conflicts("if (a) { function top() {} }"));
    }

    #[test]
    fn methods_are_functions() {
        assert!(!conflicts("class A { top() {} }"));
        assert!(!conflicts(
            "class A extends B { m(a) { var self = this } static s() { var top } }"
        ));
        assert!(!conflicts(
            "class A { get x() { var self = 1 } static { var window } }"
        ));
        assert!(!conflicts(
            "class A { delete(k) { var self } catch(e) { var top } [k]() { var parent } }"
        ));
        assert!(!conflicts(
            "o = { m(a) { var self = this }, get x() { var top }, 'q'(b) { var frames } }"
        ));
        assert!(!conflicts("o = { *gen() { var self } }"));
        assert!(conflicts("if (a) { var x } else if (b) { var self }"));
        assert!(conflicts(
            "while (a) { var self } switch (a) { case 1: var top }"
        ));
        assert!(conflicts("try { } catch (e) { var self }"));
    }

    #[test]
    fn umd_and_minified() {
        let umd = "(function (window, document) { var self = this; window.location.href = 'x'; })(window, document);";
        let scanned = s(umd);
        assert!(
            !scanned.uses_location
                && !scanned.conflicts
                && !scanned.confused
                && scanned.lexical.is_empty()
        );
        let min = "!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={i:r};return e[r].call(o.exports,o,o.exports,n),location.href}n.m=e}([]);";
        let scanned = s(min);
        assert_eq!(
            scanned,
            ScriptScan {
                uses_location: true,
                ..ScriptScan::default()
            }
        );
    }

    #[test]
    fn regex_and_division() {
        assert!(uses(r#"var r = /["'\/]/g; location.x"#));
        assert!(!uses("var r = /[/]location/g;"));
        assert!(!uses(r"x = a.replace(/\/location'/g, '')"));
        assert!(uses("x = a / location / c"));
        assert!(uses("x = (a) / location / c; y = a[0] / location / 2"));
        assert!(!uses("if (a) {}\n/location/.test(x)"));
        assert!(uses("x = {} / location / 1"));
        assert!(!uses("x = typeof /location/; return /location/"));
        assert!(uses("x = a++ / location / 2"));
    }

    #[test]
    fn templates() {
        assert!(!uses(
            "x = `location ${ {a:1}.a } ${`nested ${1} location`}`"
        ));
        assert!(uses("x = `a ${location.href} b`"));
        assert!(uses("x = `a ${ `b ${ {c: location}.c }` } d`"));
        assert!(!uses("x = `\\${location}`"));
        assert!(!s("x = `a ${ {b: [1, 2]} } c` / 2").confused);
    }

    #[test]
    fn strings_comments_properties() {
        assert!(!uses(r#"x = "location"; y = 'loc\'location'; // location"#));
        assert!(!uses(
            "/* location */ x = 1 <!-- location\n--> location\n /* a */ --> location"
        ));
        assert!(uses("x = a --> location"));
        // A property of that name is not the global (`window.location` is found apart).
        assert!(!uses("obj.location"));
        assert!(!uses("obj?.location"));
        assert!(uses("a = location.href"));
        assert!(!uses("x = \"a\\\nlocation\""));
        assert!(uses("x = 0x1e+location"));
    }

    #[test]
    fn module_syntax() {
        assert!(!module(
            "import(\"x\").then(f); x = import.meta.url; a.import = 1"
        ));
        assert!(module("import x from \"y\""));
        assert!(module("import {a} from 'y'"));
        assert!(module("import 'y'"));
        assert!(module("import * as m from 'y'"));
        assert!(module("export default 1"));
        assert!(module("var a = 1;\nexport { a }"));
        assert!(!module("o = { export: 1, import: 2 }; o.export()"));
    }

    #[test]
    fn confusion() {
        for text in [
            "x = 'abc",
            "x = \"a\nb\"",
            "/* open",
            "x = `abc",
            "x = `${a",
            "x = /abc",
            "}",
            "(]",
            "a[",
            "x = ${",
        ] {
            assert!(s(text).confused, "{text:?}");
        }
        let deep = "[".repeat(200_000);
        assert!(s(&deep).confused);
        let balanced = format!("x = {}{}", "[".repeat(200_000), "]".repeat(200_000));
        assert!(!s(&balanced).confused);
        let pattern = format!("let {}a{} = x", "[".repeat(200_000), "]".repeat(200_000));
        assert_eq!(s(&pattern).lexical, ["a"]);
        let templates = format!("x = {}{}", "`${".repeat(50_000), "}`".repeat(50_000));
        assert!(!s(&templates).confused);
    }

    #[test]
    fn unicode_and_odd_input() {
        assert!(uses("var café = 1;\u{2028}location"));
        assert!(!uses("x = 1 // location\u{2028}y"));
        assert_eq!(lexical("let ünï = 1,\u{a0}b = 2"), ["ünï", "b"]);
        assert!(!uses("#!/usr/bin/env node location\nx"));
        assert!(uses("class A { #location = 1; m() { return location } }"));
    }

    /// Truncations of every test script and random inputs must not panic.
    #[test]
    fn fuzz_never_panics() {
        let pieces = [
            "{", "}", "(", ")", "[", "]", "`", "${", "'", "\"", "/", "*", "\\", "\n", "\r", " ",
            "a", "let", "var", "const", "class", "function", "=>", "=", ",", ";", ":", "...",
            "<!--", "-->", "location", "self", ".", "é", "\u{2028}", "0", "import", "export",
            "static", "?.", "#", "//", "/*", "*/",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let len = usize::try_from(next() % 60).unwrap_or(0);
            let text: String = (0..len)
                .map(|_| pieces[usize::try_from(next() % pieces.len() as u64).unwrap_or(0)])
                .collect();
            let _ = s(&text);
            let bytes: Vec<u8> = (0..len).map(|_| next().to_le_bytes()[0]).collect();
            let _ = s(&String::from_utf8_lossy(&bytes));
        }
        let source = include_str!("script.rs");
        let tests = source
            .get(source.find("mod tests").unwrap_or(0)..)
            .unwrap_or("");
        for line in tests.lines() {
            for (cut, _) in line.char_indices() {
                let _ = s(&line[..cut]);
                let _ = s(&line[cut..]);
            }
        }
        for (cut, _) in source.char_indices().step_by(97) {
            let _ = s(&source[..cut]);
        }
    }
}
