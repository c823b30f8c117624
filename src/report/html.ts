// One self-contained HTML page: a summary (counts per rule and per driver), every finding in
// rustc's style with its code frame and notes, and each driver's lifecycle picture inline as SVG.
// No script, no external style, font or image: it opens offline, on a phone, in dark mode.
import { graphFinding } from '../lint/graphs.js';
import { ruleDocUrl, type FileNotice, type Finding } from '../lint/types.js';
import { markFindings, type DriverGraph, type GraphFinding } from '../model/lifecycle-graph.js';
import { countFindings, levelWord, reportedFindings, sortNotices, sourceCache, summarize } from './common.js';
import { toDot } from './graph/dot.js';
import { driverPicture } from './graph/picture.js';
import type { SvgRenderer } from './graph/svg.js';
import { renderFinding, renderNotice } from './human.js';
import type { ReportInput } from './types.js';

export function formatHtml(input: ReportInput, renderer: SvgRenderer): string {
  const findings = reportedFindings(input);
  const anchors = new Map<string, string>(findings.map((f, i) => [findingKey(f), `finding-${i + 1}`]));
  const graphs = markedGraphs(input.graphs ?? [], findings);
  const summary = summarize(input);
  const sources = sourceCache(input);
  const body = [
    `<header><h1>dmalint report</h1><p class="summary ${summary.level ?? 'clean'}">${esc(summary.text)}</p><p class="meta">dmalint ${esc(input.toolVersion)}</p></header>`,
    summarySection(input, findings, graphs),
    noticesSection(input.result.notices),
    findingsSection(findings, anchors, (f) => renderFinding(f, sources, true)),
    picturesSection(graphs, anchors, renderer),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>dmalint: ${esc(summary.text)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** Copies of the pictures with the reported findings (after baselines and filters) marked. */
function markedGraphs(graphs: readonly DriverGraph[], findings: readonly Finding[]): DriverGraph[] {
  const copies: DriverGraph[] = structuredClone([...graphs]);
  markFindings(copies, findings.filter((f) => !f.suppression).map(graphFinding));
  return copies;
}

function findingKey(f: { rule: string; file?: string; primary?: { file: string; span: { line: number; col: number } }; line?: number; col?: number; message: string }): string {
  const file = f.primary?.file ?? f.file;
  const line = f.primary?.span.line ?? f.line;
  const col = f.primary?.span.col ?? f.col;
  return `${f.rule}|${file}|${line}|${col}|${f.message}`;
}

// ---------------------------------------------------------------------------------------------
// Sections

function summarySection(input: ReportInput, findings: Finding[], graphs: DriverGraph[]): string {
  const shown = findings.filter((f) => !f.suppression);
  const byRule = new Map<string, Finding[]>();
  for (const f of findings) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
  const ruleRows = [...byRule].map(([rule, list]) => {
    const c = countFindings(list);
    const meta = input.rules.find((r) => r.id === rule);
    const name = meta ? `<a href="${esc(ruleDocUrl(rule))}"><code>${esc(rule)}</code></a><br><span class="dim">${esc(meta.summary)}</span>` : `<code>${esc(rule)}</code>`;
    return `<tr><td>${name}</td><td class="num">${c.errors}</td><td class="num">${c.warnings}</td><td class="num">${c.suppressed}</td></tr>`;
  });
  const inDriver = new Set<string>();
  const driverRows = graphs.map((g, i) => {
    const marked = graphFindings(g);
    for (const f of marked) inDriver.add(findingKey(f));
    const errors = marked.filter((f) => f.level === 'deny').length;
    return `<tr><td><a href="#driver-${i + 1}"><code>${esc(g.driver)}</code></a> <span class="dim">${esc(g.bus)}, ${esc(g.crate)}</span></td><td class="num">${errors}</td><td class="num">${marked.length - errors}</td><td class="num">${g.buffers.length}</td></tr>`;
  });
  const outside = shown.filter((f) => !inDriver.has(findingKey(f)));
  if (graphs.length > 0 && outside.length > 0) {
    const errors = outside.filter((f) => f.level === 'deny').length;
    driverRows.push(`<tr><td class="dim">not in a driver's picture</td><td class="num">${errors}</td><td class="num">${outside.length - errors}</td><td></td></tr>`);
  }
  const ruleTable = ruleRows.length > 0
    ? `<div class="scroll"><table><caption>Findings per rule</caption><thead><tr><th>rule</th><th>errors</th><th>warnings</th><th>suppressed</th></tr></thead><tbody>${ruleRows.join('')}</tbody></table></div>`
    : '<p>No findings.</p>';
  const driverTable = driverRows.length > 0
    ? `<div class="scroll"><table><caption>Findings per driver</caption><thead><tr><th>driver</th><th>errors</th><th>warnings</th><th>DMA buffers</th></tr></thead><tbody>${driverRows.join('')}</tbody></table></div>`
    : '<p>No bus driver found in the checked files.</p>';
  return `<section id="summary"><h2>Summary</h2><div class="tables">${ruleTable}${driverTable}</div></section>`;
}

/** Every distinct finding marked in a picture. */
function graphFindings(g: DriverGraph): GraphFinding[] {
  const all = [
    ...g.functions, ...g.owners, ...g.buffers, ...g.buffers.flatMap((b) => [...b.allocations, ...b.exposures]), ...g.teardown.flatMap((s) => s.events),
  ].flatMap((n) => n.findings);
  const seen = new Set<string>();
  return [...all, ...g.unplaced].filter((f) => {
    const k = findingKey(f);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function noticesSection(notices: FileNotice[]): string {
  if (notices.length === 0) return '';
  const items = sortNotices(notices).map((n) => `<pre class="diag">${ansiToHtml(renderNotice(n, true).join('\n'))}</pre>`);
  return `<section id="notices"><h2>Notices</h2>${items.join('\n')}</section>`;
}

function findingsSection(findings: Finding[], anchors: Map<string, string>, render: (f: Finding) => string[]): string {
  if (findings.length === 0) return '';
  const items = findings.map((f) => {
    const cls = f.suppression ? 'suppressed' : levelWord(f.level);
    return `<pre class="diag ${cls}" id="${anchors.get(findingKey(f))}">${ansiToHtml(render(f).join('\n'))}</pre>`;
  });
  return `<section id="findings"><h2>Findings (${findings.length})</h2>${items.join('\n')}</section>`;
}

function picturesSection(graphs: DriverGraph[], anchors: Map<string, string>, renderer: SvgRenderer): string {
  if (graphs.length === 0) return '';
  // A box with a finding links to the finding's diagnostic above; others to their source line.
  const link = (at: { file: string; line: number }, findings: readonly GraphFinding[]) => {
    const anchor = findings.map((f) => anchors.get(findingKey(f))).find(Boolean);
    return anchor ? `#${anchor}` : `${at.file}#L${at.line}`;
  };
  const items = graphs.map((g, i) => {
    const svg = renderer.render(toDot(driverPicture(g), { link }));
    return `<section class="driver" id="driver-${i + 1}"><h3><code>${esc(g.driver)}</code> <span class="dim">${esc(g.bus)} driver, ${esc(g.crate)}</span></h3><div class="picture">${svg}</div></section>`;
  });
  return `<section id="drivers"><h2>Drivers</h2><p class="dim">Each picture: the device states and the functions that can run in each, the DMA buffers with the fields that own them, where each address reaches the device, and the removal order (numbered). Boxes with a finding are red (error) or amber (warning) and link to it.</p>${items.join('\n')}</section>`;
}

// ---------------------------------------------------------------------------------------------
// Text

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const SGR_CLASSES: Record<string, string> = { '1': 'b', '1;31': 'b err', '1;33': 'b warn', '1;34': 'b gut', '1;32': 'b note', '1;36': 'b help' };

/** The human format's colours (SGR codes) as spans. */
export function ansiToHtml(text: string): string {
  let out = '';
  let open = false;
  let last = 0;
  const re = /\x1b\[([\d;]*)m/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out += esc(text.slice(last, m.index));
    last = re.lastIndex;
    if (open) out += '</span>';
    open = false;
    const cls = SGR_CLASSES[m[1]];
    if (cls) {
      out += `<span class="${cls}">`;
      open = true;
    }
  }
  out += esc(text.slice(last));
  return open ? `${out}</span>` : out;
}

const CSS = `
:root { --bg: #ffffff; --fg: #1f2328; --dim: #59636e; --line: #d1d9e0; --code: #f6f8fa; --err: #cf222e; --warn: #9a6700; --note: #1a7f37; --help: #0969da; --gut: #0550ae; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --dim: #9198a1; --line: #3d444d; --code: #161b22; --err: #ff7b72; --warn: #e3b341; --note: #3fb950; --help: #79c0ff; --gut: #79c0ff; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 1rem; max-width: 80rem; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; }
a { color: var(--help); }
.dim, .meta { color: var(--dim); }
.summary.error { color: var(--err); font-weight: 600; }
.summary.warning { color: var(--warn); font-weight: 600; }
.tables { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.scroll { max-width: 100%; overflow-x: auto; }
td .dim { overflow-wrap: anywhere; }
table { border-collapse: collapse; min-width: min(100%, 22rem); }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre.diag { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.diag.error { border-left: 4px solid var(--err); }
pre.diag.warning { border-left: 4px solid var(--warn); }
pre.diag.suppressed { opacity: .7; }
pre.diag:target { outline: 2px solid var(--help); }
.b { font-weight: 700; } .err { color: var(--err); } .warn { color: var(--warn); } .gut { color: var(--gut); } .note { color: var(--note); } .help { color: var(--help); }
/* Pictures keep their light palette in dark mode: a light card, scrolled sideways on small screens. */
.picture { background: #ffffff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; overflow: auto; -webkit-overflow-scrolling: touch; }
.picture svg { display: block; max-width: none; height: auto; }
@media (max-width: 40rem) { body { padding: .5rem; font-size: 15px; } pre.diag { font-size: 12px; } }
`;
