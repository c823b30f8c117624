// A driver's picture as a Mermaid flowchart, for Markdown that renders Mermaid (GitHub, GitLab).
import { defaultLink, type DrawOptions } from './dot.js';
import { placeText, type NodeKind, type Picture, type PictureEdge, type PictureNode } from './picture.js';

const SHAPES: Record<NodeKind, [string, string]> = {
  state: ['([', '])'],
  function: ['(', ')'],
  data: ['[', ']'],
  owner: ['[', ']'],
  buffer: ['[(', ')]'],
  consumer: ['[[', ']]'],
  step: ['[', ']'],
  stop: ['{{', '}}'],
  release: ['[/', '/]'],
  'not-a-stop': ['[', ']'],
  finding: ['>', ']'],
};

const ARROWS: Record<PictureEdge['style'], string> = {
  transition: '==>',
  owns: '-->',
  allocates: '-.->',
  address: '==>',
  runs: '-.->',
  then: '==>',
  frees: '-->',
  stops: '-.->',
};

export function toMermaid(p: Picture, options: DrawOptions = {}): string {
  const link = options.link ?? defaultLink;
  const out: string[] = ['flowchart TB', `  %% ${p.title}`];
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const inCluster = new Set(p.clusters.flatMap((c) => c.nodes));
  for (const c of p.clusters) {
    // A state's box is titled by its state node; Mermaid would show the id of an untitled one.
    out.push(`  subgraph ${c.id}["${text(c.label) || ' '}"]`);
    for (const id of c.nodes) out.push(`    ${nodeLine(byId.get(id)!, p.base)}`);
    out.push('  end');
  }
  for (const n of p.nodes) if (!inCluster.has(n.id)) out.push(`  ${nodeLine(n, p.base)}`);
  for (const e of p.edges) out.push(`  ${e.from} ${ARROWS[e.style]}${e.label ? `|"${text(e.label)}"|` : ''} ${e.to}`);
  out.push('  classDef deny fill:#ffc9c9,stroke:#b00020,stroke-width:3px;');
  out.push('  classDef warn fill:#ffe8b3,stroke:#b36b00,stroke-width:3px;');
  out.push('  classDef buffer fill:#fde9c9,stroke:#b05a00;');
  out.push('  classDef stop fill:#d9f2d9,stroke:#2e7d32;');
  out.push('  classDef release fill:#ffe0e0,stroke:#b00020,stroke-dasharray:4 2;');
  for (const kind of ['buffer', 'stop', 'release'] as const) {
    const ids = p.nodes.filter((n) => n.kind === kind && !n.marked).map((n) => n.id);
    if (ids.length > 0) out.push(`  class ${ids.join(',')} ${kind};`);
  }
  for (const level of ['deny', 'warn'] as const) {
    const ids = p.nodes.filter((n) => n.marked === level).map((n) => n.id);
    if (ids.length > 0) out.push(`  class ${ids.join(',')} ${level};`);
  }
  for (const n of p.nodes) {
    const href = n.at ? link(n.at, n.findings) : undefined;
    if (href) out.push(`  click ${n.id} href "${text(href)}" "${text(placeText(n.at!, p.base))}"`);
  }
  return `${out.join('\n')}\n`;
}

function nodeLine(n: PictureNode, base: string): string {
  const [open, close] = SHAPES[n.kind];
  const lines = n.at ? [...n.lines, placeText(n.at, base)] : n.lines;
  return `${n.id}${open}"${lines.map(text).join('<br/>')}"${close}`;
}

/** Text inside a quoted Mermaid label: quotes and markup as entities. */
function text(s: string): string {
  return s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/`/g, "'");
}
