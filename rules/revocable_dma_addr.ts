// revocable_dma_addr: a Revocable/Devres guard relied on to protect a DMA address.
//
// Two parts. The type part finds a DMA address (or a crate type holding one) put behind a kernel
// `Revocable`/`Devres`. The flow part follows, inside each function, the addresses taken out of a
// revocable guard over DMA memory and reports those that reach the device or outlive the guard.
import type { Expr, Pat, Span, Stmt } from '../src/facts/ir.js';
import type { DmaRule, RuleContext } from '../src/rule/api.js';
import type { Location, RuleFinding } from '../src/rule/api.js';
import type { Crate, FnNode, NType, OwnershipStep } from '../src/model/crate.js';
import type { KernelApi } from '../src/model/kernel-api.js';
import { bodyBindings, type Binding as ModelBinding, type BodyBindings } from '../src/model/bindings.js';
import { kernelPredicates } from '../src/model/kernel-predicates.js';
import { PerFunctionResults, type DependsOn } from '../src/model/fn-results.js';
import { valueFlow } from '../src/model/value-flow.js';
import { bodyNames, walkExpr } from '../src/model/walk.js';

export const rule: DmaRule = {
  meta: {
    id: 'revocable_dma_addr',
    defaultLevel: 'deny',
    summary: 'a revocable guard (Revocable/Devres) relied on to protect a DMA address that outlives it',
    whatItDoes: [
      'Finds code that relies on revocation for DMA addresses. It reports:',
      '',
      '- **types**: a kernel `Revocable<T>` or `Devres<T>` whose `T` is a DMA address (`DmaAddress`, `dma_addr_t`, `bindings::dma_addr_t`) or a crate type that holds one in a field (up to three structs deep), wherever the type is written: a struct or enum field, a `static`, or a local with a declared type, seen through `use .. as` renames, `type` aliases and wrappers such as `KVec<Devres<T>>` or `Option<KBox<Revocable<T>>>`. Each `Devres::new`, `Devres::new_foreign_owned`, `Revocable::new` or `devres::register` call whose data argument is, or holds, a DMA address is a finding of its own (the place where the value is constructed).',
      '- **flows**: a DMA address taken out of a revocable guard over DMA memory (`dma_handle()`, `dma_handle_with_offset()`, `dma_address()`, a crate method returning an address, `*guard` or a field of address type) through `try_access()` (bound with `let`, `let else`, `if let`, `while let` or `match`, or used as a temporary), `try_access_with(|x| ..)`, `try_access_with_guard(..)`, `access(dev)`, or `.map(|x| ..)` on such a guard, when the address is written to a register or with `dma_write!`, stored into a field, an atomic, a static or a crate struct value, returned from the function, returned from the closure and then used, or kept in a variable that is used after the guard ended. An address, or guarded memory, handed to a crate function is followed into it: the call is reported when that function writes the address to the device or stores it.',
      '',
      'A register write *inside* the guard is reported too: the device keeps the address after the guard ends, so it is the same bug. The correct pattern does not fire, because there the guard is over the MMIO handle (`Devres<Bar>`, `Devres<IoMem>`) and the address comes from memory the driver data owns outright.',
      '',
      'The primary location is the expression that takes the address out; related locations show the guard (with the line where it ends) and where the address goes.',
    ].join('\n'),
    whyBad: [
      'A revocable guard is an RCU read-side critical section around CPU code: `revoke()` (run by devres when the driver unbinds) waits until no CPU holds the guard, then drops the value. It does not wait for the device. A DMA address handed to the hardware lives on in its registers and descriptors after the guard is gone, so the critical section would have to bracket the whole life of the address in the device, until the device is told to forget it. No guard can do that.',
      '',
      'In device-state terms: the address is given to the device while the driver is attached; when the driver is unbound (the Zombie state, then No Driver), devres revokes and frees the memory behind the revocable, but nothing told the device to stop. The device then reads or writes freed memory: a use-after-free done by hardware, which neither the borrow checker nor KASAN sees.',
      '',
      'Handing the address to the device *inside* the guard is no better: the register or descriptor keeps the address after the guard ends, and the guard ends long before the device is told to forget it.',
    ].join('\n'),
    badExamples: [
      {
        title: 'an address kept behind Devres, 2025 API',
        code: `struct Queue {
    ring: CoherentAllocation<u64>,
    // revoked on unbind, but the device still holds the address
    ring_addr: Devres<DmaAddress>,
}

fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
    let ring = CoherentAllocation::<u64>::alloc_coherent(pdev.as_ref(), 64, GFP_KERNEL)?;
    let ring_addr = Devres::new(pdev.as_ref(), ring.dma_handle(), GFP_KERNEL)?;
    // ...
}`,
      },
      {
        title: 'an address taken out of a guard and written to the device, 2025 API',
        code: `struct Nic {
    ring: Devres<CoherentAllocation<u64>>,
    bar: Devres<pci::Bar<0x1000>>,
}

fn start(&self, dev: &Device<Bound>) -> Result {
    let addr = self.ring.access(dev)?.dma_handle(); // the guard ends here
    self.bar.access(dev)?.write64(addr, RING_BASE);   // the device keeps the address
    Ok(())
}`,
      },
      {
        title: 'an address returned from a guard closure, 2026 API',
        code: `struct Engine {
    cmds: Devres<Coherent<[u32]>>,
    bar: Devres<pci::Bar<0x1000>>,
}

fn cmd_base(&self) -> Option<DmaAddress> {
    self.cmds.try_access_with(|c| c.dma_handle())
}`,
      },
    ],
    goodExamples: [
      {
        title: 'the driver data owns the buffer and only MMIO is revocable, 2025 API',
        code: `struct Nic {
    ring: CoherentAllocation<u64>,       // owned outright, freed after unbind()
    bar: Devres<pci::Bar<0x1000>>,        // revocable: only CPU uses it
}

fn start(&self, dev: &Device<Bound>) -> Result {
    self.bar.access(dev)?.write64(self.ring.dma_handle(), RING_BASE);
    Ok(())
}

fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
    if let Ok(bar) = this.bar.access(pdev.as_ref()) {
        bar.write32(0, ENGINE_CTRL); // stop DMA
        bar.write64(0, RING_BASE);   // the device forgets the address
    }
}`,
      },
      {
        title: 'the same with a guard of the MMIO handle, 2026 API',
        code: `struct Engine {
    cmds: Coherent<[u32]>,
    bar: Devres<pci::Bar<0x1000>>,
}

fn start(&self) -> Result {
    if let Some(bar) = self.bar.try_access() {
        bar.write64(self.cmds.dma_handle(), CMD_BASE);
    }
    Ok(())
}`,
      },
    ],
    howToFix: [
      'Let the driver data own the DMA memory outright (not behind `Devres` or `Revocable`), give its address to the device while the driver is bound, and stop the device in `unbind()` (disable the engine, clear the address register, reset the function) before the memory is dropped. Keep `Devres` for MMIO and other resources that only the CPU uses: writing the address of driver-owned memory through a guard of the MMIO handle is the correct pattern and is not reported.',
      '',
      'To suppress a finding, write `// dmalint-allow(revocable_dma_addr): <reason>` on the line before it, at the end of its line, or before the enclosing item.',
    ].join('\n'),
    limits: [
      'Flows are followed inside one function, in order and with scopes, and into crate functions that receive the address or the guarded memory as an argument or receiver (up to four calls deep). An address that leaves through a reference parameter, a closure stored for later or a function pointer is not followed; one handed to a method of a trait object is followed into the first implementation of the trait that the crate declares. A guard returned from a function is not tracked in its caller.',
      '',
      'Guards are recognised from types: a guard over a value whose type dmalint cannot infer is not tracked. Only the kernel `Revocable`/`Devres` count; a crate type of the same name is not the kernel wrapper and is ignored. Addresses stored inside DMA memory (descriptors the device fills in) are the device\'s data, not a DMA address kept behind the wrapper, and are not searched.',
      '',
      'Types are checked where they are written in fields, statics and locals; function parameters and return types are not reported (the field or constructor the value comes from is), and a crate generic that wraps its parameter in `Devres` (`Slot<T>` holding `Devres<T>`, used as `Slot<DmaAddress>`) is not seen through.',
      '',
      'Shifts, sums, masks and conversions keep a value an address (`addr >> 32`, `u64::from(addr)`); a product, quotient or remainder is a count or an index (`(addr - base) / SLOT`). After the guard ended, passing the address to code outside the crate counts as a use; reading it in a comparison or a log macro does not, and neither does a crate function that only logs or compares it. Building a crate struct value that holds the address counts as storing it.',
    ].join('\n'),
    tags: ['dma', 'devres', 'revocable', 'correctness'],
    links: [
      { title: 'Rust Devres', url: 'https://rust.docs.kernel.org/kernel/devres/struct.Devres.html' },
      { title: 'Rust Revocable', url: 'https://rust.docs.kernel.org/kernel/revocable/struct.Revocable.html' },
    ],
  },
  check,
};

export default rule;

const RULE_ID = 'revocable_dma_addr';
const HELP = 'own the buffer in the driver data and stop the device in unbind()';
const CONSEQUENCE = 'the device keeps using it after the guard ends, so revocation cannot make this safe';

/** How many crate structs deep a DMA address or buffer is looked for inside a revocable's value. */
const MAX_STRUCT_LEVELS = 3;
/** How many calls deep a parameter is followed into crate functions. */
const MAX_SUMMARY_DEPTH = 4;

/** `Option`/`Result` methods that give the same guard back. */
const GUARD_PASS_METHODS = new Set(['unwrap', 'expect', 'unwrap_unchecked', 'ok_or', 'ok_or_else', 'ok', 'as_ref', 'as_deref', 'as_mut', 'as_deref_mut', 'deref', 'deref_mut']);
/** `Option`/`Result` methods that run a closure on the guarded value. */
const GUARD_CLOSURE_ADAPTORS = new Set(['map', 'and_then', 'map_or', 'map_or_else', 'inspect', 'is_some_and', 'is_ok_and']);
/** Iterator adaptors seen through to the collection a `for` loop walks. */
const ITER_METHODS = new Set(['iter', 'iter_mut', 'into_iter', 'enumerate']);
/** Core conversions and arithmetic helpers that pass a value on. */
const VALUE_CONVERSIONS = new Set(['from', 'try_from', 'into', 'try_into', 'min', 'max', 'clamp', 'to_le', 'to_be', 'from_le', 'from_be', 'unwrap_or', 'unwrap_or_default', 'unwrap_or_else']);
/** Result types that cannot carry an address on. */
const INTEGER_TYPES = new Set(['u32', 'u64', 'usize', 'u128']);
const NON_DATA_TYPES = new Set(['bool', 'char', 'str', 'CStr', 'String', 'Error']);
/** Arithmetic whose result is a count or an index, not an address (`(addr - base) / SIZE`, `addr % ALIGN`). */
const NON_ADDRESS_ARITHMETIC = new Set(['/', '%', '*']);
/** Binary operators whose result says nothing about the address (a comparison reads it, no more). */
const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=', '&&', '||']);

function check({ crate }: RuleContext): RuleFinding[] {
  const addressFields = addressFieldsKey(crate);
  return [...typeFindings(crate, addressFields), ...flowFindings(crate, addressFields)];
}

// ---------------------------------------------------------------------------------------------
// Types

function isAddress(api: KernelApi, t: NType | undefined): boolean {
  return !!t && t.kind === 'path' && !t.local && api.dmaAddressTypes.has(t.name);
}

function isRevocable(api: KernelApi, t: NType | undefined): boolean {
  return !!t && t.kind === 'path' && !t.local && api.revocableTypes.has(t.name) && t.args.length > 0;
}

function isDmaBuffer(api: KernelApi, t: NType): boolean {
  return t.kind === 'path' && !t.local && api.dmaBufferTypes.has(t.name);
}

/**
 * The ownership path (crate struct fields) from `t` down to a DMA address, `[]` when `t` is one.
 * DMA memory is not searched: addresses stored in it (descriptors) are the device's data, not a
 * value the CPU keeps.
 */
function addressPath(crate: Crate, t: NType): OwnershipStep[] | undefined {
  const api = crate.api;
  const byOrigin = valueFlow(crate).addressFields();
  const hit = crate
    .ownedPaths(t, (x) => isAddress(api, x) || isDmaBuffer(api, x) || isInteger(x))
    .find((p) => (isAddress(api, p.found) || carriesAddress(byOrigin, p.steps)) && p.steps.length <= MAX_STRUCT_LEVELS);
  return hit?.steps;
}

/** A plain integer field that some code fills with a DMA address (`base: u64` set from `dma_handle()`). */
function carriesAddress(byOrigin: ReadonlySet<string>, steps: OwnershipStep[]): boolean {
  const last = steps[steps.length - 1];
  return !!last && byOrigin.has(`${last.struct.name}.${last.field}`);
}

function isInteger(t: NType): boolean {
  return t.kind === 'path' && !t.local && INTEGER_TYPES.has(t.name);
}

/** The first kernel revocable wrapper written in `t` (through generic arguments) whose value holds a DMA address. */
function revocableOfAddress(crate: Crate, t: NType, depth = 0): NType | undefined {
  if (depth > 8) return undefined;
  if (isRevocable(crate.api, t) && addressPath(crate, t.args[0])) return t;
  for (const a of t.args) {
    const hit = revocableOfAddress(crate, a, depth + 1);
    if (hit) return hit;
  }
  return undefined;
}

function describeWrapper(hit: NType): string {
  const written = `\`${hit.text}\``;
  const head = hit.text.split('<')[0].split('::').pop()?.trim();
  return head === hit.name ? written : `${written}, a \`${hit.name}\``;
}

/** Where the wrapped value holds the address (crate struct fields), and the alias that spells the wrapper. */
function typeRelated(crate: Crate, hit: NType): Location[] {
  const out: Location[] = [];
  const head = hit.text.split('<')[0].split('::').pop()?.trim();
  for (const file of crate.files) {
    const alias = head && head !== hit.name ? file.facts.typeAliases.find((a) => a.name === head) : undefined;
    if (alias) out.push({ file: file.path, span: alias.span, message: `\`${head}\` is a \`${hit.name}\` of a DMA address` });
  }
  const steps = addressPath(crate, hit.args[0]) ?? [];
  steps.forEach((step, i) => {
    const message = i === steps.length - 1 ? 'the DMA address kept in the wrapped value' : 'the wrapped value holds the address through this field';
    out.push({ file: step.struct.file.path, span: step.span, message });
  });
  return out.slice(0, 4);
}

function typeFinding(crate: Crate, file: string, span: Span, hit: NType, where: string, item: string): RuleFinding {
  return {
    rule: RULE_ID,
    message: `DMA address kept behind a revocable wrapper in ${where} (${describeWrapper(hit)}): the device keeps using it after revocation, so the guard cannot make this safe`,
    primary: { file, span },
    related: typeRelated(crate, hit),
    help: 'own the DMA buffer in the driver data and stop the device in unbind(); keep Devres for MMIO',
    item,
  };
}

function typeFindings(crate: Crate, addressFields: string): RuleFinding[] {
  const out: RuleFinding[] = [];
  for (const [, structs] of crate.structs) {
    for (const s of structs) {
      for (const f of s.facts.fields) {
        const t = crate.fieldType(s, f.name);
        const hit = t && revocableOfAddress(crate, t);
        if (!hit) continue;
        out.push(typeFinding(crate, s.file.path, f.span, hit, `field \`${f.name}\``, `struct ${s.name}`));
      }
    }
  }
  for (const [, enums] of crate.enums) {
    for (const e of enums) {
      for (const v of e.facts.variants) {
        for (const f of v.fields) {
          const hit = revocableOfAddress(crate, crate.normalize(f.type, { file: e.file, mod: e.facts.mod }));
          if (!hit) continue;
          out.push(typeFinding(crate, e.file.path, f.span, hit, `variant \`${e.name}::${v.name}\``, `enum ${e.name}`));
        }
      }
    }
  }
  for (const st of crate.statics) {
    const hit = revocableOfAddress(crate, st.type);
    if (!hit) continue;
    out.push(typeFinding(crate, st.file.path, st.facts.nameSpan, hit, `static \`${st.name}\``, `static ${st.name}`));
  }
  for (const fn of crate.fns) out.push(...keptLocalTypeFindings.of(crate, fn, addressFields, () => localTypeFindings(crate, fn)));
  return out;
}

/**
 * Local type findings per function, kept while nothing they depend on changes (see
 * PerFunctionResults); their locations refer into the facts and their messages name no line.
 */
const keptLocalTypeFindings = new PerFunctionResults<RuleFinding[]>({ movesWithFacts: true });

/**
 * What other bodies tell the per-function parts, as the key of their kept results: the fields
 * some code fills with a DMA address.
 */
function addressFieldsKey(crate: Crate): string {
  return [...valueFlow(crate).addressFields()].sort().join(',');
}

/** Locals declared with a revocable-of-address type, and constructors that build one (a constructor in such a local's initializer is the same place). */
function localTypeFindings(crate: Crate, fn: FnNode): RuleFinding[] {
  const body = fn.facts.body;
  if (!body) return [];
  const out: RuleFinding[] = [];
  const handled = new Set<Expr>();
  walkExpr(body, (e) => {
    if (e.k !== 'block') return;
    for (const s of e.stmts) {
      if (s.k !== 'let' || !s.type) continue;
      const hit = revocableOfAddress(crate, crate.normalize(s.type, fn.scope));
      if (!hit) continue;
      if (s.init) walkExpr(s.init, (x) => void (x.k === 'call' && handled.add(x)));
      out.push(typeFinding(crate, fn.file.path, s.pat.span, hit, `local \`${s.pat.text}\``, fn.label));
    }
  });
  walkExpr(body, (e) => {
    if (e.k !== 'call' || handled.has(e)) return;
    const ctor = revocableConstructor(crate, fn, e);
    if (!ctor) return;
    const t = valueType(crate, fn, ctor.data);
    if (!t || !addressPath(crate, t)) return;
    out.push({
      rule: RULE_ID,
      message: `DMA address put behind a revocable wrapper by \`${ctor.label}\`: the device keeps using it after revocation, so the guard cannot make this safe`,
      primary: { file: fn.file.path, span: e.span },
      related: [{ file: fn.file.path, span: ctor.data.span, message: 'this value is, or holds, a DMA address' }],
      help: 'own the DMA buffer in the driver data and stop the device in unbind(); keep Devres for MMIO',
      item: fn.label,
    });
  });
  return out;
}

/** `Devres::new(dev, data, ..)`, `Revocable::new(data)`, `devres::register(dev, data, ..)`: the data argument. */
function revocableConstructor(crate: Crate, fn: FnNode, e: Extract<Expr, { k: 'call' }>): { label: string; data: Expr } | undefined {
  if (e.callee.k !== 'path') return undefined;
  const segs = e.callee.segs;
  const resolved = crate.resolvePath(segs, fn.scope).path;
  const name = resolved[resolved.length - 1];
  let owner: string | undefined;
  if (segs.length >= 2) {
    const ownerType = crate.normalize({ kind: 'path', path: segs.slice(0, -1), text: segs.slice(0, -1).join('::') }, fn.scope);
    if (ownerType.local) return undefined;
    // A type owner (`Devres::new`) may come from the prelude; a module owner must resolve to the kernel.
    const isType = /^[A-Z]/.test(ownerType.name);
    if (isType || resolved[0] === 'kernel') owner = ownerType.name;
  } else if (resolved.length >= 2 && resolved[0] === 'kernel') {
    owner = resolved[resolved.length - 2];
  }
  const index = owner ? crate.api.revocableConstructors.get(owner)?.get(name) : undefined;
  const data = index === undefined ? undefined : e.args[index];
  return data && owner ? { label: `${owner}::${name}`, data } : undefined;
}

/** The type of a value handed to a constructor; a pin-init macro stands for the struct it builds. */
function valueType(crate: Crate, fn: FnNode, e: Expr): NType | undefined {
  if (e.k === 'macro' && e.args.length === 1 && e.args[0].k === 'struct') return crate.typeOf(e.args[0], fn);
  // A local: the `let` that binds it last before this use (the function-wide table keeps only
  // one type per name, and drivers often shadow: `let desc = Desc {..}; let desc = Devres::new(.., desc, ..)`).
  const binding = e.k === 'path' && e.segs.length === 1 && fn.facts.body ? letBefore(fn.facts.body, e.segs[0], e.span) : undefined;
  const t = binding ? (binding.type ? crate.normalize(binding.type, fn.scope) : binding.init && crate.typeOf(binding.init, fn)) : crate.typeOf(e, fn);
  if (t && (t.name === 'Result' || t.name === 'Option') && t.args[0]) return t.args[0];
  return t;
}

/** The last `let` binding `name` (alone) that ends before `at`. */
function letBefore(body: Expr, name: string, at: Span): Extract<Stmt, { k: 'let' }> | undefined {
  let best: Extract<Stmt, { k: 'let' }> | undefined;
  walkExpr(body, (e) => {
    if (e.k !== 'block') return;
    for (const s of e.stmts) {
      if (s.k !== 'let' || s.pat.names.length !== 1 || s.pat.names[0].name !== name || s.pat.ctor) continue;
      const ends = s.span.endLine < at.line || (s.span.endLine === at.line && s.span.endCol <= at.col);
      if (ends && (!best || s.span.line > best.span.line || (s.span.line === best.span.line && s.span.col > best.span.col))) best = s;
    }
  });
  return best;
}

// ---------------------------------------------------------------------------------------------
// Flows

interface Guard {
  /** The access call; undefined for the stand-in guard of a parameter summary. */
  call?: Extract<Expr, { k: 'method' }>;
  /** The protected value's type. */
  inner: NType;
  /** `closure`: held while a closure runs; `binding`: held by a local; `temporary`: dropped with its statement. */
  kind: 'closure' | 'binding' | 'temporary';
  closed: boolean;
  /**
   * The code whose last line ends the guard: a reference into the facts, so a kept finding
   * names the right line after the function moved.
   */
  end?: Span;
}

interface Taint {
  /** The expression that takes the address out of the guard. */
  source: Expr;
  guard: Guard;
  /** The closure the address was returned from, when it left the guard that way. */
  viaClosure?: Span;
  /** The guarded memory itself was handed to a function that takes its address (the source is the call). */
  memory?: boolean;
}

interface Binding {
  taint?: Taint;
  /** The binding refers into a guarded value (the guard itself, or a reference derived from it). */
  guard?: Guard;
  param: boolean;
}

type SinkKind = 'device' | 'dma-memory' | 'handed' | 'field' | 'atomic' | 'static' | 'return' | 'used-after';

interface Sink {
  kind: SinkKind;
  span: Span;
  /** What received the address: "field `ring_addr`", "`Queue::program`, which writes it to the device". */
  what: string;
  afterGuard: boolean;
}

const SINK_PRIORITY: SinkKind[] = ['device', 'dma-memory', 'handed', 'field', 'atomic', 'static', 'return', 'used-after'];

interface Escape {
  taint: Taint;
  sinks: Sink[];
}

/**
 * A parameter followed into a crate function: `address` stands for a DMA address taken out of a
 * guard, `guard` for guarded DMA memory (a reference into a guard). `self` is the receiver.
 */
interface SummaryRequest {
  param: number | 'self';
  kind: 'address' | 'guard';
}

/** What a crate function does with the parameter: the first sink it reaches, and whether it returns an address from it. */
interface Summary {
  sink?: Sink;
  returnsAddress: boolean;
}

const NO_SUMMARY: Summary = { returnsAddress: false };

/** A summary worked out, and the functions looked into for it (kept with the results that use it). */
interface KnownSummary {
  summary: Summary;
  lookedInto: ReadonlySet<FnNode>;
}

/**
 * Per crate: what crate functions do with DMA addresses and guarded memory handed to them.
 * A summary cut short by the depth limit or a recursive call depends on the calls it was asked
 * from, so it is kept for that chain of calls only: every function's findings are then the same
 * whichever function was analyzed first, which lets them be kept per function.
 */
class Summaries {
  private readonly memo = new Map<string, KnownSummary>();
  /** The summaries being worked out, outermost first. */
  private readonly active: { key: string; cutShort: boolean; lookedInto: Set<FnNode> }[] = [];

  constructor(readonly crate: Crate) {}

  /** Runs `flow`, telling `dependsOn` each function a summary it used looked into. */
  tracking<T>(dependsOn: DependsOn, flow: () => T): T {
    const outer = { key: '', cutShort: false, lookedInto: new Set<FnNode>() };
    this.active.push(outer);
    try {
      return flow();
    } finally {
      this.active.pop();
      for (const fn of outer.lookedInto) dependsOn(fn);
    }
  }

  of(fn: FnNode, request: SummaryRequest): Summary {
    const key = `${fn.id}:${request.param}:${request.kind}`;
    const general = this.memo.get(key);
    const known = general ?? this.memo.get(`${key}@${this.chain()}`);
    if (known) {
      if (!general) this.cutShort();
      this.lookInto(known.lookedInto);
      return known.summary;
    }
    this.lookInto([fn]);
    const exists = request.param === 'self' ? !!fn.facts.self : !!fn.facts.params[request.param];
    if (!fn.facts.body || !exists) return NO_SUMMARY;
    // Frames outside the tracking one: summaries being worked out.
    const depth = this.active.filter((a) => a.key !== '').length;
    if (this.active.some((a) => a.key === key) || depth >= MAX_SUMMARY_DEPTH) {
      this.cutShort();
      return NO_SUMMARY;
    }
    const frame = { key, cutShort: false, lookedInto: new Set<FnNode>([fn]) };
    this.active.push(frame);
    const flow = new GuardFlow(this, fn, request);
    flow.run();
    this.active.pop();
    const summary: Summary = { sink: flow.summarySink, returnsAddress: flow.summaryReturns };
    // Popped: the chain is again the one this summary was asked from.
    this.memo.set(frame.cutShort ? `${key}@${this.chain()}` : key, { summary, lookedInto: frame.lookedInto });
    this.lookInto(frame.lookedInto);
    return summary;
  }

  /** The summaries being worked out, as a key. */
  private chain(): string {
    return this.active.map((a) => a.key).join('>');
  }

  /** The summaries being worked out depend on where they were asked from. */
  private cutShort(): void {
    for (const a of this.active) a.cutShort = true;
  }

  private lookInto(fns: Iterable<FnNode>): void {
    const top = this.active[this.active.length - 1];
    if (top) for (const fn of fns) top.lookedInto.add(fn);
  }
}

/**
 * What each function's flow found, kept while nothing it depends on changes (see
 * PerFunctionResults). The escapes refer into the facts, which move with the function, so the
 * findings are made from them again on each analysis.
 */
const keptEscapes = new PerFunctionResults<Escape[]>({ movesWithFacts: true });

function flowFindings(crate: Crate, addressFields: string): RuleFinding[] {
  const summaries = new Summaries(crate);
  const out: RuleFinding[] = [];
  for (const fn of crate.fns) {
    if (!fn.facts.body || !mentionsRevocableAccess(crate.api, fn.facts.body)) continue;
    const escapes = keptEscapes.of(crate, fn, addressFields, (dependsOn) =>
      summaries.tracking(dependsOn, () => {
        const flow = new GuardFlow(summaries, fn);
        flow.run();
        return [...flow.escapes.values()];
      }),
    );
    for (const escape of escapes) out.push(escapeFinding(fn, escape));
  }
  return out;
}

/** Cheap pre-filter: only bodies that call a revocable access method can take an address out of a guard. */
function mentionsRevocableAccess(api: KernelApi, body: Expr): boolean {
  for (const name of bodyNames(body).methods) if (isAccessMethod(api, name)) return true;
  return false;
}

function isAccessMethod(api: KernelApi, name: string): boolean {
  return api.revocableAccess.guard.has(name) || api.revocableAccess.checked.has(name) || api.revocableAccess.closure.has(name);
}

function escapeFinding(fn: FnNode, escape: Escape): RuleFinding {
  const { taint } = escape;
  const sink = [...escape.sinks].sort((a, b) => SINK_PRIORITY.indexOf(a.kind) - SINK_PRIORITY.indexOf(b.kind))[0];
  const file = fn.file.path;
  const related: Location[] = [];
  if (taint.guard.call) related.push({ file, span: taint.guard.call.nameSpan, message: guardNote(taint.guard) });
  if (taint.viaClosure) related.push({ file, span: taint.viaClosure, message: 'returned out of the guard by this closure' });
  related.push({ file, span: sink.span, message: sinkNote(sink) });
  const notes: string[] = [];
  if (sink.kind === 'device' && !sink.afterGuard) notes.push('the register keeps the address after the guard is dropped; revocation waits for CPU readers, not for the device');
  const message = taint.memory
    ? `DMA memory under a revocable guard ${sinkPhrase(fn, sink, taint)}: the device keeps using its address after the guard ends, so revocation cannot make this safe`
    : `DMA address taken out of a revocable guard ${sinkPhrase(fn, sink, taint)}: ${CONSEQUENCE}`;
  return {
    rule: RULE_ID,
    message,
    primary: { file, span: taint.source.span },
    related,
    notes,
    help: HELP,
    item: fn.label,
  };
}

function guardNote(g: Guard): string {
  const what = g.call ? `\`${g.call.name}()\`` : 'the guard';
  if (g.kind === 'closure') return `the guard of ${what} is held only while the closure runs: it ends at line ${g.end?.endLine ?? 0}`;
  return `the guard from ${what} ends at line ${g.end?.endLine ?? 0}`;
}

function sinkPhrase(fn: FnNode, sink: Sink, taint: Taint): string {
  const prefix = taint.viaClosure ? 'leaves the closure and is ' : 'is ';
  switch (sink.kind) {
    case 'device':
      return `${prefix}${sink.afterGuard ? 'written to the device after the guard ended' : 'handed to the device'}`;
    case 'dma-memory':
      return `${prefix}written into DMA memory the device reads`;
    case 'handed':
      return `${prefix}handed to ${sink.what}`;
    case 'field':
    case 'atomic':
    case 'static':
      return `${prefix}stored in ${sink.what}`;
    case 'return':
      return `${prefix}returned from \`${fn.label}\``;
    case 'used-after':
      return `${prefix}used after the guard ended`;
  }
}

function sinkNote(sink: Sink): string {
  const after = sink.afterGuard ? ', after the guard ended' : '';
  switch (sink.kind) {
    case 'device':
      return `written to the device here${after}`;
    case 'dma-memory':
      return `written into DMA memory here${after}`;
    case 'handed':
      return `handed to ${sink.what} here${after}`;
    case 'field':
    case 'atomic':
    case 'static':
      return `stored here${after}`;
    case 'return':
      return 'returned here';
    case 'used-after':
      return `${sink.what} here, after the guard ended`;
  }
}

/** What a callee does with a parameter (`it`, or `its address` for guarded memory), as seen from the caller. */
function calleeDoes(sink: Sink, what: string): string {
  switch (sink.kind) {
    case 'device':
      return `writes ${what} to the device`;
    case 'dma-memory':
      return `writes ${what} into DMA memory`;
    case 'handed':
      return `hands ${what} to ${sink.what}`;
    default:
      return `stores ${what} in ${sink.what}`;
  }
}

/**
 * One function's walk: evaluates the body in order, with scopes, tracking which locals refer into
 * a guarded value (guard bindings), which values are DMA addresses taken out of a guard (taints),
 * and where those go (sinks). In summary mode, one parameter stands for such an address or for
 * guarded memory, and only what it carries is recorded: the first sink that stores the address
 * or hands it to the device, and whether the function returns it.
 */
class GuardFlow {
  readonly escapes = new Map<Expr, Escape>();
  summarySink?: Sink;
  summaryReturns = false;
  /** In summary mode: the stand-in guard of the parameter followed. */
  private summaryGuard?: Guard;

  private readonly crate: Crate;
  private readonly api: KernelApi;
  private readonly env: Map<string, NType>;
  /** Names resolved by the model (Rust's scopes and shadowing); this flow keeps what each binding holds. */
  private readonly names: BodyBindings;
  private readonly state = new Map<ModelBinding, Binding>();
  /** Guards held by locals of each scope: they end with the scope. */
  private readonly owned: Guard[][] = [];
  /** Temporary guards of each statement being evaluated: they end with the statement. */
  private readonly temps: Guard[][] = [];
  /** Values returned by `return` inside the closures being evaluated. */
  private readonly closureReturns: Taint[][] = [];
  private readonly accessGuards = new Map<Expr, Guard>();

  constructor(
    private readonly summaries: Summaries,
    private readonly fn: FnNode,
    private readonly summary?: SummaryRequest,
  ) {
    this.crate = summaries.crate;
    this.api = this.crate.api;
    this.env = new Map(this.crate.env(fn));
    this.names = bodyBindings(fn.facts);
  }

  run(): void {
    const body = this.fn.facts.body;
    if (!body) return;
    this.owned.push([]);
    if (this.fn.facts.self) this.declareParam('self', this.summary?.param === 'self', this.fn.scope.selfType);
    this.fn.facts.params.forEach((p, i) => {
      const type = this.crate.normalize(p.type, this.fn.scope);
      for (const n of p.pat.names) this.declareParam(n.name, this.summary?.param === i, type);
    });
    const tail = this.expr(body);
    const ret = this.fn.facts.ret;
    if (tail && ret && ret.kind !== 'unit' && body.k === 'block') {
      const last = body.stmts[body.stmts.length - 1];
      this.sink(tail, 'return', last && last.k === 'expr' ? last.expr.span : body.span, `\`${this.fn.label}\``);
    }
  }

  /**
   * A parameter; in summary mode the one followed stands for an address taken out of a guard
   * that the caller already left (`address`), or for memory under a guard the caller holds (`guard`).
   */
  private declareParam(name: string, followed: boolean, type: NType | undefined): void {
    if (!followed || !this.summary) {
      this.declare(name, { param: true });
      return;
    }
    const inner = (type && this.crate.peel(type)) ?? { kind: 'other', name: '', path: [], args: [], text: '' };
    const guard: Guard = { inner, kind: 'binding', closed: this.summary.kind === 'address' };
    this.summaryGuard = guard;
    if (this.summary.kind === 'guard') {
      this.declare(name, { param: true, guard }, inner);
      return;
    }
    this.declare(name, { param: true, taint: { source: { k: 'path', segs: [name], span: this.fn.facts.nameSpan }, guard } });
  }

  // -- scopes and guards ------------------------------------------------------------------------

  /** What a binding holds, from here on: a parameter by name, a pattern's name by where it is bound. */
  private declare(name: string, b: Binding, type?: NType, at?: Span): void {
    const binding = b.param
      ? name === 'self' ? this.names.self : this.names.params.find((x) => x.name === name)
      : this.names.all.find((x) => x.name === name && at !== undefined && x.span.line === at.line && x.span.col === at.col);
    if (binding) this.state.set(binding, b);
    if (type) this.env.set(name, type);
  }

  private declarePattern(pat: Pat, b: Omit<Binding, 'param'>, type?: NType): void {
    for (const n of pat.names) this.declare(n.name, { ...b, param: false }, type, n.span);
  }

  /** What the binding a path names holds, if it is a local or parameter this flow has seen bound. */
  private lookup(use: Expr): Binding | undefined {
    const binding = this.names.resolved.get(use);
    return binding ? this.state.get(binding) : undefined;
  }

  private enter(): void {
    this.owned.push([]);
  }

  private leave(end: Span): void {
    close(this.owned.pop() ?? [], end);
  }

  private typeIn(e: Expr): NType | undefined {
    return this.crate.typeOf(e, this.fn, this.env);
  }

  /** The value type inside the kernel revocable that `recv` is (through references and smart pointers), if it holds DMA memory. */
  private revocableInner(recv: Expr): NType | undefined {
    let cur = this.typeIn(recv);
    for (let i = 0; cur && i < 8; i++) {
      if (isRevocable(this.api, cur)) return this.holdsDma(cur.args[0]) ? cur.args[0] : undefined;
      if (cur.kind === 'ref' || cur.kind === 'ptr' || (cur.kind === 'path' && !cur.local && cur.args.length > 0)) cur = cur.args[0];
      else return undefined;
    }
    return undefined;
  }

  /**
   * A DMA address, DMA memory, or a crate type holding either. Memory reached through shared
   * ownership (`Arc`) is not freed by revoking the wrapper, so the search stops there.
   */
  private holdsDma(t: NType): boolean {
    const api = this.api;
    const isShared = (x: NType) => x.kind === 'path' && !x.local && api.sharedOwnership.has(x.name);
    return this.crate
      .ownedPaths(t, (x) => isAddress(api, x) || isDmaBuffer(api, x) || isShared(x))
      .some((p) => !isShared(p.found) && !p.steps.some((s) => s.shared) && p.steps.length <= MAX_STRUCT_LEVELS);
  }

  /** A guard created by an access call (`x.try_access()`, `x.access(dev)`), once per call expression. */
  private accessGuard(e: Extract<Expr, { k: 'method' }>, kind: Guard['kind']): Guard | undefined {
    const known = this.accessGuards.get(e);
    if (known) return known;
    const inner = this.revocableInner(e.recv);
    if (!inner) return undefined;
    const guard: Guard = { call: e, inner, kind, closed: false, end: e.span };
    this.accessGuards.set(e, guard);
    if (kind === 'temporary') (this.temps[this.temps.length - 1] ?? this.owned[this.owned.length - 1]).push(guard);
    return guard;
  }

  /** The guard an expression is (a guard binding, an access call, or either through `?`, `unwrap()`, `&`). */
  private guardOf(e: Expr): Guard | undefined {
    switch (e.k) {
      case 'path':
        return e.segs.length === 1 ? this.lookup(e)?.guard : undefined;
      case 'method':
        if (this.api.revocableAccess.guard.has(e.name) || this.api.revocableAccess.checked.has(e.name)) return this.accessGuard(e, 'temporary');
        return GUARD_PASS_METHODS.has(e.name) ? this.guardOf(e.recv) : undefined;
      case 'try':
        return this.guardOf(e.expr);
      case 'unary':
        return e.op === '&' || e.op === '&mut' || e.op === '*' ? this.guardOf(e.expr) : undefined;
      case 'seq':
        return e.kind === 'paren' && e.items.length === 1 ? this.guardOf(e.items[0]) : undefined;
      default:
        return undefined;
    }
  }

  /** The guard whose value `e` refers into: the guard, or a field, element or method result of it. */
  private derivedGuard(e: Expr): Guard | undefined {
    const g = this.guardOf(e);
    if (g) return g;
    switch (e.k) {
      case 'field':
      case 'index':
        return this.derivedGuard(e.recv);
      case 'method':
        return this.api.dmaAddressMethods.has(e.name) ? undefined : this.derivedGuard(e.recv);
      case 'unary':
        return this.derivedGuard(e.expr);
      case 'try':
        return this.derivedGuard(e.expr);
      case 'seq':
        return e.kind === 'paren' && e.items.length === 1 ? this.derivedGuard(e.items[0]) : undefined;
      default:
        return undefined;
    }
  }

  /** The type of a place inside a guarded value; a guard binding stands for its value type. */
  private derivedType(e: Expr, g: Guard): NType | undefined {
    if (this.guardOf(e) === g && (e.k === 'path' || e.k === 'method' || e.k === 'try')) return g.inner;
    return this.typeIn(e);
  }

  /** `g.base` where `base` is an integer field that some code fills with a DMA address. */
  private fieldCarriesAddress(e: Expr): boolean {
    if (e.k !== 'field') return false;
    const owner = this.crate.structOf(this.crate.peel(this.typeIn(e.recv)));
    return !!owner && valueFlow(this.crate).addressFields().has(`${owner.name}.${e.name}`);
  }

  private isAddressValue(t: NType | undefined): boolean {
    let cur = t;
    for (let i = 0; cur && i < 4; i++) {
      if (isAddress(this.api, cur)) return true;
      if (cur.kind === 'ref' || (cur.kind === 'path' && !cur.local && (cur.name === 'Result' || cur.name === 'Option'))) cur = cur.args[0];
      else return false;
    }
    return false;
  }

  /** The DMA address that `e` takes out of a guard, if it does. */
  private addressSource(e: Expr): Taint | undefined {
    if (e.k === 'method') {
      const guard = this.derivedGuard(e.recv);
      if (!guard) return undefined;
      if (this.api.dmaAddressMethods.has(e.name)) return this.givesAddress(e) ? { source: e, guard } : undefined;
      const callee = this.crate.resolveMethod(e, this.fn, this.env)[0];
      const ret = callee?.facts.ret && this.crate.normalize(callee.facts.ret, callee.scope);
      return ret && this.isAddressValue(ret) ? { source: e, guard } : undefined;
    }
    if (e.k === 'field' || e.k === 'index') {
      const guard = this.derivedGuard(e);
      return guard && (this.isAddressValue(this.typeIn(e)) || this.fieldCarriesAddress(e)) ? { source: e, guard } : undefined;
    }
    if (e.k === 'unary' && e.op === '*') {
      const guard = this.derivedGuard(e.expr);
      return guard && this.isAddressValue(this.derivedType(e.expr, guard)) ? { source: e, guard } : undefined;
    }
    return undefined;
  }

  /** `x.dma_handle()` on a crate type gives an address only when that crate method returns one. */
  private givesAddress(e: Extract<Expr, { k: 'method' }>): boolean {
    const guard = this.derivedGuard(e.recv);
    const recv = this.crate.peel(guard ? this.derivedType(e.recv, guard) : this.typeIn(e.recv));
    if (!recv?.local) return true;
    const methods = this.crate.methodsOf(recv.name, e.name);
    if (methods.length === 0) return this.holdsDma(recv);
    return methods.some((m) => !!m.facts.ret && this.isAddressValue(this.crate.normalize(m.facts.ret, m.scope)));
  }

  // -- sinks ------------------------------------------------------------------------------------

  private sink(t: Taint, kind: SinkKind, span: Span, what: string): void {
    const afterGuard = t.guard.closed;
    if (this.summary) {
      // Only what the followed parameter carries; the callee's own guards are reported on their own.
      if (t.guard !== this.summaryGuard) return;
      if (kind === 'return') this.summaryReturns = true;
      else if (!this.summarySink && kind !== 'used-after') this.summarySink = { kind, span, what, afterGuard };
      return;
    }
    let escape = this.escapes.get(t.source);
    if (!escape) this.escapes.set(t.source, (escape = { taint: t, sinks: [] }));
    escape.sinks.push({ kind, span, what, afterGuard });
  }

  /** The address is stored through `target` (an assignment or a store method's receiver). */
  private store(target: Expr, t: Taint, span: Span): void {
    const rootPath = rootOf(target);
    const root = rootPath?.segs[rootPath.segs.length - 1];
    const b = rootPath && rootPath.segs.length === 1 ? this.lookup(rootPath) : undefined;
    if (b && !b.param && !b.guard) {
      // A local (a collection, a cell, a descriptor being built): it carries the address on.
      b.taint ??= t;
      return;
    }
    if (root && !b && this.crate.statics.some((s) => s.name === root)) {
      this.sink(t, 'static', span, `static \`${root}\``);
      return;
    }
    const field = lastField(target);
    const atomic = /^Atomic/.test(this.crate.peel(this.typeIn(target))?.name ?? '');
    this.sink(t, atomic ? 'atomic' : 'field', span, `${atomic ? 'atomic' : 'field'} \`${field ?? root ?? '?'}\``);
  }

  /**
   * Arguments handed to a crate function, followed into it: an address is reported when the
   * callee stores it or gives it to the device; guarded memory when the callee does that with its
   * address. Returns the address the call gives back out of guarded memory, if any.
   */
  private handOver(callee: FnNode, call: Expr, args: Expr[], taints: (Taint | undefined)[], offset: number, recv?: Expr): Taint | undefined {
    let out: Taint | undefined;
    const follow = (param: number | 'self', arg: Expr, taint: Taint | undefined) => {
      if (taint) {
        const s = this.summaries.of(callee, { param, kind: 'address' }).sink;
        if (s) this.sink(taint, 'handed', call.span, `\`${callee.label}\`, which ${calleeDoes(s, 'it')}`);
        return;
      }
      const guard = this.derivedGuard(arg);
      if (!guard) return;
      const summary = this.summaries.of(callee, { param, kind: 'guard' });
      if (summary.sink) this.sink({ source: call, guard, memory: true }, 'handed', call.span, `\`${callee.label}\`, which ${calleeDoes(summary.sink, 'its address')}`);
      if (summary.returnsAddress) out ??= { source: call, guard };
    };
    if (recv && callee.facts.self) follow('self', recv, undefined);
    args.forEach((a, i) => {
      const index = i - offset;
      follow(index < 0 ? 'self' : index, a, taints[i]);
    });
    return out;
  }

  /**
   * A register write (the model's predicate: distinctive names always, shared names with an MMIO
   * handle or a register-block newtype involved), a CPU write into DMA memory, or, for a shared
   * name on a receiver that carries the address, a write that hands it on.
   */
  private deviceWrite(e: Extract<Expr, { k: 'method' }>, recvTaint: Taint | undefined): 'device' | 'dma-memory' | undefined {
    const is = kernelPredicates(this.crate);
    if (is.registerWrite(this.fn, e)) return 'device';
    if (!this.api.registerWriteMethods.has(e.name) && !this.api.mmioWriteMethods.has(e.name)) return undefined;
    if (is.isDmaMemoryWrite(this.fn, e)) return 'dma-memory';
    return recvTaint ? 'device' : undefined;
  }

  // -- evaluation -------------------------------------------------------------------------------

  /** Evaluates `e` for its sinks; returns the taint of its value. `inert`: the value is only logged or compared. */
  private expr(e: Expr, inert = false): Taint | undefined {
    switch (e.k) {
      case 'path':
        return e.segs.length === 1 ? this.lookup(e)?.taint : undefined;
      case 'lit':
        return undefined;
      case 'method':
        return this.method(e, inert);
      case 'call':
        return this.call(e, inert);
      case 'field':
        return this.addressSource(e) ?? this.expr(e.recv, inert);
      case 'index':
        this.expr(e.index, true);
        return this.addressSource(e) ?? this.expr(e.recv, inert);
      case 'macro':
        return this.macro(e, inert);
      case 'closure':
        return this.closure(e, inert);
      case 'block':
        return this.block(e, inert);
      case 'if':
        return this.ifExpr(e, inert);
      case 'letcond':
        this.bindPattern(e.pat, e.value, inert);
        return undefined;
      case 'match':
        return this.matchExpr(e, inert);
      case 'loop':
        this.loop(e, inert);
        return undefined;
      case 'assign':
        this.assign(e, inert);
        return undefined;
      case 'return':
        this.ret(e, inert);
        return undefined;
      case 'unary':
        return (e.op === '*' ? this.addressSource(e) : undefined) ?? this.expr(e.expr, inert);
      case 'try':
      case 'cast':
        return this.expr(e.expr, inert);
      case 'binary': {
        const compare = COMPARISONS.has(e.op);
        const l = this.expr(e.left, inert || compare);
        const r = this.expr(e.right, inert || compare);
        return compare || NON_ADDRESS_ARITHMETIC.has(e.op) ? undefined : (l ?? r);
      }
      case 'struct':
        return this.structLiteral(e, inert);
      case 'seq':
        return this.all(e.items, inert);
      case 'other':
        return this.all(e.children, inert);
    }
  }

  private all(items: Expr[], inert: boolean): Taint | undefined {
    let out: Taint | undefined;
    for (const x of items) out = this.expr(x, inert) ?? out;
    return out;
  }

  private block(e: Extract<Expr, { k: 'block' }>, inert: boolean): Taint | undefined {
    this.enter();
    let tail: Taint | undefined;
    e.stmts.forEach((s, i) => {
      this.temps.push([]);
      if (s.k === 'let') this.letStmt(s, inert);
      else {
        const t = this.expr(s.expr, inert);
        if (i === e.stmts.length - 1 && !s.semi) tail = t;
      }
      close(this.temps.pop() ?? [], s.span);
    });
    this.leave(e.span);
    return tail;
  }

  private letStmt(s: Extract<Stmt, { k: 'let' }>, inert: boolean): void {
    const declaredType = s.type ? this.crate.normalize(s.type, this.fn.scope) : undefined;
    if (!s.init) {
      this.declarePattern(s.pat, {}, declaredType);
      return;
    }
    this.bindPattern(s.pat, s.init, inert, declaredType, true);
    if (s.else) this.expr(s.else, inert);
  }

  /** Binds a pattern to a value: a guard, a place inside a guarded value, or a (possibly tainted) value. */
  private bindPattern(pat: Pat, value: Expr, inert: boolean, declaredType?: NType, isLet = false): void {
    const refuted = pat.ctor && ['None', 'Err'].includes(pat.ctor[pat.ctor.length - 1]);
    const guard = this.guardOf(value);
    if (guard) {
      this.evalArgs(value, inert);
      if (isLet) this.adopt(guard);
      if (!refuted) this.declarePattern(pat, { guard }, guard.inner);
      return;
    }
    const source = this.addressSource(value);
    const derived = source ? undefined : this.derivedGuard(value);
    if (derived) {
      this.expr(value, inert);
      if (!refuted) this.declarePattern(pat, { guard: derived }, declaredType ?? this.typeIn(value));
      return;
    }
    const taint = this.expr(value, inert);
    if (!refuted) this.declarePattern(pat, { taint }, declaredType);
  }

  /** The arguments inside a guard expression (`x.access(dev)?`), evaluated for their own sinks. */
  private evalArgs(e: Expr, inert: boolean): void {
    if (e.k === 'method') {
      for (const a of e.args) this.expr(a, inert);
      this.evalArgs(e.recv, inert);
    } else if (e.k === 'try' || e.k === 'unary') this.evalArgs(e.expr, inert);
  }

  /** A temporary guard bound by `let` lives until the end of the enclosing block. */
  private adopt(g: Guard): void {
    const temps = this.temps[this.temps.length - 1];
    const i = temps ? temps.indexOf(g) : -1;
    if (i < 0) return;
    temps.splice(i, 1);
    g.kind = 'binding';
    this.owned[this.owned.length - 1].push(g);
  }

  private ifExpr(e: Extract<Expr, { k: 'if' }>, inert: boolean): Taint | undefined {
    this.enter();
    this.condition(e.cond, inert);
    const a = this.expr(e.then, inert);
    this.leave(e.then.span);
    const b = e.else ? this.expr(e.else, inert) : undefined;
    return a ?? b;
  }

  private condition(c: Expr, inert: boolean): void {
    if (c.k === 'letcond') this.bindPattern(c.pat, c.value, inert);
    else if (c.k === 'binary' && c.op === '&&') {
      this.condition(c.left, inert);
      this.condition(c.right, inert);
    } else this.expr(c, inert);
  }

  private matchExpr(e: Extract<Expr, { k: 'match' }>, inert: boolean): Taint | undefined {
    const guard = this.guardOf(e.value);
    const derived = guard || this.addressSource(e.value) ? undefined : this.derivedGuard(e.value);
    const taint = guard || derived ? undefined : this.expr(e.value, inert);
    if (guard) this.evalArgs(e.value, inert);
    let out: Taint | undefined;
    for (const arm of e.arms) {
      this.enter();
      const refuted = arm.pat.ctor && ['None', 'Err'].includes(arm.pat.ctor[arm.pat.ctor.length - 1]);
      if (guard && !refuted) this.declarePattern(arm.pat, { guard }, guard.inner);
      else if (derived && !refuted) this.declarePattern(arm.pat, { guard: derived });
      else if (taint) this.declarePattern(arm.pat, { taint });
      if (arm.guard) this.expr(arm.guard, true);
      out = this.expr(arm.body, inert) ?? out;
      this.leave(arm.body.span);
    }
    return out;
  }

  private loop(e: Extract<Expr, { k: 'loop' }>, inert: boolean): void {
    this.enter();
    if (e.pat && e.iter) {
      const derived = this.derivedGuard(e.iter);
      if (derived) this.declarePattern(e.pat, { guard: derived });
      else {
        this.declarePattern(e.pat, { taint: this.expr(e.iter, inert) });
        // `for q in self.queues.iter()` / `.enumerate()`: the element's type, for guards taken from it.
        const elem = this.iterElement(e.iter);
        const last = e.pat.names[e.pat.names.length - 1];
        if (elem && last && (elem.enumerated ? e.pat.names.length === 2 : e.pat.names.length === 1)) this.env.set(last.name, elem.type);
      }
    }
    if (e.cond) this.condition(e.cond, inert);
    this.expr(e.body, inert);
    this.leave(e.span);
  }

  /** The element type of a `for` loop's iterable (`xs.iter()`, `&xs`, `xs.iter().enumerate()`). */
  private iterElement(iter: Expr): { type: NType; enumerated: boolean } | undefined {
    let cur = iter;
    let enumerated = false;
    for (let i = 0; i < 6; i++) {
      if (cur.k === 'method' && cur.args.length === 0 && ITER_METHODS.has(cur.name)) {
        enumerated ||= cur.name === 'enumerate';
        cur = cur.recv;
      } else if (cur.k === 'unary' && (cur.op === '&' || cur.op === '&mut')) cur = cur.expr;
      else break;
    }
    const coll = this.typeIn(cur);
    const type = coll && this.crate.elementType(coll);
    return type ? { type, enumerated } : undefined;
  }

  /** A closure; its parameters are bound to a guard or a taint when the caller knows what they receive. */
  private closure(c: Extract<Expr, { k: 'closure' }>, inert: boolean, param?: { guard?: Guard; taint?: Taint }): Taint | undefined {
    this.enter();
    this.closureReturns.push([]);
    this.temps.push([]);
    for (const p of c.params) this.declarePattern(p, { guard: param?.guard, taint: param?.taint }, param?.guard?.inner);
    const tail = this.expr(c.body, inert);
    close(this.temps.pop() ?? [], c.span);
    const returns = this.closureReturns.pop() ?? [];
    this.leave(c.span);
    return tail ?? returns[0];
  }

  /** `x.try_access_with(|v| ..)`, or `.map(|v| ..)` on a guard: the closure runs under the guard. */
  private closureGuard(e: Extract<Expr, { k: 'method' }>): Guard | undefined {
    if (this.api.revocableAccess.closure.has(e.name)) return this.accessGuard(e, 'closure');
    return GUARD_CLOSURE_ADAPTORS.has(e.name) ? this.guardOf(e.recv) : undefined;
  }

  private guardedClosure(e: Extract<Expr, { k: 'method' }>, guard: Guard, inert: boolean): Taint | undefined {
    let out: Taint | undefined;
    if (guard.kind !== 'closure') this.evalArgs(e.recv, inert);
    for (const a of e.args) {
      if (a.k !== 'closure') {
        this.expr(a, inert);
        continue;
      }
      const t = this.closure(a, inert, { guard });
      if (guard.kind === 'closure') {
        guard.closed = true;
        guard.end = a.span;
      }
      if (t) out = t.guard === guard ? { ...t, viaClosure: a.span } : t;
    }
    return out;
  }

  private method(e: Extract<Expr, { k: 'method' }>, inert: boolean): Taint | undefined {
    const guard = this.closureGuard(e);
    if (guard) return this.guardedClosure(e, guard, inert);
    const source = this.addressSource(e);
    if (source) {
      this.evalArgs(e, inert);
      return source;
    }
    const recvTaint = this.expr(e.recv, inert);
    const argTaints = e.args.map((a) => (a.k === 'closure' && recvTaint ? this.closure(a, inert, { taint: recvTaint }) : this.expr(a, inert)));
    const argTaint = argTaints.find((t) => t);
    if (inert) return recvTaint ?? argTaint;
    const write = this.deviceWrite(e, recvTaint);
    if (write) {
      for (const t of [recvTaint, ...argTaints]) if (t) this.sink(t, write, e.span, 'the device');
      return undefined;
    }
    if (argTaint && this.api.storeMethods.has(e.name)) {
      this.store(e.recv, argTaint, e.span);
      return undefined;
    }
    const callee = argTaint || this.mayHandGuarded(e.recv, e.args) ? this.crate.resolveMethod(e, this.fn, this.env)[0] : undefined;
    if (callee) {
      const out = this.handOver(callee, e, e.args, argTaints, 0, e.recv);
      return out ?? recvTaint ?? (argTaint && this.returnsData(callee) ? argTaint : undefined);
    }
    if (argTaint && !isValueConversion(e.name)) this.usedAfter(argTaints, e.nameSpan, `passed to \`${e.name}()\``);
    return recvTaint ?? argTaint;
  }

  /** Whether a call may hand guarded memory to a crate function (cheap check before resolving it). */
  private mayHandGuarded(recv: Expr | undefined, args: Expr[]): boolean {
    return (!!recv && !!this.derivedGuard(recv)) || args.some((a) => !!this.derivedGuard(a));
  }

  /** Whether a crate function's result can carry an argument's value on (not `()`, `bool`, `Result<()>`). */
  private returnsData(callee: FnNode): boolean {
    let t = callee.facts.ret ? this.crate.normalize(callee.facts.ret, callee.scope) : undefined;
    for (let i = 0; t && i < 4 && t.kind === 'path' && !t.local && (t.name === 'Result' || t.name === 'Option'); i++) t = t.args[0];
    if (!t || t.kind === 'unit' || t.kind === 'never') return false;
    return !(t.kind === 'path' && !t.local && NON_DATA_TYPES.has(t.name));
  }

  private call(e: Extract<Expr, { k: 'call' }>, inert: boolean): Taint | undefined {
    const taints = e.args.map((a) => this.expr(a, inert));
    const tainted = taints.find((t) => t);
    if (inert || e.callee.k !== 'path' || (!tainted && !this.mayHandGuarded(undefined, e.args))) return tainted;
    const name = e.callee.segs[e.callee.segs.length - 1];
    // `bindings::writeq(addr, reg)`: a raw register write.
    if (tainted && this.api.mmioWriteMethods.has(name) && !this.api.registerWriteMethods.has(name)) {
      for (const t of taints) if (t) this.sink(t, 'device', e.span, 'the device');
      return undefined;
    }
    // `Some(a)`, `Ok(a)`, a tuple struct or variant, `u64::from(a)`: the value is carried on, not used.
    if (/^[A-Z]/.test(name) || isValueConversion(name)) return tainted;
    const callee = this.crate.resolveCall(e, this.fn, this.env)[0];
    if (callee) {
      const out = this.handOver(callee, e, e.args, taints, e.callee.segs.length > 1 && callee.facts.self ? 1 : 0);
      return out ?? (tainted && this.returnsData(callee) ? tainted : undefined);
    }
    if (tainted) this.usedAfter(taints, e.callee.span, `passed to \`${name}()\``);
    return tainted;
  }

  /** A value that already left its guard, passed to code dmalint does not follow. */
  private usedAfter(taints: (Taint | undefined)[], span: Span, what: string): void {
    for (const t of taints) if (t && t.guard.closed) this.sink(t, 'used-after', span, what);
  }

  private macro(e: Extract<Expr, { k: 'macro' }>, inert: boolean): Taint | undefined {
    if (this.api.logMacros.has(e.name) || this.api.inertMacros.has(e.name)) {
      this.all(e.args, true);
      return undefined;
    }
    if (this.api.dmaWriteMacros.has(e.name)) {
      for (const a of e.args) {
        const t = a.k === 'assign' ? this.expr(a.value, inert) : this.expr(a, inert);
        if (t && !inert) this.sink(t, 'dma-memory', e.span, 'DMA memory');
      }
      return undefined;
    }
    return this.all(e.args, inert);
  }

  private structLiteral(e: Extract<Expr, { k: 'struct' }>, inert: boolean): Taint | undefined {
    let out: Taint | undefined;
    const typeName = e.path[e.path.length - 1] === 'Self' ? (this.fn.scope.selfType?.name ?? 'Self') : e.path[e.path.length - 1];
    for (const f of e.fields) {
      const t = this.expr(f.value, inert);
      if (t && !inert) this.sink(t, 'field', f.span, `field \`${f.name}\` of \`${typeName}\``);
      out ??= t;
    }
    if (e.base) this.expr(e.base, inert);
    return out;
  }

  private assign(e: Extract<Expr, { k: 'assign' }>, inert: boolean): void {
    const t = this.expr(e.value, inert);
    if (e.target.k === 'index') this.expr(e.target.index, true);
    if (!t || inert) return;
    if (e.target.k === 'path' && e.target.segs.length === 1) {
      const b = this.lookup(e.target);
      if (b) {
        b.taint = t;
        return;
      }
    }
    this.store(e.target, t, e.span);
  }

  private ret(e: Extract<Expr, { k: 'return' }>, inert: boolean): void {
    const t = e.value ? this.expr(e.value, inert) : undefined;
    if (!t) return;
    const frame = this.closureReturns[this.closureReturns.length - 1];
    if (frame) frame.push(t);
    else if (!inert) this.sink(t, 'return', e.span, `\`${this.fn.label}\``);
  }
}

/** Arithmetic and conversions (`u64::from(a)`, `a.wrapping_add(n)`, `max(a, b)`): the value is carried on, not used. */
function isValueConversion(name: string): boolean {
  return VALUE_CONVERSIONS.has(name) || /^(wrapping|checked|saturating|overflowing)_/.test(name);
}

function close(guards: Guard[], end: Span): void {
  for (const g of guards) {
    if (g.closed) continue;
    g.closed = true;
    g.end = end;
  }
}

/** The local or parameter a place expression starts from: `self` in `self.a.lock().b`. */
/** The path a place expression starts from: `queue` in `queue.descs[i].addr`. */
function rootOf(e: Expr): Extract<Expr, { k: 'path' }> | undefined {
  let cur: Expr = e;
  for (let i = 0; i < 32; i++) {
    if (cur.k === 'field' || cur.k === 'index') cur = cur.recv;
    else if (cur.k === 'method') cur = cur.recv;
    else if (cur.k === 'unary' || cur.k === 'try') cur = cur.expr;
    else if (cur.k === 'path') return cur;
    else return undefined;
  }
  return undefined;
}

/** The innermost field named in a place expression: `ring_addr` in `self.ring_addr.lock()`. */
function lastField(e: Expr): string | undefined {
  let cur: Expr = e;
  for (let i = 0; i < 32; i++) {
    if (cur.k === 'field') return cur.name;
    if (cur.k === 'index' || cur.k === 'method') cur = cur.recv;
    else if (cur.k === 'unary' || cur.k === 'try') cur = cur.expr;
    else return undefined;
  }
  return undefined;
}
