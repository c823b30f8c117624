// What a driver's picture shows, independent of the drawing language: boxes grouped in
// clusters (device states, ownership, device, removal order) and the arrows between them.
// DOT and Mermaid both serialize this, so they always show the same thing.
import type { DriverGraph, GraphFinding, GraphLocation, GraphState } from '../../model/lifecycle-graph.js';

export type NodeKind = 'state' | 'function' | 'data' | 'owner' | 'buffer' | 'consumer' | 'step' | 'stop' | 'release' | 'not-a-stop' | 'finding';

export interface PictureNode {
  id: string;
  kind: NodeKind;
  /** Lines of the label, first one the title. */
  lines: string[];
  /** Where it is in the source, shown and linked. */
  at?: GraphLocation;
  /** The most severe level among its findings, if any. */
  marked?: 'deny' | 'warn';
  findings: GraphFinding[];
}

export interface PictureEdge {
  from: string;
  to: string;
  label?: string;
  style: 'transition' | 'owns' | 'allocates' | 'address' | 'then' | 'frees' | 'stops' | 'runs';
}

export interface PictureCluster {
  id: string;
  label: string;
  nodes: string[];
}

export interface Picture {
  title: string;
  /** Folder the places in labels are relative to. */
  base: string;
  clusters: PictureCluster[];
  nodes: PictureNode[];
  edges: PictureEdge[];
}

export const STATE_LABELS: Record<GraphState, string> = {
  'no-driver': 'No Driver',
  attached: 'Driver Attached',
  zombie: 'Zombie (after unbind, references remain)',
  undecided: 'State not decided by the crate',
};

const ROLE_LABELS: Record<string, string> = {
  probe: 'probe',
  unbind: 'unbind',
  drop: 'Drop',
  'work-item': 'work item',
  timer: 'timer',
  'file-operation': 'file operation',
  'module-init': 'module init',
  thread: 'kernel thread',
  helper: 'called function',
};

/** `pf.rs:19`, as shown under a box: relative to the crate's folder, which the title names. */
export function placeText(at: GraphLocation, base = ''): string {
  const file = base && at.file.startsWith(base) ? at.file.slice(base.length) : at.file;
  return `${file}:${at.line}`;
}

/** The folder of a crate's root file, with its trailing slash (empty for the current folder). */
export function crateFolder(rootFile: string): string {
  const slash = Math.max(rootFile.lastIndexOf('/'), rootFile.lastIndexOf('\\'));
  return slash >= 0 ? rootFile.slice(0, slash + 1) : '';
}

export function findingLine(f: GraphFinding): string {
  return `${f.level === 'deny' ? 'error' : 'warning'}[${f.rule}]`;
}

export function driverPicture(g: DriverGraph): Picture {
  const base = crateFolder(g.crate);
  const nodes: PictureNode[] = [];
  const edges: PictureEdge[] = [];
  const clusters: PictureCluster[] = [];
  const add = (n: Omit<PictureNode, 'marked' | 'findings'> & { findings?: GraphFinding[] }): PictureNode => {
    const findings = n.findings ?? [];
    const node: PictureNode = { ...n, findings, marked: levelOf(findings), lines: [...n.lines, ...findings.map(findingLine)] };
    nodes.push(node);
    return node;
  };

  // Device states, the transitions between them, and the functions that can run in each.
  for (const state of ['no-driver', 'attached', 'zombie', 'undecided'] as GraphState[]) {
    const members = g.functions.filter((f) => f.state === state);
    if (state === 'undecided' && members.length === 0) continue;
    const id = stateId(state);
    add({ id, kind: 'state', lines: [STATE_LABELS[state]] });
    for (const f of members) add({ id: f.id, kind: 'function', lines: [f.label, `(${ROLE_LABELS[f.role]})`], at: f.at, findings: f.findings });
    clusters.push({ id: `cluster_${id}`, label: '', nodes: [id, ...members.map((f) => f.id)] });
  }
  edges.push({ from: stateId('no-driver'), to: stateId('attached'), style: 'transition', label: 'probe()' });
  edges.push({ from: stateId('attached'), to: stateId('zombie'), style: 'transition', label: 'unbind(), references remain' });
  edges.push({ from: stateId('zombie'), to: stateId('no-driver'), style: 'transition', label: 'last reference dropped' });

  // Ownership: driver data -> fields -> buffer.
  const data = add({ id: 'data', kind: 'data', lines: [`${g.driver} (driver data)`], at: g.at });
  const ownership = [data.id];
  for (const o of g.owners) {
    add({ id: o.id, kind: 'owner', lines: [`${o.struct}.${o.field}`, o.type], at: o.at, findings: o.findings });
    ownership.push(o.id);
  }
  const linked = new Set<string>();
  const link = (e: PictureEdge) => {
    const key = `${e.from}>${e.to}>${e.style}>${e.label ?? ''}`;
    if (linked.has(key)) return;
    linked.add(key);
    edges.push(e);
  };
  const device: string[] = [];
  for (const b of g.buffers) {
    add({ id: b.id, kind: 'buffer', lines: [`DMA buffer ${b.name}`, b.type], at: b.at, findings: b.findings });
    ownership.push(b.id);
    const chain = ['data', ...b.path, b.id];
    for (let i = 1; i < chain.length; i++) link({ from: chain[i - 1], to: chain[i], style: 'owns', label: i === 1 ? 'owns' : undefined });
    for (const a of b.allocations) link({ from: a.fn, to: b.id, style: 'allocates', label: `allocates (${a.what}, ${placeText(a.at, base)})` });
    for (const [i, x] of b.exposures.entries()) {
      const id = `${b.id}_dev_${i}`;
      add({ id, kind: 'consumer', lines: [x.target, x.kind === 'register' ? 'address written to the device' : x.kind === 'object' ? 'address handed to this object' : 'address given to the device'], at: x.at, findings: x.findings });
      device.push(id);
      link({ from: b.id, to: id, style: 'address', label: 'dma address' });
      link({ from: x.fn, to: id, style: 'runs', label: 'writes' });
    }
  }
  clusters.push({ id: 'ownership', label: 'Ownership (driver data → field → buffer)', nodes: ownership });
  if (device.length > 0) clusters.push({ id: 'device', label: 'Where each address reaches the device', nodes: device });

  // Removal, in the order the kernel runs it.
  const removal: string[] = [];
  let previous: string | undefined;
  const chainTo = (id: string) => {
    if (previous) link({ from: previous, to: id, style: 'then' });
    previous = id;
  };
  for (const s of g.teardown) {
    add({ id: s.id, kind: 'step', lines: [`${s.order}. ${s.label}`], at: s.at });
    removal.push(s.id);
    chainTo(s.id);
    for (const b of s.frees) link({ from: s.id, to: b, style: 'frees', label: 'frees' });
    for (const ev of s.events) {
      add({ id: ev.id, kind: ev.kind, lines: [ev.text], at: ev.at, findings: ev.findings });
      removal.push(ev.id);
      chainTo(ev.id);
      for (const b of ev.buffers) link({ from: ev.id, to: b, style: ev.kind === 'release' ? 'frees' : 'stops', label: ev.kind === 'release' ? 'frees' : 'stops the device for' });
    }
  }
  clusters.push({ id: 'removal', label: 'Removal, in the order the kernel runs it', nodes: removal });

  for (const [i, f] of g.unplaced.entries()) {
    add({ id: `finding_${i}`, kind: 'finding', lines: [f.message], at: { file: f.file, line: f.line, col: f.col, endLine: f.line, endCol: f.col }, findings: [f] });
  }
  return { title: `${g.driver}: ${g.bus} driver (${g.crate})`, base, clusters, nodes, edges };
}

function stateId(state: GraphState): string {
  return `state_${state.replace('-', '_')}`;
}

function levelOf(findings: GraphFinding[]): 'deny' | 'warn' | undefined {
  if (findings.some((f) => f.level === 'deny')) return 'deny';
  return findings.length > 0 ? 'warn' : undefined;
}
