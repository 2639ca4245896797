#!/usr/bin/env python3
"""Writes tests/fixtures/surt/table.tsv: URLs and the SURT keys Python's `surt` gives them.

cairn's `index::surt::surt` must give byte for byte the keys of `surt.surt(url)` with its default
arguments (what pywb and cdxj-indexer use), so that cairn's CDXJ sorts and matches theirs. The
unit test in src/index/surt.rs reads this table and compares every line.

Run by hand from the repository root when the rules or the URL lists change:

    pip install surt==0.3.1
    python3 scripts/surt-table.py

The table is `url<TAB>key` per line, in a fixed order (the generated part uses a fixed seed), so
the same `surt` writes the same file. URLs for which `surt` raises (an invalid port, a URL that
is only whitespace) are left out, as are URLs holding a tab, CR or LF (which `surt` deletes but
a TSV line cannot hold).

The URLs are of three kinds:

* generated: every rule of the canonicalization (scheme and host case, default and odd ports,
  www/www2/wwwX, stray dots, IPv4 in decimal/octal/hex/short forms, IPv6, userinfo, IDN hosts in
  Unicode and punycode, percent-escapes upper/lower/double/invalid, spaces, non-ASCII paths and
  queries, `//`, `/./`, `/../`, trailing slashes, empty queries, query sorting with duplicate
  keys, session ids in path and query, fragments, schemes without authority, very long URLs),
  listed one by one and then combined at random;
* found in the repository: URLs in the fixture WARCs, the seeds and the sources;
* news-site URL shapes from many countries and languages, written out below.
"""

import gzip
import os
import random
import re
import subprocess
import sys

import surt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "surt", "table.tsv")
SEED = 12
RANDOM_COMBINATIONS = 1800

SID32 = "0123456789ABCDEFabcdef0123456789"  # 32 characters, as the session-id rules want
SID24 = "abcdefghijklmnopqrstuvwx"  # 24 characters

# --- parts that the generated URLs combine -----------------------------------------------------

SCHEMES = ["http", "https", "HTTP", "Https", "ftp", "ws", "wss", "httpx"]

USERINFO = ["", "user@", "user:pw@", "User:P%40ss@", "a@b@", ":@", "us%20er@"]

HOSTS = [
    "example.com",
    "Example.COM",
    "www.example.com",
    "WWW.Example.com",
    "www2.example.com",
    "www10.example.co.uk",
    "wwwx.example.com",
    "www-1.example.com",
    "www.com",
    "www",
    "www.",
    "www1.",
    "wwww.example.org",
    "w3.example.org",
    "news.bbc.co.uk",
    "example.com.",
    ".example.com",
    "..example.com",
    "example..com",
    "example...com",
    "example....com",
    "a.b.c.d.e.f.example.com",
    "localhost",
    "intranet",
    "ex_ample.com",
    "ex-ample.com",
    "xn--bcher-kva.de",
    "XN--BCHER-KVA.DE",
    "bücher.de",
    "BÜCHER.de",
    "münchen.de",
    "straße.de",
    "faß.de",
    "café.fr",
    "例え.jp",
    "例え。jp",
    "日本語.jp",
    "中国.cn",
    "中文.香港",
    "пример.рф",
    "президент.рф",
    "ελληνικά.gr",
    "ΕΛΛΗΝΙΚΆ.GR",
    "ελληνικός.gr",
    "עברית.co.il",
    "مثال.eg",
    "مثال123.com",
    "موقع.وزارة-الاتصالات.مصر",
    "한국.kr",
    "ไทย.th",
    "हिन्दी.भारत",
    "🙂.ws",
    "i❤.ws",
    "ＥＸＡＭＰＬＥ.com",
    "ex\u00adample.com",
    "ex\u200dample.com",
    "ü..com",
    ".ü.com",
    "ü.com.",
    "%C3%BC.com",
    "%c3%bc.com",
    "%25C3%25BC.com",
    "ex%41mple.com",
    "ex%2Eample.com",
    "ex%ffample.com",
    "%ff%fe.com",
    "exa mple.com",
    "xn--ü.com",
    "a" * 63 + ".com",
    "ü" * 40 + ".com",
    "1.2.3.4",
    "127.0.0.1",
    "010.0.0.1",
    "0177.0.0.1",
    "0.0.0.0",
    "00.00.00.00",
    "1.2",
    "1.2.3",
    "10.1",
    "127.1",
    "192.168.257",
    "1.08.0.1",
    "1.2.3.256",
    "1.2.3.4.5",
    "2130706433",
    "4294967297",
    "0123",
    "017700000001",
    "0x7f.0.0.1",
    "0x7f000001",
    "1.2.3.4.",
    "[::1]",
    "[2001:DB8::1]",
    "[::ffff:1.2.3.4]",
    "[fe80::1%25eth0]",
    "x[::1]",
]

PORTS = ["", ":80", ":443", ":8080", ":0", ":", "::", ":080", ":0443", ":65535", ":21"]

PATHS = [
    "",
    "/",
    "/index.html",
    "/Path/To/Page.HTML",
    "/a/",
    "/a//",
    "//a//b",
    "/a//b/",
    "/./a",
    "/a/./b",
    "/a/.",
    "/a/..",
    "/a/../b",
    "/../a",
    "/../../a",
    "/a/b/../../../c/",
    "/a/.../b",
    "/a/%2e%2e/b",
    "/a/%2E/b",
    "/a%2Fb",
    "/a%2fb/",
    "/a%252Fb",
    "/%41%42c",
    "/%7Euser/",
    "/~user/",
    "/a%20b",
    "/a b",
    "/a+b",
    "/a%2Bb",
    "/%zz",
    "/%",
    "/100%",
    "/%%41",
    "/%2",
    "/a%00b",
    "/a%7fb",
    "/a%23b",
    "/a%3Fb",
    "/a%25b",
    "/a%2525b",
    "/café",
    "/caf%C3%A9",
    "/caf%c3%a9",
    "/新聞/今日",
    "/%E6%96%B0%E8%81%9E",
    "/новости/",
    "/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
    "/%ff%fe",
    "/a;jsessionid=0123456789ABCDEF0123456789ABCDEF",
    "/(S(" + SID24 + "))/default.aspx",
    "/app/(S(" + SID24 + "))/page.aspx",
    "/app/(A(" + SID24 + ")S(" + SID24 + "))/page.aspx",
    "/(" + SID24 + ")/default.aspx",
    "/(" + SID24.upper() + ")/Default.ASPX",
    "/(" + SID24 + ")/(" + SID24 + ")/x.aspx",
    "/(" + SID24 + ")/noaspx.html",
    "/(" + SID24 + ")/.aspx",
    "/" + "x" * 2000,
    "/" + "/".join("seg%d" % i for i in range(300)),
    "/!$&'()*+,;=:@",
    "/\"<>\\^`{|}",
    "/[a]",
]

QUERIES = [
    "",
    "?",
    "??",
    "?&",
    "?&&",
    "?a=1",
    "?b=2&a=1",
    "?B=2&a=1",
    "?a=2&a=1&a",
    "?a=&a&a=0",
    "?a-b&a=1&a&a=",
    "?a=1&&b=2",
    "?&a=1",
    "?a=1&",
    "?=x&=",
    "?a==b",
    "?q=a+b",
    "?q=a%20b",
    "?q=a b",
    "?q=%26&r=%3D",
    "?q=%2526",
    "?q=%zz",
    "?q=%",
    "?q=caf%C3%A9",
    "?q=café",
    "?q=新聞",
    "?q=%E7%83%8F%E5%85%8B",
    "?q=%e7%83%8f",
    "?q=a%23b",
    "?q=?",
    "?x=1?y=2",
    "?jsessionid=" + SID32,
    "?a=1&jsessionid=" + SID32,
    "?jsessionid=" + SID32 + "&a=1",
    "?a=1&JSESSIONID=" + SID32 + "&b=2",
    "?jsessionid=" + SID32 + "&jsessionid=" + SID32,
    "?jsessionid=" + SID32 + "x",
    "?jsessionid=short",
    "?PHPSESSID=" + SID32,
    "?a=1&phpsessid=" + SID32 + "&z=9",
    "?sid=" + SID32,
    "?x=1&sid=" + SID32,
    "?xsid=" + SID32,
    "?phpsessid=" + SID32 + "&sid=" + SID32,
    "?ASPSESSIONIDQQGGQGPG=" + SID24.upper(),
    "?a=1&aspsessionidabcdefgh=" + SID24 + "&b=2",
    "?ASPSESSIONIDQQGGQGPG=" + SID24 + "1",
    "?CFID=123&CFTOKEN=456",
    "?a=1&cfid=123&cftoken=456&b=2",
    "?cfid=1&cftoken=2&cfid=3",
    "?cfid=&cftoken=2",
    "?cfid=cfid=1&cftoken=2",
    "?utm_source=rss&utm_medium=feed&id=7",
    "?" + "&".join("k%d=v%d" % (i, i) for i in range(200)),
]

FRAGMENTS = ["", "#", "#top", "#a?b=1", "#/route/x", "#%20"]

# URLs written whole: no authority, odd shapes, what handyurl parses specially.
SPECIAL = [
    "dns:example.com",
    "dns:Example.COM",
    "DNS:www.Example.com",
    "dns://www.example.com/",
    "urn:X:y",
    "urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6",
    "urn:isbn:0451450523",
    "mailto:Someone@Example.COM",
    "mailto:a@b.com?subject=Hello%20World&body=x",
    "mailto:?subject=x",
    "MAILTO:A@B.C",
    "file:///_posts/A.md",
    "file:///C:/Windows/A%20B.txt",
    "file://host/share/x",
    "file:///",
    "file:",
    "ftp://ftp.Example.com/pub/",
    "ftp://user:pw@ftp.example.com:21/a.txt",
    "ftp://www.example.com:2121/x",
    "data:text/plain,Hello%20World",
    "data:text/html;base64,PGgxPg==",
    "javascript:void(0)",
    "about:blank",
    "tel:+1-555-0100",
    "news:comp.lang.python",
    "example.com",
    "example.com/a/b",
    "Example.com/",
    "www.example.com/?b=1&a=2",
    "example.com:8080/x",
    "localhost:80/x",
    "1.2.3.4/",
    "/relative/path",
    "relative/path",
    "?q=1",
    "#frag",
    "//example.com/x",
    "///example.com/x",
    "http:example.com",
    "http:/example.com/a",
    "http:///example.com/a",
    "http:////////////////www.vikings.com",
    "http://",
    "http:///",
    "http://./a",
    "http://../a",
    "http://:80/x",
    "http://@example.com/",
    "http://:@/x",
    "http://http://example.com/",
    "http://https://example.com/",
    "https://http://example.com/x",
    "http://http://http://www.example.com",
    "https://http://",
    "HTTP://HTTP://example.com/",
    "httpfoo:bar/x",
    "https:",
    "http:?a=1",
    "http://example.com?",
    "http://example.com?#",
    "http://example.com#",
    "http://example.com/#?",
    "http://example.com#frag?x",
    "http://example.com?a=1#frag?b=2",
    "http://a#b@c.com/",
    "  http://example.com/  ",
    "\x0bhttp://example.com/\x0c",
    " http://example.com/a b ",
    "http://example.com/a%09b",
    "http://example.com:80",
    "https://example.com:443",
    "https://example.com:80/",
    "http://example.com:443/",
    "HTTPS://EXAMPLE.COM:443/",
    "ftp://example.com:80/",
    "filedesc://IA-001102.arc",
    "filedesc:x",
    "http://[::1",
    "http://[::1]x:81/",
    "http://[::1]:/",
    "http://user@[::1]:8080/a",
    "http://a:b:c@example.com/",
    "http://example.com:80:/",
    "http://exa%mple.com/",
    "http://%/",
    "http://%2e/",
    "http://%2e%2e/x",
    "http://example.com%2F@evil.com/",
    "http://example.com\\@evil.com/",
    "http://example.com\\a\\b",
    "http://example.com;x/",
    "http://ex ample.com/",
    "http://example.com./a/",
    "http://WWW.EXAMPLE.COM./",
    "http://www.example.com:8080./",
    # Found by comparing with Python on mutated URLs.
    "wss://a@b@www-1.example.com:443()*+,;=:@?CFID=123&CFTOKEN=456",
    "https://xn--bcheßr-kva.de:443/a/b/?b=2&a=1",
    "http://user:pw@xn--\u200dbcher-kv",
    "HTTP://:@[\u200dfe80::1%25eth0]:80/./a?B=2&a=1",
    "http://127.0.0.\xad1:8765/s.css",
    "1.2１.3.4/",
    "http://1.2.3１.4:65535/",
    "httpx:１//www./a",
    "ftp://президент.рф%00b#top",
    "http://:@example..com:0/%zz?jsessionid=0123456789ABCDEFab%25cdef0123456789x",
    "ws://:@www-1.example.com/a%252Fb?jsessionid=ü0123456789www3.ABCDEFabcde&f0123456789x",
    "\x01ExamüplCOM/\x7fx",
    "президен]т.рф/X",
]

# --- URLs found in the repository ---------------------------------------------------------------

URL_IN_TEXT = re.compile(rb"https?://[^\s\"'<>()\\`{}|^]+")


def repository_text():
    """Bytes of the fixture WARCs (decompressed), the seeds and the sources."""
    fixtures = os.path.join(ROOT, "tests", "fixtures")
    for dirpath, _, names in sorted(os.walk(fixtures)):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if name.endswith(".gz"):
                with gzip.open(path, "rb") as f:
                    yield f.read()
            elif name.endswith(".zst"):
                yield subprocess.run(["zstd", "-dc", path], capture_output=True).stdout
            elif not name.endswith(".tsv"):
                with open(path, "rb") as f:
                    yield f.read()
    seeds = "/work/shared/seeds"
    if os.path.isdir(seeds):
        for name in sorted(os.listdir(seeds)):
            with open(os.path.join(seeds, name), "rb") as f:
                yield f.read()
    for top in ("src", "tests", "docs"):
        for dirpath, _, names in sorted(os.walk(os.path.join(ROOT, top))):
            for name in sorted(names):
                if name.endswith((".rs", ".md", ".html", ".css")):
                    with open(os.path.join(dirpath, name), "rb") as f:
                        yield f.read()


def repository_urls():
    found = set()
    for text in repository_text():
        for m in URL_IN_TEXT.finditer(text):
            url = m.group(0).rstrip(b".,;:]")
            try:
                found.add(url.decode("utf-8"))
            except UnicodeDecodeError:
                pass
    return sorted(found)


# --- news-site URL shapes, many countries and languages -----------------------------------------

NEWS_SITES = [
    "https://www.bbc.co.uk", "https://www.theguardian.com", "https://www.nytimes.com",
    "https://edition.cnn.com", "https://www.washingtonpost.com", "https://apnews.com",
    "https://www.reuters.com", "https://www.aljazeera.net", "https://www.aljazeera.com",
    "https://www.lemonde.fr", "https://www.lefigaro.fr", "https://www.liberation.fr",
    "https://www.spiegel.de", "https://www.faz.net", "https://www.sueddeutsche.de",
    "https://www.zeit.de", "https://www.tagesschau.de", "https://www.nzz.ch",
    "https://www.derstandard.at", "https://elpais.com", "https://www.elmundo.es",
    "https://www.clarin.com", "https://www.lanacion.com.ar", "https://www1.folha.uol.com.br",
    "https://g1.globo.com", "https://www.eltiempo.com", "https://www.jornada.com.mx",
    "https://www.corriere.it", "https://www.repubblica.it", "https://www.publico.pt",
    "https://www.nrc.nl", "https://www.volkskrant.nl", "https://www.lesoir.be",
    "https://www.dn.se", "https://www.aftenposten.no", "https://politiken.dk",
    "https://yle.fi", "https://www.hs.fi", "https://wyborcza.pl", "https://www.idnes.cz",
    "https://index.hu", "https://www.digi24.ro", "https://www.kathimerini.gr",
    "https://www.hurriyet.com.tr", "https://www.haaretz.co.il", "https://www.ynet.co.il",
    "https://www.ahram.org.eg", "https://www.alarabiya.net", "https://www.irna.ir",
    "https://ria.ru", "https://www.kommersant.ru", "https://www.pravda.com.ua",
    "https://www.asahi.com", "https://www3.nhk.or.jp", "https://mainichi.jp",
    "https://www.yomiuri.co.jp", "https://www.chosun.com", "https://www.hani.co.kr",
    "https://news.naver.com", "https://www.yna.co.kr", "https://www.cna.com.tw",
    "https://udn.com", "https://www.ltn.com.tw", "https://www.scmp.com",
    "https://news.sina.com.cn", "https://www.xinhuanet.com", "https://www.thepaper.cn",
    "https://www.straitstimes.com", "https://www.thehindu.com",
    "https://timesofindia.indiatimes.com", "https://www.bhaskar.com", "https://www.dawn.com",
    "https://www.prothomalo.com", "https://www.kompas.com", "https://www.rappler.com",
    "https://tuoitre.vn", "https://vnexpress.net", "https://www.bangkokpost.com",
    "https://www.thairath.co.th", "https://www.abc.net.au", "https://www.smh.com.au",
    "https://www.nzherald.co.nz", "https://www.news24.com", "https://www.nation.africa",
    "https://punchng.com", "https://www.jeuneafrique.com", "https://www.lapresse.ca",
    "https://www.cbc.ca", "https://www.theglobeandmail.com", "http://www.bl.uk",
    "https://www.rfi.fr", "https://www.dw.com", "https://www.france24.com",
    "https://www.rts.ch", "https://www.rtbf.be", "https://www.irishtimes.com",
    "https://www.ft.com", "https://www.economist.com", "https://www.lavanguardia.com",
    "https://www.bild.de", "https://www.welt.de", "https://www.heise.de",
]

NEWS_PATHS = [
    "/",
    "/news/",
    "/news/world-europe-64983212",
    "/world/2023/mar/21/xi-jinping-putin-talks-moscow",
    "/2023/03/21/world/europe/xi-putin-russia-china.html",
    "/2023/03/21/world/europe/xi-putin-russia-china.html?smid=tw-share",
    "/international/article/2023/03/21/xi-jinping-et-vladimir-poutine_6166416_4.html",
    "/politik/ausland/xi-jinping-in-moskau-a-1234567.html",
    "/internacional/2023-03-21/xi-jinping-y-putin.html",
    "/esteri/23_marzo_21/xi-putin-mosca-abc123.shtml",
    "/news/aopl/202303220008.aspx",
    "/news/aopl/202303220008.aspx?from=rss",
    "/articles/20230321/k10014014321000.html",
    "/article/2023032112345",
    "/amp/s/article/123",
    "/a/20230321/12345/",
    "/n/2023/0321/c1002-32648321.html",
    "/world/2023-03/21/c_1129449012.htm",
    "/politics/story.php?id=12345&lang=en",
    "/index.php?option=com_content&view=article&id=42&Itemid=7",
    "/search?q=xi+putin&sort=date",
    "/search?q=%E7%BF%92%E8%BF%91%E5%B9%B3",
    "/tag/hysearchws.aspx?q=%E8%92%B2%E4%BA%AD",
    "/video/2023/03/21/clip.html?autoplay=1&mute=1",
    "/feeds/rss.xml",
    "/rss/topnews.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/favicon.ico",
    "/static/css/main.a1b2c3.css",
    "/static/js/app.min.js?v=20230321",
    "/_next/static/chunks/pages/_app-0123abcd.js",
    "/wp-content/uploads/2023/03/photo-1024x683.jpg",
    "/wp-json/wp/v2/posts?per_page=10&page=2",
    "/images/2023/03/21/a.jpg?w=640&h=360&crop=1",
    "/img/800x600/photo.webp",
    "/live/2023/mar/21/ukraine-war-live?page=with:block-641a#block-641a",
    "/opinion/columns/",
    "/news/world/asia/",
    "/%E5%9C%8B%E9%9A%9B/20230321/",
    "/новости/мир/2023/03/21/",
    "/أخبار/سياسة/2023/3/21/",
    "/ข่าว/ต่างประเทศ/",
    "/नई-दिल्ली/समाचार",
    "/ニュース/国際/",
    "/뉴스/국제/",
    "/news/Καιρός-σήμερα",
    "/Ökonomie/Börse",
    "/share?url=https%3A%2F%2Fexample.com%2Fa%3Fb%3D1",
    "/redirect?to=http://other.example/x&utm_source=twitter",
    "/comments;jsessionid=" + SID32 + "?page=2",
    "/forum/viewtopic.php?t=123&sid=" + SID32.lower(),
    "/login?PHPSESSID=" + SID32 + "&return=/",
    "/print/article/123/",
    "/article/123/?",
    "/article/123/?&",
    "/Article/123/Index.HTML",
    "/a//b///c",
    "/section/../article/1",
]


def news_urls(rng):
    urls = []
    for site in NEWS_SITES:
        for path in rng.sample(NEWS_PATHS, 5):
            urls.append(site + path)
    return urls


# --- the table ----------------------------------------------------------------------------------


def listed_one_by_one():
    """Each host, path, query and fragment alone, with plain neighbours."""
    urls = []
    for host in HOSTS:
        urls.append("http://%s/" % host)
        urls.append("https://%s:443/a/b/?b=2&a=1" % host)
        urls.append("%s/x" % host)
    for port in PORTS:
        for scheme in ("http", "https", "ftp"):
            urls.append("%s://www.example.com%s/x" % (scheme, port))
    for user in USERINFO:
        urls.append("http://%swww.example.com:8080/" % user)
    for path in PATHS:
        urls.append("http://example.com" + path)
        urls.append("mailto:" + path.lstrip("/"))
    for query in QUERIES:
        urls.append("http://example.com/p" + query)
        urls.append("urn:x" + query)
    for frag in FRAGMENTS:
        urls.append("http://example.com/p?q=1" + frag)
        urls.append("http://example.com" + frag)
    return urls


def combined(rng):
    urls = []
    for _ in range(RANDOM_COMBINATIONS):
        urls.append(
            rng.choice(SCHEMES)
            + "://"
            + rng.choice(USERINFO)
            + rng.choice(HOSTS)
            + rng.choice(PORTS)
            + rng.choice(PATHS)
            + rng.choice(QUERIES)
            + rng.choice(FRAGMENTS)
        )
    return urls


def key_of(url):
    """surt's key, or None where surt raises."""
    try:
        return surt.surt(url)
    except Exception:
        return None


def main():
    rng = random.Random(SEED)
    candidates = (
        SPECIAL
        + listed_one_by_one()
        + combined(rng)
        + repository_urls()
        + news_urls(rng)
    )
    seen = set()
    rows = []
    for url in candidates:
        if url in seen or any(c in url for c in "\t\r\n"):
            continue
        seen.add(url)
        key = key_of(url)
        if key is not None:
            rows.append("%s\t%s\n" % (url, key))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(rows)
    size = os.path.getsize(OUT)
    print("%s: %d URLs, %d bytes" % (os.path.relpath(OUT, ROOT), len(rows), size), file=sys.stderr)


if __name__ == "__main__":
    main()
