// Value flow over the crate model: where a value lives (the struct field a receiver denotes,
// through locals, parameters, guards and views), where it is moved to (struct literals, fields,
// the crate's functions), and where a DMA address goes (the first expression that hands it to
// something: a register write, a method of another object, a descriptor, a function outside the
// crate). One argument/parameter mapping and one depth policy (MAX_FLOW_DEPTH) serve every rule.
import type { Expr, Pat, Span } from '../facts/ir.js';
import { bodyBindings, type Binding } from './bindings.js';
import type { CallEdge, Crate, FnNode, NType, OwnershipStep, StructNode } from './crate.js';
import { kernelPredicates, type KernelPredicates } from './kernel-predicates.js';
import type { KernelApi } from './kernel-api.js';
import { bodyNames, forEachChild, TRANSPARENT_METHODS } from './walk.js';

/** Where a value lives: a field of a crate struct, or some value of a crate type. */
export type Place = { kind: 'field'; struct: StructNode; field: string } | { kind: 'owner'; struct: StructNode };

/** A point where a value leaves the code that is followed. */
/** A DMA address taken from a buffer, and the nearest place it goes. */
export interface AddressTake {
  fn: FnNode;
  site: Extract<Expr, { k: 'method' }>;
  sink: Sink;
}

export interface Sink {
  fn: FnNode;
  expr: Expr;
  /** The operand of `expr` the value arrived through (a struct literal's field value, an assigned value). */
  from?: Expr;
}

interface FnIndex {
  /** Call sites resolved to functions of the crate. */
  calls: Map<Expr, CallEdge[]>;
}

/** Rust methods that return a view of the same value (iterators, references, guards). */
const STD_VIEW_METHODS = new Set([
  'iter', 'iter_mut', 'into_iter', 'next', 'first', 'last', 'get', 'get_mut', 'nth', 'ok', 'ok_or', 'ok_or_else',
  'unwrap_unchecked', 'as_slice', 'as_mut_slice', 'values', 'values_mut',
  'enumerate', 'rev', 'skip', 'take', 'step_by', 'peekable', 'cloned', 'copied', 'filter', 'flatten', 'zip',
]);
/** Rust methods whose result is their receiver's value (moves go through them). */
const STD_MOVE_METHODS = new Set(['into', 'try_into', 'unwrap', 'expect', 'ok', 'ok_or', 'ok_or_else', 'map_err']);
/** Comparisons: testing an address is not handing it to anyone. */
const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=', '&&', '||']);
/** Core functions that release a value: `drop(x)`, `mem::take(&mut x)`, `mem::replace(&mut x, ..)`. */
const RELEASE_FNS = new Set(['drop']);
const MEM_RELEASE_FNS = new Set(['take', 'replace']);
/**
 * Core methods that move the value out of an `Option`/cell, releasing it from its owner, or that
 * drop a collection's elements in place (`queues.clear()`).
 */
const RELEASE_METHODS = new Set(['take', 'replace', 'clear', 'truncate']);

/** How many calls, bindings and moves a value is followed through. */
export const MAX_FLOW_DEPTH = 6;
const MAX_DEPTH = MAX_FLOW_DEPTH;


const cache = new WeakMap<Crate, ValueFlow>();

/** The value flow of one crate, computed on demand and memoized. */
export function valueFlow(crate: Crate): ValueFlow {
  let flow = cache.get(crate);
  if (!flow) cache.set(crate, (flow = new ValueFlow(crate)));
  return flow;
}

export class ValueFlow {
  private readonly indexes = new Map<FnNode, FnIndex>();
  private readonly uniqueBufferOwners = new Map<StructNode, boolean>();
  private readonly placeMemo = new Map<Expr, Place[]>();
  private readonly moveMemo = new Map<Expr, Place[]>();
  private readonly rawBindingCallers = new Map<FnNode, boolean>();
  private addressFieldKeys?: Set<string>;
  private takes?: AddressTake[];

  readonly api: KernelApi;
  readonly is: KernelPredicates;

  constructor(readonly crate: Crate) {
    this.api = crate.api;
    this.is = kernelPredicates(crate);
  }

  index(fn: FnNode): FnIndex {
    const cached = this.indexes.get(fn);
    if (cached) return cached;
    const idx: FnIndex = { calls: new Map() };
    this.indexes.set(fn, idx);
    for (const edge of this.crate.callees(fn)) push(idx.calls, edge.site, edge);
    return idx;
  }

  /** Whether a method name gives a view of its receiver (seen through when resolving a place). */
  private seesThrough(name: string): boolean {
    const r = this.api.revocableAccess;
    return TRANSPARENT_METHODS.has(name) || STD_VIEW_METHODS.has(name) || r.guard.has(name) || r.closure.has(name) || r.checked.has(name);
  }

  isRevocableTry(name: string): boolean {
    return this.api.revocableAccess.guard.has(name) || this.api.revocableAccess.closure.has(name);
  }

  /** The expression under references, `?`, indexing and view methods. */
  private strip(e: Expr): Expr {
    let cur = e;
    for (let i = 0; i < 32; i++) {
      if (cur.k === 'try') cur = cur.expr;
      else if (cur.k === 'unary' && (cur.op === '*' || cur.op === '&' || cur.op === '&mut')) cur = cur.expr;
      else if (cur.k === 'seq' && cur.kind === 'paren' && cur.items.length === 1) cur = cur.items[0];
      else if (cur.k === 'index') cur = cur.recv;
      else if (cur.k === 'method' && this.seesThrough(cur.name)) cur = cur.recv;
      else return cur;
    }
    return cur;
  }

  isTextMacro(e: Expr): boolean {
    return this.is.isTextMacro(e);
  }


  /** The local or parameter a single-segment path names, if any. */
  private bindingOf(fn: FnNode, use: Expr): Binding | undefined {
    return bodyBindings(fn.facts).resolved.get(use);
  }

  /** Uses of the binding a pattern makes. */
  private usesOfPat(fn: FnNode, n: { name: string; span: Span }): Expr[] {
    const scopes = bodyBindings(fn.facts);
    const binding = scopes.all.find((b) => b.name === n.name && sameSpan(b.span, n.span));
    return binding ? scopes.uses.get(binding) ?? [] : [];
  }

  /** Uses of a parameter (not of a local that shadows it). */
  private paramUses(fn: FnNode, index: number): Expr[] {
    const scopes = bodyBindings(fn.facts);
    const param = scopes.params.find((b) => b.paramIndex === index);
    return param ? scopes.uses.get(param) ?? [] : [];
  }

  /** The argument a call site passes for parameter `index` of `target` (self excluded). */
  private argFor(edge: CallEdge, index: number): Expr | undefined {
    const site = edge.site;
    if (site.k === 'method') return site.args[index];
    if (site.k === 'call') return site.args[edge.to.facts.self ? index + 1 : index];
    return undefined;
  }

  private argIndex(site: Expr, arg: Expr, target: FnNode): number {
    if (site.k === 'method') return site.args.indexOf(arg);
    if (site.k === 'call') {
      const i = site.args.indexOf(arg);
      return target.facts.self && i >= 0 ? i - 1 : i;
    }
    return -1;
  }

  private structType(s: StructNode): NType {
    return { kind: 'path', name: s.name, path: [...s.modPath, s.name], args: [], local: s, text: s.name };
  }

  private placeType(p: Place): NType | undefined {
    return p.kind === 'field' ? this.crate.fieldType(p.struct, p.field) : this.structType(p.struct);
  }

  private localStruct(t: NType | undefined): StructNode | undefined {
    return this.crate.structOf(this.crate.peel(t));
  }

  /** Where the value of `e` lives (for a receiver such as `self.queue.ring.try_access()?`). */
  placesOf(fn: FnNode, e: Expr, depth = 0): Place[] {
    return this.memo(this.placeMemo, e, depth, () => this.computePlaces(fn, e, depth));
  }

  /**
   * Memoized by expression (each belongs to one function). The empty entry set before the
   * computation cuts recursion cycles (a local moved into a field read back into the local).
   */
  private memo(table: Map<Expr, Place[]>, e: Expr, depth: number, compute: () => Place[]): Place[] {
    if (depth > MAX_DEPTH) return [];
    const hit = table.get(e);
    if (hit) return hit;
    table.set(e, []);
    const result = compute();
    table.set(e, result);
    return result;
  }

  private computePlaces(fn: FnNode, e: Expr, depth: number): Place[] {
    const inner = this.strip(e);
    if (inner.k === 'field') {
      const direct = this.localStruct(this.crate.typeOf(inner.recv, fn));
      const owners = direct ? [direct] : this.placesOf(fn, inner.recv, depth + 1).map((p) => this.localStruct(this.placeType(p)));
      return uniquePlaces(owners.filter((s): s is StructNode => !!s && s.facts.fields.some((f) => f.name === inner.name)).map((s) => ({ kind: 'field', struct: s, field: inner.name })));
    }
    if (inner.k === 'path' && inner.segs.length === 1) return this.placesOfLocal(fn, inner.segs[0], inner, depth);
    return [];
  }

  /** A local: where its value came from, and where it is moved to. */
  private placesOfLocal(fn: FnNode, name: string, use: Expr, depth: number): Place[] {
    const out: Place[] = [];
    if (name === 'self') {
      const s = this.localStruct(this.crate.env(fn).get('self'));
      return s ? [{ kind: 'owner', struct: s }] : [];
    }
    const binding = this.bindingOf(fn, use);
    if (!binding) return [];
    if (binding.origin) out.push(...this.placesOf(fn, binding.origin, depth + 1));
    if (binding.kind === 'param' && binding.paramIndex !== undefined) {
      for (const edge of this.crate.callers(fn)) {
        const arg = this.argFor(edge, binding.paramIndex);
        if (arg) out.push(...this.placesOf(edge.from, arg, depth + 1));
      }
    }
    const from = binding.kind === 'param' ? fn.facts.span : binding.span;
    for (const u of bodyBindings(fn.facts).uses.get(binding) ?? []) if (u !== use) out.push(...this.moveTargets(fn, u, depth + 1));
    out.push(...this.opaqueMacroFields(fn, name, from));
    if (out.length === 0) {
      const s = this.localStruct(this.crate.typeOf(use, fn)) ?? (binding.origin && this.constructedStruct(fn, binding.origin));
      if (s) out.push({ kind: 'owner', struct: s });
    }
    return uniquePlaces(out);
  }

  /**
   * Fields initialized by a macro nested in a pin-init macro, whose tokens are not parsed
   * (`try_pin_init!(Self { ring <- new_mutex!(Some(ring)) })`): the local of the field's name
   * is taken to move there. Only for fields that bear the local's own name.
   */
  private opaqueMacroFields(fn: FnNode, name: string, from: Span): Place[] {
    const out: Place[] = [];
    const visit = (e: Expr): void => {
      if (e.k === 'struct' && before(from, e.span)) {
        const f = e.fields.find((x) => x.name === name && x.value.k === 'macro' && !x.value.parsed && x.value.args.length === 0);
        const s = f && this.literalStruct(fn, e.path);
        if (s) out.push({ kind: 'field', struct: s, field: name });
      }
      forEachChild(e, visit);
    };
    if (fn.facts.body) visit(fn.facts.body);
    return out;
  }

  /**
   * The crate struct an expression builds when its type is not known otherwise: the literal
   * inside wrappers and pin-init macros, as in `KBox::pin_init(try_pin_init!(Self { .. }), ..)?`.
   */
  private constructedStruct(fn: FnNode, e: Expr, depth = 0): StructNode | undefined {
    if (depth > 6) return undefined;
    if (e.k === 'struct') return this.literalStruct(fn, e.path);
    if (e.k === 'try') return this.constructedStruct(fn, e.expr, depth + 1);
    const wraps = (e.k === 'call' && (this.index(fn).calls.get(e) ?? []).length === 0) || (e.k === 'macro' && !this.isTextMacro(e));
    return wraps ? firstOf(e.args, (a) => this.constructedStruct(fn, a, depth + 1)) : undefined;
  }

  /** The struct fields the value of `e` is moved into (`Self { ring }`, `Queue::new(ring)`, `self.x = Some(ring)`). */
  moveTargets(fn: FnNode, e: Expr, depth = 0): Place[] {
    return this.memo(this.moveMemo, e, depth, () => uniquePlaces(this.computeMoveTargets(fn, e, depth)));
  }

  private computeMoveTargets(fn: FnNode, e: Expr, depth: number): Place[] {
    const idx = this.index(fn);
    const scopes = bodyBindings(fn.facts);
    let cur = e;
    for (let i = 0; i < 24; i++) {
      const p = scopes.parent.get(cur);
      if (!p) return this.fromCallers(fn, depth, (edge) => this.moveTargets(edge.from, edge.site, depth + 1));
      const pat = p.k === 'block' ? scopes.letPattern.get(cur) : undefined;
      if (pat) return this.forNames(fn, pat, (u) => this.moveTargets(fn, u, depth + 1));
      switch (p.k) {
        case 'try':
        case 'cast':
        case 'seq':
          cur = p;
          continue;
        case 'unary':
          if (p.op !== '*') return []; // a borrow is not a move
          cur = p;
          continue;
        case 'call': {
          if (p.callee === cur) return [];
          const edges = idx.calls.get(p) ?? [];
          if (edges.length > 0) return edges.flatMap((edge) => this.paramTargets(edge.to, this.argIndex(p, cur, edge.to), depth));
          cur = p; // `Some(x)`, `KBox::new(x, ..)`, `Devres::new(dev, x, ..)`: wrapped, still moving
          continue;
        }
        case 'method': {
          if (p.recv === cur) {
            if (!STD_MOVE_METHODS.has(p.name)) return [];
            cur = p;
            continue;
          }
          const edges = idx.calls.get(p) ?? [];
          if (edges.length > 0) return edges.flatMap((edge) => this.paramTargets(edge.to, this.argIndex(p, cur, edge.to), depth));
          return this.placesOf(fn, p.recv, depth + 1); // `self.rings.push(ring)`: into the receiver
        }
        case 'macro':
          if (this.isTextMacro(p)) return [];
          cur = p;
          continue;
        case 'struct': {
          const field = p.fields.find((f) => f.value === cur);
          const s = field && this.literalStruct(fn, p.path);
          return field && s ? [{ kind: 'field', struct: s, field: field.name }] : [];
        }
        case 'block':
          if (!isTail(p, cur)) return [];
          cur = p;
          continue;
        case 'if':
          if (p.cond === cur) return [];
          cur = p;
          continue;
        case 'match':
          if (p.value === cur) return [];
          cur = p;
          continue;
        case 'letcond':
          return this.forNames(fn, p.pat, (u) => this.moveTargets(fn, u, depth + 1));
        case 'assign':
          return p.value === cur ? this.placesOf(fn, p.target, depth + 1) : [];
        case 'return':
          return this.fromCallers(fn, depth, (edge) => this.moveTargets(edge.from, edge.site, depth + 1));
        default:
          return [];
      }
    }
    return [];
  }

  private paramTargets(target: FnNode, index: number, depth: number): Place[] {
    return this.paramUses(target, index).flatMap((u) => this.moveTargets(target, u, depth + 1));
  }

  private literalStruct(fn: FnNode, path: string[]): StructNode | undefined {
    if (path.length === 1 && path[0] === 'Self') return this.localStruct(fn.scope.selfType);
    return this.localStruct(this.crate.normalize({ kind: 'path', path, text: path.join('::') }, fn.scope));
  }

  private forNames<T>(fn: FnNode, pat: Pat, each: (use: Expr) => T[]): T[] {
    return pat.names.flatMap((n) => this.usesOfPat(fn, n).flatMap(each));
  }

  private fromCallers<T>(fn: FnNode, depth: number, each: (edge: CallEdge) => T[]): T[] {
    if (depth > MAX_DEPTH) return [];
    return this.crate.callers(fn).flatMap(each);
  }

  /**
   * Where a DMA address computed by `e` goes, or undefined when it only reaches log macros,
   * comparisons or nothing. Followed through locals, arithmetic, the crate's functions and
   * their return values.
   */
  addressSink(fn: FnNode, e: Expr): Sink | undefined {
    // Iterative deepening: the sink reported is the one fewest steps away.
    for (let limit = 0; limit <= MAX_DEPTH; limit++) {
      const sink = this.sinksWithin(fn, e, 0, limit, new Set(), false)[0];
      if (sink) return sink;
    }
    return undefined;
  }

  /** Every place a DMA address computed by `e` goes (both halves of a split 64-bit write, every caller's use). */
  addressSinks(fn: FnNode, e: Expr): Sink[] {
    return this.sinksWithin(fn, e, 0, MAX_DEPTH, new Set(), true);
  }

  /** The sinks within `limit` steps: all of them, or (`all` false) the first found. */
  private sinksWithin(fn: FnNode, e: Expr, depth: number, limit: number, seen: Set<string>, all: boolean): Sink[] {
    const key = `${fn.id}:${e.span.line}:${e.span.col}`;
    if (depth > limit || seen.has(key)) return [];
    seen.add(key);
    const idx = this.index(fn);
    const scopes = bodyBindings(fn.facts);
    const next = (f: FnNode, x: Expr) => this.sinksWithin(f, x, depth + 1, limit, seen, all);
    const each = <T>(items: readonly T[], f: (x: T) => Sink[]): Sink[] => {
      const out: Sink[] = [];
      for (const x of items) {
        const found = f(x);
        if (found.length > 0 && !all) return found;
        out.push(...found);
      }
      return out;
    };
    const returned = (at: Expr): Sink[] => {
      // A returned address goes wherever the callers send it; with no caller in the crate it leaves the crate.
      const callers = this.crate.callers(fn);
      return callers.length === 0 ? [{ fn, expr: at }] : each(callers, (edge) => next(edge.from, edge.site));
    };
    const intoParam = (p: Expr, arg: Expr, edges: CallEdge[]) => each(edges, (edge) => each(this.paramUses(edge.to, this.argIndex(p, arg, edge.to)), (u) => next(edge.to, u)));
    let cur = e;
    for (let i = 0; i < 32; i++) {
      const p = scopes.parent.get(cur);
      if (!p) return returned(cur);
      const pat = p.k === 'block' ? scopes.letPattern.get(cur) : undefined;
      if (pat) return each(pat.names.flatMap((n) => this.usesOfPat(fn, n)), (u) => next(fn, u));
      switch (p.k) {
        case 'try':
        case 'cast':
        case 'unary':
        case 'seq':
          cur = p;
          continue;
        case 'binary':
          if (COMPARISONS.has(p.op)) return [];
          cur = p;
          continue;
        case 'macro':
          return this.isTextMacro(p) ? [] : [{ fn, expr: p }];
        case 'call': {
          if (p.callee === cur) return [];
          const edges = idx.calls.get(p) ?? [];
          if (edges.length > 0) return intoParam(p, cur, edges);
          if (p.callee.k === 'path' && p.callee.segs.length === 1 && (p.callee.segs[0] === 'Ok' || p.callee.segs[0] === 'Some')) {
            cur = p;
            continue;
          }
          return [{ fn, expr: p }];
        }
        case 'method': {
          if (p.recv === cur) {
            cur = p; // `addr.wrapping_add(off)`, `addr.to_le()`: still the address
            continue;
          }
          const edges = idx.calls.get(p) ?? [];
          if (edges.length > 0) return intoParam(p, cur, edges);
          return [{ fn, expr: p }];
        }
        case 'block':
          if (!isTail(p, cur)) return []; // a discarded statement
          cur = p;
          continue;
        case 'if':
        case 'match':
          if ((p.k === 'if' && p.cond === cur) || (p.k === 'match' && p.value === cur)) return [];
          cur = p;
          continue;
        case 'letcond':
          return each(p.pat.names.flatMap((n) => this.usesOfPat(fn, n)), (u) => next(fn, u));
        case 'loop':
          // `for base in addrs { .. }`: each element is bound by the loop's pattern.
          if (p.kind === 'for' && p.iter === cur && p.pat) return each(p.pat.names.flatMap((n) => this.usesOfPat(fn, n)), (u) => next(fn, u));
          return [];
        case 'closure': {
          // `.map(|q| q.dma_handle())`: what the closure returns is the adapter's result.
          const holder = scopes.parent.get(p);
          if (p.body === cur && holder && (holder.k === 'method' || holder.k === 'call') && holder.args.includes(p)) {
            cur = holder;
            continue;
          }
          return [{ fn, expr: p, from: cur }];
        }
        case 'return':
          return returned(p);
        default:
          return [{ fn, expr: p, from: cur }]; // a struct field, an assignment, an array element: stored for later
      }
    }
    return [];
  }

  /**
   * Struct fields that hold a DMA address by origin, whatever their type: a `u64` initialized
   * with `ring.dma_handle()` (in a literal or by assignment) carries an address like a
   * `DmaAddress` does. Keys are `Struct.field`.
   */
  addressFields(): ReadonlySet<string> {
    if (this.addressFieldKeys) return this.addressFieldKeys;
    const keys = new Set<string>();
    for (const take of this.addressTakes()) {
      for (const place of this.storedPlaces(take.sink)) if (place.kind === 'field') keys.add(`${place.struct.name}.${place.field}`);
    }
    this.addressFieldKeys = keys;
    return keys;
  }

  /**
   * Every DMA address the crate takes (`dma_handle()`, `dma_address()` of the kernel, not a crate
   * method of that name) outside text-only macros, with the nearest place it goes; addresses that
   * go nowhere (logged, compared) are left out. Computed once per crate.
   */
  addressTakes(): readonly AddressTake[] {
    if (this.takes) return this.takes;
    const out: AddressTake[] = [];
    for (const fn of this.crate.fns) {
      const body = fn.facts.body;
      if (!body || ![...bodyNames(body).methods].some((name) => this.api.dmaAddressMethods.has(name))) continue;
      const calls = this.index(fn).calls;
      const visit = (e: Expr): void => {
        if (this.isTextMacro(e)) return; // whatever is computed in a log or stringify! only reaches text
        if (e.k === 'method' && this.api.dmaAddressMethods.has(e.name) && !(calls.get(e) ?? []).length) {
          const sink = this.addressSink(fn, e);
          if (sink) out.push({ fn, site: e, sink });
        }
        forEachChild(e, visit);
      };
      visit(body);
    }
    this.takes = out;
    return out;
  }

  /** The field a stored value lands in: `Self { addr }`, `self.addr = addr`. */
  private storedPlaces(sink: Sink): Place[] {
    const { fn, expr, from } = sink;
    if (expr.k === 'struct') {
      const field = expr.fields.find((f) => f.value === from);
      const s = field && this.literalStruct(fn, expr.path);
      return field && s ? [{ kind: 'field', struct: s, field: field.name }] : [];
    }
    if (expr.k === 'assign' && expr.value === from) return this.placesOf(fn, expr.target);
    return [];
  }

  /** Whether a place denotes the buffer at the end of an ownership path (or one of its owners). */
  placeOnPath(place: Place, steps: OwnershipStep[]): boolean {
    if (place.kind === 'field') return steps.some((s) => s.struct === place.struct && s.field === place.field);
    // "some value of type S": only when S owns exactly one buffer, so it is this one.
    return steps.some((s) => s.struct === place.struct) && this.ownsOneBuffer(place.struct);
  }

  private ownsOneBuffer(s: StructNode): boolean {
    const cached = this.uniqueBufferOwners.get(s);
    if (cached !== undefined) return cached;
    const isBuffer = (t: NType) => this.is.isDmaBuffer(t);
    const one = this.crate.ownedPaths(this.structType(s), isBuffer).length === 1;
    this.uniqueBufferOwners.set(s, one);
    return one;
  }


  /** Whether a crate function calls raw C bindings (`bindings::..`), which cannot be looked into. */
  callsRawBindings(fn: FnNode): boolean {
    const cached = this.rawBindingCallers.get(fn);
    if (cached !== undefined) return cached;
    let found = false;
    const visit = (e: Expr): void => {
      if (found) return;
      if (e.k === 'call' && e.callee.k === 'path' && this.crate.resolvePath(e.callee.segs, fn.scope).path[0] === 'bindings') found = true;
      forEachChild(e, visit);
    };
    if (fn.facts.body) visit(fn.facts.body);
    this.rawBindingCallers.set(fn, found);
    return found;
  }


  /**
   * The receiver is CPU-side memory: the DMA buffer itself (`descs.write(..)`, `sgt.unmap()`)
   * or a crate type that holds DMA buffers and no MMIO handle. Nothing done to it stops the device.
   */
  receiverIsCpuMemory(fn: FnNode, e: Expr): boolean {
    if (e.k !== 'method') return false;
    const t = this.crate.peel(this.crate.typeOf(e.recv, fn));
    if (!t) return false;
    if (!t.local) return this.is.isDmaBuffer(t);
    const isBuffer = (x: NType) => this.is.isDmaBuffer(x);
    return t.local.kind === 'struct' && this.crate.ownedPaths(t, isBuffer).length > 0 && !this.is.isMmio(t);
  }

  /** Whether `e` reaches the registers through a revocable `try_access`/`try_access_with`. */
  throughTryAccess(fn: FnNode, e: Expr, parents: readonly Expr[]): boolean {
    for (let i = parents.length - 1; i > 0; i--) {
      const c = parents[i];
      const holder = parents[i - 1];
      if (c.k === 'closure' && holder.k === 'method' && holder.args.includes(c) && this.isRevocableTry(holder.name)) return true;
    }
    if (e.k !== 'method' && e.k !== 'call') return false;
    const operands = e.k === 'method' ? [e.recv, ...e.args] : e.args;
    return operands.some((x) => this.derivedFromTry(fn, x, 0));
  }

  private derivedFromTry(fn: FnNode, e: Expr, depth: number): boolean {
    if (depth > 3) return false;
    let cur = e;
    for (let i = 0; i < 32; i++) {
      if (cur.k === 'method' && this.isRevocableTry(cur.name)) return true;
      if (cur.k === 'path' && cur.segs.length === 1) {
        const b = this.bindingOf(fn, cur);
        return !!b?.origin && this.derivedFromTry(fn, b.origin, depth + 1);
      }
      const next = cur.k === 'try' || cur.k === 'unary' ? cur.expr : cur.k === 'method' ? cur.recv : cur.k === 'seq' && cur.items.length === 1 ? cur.items[0] : undefined;
      if (!next) return false;
      cur = next;
    }
    return false;
  }

  /** What releases the buffer at `e` (`drop(x)`, `x.take()`, `x = None`), if `e` does. */
  releaseOf(fn: FnNode, e: Expr, steps: OwnershipStep[]): string | undefined {
    const onPath = (x: Expr | undefined) => !!x && this.placesOf(fn, x).some((p) => this.placeOnPath(p, steps));
    if (e.k === 'call' && e.callee.k === 'path' && (this.index(fn).calls.get(e) ?? []).length === 0) {
      const segs = e.callee.segs;
      const name = segs[segs.length - 1];
      if (RELEASE_FNS.has(name) && onPath(e.args[0])) return '`drop()`';
      if (MEM_RELEASE_FNS.has(name) && this.crate.resolvePath(segs, fn.scope).path.includes('mem') && onPath(e.args[0])) return `\`mem::${name}()\``;
    }
    if (e.k === 'method' && (this.index(fn).calls.get(e) ?? []).length === 0) {
      if ((RELEASE_METHODS.has(e.name) || this.api.revokeMethods.has(e.name)) && onPath(e.recv)) return `\`${e.name}()\``;
    }
    if (e.k === 'assign' && e.op === '=' && e.value.k === 'path' && e.value.segs.length === 1 && e.value.segs[0] === 'None' && onPath(e.target)) {
      return 'assigning `None`';
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function sameSpan(a: Span, b: Span): boolean {
  return a.line === b.line && a.col === b.col;
}

function before(a: Span, b: Span): boolean {
  return a.line < b.line || (a.line === b.line && a.col < b.col);
}

/** Whether `e` is the value of block `b` (its last statement, without a semicolon). */
function isTail(b: Extract<Expr, { k: 'block' }>, e: Expr): boolean {
  const last = b.stmts[b.stmts.length - 1];
  return !!last && last.k === 'expr' && !last.semi && last.expr === e;
}

function firstOf<T, R>(items: readonly T[], f: (x: T) => R | undefined): R | undefined {
  for (const x of items) {
    const r = f(x);
    if (r !== undefined) return r;
  }
  return undefined;
}

function uniquePlaces(places: Place[]): Place[] {
  const seen = new Set<string>();
  return places.filter((p) => {
    const key = `${p.kind}:${p.struct.file.path}:${p.struct.name}:${p.kind === 'field' ? p.field : ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
