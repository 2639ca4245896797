#!/usr/bin/env python3
"""Opens a page in headless Chromium (Debian's) with every network path closed, and reports
what it tried to fetch and how its images decoded, as JSON on stdout; saves a screenshot.

    browser_check.py URL SCREENSHOT.png [--visit URL]... [--eval EXPRESSION]... [--map HOST=PORT]...

Chromium is started with the flags that keep it from reaching out (no background networking,
a dead proxy, host resolution mapped to nothing), and watched through the DevTools protocol:
every request the page attempts is listed, whatever its scheme, with every load that failed
(refused, blocked by a policy, not found), every response's status, every redirect (with the
type of what was redirected), every exception a page's scripts left uncaught, and every <img> with its naturalWidth after the load event,
the page scrolled to its end and back, and a wait for late requests.

`--visit URL` opens another page afterwards, in the same tab and profile (what the first page
left behind, service workers and storage, is still there); the images and the screenshot are
the last page's, and "pages" reports each page's own requests, failures and images, and its
title, charset and links' targets. `--eval EXPRESSION` evaluates JavaScript in the last page
(a promise is awaited); its values are reported in order as "evals".

`--map HOST=PORT` lets the browser reach HOST, and only it, at 127.0.0.1:PORT (a test's
stand-in for the live site, its certificate from a test CA accepted): how the page looked live.
"""
import asyncio
import contextlib
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import websockets

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--proxy-server=http://127.0.0.1:9",
    "--remote-debugging-port=0", "--window-size=1280,2000",
]


def network_flags(mapped):
    """Every host resolves to nothing and every request goes to a dead proxy, but the mapped
    hosts, which go straight to their port on 127.0.0.1."""
    rules = [f"MAP {host} 127.0.0.1:{port}" for host, port in mapped]
    rules += ["MAP * ~NOTFOUND", "EXCLUDE localhost", "EXCLUDE 127.0.0.1"]
    flags = [f"--host-resolver-rules={', '.join(rules)}"]
    if mapped:
        flags += [f"--proxy-bypass-list={';'.join(host for host, _ in mapped)}",
                  "--ignore-certificate-errors"]
    return flags


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium is not installed (scripts/test installs Debian's chromium)")


# Scrolls one screen further, as a reader does, so that lazy loaders see every image; says
# whether there is more below.
SCROLL_STEP = """(() => {
    window.scrollBy(0, window.innerHeight);
    return window.scrollY + window.innerHeight < document.documentElement.scrollHeight;
})()"""


class DevToolsError(Exception):
    """A DevTools call that failed (the page navigated away, say)."""


IMAGES = ("JSON.stringify(Array.from(document.images).map(i => "
          "({src: i.currentSrc || i.src, complete: i.complete, naturalWidth: i.naturalWidth, "
          "visible: i.checkVisibility({opacityProperty: true, visibilityProperty: true})})))")

# What a reader sees of the document beyond its images: its title, the encoding it was read
# in, and where each of its links leads.
DOCUMENT = ("JSON.stringify({title: document.title, charset: document.characterSet, "
            "links: Array.from(document.links).map(a => a.href)})")


@contextlib.asynccontextmanager
async def chromium(flags, prefix, start_within=30):
    """Chromium started with `flags` on a profile of its own, as a DevTools connection; killed,
    and its profile removed, on the way out. Its temporary files go into the profile too: a
    killed Chromium leaves its singleton socket's folder behind in TMPDIR, one per run."""
    profile = tempfile.mkdtemp(prefix=prefix)
    temp = os.path.join(profile, "tmp")
    os.mkdir(temp)
    proc = subprocess.Popen(
        [chromium_binary(), *flags, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": temp})
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + start_within
        while not os.path.exists(port_file) or len(open(port_file).read().split()) < 2:
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("chromium did not start")
            await asyncio.sleep(0.1)
        port, path = open(port_file).read().split()[:2]
        async with websockets.connect(f"ws://127.0.0.1:{port}{path}", max_size=64 << 20) as ws:
            yield ws
    finally:
        proc.kill()
        proc.wait()
        # Chromium's helper processes may still be writing into the profile as they end.
        for _ in range(5):
            shutil.rmtree(profile, ignore_errors=True)
            if not os.path.exists(profile):
                break
            time.sleep(0.2)


async def check(url, screenshot, visits=(), evals=(), mapped=()):
    flags = [*CHROMIUM_FLAGS, *network_flags(mapped)]
    async with chromium(flags, "cairn-chromium-") as ws:
        ids = iter(range(1, 1 << 30))
        pending = {}
        requests = []
        urls = {}
        failed = []
        statuses = {}
        redirects = []
        exceptions = []
        loaded = asyncio.Event()

        async def reader():
            async for raw in ws:
                msg = json.loads(raw)
                if "id" in msg and msg["id"] in pending:
                    pending.pop(msg["id"]).set_result(msg)
                elif msg.get("method") == "Network.requestWillBeSent":
                    p = msg["params"]
                    requests.append(p["request"]["url"])
                    urls[p["requestId"]] = p["request"]["url"]
                    if "redirectResponse" in p:
                        redirects.append({"url": p["redirectResponse"]["url"],
                                          "type": p.get("type", "")})
                elif msg.get("method") == "Network.responseReceived":
                    p = msg["params"]
                    statuses[p["response"]["url"]] = p["response"]["status"]
                elif msg.get("method") == "Network.loadingFailed":
                    p = msg["params"]
                    reason = p.get("blockedReason") or p.get("errorText", "")
                    if not p.get("canceled"):
                        failed.append(f"{urls.get(p['requestId'], '?')}: {reason}")
                elif msg.get("method") == "Runtime.exceptionThrown":
                    details = msg["params"]["exceptionDetails"]
                    thrown = details.get("exception", {}).get("description") or details.get("text", "")
                    exceptions.append(thrown.splitlines()[0] if thrown else "")
                elif msg.get("method") == "Page.loadEventFired":
                    loaded.set()

        async def call(method, params=None, session=None):
            i = next(ids)
            fut = asyncio.get_running_loop().create_future()
            pending[i] = fut
            msg = {"id": i, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            await ws.send(json.dumps(msg))
            reply = await asyncio.wait_for(fut, 30)
            if "error" in reply:
                raise DevToolsError(f"{method}: {reply['error']}")
            return reply["result"]

        task = asyncio.create_task(reader())
        target = (await call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        await call("Network.enable", session=session)
        await call("Page.enable", session=session)
        await call("Runtime.enable", session=session)
        pages = []
        for page in [url, *visits]:
            loaded.clear()
            first_request, first_failure = len(requests), len(failed)
            first_exception, first_redirect = len(exceptions), len(redirects)
            await call("Page.navigate", {"url": page}, session=session)
            await asyncio.wait_for(loaded.wait(), 30)
            try:
                for _ in range(100):
                    more = await call("Runtime.evaluate", {
                        "expression": SCROLL_STEP, "returnByValue": True}, session=session)
                    if not more["result"].get("value"):
                        break
                    await asyncio.sleep(0.05)
                # Back to the top: a lazy image there that the first screens scrolled past
                # before the browser started it is started now.
                await call("Runtime.evaluate", {"expression": "window.scrollTo(0, 0)"},
                           session=session)
            except DevToolsError:
                pass  # the page navigated away (a refresh) while it was scrolled
            # Let lazy loaders and late requests run.
            await asyncio.sleep(1.5)
            result = await call("Runtime.evaluate", {"expression": IMAGES,
                                                     "returnByValue": True}, session=session)
            document = await call("Runtime.evaluate", {"expression": DOCUMENT,
                                                       "returnByValue": True}, session=session)
            pages.append({"url": page, "requests": requests[first_request:],
                          "failed": failed[first_failure:],
                          "exceptions": exceptions[first_exception:],
                          "redirects": redirects[first_redirect:],
                          "images": json.loads(result["result"]["value"]),
                          **json.loads(document["result"]["value"])})
        values = []
        for expression in evals:
            result = await call("Runtime.evaluate", {
                "expression": expression, "awaitPromise": True, "returnByValue": True},
                session=session)
            values.append(result["result"].get("value"))
        shot = await call("Page.captureScreenshot", {"format": "png"}, session=session)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        task.cancel()
        report = {"requests": requests, "failed": failed, "images": pages[-1]["images"],
                  "pages": pages, "statuses": statuses, "redirects": redirects}
        if evals:
            report["evals"] = values
        print(json.dumps(report))


def options(args):
    """`--visit URL`, `--eval EXPRESSION` and `--map HOST=PORT` pairs, in order."""
    visits, evals, mapped = [], [], []
    for flag, value in zip(args[::2], args[1::2]):
        if flag == "--map":
            host, port = value.split("=")
            mapped.append((host, int(port)))
        else:
            {"--visit": visits, "--eval": evals}[flag].append(value)
    return visits, evals, mapped


if __name__ == "__main__":
    asyncio.run(check(sys.argv[1], sys.argv[2], *options(sys.argv[3:])))
