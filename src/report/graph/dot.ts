// A driver's picture in Graphviz DOT: laid out by Graphviz itself (`dot -Tsvg`, or the
// WebAssembly build in svg.ts).
import type { GraphFinding, GraphLocation } from '../../model/lifecycle-graph.js';
import { placeText, type NodeKind, type Picture, type PictureEdge, type PictureNode } from './picture.js';

export interface DrawOptions {
  /** The link of a box, from its source location and findings; none when it returns undefined. */
  link?: (at: GraphLocation, findings: readonly GraphFinding[]) => string | undefined;
}

/** Relative link to a line, as code hosts and editors understand it: `src/pf.rs#L19`. */
export function defaultLink(at: GraphLocation): string {
  return `${at.file}#L${at.line}`;
}

const NODE_STYLE: Record<NodeKind, string> = {
  state: 'shape=ellipse, style="filled,bold", fillcolor="#dde6f3", color="#1f3b63", fontsize=12',
  function: 'shape=box, style="rounded,filled", fillcolor="#e8f0fe", color="#3b6fb6"',
  data: 'shape=box, style="filled,bold", fillcolor="#fff4d6", color="#9a6b00"',
  owner: 'shape=box, style=filled, fillcolor="#fffaf0", color="#9a6b00"',
  buffer: 'shape=cylinder, style=filled, fillcolor="#fde9c9", color="#b05a00"',
  consumer: 'shape=component, style=filled, fillcolor="#eeeeee", color="#555555"',
  step: 'shape=box, style="filled,bold", fillcolor="#f1f1f1", color="#333333"',
  stop: 'shape=octagon, style=filled, fillcolor="#d9f2d9", color="#2e7d32"',
  release: 'shape=box, style="filled,dashed", fillcolor="#ffe0e0", color="#b00020"',
  'not-a-stop': 'shape=box, style="filled,dotted", fillcolor="#fafafa", color="#888888"',
  finding: 'shape=note, style=filled, fillcolor="#ffd7d7", color="#b00020"',
};

const EDGE_STYLE: Record<PictureEdge['style'], string> = {
  transition: 'color="#1f3b63", penwidth=1.5, fontcolor="#1f3b63"',
  owns: 'color="#9a6b00"',
  allocates: 'style=dashed, color="#3b6fb6"',
  address: 'color="#b05a00", penwidth=1.5',
  runs: 'style=dotted, color="#555555"',
  then: 'color="#333333", penwidth=2',
  frees: 'color="#b00020", penwidth=1.5',
  stops: 'style=dashed, color="#2e7d32"',
};

/** Arrows that say what acts on what without placing it: they must not pull the layout apart. */
const LOOSE = new Set<PictureEdge['style']>(['frees', 'stops', 'runs']);

const MARK_STYLE = {
  deny: 'fillcolor="#ffc9c9", color="#b00020", penwidth=3',
  warn: 'fillcolor="#ffe8b3", color="#b36b00", penwidth=3',
};

export function toDot(p: Picture, options: DrawOptions = {}): string {
  const link = options.link ?? defaultLink;
  const out: string[] = [];
  out.push(`digraph ${quote(p.title)} {`);
  out.push(`  graph [rankdir=TB, compound=true, fontname="Helvetica", fontsize=12, label=${quote(p.title)}, labelloc=t, nodesep=0.25, ranksep=0.5];`);
  out.push('  node [fontname="Helvetica", fontsize=10, margin="0.12,0.05"];');
  out.push('  edge [fontname="Helvetica", fontsize=9];');
  const inCluster = new Set(p.clusters.flatMap((c) => c.nodes));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (const c of p.clusters) {
    out.push(`  subgraph ${c.id.startsWith('cluster_') ? c.id : `cluster_${c.id}`} {`);
    out.push(`    label=${quote(c.label)}; style="rounded"; color="#999999";`);
    for (const id of c.nodes) out.push(`    ${nodeLine(byId.get(id)!, link, p.base)}`);
    out.push('  }');
  }
  for (const n of p.nodes) if (!inCluster.has(n.id)) out.push(`  ${nodeLine(n, link, p.base)}`);
  for (const e of p.edges) {
    const attrs = [EDGE_STYLE[e.style], e.label ? `label=${quote(e.label)}` : '', e.style === 'then' ? 'weight=4' : LOOSE.has(e.style) ? 'constraint=false' : ''].filter(Boolean).join(', ');
    out.push(`  ${e.from} -> ${e.to} [${attrs}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

function nodeLine(n: PictureNode, link: NonNullable<DrawOptions['link']>, base: string): string {
  const lines = n.at ? [...n.lines, placeText(n.at, base)] : n.lines;
  const label = lines.map(escape).join('\\n');
  const attrs = [NODE_STYLE[n.kind], n.marked ? MARK_STYLE[n.marked] : '', `label="${label}"`];
  const href = n.at ? link(n.at, n.findings) : undefined;
  if (href) attrs.push(`URL=${quote(href)}`, 'target="_top"');
  const tip = [n.lines[0], ...n.findings.map((f) => `${f.rule}: ${f.message}`), n.at ? placeText(n.at, base) : ''].filter(Boolean).join('\n');
  attrs.push(`tooltip=${quote(tip)}`);
  if (n.marked) attrs.push(`class="finding finding-${n.marked}"`);
  return `${n.id} [${attrs.filter(Boolean).join(', ')}];`;
}

/** A DOT string literal. */
function quote(s: string): string {
  return `"${escape(s)}"`;
}

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
