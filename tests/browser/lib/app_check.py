"""app_check.py — the cairn app (`cairn ui`) used as a coordinator would, in a
real headless Chromium: open the printed URL, read the dashboard, create a
partner and a commitment through the forms, meet the CLI's own validation
messages, find the records in the lists, see an edit that a bundle from a
second store brings turn into a conflict on its own (the app polls), resolve
it with a click, read the members page and make an invite, import a CSV file
(refused line by line, then done), and sync now through the relay; at a
laptop's width and a tablet's.
Every console message, exception or request for anything outside the app fails
the run, except the refusals the steps provoke on purpose. Screenshots go to
--art (app-*.png).

Usage: python3 app_check.py --url URL --cairn BIN --ana STORE --dan STORE --art DIR
                            --bad-value MSG --missing MSG
"""
import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from cdp import Browser, Checks, page_problems


class App:
    """One tab of the app, with the steps the checks need."""

    def __init__(self, b, session, art, base):
        self.b, self.s, self.art, self.base = b, session, art, base
        self.expected_refusals = 0  # 4xx replies the steps provoke

    def js(self, expr):
        r = self.b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                             "awaitPromise": True}, self.s)
        if "exceptionDetails" in r:
            raise RuntimeError("script failed: %s: %s" % (expr[:80], r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, what, timeout=15):
        end = time.monotonic() + timeout
        expr = "(() => { const v = (%s); return v instanceof Node ? true : v; })()" % expr
        while time.monotonic() < end:
            v = self.js(expr)
            if v:
                return v
            self.b.drain(0.1)
        raise RuntimeError("waited %ds for %s" % (timeout, what))

    def go(self, hash_, ready):
        self.js("location.hash = %s" % json.dumps(hash_))
        return self.wait(ready, "page %s" % hash_)

    def text(self, selector):
        return self.js("(() => { const e = document.querySelector(%s); "
                       "return e ? e.textContent.replace(/\\s+/g, ' ').trim() : null; })()"
                       % json.dumps(selector))

    def set(self, selector, value):
        ok = self.js("""(() => { const e = document.querySelector(%s); if (!e) return false;
            e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true}));
            e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()"""
                     % (json.dumps(selector), json.dumps(value)))
        if not ok:
            raise RuntimeError("no field %s on the page" % selector)

    def pick(self, selector, label):
        """Choose the option of a select by its visible text."""
        ok = self.js("""(() => { const e = document.querySelector(%s); if (!e) return false;
            const o = Array.from(e.options).find(o => o.textContent === %s); if (!o) return false;
            e.value = o.value; e.dispatchEvent(new Event('change', {bubbles: true}));
            return true; })()""" % (json.dumps(selector), json.dumps(label)))
        if not ok:
            raise RuntimeError("no option %r in %s" % (label, selector))

    def click(self, selector):
        ok = self.js("(() => { const e = document.querySelector(%s); if (!e) return false; "
                     "e.click(); return true; })()" % json.dumps(selector))
        if not ok:
            raise RuntimeError("nothing to click at %s" % selector)

    def click_text(self, selector, text):
        ok = self.js("""(() => { const e = Array.from(document.querySelectorAll(%s))
            .find(x => x.textContent.includes(%s)); if (!e) return false; e.click();
            return true; })()""" % (json.dumps(selector), json.dumps(text)))
        if not ok:
            raise RuntimeError("no %s holding %r" % (selector, text))

    def shot(self, name, width):
        """A screenshot of the page (the notices of earlier steps cleared)."""
        self.js("document.getElementById('toasts').replaceChildren()")
        self.b.drain(0.3)
        size = self.b.call("Page.getLayoutMetrics", {}, self.s)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": width, "height": min(max(size["height"], 600), 6000),
                "scale": 1}
        png = self.b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport":
                                                     True, "clip": clip}, self.s)
        path = os.path.join(self.art, "app-%s.png" % name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(png["data"]))
        return path

    def overflow(self):
        return self.js("document.documentElement.scrollWidth - window.innerWidth")


def refused(c, app, cli_message, field, what):
    """Save the form and expect its refusal: the CLI's message (cli_message,
    less its leading "TYPE ID: ", which the form leaves out) and the field
    marked. Returns the message shown."""
    app.click("form.form button[type=submit]")
    msg = app.wait("(() => { const m = document.querySelector('form.form .msg.bad'); "
                   "return m && !m.hidden && m.textContent; })()", "the message for %s" % what)
    app.expected_refusals += 1
    want = cli_message.split(": ", 1)[1]
    c.check(want in msg, "%s is refused with the CLI's message (%r)" % (what, want), msg)
    c.check(app.js("!!document.querySelector('.field.bad[data-field=%s]')" % field),
            "the %s field is marked" % field)
    return msg


def cli(args, store, *argv):
    r = subprocess.run([args.cairn, "--store", store] + list(argv), capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("cairn %s: %s" % (" ".join(argv), r.stderr.strip()))
    return r.stdout


def laptop(c, app, args):
    """The steps at 1280 px."""
    nav = "document.querySelectorAll('#side a').length > 10"
    app.wait(nav, "the menu")
    c.check(app.text(".brand") and "Northside Cradle to Career" in app.text(".brand"),
            "the top bar names the network", app.text(".brand"))
    c.check("Never synced" in (app.text("#sync") or ""), "the sync status: never synced",
            app.text("#sync"))
    c.check(app.js("location.search") == "", "the token is taken out of the address bar")

    # the dashboard frames the meeting report
    app.wait("(() => { const f = document.querySelector('iframe.report'); return f && "
             "f.contentDocument && f.contentDocument.querySelectorAll('svg.chart').length > 0 "
             "&& f.offsetHeight > 1000; })()", "the meeting report in the dashboard")
    h1 = app.js("document.querySelector('iframe.report').contentDocument.querySelector('h1')"
                ".textContent")
    charts = app.js("document.querySelector('iframe.report').contentDocument"
                    ".querySelectorAll('svg.chart').length")
    c.check(h1 == "Accountability meeting", "the dashboard shows the meeting report", h1)
    c.check(charts >= 3, "with its charts (%d)" % charts)
    app.shot("dashboard", 1280)
    sync_now(c, app, args)

    # a partner through the form
    app.go("#/new/partner", "document.querySelector('form.form #f-name')")
    app.set("#f-name", "Riverside Food Bank")
    app.pick("#f-kind", "nonprofit")
    app.pick("#f-stage", "engaged")
    app.click("form.form button[type=submit]")
    app.wait("location.hash.startsWith('#/record/partner/')", "the new partner's page")
    app.wait("document.querySelector('main h1') && document.querySelector('main h1')"
             ".textContent === 'Riverside Food Bank'", "the partner's name as the title")
    pid = app.js("decodeURIComponent(location.hash.split('/')[3])")
    got = json.loads(cli(args, args.ana, "get", "partner", pid, "--json"))
    c.check(got.get("name") == "Riverside Food Bank" and got.get("stage") == "engaged",
            "the form wrote the partner (cairn get agrees)", json.dumps(got))
    app.wait("document.querySelectorAll('ol.history > li').length === 1", "its history")
    c.check("Ana" in app.text("ol.history"), "its history says who made it", app.text("ol.history"))
    app.shot("partner", 1280)

    # a commitment: first without its partner (the CLI's message), then with it
    app.go("#/new/commitment", "document.querySelector('form.form #f-partner')")
    app.set("#f-title", "Weekend food boxes for 60 families")
    app.set("#f-due", "2027-02-01")
    app.pick("#f-status", "planned")
    refused(c, app, args.missing, "partner", "a missing partner")
    app.shot("form-error", 1280)
    app.pick("#f-partner", "Riverside Food Bank")
    app.click("form.form button[type=submit]")
    app.wait("location.hash.startsWith('#/record/commitment/')", "the new commitment's page")
    app.wait("document.querySelector('main dl.fields') && document.querySelector('main dl.fields')"
             ".textContent.includes('Riverside Food Bank')", "the commitment's partner by name")

    # a bad value: the same message as `cairn put indicator i1 target=forty`
    app.go("#/edit/indicator/i1", "document.querySelector('form.form #f-target')")
    app.set("#f-target", "forty")
    refused(c, app, args.bad_value, "target", "a bad number")
    target = json.loads(cli(args, args.ana, "get", "indicator", "i1", "--json")).get("target")
    c.check(target == 60, "nothing was written (target still 60)", repr(target))
    app.click_text("form.form a.button", "Cancel")

    # the lists
    app.go("#/list/partner", "document.querySelector('table.list tbody')")
    c.check("Riverside Food Bank" in app.text("table.list tbody"), "the partner is in the list")
    app.go("#/list/partner?search=riverside", "document.querySelector('p.count')")
    rows = app.js("document.querySelectorAll('table.list tbody tr').length")
    c.check(rows == 1, "searching 'riverside' finds it alone", "%d rows" % rows)
    app.go("#/list/commitment?where=" + "status%3Dplanned&sort=-due",
           "document.querySelector('table.list tbody') && document.querySelector('.chip')")
    body = app.text("table.list tbody")
    c.check("Weekend food boxes for 60 families" in body and "Parent workshops" not in body,
            "filtering commitments by status", body[:200])
    c.check("Status is planned" in app.text(".chips"), "the filter is shown in words",
            app.text(".chips"))
    app.shot("list", 1280)

    # a conflict brought by a bundle from Dan's store, seen without reloading
    app.go("#/edit/partner/lib", "document.querySelector('form.form #f-name')")
    app.set("#f-name", "Lincoln Library (main branch)")
    app.click("form.form button[type=submit]")
    app.wait("location.hash === '#/record/partner/lib' && document.querySelector('main h1')"
             ".textContent === 'Lincoln Library (main branch)'", "the saved edit")
    cli(args, args.dan, "put", "partner", "lib", "name=Lincoln Public Library")
    bundle = os.path.join(args.art, "..", "app-dan.bdl")
    cli(args, args.dan, "bundle", "create", bundle)
    cli(args, args.ana, "bundle", "apply", bundle)
    os.unlink(bundle)
    app.wait("document.querySelector('#side .count') && "
             "document.querySelector('#side .count').textContent === '1'",
             "the menu's count of conflicts, by itself", timeout=20)
    app.wait("document.querySelector('.card.conflict')", "the conflict on the open page",
             timeout=20)
    heads = app.js("Array.from(document.querySelectorAll('.card.conflict ul.heads li .val'))"
                   ".map(e => e.textContent)")
    c.check(sorted(heads) == ["Lincoln Library (main branch)", "Lincoln Public Library"],
            "both names are offered", repr(heads))
    c.check("Dan" in app.text(".card.conflict") and "Ana" in app.text(".card.conflict"),
            "with who wrote each", app.text(".card.conflict"))
    app.shot("conflict", 1280)
    app.js("""Array.from(document.querySelectorAll('.card.conflict ul.heads li'))
              .find(li => li.textContent.includes('Lincoln Public Library'))
              .querySelector('button').click()""")
    app.wait("!document.querySelector('.card.conflict') && document.querySelector('main h1')"
             ".textContent === 'Lincoln Public Library'", "the conflict resolved")
    c.check(cli(args, args.ana, "conflicts").strip() == "", "cairn conflicts: nothing left")
    got = json.loads(cli(args, args.ana, "get", "partner", "lib", "--json"))
    c.check(got.get("name") == "Lincoln Public Library", "the kept name is the record's",
            got.get("name"))
    app.wait("!document.querySelector('#side .count')", "the menu's count gone")

    # what changed, members
    app.go("#/changes", "document.querySelector('ul.feed')")
    feed = app.text("main")
    c.check("Dan changed partner" in feed and "Ana changed commitment" in feed,
            "what changed says who changed what", feed[:300])
    app.go("#/members", "document.querySelector('main table.list')")
    members = app.text("main")
    c.check("Ana" in members and "Dan" in members and "owner" in members and "editor" in members,
            "the members page lists Ana (owner) and Dan (editor)", members[:300])
    app.set("#inv-name", "Eve Okafor")
    app.pick("#inv-org", "Riverside Food Bank")
    app.click_text("form.invite button", "Make the invite")
    code = app.wait("(() => { const e = document.querySelector('.invite-code code.code'); "
                    "return e && e.textContent; })()", "the invite's code")
    listed = json.loads(cli(args, args.ana, "members", "--json"))["invites"]
    eve = [i for i in listed if i.get("name") == "Eve Okafor"]
    c.check(len(code) > 40 and eve and eve[0]["status"] == "pending" and
            eve[0]["organization"] == pid, "an invite made in the app is pending for Eve, "
            "at Riverside Food Bank", json.dumps(listed))
    row = app.wait("(() => { const r = Array.from(document.querySelectorAll('main section.card')"
                   "[1].querySelectorAll('tbody tr')).find(r => r.textContent.includes('Eve Okafor'));"
                   " return r && r.textContent; })()", "the invite in the list")
    c.check("pending" in row and "Riverside Food Bank" in row and "Cancel" in row,
            "the list shows the new invite at once, pending, with a Cancel button", row)
    app.shot("members", 1280)
    c.check(app.overflow() <= 0, "nothing wider than the window at 1280 px")
    import_files(c, app, args)


def import_files(c, app, args):
    """A CSV with two bad rows: each error by line, nothing written; then a
    good one, checked, then imported on a click."""
    bad = os.path.join(args.art, "..", "app-partners-bad.csv")
    good = os.path.join(args.art, "..", "app-partners.csv")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("id,name,kind\np7,Hoover PTA,nonprofit\np8,Lakeside Clinic,clinicc\n"
                "p9,,school\n")
    with open(good, "w", encoding="utf-8") as f:
        f.write("id,name,kind\np7,Hoover PTA,nonprofit\np8,Lakeside Clinic,clinic\n")
    app.go("#/import", "document.querySelector('#import-file')")
    app.pick("#import-type", "Partner")
    for path, ready in ((bad, "table.errors tbody"), (good, ".import-result .msg.good")):
        root = app.b.call("DOM.getDocument", {}, app.s)["root"]["nodeId"]
        node = app.b.call("DOM.querySelector", {"nodeId": root, "selector": "#import-file"},
                          app.s)["nodeId"]
        app.b.call("DOM.setFileInputFiles", {"files": [os.path.abspath(path)], "nodeId": node},
                   app.s)
        app.click_text("form.form button", "Check the file")
        app.wait("document.querySelector(%s)" % json.dumps(ready), "the import's check")
        if path == bad:
            app.expected_refusals += 1
            rows = app.js("Array.from(document.querySelectorAll('table.errors tbody tr'))"
                          ".map(r => r.textContent)")
            c.check(len(rows) == 2 and rows[0].startswith("3kind") and "did you mean" in rows[0]
                    and rows[1].startswith("4"), "a bad file: each error with its line and "
                    "column, before anything is written", repr(rows))
            c.check("nothing was imported" in app.text(".import-result"), "it says nothing "
                    "was imported", app.text(".import-result"))
            app.shot("import-errors", 1280)
    c.check("2 new" in app.text(".import-result"), "a good file: 2 new records, ready",
            app.text(".import-result"))
    app.click_text(".import-result button", "Import 2 records")
    app.wait("document.querySelector('.import-result') && document.querySelector("
             "'.import-result').textContent.includes('Imported')", "the import")
    names = json.loads(cli(args, args.ana, "list", "partner", "--json"))
    c.check({"Hoover PTA", "Lakeside Clinic"} <= {x.get("name") for x in names},
            "the partners are in the store (cairn list)")
    for path in (bad, good):
        os.unlink(path)


def sync_now(c, app, args):
    """Sync now through the relay: the status says what was sent."""
    app.wait("document.getElementById('sync').textContent.includes('Never synced')",
             "the sync status before any sync")
    c.check("to send" in app.text("#sync"), "the status counts the changes to send",
            app.text("#sync"))
    app.click("#sync button.syncnow")
    app.wait("!document.querySelector('#sync button.syncnow').disabled", "the sync's end",
             timeout=40)
    c.check(not app.js("!!document.querySelector('.toast.bad')"), "Sync now did not fail",
            app.text("#toasts"))
    done = app.wait("(() => { const t = Array.from(document.querySelectorAll('.toast.good'))"
                    ".find(t => t.textContent.startsWith('Synced:')); return t && t.textContent; "
                    "})()", "the notice of the sync's end", timeout=40)
    c.check(" sent, " in done, "the app says what the background sync did", done)
    app.wait("document.getElementById('sync').textContent.includes('Synced just now') && "
             "document.getElementById('sync').textContent.includes('all sent')",
             "the status after Sync now", timeout=40)
    st = json.loads(cli(args, args.ana, "status", "--json"))
    c.check(st.get("unacknowledged") == 0, "Sync now sent everything (cairn status agrees)",
            json.dumps(st))
    app.shot("synced", 1280)


def tablet(c, app):
    """A tablet's screen: the menu folds away; pages still fit."""
    app.go("#/list/commitment", "document.querySelector('table.list tbody')")
    c.check(app.js("getComputedStyle(document.getElementById('menu')).display") != "none",
            "a menu button on a tablet")
    c.check(app.overflow() <= 0, "the list fits 768 px (the table scrolls inside)",
            "%d px too wide" % app.overflow())
    app.shot("list-tablet", 768)
    app.go("#/record/partner/lib", "document.querySelector('main dl.fields')")
    c.check(app.overflow() <= 0, "a record fits 768 px")
    app.shot("record-tablet", 768)
    app.go("#/", "document.querySelector('iframe.report')")
    app.wait("document.querySelector('iframe.report').offsetHeight > 1000", "the report framed")
    c.check(app.overflow() <= 0, "the dashboard fits 768 px")
    app.shot("dashboard-tablet", 768)


def run(args, c):
    deadline = time.monotonic() + args.timeout
    b = Browser(args.chromium, 1280, 900, deadline)
    base = args.url.split("?")[0].rstrip("/")
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            b.call(domain + ".enable", {}, s)
        app = App(b, s, args.art, base)
        b.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900,
                                                      "deviceScaleFactor": 1, "mobile": False}, s)
        b.call("Page.navigate", {"url": args.url}, s)
        b.wait_event("Page.loadEventFired")
        laptop(c, app, args)
        b.call("Emulation.setDeviceMetricsOverride", {"width": 768, "height": 1024,
                                                      "deviceScaleFactor": 1, "mobile": True}, s)
        tablet(c, app)
        b.drain(0.5)
        found, refused = page_problems(b.events, lambda u: u.startswith(base) or u == "about:blank",
                                       count_api_refusals=True)
        c.check(not found, "no console message, error or outside request", "; ".join(found))
        c.check(refused == app.expected_refusals, "only the %d refusals the steps asked for"
                % app.expected_refusals, "%d 4xx replies" % refused)
    finally:
        b.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--ana", required=True)
    ap.add_argument("--dan", required=True)
    ap.add_argument("--art", required=True)
    ap.add_argument("--bad-value", required=True)
    ap.add_argument("--missing", required=True)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium"))
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("app_check: terminated"))
    c = Checks("app")
    try:
        run(args, c)
    except (RuntimeError, OSError, KeyError, ValueError, subprocess.TimeoutExpired) as e:
        print("FAIL app: %s" % e)
        return 1
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
