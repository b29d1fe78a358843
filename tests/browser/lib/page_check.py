#!/usr/bin/env python3
"""page_check.py — open one HTML file in headless Chromium and check it.

Drives Debian's `chromium` over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ended by NUL on fds 3 and 4; python3's
standard library only). For the page given it:
  - loads it at a fixed window size and waits for the load event;
  - records every console message, uncaught exception, browser log error and
    request for anything but the page itself (a report loads nothing from
    elsewhere and runs no script, so any of these fails the check);
  - reads the real DOM: headings, fact cards, charts (svg.chart) with their
    series (.series[data-series]), <title>, <desc> and aria-label, whether any
    chart text overlaps another x label or falls outside its chart, and whether
    the page is wider than the window;
  - saves a full-page screenshot (--png), the DOM (--dom) and a PDF as printed
    (--pdf);
  - compares with what is expected: --json DOC (the same report as `cairn
    report --format json`: every section title an <h2>, every table title an
    <h3>, every fact label on a card, every chart drawn with its series), and
    --h1, --h2, --charts, --series given on the command line.
Prints one line per check ("ok ..." or "FAIL ..."); exits 0 when all passed, 1
when one failed, 2 on a usage or browser error. Always stops the browser it
started (its process group) and removes the profile directory.
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import sys
import time

from cdp import Browser, Checks, page_problems

# What the page is asked, run in the page by the protocol (the page itself has
# no script). Returns a JSON string.
PROBE = r"""
(() => {
  const txt = e => (e ? e.textContent : '').replace(/\s+/g, ' ').trim();
  const all = (root, s) => Array.from(root.querySelectorAll(s));
  const inside = (r, o) => r.left >= o.left - 1 && r.right <= o.right + 1 &&
                           r.top >= o.top - 1 && r.bottom <= o.bottom + 1;
  const chart = svg => {
    const box = svg.getBoundingClientRect();
    const xs = all(svg, '.xtick text').map(t => t.getBoundingClientRect())
                 .sort((a, b) => a.left - b.left);
    let overlaps = 0;
    for (let i = 1; i < xs.length; i++) if (xs[i].left < xs[i - 1].right + 2) overlaps++;
    const outside = all(svg, 'text').filter(t => !inside(t.getBoundingClientRect(), box))
                      .map(t => txt(t));
    return {label: svg.getAttribute('aria-label'), title: txt(svg.querySelector('title')),
            desc: txt(svg.querySelector('desc')),
            series: all(svg, '.series').map(p => p.getAttribute('data-series')),
            xlabels: xs.length, overlaps: overlaps, outside: outside};
  };
  return JSON.stringify({
    title: document.title,
    h1: all(document, 'h1').map(txt), h2: all(document, 'h2').map(txt),
    h3: all(document, 'h3').map(txt),
    facts: all(document, '.fact .l').map(txt),
    charts: all(document, 'svg.chart').map(chart),
    scripts: all(document, 'script').length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  });
})()
"""


def crop_box(b, s, selector):
    """The page area of the element matching selector, with a margin."""
    js = ("(() => { const e = document.querySelector(%s); if (!e) return null;"
          " const r = e.getBoundingClientRect();"
          " return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()"
          % json.dumps(selector))
    box = b.call("Runtime.evaluate", {"expression": js, "returnByValue": True}, s)["result"]
    if not box.get("value"):
        raise RuntimeError("--crop: nothing matches %s" % selector)
    x, y, w, h = box["value"]
    return {"x": max(0, x - 8), "y": max(0, y - 8), "width": w + 16, "height": h + 16,
            "scale": 1}


def load(args):
    """Open the page, probe it, save the screenshot, DOM and PDF."""
    deadline = time.monotonic() + args.timeout
    b = Browser(args.chromium, args.width, args.height, deadline)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            b.call(domain + ".enable", {}, s)
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": args.width, "height": args.height, "deviceScaleFactor": 1,
                "mobile": False}, s)
        url = "file://" + os.path.abspath(args.html)
        b.call("Page.navigate", {"url": url}, s)
        b.wait_event("Page.loadEventFired")
        b.drain(0.3)
        probe = json.loads(b.call("Runtime.evaluate", {"expression": PROBE,
                                                       "returnByValue": True}, s)
                           ["result"]["value"])
        if args.dom:
            dom = b.call("Runtime.evaluate", {"expression": "document.documentElement.outerHTML",
                                              "returnByValue": True}, s)["result"]["value"]
            with open(args.dom, "w", encoding="utf-8") as f:
                f.write(dom)
        size = b.call("Page.getLayoutMetrics", {}, s)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": args.width, "height": min(size["height"], 16000),
                "scale": 1}
        if args.crop:
            clip = crop_box(b, s, args.crop)
        shot = b.call("Page.captureScreenshot",
                      {"format": "png", "captureBeyondViewport": True, "clip": clip}, s)
        with open(args.png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        pages = 0
        if args.pdf:
            pdf = base64.b64decode(b.call("Page.printToPDF", {"printBackground": True,
                                                              "preferCSSPageSize": True}, s)
                                   ["data"])
            with open(args.pdf, "wb") as f:
                f.write(pdf)
            pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        b.drain(0.2)
        return probe, page_problems(b.events, lambda u: u == url)[0], pages
    finally:
        b.close()


def expect_doc(c, probe, doc):
    """Everything the report's JSON holds is on the page."""
    charts = [ch for s in doc["sections"] for ch in s.get("charts", [])]
    c.check(probe["h1"] == [doc["title"]], "the page's heading is the report's title",
            "%r" % probe["h1"])
    for s in doc["sections"]:
        c.check(s["title"] in probe["h2"], "section heading %r" % s["title"], "%r" % probe["h2"])
        for t in s.get("tables", []):
            if t["title"]:
                c.check(t["title"] in probe["h3"], "table heading %r" % t["title"])
    labels = [f for s in doc["sections"] for f in s.get("facts", {})]
    c.check(len(probe["facts"]) >= len(labels), "%d fact cards" % len(labels),
            "found %d" % len(probe["facts"]))
    c.check(len(probe["charts"]) == len(charts), "%d charts as in the report" % len(charts),
            "found %d" % len(probe["charts"]))
    for want, got in zip(charts, probe["charts"]):
        names = [x["name"] for x in want["series"]]
        c.check(got["series"] == names, "chart %r draws its %d series" % (want["title"], len(names)),
                "%r" % got["series"])


def expect_charts(c, probe, args):
    for ch in probe["charts"]:
        c.check(bool(ch["label"]) and bool(ch["title"]) and bool(ch["desc"]),
                "chart %r has an aria-label, a <title> and a <desc>" % ch["label"])
        c.check(ch["overlaps"] == 0, "chart %r: its %d x labels do not overlap"
                % (ch["label"], ch["xlabels"]), "%d overlaps" % ch["overlaps"])
        c.check(not ch["outside"], "chart %r: every label inside the chart" % ch["label"],
                "outside: %r" % ch["outside"])
    if args.charts is not None:
        c.check(len(probe["charts"]) == args.charts, "%d charts" % args.charts,
                "found %d" % len(probe["charts"]))
    if args.series:
        got = [len(ch["series"]) for ch in probe["charts"]]
        c.check(got == args.series, "series per chart %r" % args.series, "found %r" % got)
    for title, n in args.chart:
        got = [len(ch["series"]) for ch in probe["charts"] if title in (ch["label"] or "")]
        c.check(n in got, "a chart titled %r with %d series" % (title, n),
                "charts so titled have %r series" % got)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html")
    ap.add_argument("--png", required=True)
    ap.add_argument("--crop", help="CSS selector: the screenshot shows only that element")
    ap.add_argument("--dom")
    ap.add_argument("--pdf")
    ap.add_argument("--json", help="the report as `cairn report --format json`")
    ap.add_argument("--name", default=None)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium")
                    or shutil.which("chromium-browser"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--h1")
    ap.add_argument("--h2", action="append", default=[])
    ap.add_argument("--charts", type=int)
    ap.add_argument("--series", type=lambda s: [int(x) for x in s.split(",")],
                    help="N,N,...: the series of each chart of the page, in order")
    ap.add_argument("--chart", action="append", default=[],
                    type=lambda s: (s.rsplit("=", 1)[0], int(s.rsplit("=", 1)[1])),
                    help="TITLE=N: a chart whose title holds TITLE draws N series")
    args = ap.parse_args()
    if not args.chromium:
        print("page_check: no chromium found (install Debian's chromium)", file=sys.stderr)
        return 2
    # a SIGTERM (ctest's timeout) still stops the browser: unwind through close()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("page_check: terminated"))
    c = Checks(args.name or os.path.basename(args.html))
    try:
        probe, problems, pages = load(args)
    except (RuntimeError, OSError, KeyError, ValueError) as e:
        print("page_check: %s: %s" % (args.html, e), file=sys.stderr)
        return 2
    c.check(not problems, "no console message, error or outside request", "; ".join(problems))
    c.check(probe["scripts"] == 0, "no script on the page")
    c.check(probe["overflow"] <= 0, "nothing wider than a %d px window" % args.width,
            "%d px too wide" % probe["overflow"])
    if args.pdf:
        c.check(pages > 0, "prints to %d page(s)" % pages)
    if args.h1 is not None:
        c.check(args.h1 in probe["h1"], "heading %r" % args.h1, "%r" % probe["h1"])
    for h in args.h2:
        c.check(h in probe["h2"], "section heading %r" % h, "%r" % probe["h2"])
    if args.json:
        with open(args.json, encoding="utf-8") as f:
            expect_doc(c, probe, json.load(f))
    expect_charts(c, probe, args)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
