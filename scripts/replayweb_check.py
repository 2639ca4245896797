#!/usr/bin/env python3
"""Opens a web archive in ReplayWeb.page in headless Chromium (Debian's) and reports, as JSON on
stdout, what the replayed page shows and what every part of the browser asked for; saves a
screenshot.

    replayweb_check.py URL SCREENSHOT --proxy PORT --text TEXT [--timeout SECS]

URL is ReplayWeb.page's own page with its `?source=...#view=replay&url=...&ts=...` (served by
the caller on 127.0.0.1). ReplayWeb.page registers its service worker (wabac.js), which reads
the archive and serves the archived page into an iframe (`/w/...`) inside the app's shadow
DOM; the report is about the innermost document whose path starts with `/w/`: its URL, title,
whether TEXT is in its rendered text, every <img> (currentSrc, complete, naturalWidth, the
data-src of a lazy one) and, as "lazy", how the image each data-src names decodes when the page
itself asks for it (as a lazy loader would; the page is left as it was).

Chromium is started as scripts/browser_check.py starts it (nothing resolves but 127.0.0.1 and
localhost), with its proxy set to 127.0.0.1:PORT: any request for another host, from any part
of the browser, reaches the caller's server there as a proxy request, which it records (loopback
itself is never proxied). Through the DevTools protocol the script attaches to every target,
the page, its frames, its workers and the service worker, before each runs, and lists every
request each one attempted, every failed load, and console errors and exceptions.

The wait for the page is bounded: after TIMEOUT seconds (default 60) the report says
"timed_out" with what was there, and the caller fails with it.
"""
import asyncio
import base64
import json
import sys
import time

sys.dont_write_bytecode = True  # importing its neighbour leaves no __pycache__ in scripts/
from browser_check import CHROMIUM_FLAGS, chromium, network_flags  # noqa: E402

# Every iframe's src, and the replayed page: of the documents in the top document, its shadow
# roots and its same-origin iframes (recursively), the deepest served under /w/ (wabac.js's
# replay prefix).
FIND = """const frames = [];
    const docs = [];
    const walk = (root) => {
        for (const el of root.querySelectorAll('*')) {
            if (el.shadowRoot) walk(el.shadowRoot);
            if (el.tagName === 'IFRAME') {
                frames.push(el.src);
                let doc = null;
                try { doc = el.contentDocument; } catch (e) {}
                if (doc) { docs.push(doc); walk(doc); }
            }
        }
    };
    walk(document);
    const replayed = docs.filter(d => d.location.pathname.startsWith('/w/')).pop();"""

# What the replayed page shows: its address, title, whether TEXT is in its rendered text, and
# its images (with the real address a lazy one keeps in data-src).
REPLAYED = """((text) => {
    %s
    if (!replayed || !replayed.body) return JSON.stringify({frames, doc: null});
    const images = Array.from(replayed.images).map(i => ({
        src: i.currentSrc || i.src, complete: i.complete, naturalWidth: i.naturalWidth,
        dataSrc: i.getAttribute('data-src')}));
    return JSON.stringify({frames, doc: {
        url: replayed.location.href, title: replayed.title, readyState: replayed.readyState,
        textFound: replayed.body.innerText.includes(text), images}});
})""" % FIND

# Scrolls the replayed page to its end and back, as a reader would.
SCROLL = """(() => {
    %s
    if (replayed) {
        replayed.defaultView.scrollTo(0, replayed.documentElement.scrollHeight);
        replayed.defaultView.scrollTo(0, 0);
    }
})()""" % FIND

# Asks, in the replayed page, for the real image of each lazy <img> (its data-src) as the site's
# lazy loader would, through the page's own Image (so through the replay's rewriting and its
# service worker), and reports how each decoded. The page itself is left as it is.
LAZY = """(async () => {
    %s
    if (!replayed) return JSON.stringify([]);
    const out = [];
    for (const el of replayed.querySelectorAll('img[data-src]')) {
        const probe = new replayed.defaultView.Image();
        probe.src = el.getAttribute('data-src');
        let error = null;
        try { await probe.decode(); } catch (e) { error = String(e); }
        out.push({dataSrc: el.getAttribute('data-src'), src: probe.currentSrc || probe.src,
                  naturalWidth: probe.naturalWidth, error});
    }
    return JSON.stringify(out);
})()""" % FIND


# The targets the page makes; the browser's own UI (chrome:// pages) is none of them.
WATCHED = ("page", "iframe", "worker", "shared_worker", "service_worker")


def flags(proxy_port):
    """browser_check's flags, with the proxy pointed at the caller's recording server."""
    out = [f for f in CHROMIUM_FLAGS
           if not f.startswith(("--proxy-server=", "--window-size="))]
    return out + [f"--proxy-server=http://127.0.0.1:{proxy_port}", "--window-size=1280,1100",
                  *network_flags([])]


class DevToolsError(Exception):
    """A DevTools call that failed."""


async def check(url, screenshot, proxy_port, text, timeout):
    started = time.time()
    async with chromium(flags(proxy_port), "cairn-replayweb-") as ws:
        report = await drive(ws, url, screenshot, text, started + timeout)
        report["seconds"] = round(time.time() - started, 1)
        print(json.dumps(report))


async def drive(ws, url, screenshot, text, deadline):
    ids = iter(range(1, 1 << 30))
    pending = {}
    requests = []  # {"target": the target's type, "url": ...}
    urls = {}  # request id -> url
    failed = []
    console = []
    sessions = {}  # session id -> target type
    page_sessions = {}  # target id -> session id

    async def call(method, params=None, session=None, timeout=30):
        i = next(ids)
        fut = asyncio.get_running_loop().create_future()
        pending[i] = fut
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        await ws.send(json.dumps(msg))
        try:
            reply = await asyncio.wait_for(fut, timeout)
        finally:
            pending.pop(i, None)
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return reply["result"]

    async def watch(session, info):
        """Lists what a newly attached target does, then lets it run. The commands are sent
        at once, in order, and awaited together: a target waiting for its debugger may answer
        none of them until it runs."""
        kind = info["type"]
        commands = []
        if kind in WATCHED:
            # Their own frames and workers too, paused until watched in turn.
            commands += [("Network.enable", {}), ("Runtime.enable", {}),
                         ("Target.setAutoAttach", {"autoAttach": True,
                                                   "waitForDebuggerOnStart": True,
                                                   "flatten": True})]
        commands.append(("Runtime.runIfWaitingForDebugger", {}))
        # A target that cannot do one of these (it went away, say) is still watched as it can.
        await asyncio.gather(*(call(m, p, session=session) for m, p in commands),
                             return_exceptions=True)
        if kind == "page":
            page_sessions[info["targetId"]] = session

    def event(msg):
        method, params, session = msg.get("method"), msg.get("params", {}), msg.get("sessionId")
        kind = sessions.get(session, "browser")
        if method == "Target.attachedToTarget":
            sessions[params["sessionId"]] = params["targetInfo"]["type"]
            asyncio.create_task(watch(params["sessionId"], params["targetInfo"]))
        elif method == "Network.requestWillBeSent":
            requests.append({"target": kind, "url": params["request"]["url"]})
            urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            reason = params.get("blockedReason") or params.get("errorText", "")
            failed.append(f"{kind}: {urls.get(params['requestId'], '?')}: {reason}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning"):
            words = [a.get("value", a.get("description", "")) for a in params["args"]]
            console.append(f"{kind} {params['type']}: {' '.join(map(str, words))}"[:500])
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            described = details.get("exception", {}).get("description", details.get("text"))
            console.append(f"{kind} exception: {described}"[:500])

    async def reader():
        async for raw in ws:
            msg = json.loads(raw)
            if "id" in msg:
                if msg["id"] in pending and not pending[msg["id"]].done():
                    pending[msg["id"]].set_result(msg)
            elif "method" in msg:
                event(msg)

    task = asyncio.create_task(reader())
    # Every target, now and to come (the service worker included), attached before it runs.
    await call("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True,
                                        "flatten": True})
    target = (await call("Target.createTarget", {"url": "about:blank"}))["targetId"]
    for _ in range(300):
        if target in page_sessions:
            break
        await asyncio.sleep(0.1)
    else:
        raise SystemExit("chromium opened no tab to drive")
    session = page_sessions[target]
    await call("Page.navigate", {"url": url}, session=session)

    state, timed_out = None, True
    while time.time() < deadline:
        try:
            result = await call("Runtime.evaluate", {
                "expression": f"{REPLAYED}({json.dumps(text)})", "returnByValue": True},
                session=session, timeout=5)
        except (asyncio.TimeoutError, DevToolsError) as e:
            state = {"unanswered": str(e) or "the page did not answer within 5 s"}
            continue
        state = json.loads(result["result"].get("value") or "null")
        doc = state and state["doc"]
        if (doc and doc["readyState"] == "complete" and doc["textFound"]
                and all(i["complete"] for i in doc["images"])):
            timed_out = False
            break
        await asyncio.sleep(0.25)
    if not timed_out:
        # A reader's scroll, then time for lazy loaders and late requests.
        await call("Runtime.evaluate", {"expression": SCROLL}, session=session)
        await asyncio.sleep(1.5)
        result = await call("Runtime.evaluate", {"expression": f"{REPLAYED}({json.dumps(text)})",
                                                 "returnByValue": True}, session=session)
        state = json.loads(result["result"]["value"])
        lazy = await call("Runtime.evaluate", {"expression": LAZY, "awaitPromise": True,
                                               "returnByValue": True}, session=session)
        state["lazy"] = json.loads(lazy["result"]["value"])
    shot = await call("Page.captureScreenshot", {"format": "png"}, session=session)
    with open(screenshot, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    task.cancel()
    return {"timed_out": timed_out, "state": state,
            "requests": requests, "failed": failed, "console": console}


def options(args):
    """`--proxy PORT`, `--text TEXT` and `--timeout SECS`."""
    given = dict(zip(args[::2], args[1::2]))
    unknown = set(given) - {"--proxy", "--text", "--timeout"}
    if unknown or "--proxy" not in given or "--text" not in given:
        sys.exit(__doc__)
    return int(given["--proxy"]), given["--text"], float(given.get("--timeout", 60))


if __name__ == "__main__":
    asyncio.run(check(sys.argv[1], sys.argv[2], *options(sys.argv[3:])))
