#!/usr/bin/env python3
"""check_markup.py - checks heapgate's JUnit XML and HTML reports against the JSON report of the
same model, with standard parsers, and renders the HTML in headless Chromium.

  check_markup.py --dir DIR [--dir DIR2 ...]      DIR holds sample.json, sample.html, sample.xml
  check_markup.py --heapgate BIN --trace T.txt    runs BIN analyze T.txt -o json/html/xml first
  --screenshots OUT                               keep the screenshots in OUT

JUnit: parsed by xml.etree; one test case per gate check (failure exactly when the check
failed), at least one test case, counts that add up. HTML: parsed as XML (the page is polyglot
markup) and by html.parser; verdict, checks, totals, site figures, anomaly counts, chart point
counts, icicle total and trace figures compared with the JSON. Rendering: one Chromium, driven
over the DevTools protocol on a pipe (--remote-debugging-pipe), loads each page at 1280x800 and
at a 390-pixel phone width: no script exception, no console error, no network request, the
page's script ran (data-ready), no horizontal overflow, and a full-page screenshot is taken.

Exit status 0 pass, 1 failure, 77 skipped (Chromium missing outside CI; with CI=true a missing
Chromium is a failure: scripts/deps.sh test installs it)."""
import argparse, base64, html.parser, json, os, shutil, struct, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
    return cond


# ---- JUnit ---------------------------------------------------------------------------------


def check_junit(path, report):
    root = ET.parse(path).getroot()
    check(root.tag == 'testsuites', f'{path}: root is {root.tag}')
    cases = root.findall('./testsuite/testcase')
    check(len(cases) >= 1, f'{path}: no test case')
    check(int(root.get('tests')) == len(cases), f'{path}: tests= does not count the cases')
    fails = sum(1 for c in cases if c.find('failure') is not None)
    check(int(root.get('failures')) == fails, f'{path}: failures= does not count failures')
    for suite in root.findall('testsuite'):
        n = len(suite.findall('testcase'))
        check(int(suite.get('tests')) == n, f'{path}: suite {suite.get("name")} tests=')
    gate = root.find("./testsuite[@name='heapgate.gate']")
    if not check(gate is not None, f'{path}: no heapgate.gate suite'):
        return
    gcases = gate.findall('testcase')
    checks = report['gate']['checks']
    if report['gate']['verdict'] == 'not evaluated':
        check(len(gcases) == 1 and gcases[0].find('skipped') is not None, f'{path}: no gate')
        return
    check(len(gcases) == len(checks), f'{path}: {len(gcases)} gate cases, {len(checks)} checks')
    for case, c in zip(gcases, checks):
        check(case.get('name') == c['name'], f'{path}: case {case.get("name")} != {c["name"]}')
        check((case.find('failure') is None) == c['passed'], f'{path}: {c["name"]} result')


# ---- HTML ----------------------------------------------------------------------------------


class Balance(html.parser.HTMLParser):
    """Checks that every non-void element is closed in order (html.parser is lenient)."""
    VOID = {'meta', 'br', 'hr', 'img', 'input', 'link', 'col', 'area', 'base', 'wbr', 'source'}

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f'</{tag}> closes {self.stack[-1:] or "nothing"}')
        else:
            self.stack.pop()


def samples_of(report, process, heap, frag):
    n = 0
    for s in report['timeline']:
        if s['process'] == process and s['heap'] == heap:
            if not frag or (s['measured'] and s['external'] is not None):
                n += 1
    return n


def check_html_numbers(path, root, report):
    by_attr = lambda a: [e for e in root.iter() if a in e.attrib]
    verdict = [e for e in by_attr('data-verdict')]
    check(verdict and verdict[0].get('data-verdict') == report['gate']['verdict'],
          f'{path}: verdict')
    rows = by_attr('data-check')
    check(len(rows) == len(report['gate']['checks']), f'{path}: check rows')
    for row, c in zip(rows, report['gate']['checks']):
        check(row.get('data-check') == c['name'] and
              row.get('data-passed') == ('true' if c['passed'] else 'false'), f'{path}: check')
    cards = {e.get('data-key'): int(e.get('data-value')) for e in by_attr('data-key')
             if 'card' in e.get('class', '')}
    for key in ('leaked_bytes', 'leaked_blocks', 'outstanding_bytes', 'outstanding_blocks',
                'released_by_destroy_bytes'):
        check(cards.get(key) == report[key], f'{path}: total {key} {cards.get(key)}')
    sites = {s['id']: s for s in report['sites']}
    for d in by_attr('data-site'):
        s = sites.get(d.get('data-site'))
        if check(s is not None, f'{path}: unknown site {d.get("data-site")}'):
            check(int(d.get('data-leaked-bytes')) == s['leaked_bytes'], f'{path}: site bytes')
    anomalies = by_attr('data-anomaly')
    check(len(anomalies) == len(report['anomalies']), f'{path}: anomaly rows')
    for row, a in zip(anomalies, report['anomalies']):
        check(int(row.get('data-count')) == a['count'], f'{path}: anomaly {a["id"]} count')
    for svg in [e for e in by_attr('data-chart') if e.get('data-chart') in ('live', 'fragmentation')]:
        frag = svg.get('data-chart') == 'fragmentation'
        for line in [e for e in svg.iter() if e.tag == 'polyline']:
            want = samples_of(report, int(svg.get('data-process')), line.get('data-heap'), frag)
            got = int(line.get('data-points'))
            check(got == want and len(line.get('points').split()) == want,
                  f'{path}: {svg.get("data-chart")} series {line.get("data-heap")}: {got} != {want}')
    leaked = sum(s['leaked_bytes'] for s in report['sites'] if not s['suppressed_by'])
    icicle = [e for e in by_attr('data-chart') if e.get('data-chart') == 'icicle']
    check(bool(icicle) == (leaked > 0), f'{path}: icicle present iff something leaked')
    for e in icicle:
        check(int(e.get('data-total')) == leaked, f'{path}: icicle total')
    for row in root.iter('tr'):
        key = row.get('data-key')
        if key is not None and key in report['trace']:
            check(int(row.get('data-value')) == report['trace'][key], f'{path}: trace {key}')


def check_html(path, report):
    text = open(path, encoding='utf-8').read()
    root = ET.fromstring(text)  # strict: the page is polyglot markup
    check(root.tag == 'html', f'{path}: root is {root.tag}')
    for tag in ('link', 'img', 'iframe', 'object', 'embed'):
        check(not list(root.iter(tag)), f'{path}: has <{tag}> (must be self-contained)')
    check('http://' not in text.replace('http://www.w3.org', '') and 'https://' not in text,
          f'{path}: names a network address')
    b = Balance()
    b.feed(text)
    b.close()
    check(not b.errors and not b.stack, f'{path}: unbalanced tags {b.errors[:3]} {b.stack}')
    check(len(root.findall('.//details')) >= 0, 'details')
    check_html_numbers(path, root, report)


# ---- Chromium over the DevTools protocol -------------------------------------------------------


class Chromium:
    def __init__(self, exe, profile):
        r_in, w_in = os.pipe()    # we write, Chromium reads fd 3
        r_out, w_out = os.pipe()  # Chromium writes fd 4, we read

        def child():
            a, b = os.dup(r_in), os.dup(w_out)
            os.dup2(a, 3)
            os.dup2(b, 4)
        args = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                '--no-first-run', '--disable-background-networking', '--disable-component-update',
                '--disable-sync', '--remote-debugging-pipe', f'--user-data-dir={profile}',
                'about:blank']
        self.proc = subprocess.Popen(args, preexec_fn=child, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_in)
        os.close(w_out)
        self.w, self.r, self.buf, self.n, self.events = w_in, r_out, b'', 0, []

    def read(self):
        while b'\0' not in self.buf:
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                raise RuntimeError('Chromium closed the DevTools pipe')
            self.buf += chunk
        i = self.buf.index(b'\0')
        msg, self.buf = json.loads(self.buf[:i]), self.buf[i + 1:]
        return msg

    def send(self, method, params=None, session=None):
        self.n += 1
        msg = {'id': self.n, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.w, json.dumps(msg).encode() + b'\0')
        while True:
            m = self.read()
            if m.get('id') == self.n:
                if 'error' in m:
                    raise RuntimeError(f'{method}: {m["error"]}')
                return m.get('result', {})
            self.events.append(m)

    def wait_for(self, method):
        while True:
            m = self.read()
            self.events.append(m)
            if m.get('method') == method:
                return m

    def close(self):
        try:
            self.send('Browser.close')
        except (RuntimeError, OSError):
            pass
        self.proc.wait(timeout=30)


def png_size(data):
    return struct.unpack('>II', data[16:24])


def render(chrome, path, width, height, mobile, shot):
    t = chrome.send('Target.createTarget', {'url': 'about:blank'})
    s = chrome.send('Target.attachToTarget', {'targetId': t['targetId'], 'flatten': True})
    sid = s['sessionId']
    for domain in ('Runtime', 'Page', 'Log', 'Network'):
        chrome.send(f'{domain}.enable', session=sid)
    chrome.send('Emulation.setDeviceMetricsOverride', {'width': width, 'height': height,
                'deviceScaleFactor': 1, 'mobile': mobile}, session=sid)
    chrome.events.clear()
    chrome.send('Page.navigate', {'url': 'file://' + os.path.abspath(path)}, session=sid)
    chrome.wait_for('Page.loadEventFired')
    ev = lambda expr: chrome.send('Runtime.evaluate', {'expression': expr, 'returnByValue': True},
                                  session=sid)['result'].get('value')
    where = f'{path} at {width}px'
    check(ev("document.documentElement.getAttribute('data-ready')") == '1', f'{where}: script')
    overflow = ev('document.documentElement.scrollWidth - window.innerWidth')
    check(overflow <= 0, f'{where}: {overflow} px of horizontal overflow')
    check(ev('window.innerWidth') == width, f'{where}: viewport width')
    doc_h = ev('document.documentElement.scrollHeight')
    png = base64.b64decode(chrome.send('Page.captureScreenshot', {
        'format': 'png', 'captureBeyondViewport': True,
        'clip': {'x': 0, 'y': 0, 'width': width, 'height': doc_h, 'scale': 1}}, session=sid)['data'])
    check(png[:8] == b'\x89PNG\r\n\x1a\n' and png_size(png)[0] == width, f'{where}: screenshot')
    if shot:
        with open(shot, 'wb') as f:
            f.write(png)
    for m in chrome.events:
        p = m.get('params', {})
        if m.get('method') == 'Runtime.exceptionThrown':
            check(False, f'{where}: {p["exceptionDetails"].get("text")}')
        elif m.get('method') == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            check(False, f'{where}: console error')
        elif m.get('method') == 'Log.entryAdded' and p['entry']['level'] == 'error':
            check(False, f'{where}: {p["entry"].get("text")}')
        elif m.get('method') == 'Network.requestWillBeSent':
            url = p['request']['url']
            check(url.startswith('file:') or url.startswith('data:'), f'{where}: fetched {url}')
    chrome.send('Target.closeTarget', {'targetId': t['targetId']})


def render_all(pages, shots_dir):
    exe = os.environ.get('HG_CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
    if not exe:
        msg = 'chromium not found (scripts/deps.sh test installs it)'
        if os.environ.get('CI') == 'true':
            check(False, msg)
            return
        print(f'SKIP rendering: {msg}')
        return 'skipped'
    with tempfile.TemporaryDirectory(prefix='hg-chromium-') as profile:
        chrome = Chromium(exe, profile)
        try:
            for i, page in enumerate(pages):
                for width, height, mobile in ((1280, 800, False), (390, 844, True)):
                    shot = os.path.join(shots_dir, f'page{i}-{width}.png') if shots_dir else None
                    render(chrome, page, width, height, mobile, shot)
        finally:
            chrome.close()


# ---- driver --------------------------------------------------------------------------------


def from_trace(heapgate, trace, out):
    files = [os.path.join(out, f'sample.{s}') for s in ('json', 'html', 'xml')]
    args = [heapgate, 'analyze', trace, '--progress', 'never']
    for f in files:
        args += ['-o', f]
    status = subprocess.run(args, stdout=subprocess.DEVNULL).returncode
    check(status in (0, 1), f'heapgate analyze {trace}: exit status {status}')
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', action='append', default=[])
    ap.add_argument('--heapgate')
    ap.add_argument('--trace', action='append', default=[])
    ap.add_argument('--screenshots')
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='hg-markup-') as tmp:
        dirs = list(a.dir)
        for i, trace in enumerate(a.trace):
            os.makedirs(os.path.join(tmp, str(i)))
            dirs.append(from_trace(a.heapgate, trace, os.path.join(tmp, str(i))))
        for d in dirs:
            report = json.load(open(os.path.join(d, 'sample.json'), encoding='utf-8'))
            check_junit(os.path.join(d, 'sample.xml'), report)
            check_html(os.path.join(d, 'sample.html'), report)
        if a.screenshots:
            os.makedirs(a.screenshots, exist_ok=True)
        skipped = render_all([os.path.join(d, 'sample.html') for d in dirs], a.screenshots)
    for f in FAILURES:
        print('FAIL', f)
    print(f'{len(dirs)} reports checked, {len(FAILURES)} failures')
    sys.exit(1 if FAILURES else 77 if skipped else 0)


if __name__ == '__main__':
    main()
