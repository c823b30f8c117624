// The stop model: where each buffer's address went (its consumers) and which teardown on the
// removal path stops that consumer. A stop counts for a buffer when it
// stops the whole function, targets the register or object that received the address, or is
// configured; teardown that stops no DMA engine (a clock, an IRQ, a counter, another buffer's
// address register) is kept as evidence of what was seen and why it does not count.
import type { Expr } from '../facts/ir.js';
import { bodyBindings } from './bindings.js';
import type { CallEdge, FnNode, NType, OwnershipStep } from './crate.js';
import { isQuiesceName } from './kernel-api.js';
import type { RemovalStep } from './removal-path.js';
import type { Place, Sink, ValueFlow } from './value-flow.js';
import { calleeName, fieldChain, forEachChild } from './walk.js';

/** What received a buffer's address. */
export type AddressConsumer =
  | { kind: 'register'; register?: string; /** The statement that zeroes it (see RegisterWrite.clear). */ clear?: string; fn: FnNode; expr: Expr }
  | { kind: 'object'; type?: NType; text?: string; method: string; fn: FnNode; expr: Expr }
  | { kind: 'other'; fn: FnNode; expr: Expr };

/** How far a stop reaches. */
export type Stop =
  | { scope: 'configured' | 'function'; what: string }
  | { scope: 'register'; register?: string; what: string }
  | { scope: 'object'; type?: NType; text?: string; what: string };

export interface RemovalEvent {
  kind: 'quiesce' | 'release' | 'no-stop';
  fn: FnNode;
  expr: Expr;
  step: RemovalStep;
  viaTry: boolean;
  what: string;
  stop?: Stop;
}

/** The consumer at the end of an address's flow: a register write, a method of another object, or anything else. */
export function addressConsumer(flow: ValueFlow, sink: Sink): AddressConsumer {
  const { fn, expr } = sink;
  const write = enclosingRegisterWrite(flow, fn, expr);
  if (write) return { kind: 'register', register: write.register, clear: write.clear, fn, expr };
  if (expr.k === 'method' && !flow.is.isTextMacro(expr)) {
    const chain = fieldChain(expr.recv);
    return { kind: 'object', type: flow.crate.peel(flow.is.valueType(fn, expr.recv)), text: chain?.join('.'), method: expr.name, fn, expr };
  }
  return { kind: 'other', fn, expr };
}

/**
 * The register write an address reaches from `e`: `e` itself, or the write at the end of a
 * builder chain (`REG::default().set_base(addr).write(bar)`) or around a closure
 * (`REG::update(bar, |r| r.set_base(addr))`).
 */
function enclosingRegisterWrite(flow: ValueFlow, fn: FnNode, e: Expr) {
  const parent = bodyBindings(fn.facts).parent;
  let cur: Expr | undefined = e;
  for (let i = 0; cur && i < 8; i++) {
    const write = flow.is.registerWrite(fn, cur);
    if (write) return write;
    const p = parent.get(cur);
    if (!p) return undefined;
    const chained = p.k === 'method' && p.recv === cur;
    const inClosure = p.k === 'closure' || ((p.k === 'call' || p.k === 'method') && cur.k === 'closure');
    if (!chained && !inClosure && !(cur.k === 'block' || p.k === 'block')) return undefined;
    cur = p;
  }
  return undefined;
}

export function consumerNote(c: AddressConsumer): string {
  switch (c.kind) {
    case 'register':
      return c.register ? `the DMA address is written to register \`${c.register}\` here` : 'the DMA address is written to a device register here';
    case 'object':
      return `the DMA address is handed to \`${c.text ? `${c.text}.` : ''}${c.method}()\` here`;
    default:
      return 'the DMA address is given to the device here';
  }
}

/**
 * Quiesce, release and no-stop events of one removal function in execution order, following
 * the crate's calls.
 */
export function removalEvents(flow: ValueFlow, step: RemovalStep, steps: OwnershipStep[], maxDepth: number): RemovalEvent[] {
  const events: RemovalEvent[] = [];
  const seen = new Set<FnNode>();
  const visitFn = (fn: FnNode, viaTry: boolean, depth: number): void => {
    if (depth > maxDepth || seen.has(fn) || !fn.facts.body) return;
    seen.add(fn);
    const parents: Expr[] = [];
    const visit = (e: Expr): void => {
      parents.push(e);
      forEachChild(e, visit);
      parents.pop();
      // Code in a macro runs unless the macro only turns its tokens into text (`stringify!`):
      // `warn_on!(bar.access(dev).inspect(|b| flush.unregister(b)).is_err())` does unregister.
      if (e.k === 'macro' && flow.api.inertMacros.has(e.name)) return;
      const release = flow.releaseOf(fn, e, steps);
      if (release) events.push({ kind: 'release', fn, expr: e, step, viaTry: false, what: release });
      const edges = flow.index(fn).calls.get(e) ?? [];
      const tried = viaTry || flow.throughTryAccess(fn, e, parents);
      const found = stopAt(flow, fn, e, edges);
      if (found && 'scope' in found) events.push({ kind: 'quiesce', fn, expr: e, step, viaTry: tried, what: found.what, stop: found });
      else if (found) events.push({ kind: 'no-stop', fn, expr: e, step, viaTry: tried, what: found.why });
      else for (const edge of edges) visitFn(edge.to, tried, depth + 1);
    };
    visit(fn.facts.body);
  };
  visitFn(step.fn, false, 0);
  return events;
}

/**
 * What `e` stops, if anything: a configured quiesce function, a whole-function stop, a register
 * write, or a call that says it stops its receiver. Teardown that stops no DMA engine comes back
 * as `{ why }`. A crate function counts by what its body does (the caller descends into it),
 * by its name only when its body calls raw C bindings.
 */
function stopAt(flow: ValueFlow, fn: FnNode, e: Expr, edges: CallEdge[]): Stop | { why: string } | undefined {
  if (e.k !== 'method' && e.k !== 'call') return undefined;
  const name = calleeName(e);
  if (!name) return undefined;
  const api = flow.api;
  if (api.quiesceFunctions.has(name)) return { scope: 'configured', what: `\`${name}()\`` };
  if (edges.length > 0) {
    const cBinding = edges.some((edge) => isQuiesceName(api, edge.to.name) && flow.callsRawBindings(edge.to));
    return cBinding ? { scope: 'function', what: `\`${name}()\`` } : undefined;
  }
  const whole = flow.is.wholeFunctionStop(e);
  if (whole) return { scope: 'function', what: whole };
  if (flow.receiverIsCpuMemory(fn, e)) return undefined;
  const write = flow.is.registerWrite(fn, e);
  if (write && write.register && isInterruptRegister(write.register)) {
    return { why: `the write to \`${write.register}\` masks or acknowledges interrupts; it stops no DMA engine` };
  }
  if (write) return { scope: 'register', register: write.register, what: write.register ? `the write to \`${write.register}\`` : 'a register write' };
  if (name === 'free_irq') return { why: '`free_irq()` releases an interrupt; it stops no DMA engine' };
  if (!isQuiesceName(api, name)) return undefined;
  if (e.k === 'call') return { scope: 'function', what: `\`${name}()\`` };
  const recvType = flow.crate.peel(flow.is.valueType(fn, e.recv));
  const chain = fieldChain(e.recv)?.join('.');
  const text = `\`${chain ? `${chain}.` : ''}${name}()\``;
  if (flow.is.isNoDmaType(recvType)) return { why: `${text} acts on a \`${recvType!.name}\`, which does no DMA` };
  if (recvType?.local && !flow.is.isMmio(recvType)) return { why: `${text} is a method of \`${recvType.name}\` with no body in the crate that reaches the device` };
  return { scope: 'object', type: recvType, text: chain, what: text };
}

/** Words that name an interrupt register (`IRQ_MASK`, `MBOX_IRQ_ACK`, `INTR_EN`, `MSIX_CTRL`). */
const INTERRUPT_WORDS = new Set(['IRQ', 'IRQS', 'INT', 'INTS', 'INTR', 'INTERRUPT', 'INTERRUPTS', 'ISR', 'IMR', 'IER', 'IMASK', 'MSI', 'MSIX']);

/** A register whose name says it is about interrupts: writing it masks, enables or acknowledges them. */
function isInterruptRegister(register: string): boolean {
  return register
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .some((w) => INTERRUPT_WORDS.has(w));
}

/**
 * Whether a stop covers a buffer given to `consumers`. `addressRegisters` are the registers that
 * received some buffer's address in the crate: clearing one of them stops only that buffer.
 */
export function stopCovers(stop: Stop, consumers: readonly AddressConsumer[], addressRegisters: ReadonlySet<string>): boolean {
  switch (stop.scope) {
    case 'configured':
    case 'function':
      return true;
    case 'register': {
      const r = stop.register;
      if (!r || !addressRegisters.has(r)) return true;
      return consumers.some((c) => c.kind === 'register' && c.register === r);
    }
    case 'object':
      return consumers.some((c) => c.kind !== 'object' || sameObject(c, stop));
  }
}

function sameObject(c: Extract<AddressConsumer, { kind: 'object' }>, stop: Extract<Stop, { scope: 'object' }>): boolean {
  if (c.type?.name && stop.type?.name) return c.type.name === stop.type.name;
  // `chan` in probe() and `this.chan` in unbind(): the same field or local, by its last name.
  const last = (text?: string) => text?.split('.').pop();
  return !!c.text && last(c.text) === last(stop.text);
}

/** Why a stop seen on the removal path does not stop this buffer's consumers. */
export function whyNotCovered(stop: Stop, consumers: readonly AddressConsumer[]): string {
  if (stop.scope === 'register') {
    const own = consumers.filter((c) => c.kind === 'register' && c.register).map((c) => `\`${(c as { register: string }).register}\``);
    return `this write to \`${stop.register}\` only concerns the address register of another buffer; ${own.length > 0 ? `this buffer's address is in ${own.join(', ')}` : 'it does not stop the engine that holds this buffer\'s address'}`;
  }
  if (stop.scope === 'object') {
    const objects = consumers.filter((c) => c.kind === 'object').map((c) => `\`${(c as { text?: string; method: string }).text ?? 'an object'}\``);
    return `${stop.what} stops something else than ${objects.join(', ') || 'the engine'}, which holds this buffer's address`;
  }
  return `${stop.what} does not stop this buffer's engine`;
}

const exposureCache = new WeakMap<ValueFlow, Exposure[]>();

/**
 * Every DMA address the crate takes (`dma_handle()`, `dma_address()`) and hands to something
 * other than a log macro, with the buffer places it is taken from and everything it reaches.
 */
export interface Exposure {
  fn: FnNode;
  site: Extract<Expr, { k: 'method' }>;
  /** The nearest place the address goes, for the report. */
  sink: Sink;
  consumer: AddressConsumer;
  /** Everything that receives the address (both halves of a split write, every caller's use). */
  consumers: AddressConsumer[];
  places: Place[];
}

export function addressExposures(flow: ValueFlow): Exposure[] {
  const known = exposureCache.get(flow);
  if (known) return known;
  const out: Exposure[] = [];
  for (const { fn, site, sink } of flow.addressTakes()) {
    const consumers = flow.addressSinks(fn, site).map((x) => addressConsumer(flow, x));
    // Shown in reports: a register or an object says more than a descriptor or a field.
    const consumer = consumers.find((c) => c.kind === 'register') ?? consumers.find((c) => c.kind === 'object') ?? addressConsumer(flow, sink);
    out.push({ fn, site, sink: { fn: consumer.fn, expr: consumer.expr }, consumer, consumers, places: flow.placesOf(fn, site.recv) });
  }
  exposureCache.set(flow, out);
  return out;
}


/** The registers that received some buffer's address: clearing one of them stops that buffer only. */
export function addressRegistersOf(exposures: readonly Exposure[]): Set<string> {
  return new Set(exposures.flatMap((x) => x.consumers.flatMap((c) => (c.kind === 'register' && c.register ? [c.register] : []))));
}
