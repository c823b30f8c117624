// The DMA lifecycle of each driver as plain data, for pictures: the functions that can run in
// each device state, the DMA buffers the driver data owns with their ownership path, where each
// is allocated and where its address reaches the device, and the teardown the kernel runs on
// remove (unbind, Drop of the driver data, its fields in declaration order, device-managed
// resources) with the stops and releases found in it. Findings are attached to the node whose
// source range holds their primary location. Nothing here decides a finding: rules do.
import type { Expr, Span } from '../facts/ir.js';
import type { Crate, DriverNode, FnNode, NType, OwnershipStep } from './crate.js';
import { dropsOf, ownedStructs, removalSteps, type RemovalStep } from './removal-path.js';
import { addressExposures, addressRegistersOf, removalEvents, stopCovers, type AddressConsumer, type Exposure, type RemovalEvent } from './stops.js';
import { MAX_FLOW_DEPTH, valueFlow, type ValueFlow } from './value-flow.js';
import { bodyNames, walkExpr } from './walk.js';

/** A source range, lines and columns 1-based. */
export interface GraphLocation {
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

/** A finding as the picture needs it (the lint layer's findings fit this shape). */
export interface GraphFinding {
  rule: string;
  level: string;
  message: string;
  file: string;
  line: number;
  col: number;
}

/** Device states, as the kernel's driver model has them. */
export type GraphState = 'no-driver' | 'attached' | 'zombie' | 'undecided';

export type FunctionRole = 'probe' | 'unbind' | 'drop' | 'work-item' | 'timer' | 'file-operation' | 'module-init' | 'thread' | 'helper';

export interface GraphFunction {
  id: string;
  label: string;
  role: FunctionRole;
  state: GraphState;
  /** Why it runs in that state, in a few words. */
  why: string;
  at: GraphLocation;
  findings: GraphFinding[];
}

/** A field on the way from the driver data to a buffer. */
export interface GraphOwner {
  id: string;
  struct: string;
  field: string;
  type: string;
  /** Reached through shared ownership (`Arc`): can outlive the driver data. */
  shared: boolean;
  at: GraphLocation;
  findings: GraphFinding[];
}

export interface GraphAllocation {
  fn: string;
  what: string;
  at: GraphLocation;
  findings: GraphFinding[];
}

export interface GraphExposure {
  /** The function that takes the address. */
  fn: string;
  kind: AddressConsumer['kind'];
  /** What received the address: `register PF_FW_BASE_LO`, `chan.submit()`. */
  target: string;
  at: GraphLocation;
  findings: GraphFinding[];
}

export interface GraphBuffer {
  id: string;
  /** Field path from the driver data: `txq.ring`. */
  name: string;
  type: string;
  /** Owner ids, outermost first. */
  path: string[];
  allocations: GraphAllocation[];
  exposures: GraphExposure[];
  /** The teardown step or event that frees it. */
  freedBy?: string;
  at: GraphLocation;
  findings: GraphFinding[];
}

export interface GraphEvent {
  id: string;
  kind: 'stop' | 'release' | 'not-a-stop';
  text: string;
  /** Buffers a stop covers, or a release releases. */
  buffers: string[];
  at: GraphLocation;
  findings: GraphFinding[];
}

export interface GraphTeardownStep {
  id: string;
  /** 1-based position in the order the kernel runs them. */
  order: number;
  kind: 'unbind' | 'drop' | 'field' | 'devres';
  label: string;
  fn?: string;
  events: GraphEvent[];
  /** Buffers freed by this step (their field is dropped here). */
  frees: string[];
  at?: GraphLocation;
}

export interface DriverGraph {
  /** Root file of the crate. */
  crate: string;
  /** Every file of the crate. */
  files: string[];
  driver: string;
  bus: string;
  at: GraphLocation;
  functions: GraphFunction[];
  owners: GraphOwner[];
  buffers: GraphBuffer[];
  teardown: GraphTeardownStep[];
  /** Findings of the crate's files that no node of this picture holds. */
  unplaced: GraphFinding[];
}

/** The pictures of every driver of a crate, with `findings` (of any crate) marked where they belong. */
export function lifecycleGraphs(crate: Crate, findings: readonly GraphFinding[] = []): DriverGraph[] {
  const flow = valueFlow(crate);
  const exposures = addressExposures(flow);
  const graphs = crate.drivers.map((d) => driverGraph(crate, flow, exposures, d));
  markFindings(graphs, findings);
  return graphs;
}

/**
 * Marks findings on pictures: each on the nodes that show its place, in every picture of its
 * crate that shows it (module init is in each); one no picture shows goes to the crate's first.
 */
export function markFindings(graphs: readonly DriverGraph[], findings: readonly GraphFinding[]): void {
  const byCrate = new Map<string, DriverGraph[]>();
  for (const g of graphs) byCrate.set(g.crate, [...(byCrate.get(g.crate) ?? []), g]);
  for (const f of findings) {
    for (const crateGraphs of byCrate.values()) {
      if (!crateGraphs[0].files.includes(f.file)) continue;
      const placed = crateGraphs.map((g) => attachFinding(g, f)).some(Boolean);
      if (!placed) crateGraphs[0].unplaced.push(f);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One driver

function driverGraph(crate: Crate, flow: ValueFlow, exposures: Exposure[], driver: DriverNode): DriverGraph {
  const fns = new FunctionTable(crate);
  const isBuffer = (t: NType) => flow.is.isDmaBuffer(t);
  const addressRegisters = addressRegistersOf(exposures);
  const owners = new Map<string, GraphOwner>();
  const buffers: { node: GraphBuffer; steps: OwnershipStep[]; consumers: AddressConsumer[] }[] = [];
  const allocations = allocationSites(crate, flow);

  if (driver.probe) fns.add(driver.probe);
  if (driver.unbind) fns.add(driver.unbind);
  for (const path of crate.ownedPaths(driver.dataType, isBuffer)) {
    if (path.steps.length === 0) continue;
    const ids = path.steps.map((s) => ownerNode(owners, s).id);
    const name = path.steps.map((s) => s.field).join('.');
    if (buffers.some((b) => b.node.name === name)) continue;
    const exposed = exposures.filter((x) => x.places.some((p) => flow.placeOnPath(p, path.steps)));
    const node: GraphBuffer = {
      id: `buf_${buffers.length}`,
      name,
      type: path.found.text,
      path: ids,
      allocations: allocations
        .filter((a) => flow.moveTargets(a.fn, a.call).some((p) => flow.placeOnPath(p, path.steps)))
        .map((a) => ({ fn: fns.add(a.fn).id, what: a.what, at: loc(a.fn.file.path, a.call.span), findings: [] })),
      exposures: uniqueBy(
        exposed.flatMap((x) => x.consumers.map((c) => ({ fn: fns.add(x.fn).id, kind: c.kind, target: consumerText(c), at: loc(c.fn.file.path, c.expr.span), findings: [] }))),
        (e) => `${e.at.file}:${e.at.line}:${e.target}`,
      ),
      at: loc(path.steps[path.steps.length - 1].struct.file.path, path.steps[path.steps.length - 1].span),
      findings: [],
    };
    buffers.push({ node, steps: path.steps, consumers: exposed.flatMap((x) => x.consumers) });
  }

  const teardown = teardownSteps(crate, flow, driver, fns, buffers, addressRegisters);
  for (const fn of lifecycleRoots(crate, driver)) fns.add(fn);
  return {
    crate: crate.root.path,
    files: crate.files.map((f) => f.path),
    driver: driver.dataType.name,
    bus: driver.bus,
    at: loc(driver.impl.file.path, driver.impl.facts.headerSpan),
    functions: fns.list(),
    owners: [...owners.values()],
    buffers: buffers.map((b) => b.node),
    teardown,
    unplaced: [],
  };
}

function ownerNode(owners: Map<string, GraphOwner>, s: OwnershipStep): GraphOwner {
  const key = `${s.struct.file.path}#${s.struct.name}.${s.field}`;
  let node = owners.get(key);
  if (!node) {
    node = { id: `own_${owners.size}`, struct: s.struct.name, field: s.field, type: s.type.text, shared: s.shared, at: loc(s.struct.file.path, s.span), findings: [] };
    owners.set(key, node);
  }
  return node;
}

/**
 * The crate's entry points that belong to this driver's picture: unbound roots (work items,
 * timers, file operations, threads) of types the driver data owns, and module init. With a
 * single driver in the crate every such root is its.
 */
function lifecycleRoots(crate: Crate, driver: DriverNode): FnNode[] {
  const single = crate.drivers.length === 1;
  const owned = crate.ownedTypeNames([driver.dataType.name], true);
  return crate.fns.filter((fn) => {
    const l = crate.lifecycle(fn);
    if (l.root !== fn || l.state !== 'unbound') return false;
    const self = fn.impl?.selfType.name;
    return single || isModuleInit(fn) || (!!self && owned.has(self));
  });
}

class FunctionTable {
  private readonly byFn = new Map<FnNode, GraphFunction>();
  constructor(private readonly crate: Crate) {}

  add(fn: FnNode): GraphFunction {
    let node = this.byFn.get(fn);
    if (!node) {
      const l = this.crate.lifecycle(fn);
      node = { id: `fn_${fn.id}`, label: fn.label, role: roleOf(this.crate, fn), state: stateOf(l.state, l.root), why: l.why, at: loc(fn.file.path, fn.facts.span), findings: [] };
      this.byFn.set(fn, node);
    }
    return node;
  }

  list(): GraphFunction[] {
    return [...this.byFn.values()];
  }
}

function stateOf(state: 'bound' | 'unbound' | 'unknown', root: FnNode | undefined): GraphState {
  if (state === 'bound') return 'attached';
  if (state === 'unbound') return root && isModuleInit(root) ? 'no-driver' : 'zombie';
  return 'undecided';
}

function isModuleInit(fn: FnNode): boolean {
  return (fn.impl?.traitName === 'Module' || fn.impl?.traitName === 'InPlaceModule') && fn.name === 'init';
}

function roleOf(crate: Crate, fn: FnNode): FunctionRole {
  const t = fn.impl?.traitName;
  if (t === 'Driver' && fn.name === 'probe') return 'probe';
  if (t === 'Driver' && (fn.name === 'unbind' || fn.name === 'remove')) return 'unbind';
  if ((t === 'Drop' || t === 'PinnedDrop') && fn.name === 'drop') return 'drop';
  if (isModuleInit(fn)) return 'module-init';
  if (t === 'WorkItem') return 'work-item';
  if (t === 'HrTimerCallback' || t === 'TimerCallback') return 'timer';
  if (t && crate.api.unboundHolderTraits.has(t)) return 'file-operation';
  const l = crate.lifecycle(fn);
  if (l.root === fn && l.state === 'unbound') return 'thread';
  return 'helper';
}

// ---------------------------------------------------------------------------------------------
// Allocations

interface AllocationSite {
  fn: FnNode;
  call: Extract<Expr, { k: 'call' }>;
  what: string;
}

/** Calls of the kernel's coherent allocation constructors (and configured ones). */
function allocationSites(crate: Crate, flow: ValueFlow): AllocationSite[] {
  const ctorNames = new Set([...crate.api.allocationConstructors.values()].flatMap((names) => [...names]));
  const out: AllocationSite[] = [];
  for (const fn of crate.fns) {
    if (!fn.facts.body || ![...bodyNames(fn.facts.body).calledPaths].some((n) => ctorNames.has(n))) continue;
    walkExpr(fn.facts.body, (e) => {
      if (e.k === 'macro' && flow.api.inertMacros.has(e.name)) return false;
      if (e.k !== 'call' || e.callee.k !== 'path' || e.callee.segs.length < 2) return;
      const segs = e.callee.segs;
      const name = segs[segs.length - 1];
      const ownerSegs = segs.slice(0, -1);
      const owner = ownerSegs.length === 1 && ownerSegs[0] === 'Self' ? fn.scope.selfType : crate.normalize({ kind: 'path', path: ownerSegs, text: ownerSegs.join('::') }, fn.scope);
      if (owner && crate.api.allocationConstructors.get(owner.name)?.has(name)) out.push({ fn, call: e, what: `${owner.name}::${name}` });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Teardown

interface BufferInfo {
  node: GraphBuffer;
  steps: OwnershipStep[];
  consumers: AddressConsumer[];
}

/**
 * The removal order for the whole driver data: `unbind()`, the driver data's Drop, each field
 * in declaration order (with the Drop impls of the crate types it owns), then the device-managed
 * resources. Events (stops, releases) are those the removal path shows for each buffer, merged.
 */
function teardownSteps(crate: Crate, flow: ValueFlow, driver: DriverNode, fns: FunctionTable, buffers: BufferInfo[], addressRegisters: ReadonlySet<string>): GraphTeardownStep[] {
  const out: GraphTeardownStep[] = [];
  const data = driver.struct;
  const eventIds = new Map<string, GraphEvent>();
  const push = (step: Omit<GraphTeardownStep, 'id' | 'order'>) => {
    const s = { id: `step_${out.length + 1}`, order: out.length + 1, ...step };
    out.push(s);
    return s;
  };
  const stepFor = (fn: FnNode, kind: 'unbind' | 'drop') => {
    const events = mergedEvents(flow, fn, buffers, driver, crate, addressRegisters, eventIds);
    return push({ kind, label: fn.label, fn: fns.add(fn).id, events, frees: [], at: loc(fn.file.path, fn.facts.nameSpan) });
  };
  if (driver.unbind) stepFor(driver.unbind, 'unbind');
  if (data) {
    for (const d of dropsOf(crate, data)) stepFor(d, 'drop');
    for (const f of data.facts.fields) {
      const ft = crate.fieldType(data, f.name);
      const frees = buffers.filter((b) => b.steps[0]?.struct === data && b.steps[0].field === f.name).map((b) => b.node.id);
      // Dropping a field runs the Drop impls of the crate types it owns, then frees what it holds.
      for (const s of ft ? ownedStructs(crate, ft) : []) for (const d of dropsOf(crate, s)) stepFor(d, 'drop');
      push({ kind: 'field', label: `field \`${f.name}\` dropped`, events: [], frees, at: loc(data.file.path, f.span) });
    }
  }
  push({ kind: 'devres', label: 'device-managed (Devres) resources released', events: [], frees: [] });
  // A buffer released explicitly on the way is freed there, not when its field is dropped.
  for (const b of buffers) {
    const release = out.flatMap((s) => s.events).find((e) => e.kind === 'release' && e.buffers.includes(b.node.id));
    if (release) {
      b.node.freedBy = release.id;
      for (const s of out) s.frees = s.frees.filter((id) => id !== b.node.id);
    } else {
      b.node.freedBy = out.find((s) => s.frees.includes(b.node.id))?.id;
    }
  }
  return out;
}

/**
 * The events of one removal function for every buffer, in execution order: each buffer's list
 * is the same walk (only its releases differ), so the lists are merged keeping their order.
 */
function mergedEvents(flow: ValueFlow, fn: FnNode, buffers: BufferInfo[], driver: DriverNode, crate: Crate, addressRegisters: ReadonlySet<string>, ids: Map<string, GraphEvent>): GraphEvent[] {
  const merged: GraphEvent[] = [];
  const lists = buffers.length > 0 ? buffers : [undefined];
  for (const b of lists) {
    const steps = b?.steps ?? [];
    const removal = removalStepOf(crate, driver, steps, fn);
    const events = removalEvents(flow, removal, steps, MAX_FLOW_DEPTH);
    let cursor = -1;
    for (const ev of events) {
      const key = `${ev.kind}|${ev.fn.file.path}:${ev.expr.span.line}:${ev.expr.span.col}`;
      let node = ids.get(key);
      if (!node) {
        node = { id: `ev_${ids.size}`, kind: ev.kind === 'quiesce' ? 'stop' : ev.kind === 'release' ? 'release' : 'not-a-stop', text: eventText(ev), buffers: [], at: loc(ev.fn.file.path, ev.expr.span), findings: [] };
        ids.set(key, node);
      }
      const at = merged.indexOf(node);
      if (at >= 0) cursor = at;
      else if (!nestedRelease(merged, node)) merged.splice(++cursor, 0, node);
      else continue; // `drop(x.take())`: one release, said once
      if (!b) continue;
      const counts = ev.kind === 'release' || (ev.kind === 'quiesce' && ev.stop && b.consumers.length > 0 && stopCovers(ev.stop, b.consumers, addressRegisters));
      if (counts && !node.buffers.includes(b.node.id)) node.buffers.push(b.node.id);
    }
  }
  return merged;
}

/** The removal step of `fn` as `removalSteps` gives it for this buffer path (for `shared`), or a plain one. */
function removalStepOf(crate: Crate, driver: DriverNode, steps: OwnershipStep[], fn: FnNode): RemovalStep {
  return removalSteps(crate, driver, steps).find((s) => s.fn === fn) ?? { fn, kind: fn === driver.unbind ? 'unbind' : 'drop', shared: false };
}

/** A release inside or around one already listed, in the same file. */
function nestedRelease(list: GraphEvent[], ev: GraphEvent): boolean {
  if (ev.kind !== 'release') return false;
  const within = (a: GraphLocation, b: GraphLocation) => a.file === b.file && holds(b, { file: a.file, line: a.line, col: a.col } as GraphFinding) && holds(b, { file: a.file, line: a.endLine, col: a.endCol } as GraphFinding);
  return list.some((x) => x.kind === 'release' && (within(x.at, ev.at) || within(ev.at, x.at)));
}

function eventText(ev: RemovalEvent): string {
  const via = ev.viaTry ? ' (through try_access)' : '';
  if (ev.kind === 'quiesce') return `stop: ${ev.what}${via}`;
  if (ev.kind === 'release') return `release: ${ev.what}`;
  return `not a stop: ${ev.what}`;
}

function consumerText(c: AddressConsumer): string {
  if (c.kind === 'register') return c.register ? `register ${c.register}` : 'a device register';
  if (c.kind === 'object') return `${c.text ? `${c.text}.` : ''}${c.method}()`;
  return 'the device';
}

// ---------------------------------------------------------------------------------------------
// Findings

/** Puts a finding on the smallest node whose range holds its primary location; false if none does. */
function attachFinding(g: DriverGraph, f: GraphFinding): boolean {
  // On a tie (a buffer held directly by a field has the field's range), the buffer wins.
  // A buffer also stands at the field of the driver data that leads to it (where a rule about
  // the buffer reports it).
  const outerField = new Map(g.owners.map((o) => [o.id, o.at]));
  const holders: { at: GraphLocation; findings: GraphFinding[] }[] = [
    ...g.buffers,
    ...g.buffers.map((b) => ({ at: outerField.get(b.path[0]) ?? b.at, findings: b.findings })),
    ...g.buffers.flatMap((b) => [...b.allocations, ...b.exposures]),
    ...g.teardown.flatMap((s) => s.events),
    ...g.owners,
    ...g.functions,
  ];
  let best: { at: GraphLocation; findings: GraphFinding[] } | undefined;
  for (const h of holders) {
    if (!holds(h.at, f) || (best && size(best.at) <= size(h.at))) continue;
    best = h;
  }
  best?.findings.push(f);
  return !!best;
}

function holds(at: GraphLocation, f: GraphFinding): boolean {
  if (at.file !== f.file) return false;
  const afterStart = f.line > at.line || (f.line === at.line && f.col >= at.col);
  const beforeEnd = f.line < at.endLine || (f.line === at.endLine && f.col <= at.endCol);
  return afterStart && beforeEnd;
}

function size(at: GraphLocation): number {
  return (at.endLine - at.line) * 10_000 + (at.endCol - at.col);
}

function loc(file: string, span: Span): GraphLocation {
  return { file, line: span.line, col: span.col, endLine: span.endLine, endCol: span.endCol };
}

function uniqueBy<T>(items: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
