#!/usr/bin/env python3
"""Browser test of Clerk's chat widget: drives Debian's headless Chromium over the Chrome DevTools Protocol.

Needs a running `clerk serve` (its HTTP URL), the store it uses (so agent replies can be sent with the CLI) and the
clerk binary. scripts/browser/run.sh starts a server and runs this; to run it by hand:

  python3 scripts/browser/widget_test.py --url http://127.0.0.1:PORT --store sqlite:PATH \\
      --clerk .build/debug/clerk --screenshot widget.png

Installs the PyPI package websocket-client with pip when it is missing. Exit status 0 when every check passed,
1 with one FAIL line per failed check otherwise (2 when the browser cannot be started).
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import traceback
import urllib.request


def import_websocket():
    try:
        import websocket
        return websocket
    except ImportError:
        pass
    print("installing websocket-client with pip …", flush=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "websocket-client"]
    if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")):
        # Debian's own Python refuses pip installs outside a virtual environment unless told (PEP 668).
        command.append("--break-system-packages")
    subprocess.run(command)
    try:
        import websocket
        return websocket
    except ImportError:
        print("FAIL setup: the Python package websocket-client is missing and pip could not install it for %s "
              "(try: %s -m pip install websocket-client, or apt-get install python3-websocket)"
              % (sys.executable, sys.executable), flush=True)
        sys.exit(2)


websocket = import_websocket()

PASSPORT_QUESTION = "how much is a passport"
PASSPORT_ANSWER = "€35"
XSS = '<img src=x onerror="window.__xss=1">'
AGENT = "alice"
AGENT_TEXT = "Hello, this is alice from the Service Centre. How can I help?"
AGENT_TEXT_RELOAD = "Are you still there? (sent after a reload)"
AGENT_TEXT_POLL = "A second reply from alice, delivered by long polling."


class CheckFailed(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------------
# Chrome DevTools Protocol


class Browser:
    """One headless Chromium and one WebSocket to it; pages are attached with flattened sessions."""

    def __init__(self, executable, verbose=False):
        self.profile = tempfile.mkdtemp(prefix="clerk-chromium-")
        self.stderr = open(os.path.join(self.profile, "stderr.log"), "w+")
        command = [
            executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=" + self.profile,
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows", "--mute-audio", "--window-size=1280,900", "about:blank",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.verbose = verbose
        url = self._devtools_url()
        self.ws = websocket.create_connection(url, timeout=None, suppress_origin=True, enable_multithread=True)
        self.lock = threading.Lock()
        self.next_id = 0
        self.results = {}
        self.cond = threading.Condition()
        self.listeners = []
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _devtools_url(self):
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            if os.path.exists(port_file):
                lines = open(port_file).read().split()
                if len(lines) >= 2:
                    return "ws://127.0.0.1:%s%s" % (lines[0], lines[1])
            self.stderr.flush()
            with open(self.stderr.name) as f:
                match = re.search(r"DevTools listening on (ws://\S+)", f.read())
            if match:
                return match.group(1)
            time.sleep(0.1)
        with open(self.stderr.name) as f:
            log = f.read()[-2000:]
        raise RuntimeError("Chromium did not start (no DevTools address within 30 s):\n" + log)

    def _read(self):
        while True:
            try:
                raw = self.ws.recv()
            except Exception:
                break
            if not raw:
                continue
            message = json.loads(raw)
            if "id" in message:
                with self.cond:
                    self.results[message["id"]] = message
                    self.cond.notify_all()
            else:
                for listener in list(self.listeners):
                    listener(message)
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def call(self, method, params=None, session=None, timeout=30):
        with self.lock:
            self.next_id += 1
            ident = self.next_id
            message = {"id": ident, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            self.ws.send(json.dumps(message))
        deadline = time.time() + timeout
        with self.cond:
            while ident not in self.results:
                if self.closed:
                    raise RuntimeError("the browser connection closed during " + method)
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise CheckFailed("the browser did not answer %s within %d s" % (method, timeout))
                self.cond.wait(remaining)
            result = self.results.pop(ident)
        if "error" in result:
            raise RuntimeError("%s failed: %s" % (method, result["error"].get("message")))
        return result.get("result", {})

    def new_page(self):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, target, session)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser, target, session):
        self.browser = browser
        self.target = target
        self.session = session
        self.errors = []
        browser.listeners.append(self._on_event)
        for domain in ("Page", "Runtime"):
            self.call(domain + ".enable")
        self.call("Emulation.setFocusEmulationEnabled", {"enabled": True})

    def _on_event(self, message):
        if message.get("sessionId") != self.session:
            return
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append("uncaught exception: %s" % text)
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.errors.append("console.error: " + args)

    def call(self, method, params=None, timeout=30):
        return self.browser.call(method, params, session=self.session, timeout=timeout)

    def js(self, expression, timeout=30):
        """Evaluates an expression (awaiting a promise) and returns its JSON value."""
        result = self.call("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True, "userGesture": True,
        }, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError("script failed: %s\n  in: %s" % (
                details.get("exception", {}).get("description") or details.get("text"), expression[:200]))
        return result.get("result", {}).get("value")

    def wait_for(self, expression, what, timeout=15):
        deadline = time.time() + timeout
        value = None
        while time.time() < deadline:
            try:
                value = self.js(expression)
            except RuntimeError as error:
                value = str(error)
            else:
                if value:
                    return value
            time.sleep(0.1)
        raise CheckFailed("%s (waited %d s; last: %r)" % (what, timeout, value))

    def goto(self, url):
        self.call("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", "the page loads", 30)

    def reload(self):
        self.js("window.__clerkReloadMarker = true")
        self.call("Page.reload", {"ignoreCache": True})
        self.wait_for("document.readyState === 'complete' && !window.__clerkReloadMarker", "the page reloads", 30)

    def key(self, key, code=None, vk=0, text=None, shift=False):
        params = {"key": key, "code": code or key, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk,
                  "modifiers": 8 if shift else 0}
        down = dict(params, type="keyDown" if text else "rawKeyDown")
        if text:
            down["text"] = text
            down["unmodifiedText"] = text
        self.call("Input.dispatchKeyEvent", down)
        self.call("Input.dispatchKeyEvent", dict(params, type="keyUp"))

    def press_tab(self, shift=False):
        self.key("Tab", vk=9, shift=shift)

    def press_enter(self):
        self.key("Enter", vk=13, text="\r")

    def press_escape(self):
        self.key("Escape", vk=27)

    def type_text(self, text):
        self.call("Input.insertText", {"text": text})

    def click(self, selector_expression, what):
        """Clicks with the mouse in the middle of the element the expression returns."""
        box = self.js("""(async () => { const e = %s; if (!e) return null;
            e.scrollIntoView({block: 'center', behavior: 'instant'});
            let last = '', r = null;
            for (let i = 0; i < 60; i++) {  // wait until it stops moving (smooth scrolling, animations)
              await new Promise((done) => requestAnimationFrame(done));
              r = e.getBoundingClientRect();
              const now = [r.left, r.top, r.width, r.height].join();
              if (now === last) break;
              last = now;
            }
            const x = r.left + r.width / 2, y = r.top + r.height / 2, hit = document.elementFromPoint(x, y);
            return {x, y, w: r.width, h: r.height, hit: !!hit && (hit === e || e.contains(hit)),
                    cover: hit ? hit.tagName + '.' + hit.className : null}; })()""" % selector_expression)
        if not box or box["w"] == 0 or box["h"] == 0:
            raise CheckFailed("cannot click %s: it is not on the page or not visible" % what)
        if not box["hit"]:
            raise CheckFailed("cannot click %s: %s covers it" % (what, box["cover"]))
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"], "button": "left",
                                                   "clickCount": 1})

    def viewport(self, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.browser.call("Target.closeTarget", {"targetId": self.target}, timeout=10)
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------------------------------
# Helpers over the widget's DOM

LOG = "document.querySelector('.clerk-root [role=log]')"
PANEL = "document.querySelector('.clerk-root .clerk-panel')"
LAUNCHER = "document.querySelector('.clerk-root .clerk-launcher')"
INPUT = "document.querySelector('.clerk-root .clerk-input')"
LAST_BOT = "Array.from(document.querySelectorAll('.clerk-group-bot')).pop()"


def log_text(page):
    return page.js("(%s || {}).textContent || ''" % LOG)


def count(page, selector):
    return page.js("document.querySelectorAll(%s).length" % json.dumps(selector))


def panel_open(page):
    return page.js("!!%s && !%s.hidden && %s.getBoundingClientRect().height > 0" % (PANEL, PANEL, PANEL))


def wait_widget(page):
    page.wait_for("!!%s && !document.querySelector('.clerk-root').hidden && "
                  "getComputedStyle(%s).position === 'fixed'" % (LAUNCHER, LAUNCHER),
                  "the widget's launcher appears, styled by widget.css")


def ensure_open(page):
    if not panel_open(page):
        page.click(LAUNCHER, "the launcher")
    page.wait_for("%s && !%s.hidden" % (PANEL, PANEL), "the chat panel opens")


def citizen_texts(page):
    return page.js("Array.from(document.querySelectorAll('.clerk-msg-citizen .clerk-text')).map(e => e.textContent)")


def send(page, text):
    page.js("%s.focus()" % INPUT)
    page.type_text(text)
    page.press_enter()


def wait_text(page, text, what, timeout=15):
    page.wait_for("(%s || {textContent: ''}).textContent.includes(%s)" % (LOG, json.dumps(text)), what, timeout)


def wait_bot_groups(page, more_than, what, timeout=15):
    page.wait_for("document.querySelectorAll('.clerk-group-bot').length > %d" % more_than, what, timeout)


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


# ---------------------------------------------------------------------------------------------------------------------
# The checks, in order; later ones build on the conversation of earlier ones.


class Run:
    def __init__(self, args):
        self.args = args
        self.url = args.url.rstrip("/") + "/"
        self.browser = None
        self.page = None
        self.ticket = None
        self.passed = []
        self.failed = []

    def check(self, name, function, needs=None):
        if needs and needs not in self.passed:
            self.failed.append(name)
            print("FAIL %s: not run, because %s failed" % (name, needs), flush=True)
            return
        started = time.time()
        try:
            function()
        except CheckFailed as error:
            self.failed.append(name)
            print("FAIL %s: %s" % (name, error), flush=True)
        except Exception as error:  # a bug in the test or a broken browser connection
            self.failed.append(name)
            print("FAIL %s: %s: %s" % (name, type(error).__name__, error), flush=True)
            if self.args.verbose:
                traceback.print_exc()
        else:
            self.passed.append(name)
            print("ok   %s (%.1f s)" % (name, time.time() - started), flush=True)

    def clerk(self, *arguments):
        command = [self.args.clerk] + list(arguments) + ["--store", self.args.store]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise CheckFailed("`%s` exited %d: %s" % (" ".join(command), result.returncode,
                                                       (result.stderr or result.stdout).strip()))
        return result.stdout

    # -- the checks --

    def widget_loads(self):
        page = self.page
        page.viewport(1280, 900)
        page.goto(self.url)
        wait_widget(page)
        expect(page.js("document.body.innerText.includes('Example City is fictional')"),
               "the demo page does not say 'Example City is fictional'")
        expect(page.js("%s.hasAttribute('aria-label') && %s.getAttribute('aria-expanded') === 'false'"
                       % (LAUNCHER, LAUNCHER)), "the launcher has no aria-label or aria-expanded=false")
        expect(not panel_open(page), "the panel is open before the launcher was used")

    def open_widget(self):
        page = self.page
        page.click(LAUNCHER, "the launcher")
        page.wait_for("%s && !%s.hidden" % (PANEL, PANEL), "the chat panel opens after a click on the launcher")
        page.wait_for("document.activeElement === %s" % INPUT, "focus moves into the message input on open", 5)
        log = page.js("(() => { const l = %s; return l && {role: l.getAttribute('role'), "
                      "live: l.getAttribute('aria-live')}; })()" % LOG)
        expect(log == {"role": "log", "live": "polite"},
               "the message list is not role=log with aria-live=polite: %r" % log)
        header = page.js("document.querySelector('.clerk-root .clerk-header').textContent")
        expect("automated assistant" in header.lower(), "the header has no 'automated assistant' notice: %r" % header)
        expect(page.js("%s.getAttribute('aria-expanded')" % LAUNCHER) == "true", "aria-expanded is not true")
        page.wait_for("document.querySelectorAll('.clerk-msg-bot').length > 0", "the welcome message appears")

    def ask_question(self):
        page = self.page
        page.js("""(() => { window.__typingSeen = false; const t = document.querySelector('.clerk-typing');
            new MutationObserver(() => { if (!t.hidden) window.__typingSeen = true; })
              .observe(t, {attributes: true}); })()""")
        before = count(page, ".clerk-group-bot")
        send(page, PASSPORT_QUESTION)
        wait_text(page, PASSPORT_ANSWER, "the answer (%s) appears in the log" % PASSPORT_ANSWER)
        wait_bot_groups(page, before, "a bot answer is added")
        expect(PASSPORT_QUESTION in citizen_texts(page), "the question is not shown as the citizen's message")
        expect(page.js("window.__typingSeen"), "no typing indicator was shown while waiting for the answer")
        expect(page.js("document.activeElement === %s" % INPUT), "focus left the input after sending")
        links = page.js("""Array.from(%s.querySelectorAll('a.clerk-link'))
            .map(a => ({href: a.href, target: a.target, rel: a.rel}))""" % LAST_BOT)
        expect(links, "the answer shows no links")
        expect(all(l["href"].startswith("http") and l["target"] == "_blank" and "noopener" in l["rel"]
                   for l in links), "links are not http(s) with target=_blank rel=noopener: %r" % links)
        expect(page.js("%s.querySelectorAll('.clerk-feedback button').length" % LAST_BOT) == 2,
               "the answer has no helpful / not helpful buttons")

    def quick_reply(self):
        page = self.page
        replies = page.js("Array.from(document.querySelectorAll('.clerk-replies button')).map(b => b.textContent)")
        expect(replies, "the passport answer shows no quick reply buttons")
        before = count(page, ".clerk-group-bot")
        page.click("document.querySelector('.clerk-replies button')", "the first quick reply")
        page.wait_for("Array.from(document.querySelectorAll('.clerk-msg-citizen .clerk-text'))"
                      ".some(e => e.textContent === %s)" % json.dumps(replies[0]),
                      "the quick reply %r is sent as the citizen's message" % replies[0])
        wait_bot_groups(page, before, "the quick reply %r gets an answer" % replies[0])
        last = page.js("%s.textContent" % LAST_BOT)
        expect(last.strip(), "the answer to the quick reply is empty")
        self.quick_reply_text = replies[0]

    def feedback(self):
        page = self.page
        page.click("document.querySelector('.clerk-feedback .clerk-helpful')", "the 'helpful' button")
        page.wait_for("Array.from(document.querySelectorAll('.clerk-feedback'))"
                      ".some(f => f.textContent.includes('Thank you'))",
                      "a thank-you replaces the feedback buttons (the feedback POST succeeded)")

    def reload_keeps_conversation(self):
        page = self.page
        before = citizen_texts(page)
        page.reload()
        wait_widget(page)
        ensure_open(page)
        wait_text(page, PASSPORT_ANSWER, "after a reload the earlier answer is shown again")
        after = citizen_texts(page)
        expect(after == before, "after a reload the citizen's messages differ: %r, before %r" % (after, before))

    def xss_shown_as_text(self):
        page = self.page
        ensure_open(page)
        before = count(page, ".clerk-group-bot")
        send(page, XSS)
        page.wait_for("Array.from(document.querySelectorAll('.clerk-msg-citizen .clerk-text'))"
                      ".some(e => e.textContent === %s)" % json.dumps(XSS),
                      "the payload appears as the literal text of a message")
        wait_bot_groups(page, before, "the assistant answers the payload")
        time.sleep(1)
        expect(page.js("typeof window.__xss") == "undefined", "the payload ran: window.__xss is set")
        expect(count(page, ".clerk-root img") == 0, "an <img> element was created in the widget")

    def offline_and_retry(self):
        page = self.page
        ensure_open(page)
        page.call("Network.enable")
        conditions = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
        page.call("Network.emulateNetworkConditions", dict(conditions, offline=True))
        try:
            page.wait_for("!navigator.onLine && !document.querySelector('.clerk-root .clerk-offline').hidden",
                          "an offline notice shows when the connection drops", 5)
            before = count(page, ".clerk-group-bot")
            send(page, "how do I apply for a passport")
            page.wait_for("!!document.querySelector('.clerk-root .clerk-error .clerk-retry')",
                          "a message sent offline is marked as not sent, with a Retry button", 5)
        finally:
            page.call("Network.emulateNetworkConditions", dict(conditions, offline=False))
        page.wait_for("document.querySelector('.clerk-root .clerk-offline').hidden",
                      "the offline notice goes away when the connection is back", 5)
        wait_bot_groups(page, before, "the message is sent, and answered, once the connection is back")
        expect(count(page, ".clerk-root .clerk-error") == 0, "the error stays after the message was sent")

    def keyboard_only(self):
        page = self.page
        page.js("window.ClerkWidget.close()")
        page.reload()
        wait_widget(page)
        expect(not panel_open(page), "the panel is open after a reload although it was closed")
        page.js("document.activeElement && document.activeElement.blur()")
        for _ in range(60):
            page.press_tab()
            if page.js("document.activeElement === %s" % LAUNCHER):
                break
        else:
            raise CheckFailed("Tab never reaches the launcher (60 presses)")
        ring = page.js("(() => { const s = getComputedStyle(%s); return {style: s.outlineStyle, "
                       "width: parseFloat(s.outlineWidth), shadow: s.boxShadow}; })()" % LAUNCHER)
        expect(ring["style"] != "none" and ring["width"] >= 2, "the focused launcher has no visible focus ring: %r"
               % ring)
        page.press_enter()
        page.wait_for("%s && !%s.hidden" % (PANEL, PANEL), "Enter on the launcher opens the panel", 5)
        page.wait_for("document.activeElement === %s" % INPUT, "focus is in the input after opening", 5)
        before = count(page, ".clerk-group-bot")
        page.type_text("when is my bin collected")
        page.press_enter()
        page.wait_for("Array.from(document.querySelectorAll('.clerk-msg-citizen .clerk-text'))"
                      ".some(e => e.textContent === 'when is my bin collected')", "typing + Enter sends the message")
        wait_bot_groups(page, before, "the message typed with the keyboard gets an answer")
        page.press_tab()
        expect(page.js("document.activeElement === document.querySelector('.clerk-root .clerk-send')"),
               "Tab from the input does not reach the send button")
        page.press_escape()
        page.wait_for("%s.hidden" % PANEL, "Escape closes the panel", 5)
        page.wait_for("document.activeElement === %s" % LAUNCHER, "focus returns to the launcher after Escape", 5)

    def accessibility_basics(self):
        page = self.page
        ensure_open(page)
        unlabeled = page.js("""Array.from(document.querySelectorAll('.clerk-root button'))
            .filter(b => !(b.getAttribute('aria-label') || '').trim()).map(b => b.outerHTML.slice(0, 80))""")
        expect(not unlabeled, "buttons without aria-label: %r" % unlabeled)
        expect(page.js("!!document.querySelector('label[for=\"' + %s.id + '\"]')" % INPUT),
               "the message input has no label")
        low = page.js(r"""(() => {
          const lum = (c) => { const [r, g, b] = c.map(v => { v /= 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
          const rgba = (s) => (s.match(/[\d.]+/g) || []).map(Number);
          const background = (e) => { for (; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
          const bad = [];
          for (const e of document.querySelectorAll('.clerk-root *')) {
            if (!Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
            if (e.closest('.clerk-sr') || !e.getClientRects().length) continue;
            const fg = rgba(getComputedStyle(e).color).slice(0, 3); const bg = background(e);
            const [a, b] = [lum(fg), lum(bg)]; const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
            if (ratio < 4.5) bad.push(e.className + ' ' + ratio.toFixed(2) + ': ' + e.textContent.slice(0, 30));
          }
          return bad; })()""")
        expect(not low, "text with contrast below 4.5:1: %r" % low)
        page.call("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        try:
            animation = page.js("getComputedStyle(document.querySelector('.clerk-dots span')).animationName + ' ' "
                                "+ getComputedStyle(%s).animationName" % PANEL)
            expect(animation == "none none", "animations run although prefers-reduced-motion is set: %r" % animation)
        finally:
            page.call("Emulation.setEmulatedMedia", {"features": []})

    def second_tab_follows(self):
        page = self.page
        other = self.browser.new_page()
        try:
            other.viewport(1280, 900)
            other.goto(self.url)
            wait_widget(other)
            ensure_open(other)
            wait_text(other, PASSPORT_ANSWER, "a second tab shows the same conversation")
            text = "what is the parking permit fee"
            send(page, text)
            wait_text(page, text, "the message is shown in the first tab")
            other.wait_for("Array.from(document.querySelectorAll('.clerk-msg-citizen .clerk-text'))"
                           ".some(e => e.textContent === %s)" % json.dumps(text),
                           "the message sent in the first tab appears in the second (storage event)", 15)
            expect(not other.errors, "JavaScript errors in the second tab: %r" % other.errors)
        finally:
            other.close()

    def handover(self):
        page = self.page
        ensure_open(page)
        send(page, "talk to a person")
        page.wait_for("Array.from(document.querySelectorAll('.clerk-replies button')).some(b => b.textContent === 'Yes')",
                      "the handover question offers a 'Yes' button")
        page.click("Array.from(document.querySelectorAll('.clerk-replies button')).find(b => b.textContent === 'Yes')",
                   "the 'Yes' button")
        text = page.wait_for("(() => { const t = document.querySelector('.clerk-root .clerk-ticket');"
                             "return t && !t.hidden && /T-\\d+/.test(t.textContent) && t.textContent; })()",
                             "the ticket reference is shown")
        self.ticket = re.search(r"T-\d+", text).group(0)
        wait_text(page, self.ticket, "the handover answer names the reference %s" % self.ticket)

    def agent_reply_live(self):
        page = self.page
        page.js("window.__noReload = true")
        self.clerk("tickets", "claim", self.ticket, "--agent", AGENT)
        page.wait_for("document.querySelector('.clerk-root .clerk-subtitle').textContent.includes(%s)"
                      % json.dumps(AGENT), "the header says a person (%s) has joined" % AGENT, 15)
        wait_text(page, "has joined", "an 'agent joined' notice appears in the log", 5)
        self.clerk("tickets", "reply", self.ticket, AGENT_TEXT, "--agent", AGENT)
        page.wait_for("Array.from(document.querySelectorAll('.clerk-msg-agent')).some(e => e.textContent === %s)"
                      % json.dumps(AGENT_TEXT), "the agent's reply arrives live in the log", 15)
        expect(page.js("window.__noReload === true"), "the page was reloaded")
        page.screenshot(self.args.screenshot)

    def reload_during_handover(self):
        page = self.page
        page.reload()
        wait_widget(page)
        ensure_open(page)
        agent_messages = "Array.from(document.querySelectorAll('.clerk-msg-agent')).map(e => e.textContent)"
        page.wait_for("%s.includes(%s)" % (agent_messages, json.dumps(AGENT_TEXT)),
                      "after a reload the agent's reply is in the history")
        ticket = page.js("document.querySelector('.clerk-root .clerk-ticket').textContent")
        expect(self.ticket in ticket, "after a reload the ticket reference is not shown: %r" % ticket)
        subtitle = page.js("document.querySelector('.clerk-root .clerk-subtitle').textContent")
        expect(AGENT in subtitle, "after a reload the header does not say %s is answering: %r" % (AGENT, subtitle))
        time.sleep(2)  # the event stream is connected and has sent whatever it replays
        shown = page.js(agent_messages)
        expect(shown.count(AGENT_TEXT) == 1, "after a reload the agent's reply is shown %d times"
               % shown.count(AGENT_TEXT))
        self.clerk("tickets", "reply", self.ticket, AGENT_TEXT_RELOAD, "--agent", AGENT)
        page.wait_for("%s.includes(%s)" % (agent_messages, json.dumps(AGENT_TEXT_RELOAD)),
                      "after a reload a new agent reply still arrives live", 15)
        time.sleep(1)
        shown = page.js(agent_messages)
        expect(shown == [AGENT_TEXT, AGENT_TEXT_RELOAD], "agent messages after a reload: %r" % shown)

    def long_poll_fallback(self):
        page = self.page
        script = page.call("Page.addScriptToEvaluateOnNewDocument",
                           {"source": "delete window.EventSource; window.EventSource = undefined;"})["identifier"]
        try:
            page.reload()
            wait_widget(page)
            ensure_open(page)
            page.wait_for("Array.from(document.querySelectorAll('.clerk-msg-agent')).some(e => e.textContent === %s)"
                          % json.dumps(AGENT_TEXT), "after a reload the agent's reply is in the history")
            expect(page.js("typeof window.EventSource") == "undefined", "EventSource is still there")
            time.sleep(1)  # the first long poll is under way
            self.clerk("tickets", "reply", self.ticket, AGENT_TEXT_POLL, "--agent", AGENT)
            page.wait_for("Array.from(document.querySelectorAll('.clerk-msg-agent')).some(e => e.textContent === %s)"
                          % json.dumps(AGENT_TEXT_POLL), "without EventSource the reply arrives by long polling", 40)
            shown = page.js("Array.from(document.querySelectorAll('.clerk-msg-agent')).map(e => e.textContent)")
            expect(shown == [AGENT_TEXT, AGENT_TEXT_RELOAD, AGENT_TEXT_POLL],
                   "agent messages with long polling: %r" % shown)
        finally:
            page.call("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script})

    def phone_layout(self):
        page = self.page
        page.viewport(320, 640, mobile=True)
        try:
            page.reload()
            wait_widget(page)
            page.wait_for("innerWidth === 320", "the viewport is 320 px wide", 5)
            ensure_open(page)
            wait_text(page, PASSPORT_ANSWER, "the conversation is shown on the phone")
            page.wait_for("(() => { const r = %s.getBoundingClientRect(); "
                          "return r.left === 0 && r.top === 0 && r.width === 320 && r.height === 640; })()" % PANEL,
                          "the panel fills the 320 x 640 screen", 5)
            width = page.js("document.documentElement.scrollWidth")
            expect(width <= 320, "the page scrolls sideways at 320 px: scrollWidth %d" % width)
            try:
                page.wait_for("(() => { const l = %s; return l.scrollHeight - l.scrollTop - l.clientHeight < 2; })()"
                              % LOG, "the newest message is in view", 5)
            except CheckFailed:
                sizes = page.js("(() => { const l = %s; return [l.scrollHeight, l.scrollTop, l.clientHeight]; })()"
                                % LOG)
                raise CheckFailed("the log is not scrolled to the newest message (scrollHeight, scrollTop, "
                                  "clientHeight: %r)" % sizes)
            inner = page.js("(() => { const l = %s; return [l.scrollWidth, l.clientWidth]; })()" % LOG)
            expect(inner[0] <= inner[1], "the message list scrolls sideways: %r" % (inner,))
            root, ext = os.path.splitext(self.args.screenshot)
            page.screenshot(root + "-320" + (ext or ".png"))
            page.js("window.ClerkWidget.close()")
            width = page.js("document.documentElement.scrollWidth")
            expect(width <= 320, "the page itself scrolls sideways at 320 px: scrollWidth %d" % width)
        finally:
            page.viewport(1280, 900)

    def no_script_errors(self):
        expect(not self.page.errors, "JavaScript errors: %r" % self.page.errors)

    def run(self):
        try:
            self.browser = Browser(self.args.chromium, verbose=self.args.verbose)
        except Exception as error:
            print("FAIL browser: %s" % error, flush=True)
            return 2
        try:
            self.page = self.browser.new_page()
            self.check("the demo page shows the widget", self.widget_loads)
            self.check("the launcher opens the widget", self.open_widget, needs="the demo page shows the widget")
            self.check("a question gets its answer in the log", self.ask_question,
                       needs="the launcher opens the widget")
            self.check("a quick reply button sends and is answered", self.quick_reply,
                       needs="a question gets its answer in the log")
            self.check("feedback buttons send feedback", self.feedback,
                       needs="a question gets its answer in the log")
            self.check("a reload keeps the conversation", self.reload_keeps_conversation,
                       needs="a question gets its answer in the log")
            self.check("an XSS payload is shown as text", self.xss_shown_as_text,
                       needs="the launcher opens the widget")
            self.check("offline notice, and the message sent when back online", self.offline_and_retry,
                       needs="the launcher opens the widget")
            self.check("keyboard only: Tab, Enter, type, Escape", self.keyboard_only,
                       needs="the demo page shows the widget")
            self.check("labels, contrast and reduced motion", self.accessibility_basics,
                       needs="the launcher opens the widget")
            self.check("a second tab follows the conversation", self.second_tab_follows,
                       needs="a question gets its answer in the log")
            self.check("handover shows the ticket reference", self.handover, needs="the launcher opens the widget")
            self.check("an agent's reply arrives live", self.agent_reply_live,
                       needs="handover shows the ticket reference")
            self.check("a reload during the handover shows each message once", self.reload_during_handover,
                       needs="an agent's reply arrives live")
            self.check("long polling when EventSource is missing", self.long_poll_fallback,
                       needs="an agent's reply arrives live")
            self.check("phone layout at 320 px", self.phone_layout, needs="the launcher opens the widget")
            self.check("no JavaScript errors", self.no_script_errors)
            if not os.path.exists(self.args.screenshot):
                try:
                    self.page.screenshot(self.args.screenshot)
                except Exception:
                    pass
        finally:
            self.browser.close()
        print("screenshot: %s" % os.path.abspath(self.args.screenshot))
        print("%d passed, %d failed" % (len(self.passed), len(self.failed)))
        return 0 if not self.failed else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the HTTP URL of a running `clerk serve`")
    parser.add_argument("--store", required=True, help="the store that server uses, e.g. sqlite:/tmp/x/clerk.sqlite")
    parser.add_argument("--clerk", default="clerk", help="the clerk binary, for agent replies (clerk tickets …)")
    parser.add_argument("--screenshot", default="widget.png", help="where to save the screenshot (PNG); a second "
                        "one at 320 px goes beside it with -320 in its name")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser")
                        or "chromium", help="the Chromium executable")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    try:
        urllib.request.urlopen(args.url.rstrip("/") + "/widget.js", timeout=10).read(1)
    except Exception as error:
        print("FAIL server: %s/widget.js cannot be fetched: %s" % (args.url.rstrip("/"), error))
        return 2
    return Run(args).run()


if __name__ == "__main__":
    sys.exit(main())
