"""cdp.py — a headless Chromium driven over its DevTools protocol on a pipe
(--remote-debugging-pipe), and the ok/FAIL lines the browser tests print.
Shared by page_check.py (the reports) and app_check.py (the app)."""
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time


class Browser:
    """A headless Chromium spoken to over --remote-debugging-pipe."""

    def __init__(self, binary, width, height, deadline):
        self.deadline = deadline
        self.profile = tempfile.mkdtemp(prefix="cairn-chromium-")
        self.events = []
        self.next_id = 0
        self.buf = b""
        to_child, self.wfd = os.pipe()
        self.rfd, from_child = os.pipe()
        args = [binary, "--headless", "--disable-gpu", "--remote-debugging-pipe",
                "--user-data-dir=" + self.profile, "--window-size=%d,%d" % (width, height),
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--mute-audio",
                "--force-color-profile=srgb", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")

        def fds():  # the child reads commands on fd 3, writes answers on fd 4
            a, b = os.dup(to_child), os.dup(from_child)  # neither is 3 or 4 now
            os.dup2(a, 3)  # dup2 to another number: inherited across exec
            os.dup2(b, 4)

        self.log = open(os.path.join(self.profile, "stderr.log"), "wb")
        env = dict(os.environ)  # its caches and settings in the profile, not in ~
        env.update(HOME=self.profile, XDG_CONFIG_HOME=os.path.join(self.profile, "config"),
                   XDG_CACHE_HOME=os.path.join(self.profile, "cache"))
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, preexec_fn=fds, close_fds=False,
                                     start_new_session=True, env=env)
        os.close(to_child)
        os.close(from_child)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self):
        """One message, or an error past the deadline."""
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                raise RuntimeError("the browser did not answer in time")
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed its pipe (exited?)")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            msg = self.read()
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"].get("message")))
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method):
        for i, msg in enumerate(self.events):
            if msg.get("method") == method:
                return self.events.pop(i)
        while True:
            msg = self.read()
            if msg.get("method") == method:
                return msg
            self.events.append(msg)

    def drain(self, seconds):
        """Collect events for a little while (late console messages, requests)."""
        end = min(self.deadline, time.monotonic() + seconds)
        while select.select([self.rfd], [], [], max(0, end - time.monotonic()))[0]:
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                break
            self.buf += chunk
            while b"\0" in self.buf:
                msg, self.buf = self.buf.split(b"\0", 1)
                self.events.append(json.loads(msg))

    def close(self):
        try:
            if self.proc.poll() is None:
                self.send("Browser.close")
                self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        # its helper processes share its process group: end them all, and wait
        # until none is left before removing the profile they write to
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            self.proc.poll()
            time.sleep(0.05)
        self.proc.wait()
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Checks:
    def __init__(self, name):
        self.name = name
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            print("ok   %s: %s" % (self.name, what))
        else:
            self.failed += 1
            print("FAIL %s: %s%s" % (self.name, what, (": " + detail) if detail else ""))


def page_problems(events, is_own, count_api_refusals=False):
    """Console messages, exceptions, log errors and requests for anything that
    is_own(url) does not accept, as lines; and the 4xx replies of /api/ seen,
    counted apart instead of listed when count_api_refusals (steps that provoke
    refusals on purpose compare the count)."""
    out, refused = [], 0
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            out.append("console.%s: %s" % (p.get("type"), args))
        elif m == "Runtime.exceptionThrown":
            out.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            if count_api_refusals and entry.get("source") == "network" and \
               "/api/" in entry.get("url", "") and " 4" in entry.get("text", ""):
                refused += 1
            else:
                out.append("log error: %s" % entry.get("text"))
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not is_own(url) and not url.startswith("data:"):
                out.append("loaded from elsewhere: %s" % url)
    return out, refused

