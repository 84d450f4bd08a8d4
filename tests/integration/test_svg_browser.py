#!/usr/bin/env python3
"""The interactive flame graph (src/fmt_svg.c) in a real browser.

tests/tools/svg_sample writes the flame graph of a known profile (its header
lists the stacks); this test opens it in Debian's chromium, headless, and
drives it through the DevTools protocol, spoken here over a minimal RFC 6455
websocket client (python3 standard library only):

  - the document loads with no script error and draws every frame it holds,
    including the hostile name a<b>&"c' intact, and not the frames below the
    0.1% cut;
  - hovering a frame (a real mouse move) fills the info bar with
    "function (module) - value, share";
  - clicking a frame (a real mouse click) zooms: the frame and its ancestors
    become full width, its callees scale with it, everything else is hidden;
    "Reset zoom" undoes it;
  - window.pprobeSearch highlights the matching frames in the search colour
    and reports the matched share; the "Search" control does the same
    through prompt(); Escape clears it;
  - a 50000-sample profile with deep stacks loads within bounds.

Screenshots are saved in ARTIFACTS_DIR (flamegraph.png, flamegraph-zoom.png,
flamegraph-search.png, flamegraph-large.png).  Chromium runs in its own
process group and is killed in every case; every wait has a timeout.

Environment (tests/integration/svg_tests.cmake): SVG_SAMPLE, ARTIFACTS_DIR,
TEST_TMPDIR; CHROMIUM overrides /usr/bin/chromium.  Without chromium the
test is skipped (exit 77).
"""

import base64
import hashlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Skip, run, wait_for  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
START_TIMEOUT = 60.0   # chromium up and its DevTools port known
CALL_TIMEOUT = 30.0    # one DevTools command
LOAD_TIMEOUT = 30.0    # one document loaded and its script run
UI_TIMEOUT = 10.0      # the page reacting to an input event

# From the svg_sample header (cpu, 10ms per sample, 1340 samples in all).
TOTAL_SAMPLES = 1340
EXPECTED_FRAMES = ["all", "main", "work", "compute", "lib_hash", "libc.so.6+0x1234",
                   "recurse", "jit_stub", "worker_loop", "tiny_parent", "a<b>&\"c'"]
HOSTILE = "a<b>&\"c'"
SEARCH_COLOUR = "rgb(230, 0, 230)"
LARGE_MAX_BYTES = 8 * 1024 * 1024
LARGE_MAX_FRAMES = 20000


# ---------------------------------------------------------------------------
# A minimal websocket client (RFC 6455): text frames out (masked, as a
# client must), text/continuation/ping/close in.


class WebSocket:
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, timeout):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise Failure("unsupported websocket URL %r" % url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n" % (path, u.hostname, u.port or 80, key))
        self.sock.sendall(request.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv_some(time.monotonic() + timeout)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise Failure("websocket handshake refused: %s" % lines[0])
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                   for l in lines[1:] if ":" in l}
        if headers.get("sec-websocket-accept") != accept:
            raise Failure("websocket handshake: bad Sec-WebSocket-Accept")

    def _recv_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("websocket: timed out waiting for data")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            raise Failure("websocket: timed out waiting for data")
        if not data:
            raise Failure("websocket: connection closed by the browser")
        return data

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            self.buf += self._recv_some(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def recv_text(self, deadline):
        """The next text message (fragments joined); answers pings."""
        message = b""
        while True:
            b0, b1 = self._read_exact(2, deadline)
            fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2, deadline))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8, deadline))[0]
            mask = self._read_exact(4, deadline) if b1 & 0x80 else None
            payload = self._read_exact(n, deadline)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise Failure("websocket: the browser closed the connection")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if fin:
                    return message.decode()

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


# ---------------------------------------------------------------------------
# DevTools protocol on one page.


class DevTools:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, timeout=CALL_TIMEOUT):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send_text(json.dumps({"id": my_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv_text(deadline))
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise Failure("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout):
        """The first event named method received so far or within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method:
                    return self.events.pop(i)
            msg = json.loads(self.ws.recv_text(deadline))
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression):
        """Value of a JavaScript expression in the page (JSON-able)."""
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise Failure("page script %r raised: %s" % (
                expression, d.get("exception", {}).get("description", d.get("text"))))
        return r["result"].get("value")

    def exceptions(self):
        return [e["params"]["exceptionDetails"] for e in self.events
                if e["method"] == "Runtime.exceptionThrown"]


# ---------------------------------------------------------------------------
# Chromium, in its own process group, killed in every case.


class Browser:
    def __init__(self, ctx):
        self.ctx = ctx
        self.profile_dir = ctx.tmp_path("chromium-profile")
        os.makedirs(self.profile_dir, exist_ok=True)
        # A private HOME: chromium's crash handler keeps its database under
        # ~/.config, and its handler processes are found by this path.
        self.home = ctx.tmp_path("chromium-home")
        os.makedirs(self.home, exist_ok=True)
        env = dict(os.environ, HOME=self.home,
                   XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
                   XDG_CACHE_HOME=os.path.join(self.home, ".cache"))
        self.log_path = ctx.tmp_path("chromium.log")
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--mute-audio", "--window-size=1200,900",
                "--user-data-dir=" + self.profile_dir, "--remote-debugging-port=0",
                "about:blank"]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        ctx.cleanups.append(self.kill)
        self.ws = None

    def _log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def connect(self):
        """DevTools on the page: the port from DevToolsActivePort, the
        page's websocket from /json/list."""
        port_file = os.path.join(self.profile_dir, "DevToolsActivePort")

        def port():
            if self.proc.poll() is not None:
                raise Failure("chromium exited with %s:\n%s"
                              % (self.proc.returncode, self._log_tail()))
            try:
                with open(port_file) as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                return None
            return int(lines[0]) if len(lines) >= 2 and lines[0].isdigit() else None

        p = wait_for(port, START_TIMEOUT)
        if not p:
            raise Failure("chromium wrote no DevToolsActivePort in %ds:\n%s"
                          % (START_TIMEOUT, self._log_tail()))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def page():
            try:
                with opener.open("http://127.0.0.1:%d/json/list" % p, timeout=5) as r:
                    targets = json.load(r)
            except OSError:
                return None
            pages = [t for t in targets if t.get("type") == "page"]
            return pages[0]["webSocketDebuggerUrl"] if pages else None

        url = wait_for(page, START_TIMEOUT, interval=0.05)
        if not url:
            raise Failure("chromium on port %d lists no page" % p)
        self.ws = WebSocket(url, CALL_TIMEOUT)
        return DevTools(self.ws)

    def _strays(self):
        """Live processes of this browser outside its process group (the
        crash handlers start their own sessions): those whose command line
        names our private HOME or profile directory."""
        found = []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % name, "rb") as f:
                    cmdline = f.read().decode(errors="replace")
                with open("/proc/%s/stat" % name) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and (self.home in cmdline or self.profile_dir in cmdline):
                found.append(int(name))
        return found

    def kill(self):
        """Kill the browser's process group, then any stray process of it."""
        if self.ws:
            self.ws.close()
            self.ws = None
        if self.log.closed:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print("cleanup: chromium (pid %d) did not exit" % self.proc.pid)
        for pid in self._strays():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not wait_for(lambda: not self._strays(), 10):
            print("cleanup: chromium processes left: %s" % self._strays())
        self.log.close()


# ---------------------------------------------------------------------------
# Page helpers


def frame_js(name):
    """JS expression: the <g class="frame"> named name (first one)."""
    return ("Array.prototype.find.call(document.querySelectorAll('g.frame'), "
            "function (g) { return g.getAttribute('data-name') === %s; })" % json.dumps(name))


def rect_of(dt, name):
    """{x, y, width, height, shown} of a frame's box, in CSS px, or None."""
    return dt.evaluate("""(function () {
        var g = %s;
        if (!g) return null;
        var r = g.querySelector('rect'), b = r.getBoundingClientRect();
        return { x: b.x, y: b.y, width: +r.getAttribute('width'), height: b.height,
                 shown: getComputedStyle(g).display !== 'none',
                 parent: g.classList.contains('parent'),
                 fill: getComputedStyle(r).fill };
    })()""" % frame_js(name))


def mouse(dt, kind, x, y, **extra):
    params = {"type": kind, "x": x, "y": y}
    params.update(extra)
    dt.call("Input.dispatchMouseEvent", params)


def click(dt, x, y):
    mouse(dt, "mouseMoved", x, y)
    mouse(dt, "mousePressed", x, y, button="left", clickCount=1)
    mouse(dt, "mouseReleased", x, y, button="left", clickCount=1)


def click_frame(dt, name):
    r = rect_of(dt, name)
    if not r or not r["shown"]:
        raise Failure("frame %r is not on the page to click: %r" % (name, r))
    click(dt, r["x"] + r["width"] / 2, r["y"] + r["height"] / 2)


def click_element(dt, element_id):
    b = dt.evaluate("""(function () {
        var b = document.getElementById(%s).getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    })()""" % json.dumps(element_id))
    click(dt, b["x"], b["y"])


def screenshot(ctx, dt, path):
    height = int(float(dt.evaluate("document.documentElement.getAttribute('height')")))
    dt.call("Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": min(height, 4000), "deviceScaleFactor": 1,
             "mobile": False})
    data = dt.call("Page.captureScreenshot", {"format": "png"})["data"]
    png = base64.b64decode(data)
    ctx.check(png[:8] == b"\x89PNG\r\n\x1a\n", "screenshot %s is not a PNG" % path)
    with open(path, "wb") as f:
        f.write(png)
    ctx.note("screenshot: %s (%d bytes)" % (path, len(png)))


def load(ctx, dt, path):
    """Navigate to the SVG file and wait until its script has run."""
    dt.events = [e for e in dt.events if e["method"] != "Page.loadEventFired"]
    started = time.monotonic()
    dt.call("Page.navigate", {"url": "file://" + os.path.abspath(path)})
    dt.wait_event("Page.loadEventFired", LOAD_TIMEOUT)
    ready = wait_for(lambda: dt.evaluate("window.pprobeReady === true"), LOAD_TIMEOUT)
    if not ready:
        raise Failure("%s: the flame graph's script did not run (window.pprobeReady unset); "
                      "exceptions: %r" % (path, dt.exceptions()))
    return time.monotonic() - started


def near(a, b, tolerance=0.5):
    return a is not None and b is not None and abs(a - b) <= tolerance


# ---------------------------------------------------------------------------


def check_static(ctx, dt):
    n = dt.evaluate("document.querySelectorAll('g.frame').length")
    declared = int(dt.evaluate("document.documentElement.getAttribute('data-frames')"))
    ctx.check(n and n > 0, "no frames rendered")
    ctx.check_eq("frames on the page vs data-frames", declared, n)
    names = set(dt.evaluate("Array.prototype.map.call(document.querySelectorAll('g.frame'), "
                            "function (g) { return g.getAttribute('data-name'); })"))
    for name in EXPECTED_FRAMES:
        ctx.check(name in names, "frame %r missing; frames: %s" % (name, sorted(names)))
    tiny = sorted(n for n in names if re.fullmatch(r"tiny_\d+", n))
    ctx.check(not tiny, "frames below the 0.1%% cut were written: %s" % tiny[:5])
    title = dt.evaluate("%s.querySelector('title').textContent" % frame_js(HOSTILE))
    ctx.check(title and title.startswith(HOSTILE + " (demo) "),
              "the hostile frame's tooltip is %r" % title)
    visible = dt.evaluate("""Array.prototype.filter.call(document.querySelectorAll('g.frame'),
        function (g) { var b = g.querySelector('rect').getBoundingClientRect();
                       return b.width > 0 && b.height > 0; }).length""")
    ctx.check(visible == n, "%s of %s frames have a box with an area" % (visible, n))


def check_hover(ctx, dt):
    r = rect_of(dt, "compute")
    mouse(dt, "mouseMoved", r["x"] + r["width"] / 2, r["y"] + r["height"] / 2)
    expected = "compute (demo) \u2014 3.00s, %.2f%%" % (300 * 100.0 / TOTAL_SAMPLES)
    got = wait_for(lambda: dt.evaluate("document.getElementById('details').textContent")
                   == expected, UI_TIMEOUT)
    ctx.check(got, "hover over compute: info bar shows %r, expected %r"
              % (dt.evaluate("document.getElementById('details').textContent"), expected))


def check_zoom(ctx, dt, artifacts):
    full = float(dt.evaluate("document.documentElement.getAttribute('data-frame-width')"))
    before = rect_of(dt, "work")
    ctx.check(near(before["width"], full * 530 / TOTAL_SAMPLES, 0.1),
              "work is %.2f px wide before the zoom, expected %.2f"
              % (before["width"], full * 530 / TOTAL_SAMPLES))
    click_frame(dt, "work")
    zoomed = wait_for(lambda: near(rect_of(dt, "work")["width"], full), UI_TIMEOUT)
    work = rect_of(dt, "work")
    ctx.check(zoomed, "click on work: its width is %.2f, expected the full %.2f"
              % (work["width"], full))
    ctx.check(near(work["x"], 10), "zoomed work starts at x=%.2f, expected 10" % work["x"])
    for name in ("main", "all"):
        r = rect_of(dt, name)
        ctx.check(r["shown"] and near(r["width"], full) and r["parent"],
                  "ancestor %s while zoomed into work: %r" % (name, r))
    compute = rect_of(dt, "compute")
    ctx.check(compute["shown"] and near(compute["width"], full * 300 / 530),
              "compute while zoomed into work: %r, expected width %.2f"
              % (compute, full * 300 / 530))
    for name in ("recurse", "worker_loop", "jit_stub", HOSTILE):
        r = rect_of(dt, name)
        ctx.check(not r["shown"], "%s is still shown while zoomed into work" % name)
    ctx.check(dt.evaluate("getComputedStyle(document.getElementById('unzoom')).display")
              != "none", "'Reset zoom' is not shown while zoomed")
    screenshot(ctx, dt, os.path.join(artifacts, "flamegraph-zoom.png"))

    click_element(dt, "unzoom")
    reset = wait_for(lambda: near(rect_of(dt, "work")["width"], before["width"]), UI_TIMEOUT)
    ctx.check(reset, "'Reset zoom': work is %.2f px wide, expected %.2f again"
              % (rect_of(dt, "work")["width"], before["width"]))
    ctx.check(rect_of(dt, "recurse")["shown"], "recurse hidden after 'Reset zoom'")
    ctx.check(not rect_of(dt, "main")["parent"], "main still faded after 'Reset zoom'")


def check_search(ctx, dt, artifacts):
    r = dt.evaluate("window.pprobeSearch('^lib_')")
    expected = 230 * 100.0 / TOTAL_SAMPLES
    ctx.check(r and r["matches"] == 1 and near(r["percent"], expected, 0.001),
              "pprobeSearch('^lib_') returned %r, expected 1 match, %.4f%%" % (r, expected))
    lib = rect_of(dt, "lib_hash")
    ctx.check_eq("lib_hash's colour while it matches", SEARCH_COLOUR, lib["fill"])
    for name in ("main", "work", "libc.so.6+0x1234"):
        ctx.check(rect_of(dt, name)["fill"] != SEARCH_COLOUR,
                  "%s has the search colour but does not match" % name)
    text = dt.evaluate("document.getElementById('matched').textContent")
    ctx.check_eq("matched share", "Matched: %.2f%% (2.30s)" % expected, text)

    # The visible "Search" control, through prompt() (answered here).
    dt.evaluate("window.prompt = function () { return 'stage_[01]'; }, true")
    click_element(dt, "search")
    marked = lambda: dt.evaluate("""Array.prototype.map.call(
        document.querySelectorAll('g.frame.match'),
        function (g) { return g.getAttribute('data-name'); })""")
    got = wait_for(lambda: (lambda m: m if m and "lib_hash" not in m else None)(marked()),
                   UI_TIMEOUT)
    ctx.check(got and all(re.search("stage_[01]", n) for n in got),
              "'Search' with stage_[01] highlighted %r" % (got,))
    fills = dt.evaluate("""Array.prototype.map.call(
        document.querySelectorAll('g.frame'), function (g) {
            return [g.getAttribute('data-name'),
                    getComputedStyle(g.querySelector('rect')).fill]; })""")
    wrong = [(n, f) for n, f in fills
             if (f == SEARCH_COLOUR) != bool(re.search("stage_[01]", n))]
    ctx.check(not wrong, "frames whose colour disagrees with the search: %r" % wrong[:5])
    screenshot(ctx, dt, os.path.join(artifacts, "flamegraph-search.png"))

    dt.call("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Escape", "code": "Escape",
                                       "windowsVirtualKeyCode": 27})
    dt.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Escape", "code": "Escape",
                                       "windowsVirtualKeyCode": 27})
    cleared = wait_for(lambda: dt.evaluate(
        "document.querySelectorAll('g.frame.match').length") == 0, UI_TIMEOUT)
    ctx.check(cleared, "Escape did not clear the search")


def check_large(ctx, dt, path, artifacts):
    size = os.path.getsize(path)
    ctx.check(size <= LARGE_MAX_BYTES, "large flame graph is %d bytes (limit %d)"
              % (size, LARGE_MAX_BYTES))
    elapsed = load(ctx, dt, path)
    n = dt.evaluate("document.querySelectorAll('g.frame').length")
    ctx.check(0 < n <= LARGE_MAX_FRAMES, "large flame graph has %s frames" % n)
    ctx.note("large flame graph: %d bytes, %d frames, loaded in %.2fs" % (size, n, elapsed))
    deepest = dt.evaluate("""Array.prototype.reduce.call(document.querySelectorAll('g.frame'),
        function (a, g) { return +g.getAttribute('data-d') > +a.getAttribute('data-d') ? g : a; })
        .getAttribute('data-d')""")
    ctx.check(int(deepest) >= 100, "large flame graph is only %s frames deep" % deepest)
    started = time.monotonic()
    ok = dt.evaluate("""(function () {
        var gs = document.querySelectorAll('g.frame');
        return window.pprobeZoom(gs[gs.length - 1]);
    })()""")
    ctx.check(ok, "pprobeZoom on the large flame graph failed")
    ctx.note("large flame graph: zoom took %.2fs" % (time.monotonic() - started))
    dt.evaluate("window.pprobeReset(), true")
    screenshot(ctx, dt, os.path.join(artifacts, "flamegraph-large.png"))


def main(ctx):
    if not os.path.isfile(CHROMIUM) or not os.access(CHROMIUM, os.X_OK):
        raise Skip("%s is not installed (apt-get install chromium; ./dev.sh does)" % CHROMIUM)
    sample = os.environ.get("SVG_SAMPLE", "")
    if not sample or not os.access(sample, os.X_OK):
        raise Failure("SVG_SAMPLE is not an executable (run through ctest): %r" % sample)
    artifacts = os.environ.get("ARTIFACTS_DIR") or ctx.tmp_path("artifacts")
    os.makedirs(artifacts, exist_ok=True)

    known, large = ctx.tmp_path("known.svg"), ctx.tmp_path("large.svg")
    for argv in ([sample, known], [sample, "-large", large]):
        r = ctx.run_command(argv, timeout=60)
        if r.timed_out or r.rc != 0:
            raise Failure("svg_sample failed:\n  %s" % r.describe())

    browser = Browser(ctx)
    dt = browser.connect()
    dt.call("Runtime.enable")
    dt.call("Page.enable")
    dt.call("Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    load(ctx, dt, known)
    check_static(ctx, dt)
    screenshot(ctx, dt, os.path.join(artifacts, "flamegraph.png"))
    check_hover(ctx, dt)
    check_zoom(ctx, dt, artifacts)
    check_search(ctx, dt, artifacts)
    check_large(ctx, dt, large, artifacts)
    errors = dt.exceptions()
    ctx.check(not errors, "script errors in the page: %r" % errors)
    browser.kill()


if __name__ == "__main__":
    run(main)
