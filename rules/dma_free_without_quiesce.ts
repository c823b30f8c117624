// dma_free_without_quiesce: DMA buffers freed on remove while the device may still use them.
//
// For each bus driver: the DMA buffers its driver data owns (through fields and wrappers), kept
// when their bus address reaches the device (followed through locals, moves into struct
// literals, parameters and return values), then the removal path (`unbind()`, then the `Drop`
// impls that run before the buffer is freed) is scanned in order for a hardware stop and for
// an explicit release of the buffer.
import type { Expr, Pat, Span } from '../src/facts/ir.js';
import type { DmaRule, RuleContext } from '../src/lint/context.js';
import type { Location, RuleFinding } from '../src/lint/types.js';
import type { CallEdge, Crate, DriverNode, FnNode, NType, OwnershipStep, StructNode } from '../src/model/crate.js';
import { isQuiesceName, type KernelApi } from '../src/model/kernel-api.js';
import { bodyBindings, type Binding } from '../src/model/bindings.js';
import { bodyNames, calleeName, forEachChild, TRANSPARENT_METHODS } from '../src/model/walk.js';

const RULE_ID = 'dma_free_without_quiesce';

export const rule: DmaRule = {
  meta: {
    id: RULE_ID,
    defaultLevel: 'deny',
    summary: 'DMA buffer freed on remove while the hardware may still use it',
    whatItDoes: `For each bus driver (\`impl pci::Driver for T\`, platform, auxiliary, ...), finds the DMA buffers that the driver data \`T\` owns: \`CoherentAllocation\`, \`Coherent\`, \`CoherentHandle\`, \`SGTable\` and types added with \`dma-buffer-types\` in dmalint.toml, held directly or through \`Devres\`, \`Option\`, \`KBox\`, \`Arc\`, \`Pin\`, \`KVec\`, arrays and the crate's own types, across the files of the crate.

It keeps the buffers whose bus address is handed to the device: \`dma_handle()\`, \`dma_handle_with_offset()\` or an SG entry's \`dma_address()\` is taken on that buffer, and the value reaches something other than a log macro (a register write, a descriptor, a struct field, another function). The buffer is identified by its owner, not by its name: the receiver is resolved to a field of a crate type (\`self.queue.ring\`, a guard from \`try_access()\`, an SG entry from \`iter()\`), or to a local that is moved into the driver data (\`let ring = ..; Ok(Self { ring })\`, \`try_pin_init!(Self { ring })\`, a constructor of an owner type).

It then walks the removal path in the order the kernel runs it: \`Driver::unbind()\`, \`Drop\`/\`PinnedDrop\` of \`T\`, the \`Drop\` impls of the fields declared before the one holding the buffer, and \`Drop\` of each owner type on the way to the buffer, following calls into the crate's functions. The buffer is safe when a hardware stop comes before any explicit release of it. A stop is an MMIO write (\`write8/16/32/64\`, \`try_write*\`, a generated register's \`write(bar)\`, \`alter(bar, ..)\`) or a call, outside the crate, whose name says it stops the device (stop, halt, quiesce, reset, disable, shutdown, unregister, teardown, clear_master, free_irq, ...). A release is \`drop(x)\`, \`.take()\`, \`mem::take\`/\`mem::replace\`, \`clear()\`/\`truncate()\` of a collection that holds the buffers, \`revoke()\` or assigning \`None\`.`,
    whyBad: `A device is in one of three states. *No Driver*: no driver is bound. *Driver Attached*: from the start of \`probe()\` to the end of remove. *Zombie*: the driver was unbound but objects still hold references to the device or to driver data. Hardware that was given a DMA address keeps reading and writing that memory until the driver tells it to stop, whatever state the driver is in.

On remove the kernel calls \`unbind()\` (with the device still bound, so \`bar.access(dev)\` works), then drops the driver data \`T\` (its \`Drop\`/\`PinnedDrop\` first, then its fields in declaration order), and last releases the device-managed (\`Devres\`) resources of the device. Dropping a coherent allocation calls \`dma_free_attrs\`; dropping an SG table unmaps it. A buffer in a \`Devres\` is freed at the latest in that final step, and a \`Devres\` field is freed when the driver data is dropped. If nothing stopped the engine before that, the device writes into memory the allocator has handed to someone else: a use-after-free done by hardware, invisible to the borrow checker and to KASAN, which shows up as random corruption long after the driver is gone.

Order matters inside \`unbind()\` too: taking the buffer out of the driver data (\`take()\`, \`drop()\`) and stopping the device afterwards frees the memory while the engine still runs.`,
    badExamples: [
      {
        title: 'ring address programmed, never stopped (2025 API)',
        code: `struct Nic {
    ring: CoherentAllocation<u64>,
    bar: Devres<pci::Bar<0x1000>>,
}
impl pci::Driver for Nic {
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::alloc_coherent(pdev.as_ref(), 256, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x1000>(0, c_str!("nic"))?;
        bar.access(pdev.as_ref())?.write64(ring.dma_handle(), RING_BASE);
        Ok(KBox::pin(Nic { ring, bar }, GFP_KERNEL)?)
    }
    // no unbind() and no Drop: the engine still runs when ring is freed
}`,
      },
      {
        title: 'buffer taken before the engine is stopped (2026 API)',
        code: `impl pci::Driver for Dma {
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        drop(this.ring.lock().take()); // freed here ...
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            bar.write32(0, ENGINE_CTRL); // ... stopped only here
        }
    }
}`,
      },
      {
        title: 'stop only in Drop of a type shared through Arc, through try_access',
        code: `struct Engine { ring: Coherent<[u64]>, bar: Arc<Devres<pci::Bar<0x1000>>> }
impl Drop for Engine {
    fn drop(&mut self) {
        // Engine is shared (Arc<Engine>): this can run after unbind, when the BAR is
        // revoked and try_access() returns None, so the engine is never stopped.
        if let Some(bar) = self.bar.try_access() { bar.write32(0, ENGINE_CTRL); }
    }
}`,
      },
    ],
    goodExamples: [
      {
        title: 'stop the engine in unbind() (2025 API)',
        code: `impl pci::Driver for Nic {
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            bar.write32(0, ENGINE_CTRL); // stop DMA
            bar.write64(0, RING_BASE);   // forget the address
        }
    }
}`,
      },
      {
        title: 'stop the engine in unbind(), then release (2026 API)',
        code: `impl pci::Driver for Dma {
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            regs::Control::default().set_enable(false).write(&bar);
        }
        drop(this.ring.lock().take()); // the device no longer uses it
    }
}`,
      },
      {
        title: 'stop in PinnedDrop of the driver data (runs inside remove)',
        code: `#[pinned_drop]
impl PinnedDrop for Nic {
    fn drop(self: Pin<&mut Self>) {
        // Still inside remove, before Devres resources are released: the BAR is there.
        if let Some(bar) = self.bar.try_access() { bar.write32(0, ENGINE_CTRL); }
    }
}`,
      },
    ],
    howToFix: `Stop the device in \`unbind()\`: disable the DMA engine, clear the address registers, or reset the function, through the MMIO handle accessed with the bound device (\`this.bar.access(pdev.as_ref())\`). Only then let the buffer go: if \`unbind()\` releases it explicitly, put the release after the register write. A stop in \`Drop\`/\`PinnedDrop\` of the driver data also runs before the buffer is freed; prefer \`unbind()\`, where \`access()\` proves the device is still bound instead of \`try_access()\` silently doing nothing.

If the crate stops the device through a function whose name does not say so, or through code dmalint cannot see, name it in dmalint.toml:

\`\`\`toml
[api]
quiesce-functions = ["park_rings"]
\`\`\`

To accept a finding, write \`// dmalint-allow(dma_free_without_quiesce): <reason>\` on the line before the reported field, at the end of that line, or before the struct.`,
    limits: `- A stop is recognised by an MMIO write or by the name of a call outside the crate; that the write really stops DMA is not checked: an \`unbind()\` whose only write masks interrupts is taken as a stop. A function of the crate counts by what its body does, not by its name: \`fn reset_stats(&self)\` that only clears counters is not a stop. Functions listed in \`quiesce-functions\` count by name.
- A \`.write(..)\` (and \`alter\`, \`update\`) is a register write only when its receiver or an argument is an MMIO handle (\`Bar\`, \`IoMem\`, ...): a \`write\` on a \`KVec\`, a file or the coherent buffer itself, and \`dma_write!\`, are CPU writes and stop nothing.
- A stop in \`Drop\`/\`PinnedDrop\` that reaches the registers through \`try_access\`/\`try_access_with\` is accepted when the type is owned by the driver data: it runs inside remove, before the BAR's \`Devres\` is released. It is reported only in a type reached through \`Arc\`, whose \`Drop\` can run after unbind when \`try_access\` returns \`None\`.
- Branches are not weighed: a stop in one arm of an \`if\` counts. Writes are not told apart: a device stopped again inside \`probe()\` after a self-test still counts as holding the address.
- A crate function whose name says it stops the device, and whose body calls raw C bindings (\`bindings::..\`), counts by its name.
- The address is followed through locals, struct literals, the crate's function parameters and return values, up to a few calls deep; an address stored and later read back from memory is counted as given to the device. Calls through function pointers are not followed. A call through a trait object or an \`impl Trait\` value (a HAL behind \`&dyn ChipOps\`) reaches every implementation of the trait in the crate, and a stop in any of them counts.
- A macro nested inside a pin-init macro is not parsed: \`ring <- new_mutex!(Some(ring))\` is taken to move the local \`ring\` into the field of the same name.
- Buffers freed by code outside the removal path (a work item, a file release) are not checked here.`,
    tags: ['dma', 'lifecycle', 'use-after-free'],
    links: [
      { title: 'Dynamic DMA mapping guide', url: 'https://docs.kernel.org/core-api/dma-api-howto.html' },
      { title: 'Rust kernel::dma', url: 'https://rust.docs.kernel.org/kernel/dma/index.html' },
    ],
  },
  check,
};

export default rule;

// ---------------------------------------------------------------------------------------------
// Check

function check({ crate, api }: RuleContext): RuleFinding[] {
  const out: RuleFinding[] = [];
  const flow = new Flow(crate, api);
  const exposures = findExposures(flow);
  if (exposures.length === 0) return out;
  const isBuffer = (t: NType) => !t.local && api.dmaBufferTypes.has(t.name);
  for (const driver of crate.drivers) {
    // One finding per outer field and per buffer: a buffer shared by two fields (an `Arc`) is
    // reported at the first.
    const reported = new Set<string>();
    const reportedBuffers = new Set<string>();
    for (const path of crate.ownedPaths(driver.dataType, isBuffer)) {
      const outer = path.steps[0];
      const inner = path.steps[path.steps.length - 1];
      if (!outer || reported.has(outer.field) || reportedBuffers.has(bufferKey(inner))) continue;
      const exposed = exposures.filter((x) => x.places.some((p) => flow.placeOnPath(p, path.steps)));
      if (exposed.length === 0) continue;
      const steps = removalSteps(crate, driver, path.steps);
      const verdict = judge(steps.flatMap((s) => flow.removalEvents(s, path.steps)));
      if (verdict.kind === 'ok') continue;
      reported.add(outer.field);
      reportedBuffers.add(bufferKey(inner));
      out.push(finding(driver, path.steps, exposed, steps, verdict));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Places and value flow

/** Where a value lives: a field of a crate struct, or some value of a crate type. */
type Place = { kind: 'field'; struct: StructNode; field: string } | { kind: 'owner'; struct: StructNode };

/** A point where a value leaves the code that is followed. */
interface Sink {
  fn: FnNode;
  expr: Expr;
}

interface Exposure {
  fn: FnNode;
  site: Extract<Expr, { k: 'method' }>;
  sink: Sink;
  places: Place[];
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

const MAX_DEPTH = 6;

class Flow {
  private readonly indexes = new Map<FnNode, FnIndex>();
  private readonly uniqueBufferOwners = new Map<StructNode, boolean>();
  private readonly placeMemo = new Map<Expr, Place[]>();
  private readonly moveMemo = new Map<Expr, Place[]>();
  private readonly rawBindingCallers = new Map<FnNode, boolean>();

  constructor(
    readonly crate: Crate,
    readonly api: KernelApi,
  ) {}

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

  private isRevocableTry(name: string): boolean {
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

  /** A log macro or one that only turns its tokens into text (`stringify!`): values in it go nowhere. */
  isTextMacro(e: Expr): boolean {
    return e.k === 'macro' && (this.api.logMacros.has(e.name) || this.api.inertMacros.has(e.name));
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

  private paramIndex(fn: FnNode, name: string): number {
    return fn.facts.params.findIndex((p) => p.name === name);
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
      const sink = this.sinkWithin(fn, e, 0, limit, new Set());
      if (sink) return sink;
    }
    return undefined;
  }

  private sinkWithin(fn: FnNode, e: Expr, depth: number, limit: number, seen: Set<string>): Sink | undefined {
    const key = `${fn.id}:${e.span.line}:${e.span.col}`;
    if (depth > limit || seen.has(key)) return undefined;
    seen.add(key);
    const idx = this.index(fn);
    const scopes = bodyBindings(fn.facts);
    const next = (f: FnNode, x: Expr) => this.sinkWithin(f, x, depth + 1, limit, seen);
    let cur = e;
    for (let i = 0; i < 32; i++) {
      const p = scopes.parent.get(cur);
      if (!p) return this.returnedAddress(fn, cur, next);
      const pat = p.k === 'block' ? scopes.letPattern.get(cur) : undefined;
      if (pat) return firstOf(pat.names.flatMap((n) => this.usesOfPat(fn, n)), (u) => next(fn, u));
      switch (p.k) {
        case 'try':
        case 'cast':
        case 'unary':
        case 'seq':
          cur = p;
          continue;
        case 'binary':
          if (COMPARISONS.has(p.op)) return undefined;
          cur = p;
          continue;
        case 'macro':
          return this.isTextMacro(p) ? undefined : { fn, expr: p };
        case 'call': {
          if (p.callee === cur) return undefined;
          const edges = idx.calls.get(p) ?? [];
          if (edges.length > 0) return firstOf(edges, (edge) => this.paramSink(edge.to, this.argIndex(p, cur, edge.to), next));
          if (p.callee.k === 'path' && p.callee.segs.length === 1 && (p.callee.segs[0] === 'Ok' || p.callee.segs[0] === 'Some')) {
            cur = p;
            continue;
          }
          return { fn, expr: p };
        }
        case 'method': {
          if (p.recv === cur) {
            cur = p; // `addr.wrapping_add(off)`, `addr.to_le()`: still the address
            continue;
          }
          const edges = idx.calls.get(p) ?? [];
          if (edges.length > 0) return firstOf(edges, (edge) => this.paramSink(edge.to, this.argIndex(p, cur, edge.to), next));
          return { fn, expr: p };
        }
        case 'block':
          if (!isTail(p, cur)) return undefined; // a discarded statement
          cur = p;
          continue;
        case 'if':
        case 'match':
          if ((p.k === 'if' && p.cond === cur) || (p.k === 'match' && p.value === cur)) return undefined;
          cur = p;
          continue;
        case 'letcond':
          return firstOf(p.pat.names.flatMap((n) => this.usesOfPat(fn, n)), (u) => next(fn, u));
        case 'return':
          return this.returnedAddress(fn, p, next);
        default:
          return { fn, expr: p }; // a struct field, an assignment, an array element: stored for later
      }
    }
    return undefined;
  }

  private paramSink(target: FnNode, index: number, next: (f: FnNode, x: Expr) => Sink | undefined): Sink | undefined {
    return firstOf(this.paramUses(target, index), (u) => next(target, u));
  }

  /** A returned address goes wherever the callers send it; with no caller in the crate it leaves the crate. */
  private returnedAddress(fn: FnNode, at: Expr, next: (f: FnNode, x: Expr) => Sink | undefined): Sink | undefined {
    const callers = this.crate.callers(fn);
    if (callers.length === 0) return { fn, expr: at };
    return firstOf(callers, (edge) => next(edge.from, edge.site));
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
    const isBuffer = (t: NType) => !t.local && this.api.dmaBufferTypes.has(t.name);
    const one = this.crate.ownedPaths(this.structType(s), isBuffer).length === 1;
    this.uniqueBufferOwners.set(s, one);
    return one;
  }

  // -------------------------------------------------------------------------------------------
  // The removal path

  /** Quiesce and release events of one removal function, in execution order, following crate calls. */
  removalEvents(step: RemovalStep, steps: OwnershipStep[]): RemovalEvent[] {
    const events: RemovalEvent[] = [];
    const seen = new Set<FnNode>();
    const visitFn = (fn: FnNode, viaTry: boolean, depth: number): void => {
      if (depth > MAX_DEPTH || seen.has(fn) || !fn.facts.body) return;
      seen.add(fn);
      const parents: Expr[] = [];
      const visit = (e: Expr): void => {
        parents.push(e);
        forEachChild(e, visit);
        parents.pop();
        if (this.isTextMacro(e)) return;
        const release = this.releaseOf(fn, e, steps);
        if (release) events.push({ kind: 'release', fn, expr: e, step, viaTry: false, what: release });
        const edges = this.index(fn).calls.get(e) ?? [];
        const stop = this.quiesceOf(fn, e, edges);
        const tried = viaTry || this.throughTryAccess(fn, e, parents);
        if (stop) events.push({ kind: 'quiesce', fn, expr: e, step, viaTry: tried, what: stop });
        else for (const edge of edges) visitFn(edge.to, tried, depth + 1);
      };
      visit(fn.facts.body);
    };
    visitFn(step.fn, false, 0);
    return events;
  }

  /** What stops the device at `e`: an MMIO write, or a call named as a stop; undefined otherwise. */
  private quiesceOf(fn: FnNode, e: Expr, edges: CallEdge[]): string | undefined {
    const name = e.k === 'method' || e.k === 'call' ? calleeName(e) : undefined;
    if (!name) return undefined;
    if (this.api.quiesceFunctions.has(name)) return `\`${name}()\``;
    if (edges.length > 0) {
      // A crate function counts by what its body does (the caller descends into it). Its name
      // counts only when the body calls raw C bindings, which cannot be looked into.
      return edges.some((edge) => isQuiesceName(this.api, edge.to.name) && this.callsRawBindings(edge.to)) ? `\`${name}()\`` : undefined;
    }
    if (this.receiverIsCpuMemory(fn, e)) return undefined;
    if (this.api.registerWriteMethods.has(name)) return this.touchesMmio(fn, e) ? 'a register write' : undefined;
    if (this.api.mmioWriteMethods.has(name)) return 'a register write';
    return isQuiesceName(this.api, name) ? `\`${name}()\`` : undefined;
  }

  private callsRawBindings(fn: FnNode): boolean {
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

  /** A generic `write`: a register write only if its receiver or an argument is an MMIO handle. */
  private touchesMmio(fn: FnNode, e: Expr): boolean {
    if (e.k !== 'method' && e.k !== 'call') return false;
    const operands = e.k === 'method' ? [e.recv, ...e.args] : e.args;
    return operands.some((x) => this.isMmio(this.valueType(fn, x)));
  }

  /**
   * `typeOf`, or for a local it cannot type the type of the value the local is bound from:
   * `|r| ..` handed to `self.bar.try_access().map(..)` is the BAR.
   */
  private valueType(fn: FnNode, e: Expr, depth = 0): NType | undefined {
    const t = this.crate.typeOf(e, fn);
    if (t || depth > 3) return t;
    let inner = e;
    while (inner.k === 'unary' || inner.k === 'try') inner = inner.expr;
    if (inner.k !== 'path' || inner.segs.length !== 1) return undefined;
    const origin = this.bindingOf(fn, inner)?.origin;
    return origin ? this.valueType(fn, origin, depth + 1) : undefined;
  }

  private isMmioType(t: NType): boolean {
    return !t.local && this.api.mmioTypes.has(t.name);
  }

  /** An MMIO handle, or a crate type that wraps one (a register-block newtype). */
  private isMmio(t: NType | undefined): boolean {
    const inner = this.crate.peel(t);
    if (!inner) return false;
    if (!inner.local) return this.isMmioType(inner);
    return inner.local.kind === 'struct' && this.crate.ownedPaths(inner, (x) => this.isMmioType(x), 2).length > 0;
  }

  /**
   * The receiver is CPU-side memory: the DMA buffer itself (`descs.write(..)`, `sgt.unmap()`)
   * or a crate type that holds DMA buffers and no MMIO handle. Nothing done to it stops the device.
   */
  private receiverIsCpuMemory(fn: FnNode, e: Expr): boolean {
    if (e.k !== 'method') return false;
    const t = this.crate.peel(this.crate.typeOf(e.recv, fn));
    if (!t) return false;
    if (!t.local) return this.api.dmaBufferTypes.has(t.name);
    const isBuffer = (x: NType) => !x.local && this.api.dmaBufferTypes.has(x.name);
    return t.local.kind === 'struct' && this.crate.ownedPaths(t, isBuffer).length > 0 && !this.isMmio(t);
  }

  /** Whether `e` reaches the registers through a revocable `try_access`/`try_access_with`. */
  private throughTryAccess(fn: FnNode, e: Expr, parents: readonly Expr[]): boolean {
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
  private releaseOf(fn: FnNode, e: Expr, steps: OwnershipStep[]): string | undefined {
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

function findExposures(flow: Flow): Exposure[] {
  const out: Exposure[] = [];
  for (const fn of flow.crate.fns) {
    if (!fn.facts.body) continue;
    if (![...bodyNames(fn.facts.body).methods].some((name) => flow.api.dmaAddressMethods.has(name))) continue;
    const idx = flow.index(fn);
    const visit = (e: Expr): void => {
      if (flow.isTextMacro(e)) return; // whatever is computed in a log or stringify! only reaches text
      if (e.k === 'method' && flow.api.dmaAddressMethods.has(e.name) && !(idx.calls.get(e) ?? []).length) {
        const sink = flow.addressSink(fn, e);
        if (sink) out.push({ fn, site: e, sink, places: flow.placesOf(fn, e.recv) });
      }
      forEachChild(e, visit);
    };
    visit(fn.facts.body);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Removal order and verdict

interface RemovalStep {
  fn: FnNode;
  kind: 'unbind' | 'drop';
  owner?: StructNode;
  /** The owner is reached through shared ownership (`Arc`): its Drop can run after unbind. */
  shared: boolean;
  /** The ownership step that made it shared, for the report. */
  sharedAt?: OwnershipStep;
}

interface RemovalEvent {
  kind: 'quiesce' | 'release';
  fn: FnNode;
  expr: Expr;
  step: RemovalStep;
  viaTry: boolean;
  what: string;
}

/**
 * The removal functions that run before the buffer at the end of `steps` is freed, in order:
 * `unbind()`, then for each struct on the path its `Drop` followed by the `Drop` impls of the
 * fields declared before the one that leads to the buffer.
 */
function removalSteps(crate: Crate, driver: DriverNode, steps: OwnershipStep[]): RemovalStep[] {
  const out: RemovalStep[] = [];
  if (driver.unbind) out.push({ fn: driver.unbind, kind: 'unbind', shared: false });
  const seen = new Set<FnNode>();
  const add = (fn: FnNode, owner: StructNode, shared: boolean, sharedAt?: OwnershipStep) => {
    if (seen.has(fn)) return;
    seen.add(fn);
    out.push({ fn, kind: 'drop', owner, shared, sharedAt });
  };
  for (const [i, step] of steps.entries()) {
    const sharedAt = step.shared ? steps.slice(0, i).reverse().find((s) => crate.api.sharedOwnership.has(s.type.name) || isSharedWrapper(crate, s.type)) : undefined;
    for (const d of dropsOf(crate, step.struct)) add(d, step.struct, step.shared, sharedAt);
    for (const f of step.struct.facts.fields) {
      if (f.name === step.field) break;
      const ft = crate.fieldType(step.struct, f.name);
      for (const s of ft ? ownedStructs(crate, ft) : []) for (const d of dropsOf(crate, s)) add(d, s, step.shared, sharedAt);
    }
  }
  return out;
}

function isSharedWrapper(crate: Crate, t: NType, depth = 0): boolean {
  if (depth > 6) return false;
  if (t.kind === 'path' && crate.api.sharedOwnership.has(t.name)) return true;
  return !t.local && t.args.some((a) => isSharedWrapper(crate, a, depth + 1));
}

function dropsOf(crate: Crate, s: StructNode): FnNode[] {
  return crate.dropFns(s.name).filter((f) => !f.impl || !f.impl.selfType.local || f.impl.selfType.local === s);
}

/** Crate structs a value of type `t` owns outright, in drop order (a struct before its fields). */
function ownedStructs(crate: Crate, t: NType, depth = 0, seen = new Set<StructNode>()): StructNode[] {
  if (depth > 8 || t.kind === 'ref' || t.kind === 'ptr') return [];
  if (t.kind === 'path' && (crate.api.nonOwningWrappers.has(t.name) || crate.api.sharedOwnership.has(t.name))) return [];
  const s = crate.structOf(t);
  if (s) {
    if (seen.has(s)) return [];
    seen.add(s);
    const fields = s.facts.fields.flatMap((f) => {
      const ft = crate.fieldType(s, f.name);
      return ft ? ownedStructs(crate, ft, depth + 1, seen) : [];
    });
    return [s, ...fields];
  }
  return t.args.flatMap((a) => ownedStructs(crate, a, depth + 1, seen));
}

type Verdict =
  | { kind: 'ok' }
  | { kind: 'none'; release?: RemovalEvent }
  | { kind: 'release-first'; release: RemovalEvent; stop: RemovalEvent }
  | { kind: 'revocable-only'; stop: RemovalEvent };

/** A stop is reliable unless it is in Drop of an Arc-shared owner and goes through `try_access`. */
function unreliable(ev: RemovalEvent): boolean {
  return ev.step.kind === 'drop' && ev.step.shared && ev.viaTry;
}

function judge(events: RemovalEvent[]): Verdict {
  const releaseAt = events.findIndex((e) => e.kind === 'release');
  const bound = releaseAt < 0 ? events.length : releaseAt;
  const beforeRelease = events.slice(0, bound);
  if (beforeRelease.some((e) => e.kind === 'quiesce' && !unreliable(e))) return { kind: 'ok' };
  const release = releaseAt >= 0 ? events[releaseAt] : undefined;
  const later = release && events.slice(releaseAt + 1).find((e) => e.kind === 'quiesce' && !unreliable(e));
  if (release && later) return { kind: 'release-first', release, stop: later };
  const weak = beforeRelease.find((e) => e.kind === 'quiesce');
  if (weak) return { kind: 'revocable-only', stop: weak };
  return { kind: 'none', release };
}

// ---------------------------------------------------------------------------------------------
// Report

function finding(driver: DriverNode, steps: OwnershipStep[], exposed: Exposure[], removal: RemovalStep[], verdict: Exclude<Verdict, { kind: 'ok' }>): RuleFinding {
  const outer = steps[0];
  const name = steps.map((s) => s.field).join('.');
  const related: Location[] = [];
  const seenSinks = new Set<string>();
  for (const x of exposed) {
    const key = `${x.sink.fn.file.path}:${x.sink.expr.span.line}`;
    if (seenSinks.has(key) || seenSinks.size >= 2) continue;
    seenSinks.add(key);
    related.push({ file: x.sink.fn.file.path, span: x.sink.expr.span, message: 'the DMA address is given to the device here' });
  }
  const notes: string[] = [];
  let message: string;
  let help = 'stop the device in unbind() (disable DMA, clear the address register or reset the function) before the buffer is dropped';
  if (verdict.kind === 'release-first') {
    message = `DMA buffer \`${name}\` is released in \`${verdict.release.step.fn.label}\` before the device is stopped`;
    related.push({ file: verdict.release.fn.file.path, span: verdict.release.expr.span, message: `released here, by ${verdict.release.what}` });
    related.push({ file: verdict.stop.fn.file.path, span: verdict.stop.expr.span, message: 'the device is stopped only here, after the release' });
    help = 'stop the device first, then release the buffer: move the release after the register write';
  } else if (verdict.kind === 'revocable-only') {
    const owner = verdict.stop.step.owner?.name ?? 'the owner';
    message = `DMA buffer \`${name}\` can be freed while the device still uses it: the only stop is in \`${verdict.stop.step.fn.label}\`, through \`try_access\``;
    related.push({ file: verdict.stop.fn.file.path, span: verdict.stop.expr.span, message: 'skipped silently once the BAR is revoked' });
    const at = verdict.stop.step.sharedAt;
    if (at) related.push({ file: at.struct.file.path, span: at.span, message: `\`${owner}\` is shared through \`Arc\` here` });
    notes.push(`\`${owner}\` is shared through \`Arc\`, so its \`Drop\` can run after unbind, when the BAR has been revoked and \`try_access\` returns \`None\`: the device is then never stopped`);
  } else {
    message = `DMA buffer \`${name}\` is freed on remove, but the device is never stopped before it`;
    if (removal.length === 0) {
      related.push({ file: driver.impl.file.path, span: driver.impl.facts.headerSpan, message: `no unbind() and no Drop for \`${driver.dataType.name}\`` });
    }
    for (const r of removal) related.push({ file: r.fn.file.path, span: r.fn.facts.nameSpan, message: `checked: \`${r.fn.label}\` does not stop the device` });
    if (verdict.release) related.push({ file: verdict.release.fn.file.path, span: verdict.release.expr.span, message: `released here, by ${verdict.release.what}` });
  }
  return {
    rule: RULE_ID,
    message,
    primary: { file: outer.struct.file.path, span: outer.span },
    related,
    notes,
    help,
    item: `struct ${outer.struct.name}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function bufferKey(step: OwnershipStep): string {
  return `${step.struct.file.path}#${step.struct.name}.${step.field}`;
}

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
