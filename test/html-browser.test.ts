// The HTML report in a real browser: Debian's headless chromium loads a generated report and
// measures each inline picture. Without chromium this test fails and says how to install it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempTree } from './cli-helpers.js';

const BROWSERS = ['chromium', 'chromium-browser'];

function findBrowser(): string {
  for (const name of BROWSERS) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  throw new Error('chromium is not installed: this test renders the HTML report in a real browser. Install it with `apt-get install -y chromium` (.ci/run does when it is missing).');
}

/** Writes a copy of the report that records what the browser laid out, and returns the browser's DOM after load. */
function measure(browser: string, html: string, dir: string, width: number): { pictures: { w: number; h: number; nodes: number }[]; pageWidth: number; viewport: number } {
  const probe = `<script>
const pictures = [...document.querySelectorAll('.picture svg')].map((s) => {
  const r = s.getBoundingClientRect();
  return { w: r.width, h: r.height, nodes: s.querySelectorAll('g.node').length };
});
const out = document.createElement('pre');
out.id = 'measured';
out.textContent = JSON.stringify({ pictures, pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth });
document.body.appendChild(out);
</script>`;
  const file = path.join(dir, `measured-${width}.html`);
  fs.writeFileSync(file, html.replace('</body>', `${probe}\n</body>`));
  const r = spawnSync(browser, ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${path.join(dir, `profile-${width}`)}`, `--window-size=${width},900`, '--dump-dom', `file://${file}`], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  const m = /<pre id="measured">([^<]*)<\/pre>/.exec(r.stdout ?? '');
  if (!m) throw new Error(`the browser gave no measurements (exit ${r.status}): ${(r.stderr ?? '').slice(0, 2000)}`);
  return JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
}

describe('check --format html in a browser', () => {
  it('renders every driver picture with a size, on a desktop and a phone-wide window', { timeout: 240_000 }, () => {
    const browser = findBrowser();
    const dir = tempTree({});
    const report = path.join(dir, 'report.html');
    const r = runCli(['check', 'fixtures/drivers', '--format', 'html', '--output', report]);
    expect(r.code).toBe(1); // the bundled examples have deny findings
    const html = fs.readFileSync(report, 'utf8');
    // Self-contained: no script, no external style, font or image.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/\s(src)=/i);
    const drivers = (html.match(/<section class="driver"/g) ?? []).length;
    expect(drivers).toBe(9);
    for (const width of [1280, 390]) {
      const m = measure(browser, html, dir, width);
      expect(m.pictures).toHaveLength(drivers);
      for (const p of m.pictures) {
        expect(p.w).toBeGreaterThan(100);
        expect(p.h).toBeGreaterThan(100);
        expect(p.nodes).toBeGreaterThan(5);
      }
      // Wide pictures and code frames scroll inside their boxes; the page itself fits the screen.
      expect(m.pageWidth).toBeLessThanOrEqual(m.viewport);
    }
  });
});
