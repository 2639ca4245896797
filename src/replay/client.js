// cairn's client-side layer for replay, served at /.cairn/client.js and put first in every
// replayed page (see replay::client). The server rewrites every reference it can see; this
// maps the ones a page's scripts build as it runs (a `src` set by a script, markup written
// with document.write, a stylesheet or a script added to the page, a `fetch`, an XHR, a font
// face built from JSON, a rule inserted into a style sheet, a history entry) into the archive
// at the page's capture time, and lets the page read its own, original address through
// `location`. It is never needed for what the server already rewrote, and it is no fence: the
// Content-Security-Policy is, whatever a page does to this script.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__cairn) {
    return;
  }
  const collection = script.dataset.collection;
  const timestamp = script.dataset.timestamp;
  const capturedUrl = script.dataset.url;
  const realLocation = window.location;
  const replayOrigin = realLocation.origin;
  const collectionPrefix = "/" + collection + "/";
  // `/COLL/TIMESTAMP[mod_]/URL`, as the server's addresses read.
  const ARCHIVED = /^\/[^/]+\/\d{1,14}(?:[a-z]{2}_)?\/(https?:\/\/.*)$/is;
  // What no archive holds: fragments, inline data, scripts, other apps' schemes, templates.
  const LEFT_AS_IS = /^\s*(?:#|data:|blob:|javascript:|about:|mailto:|tel:|sms:|urn:|\{)/i;

  /** The original URL an address of this server names, or null for any other. */
  function archivedUrlOf(address) {
    let url;
    try {
      url = new URL(address, realLocation.href);
    } catch (error) {
      return null;
    }
    if (url.origin !== replayOrigin || !url.pathname.startsWith(collectionPrefix)) {
      return null;
    }
    const match = ARCHIVED.exec(url.pathname + url.search);
    return match ? match[1] + url.hash : null;
  }

  /** The page's original URL, as history has moved it. */
  function pageUrl() {
    return archivedUrlOf(realLocation.href) || capturedUrl;
  }

  /** What a relative reference resolves against: the page's `<base>`, else its URL. */
  function baseUrl() {
    return archivedUrlOf(document.baseURI) || pageUrl();
  }

  /** `value` as an address in the archive, the one the server writes (no modifier: the
   *  browser's `Sec-Fetch-Mode` tells the server an embed from a page), so a resource has one
   *  address whoever wrote it, and one place in the browser's cache. */
  function toArchive(value) {
    if (value === null || value === undefined) {
      return value;
    }
    const text = String(value).trim();
    if (text === "" || LEFT_AS_IS.test(text)) {
      return value;
    }
    if (text.startsWith(collectionPrefix) && ARCHIVED.test(text)) {
      return value;
    }
    let url;
    try {
      url = new URL(text, baseUrl());
    } catch (error) {
      return value;
    }
    if (url.origin === replayOrigin) {
      if (archivedUrlOf(url.href) !== null) {
        return url.href;
      }
      // A path a script put on this server's origin (`location.origin + "/api"` read
      // before this layer): it is the page's own origin's.
      url = new URL(url.pathname + url.search + url.hash, new URL(pageUrl()).origin);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return value;
    }
    return replayOrigin + collectionPrefix + timestamp + "/" + url.href;
  }

  /** A `srcset`, each candidate's URL in the archive, descriptors kept. */
  function srcsetToArchive(value) {
    const text = String(value);
    const candidates = [];
    let at = 0;
    while (at < text.length) {
      while (at < text.length && /[\s,]/.test(text[at])) {
        at += 1;
      }
      if (at >= text.length) {
        break;
      }
      let end = at;
      while (end < text.length && !/\s/.test(text[end])) {
        end += 1;
      }
      let url = text.slice(at, end);
      let descriptors = "";
      if (url.endsWith(",")) {
        let cut = url.length;
        while (cut > 0 && url.charAt(cut - 1) === ",") {
          cut -= 1;
        }
        url = url.slice(0, cut);
      } else {
        const comma = text.indexOf(",", end);
        const stop = comma < 0 ? text.length : comma;
        descriptors = text.slice(end, stop).trim();
        end = stop;
      }
      candidates.push(toArchive(url) + (descriptors ? " " + descriptors : ""));
      at = end;
    }
    return candidates.join(", ");
  }

  // (Patterns over what a page hands the layer are written to run in linear time: a
  // lookahead takes a run of spaces once, and names stop at the characters that end them.)
  const CSS_URL = /url\((?=(\s*))\1(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"\s]*))\s*\)/gi;
  const CSS_IMPORT = /@import\s+(["'])([^"']*)\1/gi;

  /** CSS text, its `url()`s and `@import`s in the archive. */
  function cssToArchive(value) {
    if (typeof value !== "string" || (value.indexOf("url(") < 0 && value.indexOf("@import") < 0)) {
      return value;
    }
    return value
      .replace(CSS_URL, function (whole, spaces, double, single, bare) {
        const raw = double !== undefined ? double : single !== undefined ? single : bare;
        if (!raw) {
          return whole;
        }
        const mapped = toArchive(raw);
        return mapped === raw ? whole : 'url("' + mapped.replace(/["\\]/g, "\\$&") + '")';
      })
      .replace(CSS_IMPORT, function (whole, quote, raw) {
        return "@import " + quote + toArchive(raw) + quote;
      });
  }

  // Which attribute of which element holds a reference.
  const REFERENCES = {
    src: ["img", "input", "script", "iframe", "frame", "embed", "video", "audio", "source",
          "track"],
    srcset: ["img", "source"],
    imagesrcset: ["link"],
    href: ["link", "a", "area", "base", "image", "use"],
    "xlink:href": ["image", "use", "a"],
    poster: ["video"],
    data: ["object"],
    action: ["form"],
    formaction: ["button", "input"],
    background: ["body", "table", "td", "th"],
  };

  /** What an attribute's value becomes on an element (or on a tag's name, for markup). */
  function attributeToArchive(tag, name, value) {
    if (value === null || value === undefined) {
      return value;
    }
    const attribute = String(name).toLowerCase();
    if (attribute === "style") {
      return cssToArchive(String(value));
    }
    if (attribute === "srcdoc") {
      return htmlToArchive(String(value));
    }
    const tags = REFERENCES[attribute];
    if (!tags || tags.indexOf(tag) < 0) {
      return value;
    }
    return attribute.endsWith("srcset") ? srcsetToArchive(value) : toArchive(value);
  }

  const ENTITY = /&(#\d+|#x[0-9a-f]+|amp|quot|apos|lt|gt);/gi;
  const NAMED = { amp: "&", quot: '"', apos: "'", lt: "<", gt: ">" };

  function decodeEntities(text) {
    return text.replace(ENTITY, function (whole, entity) {
      const lower = entity.toLowerCase();
      if (lower[0] !== "#") {
        return NAMED[lower];
      }
      const code = lower[1] === "x" ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    });
  }

  // A script element whole (its text is script, never markup to rewrite: markup inside its
  // strings is escaped for JavaScript), a style element whole (its text is CSS), or one tag.
  const MARKUP = new RegExp([
    /<script\b((?:[^>"'<]|"[^"]*"|'[^']*')*)>([\s\S]*?)(<\/script\s*>|$)/.source,
    /(<style\b(?:[^>"'<]|"[^"]*"|'[^']*')*>)([\s\S]*?)(<\/style\s*>)/.source,
    /<([a-zA-Z][^\s/>"'<]*)((?:[^>"'<]|"[^"]*"|'[^']*')*)>/.source,
  ].join("|"), "gi");
  // An attribute begins after a space or a quote, never inside a name.
  const ATTRIBUTE = /(?<![^\s"'])([^\s"'>/=]+)(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/g;

  /** A tag's attributes, their references in the archive, each in its own quotes. */
  function attributesToArchive(tag, attributes) {
    return attributes.replace(ATTRIBUTE, function (pair, attribute, equals, double, single, bare) {
      const raw = double !== undefined ? double : single !== undefined ? single : bare;
      // A value escaped for a script's string (`src=\"x\"`) is no value to map.
      if (raw.charAt(0) === "\\") {
        return pair;
      }
      const value = decodeEntities(raw);
      const mapped = attributeToArchive(tag, attribute, value);
      if (mapped === value) {
        return pair;
      }
      const quote = single !== undefined ? "'" : '"';
      const escaped = String(mapped).replace(/&/g, "&amp;").replace(quote === "'" ? /'/g : /"/g,
        quote === "'" ? "&#39;" : "&quot;");
      return attribute + equals + quote + escaped + quote;
    });
  }

  /** Markup a script writes, its references in the archive: a regular expression over the
   *  tags rather than a parser, since a script may write half an element at a time. */
  function htmlToArchive(markup) {
    if (typeof markup !== "string" || markup.indexOf("<") < 0) {
      return markup;
    }
    return markup.replace(MARKUP, function (whole, scriptAttributes, text, close,
      styleOpen, css, styleClose, tag, attributes) {
      if (scriptAttributes !== undefined) {
        return "<script" + attributesToArchive("script", scriptAttributes) + ">" + text + close;
      }
      if (styleOpen !== undefined) {
        return styleOpen + cssToArchive(css) + styleClose;
      }
      return "<" + tag + attributesToArchive(tag.toLowerCase(), attributes) + ">";
    });
  }

  /** Redefines an accessor's setter on `proto` to pass its value through `map`. */
  function mapSetter(proto, property, map) {
    const descriptor = proto && Object.getOwnPropertyDescriptor(proto, property);
    if (!descriptor || !descriptor.set || !descriptor.configurable) {
      return;
    }
    const set = descriptor.set;
    Object.defineProperty(proto, property, {
      get: descriptor.get,
      set: function (value) {
        set.call(this, map(this, value));
      },
      enumerable: descriptor.enumerable,
      configurable: true,
    });
  }

  /** Redefines a method on `proto` to pass its arguments through `map` first. */
  function mapArguments(proto, method, map) {
    const native = proto && proto[method];
    if (typeof native !== "function") {
      return;
    }
    proto[method] = function () {
      const args = Array.prototype.slice.call(arguments);
      map(args, this);
      return native.apply(this, args);
    };
  }

  function elementReferences() {
    mapArguments(Element.prototype, "setAttribute", function (args, element) {
      if (args.length > 1) {
        args[1] = attributeToArchive(element.localName, args[0], args[1]);
      }
    });
    mapArguments(Element.prototype, "setAttributeNS", function (args, element) {
      if (args.length > 2) {
        args[2] = attributeToArchive(element.localName, args[1], args[2]);
      }
    });
    const properties = [
      ["HTMLImageElement", "src"], ["HTMLImageElement", "srcset"],
      ["HTMLSourceElement", "src"], ["HTMLSourceElement", "srcset"],
      ["HTMLScriptElement", "src"], ["HTMLLinkElement", "href"],
      ["HTMLLinkElement", "imageSrcset", "imagesrcset"], ["HTMLIFrameElement", "src"],
      ["HTMLFrameElement", "src"], ["HTMLMediaElement", "src"], ["HTMLVideoElement", "poster"],
      ["HTMLEmbedElement", "src"], ["HTMLObjectElement", "data"], ["HTMLInputElement", "src"],
      ["HTMLTrackElement", "src"], ["HTMLAnchorElement", "href"], ["HTMLAreaElement", "href"],
      ["HTMLFormElement", "action"], ["HTMLBaseElement", "href"], ["HTMLIFrameElement", "srcdoc"],
    ];
    for (const [type, property, attribute] of properties) {
      const constructor = window[type];
      mapSetter(constructor && constructor.prototype, property, function (element, value) {
        return attributeToArchive(element.localName, attribute || property.toLowerCase(), value);
      });
    }
  }

  function markup() {
    const forElement = function (element, value) {
      const tag = element.localName;
      if (tag === "style") {
        return cssToArchive(value);
      }
      return tag === "script" ? value : htmlToArchive(value);
    };
    mapSetter(Element.prototype, "innerHTML", forElement);
    mapSetter(Element.prototype, "outerHTML", function (element, value) {
      return htmlToArchive(value);
    });
    mapSetter(ShadowRoot.prototype, "innerHTML", function (root, value) {
      return htmlToArchive(value);
    });
    mapArguments(Element.prototype, "insertAdjacentHTML", function (args) {
      args[1] = htmlToArchive(args[1]);
    });
    for (const method of ["write", "writeln"]) {
      // Joined first: a page may write one tag in pieces (`'<img src="', url, '">'`).
      mapArguments(Document.prototype, method, function (args) {
        const markup = htmlToArchive(args.map(String).join(""));
        args.splice(0, args.length, markup);
      });
    }
    // A `<style>` given its text by a script before (or as) it joins the page.
    const styleText = function (args, parent) {
      const node = args[0];
      if (!node) {
        return;
      }
      if (node.nodeType === Node.TEXT_NODE && parent && parent.localName === "style") {
        node.data = cssToArchive(node.data);
      } else if (node.nodeType === Node.ELEMENT_NODE && node.localName === "style") {
        const css = cssToArchive(node.textContent);
        if (css !== node.textContent) {
          node.textContent = css;
        }
      }
    };
    mapArguments(Node.prototype, "appendChild", styleText);
    mapArguments(Node.prototype, "insertBefore", styleText);
  }

  function styles() {
    const style = document.createElement("div").style;
    const properties = ["background", "backgroundImage", "background-image", "borderImage",
      "border-image", "borderImageSource", "listStyle", "listStyleImage", "list-style-image",
      "maskImage", "mask-image", "mask", "content", "cursor", "cssText"];
    for (const property of properties) {
      let proto = Object.getPrototypeOf(style);
      while (proto && !Object.getOwnPropertyDescriptor(proto, property)) {
        proto = Object.getPrototypeOf(proto);
      }
      mapSetter(proto, property, function (declaration, value) {
        return cssToArchive(value);
      });
    }
    mapArguments(CSSStyleDeclaration.prototype, "setProperty", function (args) {
      args[1] = cssToArchive(args[1]);
    });
    const sheet = CSSStyleSheet.prototype;
    mapArguments(sheet, "insertRule", function (args) {
      args[0] = cssToArchive(args[0]);
    });
    mapArguments(sheet, "addRule", function (args) {
      args[1] = cssToArchive(args[1]);
    });
    mapArguments(sheet, "replace", function (args) {
      args[0] = cssToArchive(args[0]);
    });
    mapArguments(sheet, "replaceSync", function (args) {
      args[0] = cssToArchive(args[0]);
    });
    const NativeFontFace = window.FontFace;
    if (NativeFontFace) {
      const FontFace = function FontFace(family, source, descriptors) {
        const mapped = typeof source === "string" ? cssToArchive(source) : source;
        return Reflect.construct(NativeFontFace, [family, mapped, descriptors], NativeFontFace);
      };
      FontFace.prototype = NativeFontFace.prototype;
      window.FontFace = FontFace;
    }
  }

  function requests() {
    const nativeFetch = window.fetch;
    if (nativeFetch) {
      window.fetch = function fetch(input, init) {
        let request = input;
        if (typeof Request !== "undefined" && input instanceof Request) {
          const mapped = toArchive(input.url);
          if (mapped !== input.url) {
            request = new Request(mapped, input);
          }
        } else if (input !== undefined && input !== null) {
          request = toArchive(String(input));
        }
        return nativeFetch.call(window, request, init);
      };
    }
    mapArguments(XMLHttpRequest.prototype, "open", function (args) {
      if (args.length > 1) {
        args[1] = toArchive(String(args[1]));
      }
    });
    // An archive has no live connections: these close as soon as they are opened.
    refuse("WebSocket", 3);
    refuse("EventSource", 2);
    if (navigator.sendBeacon) {
      Object.defineProperty(navigator, "sendBeacon", { value: function () { return true; } });
    }
    const nativeOpen = window.open;
    window.open = function open(url) {
      const args = Array.prototype.slice.call(arguments);
      if (args.length > 0 && url !== undefined && url !== null) {
        args[0] = toArchive(String(url));
      }
      return nativeOpen.apply(window, args);
    };
    for (const method of ["pushState", "replaceState"]) {
      mapArguments(History.prototype, method, function (args) {
        if (args.length > 2 && args[2] !== undefined && args[2] !== null) {
          args[2] = toArchive(String(args[2]));
        }
      });
    }
  }

  /** A stand-in for a live connection: it never opens, and says so with `error`, `close`. */
  function refuse(name, closed) {
    if (!window[name]) {
      return;
    }
    const Refused = function (url) {
      const connection = new EventTarget();
      const fire = function (event) {
        const handler = connection["on" + event.type];
        if (typeof handler === "function") {
          handler.call(connection, event);
        }
        connection.dispatchEvent(event);
      };
      connection.url = String(url);
      connection.readyState = closed;
      connection.send = function () {};
      connection.close = function () {};
      setTimeout(function () {
        fire(new Event("error"));
        if (name === "WebSocket") {
          fire(new CloseEvent("close", { code: 1006, reason: "refused in replay" }));
        }
      }, 0);
      return connection;
    };
    Object.assign(Refused, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    window[name] = Refused;
  }

  /** The page's `location` as the page knew it: its original URL, moved by history, whose
   *  assignments navigate within the archive. */
  function originalLocation() {
    const location = {};
    const parts = ["href", "protocol", "host", "hostname", "port", "pathname", "search", "hash"];
    for (const part of parts) {
      Object.defineProperty(location, part, {
        enumerable: true,
        get: function () {
          return new URL(pageUrl())[part];
        },
        set: function (value) {
          if (part === "hash") {
            realLocation.hash = value;
            return;
          }
          const url = new URL(pageUrl());
          url[part] = value;
          realLocation.href = toArchive(part === "href" ? String(value) : url.href);
        },
      });
    }
    Object.defineProperty(location, "origin", {
      enumerable: true,
      get: function () {
        return new URL(pageUrl()).origin;
      },
    });
    location.assign = function (url) {
      realLocation.assign(toArchive(String(url)));
    };
    location.replace = function (url) {
      realLocation.replace(toArchive(String(url)));
    };
    location.reload = function () {
      realLocation.reload();
    };
    location.toString = function () {
      return pageUrl();
    };
    location.ancestorOrigins = realLocation.ancestorOrigins;
    return location;
  }

  /** What a wrapped script sees as `window`, `self`, `top` ...: the real window, but for its
   *  `location`. Native methods are bound to the real window (called on a proxy, they would
   *  throw); constructors and the page's own functions are not. */
  function windowProxy(location) {
    // What each function read off the window is: its stand-in, or itself. A stand-in keeps
    // the native's properties (`Proxy.revocable`) and its `this` when called on anything but
    // the proxy (`window.hasOwnProperty.call(object, key)`).
    const seen = new WeakMap();
    const standIn = function (native, target) {
      return new Proxy(native, {
        apply: function (fn, self, args) {
          return Reflect.apply(fn, self === proxy || self === undefined || self === null ? target : self, args);
        },
      });
    };
    const isNativeMethod = function (value) {
      return !Object.prototype.hasOwnProperty.call(value, "prototype") &&
        /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(value));
    };
    let proxy = null;
    proxy = new Proxy(window, {
      get: function (target, property) {
        switch (property) {
          case "location": return location;
          case "window": case "self": case "globalThis": case "frames": return proxy;
          case "top": return scopeOf(target.top).window;
          case "parent": return scopeOf(target.parent).window;
          default: break;
        }
        const value = Reflect.get(target, property);
        if (typeof value !== "function") {
          return value;
        }
        if (!seen.has(value)) {
          seen.set(value, isNativeMethod(value) ? standIn(value, target) : value);
        }
        return seen.get(value);
      },
      set: function (target, property, value) {
        if (property === "location") {
          location.href = value;
          return true;
        }
        return Reflect.set(target, property, value);
      },
    });
    return proxy;
  }

  /** A window's scope, as its own layer made it; for a window of another origin (or one
   *  without this layer), the window as it is. */
  function scopeOf(other) {
    try {
      if (other && other.__cairn && other !== window) {
        return other.__cairn.scope();
      }
    } catch (error) {
      // Another origin's window: nothing of it may be read.
    }
    return other === window ? scope : { window: other, location: other && other.location };
  }

  /** The page's own address, read through `document` too. */
  function documentAddress() {
    const define = function (property, get) {
      const descriptor = Object.getOwnPropertyDescriptor(Document.prototype, property);
      if (descriptor && descriptor.configurable) {
        Object.defineProperty(Document.prototype, property, {
          get: get(descriptor.get),
          enumerable: descriptor.enumerable,
          configurable: true,
        });
      }
    };
    define("URL", function () { return pageUrl; });
    define("documentURI", function () { return pageUrl; });
    define("referrer", function (native) {
      return function () {
        const referrer = native.call(this);
        return referrer ? archivedUrlOf(referrer) || "" : "";
      };
    });
  }

  /** What a page does with the origin it reads, made to work on this one: messages posted to
   *  the page's original origin reach this one, messages from this origin say they come from
   *  the original, `document.domain` reads the original host and its assignment (which this
   *  origin would refuse with an exception) is let go, and a cookie's `domain` (the original
   *  host's, which this origin's cookies cannot have) is left out. */
  function originalOrigin() {
    const nativePostMessage = window.postMessage;
    // A target is an origin or any URL of one (`document.referrer`, which reads original).
    const isOriginal = function (target) {
      try {
        return typeof target === "string" && target !== "*" && target !== "/" &&
          new URL(target).origin === new URL(pageUrl()).origin;
      } catch (error) {
        return false;
      }
    };
    window.postMessage = function postMessage(message, target) {
      const args = Array.prototype.slice.call(arguments);
      if (isOriginal(target)) {
        args[1] = replayOrigin;
      } else if (target && typeof target === "object" && isOriginal(target.targetOrigin)) {
        args[1] = Object.assign({}, target, { targetOrigin: replayOrigin });
      }
      return nativePostMessage.apply(window, args);
    };
    const origin = Object.getOwnPropertyDescriptor(MessageEvent.prototype, "origin");
    if (origin && origin.configurable) {
      Object.defineProperty(MessageEvent.prototype, "origin", {
        // The sender's original origin, as its own layer knows it.
        get: function () {
          const real = origin.get.call(this);
          if (real !== replayOrigin) {
            return real;
          }
          try {
            return this.source.__cairn.scope().location.origin;
          } catch (error) {
            return new URL(pageUrl()).origin;
          }
        },
        enumerable: origin.enumerable,
        configurable: true,
      });
    }
    const domain = Object.getOwnPropertyDescriptor(Document.prototype, "domain");
    if (domain && domain.configurable) {
      Object.defineProperty(Document.prototype, "domain", {
        get: function () { return new URL(pageUrl()).hostname; },
        set: function () {},
        enumerable: domain.enumerable,
        configurable: true,
      });
    }
    mapSetter(Document.prototype, "cookie", function (document, value) {
      return String(value).replace(/;\s*domain\s*=[^;]*/gi, "");
    });
  }

  const location = originalLocation();
  const scope = Object.freeze({ location: location, window: windowProxy(location) });
  /** A wrapped script's top-level lexical declaration, given back to the global scope where
   *  other scripts look for it: the window's property of that name reads and writes the
   *  block's binding, from the block's start. A property the window holds for good
   *  (non-configurable) stays the window's. */
  function bindDeclaration(name, get, set) {
    const own = Object.getOwnPropertyDescriptor(window, name);
    if (own && !own.configurable) {
      return;
    }
    Object.defineProperty(window, name, { get: get, set: set, enumerable: true, configurable: true });
  }
  Object.defineProperty(window, "__cairn", {
    value: Object.freeze({
      scope: function () { return scope; },
      bind: bindDeclaration,
      toArchive: toArchive,
    }),
  });

  elementReferences();
  markup();
  styles();
  requests();
  documentAddress();
  originalOrigin();

  // A last net for what no setter saw (an attribute's `Attr.value`, a node adopted from a
  // parsed document): a reference found outside the archive is put into it. The browser may
  // have tried it already; the fence refused that, and this loads it again from the archive.
  const WATCHED = ["src", "srcset", "href", "poster", "data", "action", "background", "style",
    "imagesrcset", "xlink:href"];
  const getAttribute = Element.prototype.getAttribute;
  function settle(element) {
    for (const name of WATCHED) {
      const value = getAttribute.call(element, name);
      if (value === null) {
        continue;
      }
      const mapped = attributeToArchive(element.localName, name, value);
      if (mapped !== value) {
        element.setAttribute(name, mapped);
      }
    }
  }
  const SELECTOR = WATCHED.filter(function (name) { return name.indexOf(":") < 0; })
    .map(function (name) { return "[" + name + "]"; }).join(",");
  new MutationObserver(function (records) {
    // A subtree is looked through once a batch: the parser adds a parent, then its children.
    const settled = new Set();
    const once = function (element) {
      if (!settled.has(element)) {
        settled.add(element);
        settle(element);
      }
    };
    for (const record of records) {
      if (record.type === "attributes") {
        settle(record.target);
        continue;
      }
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE || settled.has(node)) {
          continue;
        }
        once(node);
        if (node.firstElementChild) {
          node.querySelectorAll(SELECTOR).forEach(once);
        }
      }
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: WATCHED });
})();
