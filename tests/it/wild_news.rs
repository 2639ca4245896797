//! Whole news pages as real sites write them (issue 14): a Taiwanese article in Big5 with
//! legacy uppercase markup, a Japanese one in Shift_JIS behind a `<base href>` with a
//! minified Shift_JIS stylesheet, Japanese pages in EUC-JP declared only by the HTTP header,
//! Guardian and BBC pages with `<picture>`, many `srcset` widths, `<noscript>`, a video
//! poster and an external SVG sprite, Spiegel and Zeit with lazy `data-srcset`, consent
//! scripts, `image-set()` and web fonts from stylesheets in other folders, Le Monde's `m[]=`
//! stylesheet URL and image crops, Folha and g1 with lazy frames, backgrounds, `&#x2F;` and
//! thumbor URLs, a WordPress site (WP Rocket, Jetpack, Font Awesome, Google Fonts,
//! Autoptimize) and a Next.js site (`/_next/image`). Every host is a `.example` stand-in
//! served by the fixture, ad and tracker hosts answering 404, so nothing here can reach the
//! internet.
//!
//! Each page is opened live, archived with `--depth 0`, and its offline copy opened with the
//! network closed: it makes no request beyond its own files, no load fails, no image is
//! broken, every image shown live is shown offline, every file (image, font, stylesheet)
//! loaded live is loaded offline, the page reads in the same encoding with the same title,
//! links lead where they did, and the files the markup references are in the offline copy.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use crate::archive::archive_ok;
use crate::fixture::{Handler, HttpsFixture, Step, response};
use crate::news_pages::{Seen, open_in_chromium, uncontained};
use crate::support::requires;

/// A page as a site serves it.
struct WildPage {
    name: &'static str,
    url: &'static str,
    /// The `Content-Type` it is served with.
    content_type: &'static str,
    /// The encoding its bytes are in.
    encoding: &'static str,
    markup: fn() -> String,
    /// Files the offline copy must show (parts of their offline paths).
    shows: &'static [&'static str],
    /// URLs the offline copy must hold, shown or not.
    captures: &'static [&'static str],
    /// Live requests the offline copy need not repeat: placeholders a loader replaced, a
    /// sprite the copy put into the page.
    replaced: &'static [&'static str],
}

const PAGES: &[WildPage] = &[
    WildPage {
        name: "cna-big5",
        url: "https://www.cna.example/news/aopl/201003220008.aspx",
        content_type: "text/html",
        encoding: "big5",
        markup: cna_big5,
        shows: &[
            "C20100322000031",
            "1024x683_related1",
            "1024x683_related2",
            "logo.png",
            "bg_nav.png",
            "icon_share.gif",
        ],
        captures: &[
            "https://imgcdn.cna.example/www/WebPhotos/1024/20100322/1200x800_wmkn_0_C20100322000031.jpg",
            "https://imgcdn.cna.example/www/WebPhotos/1024/20100322/1200x800_wmkn_0_C20100322000031.webp",
            "https://www.cna.example/img/apple-touch-icon.png",
        ],
        replaced: &["/img/loading.gif"],
    },
    WildPage {
        name: "asahi-shift-jis",
        url: "https://www.asahi.example/articles/ASR3P5Q2RR3PUHBI01X.html",
        content_type: "text/html",
        encoding: "shift_jis",
        markup: asahi_shift_jis,
        shows: &[
            "AS20230321001234_comm.jpg",
            "AS20230321001235_comm.jpg",
            "logo_asahi.png",
            "bg_head.png",
            "logo_footer.png",
        ],
        captures: &["https://www.asahicom.example/articles/images/AS20230321001234_comm.jpg"],
        replaced: &[],
    },
    WildPage {
        name: "euc-jp-header-only",
        url: "https://www.chiho-shimbun.example/news/2023/03/21/0001.html",
        content_type: "text/html; charset=EUC-JP",
        encoding: "euc-jp",
        markup: chiho_euc_jp,
        shows: &["0321_kaiken.jpg", "0321_map.png", "title_bar.gif"],
        captures: &[],
        replaced: &[],
    },
    WildPage {
        name: "euc-jp-photo-header-only",
        url: "https://www.chiho-shimbun.example/photo/2023/03/21/01.html",
        content_type: "text/html; charset=EUC-JP",
        encoding: "euc-jp",
        markup: chiho_photo,
        shows: &["kaiken01.jpg"],
        captures: &[],
        replaced: &[],
    },
    WildPage {
        name: "guardian",
        url: "https://www.theguardian.example/world/2023/mar/21/xi-jinping-vladimir-putin-talks-moscow",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: guardian,
        shows: &[
            "GHGuardianHeadline-Medium.woff2",
            "GuardianTextEgyptian-Reg.woff2",
            "0c9d8e7f6a5b4c3d",
        ],
        captures: &[
            "https://i.guim.example/img/media/5a1e8f0c4b0b7f2e/0_0_5000_3000/master/5000.jpg?width=1200&height=630&quality=85&auto=format&fit=crop&overlay-align=bottom%2Cleft&overlay-width=100p&overlay-base64=L2ltZy9zdGF0aWMvb3ZlcmxheXMvdGctZGVmYXVsdC5wbmc&enable=upscale&s=3c1b",
            "https://i.guim.example/img/media/5a1e8f0c4b0b7f2e/0_0_5000_3000/master/5000.jpg?width=620&dpr=2&s=none&crop=none",
            "https://i.guim.example/img/media/1a2b3c4d5e6f7a8b/0_0_3000_1800/master/3000.jpg?width=140&dpr=2&s=none&crop=none",
            "https://uploads.guim.example/2023/03/21/xi_putin_kremlin--3d1f0a2b-1e3a-4b2c-9d8e-7f6a5b4c3d2e-1.mp4",
        ],
        replaced: &[],
    },
    WildPage {
        name: "bbc",
        url: "https://www.bbc.example/news/world-europe-65022305",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: bbc,
        shows: &["_129071385_xi_putin_getty.jpg", "ReithSans_W_Rg.woff2"],
        captures: &[
            "https://ichef.bbci.example/news/1536/cpsprodpb/1419/production/_129071385_xi_putin_getty.jpg.webp",
            "https://ichef.bbci.example/news/240/cpsprodpb/1419/production/_129071385_xi_putin_getty.jpg.webp",
            "https://ichef.bbci.example/news/976/cpsprodpb/1419/production/_129071385_xi_putin_getty.jpg",
            "https://static.files.bbci.example/orbit/3c4a3a2/img/blq-orbit-blocks_grey.svg",
        ],
        replaced: &["blq-orbit-blocks_grey.svg"],
    },
    WildPage {
        name: "spiegel",
        url: "https://www.spiegel.example/ausland/xi-jinping-bei-wladimir-putin-a-1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: spiegel,
        shows: &[
            "SpiegelSans-Regular.woff2",
            "SpiegelSerifText-Regular.woff2",
            "paywall-badge.svg",
            "teaser-bg.png",
        ],
        captures: &[
            "https://cdn.prod.www.spiegel.example/images/b2c3d4e5-0001-0002-0003-000000000004_w948_r1.77_fpx47_fpy50.jpg",
            "https://cdn.prod.www.spiegel.example/images/b2c3d4e5-0001-0002-0003-000000000004_w520_r1.77_fpx47_fpy50.webp",
        ],
        replaced: &[],
    },
    WildPage {
        name: "zeit",
        url: "https://www.zeit.example/politik/ausland/2023-03/xi-jinping-moskau-putin-besuch",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: zeit,
        shows: &[
            "wide__1300x731",
            "TabletGothic-Regular.woff2",
            "TiemposText-Regular.woff2",
            "z-logo.avif",
        ],
        captures: &[
            "https://img.zeit.example/politik/ausland/2023-03/xi-jinping-moskau/wide__420x236",
            "https://img.zeit.example/politik/ausland/2023-03/xi-jinping-moskau/wide__1000x562",
        ],
        replaced: &[],
    },
    WildPage {
        name: "lemonde",
        url: "https://www.lemonde.example/international/article/2023/03/21/a-moscou-xi-jinping-et-vladimir-poutine_6166325_3210.html",
        content_type: "text/html; charset=UTF-8",
        encoding: "utf-8",
        markup: lemonde,
        shows: &[
            "4f0_ap23080614123456.jpg",
            "TheAntiquaB-W6SemiBold.woff2",
            "le-monde.svg",
        ],
        captures: &[
            "https://img.lemde.example/2023/03/21/0/0/5000/3333/1328/0/45/0/4f0_ap23080614123456.jpg",
            "https://img.lemde.example/2023/03/20/0/0/3000/2000/384/0/75/0/7c2_lire-aussi.jpg",
            "https://img.lemde.example/2023/03/20/0/0/3000/2000/768/0/45/0/7c2_lire-aussi.jpg",
        ],
        replaced: &[],
    },
    WildPage {
        name: "folha",
        url: "https://www1.folha.example/mundo/2023/03/xi-jinping-e-putin-se-reunem-em-moscou.shtml",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: folha,
        shows: &[
            "1679412345_3x2_md.jpg",
            "1679412399_3x2_rt.jpg",
            "hqdefault.jpg",
            "newsletter-bg.jpg",
            "16771234567890-igor-gielow.jpg",
        ],
        captures: &["https://www.youtube.example/embed/Xk3pA9b2cQ4?rel=0"],
        replaced: &[],
    },
    WildPage {
        name: "g1",
        url: "https://g1.globo.example/mundo/noticia/2023/03/21/xi-jinping-e-putin.ghtml",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: g1,
        shows: &["xi-putin-kremlin.jpg", "lula-china.jpg", "mapa-ucrania.png"],
        captures: &[],
        replaced: &[],
    },
    WildPage {
        name: "wordpress",
        url: "https://dailyrecord.example/2023/03/21/city-council-approves-budget/",
        content_type: "text/html; charset=UTF-8",
        encoding: "utf-8",
        markup: wordpress,
        shows: &[
            "council.jpg",
            "meeting-1024x683.jpg",
            "cover-park.jpg",
            "fontawesome-webfont.woff2",
            "header-texture.png",
            "u-440qyriQwlOrhSvowK_l5-fCZM.woff2",
        ],
        captures: &[
            "https://i0.wp.example/dailyrecord.example/wp-content/uploads/2023/03/council.jpg?resize=300%2C200&ssl=1",
            "https://dailyrecord.example/wp-content/uploads/2023/03/meeting-300x200.jpg",
        ],
        replaced: &[],
    },
    WildPage {
        name: "nextjs",
        url: "https://www.courier.example/politics/2023/03/21/xi-putin-summit",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: nextjs_article,
        shows: &["a34f9d1faa5f3315-s.p.woff2", "url=_images_hero.jpg"],
        captures: &[
            "https://www.courier.example/_next/image?url=%2Fimages%2Fhero.jpg&w=3840&q=75",
            "https://www.courier.example/_next/image?url=https%3A%2F%2Fcdn.courier.example%2Fuploads%2Fstory-6.jpg&w=3840&q=75",
        ],
        replaced: &[],
    },
    WildPage {
        name: "nextjs-front",
        url: "https://www.courier.example/",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: nextjs_front,
        shows: &["url=_images_hero.jpg"],
        captures: &[
            "https://www.courier.example/_next/image?url=https%3A%2F%2Fcdn.courier.example%2Fuploads%2Fstory-12.jpg&w=3840&q=75",
        ],
        replaced: &[],
    },
    WildPage {
        name: "folha-amp",
        url: "https://www1.folha.example/amp/mundo/2023/03/xi-jinping-e-putin-se-reunem-em-moscou.shtml",
        content_type: "text/html; charset=utf-8",
        encoding: "utf-8",
        markup: folha_amp,
        shows: &["1679412345_3x2_md.jpg", "1679412399_3x2_rt.jpg"],
        captures: &[
            "https://f.i.uol.example/fotografia/2023/03/21/167941234564199a2b3c4d5_1679412345_3x2_xl.jpg",
        ],
        replaced: &[],
    },
];

/// What a lazy loader, a consent manager and an analytics tag do live, in one stand-in served
/// for every site script: lazy attributes swapped in (lazysizes, WP Rocket, jQuery lazy, owl
/// carousel), `no-js` turned to `js`, and requests to trackers.
const LOADER: &str = r#"(function () {
  var root = document.documentElement;
  root.className = root.className.replace(/\bno-js\b/, 'js');
  function unveil(el) {
    var media = /^(IMG|SOURCE|IFRAME|VIDEO)$/.test(el.tagName);
    var src = el.getAttribute('data-lazy-src') || el.getAttribute('data-src') || el.getAttribute('data-original');
    var srcset = el.getAttribute('data-lazy-srcset') || el.getAttribute('data-srcset');
    var sizes = el.getAttribute('data-lazy-sizes') || el.getAttribute('data-sizes');
    if (sizes === 'auto') sizes = ((el.parentNode && el.parentNode.offsetWidth) || 300) + 'px';
    if (media) {
      if (sizes) el.sizes = sizes;
      if (srcset) el.srcset = srcset;
      if (src) el.src = src;
    } else if (src && /lazy/.test(el.className)) {
      el.style.backgroundImage = 'url("' + src + '")';
    }
    var bg = el.getAttribute('data-bg');
    if (bg) el.style.backgroundImage = bg.indexOf('url(') >= 0 ? bg : 'url("' + bg + '")';
    var poster = el.getAttribute('data-poster');
    if (poster) el.poster = poster;
    el.className = el.className.replace(/\blazyload\b/, 'lazyloaded');
  }
  // The BBC's delayed images: an empty div its script replaces with an image.
  function delayed(div) {
    var img = document.createElement('img');
    img.src = div.getAttribute('data-src');
    img.alt = div.getAttribute('data-alt') || '';
    img.className = 'js-image-replace';
    div.parentNode.replaceChild(img, div);
  }
  function run() {
    document.querySelectorAll('.js-delayed-image-load').forEach(delayed);
    document.querySelectorAll('[data-src],[data-lazy-src],[data-srcset],[data-lazy-srcset],[data-original],[data-bg],[data-poster]').forEach(unveil);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run); else run();
  new Image().src = 'https://www.google-analytics.example/collect?v=1&t=pageview&dl=' + encodeURIComponent(location.href);
  if (window.fetch) fetch('https://securepubads.g.doubleclick.example/gampad/ads?iu=/1234/news', {mode: 'no-cors'}).catch(function () {});
})();
"#;

/// The AMP runtime's part a still copy would miss: `<amp-img>` becomes an `<img>` inside it,
/// and the boilerplate that hides the body until the runtime is up is lifted.
const AMP_RUNTIME: &str = r#"(function () {
  function start() {
    document.querySelectorAll('amp-img').forEach(function (a) {
      var img = document.createElement('img');
      ['src', 'srcset', 'sizes', 'alt'].forEach(function (n) { if (a.hasAttribute(n)) img.setAttribute(n, a.getAttribute(n)); });
      img.className = 'i-amphtml-fill-content i-amphtml-replaced-content';
      a.appendChild(img);
    });
    document.body.style.animation = 'none';
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
"#;

fn cna_big5() -> String {
    r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="zh-Hant-TW" class="no-js">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=big5" />
<meta http-equiv="X-UA-Compatible" content="IE=edge" />
<title>習近平與蒲亭會談 強調通過和談解決烏克蘭危機 | 國際 | 中央社 CNA</title>
<meta name="description" content="中國國家主席習近平今天在莫斯科與俄羅斯總統蒲亭會談。" />
<meta property="og:image" content="https://imgcdn.cna.example/www/WebPhotos/1024/20100322/1200x800_wmkn_0_C20100322000031.jpg" />
<link rel="canonical" href="https://www.cna.example/news/aopl/201003220008.aspx" />
<link rel="shortcut icon" href="/favicon.ico" type="image/x-icon" />
<link rel="apple-touch-icon" sizes="180x180" href="/img/apple-touch-icon.png" />
<link rel="preconnect" href="https://imgcdn.cna.example" />
<link href="/css/cna.css?v=20100321" rel="stylesheet" type="text/css" />
<script async src="https://www.googletagmanager.example/gtag/js?id=G-8S7XQ3M2C1"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-8S7XQ3M2C1');</script>
<script type="text/javascript" src="/js/jquery-1.4.2.min.js"></script>
<script type="text/javascript" src="/js/jquery.lazy.min.js?v=20100321"></script>
</head>
<body>
<div id="wrapper">
<div class="header"><A HREF="/"><IMG SRC="/img/logo.png" ALT="中央社 CNA" WIDTH=180 HEIGHT=40 BORDER=0></A>
<ul class="menu"><li><a href="/list/aall.aspx">即時</a></li><li class="on"><a href="/list/aopl.aspx">國際</a></li><li><a href="/list/acn.aspx">兩岸</a></li></ul></div>
<div class="centralContent">
<h1><span>習近平與蒲亭會談 強調通過和談解決烏克蘭危機</span></h1>
<div class="updatetime"><span>2010/3/22 09:05（3/22 10:17 更新）</span></div>
<div class="fullPic"><figure class="center"><div class="wrap"><picture>
<source type="image/webp" data-srcset="https://imgcdn.cna.example/www/WebPhotos/1024/20100322/1200x800_wmkn_0_C20100322000031.webp">
<img class="lazy" src="/img/loading.gif" data-src="https://imgcdn.cna.example/www/WebPhotos/1024/20100322/1200x800_wmkn_0_C20100322000031.jpg" alt="中國國家主席習近平（左）與俄羅斯總統蒲亭（右）會談。（路透社）">
</picture></div><figcaption>中國國家主席習近平（左）21日與俄羅斯總統蒲亭（右）在莫斯科會談。（路透社）</figcaption></figure></div>
<div class="paragraph">
<p>（中央社莫斯科21日綜合外電報導）中國國家主席習近平今天與俄羅斯總統蒲亭在克里姆林宮會談，雙方強調應通過和談解決烏克蘭危機。</p>
<p>兩人在會談後發表聯合聲明，表示反對任何國家以犧牲他國安全利益為代價謀求自身安全。</p>
<p>（譯者：陳正健／核稿：林治平）1100322</p>
</div>
<div class="tagBox"><a href="/search/hysearchws.aspx?q=蒲亭">蒲亭</a> <a href="/search/hysearchws.aspx?q=烏克蘭&amp;page=1">烏克蘭</a></div>
<div class="shareBar"><a href="https://www.facebook.example/sharer/sharer.php?u=https%3A%2F%2Fwww.cna.example%2Fnews%2Faopl%2F201003220008.aspx"><IMG SRC=/img/icon_share.gif ALT=分享></A></div>
</div>
<div class="moreArticle"><h2>延伸閱讀</h2><ul class="mainList imgModule">
<li><a href="/news/aopl/201003210350.aspx"><div class="wrap"><img class="owl-lazy" data-src="https://imgcdn.cna.example/www/WebPhotos/200/20100321/1024x683_related1.jpg" alt=""></div><div class="listInfo"><h2>蒲亭盛大歡迎習近平 兩人互稱老朋友</h2></div></a></li>
<li><a href="/news/aopl/201003210277.aspx"><div class="wrap"><img class="owl-lazy" data-src="https://imgcdn.cna.example/www/WebPhotos/200/20100321/1024x683_related2.jpg" alt=""></div><div class="listInfo"><h2>國際刑事法院發逮捕令 蒲亭仍接待習近平</h2></div></a></li>
</ul></div>
<div class="ad" id="div-gpt-ad-1521000000000-0"><script>googletag.cmd.push(function(){googletag.display('div-gpt-ad-1521000000000-0');});</script></div>
<TABLE WIDTH="100%" BORDER=0 CELLPADDING=0 CELLSPACING=0 class=footer><TR><TD BACKGROUND="/img/bg_nav.png" HEIGHT=30><FONT SIZE=2 COLOR=#666666>中央通訊社 版權所有</FONT></TD></TR></TABLE>
</div>
<noscript><iframe src="https://www.googletagmanager.example/ns.html?id=GTM-KVRDTP" height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
</body>
</html>
"#
    .to_string()
}

fn asahi_shift_jis() -> String {
    r##"<!DOCTYPE html>
<html lang="ja">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">
<meta http-equiv="refresh" content="900">
<base href="https://www.asahi.example/">
<title>習氏とプーチン氏が会談　ウクライナ巡り「対話を」：朝日新聞デジタル</title>
<meta property="og:image" content="https://www.asahicom.example/articles/images/AS20230321001234_comm.jpg">
<link rel="stylesheet" href="css/common.css?20230301" type="text/css" media="all">
<link rel="stylesheet" href="https://www.asahicom.example/css/article_v2.css" type="text/css" media="all">
<link rel="shortcut icon" href="/favicon.ico">
<script src="https://www.asahicom.example/js/jquery.js"></script>
<script>var _sf_async_config = {uid: 12345, domain: 'asahi.example'};</script>
<script src="//static.chartbeat.example/js/chartbeat.js" async></script>
</head>
<body id="article">
<div id="Header"><h1 class="logo"><a href="./"><img src="img/logo_asahi.png" alt="朝日新聞デジタル" width="230" height="38"></a></h1>
<ul id="GlobalNav"><li><a href="news/">ニュース</a></li><li><a href="international/">国際</a></li></ul></div>
<div id="MainInner">
<div class="ArticleTitle"><h1>習氏とプーチン氏が会談　ウクライナ巡り「対話を」</h1><p class="LastUpdated">2023年3月21日 23時05分</p></div>
<div class="ArticleText">
<div class="Image"><img src="https://www.asahicom.example/articles/images/AS20230321001234_comm.jpg" alt="会談に臨む習近平国家主席（左）とプーチン大統領＝２０２３年３月２１日、モスクワ、ロイター" width="640" height="427"><p class="Caption">会談に臨む習近平国家主席（左）とプーチン大統領＝ロイター</p></div>
<p>　中国の習近平（シーチンピン）国家主席は２１日、モスクワでロシアのプーチン大統領と会談した。ウクライナ情勢を巡り、習氏は「対話による解決」を改めて訴えた。</p>
<p>　両首脳は会談後、両国の包括的な戦略的協力関係を深める共同声明に署名した。</p>
<div class="Image"><img src="https://www.asahicom.example/articles/images/AS20230321001235_comm.jpg" alt="" width="320" height="213"></div>
</div>
<ul class="Tag"><li><a href="https://www.asahi.example/topics/word/習近平.html">習近平</a></li><li><a href="search/?keyword=東京&amp;iref=pc_tag">東京</a></li></ul>
<div id="Footer" style="background:url(img/bg_head.png) repeat-x"><span class="logo"></span><p>Copyright &copy; The Asahi Shimbun Company. All rights reserved.</p><a href="#Header">ページトップへ</a></div>
</div>
</body>
</html>
"##
    .to_string()
}

fn chiho_euc_jp() -> String {
    r##"<html>
<head>
<title>知事が記者会見　新年度予算案を説明｜地方新聞</title>
<link rel="stylesheet" type="text/css" href="/common/css/style.css">
<script type="text/javascript" src="/common/js/rollover.js"></script>
</head>
<body bgcolor="#FFFFFF" onload="MM_preloadImages('/common/img/btn_home_on.gif')">
<table width="760" border="0" cellspacing="0" cellpadding="0" align="center">
<tr><td background="/common/img/title_bar.gif" height="60"><a href="/"><img src="/common/img/logo.gif" width="200" height="50" border="0" alt="地方新聞"></a></td></tr>
<tr><td class="main">
<h2>知事が記者会見　新年度予算案を説明</h2>
<p class="date">2023年3月21日</p>
<img src="photo/0321_kaiken.jpg" width="300" height="200" alt="記者会見する知事" align="right">
<p>　知事は２１日の定例記者会見で、新年度の一般会計当初予算案について説明した。子育て支援と防災対策に重点を置いたという。</p>
<p>　予算案は県議会２月定例会に提出される。</p>
<p><img src="photo/0321_map.png" width="200" height="150" alt="地図"></p>
<p><a href="/search.cgi?word=予算&amp;cat=1">関連記事を検索</a> | <a href="../0320/0003.html">前の記事</a></p>
</td></tr>
</table>
</body>
</html>
"##
    .to_string()
}

/// A photo page of the same paper, with a caption for all its text: too little for a
/// browser to guess its encoding right (Chromium reads it as GBK) where nothing declares it.
fn chiho_photo() -> String {
    r#"<html>
<head>
<title>新年度予算案</title>
<link rel="stylesheet" type="text/css" href="/common/css/style.css">
</head>
<body>
<img src="kaiken01.jpg" width="480" height="320" alt="">
<p>予算案を説明する知事</p>
<p><a href="02.html">次へ</a></p>
</body>
</html>
"#
    .to_string()
}

/// The Guardian's picture element: a source per breakpoint and density, each one width.
fn guardian_picture(media: &str, alt: &str, widths: &[(&str, u32)]) -> String {
    let image = format!("https://i.guim.example/img/media/{media}/0_0_5000_3000/master/5000.jpg");
    let mut out = String::from(r#"<picture class="dcr-1989ovb">"#);
    for (query, width) in widths {
        let (min, dpr) = query.split_once('@').unwrap_or((query, "1"));
        let hidpi = if dpr == "2" {
            format!(
                " and (-webkit-min-device-pixel-ratio: 1.25), (min-width: {min}px) and (min-resolution: 120dpi)"
            )
        } else {
            String::new()
        };
        let requested = if dpr == "2" { width * 2 } else { *width };
        write!(
            out,
            r#"<source srcset="{image}?width={width}&amp;dpr={dpr}&amp;s=none&amp;crop=none {requested}w" media="(min-width: {min}px){hidpi}" sizes="{width}px">"#
        )
        .unwrap();
    }
    write!(
        out,
        r#"<img alt="{alt}" src="{image}?width=465&amp;dpr=1&amp;s=none&amp;crop=none" width="465" height="279.3" loading="eager" class="dcr-evn1e9"></picture>"#
    )
    .unwrap();
    out
}

fn guardian() -> String {
    let main = guardian_picture(
        "5a1e8f0c4b0b7f2e",
        "Xi Jinping and Vladimir Putin at the Kremlin",
        &[
            ("1300@2", 620),
            ("1300", 620),
            ("980@2", 620),
            ("980", 620),
            ("740@2", 700),
            ("740", 700),
            ("660@2", 620),
            ("660", 620),
            ("480@2", 605),
            ("480", 605),
            ("0@2", 445),
            ("0", 445),
        ],
    );
    let inline = guardian_picture(
        "9c3d2e1f0a7b6c5d",
        "Chinese and Russian flags in Red Square",
        &[("980", 620), ("0@2", 445), ("0", 445)],
    );
    let thumbnail = |id: &str| {
        format!(
            r#"<img src="https://i.guim.example/img/media/{id}/0_0_3000_1800/master/3000.jpg?width=140&amp;dpr=1&amp;s=none&amp;crop=none" srcset="https://i.guim.example/img/media/{id}/0_0_3000_1800/master/3000.jpg?width=140&amp;dpr=1&amp;s=none&amp;crop=none 140w, https://i.guim.example/img/media/{id}/0_0_3000_1800/master/3000.jpg?width=140&amp;dpr=2&amp;s=none&amp;crop=none 280w" sizes="140px" alt="" width="140" height="84" loading="lazy" class="dcr-1e83arv">"#
        )
    };
    format!(
        r##"<!doctype html><html lang="en"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width,minimum-scale=1,initial-scale=1">
<title>Xi Jinping and Vladimir Putin hold talks in Moscow | China | The Guardian</title>
<meta name="description" content="Chinese leader’s visit to Russia is his first since the invasion of Ukraine">
<link rel="canonical" href="https://www.theguardian.example/world/2023/mar/21/xi-jinping-vladimir-putin-talks-moscow">
<meta property="og:image" content="https://i.guim.example/img/media/5a1e8f0c4b0b7f2e/0_0_5000_3000/master/5000.jpg?width=1200&amp;height=630&amp;quality=85&amp;auto=format&amp;fit=crop&amp;overlay-align=bottom%2Cleft&amp;overlay-width=100p&amp;overlay-base64=L2ltZy9zdGF0aWMvb3ZlcmxheXMvdGctZGVmYXVsdC5wbmc&amp;enable=upscale&amp;s=3c1b">
<meta name="twitter:card" content="summary_large_image">
<link rel="preconnect" href="https://assets.guim.example"><link rel="dns-prefetch" href="https://i.guim.example">
<link rel="preload" href="https://assets.guim.example/static/frontend/fonts/guardian-headline/noalts-not-hinted/GHGuardianHeadline-Medium.woff2" as="font" crossorigin="">
<link rel="preload" href="https://assets.guim.example/static/frontend/fonts/guardian-textegyptian/noalts-not-hinted/GuardianTextEgyptian-Reg.woff2" as="font" crossorigin="">
<link rel="icon" href="https://static.guim.example/images/favicon-32x32.ico">
<link rel="apple-touch-icon" sizes="152x152" href="https://assets.guim.example/images/favicons/152x152.png">
<script>window.guardian = {{"config":{{"page":{{"contentType":"Article","section":"world"}}}},"polyfilled":false}};</script>
<script type="module" src="https://assets.guim.example/assets/frameworks.client.web.js"></script>
<script defer nomodule src="https://assets.guim.example/assets/frameworks.client.web.legacy.js"></script>
<style>@font-face{{font-family:"GH Guardian Headline";src:url(https://assets.guim.example/static/frontend/fonts/guardian-headline/noalts-not-hinted/GHGuardianHeadline-Medium.woff2) format("woff2"),url(https://assets.guim.example/static/frontend/fonts/guardian-headline/noalts-not-hinted/GHGuardianHeadline-Medium.woff) format("woff");font-weight:500;font-style:normal;font-display:swap}}
@font-face{{font-family:GuardianTextEgyptian;src:url(https://assets.guim.example/static/frontend/fonts/guardian-textegyptian/noalts-not-hinted/GuardianTextEgyptian-Reg.woff2) format("woff2"),url(https://assets.guim.example/static/frontend/fonts/guardian-textegyptian/noalts-not-hinted/GuardianTextEgyptian-Reg.woff) format("woff");font-weight:400;font-style:normal;font-display:swap}}
h1{{font-family:"GH Guardian Headline",Georgia,serif}}p{{font-family:GuardianTextEgyptian,Georgia,serif}}
.dcr-1989ovb img{{width:100%;height:auto}}</style>
</head><body>
<a class="dcr-skip" href="#maincontent">Skip to main content</a>
<header><a href="https://www.theguardian.example/uk" data-link-name="nav3 : logo"><svg width="295" height="95" viewBox="0 0 295 95"><title>The Guardian - Back to home</title><path d="M0 0h295v95H0z" fill="#052962"></path></svg></a></header>
<main id="maincontent"><article>
<figure data-spacefinder-role="immersive" class="dcr-fm9sl9"><div class="dcr-1t8m8f8">{main}</div><figcaption class="dcr-1mh7rw2"><span class="dcr-1qvd3m6"><svg width="18" height="13" viewBox="0 0 18 13"><path d="M18 3.5v8l-1.5 1.5h-15L0 11.5v-8L1.5 2H5l2-2h4l2 2h3.5L18 3.5z"></path></svg></span>Xi Jinping and Vladimir Putin at the Kremlin on Tuesday. Photograph: Sputnik/Reuters</figcaption></figure>
<div class="dcr-0"><h1>Xi Jinping and Vladimir Putin hold talks in Moscow</h1></div>
<div class="article-body-commercial-selector"><p class="dcr-94xsh">Xi Jinping has told Vladimir Putin that China is ready to “stand guard over the world order”, as the Chinese leader held talks at the Kremlin.</p>
<figure class="dcr-173mewl">{inline}<figcaption>Flags in Red Square. Photograph: Maxim Shemetov/Reuters</figcaption></figure>
<p class="dcr-94xsh">The two leaders signed statements on economic cooperation.</p>
<figure class="dcr-video"><video preload="none" controls width="620" height="349" poster="https://i.guim.example/img/media/0c9d8e7f6a5b4c3d/0_0_1920_1080/master/1920.jpg?width=620&amp;quality=85&amp;dpr=1&amp;s=none&amp;crop=none"><source src="https://uploads.guim.example/2023/03/21/xi_putin_kremlin--3d1f0a2b-1e3a-4b2c-9d8e-7f6a5b4c3d2e-1.mp4" type="video/mp4"><p>Your browser does not support video.</p></video><figcaption>Xi arrives at the Kremlin. Video: Reuters</figcaption></figure></div>
</article>
<aside><h2>Most viewed</h2><ul><li><a href="/world/2023/mar/21/first"><div>{t1}</div>First story</a></li><li><a href="/world/2023/mar/21/second"><div>{t2}</div>Second story</a></li></ul></aside>
</main>
<noscript><img src="https://sb.scorecardresearch.example/p?c1=2&amp;c2=6035250&amp;cv=2.0&amp;cj=1&amp;comscorekw=world" alt=""></noscript>
</body></html>
"##,
        t1 = thumbnail("1a2b3c4d5e6f7a8b"),
        t2 = thumbnail("8b7a6f5e4d3c2b1a"),
    )
}

fn bbc() -> String {
    let ichef = "https://ichef.bbci.example/news";
    let image = "cpsprodpb/1419/production/_129071385_xi_putin_getty.jpg";
    let widths = [240, 320, 480, 624, 800, 976, 1536];
    let srcset: Vec<String> = widths
        .iter()
        .map(|w| format!("{ichef}/{w}/{image}.webp {w}w"))
        .collect();
    format!(
        r#"<!DOCTYPE html><html lang="en-GB" class="no-js"><head><meta charSet="utf-8"/>
<meta http-equiv="refresh" content="900"/>
<title>Xi Jinping in Moscow: Putin welcomes 'dear friend' - BBC News</title>
<link rel="preload" href="https://static.files.bbci.example/fonts/reith/2.512/BBCReithSans_W_Rg.woff2" as="font" type="font/woff2" crossorigin="anonymous"/>
<link rel="stylesheet" href="https://static.files.bbci.example/core/bundle-defaults.3d1f0a2b.css"/>
<link rel="icon" type="image/x-icon" href="https://static.files.bbci.example/core/website/assets/static/icons/favicon/news/favicon.ico"/>
<link rel="apple-touch-icon" sizes="180x180" href="https://static.files.bbci.example/core/website/assets/static/icons/touch/news/touch-icon-180.png"/>
<meta property="og:image" content="{ichef}/1024/branded_news/4A1D/production/_129071386_xi_putin.jpg"/>
<script>window.bbcpage = {{"getName":"news.world.europe.story.65022305.page"}};</script>
<script src="https://static.files.bbci.example/orbit/3c4a3a2/js/orb.min.js"></script>
</head><body>
<header class="orbit-header-container"><a href="https://www.bbc.example/" class="orbit-logo-link"><svg width="84" height="24" viewBox="0 0 84 24" aria-label="BBC"><use xlink:href="https://static.files.bbci.example/orbit/3c4a3a2/img/blq-orbit-blocks_grey.svg#orbit-logo"></use></svg></a></header>
<main id="main-content"><article>
<header><h1 id="main-heading">Xi Jinping in Moscow: Putin welcomes 'dear friend'</h1></header>
<div data-component="image-block"><figure><div class="ssrcss-ab5fd8-StyledFigureContainer"><span><picture>
<source srcSet="{srcset}" type="image/webp" sizes="(min-width: 1280px) 50vw, (min-width: 1008px) 66vw, 96vw"/>
<img alt="Xi Jinping and Vladimir Putin" src="{ichef}/976/{image}" srcSet="{ichef}/240/{image} 240w,{ichef}/320/{image} 320w,
{ichef}/480/{image} 480w,{ichef}/624/{image} 624w,{ichef}/800/{image} 800w,{ichef}/976/{image} 976w" sizes="(min-width: 1280px) 50vw, (min-width: 1008px) 66vw, 96vw" width="976" height="549"/></picture></span>
<span role="text" class="ssrcss-1fyszqd-StyledFigureCopyright"><span class="ssrcss-1ya3mhg-VisuallyHidden">Image source, </span>Getty Images</span></div></figure></div>
<div data-component="text-block"><p>China's Xi Jinping has arrived in Moscow for a three-day state visit, his first since Russia's full-scale invasion of Ukraine.</p></div>
<div data-component="map-block"><figure><div class="ssrcss-1drmwog-StyledFigureContainer"><img alt="Map" loading="lazy" src="{ichef}/640/cpsprodpb/0E5B/production/_129071390_map.png.webp" srcSet="{ichef}/320/cpsprodpb/0E5B/production/_129071390_map.png.webp 320w, {ichef}/640/cpsprodpb/0E5B/production/_129071390_map.png.webp 640w" sizes="(min-width: 1008px) 645px, 96vw" width="640" height="360"/></div></figure></div>
<div data-component="links-block"><ul><li><a href="/news/world-asia-china-64978329">China's peace plan for Ukraine</a></li><li><a href="https://www.bbc.example/news/topics/cnx753jejn2t">Xi Jinping</a></li></ul></div>
</article></main>
<footer><a href="https://www.bbc.example/usingthebbc/terms">Terms of Use</a> <span>Copyright 2023 BBC.</span></footer>
</body></html>
"#,
        srcset = srcset.join(", "),
    )
}

fn spiegel() -> String {
    let image = "https://cdn.prod.www.spiegel.example/images/b2c3d4e5-0001-0002-0003-000000000004";
    let set = |ext: &str| {
        [520, 718, 948]
            .iter()
            .map(|w| format!("{image}_w{w}_r1.77_fpx47_fpy50.{ext} {w}w"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        r##"<!DOCTYPE html>
<html lang="de" class="no-js" data-area="article">
<head>
<meta charset="utf-8">
<title>Xi Jinping bei Wladimir Putin: Freundschaft ohne Grenzen? - DER SPIEGEL</title>
<script>window._sp_queue=[];window._sp_={{config:{{accountId:1216,baseEndpoint:"https://sp-spiegel-de.spiegel.example",propertyHref:"https://www.spiegel.example",gdpr:{{}},events:{{}}}}}};</script>
<script src="https://sp-spiegel-de.spiegel.example/unified/wrapperMessagingWithoutDetection.js" async></script>
<link rel="preload" href="https://www.spiegel.example/public/spon/fonts/SpiegelSans-Regular.woff2" as="font" type="font/woff2" crossorigin>
<link rel="preload" href="https://www.spiegel.example/public/spon/fonts/SpiegelSerifText-Regular.woff2" as="font" type="font/woff2" crossorigin>
<link rel="stylesheet" href="https://www.spiegel.example/public/spon/generated/web/css/style.a1b2c3d4.css">
<link rel="icon" type="image/svg+xml" href="https://www.spiegel.example/public/spon/images/icons/favicon.svg">
<link rel="mask-icon" href="https://www.spiegel.example/public/spon/images/icons/safari-pinned-tab.svg" color="#e64415">
<meta property="og:image" content="{image}_w1200_r1.91_fpx47_fpy50.jpg">
<script src="https://www.spiegel.example/public/spon/generated/web/js/lazysizes.min.js" async></script>
</head>
<body class="font-sansUI">
<header data-area="site_header"><a href="https://www.spiegel.example/" title="DER SPIEGEL"><svg class="text-primary-base" width="168" height="28"><use href="#spon-logo"></use></svg></a></header>
<main id="Inhalt"><article aria-label="Freundschaft ohne Grenzen?">
<header><h2><span class="font-serifUI">Xi Jinping bei Wladimir Putin</span><span class="paywall-badge"></span></h2></header>
<div data-area="top_element>image"><figure class="relative"><picture>
<source data-srcset="{webp}" data-sizes="auto" type="image/webp">
<img data-src="{image}_w948_r1.77_fpx47_fpy50.jpg" data-srcset="{jpg}" data-sizes="auto" class="lazyload block w-full" src="data:image/svg+xml;charset=utf-8,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 948 533'%3E%3C/svg%3E" width="948" height="533" alt="Xi Jinping und Wladimir Putin im Kreml" title="Xi Jinping und Wladimir Putin im Kreml">
</picture><figcaption class="font-sansUI">Xi Jinping und Wladimir Putin im Kreml <span>Foto: Sergei Karpukhin / AP</span></figcaption></figure></div>
<section class="relative" data-area="body"><div class="RichText"><p>Der chinesische Staatschef ist zu Gast in Moskau &ndash; und sendet eine Botschaft an den Westen.</p>
<p>Es ist der erste Besuch Xis in Russland seit Beginn des Angriffskriegs gegen die Ukraine.</p></div></section>
<aside class="teaser-list"><div class="teaser"><a href="/politik/ausland/china-friedensplan-a-2b3c.html"><span class="teaser-bg"></span>Chinas Friedensplan</a></div></aside>
</article></main>
<svg style="display:none"><symbol id="spon-logo" viewBox="0 0 168 28"><path d="M0 0h168v28H0z"></path></symbol></svg>
</body>
</html>
"##,
        webp = set("webp"),
        jpg = set("jpg"),
    )
}

fn zeit() -> String {
    let image = "https://img.zeit.example/politik/ausland/2023-03/xi-jinping-moskau";
    format!(
        r#"<!DOCTYPE html>
<html lang="de" class="no-js">
<head>
<meta charset="utf-8">
<title>Xi Jinping in Moskau: Der Freund in der Not | ZEIT ONLINE</title>
<script src="https://cmp.zeit.example/cmp/latest/wrapper.js"></script>
<link rel="preload" href="https://static.zeit.example/p/zeit.web/fonts/TabletGothic-Regular.woff2" as="font" type="font/woff2" crossorigin>
<link rel="preload" href="https://static.zeit.example/p/zeit.web/fonts/TiemposText-Regular.woff2" as="font" type="font/woff2" crossorigin>
<link rel="stylesheet" href="https://static.zeit.example/p/zeit.web/css/web.site/screen.css?v=3.112.0">
<link rel="shortcut icon" href="https://static.zeit.example/p/zeit.web/favicon.ico">
<meta property="og:image" content="{image}/wide__1300x731">
</head>
<body data-page-type="article">
<header class="header"><a class="header__logo" href="https://www.zeit.example/index"><span class="z-logo"></span></a></header>
<main class="main main--article">
<article class="article">
<figure class="article__item article__media">
<img class="article__media-item" alt="Xi Jinping und Wladimir Putin" src="{image}/wide__1300x731" srcset="{image}/wide__420x236 420w, {image}/wide__660x371 660w, {image}/wide__1000x562 1000w, {image}/wide__1300x731 1300w" sizes="(min-width: 1300px) 1300px, 100vw" width="1300" height="731">
<figcaption class="figure__caption">Xi Jinping und Wladimir Putin am Montag in Moskau &copy; Sergei Karpukhin/AFP/Getty Images</figcaption></figure>
<div class="article-body"><p class="paragraph article__item">Xi Jinping wird in Moskau mit allen Ehren empfangen. Was sich Putin von dem Besuch verspricht.</p>
<p class="paragraph article__item">Der Besuch ist ein Signal an den Westen.</p></div>
</article>
</main>
</body>
</html>
"#
    )
}

fn lemonde() -> String {
    let img = "https://img.lemde.example/2023/03/21/0/0/5000/3333";
    let aussi = "https://img.lemde.example/2023/03/20/0/0/3000/2000";
    format!(
        r#"<!DOCTYPE html>
<html lang="fr" prefix="og: http://ogp.me/ns#">
<head>
<meta charset="UTF-8">
<title>A Moscou, Xi Jinping et Vladimir Poutine affichent leur entente</title>
<link rel="stylesheet" href="//s1.lemde.example/mmpub/css/?m[]=lmd%2Fbase.css&amp;m[]=lmd%2Farticle.css&amp;v=1679400000" media="all">
<link rel="preload" href="https://www.lemonde.example/dist/assets/fonts/TheAntiquaB-W6SemiBold.woff2" as="font" type="font/woff2" crossorigin="anonymous">
<link rel="icon" href="https://www.lemonde.example/dist/assets/img/logos/pwa-192.png" sizes="192x192">
<meta property="og:image" content="{img}/1200/630/60/0/6c5_ap23080614123456.jpg">
<script>var lmd = {{"context":{{"page":{{"type":"article","premium":false}}}}}};</script>
<script src="https://www.lemonde.example/bucket/2fbe1f/js/lmd/bootstrap.js" defer></script>
<script async src="https://securepubads.g.doubleclick.example/tag/js/gpt.js"></script>
</head>
<body class="article article--single">
<header class="Header"><a href="https://www.lemonde.example/" class="Header__logo" title="Le Monde"><span class="logo"></span></a></header>
<main id="habillagepub"><section class="zone zone--article">
<header class="article__header"><h1 class="article__title">A Moscou, Xi Jinping et Vladimir Poutine affichent leur entente</h1>
<p class="article__desc">Le président chinois a entamé, lundi 20 mars, une visite d&#39;Etat de trois jours en Russie.</p></header>
<figure class="article__media"><picture class="article__media">
<source srcset="{img}/664/0/75/0/4f0_ap23080614123456.jpg 664w, {img}/1328/0/45/0/4f0_ap23080614123456.jpg 1328w" media="(min-width: 1024px)" sizes="664px">
<source srcset="{img}/556/0/75/0/4f0_ap23080614123456.jpg 556w, {img}/1112/0/45/0/4f0_ap23080614123456.jpg 1112w" media="(min-width: 576px)" sizes="556px">
<img src="{img}/664/0/75/0/4f0_ap23080614123456.jpg" alt="Xi Jinping et Vladimir Poutine, au Kremlin, le 20 mars 2023." width="664" height="442">
</picture><figcaption class="article__legend">Xi Jinping et Vladimir Poutine, au Kremlin, le 20 mars 2023. <span class="article__credit">SERGUEÏ KARPOUKHINE / AP</span></figcaption></figure>
<article class="article__content">
<p class="article__paragraph">Ils se sont donné du « cher ami ». Lundi 20&nbsp;mars, Vladimir Poutine a accueilli Xi Jinping au Kremlin.</p>
<section class="catcher"><span class="catcher__title">Lire aussi :</span> <a href="https://www.lemonde.example/international/article/2023/03/20/chine-russie_6166200_3210.html" class="js-article-read-also">Chine-Russie : une alliance de circonstance</a>
<img class="catcher__img lazy-media" data-srcset="{aussi}/384/0/75/0/7c2_lire-aussi.jpg 1x, {aussi}/768/0/45/0/7c2_lire-aussi.jpg 2x" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" alt="" width="384" height="256"></section>
<p class="article__paragraph">Le président russe a salué le plan de paix chinois.</p>
</article></section></main>
<footer class="Footer"><a href="https://www.lemonde.example/faq/?m=1&amp;rubrique=abonnement">Aide</a></footer>
</body>
</html>
"#
    )
}

fn folha() -> String {
    let uol = "https://f.i.uol.example/fotografia/2023/03/21";
    format!(
        r#"<!DOCTYPE html>
<html lang="pt-BR" class="no-js">
<head>
<meta charset="utf-8">
<title>Xi Jinping e Putin se reúnem em Moscou - 21/03/2023 - Mundo - Folha</title>
<link rel="stylesheet" href="https://static.folha.example/storage/folha/css/folha.article.css?2023032101">
<link rel="amphtml" href="https://www1.folha.example/amp/mundo/2023/03/xi-jinping-e-putin-se-reunem-em-moscou.shtml">
<link rel="shortcut icon" href="//static.folha.example/storage/folha/images/favicon.ico">
<script>window.uolads = window.uolads || [];</script>
<script src="//tm.uol.example/h/par/par.js"></script>
<script src="https://static.folha.example/storage/folha/js/lazysizes.min.js" async></script>
</head>
<body class="c-article">
<header class="l-header"><a href="https://www.folha.example/" class="l-header__logo"><img src="https://static.folha.example/storage/folha/images/logo-folha.svg" alt="Folha de S.Paulo" width="160" height="24"></a></header>
<main><article class="c-news">
<h1 class="c-content-head__title">Xi Jinping e Putin se reúnem em Moscou</h1>
<time class="c-more-options__published-date" datetime="2023-03-21 09:11:00">21.mar.2023 às 9h11</time>
<div class="c-news__body">
<figure class="c-image-full"><img src="{uol}/167941234564199a2b3c4d5_1679412345_3x2_md.jpg" alt="Xi Jinping e Vladimir Putin no Kremlin" class="c-image-full__image" width="768" height="512" loading="lazy"><figcaption class="c-image-full__caption">Xi Jinping e Vladimir Putin no Kremlin - Sergei Karpukhin/AFP</figcaption></figure>
<p>O líder chinês, Xi Jinping, e o presidente russo, Vladimir Putin, tiveram nesta segunda-feira (20) uma conversa informal.</p>
<div class="c-image-aspect-ratio"><img class="c-image-aspect-ratio__image lazyload" data-src="{uol}/1679412399abc_1679412399_3x2_rt.jpg" src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==" alt="" width="768" height="512"></div>
<div class="js-embed-youtube c-embed"><iframe class="lazyload" data-src="https://www.youtube.example/embed/Xk3pA9b2cQ4?rel=0" width="560" height="315" frameborder="0" allow="accelerometer; autoplay; encrypted-media; gyroscope; picture-in-picture" allowfullscreen></iframe></div>
<div class="c-newsletter lazyload" data-bg="https://static.folha.example/storage/folha/images/newsletter-bg.jpg" style="min-height:120px"><p>Receba no seu email</p></div>
<p>Putin disse que estudou com atenção o plano de paz proposto pela China.</p>
</div>
<div class="c-signature"><img class="c-signature__image" src="https:&#x2F;&#x2F;f.i.uol.example&#x2F;folha&#x2F;colunistas&#x2F;images&#x2F;16771234567890-igor-gielow.jpg" alt="Igor Gielow" width="60" height="60"><a href="https:&#x2F;&#x2F;www1.folha.example&#x2F;colunas&#x2F;igorgielow&#x2F;">Igor Gielow</a></div>
<div class="c-related"><a href="https://www1.folha.example/mundo/2023/03/tribunal-de-haia.shtml">Tribunal de Haia emite mandado de prisão contra Putin</a></div>
</article></main>
</body>
</html>
"#
    )
}

fn folha_amp() -> String {
    let uol = "https://f.i.uol.example/fotografia/2023/03/21";
    format!(
        r#"<!doctype html>
<html ⚡ lang="pt-BR">
<head>
<meta charset="utf-8">
<script async src="https://cdn.ampproject.example/v0.js"></script>
<script async custom-element="amp-iframe" src="https://cdn.ampproject.example/v0/amp-iframe-0.1.js"></script>
<script async custom-element="amp-analytics" src="https://cdn.ampproject.example/v0/amp-analytics-0.1.js"></script>
<script async custom-element="amp-ad" src="https://cdn.ampproject.example/v0/amp-ad-0.1.js"></script>
<title>Xi Jinping e Putin se reúnem em Moscou - 21/03/2023 - Mundo - Folha</title>
<link rel="canonical" href="https://www1.folha.example/mundo/2023/03/xi-jinping-e-putin-se-reunem-em-moscou.shtml">
<meta name="viewport" content="width=device-width">
<style amp-boilerplate>body{{-webkit-animation:-amp-start 8s steps(1,end) 0s 1 normal both;-moz-animation:-amp-start 8s steps(1,end) 0s 1 normal both;-ms-animation:-amp-start 8s steps(1,end) 0s 1 normal both;animation:-amp-start 8s steps(1,end) 0s 1 normal both}}@-webkit-keyframes -amp-start{{from{{visibility:hidden}}to{{visibility:visible}}}}@-moz-keyframes -amp-start{{from{{visibility:hidden}}to{{visibility:visible}}}}@-ms-keyframes -amp-start{{from{{visibility:hidden}}to{{visibility:visible}}}}@-o-keyframes -amp-start{{from{{visibility:hidden}}to{{visibility:visible}}}}@keyframes -amp-start{{from{{visibility:hidden}}to{{visibility:visible}}}}</style><noscript><style amp-boilerplate>body{{-webkit-animation:none;-moz-animation:none;-ms-animation:none;animation:none}}</style></noscript>
<style amp-custom>.c-news__body{{max-width:768px;margin:0 auto}}.c-image-full__caption{{font-size:12px}}</style>
</head>
<body>
<header class="l-header"><a href="https://www.folha.example/"><amp-img src="https://static.folha.example/storage/folha/images/logo-folha.svg" width="160" height="24" alt="Folha de S.Paulo"></amp-img></a></header>
<article class="c-news"><h1>Xi Jinping e Putin se reúnem em Moscou</h1>
<div class="c-news__body">
<figure class="c-image-full"><amp-img src="{uol}/167941234564199a2b3c4d5_1679412345_3x2_md.jpg" srcset="{uol}/167941234564199a2b3c4d5_1679412345_3x2_md.jpg 768w, {uol}/167941234564199a2b3c4d5_1679412345_3x2_xl.jpg 1536w" width="768" height="512" layout="responsive" alt="Xi Jinping e Vladimir Putin no Kremlin"></amp-img><figcaption class="c-image-full__caption">Xi Jinping e Vladimir Putin no Kremlin - Sergei Karpukhin/AFP</figcaption></figure>
<p>O líder chinês, Xi Jinping, e o presidente russo, Vladimir Putin, tiveram nesta segunda-feira (20) uma conversa informal.</p>
<amp-img src="{uol}/1679412399abc_1679412399_3x2_rt.jpg" width="768" height="512" layout="responsive" alt=""><noscript><img src="{uol}/1679412399abc_1679412399_3x2_rt.jpg" width="768" height="512" alt=""></noscript></amp-img>
<amp-iframe src="https://www.youtube.example/embed/Xk3pA9b2cQ4?rel=0" width="560" height="315" layout="responsive" sandbox="allow-scripts allow-same-origin allow-popups" frameborder="0"><amp-img layout="fill" src="https://i.ytimg.example/vi/Xk3pA9b2cQ4/hqdefault.jpg" placeholder></amp-img></amp-iframe>
<amp-ad width="300" height="250" type="doubleclick" data-slot="/1234/folha/mundo/amp"></amp-ad>
</div></article>
<amp-analytics type="googleanalytics"><script type="application/json">{{"vars":{{"account":"UA-1234-1"}},"triggers":{{"trackPageview":{{"on":"visible","request":"pageview"}}}}}}</script></amp-analytics>
</body>
</html>
"#
    )
}

fn g1() -> String {
    let thumbor = |size: &str, name: &str| {
        format!(
            "https://s2-g1.glbimg.example/Xk3pA9b2cQ4rT5uV6wX7yZ8a9B0=/0x0:1920x1080/{size}/smart/filters:max_age(3600)/https://i.s3.glbimg.example/v1/AUTH_59edd422c0c84a879bd37670ae4f538a/internal_photos/bs/2023/q/7/{name}"
        )
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="pt-br">
<head>
<meta charset="utf-8">
<title>Xi Jinping e Putin se reúnem no Kremlin | Mundo | G1</title>
<link rel="stylesheet" href="https://s3.glbimg.example/cdn/libs/mc/2.9.0/css/materia.min.css">
<meta property="og:image" content="{og}">
<script src="https://s3.glbimg.example/cdn/libs/lazysizes/5.3.2/lazysizes.min.js" async></script>
</head>
<body>
<main class="mc-body theme">
<div class="mc-article-header"><h1 class="content-head__title">Xi Jinping e Putin se reúnem no Kremlin</h1></div>
<article><div class="mc-column content-media__container"><figure class="content-media-figure"><picture class="content-media__image"><source media="(max-width: 320px)" srcset="{s320}"><source media="(max-width: 480px)" srcset="{s480}"><source media="(min-width: 481px)" srcset="{s984}"><img src="{s984}" alt="Xi Jinping e Vladimir Putin no Kremlin" title="Xi Jinping e Vladimir Putin" class="content-media__image"></picture><figcaption class="content-media__description">Xi Jinping e Vladimir Putin no Kremlin — Foto: Sputnik/Reuters</figcaption></figure></div>
<p class="content-text__container">O presidente da China, Xi Jinping, se reuniu nesta segunda-feira (20) com Vladimir Putin.</p>
<div class="bstn-fd-picture-image lazyload" data-src="{lula}" style="height:200px"></div>
<p class="content-text__container">Lula deve visitar a China em abril.</p>
<figure><div class="content-media-figure" style="background-image: url(&quot;https://s2-g1.glbimg.example/mapa/0x0:1000x600/600x0/smart/filters:format(png)/https://i.s3.glbimg.example/v1/AUTH_59edd422/internal_photos/bs/2023/x/y/mapa-ucrania.png&quot;); height: 200px"></div></figure>
</article></main>
</body>
</html>
"#,
        og = thumbor("1200x0", "xi-putin-kremlin.jpg"),
        s320 = thumbor("320x0", "xi-putin-kremlin.jpg"),
        s480 = thumbor("480x0", "xi-putin-kremlin.jpg"),
        s984 = thumbor("984x0", "xi-putin-kremlin.jpg"),
        lula = thumbor("640x0", "lula-china.jpg"),
    )
}

fn wordpress() -> String {
    let photon = "https://i0.wp.example/dailyrecord.example/wp-content/uploads";
    let uploads = "https://dailyrecord.example/wp-content/uploads";
    format!(
        r#"<!doctype html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name='robots' content='index, follow, max-image-preview:large, max-snippet:-1, max-video-preview:-1' />
<title>City council approves budget &#8211; The Daily Record</title>
<link rel='dns-prefetch' href='//fonts.googleapis.example' />
<link rel='dns-prefetch' href='//i0.wp.example' />
<link rel="alternate" type="application/rss+xml" title="The Daily Record &raquo; Feed" href="https://dailyrecord.example/feed/" />
<script type="text/javascript">window._wpemojiSettings = {{"baseUrl":"https:\/\/s.w.example\/images\/core\/emoji\/14.0.0\/72x72\/","ext":".png"}};</script>
<style id='wp-block-library-inline-css' type='text/css'>.wp-block-cover{{min-height:200px;background-size:cover}}</style>
<link rel='stylesheet' id='newspack-style-css' href='https://dailyrecord.example/wp-content/themes/newspack-theme/style.css?ver=1.62.0' type='text/css' media='all' />
<link rel='stylesheet' id='font-awesome-css' href='https://cdnjs.cloudflare.example/ajax/libs/font-awesome/4.7.0/css/font-awesome.min.css?ver=6.2' type='text/css' media='all' />
<link rel='stylesheet' id='newspack-fonts-css' href='https://fonts.googleapis.example/css?family=Merriweather%3A400%2C700%7CRoboto%3A400&#038;display=swap' type='text/css' media='print' onload="this.media='all'" />
<link rel="stylesheet" href="https://dailyrecord.example/wp-content/cache/autoptimize/css/autoptimize_7f3c2a.css" media="none" onload="if(media!='all')media='all'"><noscript><link rel="stylesheet" href="https://dailyrecord.example/wp-content/cache/autoptimize/css/autoptimize_7f3c2a.css"></noscript>
<script type='text/javascript' src='https://dailyrecord.example/wp-includes/js/jquery/jquery.min.js?ver=3.6.1' id='jquery-core-js'></script>
<link rel="https://api.w.org/" href="https://dailyrecord.example/wp-json/" />
<link rel="EditURI" type="application/rsd+xml" title="RSD" href="https://dailyrecord.example/xmlrpc.php?rsd" />
<link rel="shortlink" href='https://wp.example/p9xyz-1a2' />
<meta property="og:image" content="{photon}/2023/03/council.jpg?fit=1200%2C800&#038;ssl=1" />
<link rel="icon" href="{photon}/2020/01/cropped-icon.png?fit=32%2C32&#038;ssl=1" sizes="32x32" />
<link rel="apple-touch-icon" href="{photon}/2020/01/cropped-icon.png?fit=180%2C180&#038;ssl=1" />
<meta name="msapplication-TileImage" content="{photon}/2020/01/cropped-icon.png?fit=270%2C270&#038;ssl=1" />
</head>
<body class="post-template-default single single-post postid-1234 single-format-standard">
<header id="masthead" class="site-header"><div class="site-branding"><a href="https://dailyrecord.example/" class="custom-logo-link" rel="home"><span class="site-title">The Daily Record</span></a></div>
<nav><a href="https://www.facebook.example/dailyrecord"><i class="fa fa-facebook" aria-hidden="true"></i></a></nav></header>
<main id="main" class="site-main"><article id="post-1234" class="post-1234 post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">City council approves budget</h1></header>
<figure class="post-thumbnail"><img width="1200" height="800" src="data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20viewBox='0%200%201200%20800'%3E%3C/svg%3E" class="attachment-newspack-featured-image size-newspack-featured-image wp-post-image" alt="" decoding="async" data-lazy-srcset="{photon}/2023/03/council.jpg?w=1200&amp;ssl=1 1200w, {photon}/2023/03/council.jpg?resize=300%2C200&amp;ssl=1 300w, {photon}/2023/03/council.jpg?resize=768%2C512&amp;ssl=1 768w, {photon}/2023/03/council.jpg?resize=1024%2C683&amp;ssl=1 1024w" data-lazy-sizes="(max-width: 1200px) 100vw, 1200px" data-lazy-src="{photon}/2023/03/council.jpg?fit=1200%2C800&amp;ssl=1" /><noscript><img width="1200" height="800" src="{photon}/2023/03/council.jpg?fit=1200%2C800&amp;ssl=1" class="attachment-newspack-featured-image size-newspack-featured-image wp-post-image" alt="" decoding="async" srcset="{photon}/2023/03/council.jpg?w=1200&amp;ssl=1 1200w, {photon}/2023/03/council.jpg?resize=300%2C200&amp;ssl=1 300w" sizes="(max-width: 1200px) 100vw, 1200px" /></noscript><figcaption>The council chamber on Tuesday. Photo by Jane Doe</figcaption></figure>
<div class="entry-content">
<p>The city council voted 7-2 on Tuesday to approve the $48 million budget for the fiscal year.</p>
<figure class="wp-block-image size-large"><img decoding="async" loading="lazy" width="1024" height="683" src="{uploads}/2023/03/meeting-1024x683.jpg" alt="" class="wp-image-1235" srcset="{uploads}/2023/03/meeting-1024x683.jpg 1024w, {uploads}/2023/03/meeting-300x200.jpg 300w, {uploads}/2023/03/meeting-768x512.jpg 768w, {uploads}/2023/03/meeting.jpg 1200w" sizes="(max-width: 1024px) 100vw, 1024px" /></figure>
<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube"><div class="wp-block-embed__wrapper"><iframe title="Council meeting, March 21" width="500" height="281" src="about:blank" data-rocket-lazyload="fitvidscompatible" data-lazy-src="https://www.youtube.example/embed/dQw4w9WgXcQ?feature=oembed" frameborder="0" allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" allowfullscreen></iframe><noscript><iframe title="Council meeting, March 21" width="500" height="281" src="https://www.youtube.example/embed/dQw4w9WgXcQ?feature=oembed" frameborder="0" allowfullscreen></iframe></noscript></div></figure>
<div class="wp-block-cover"><span aria-hidden="true" class="wp-block-cover__background has-background-dim"></span><img decoding="async" loading="lazy" width="1200" height="600" class="wp-block-cover__image-background wp-image-1240" alt="" src="{uploads}/2023/03/cover-park.jpg" data-object-fit="cover"/><div class="wp-block-cover__inner-container"><p class="has-text-align-center">Parks get $2 million</p></div></div>
<p>Mayor Smith said the budget &#8220;keeps the promises we made.&#8221;</p>
</div>
<footer class="entry-footer"><span class="cat-links"><a href="https://dailyrecord.example/category/local/" rel="category tag">Local</a></span> <a href="https://dailyrecord.example/?s=budget&#038;post_type=post">More on the budget</a></footer>
</article></main>
<script type='text/javascript' id='rocket-lazyload-js' src='https://dailyrecord.example/wp-content/plugins/wp-rocket/assets/js/lazyload/17.8.3/lazyload.min.js'></script>
</body>
</html>
"#
    )
}

/// A `next/image` URL for an image and a width, as Next.js writes it.
fn next_image(src: &str, width: u32) -> String {
    let url: String = url::form_urlencoded::byte_serialize(src.as_bytes()).collect();
    format!("/_next/image?url={url}&amp;w={width}&amp;q=75")
}

fn nextjs_article() -> String {
    nextjs(6)
}

fn nextjs_front() -> String {
    nextjs(12)
}

/// A Next.js page: a hero image and `cards` stories, every image through `next/image`.
fn nextjs(cards: u32) -> String {
    const DEVICE: &[u32] = &[640, 750, 828, 1080, 1200, 1920, 2048, 3840];
    const CARD: &[u32] = &[256, 384, 640, 750, 828, 1080, 1200, 1920, 2048, 3840];
    let srcset = |src: &str, widths: &[u32]| {
        widths
            .iter()
            .map(|w| format!("{} {w}w", next_image(src, *w)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let hero = srcset("/images/hero.jpg", DEVICE);
    let mut list = String::new();
    for n in 1..=cards {
        let src = format!("https://cdn.courier.example/uploads/story-{n}.jpg");
        write!(
            list,
            r#"<li class="Card_card__x1"><a href="/politics/2023/03/20/story-{n}"><div class="Card_media__a2"><img alt="" loading="lazy" decoding="async" data-nimg="fill" style="position:absolute;height:100%;width:100%;left:0;top:0;right:0;bottom:0;object-fit:cover;color:transparent" sizes="(max-width: 768px) 100vw, 33vw" srcSet="{set}" src="{fallback}"/></div><h3>Story {n}</h3></a></li>"#,
            set = srcset(&src, CARD),
            fallback = next_image(&src, 3840),
        )
        .unwrap();
    }
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><meta name="viewport" content="width=device-width"/><title>Xi and Putin pledge ‘new era’ at Moscow summit | The Courier</title><meta property="og:image" content="https://cdn.courier.example/uploads/hero-og.jpg"/><link rel="preload" as="image" imageSrcSet="{hero}" imageSizes="100vw" fetchpriority="high"/><link rel="preload" href="/_next/static/media/a34f9d1faa5f3315-s.p.woff2" as="font" type="font/woff2" crossorigin="anonymous" data-next-font="size-adjust"/><link rel="preload" href="/_next/static/css/6a1b2c3d4e5f7a8b.css" as="style"/><link rel="stylesheet" href="/_next/static/css/6a1b2c3d4e5f7a8b.css" data-n-g=""/><noscript data-n-css=""></noscript><script defer="" nomodule="" src="/_next/static/chunks/polyfills-c67a75d1b6f99dc8.js"></script><script src="/_next/static/chunks/webpack-8fa1640cc84ba8fe.js" defer=""></script><script src="/_next/static/chunks/framework-2c79e2a64abdb08b.js" defer=""></script><script src="/_next/static/chunks/main-b7ab9d8ffd0b6d3f.js" defer=""></script><script src="/_next/static/chunks/pages/%5Bsection%5D/%5B...slug%5D-1f2e3d4c5b6a7980.js" defer=""></script><script src="/_next/static/Kq9vXb2_buildId/_buildManifest.js" defer=""></script><script src="/_next/static/Kq9vXb2_buildId/_ssgManifest.js" defer=""></script></head><body><div id="__next"><div class="__className_aaf875"><header class="Header_header__q1"><a href="/"><img alt="The Courier" loading="lazy" width="180" height="32" decoding="async" data-nimg="1" style="color:transparent" src="/logo.svg"/></a></header><main><article><h1>Xi and Putin pledge ‘new era’ at Moscow summit</h1><figure class="Hero_figure__z9" style="position:relative;aspect-ratio:16/9"><img alt="Xi Jinping and Vladimir Putin" fetchpriority="high" decoding="async" data-nimg="fill" style="position:absolute;height:100%;width:100%;left:0;top:0;right:0;bottom:0;color:transparent" sizes="100vw" srcSet="{hero}" src="{hero_src}"/><figcaption>Xi Jinping and Vladimir Putin in Moscow.</figcaption></figure><p>The leaders of China and Russia signed a series of agreements on Tuesday.</p></article><section><h2>More in Politics</h2><ul class="Grid_grid__c3">{list}</ul></section></main></div></div><script id="__NEXT_DATA__" type="application/json">{{"props":{{"pageProps":{{"slug":["2023","03","21","xi-putin-summit"]}}}},"page":"/[section]/[...slug]","query":{{}},"buildId":"Kq9vXb2_buildId","isFallback":false,"gsp":true,"scriptLoader":[]}}</script></body></html>"#,
        hero_src = next_image("/images/hero.jpg", 3840),
    )
}

/// A stylesheet the fixture serves, by host and path.
fn stylesheet(host: &str, path: &str) -> Option<&'static str> {
    Some(match (host, path) {
        ("www.cna.example", "/css/cna.css") => {
            ".header{height:40px} .shareBar img{width:16px} .centralContent h1{font-size:24px}"
        }
        // Minified, in Shift_JIS: 能 ends in the byte of `\`, which read as any other
        // encoding escapes the string's closing quote and swallows the rest of the line.
        ("www.asahi.example", "/css/common.css") => {
            "@charset \"Shift_JIS\";#Header{border-bottom:1px solid #ccc}#GlobalNav li{display:inline}.Tag li.new:after{content:\"新機能\"}#Footer .logo{display:block;width:120px;height:20px;background:url(../img/logo_footer.png) no-repeat}body{font-family:\"ヒラギノ角ゴ Pro W3\",\"メイリオ\",Meiryo,\"ＭＳ Ｐゴシック\",sans-serif}"
        }
        ("www.asahicom.example", "/css/article_v2.css") => ".Image img{max-width:100%}",
        ("www.chiho-shimbun.example", "/common/css/style.css") => {
            "body{font-size:14px} td.main{padding:8px} p.date{color:#666}"
        }
        ("static.files.bbci.example", "/core/bundle-defaults.3d1f0a2b.css") => {
            "@font-face{font-family:ReithSans;src:url(/fonts/reith/2.512/BBCReithSans_W_Rg.woff2) format(\"woff2\"),url(/fonts/reith/2.512/BBCReithSans_W_Rg.woff) format(\"woff\");font-display:swap}\nbody{font-family:ReithSans,Helvetica,Arial,sans-serif}"
        }
        ("www.spiegel.example", "/public/spon/generated/web/css/style.a1b2c3d4.css") => {
            "@charset \"UTF-8\";\n@import url(\"components/teaser.css\");\n.lazyload,.lazyloading{opacity:0}.lazyloaded{opacity:1;transition:opacity .3s}\n@font-face{font-family:SpiegelSans;src:url(../../../fonts/SpiegelSans-Regular.woff2) format(\"woff2\"),url(../../../fonts/SpiegelSans-Regular.woff) format(\"woff\");font-weight:400;font-display:swap}\n@font-face{font-family:SpiegelSerifText;src:url('../../../fonts/SpiegelSerifText-Regular.woff2') format('woff2');font-display:swap}\nbody{font-family:SpiegelSans,Arial,sans-serif}.RichText p{font-family:SpiegelSerifText,Georgia,serif}\n.paywall-badge{display:inline-block;width:20px;height:20px;background:url(../../../images/icons/paywall-badge.svg) no-repeat}"
        }
        ("www.spiegel.example", "/public/spon/generated/web/css/components/teaser.css") => {
            ".teaser-bg{display:block;height:40px;background-image:url(../../../../images/teaser-bg.png)}"
        }
        ("static.zeit.example", "/p/zeit.web/css/web.site/screen.css") => {
            "@font-face{font-family:\"Tablet Gothic\";src:url(../../fonts/TabletGothic-Regular.woff2) format(\"woff2\");font-display:swap}\n@font-face{font-family:Tiempos;src:url(../../fonts/TiemposText-Regular.woff2) format(\"woff2\");font-display:swap}\nbody{font-family:\"Tablet Gothic\",sans-serif}.paragraph{font-family:Tiempos,serif}\n.z-logo{display:block;width:120px;height:30px;background-image:url(../../img/z-logo.png);background-image:image-set(url(../../img/z-logo.avif) type(\"image/avif\") 1x,url(../../img/z-logo.png) type(\"image/png\") 1x)}"
        }
        ("s1.lemde.example", "/mmpub/css/") => {
            "@font-face{font-family:TheAntiquaB;src:url(https://www.lemonde.example/dist/assets/fonts/TheAntiquaB-W6SemiBold.woff2) format(\"woff2\");font-weight:600;font-display:swap}\n.article__title{font-family:TheAntiquaB,Georgia,serif}.Header__logo .logo{display:block;width:150px;height:30px;background:url(/mmpub/img/le-monde.svg) no-repeat}"
        }
        ("static.folha.example", "/storage/folha/css/folha.article.css") => {
            ".c-news__body{max-width:768px}.c-image-full__image{width:100%;height:auto}"
        }
        ("s3.glbimg.example", "/cdn/libs/mc/2.9.0/css/materia.min.css") => {
            ".content-media__image{width:100%}.bstn-fd-picture-image{background-size:cover}"
        }
        ("dailyrecord.example", "/wp-content/themes/newspack-theme/style.css") => {
            "body{font-family:Merriweather,Georgia,serif}.entry-title{font-family:Roboto,sans-serif}"
        }
        ("cdnjs.cloudflare.example", "/ajax/libs/font-awesome/4.7.0/css/font-awesome.min.css") => {
            "/*!\n *  Font Awesome 4.7.0 by @davegandy - http://fontawesome.io - @fontawesome\n */@font-face{font-family:'FontAwesome';src:url('../fonts/fontawesome-webfont.eot?v=4.7.0');src:url('../fonts/fontawesome-webfont.eot?#iefix&v=4.7.0') format('embedded-opentype'),url('../fonts/fontawesome-webfont.woff2?v=4.7.0') format('woff2'),url('../fonts/fontawesome-webfont.woff?v=4.7.0') format('woff'),url('../fonts/fontawesome-webfont.ttf?v=4.7.0') format('truetype'),url('../fonts/fontawesome-webfont.svg?v=4.7.0#fontawesomeregular') format('svg');font-weight:normal;font-style:normal}.fa{display:inline-block;font:normal normal normal 14px/1 FontAwesome}.fa-facebook:before{content:\"\\f09a\"}"
        }
        ("fonts.googleapis.example", "/css") => {
            "/* latin */\n@font-face {\n  font-family: 'Merriweather';\n  font-style: normal;\n  font-weight: 400;\n  font-display: swap;\n  src: url(https://fonts.gstatic.example/s/merriweather/v30/u-440qyriQwlOrhSvowK_l5-fCZM.woff2) format('woff2');\n  unicode-range: U+0000-00FF, U+0131, U+0152-0153;\n}\n/* latin */\n@font-face {\n  font-family: 'Roboto';\n  font-style: normal;\n  font-weight: 400;\n  font-display: swap;\n  src: url(https://fonts.gstatic.example/s/roboto/v30/KFOmCnqEu92Fr1Mu4mxK.woff2) format('woff2');\n  unicode-range: U+0000-00FF, U+0131, U+0152-0153;\n}\n"
        }
        ("dailyrecord.example", "/wp-content/cache/autoptimize/css/autoptimize_7f3c2a.css") => {
            ".site-header{min-height:60px;background:#fff url(../../../themes/newspack-theme/img/header-texture.png) repeat-x}"
        }
        ("www.courier.example", "/_next/static/css/6a1b2c3d4e5f7a8b.css") => {
            "@font-face{font-family:'__Inter_aaf875';font-style:normal;font-weight:100 900;font-display:swap;src:url(/_next/static/media/a34f9d1faa5f3315-s.p.woff2) format(\"woff2\")}.__className_aaf875{font-family:'__Inter_aaf875','__Inter_Fallback_aaf875'}.Card_media__a2{position:relative;aspect-ratio:16/9}"
        }
        _ => return None,
    })
}

/// The YouTube embed a page frames: a player page with its poster image and scripts.
const EMBED: &str = r#"<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charset="utf-8"><title>Video</title>
<link rel="stylesheet" href="https://www.youtube.example/s/player/1d2a3b4c/www-player.css" name="www-player">
<script src="https://www.youtube.example/s/player/1d2a3b4c/player_ias.vflset/en_US/base.js" nonce="abc"></script></head>
<body><div id="player"><div class="ytp-cued-thumbnail-overlay-image" style="background-image: url(&quot;https://i.ytimg.example/vi/Xk3pA9b2cQ4/hqdefault.jpg&quot;);height:315px"></div></div></body></html>"#;

/// Hosts that answer nothing a crawl keeps, as ad servers and trackers refusing a crawler do.
const REFUSING: &[&str] = &[
    "www.googletagmanager.example",
    "www.google-analytics.example",
    "securepubads.g.doubleclick.example",
    "sb.scorecardresearch.example",
    "static.chartbeat.example",
    "sp-spiegel-de.spiegel.example",
    "cmp.zeit.example",
    "tm.uol.example",
    "www.facebook.example",
    "wp.example",
];

/// Every host of the fixture web.
fn hosts() -> Vec<&'static str> {
    let mut hosts = vec![
        "www.cna.example",
        "imgcdn.cna.example",
        "www.asahi.example",
        "www.asahicom.example",
        "www.chiho-shimbun.example",
        "www.theguardian.example",
        "i.guim.example",
        "assets.guim.example",
        "static.guim.example",
        "uploads.guim.example",
        "www.bbc.example",
        "ichef.bbci.example",
        "static.files.bbci.example",
        "www.spiegel.example",
        "cdn.prod.www.spiegel.example",
        "www.zeit.example",
        "img.zeit.example",
        "static.zeit.example",
        "www.lemonde.example",
        "s1.lemde.example",
        "img.lemde.example",
        "www1.folha.example",
        "www.folha.example",
        "f.i.uol.example",
        "static.folha.example",
        "cdn.ampproject.example",
        "g1.globo.example",
        "s2-g1.glbimg.example",
        "s3.glbimg.example",
        "i.s3.glbimg.example",
        "dailyrecord.example",
        "i0.wp.example",
        "s.w.example",
        "cdnjs.cloudflare.example",
        "fonts.googleapis.example",
        "fonts.gstatic.example",
        "www.courier.example",
        "cdn.courier.example",
        "www.youtube.example",
        "i.ytimg.example",
    ];
    hosts.extend(REFUSING);
    hosts
}

/// An answer: status, content type, body.
type Answer = (&'static str, String, Vec<u8>);

/// The fixture's answer to a request: a pure function of host and target, so the test can
/// tell what each URL was.
fn answer(host: &str, target: &str) -> Answer {
    let host = host.split(':').next().unwrap_or(host);
    let path = target.split('?').next().unwrap_or_default();
    let not_found = || {
        (
            "404 Not Found",
            "text/html".to_string(),
            b"<h1>404</h1>".to_vec(),
        )
    };
    if REFUSING.contains(&host) || path == "/robots.txt" {
        return not_found();
    }
    let url = format!("https://{host}{target}");
    if let Some(page) = PAGES.iter().find(|p| p.url == url) {
        return (
            "200 OK",
            page.content_type.to_string(),
            encode(page.encoding, &(page.markup)()),
        );
    }
    if let Some(css) = stylesheet(host, path) {
        // A stylesheet is in the encoding its `@charset` names.
        let charset = css
            .strip_prefix("@charset \"")
            .and_then(|rest| rest.split_once('"'))
            .map_or("utf-8", |(label, _)| label);
        return ("200 OK", "text/css".to_string(), encode(charset, css));
    }
    if host == "www.youtube.example" && path.starts_with("/embed/") {
        return ("200 OK", "text/html; charset=utf-8".into(), EMBED.into());
    }
    let found = |mime: &str, body: Vec<u8>| ("200 OK", mime.to_string(), body);
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("js") if host == "cdn.ampproject.example" && path == "/v0.js" => {
            found("text/javascript", AMP_RUNTIME.into())
        }
        // AMP's extensions (`amp-iframe`, `amp-analytics`) add nothing a test looks at.
        Some("js") if host == "cdn.ampproject.example" => found("text/javascript", Vec::new()),
        Some("js") => found("application/javascript", LOADER.into()),
        Some("woff2") => found("font/woff2", font(&url)),
        Some("woff") => found("font/woff", font(&url)),
        Some("ttf") => found("font/ttf", font(&url)),
        Some("eot") => found("application/vnd.ms-fontobject", font(&url)),
        Some("svg") => found("image/svg+xml", svg(path).into_bytes()),
        Some("jpg" | "jpeg") => found("image/jpeg", png(&url)),
        Some("png") => found("image/png", png(&url)),
        Some("gif") => found("image/gif", png(&url)),
        Some("webp") => found("image/webp", png(&url)),
        Some("avif") => found("image/avif", png(&url)),
        Some("ico") => found("image/x-icon", png(&url)),
        Some("mp4") => found("video/mp4", url.into_bytes()),
        // Image services name no extension: Zeit's crops, Next.js' optimizer.
        _ if host == "img.zeit.example" => found("image/jpeg", png(&url)),
        _ if path == "/_next/image" => found("image/webp", png(&url)),
        _ => not_found(),
    }
}

fn encode(label: &str, text: &str) -> Vec<u8> {
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "the {label} page has text {label} cannot hold");
    bytes.into_owned()
}

/// An SVG document: a sprite with the symbols pages `<use>`, or a logo.
fn svg(path: &str) -> String {
    if path.ends_with("blq-orbit-blocks_grey.svg") {
        r#"<?xml version="1.0" encoding="utf-8"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><symbol id="orbit-logo" viewBox="0 0 84 24"><path d="M0 0h24v24H0zM30 0h24v24H30zM60 0h24v24H60z"/></symbol></svg>"#.to_string()
    } else {
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30" viewBox="0 0 120 30"><rect width="120" height="30" fill="#111"/></svg>"##.to_string()
    }
}

/// A font file's bytes: a WOFF2 signature and the URL. Browsers fetch it as any font and
/// reject its tables, which is all a test of loading needs.
fn font(url: &str) -> Vec<u8> {
    [b"wOF2\x00\x01\x00\x00".as_slice(), url.as_bytes()].concat()
}

/// A decodable PNG, 2000 pixels wide and 1 high, naming `label` in a text chunk: wide enough
/// that any `srcset` candidate a page offers keeps a natural width of a pixel or more at the
/// density the browser gives it.
fn png(label: &str) -> Vec<u8> {
    const WIDTH: u32 = 2000;
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut header = WIDTH.to_be_bytes().to_vec();
    header.extend_from_slice(&1u32.to_be_bytes());
    // One bit a pixel, greyscale, no interlace.
    header.extend_from_slice(&[1, 0, 0, 0, 0]);
    let mut row = vec![0u8];
    row.resize(1 + WIDTH.div_ceil(8) as usize, 0x5a);
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    deflate.write_all(&row).unwrap();
    let data = deflate.finish().unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"tEXt", &[b"label\0", label.as_bytes()].concat());
    chunk(&mut out, b"IDAT", &data);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn wild_web() -> HttpsFixture {
    let handler: Handler = Arc::new(|request| {
        let (status, content_type, body) = answer(&request.host, &request.target);
        vec![Step::Send(response(status, &content_type, &body))]
    });
    HttpsFixture::start(&hosts(), handler).unwrap()
}

/// The media type a URL was served with, if it was found.
fn served(url: &Url) -> Option<String> {
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let (status, content_type, _) = answer(url.host_str()?, &target);
    (status == "200 OK").then_some(content_type)
}

/// Where the offline copy holds a URL, relative to its root.
fn offline_file(url: &Url) -> Option<PathBuf> {
    served(url).map(|mime| cairn::export::offline_path(url, &mime))
}

/// The offline copy's files a page requested, relative to the copy's root.
fn requested_files(seen: &Seen, root: &Path) -> Vec<PathBuf> {
    seen.requests
        .iter()
        .filter_map(|r| Url::parse(r).ok()?.to_file_path().ok())
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect()
}

/// Whether a live request was for a file the page shows or styles with: an image, a font,
/// a stylesheet.
fn is_shown(mime: &str) -> bool {
    mime.starts_with("image/") || mime.starts_with("font/") || mime.starts_with("text/css")
}

#[test]
fn real_news_pages_show_offline_as_they_did_live_with_no_request() {
    if !requires(&["chromium", "python3", "python:websockets"]) {
        return;
    }
    let problems = live_and_offline(PAGES, "wild");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The same pages replayed (issue 19), with the client layer in each: what a page showed
/// live it shows in replay, every request stays on the replay server, no load fails, no
/// image is broken, only documents (the page, its frames) are redirected, and no script
/// throws that did not throw live. Beside pywb 2.10 replaying the same files (gzip WARCs,
/// frameless), cairn's replay fails no more loads, breaks no more images, lets no more
/// requests out and takes no more redirects.
#[test]
fn real_news_pages_replay_as_they_ran_live_and_no_worse_than_in_pywb() {
    if !requires(&[
        "chromium",
        "python3",
        "python:websockets",
        "wayback",
        "wb-manager",
    ]) {
        return;
    }
    let gzip = ["--compression", "gzip"];
    let (live, work, artifacts) = live_then_archived(PAGES, "wild-replay", &gzip);
    let archives = work.path().join("archives");
    let server = crate::replay::ReplayServer::start(&archives);
    let replayed = open_replayed(&server.origin, &artifacts.join("wild-replayed.png"));
    let mut problems = Vec::new();
    for ((page, live), replayed) in PAGES.iter().zip(&live).zip(&replayed) {
        problems.extend(
            compare_replayed(page, live, replayed, &server.origin)
                .into_iter()
                .map(|p| format!("{}: {p}", page.name)),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let root = work.path().join("pywb");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("config.yaml"), "framed_replay: false\n").unwrap();
    let files: Vec<PathBuf> = fs::read_dir(archives.join("default/warc"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    let pywb = crate::peers::Pywb::start_adding(&root, &[], &files);
    let by_pywb = open_replayed(&pywb.origin, &artifacts.join("wild-pywb.png"));
    let (cairn, pywb) = (
        Faults::of(&replayed, &server.origin),
        Faults::of(&by_pywb, &pywb.origin),
    );
    eprintln!(
        "{} pages replayed: cairn {cairn:?}; pywb {pywb:?}",
        PAGES.len()
    );
    assert!(
        cairn.failed <= pywb.failed
            && cairn.broken <= pywb.broken
            && cairn.escaped <= pywb.escaped
            && cairn.hops <= pywb.hops,
        "cairn {cairn:?}; pywb {pywb:?}"
    );
}

/// Every wild page opened from a replay server at `origin`.
fn open_replayed(origin: &str, screenshot: &Path) -> Vec<Seen> {
    let pages: Vec<String> = PAGES
        .iter()
        .map(|p| format!("{origin}/default/2030/{}", p.url))
        .collect();
    open_in_chromium(&pages, &[], screenshot)
}

/// What went wrong in a replay, over all its pages, as the acceptance runs count it.
#[derive(Debug)]
struct Faults {
    /// Loads that failed (refused, blocked by a policy, not reached).
    failed: usize,
    /// Images with a source that did not decode.
    broken: usize,
    /// Requests beyond the replay server.
    escaped: usize,
    /// Redirects of anything but a page.
    hops: usize,
}

impl Faults {
    fn of(pages: &[Seen], origin: &str) -> Faults {
        let count = |f: &dyn Fn(&Seen) -> usize| pages.iter().map(f).sum();
        Faults {
            failed: count(&|p| p.failed.len()),
            broken: count(&|p| {
                p.images
                    .iter()
                    .filter(|(src, width)| !src.is_empty() && *width == 0)
                    .count()
            }),
            escaped: count(&|p| {
                p.requests
                    .iter()
                    .filter(|r| !r.starts_with(&format!("{origin}/")) && !r.starts_with("data:"))
                    .count()
            }),
            hops: count(&|p| p.redirected.iter().filter(|t| *t != "Document").count()),
        }
    }
}

/// What differs between a page live and replayed, or should not happen in replay.
fn compare_replayed(page: &WildPage, live: &Seen, replayed: &Seen, origin: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let escaped: Vec<&String> = replayed
        .requests
        .iter()
        .filter(|r| !r.starts_with(&format!("{origin}/")) && !r.starts_with("data:"))
        .collect();
    if !escaped.is_empty() {
        problems.push(format!("requests beyond the replay server: {escaped:?}"));
    }
    if !replayed.failed.is_empty() {
        problems.push(format!("failed loads: {:?}", replayed.failed));
    }
    if (&live.title, &live.charset) != (&replayed.title, &replayed.charset) {
        problems.push(format!(
            "read as {:?} {:?} live, {:?} {:?} replayed",
            live.charset, live.title, replayed.charset, replayed.title
        ));
    }
    let shown = |seen: &Seen| seen.images.iter().filter(|(_, w)| *w > 0).count();
    if shown(replayed) < shown(live) || replayed.images.len() != live.images.len() {
        problems.push(format!(
            "{} of {} images shown live, {} of {} replayed",
            shown(live),
            live.images.len(),
            shown(replayed),
            replayed.images.len()
        ));
    }
    // Documents (the page, its frames) go to their captures' timestamps; nothing else does.
    if replayed.redirected.iter().any(|kind| kind != "Document") {
        problems.push(format!("redirected: {:?}", replayed.redirected));
    }
    if replayed.exceptions.len() > live.exceptions.len() {
        problems.push(format!(
            "scripts threw {:?} replayed, {:?} live",
            replayed.exceptions, live.exceptions
        ));
    }
    // Every file the page loaded live, it loads replayed, from the archive.
    for request in &live.requests {
        let Ok(url) = Url::parse(request) else {
            continue;
        };
        // (A placeholder a lazy loader replaces live, replay replaces before it loads.)
        if served(&url).is_none_or(|m| !is_shown(&m))
            || url.path() == "/favicon.ico"
            || page.replaced.iter().any(|p| request.contains(p))
        {
            continue;
        }
        if !replayed
            .requests
            .iter()
            .any(|r| r.ends_with(&format!("/{request}")))
        {
            problems.push(format!("{request} loaded live, not replayed"));
        }
    }
    problems
}

/// Opens `pages` live (its screenshot `NAME-live.png`), then archives them into the
/// returned folder's `archives/`: what each showed live, the folder, the artifacts folder.
fn live_then_archived(
    pages: &[WildPage],
    name: &str,
    options: &[&str],
) -> (Vec<Seen>, tempfile::TempDir, std::path::PathBuf) {
    let web = wild_web();
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    fs::create_dir_all(&artifacts).unwrap();
    let live_pages: Vec<String> = pages.iter().map(|p| p.url.to_string()).collect();
    let hosts = hosts();
    let mapped: Vec<(&str, u16)> = hosts.iter().map(|h| (*h, web.port)).collect();
    let live = open_in_chromium(
        &live_pages,
        &mapped,
        &artifacts.join(format!("{name}-live.png")),
    );

    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let targets: Vec<&str> = live_pages.iter().map(String::as_str).collect();
    let options = [&["--no-progress", "--depth", "0"], options].concat();
    archive_ok(&archives, &web, &options, &targets);
    (live, work, artifacts)
}

/// Opens `pages` live, archives them, opens their offline copies: what differs, page by page.
fn live_and_offline(pages: &[WildPage], name: &str) -> Vec<String> {
    let (live, work, artifacts) = live_then_archived(pages, name, &[]);
    let root = work.path().join("archives/default/offline");
    let offline_pages: Vec<String> = pages
        .iter()
        .map(|p| {
            let file = root.join(offline_file(&Url::parse(p.url).unwrap()).unwrap());
            assert!(file.is_file(), "no offline copy of {}", p.name);
            Url::from_file_path(file).unwrap().to_string()
        })
        .collect();
    let screenshot = artifacts.join(format!("{name}-offline.png"));
    let offline = open_in_chromium(&offline_pages, &[], &screenshot);

    let mut problems = Vec::new();
    for ((page, live), offline) in pages.iter().zip(&live).zip(&offline) {
        problems.extend(
            compare(page, live, offline, &root)
                .into_iter()
                .map(|p| format!("{}: {p}", page.name)),
        );
    }
    problems
}

/// What differs between a page live and its offline copy, or is missing from the copy.
fn compare(page: &WildPage, live: &Seen, offline: &Seen, root: &Path) -> Vec<String> {
    let mut problems = uncontained(offline);
    if (&live.title, &live.charset) != (&offline.title, &offline.charset) {
        problems.push(format!(
            "read as {:?} {:?} live, {:?} {:?} offline",
            live.charset, live.title, offline.charset, offline.title
        ));
    }

    // Image by image: the offline copy may pick another `srcset` candidate, but shows each
    // image the page showed, and lets it be seen.
    if live.images.len() == offline.images.len() {
        for (i, ((live_src, live_width), (offline_src, offline_width))) in
            live.images.iter().zip(&offline.images).enumerate()
        {
            if *live_width == 0 || live_src.starts_with("data:") {
                continue;
            }
            if *offline_width == 0 {
                problems.push(format!(
                    "{live_src} shown live, not offline ({offline_src:?})"
                ));
            } else if live.visible[i] && !offline.visible[i] {
                problems.push(format!(
                    "{live_src} seen live, hidden offline ({offline_src:?})"
                ));
            }
        }
    } else {
        problems.push(format!(
            "{} images live, {} offline",
            live.images.len(),
            offline.images.len()
        ));
    }

    // Every other file the page showed or styled itself with live (backgrounds, fonts,
    // stylesheets) is loaded offline.
    let files = requested_files(offline, root);
    let image_sources: Vec<&str> = live.images.iter().map(|(s, _)| s.as_str()).collect();
    for request in &live.requests {
        let Ok(url) = Url::parse(request) else {
            continue;
        };
        let Some(mime) = served(&url).filter(|m| is_shown(m)) else {
            continue;
        };
        if image_sources.contains(&request.as_str())
            || page.replaced.iter().any(|p| request.contains(p))
            // Chromium asks an http page's host for its icon unasked, a file's never.
            || url.path() == "/favicon.ico"
        {
            continue;
        }
        let file = cairn::export::offline_path(&url, &mime);
        if !files.contains(&file) {
            problems.push(format!("{request} ({mime}) loaded live, not offline"));
        }
    }
    for shown in page.shows {
        if !files.iter().any(|f| f.to_string_lossy().contains(shown)) {
            problems.push(format!("{shown} not shown offline"));
        }
    }
    for captured in page.captures {
        let url = Url::parse(captured).unwrap();
        let file = offline_file(&url).map(|f| root.join(f));
        if !file.as_deref().is_some_and(Path::is_file) {
            problems.push(format!("{captured} not in the offline copy ({file:?})"));
        }
    }

    // A link to what was not archived leads where it led live.
    if live.links.len() == offline.links.len() {
        for (live_link, offline_link) in live.links.iter().zip(&offline.links) {
            if !offline_link.starts_with("file:") && live_link != offline_link {
                problems.push(format!(
                    "a link to {live_link} leads offline to {offline_link}"
                ));
            }
        }
    } else {
        problems.push(format!(
            "{} links live, {} offline",
            live.links.len(),
            offline.links.len()
        ));
    }
    problems
}
