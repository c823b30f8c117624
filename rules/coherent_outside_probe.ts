// coherent_outside_probe: coherent DMA memory allocated, or kept, where no driver is bound.
//
// Two checks share the model:
// 1. every call of a coherent allocation constructor is placed in a device state: inside a
//    closure run by a kernel thread, in a function the crate's call graph proves unbound-capable
//    (module init, work items, timers, file operations, Drop of shared objects), proven bound
//    (probe, unbind, a `&Device<Bound>` parameter, only called from bound code), or unknown, in
//    which case the device argument's type decides;
// 2. every static and every type that can outlive the binding (module type, work item, timer,
//    file private data) is searched, through fields and wrappers, for coherent memory it owns.
import type { Expr, Span } from '../src/facts/ir.js';
import { bodyBindings } from '../src/model/bindings.js';
import type { DmaRule, Location, RuleContext, RuleFinding } from '../src/rule/api.js';
import type { Crate, FnNode, Lifecycle, NType, OwnershipStep, StaticNode, StructNode } from '../src/model/crate.js';
import type { UnboundContextKind } from '../src/model/kernel-api.js';
import { kernelPredicates } from '../src/model/kernel-predicates.js';
import { bodyNames, fieldChain, walkExpr } from '../src/model/walk.js';

const ID = 'coherent_outside_probe';

export const rule: DmaRule = {
  meta: {
    id: ID,
    defaultLevel: 'deny',
    summary: 'coherent DMA memory allocated or kept where no driver is bound',
    whatItDoes: [
      'Finds coherent DMA memory (`CoherentAllocation`, `Coherent`, `CoherentBox`, `CoherentHandle`, and types configured with `allocation-constructors`) that is created, or kept, where a bound driver is not guaranteed.',
      '',
      '*Allocation.* A call of a coherent allocation constructor (`CoherentAllocation::alloc_coherent`, `alloc_attrs`; `Coherent::zeroed`, `zeroed_with_attrs`, `init`, `init_with_attrs`, `zeroed_slice`, `zeroed_slice_with_attrs`; the `CoherentBox` and `CoherentHandle` constructors; with or without a turbofish, through `use ... as` renames, type aliases and full paths) is reported when the function that makes it can run with no driver bound: module `init`, `WorkItem::run`, `HrTimerCallback::run`, misc-device and file operations, a closure handed to a kernel thread, `Drop` of a type shared beyond the driver data, or any function the crate calls from those. It is also reported, in a function no bound caller decides, when the device argument does not prove binding: an `ARef<Device>`, a plain `&Device` without typestate, `misc.device()`, or such a device kept in a struct field.',
      '',
      '*Holding.* Coherent memory owned, directly or through fields, `Option`, `KBox`, `Arc`, locks and other wrappers, by a `static` (also one declared in `global_lock!`), by the module type, by a work item or timer type, or by the private data of a misc device or file is reported at the field or static that holds it, with the allocation sites that feed it as related locations. This includes an `Arc` cloned out of the driver data into one of those holders.',
      '',
      'Not reported: allocations in `probe()` and `unbind()`, in functions that take `&Device<Bound>` or a bus device in its `Core` state, and in functions that are only called, directly or through other functions and across the files of the crate, from such bound code. A helper that takes an `ARef<Device>` or a plain `&Device` but is only called from `probe()` is bound, and not reported.',
    ].join('\n'),
    whyBad: [
      'A `struct device` is in one of three states: *No Driver* (before `probe()`, after `remove()`), *Driver Attached* (from the start of `probe()` to the end of `remove()`/`unbind()`), and *Zombie* (the driver was unbound, but something still holds a reference: an `ARef<Device>`, an `Arc` shared with a work item, a timer or an open file). The DMA API may only be used while a driver is attached.',
      '',
      'A reference count (`ARef<Device>`) keeps the memory of the `struct device` alive, not the binding. After unbind, the bus code may have released the device\'s DMA configuration (IOMMU domain, DMA ops, coherent pool), so allocating coherent memory then, or freeing it when the last holder drops, acts on a device no driver owns. Module code runs before any driver is bound and after every driver is gone; work items, timers, kernel threads and open files can run or be dropped after `remove()` returned. Memory held in a static is never dropped at all.',
    ].join('\n'),
    badExamples: [
      {
        title: 'allocation in a work item (2025 API)',
        code: `impl WorkItem for Refill {
    type Pointer = Arc<Refill>;

    fn run(this: Arc<Refill>) {
        // this.dev is an ARef<Device>: it proves nothing about binding.
        let ring = CoherentAllocation::<u64>::alloc_coherent(&this.dev, 64, GFP_KERNEL);
    }
}`,
      },
      {
        title: 'allocation in module init, kept by the module (2026 API)',
        code: `struct RingModule {
    ring: Coherent<[u64]>,
}

impl kernel::Module for RingModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dev = find_device()?; // ARef<Device>
        let ring = Coherent::<[u64]>::zeroed_slice(&dev, 64, GFP_KERNEL)?;
        Ok(RingModule { ring })
    }
}`,
      },
      {
        title: 'buffer kept in a static (2025 API)',
        code: `kernel::sync::global_lock! {
    // SAFETY: initialized in module init.
    unsafe(uninit) static SCRATCH: Mutex<Option<CoherentAllocation<u8>>> = None;
}`,
      },
    ],
    goodExamples: [
      {
        title: 'allocate in probe, keep in the driver data (2025 API)',
        code: `impl pci::Driver for Nic {
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::<u64>::alloc_coherent(pdev.as_ref(), 64, GFP_KERNEL)?;
        KBox::pin_init(try_pin_init!(Nic { ring }), GFP_KERNEL)
    }
}`,
      },
      {
        title: 'a helper that requires a bound device (2026 API)',
        code: `fn alloc_ring(dev: &Device<Bound>) -> Result<Coherent<[u64]>> {
    Coherent::<[u64]>::zeroed_slice(dev, 64, GFP_KERNEL)
}`,
      },
    ],
    howToFix: [
      'Allocate in `probe()`, or in a helper that takes `&Device<Bound>` (the typestate then proves binding to every caller), and keep the buffer in the driver data, so that `remove()` frees it after the device was stopped. A work item, timer or file operation that needs the buffer should reach it through the driver data and be cancelled or fenced in `unbind()`; it must not own the buffer or allocate a new one.',
      '',
      'When the code really runs only while bound in a way dmalint cannot see, say so next to it: `// dmalint-allow(coherent_outside_probe): <reason>` on the line before the finding, at the end of its line, or before the item (function, impl, struct, static) that contains it.',
    ].join('\n'),
    limits: [
      'Device states come from the crate\'s own call graph. A function that nothing in the crate calls and that is not a known callback is judged only by its device argument; when that argument\'s type cannot be inferred, nothing is reported. Calls through function pointers and macros the extractor cannot parse are not followed; a call through a trait object or an `impl Trait` value reaches every implementation of that trait in the crate. A function reached from both bound and unbound code counts as unbound.',
      '',
      'A work item, timer or file type that the driver data owns by value (not through an `Arc`) is treated as part of the driver data and not reported as a holder. An `Arc` that leaves the driver data is seen only when it lands in a static, the module type, or a work item, timer or file type; one captured by a kernel-thread closure is not reported as holding, because joining the thread in `unbind()` is a correct pattern dmalint cannot check. Related allocation sites are found by following values through `let` bindings, struct literals (including `pin_init!`/`try_pin_init!`) and crate functions; stores through other paths are not linked.',
    ].join('\n'),
    tags: ['dma', 'lifecycle', 'correctness'],
    links: [
      { title: 'Device driver lifecycle and binding', url: 'https://docs.kernel.org/driver-api/driver-model/binding.html' },
      { title: 'Dynamic DMA mapping using the generic device', url: 'https://docs.kernel.org/core-api/dma-api.html' },
    ],
  },
  check,
};

export default rule;

/** One call of a coherent allocation constructor. */
interface AllocationSite {
  fn: FnNode;
  call: Extract<Expr, { k: 'call' }>;
  /** Canonical type and constructor, for messages: `Coherent::zeroed_slice`. */
  ctor: string;
  /** The call sits in a closure handed to a thread spawner: the call that spawns it. */
  spawn?: Expr;
}

/** What the device argument of an allocation says about binding. */
interface DeviceEvidence {
  bound: boolean;
  /** Why it does not prove binding, when it is known not to. */
  reason?: string;
  /** Where the device's type is declared (parameter or field). */
  decl?: Location;
}

/**
 * The kernel's own coherent types. A crate type of one of these names is a look-alike or the
 * kernel's abstraction itself; a crate type added by configuration is the crate's own wrapper.
 */

const HELP_ALLOC = 'allocate in probe() or in a helper that takes `&Device<Bound>`, and keep the buffer in the driver data';
const WHY_BOUND = 'the DMA API may only be used while a driver is bound to the device';

function check({ crate }: RuleContext): RuleFinding[] {
  const sites = allocationSites(crate);
  const flow = new AllocationFlow(crate, sites);
  const findings: RuleFinding[] = [];
  for (const site of sites) {
    const f = checkAllocation(crate, site);
    if (f) findings.push(f);
  }
  findings.push(...heldInStatics(crate, flow), ...heldInHolders(crate, flow));
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Allocation sites

function allocationSites(crate: Crate): AllocationSite[] {
  const out: AllocationSite[] = [];
  // A constructor call names one of these last (a type can be renamed by `use`, its functions cannot).
  const ctorNames = new Set([...crate.api.allocationConstructors.values()].flatMap((names) => [...names]));
  for (const fn of crate.fns) {
    if (!fn.facts.body) continue;
    if (![...bodyNames(fn.facts.body).calledPaths].some((name) => ctorNames.has(name))) continue;
    walkExpr(fn.facts.body, (e, parents) => {
      // `stringify!(Coherent::zeroed(..))` and the like never run the code they mention.
      if (e.k === 'macro' && crate.api.inertMacros.has(e.name)) return false;
      if (e.k !== 'call') return;
      const ctor = kernelPredicates(crate).coherentAllocation(fn, e);
      if (!ctor) return;
      const closure = crate.spawnedClosure(parents);
      const spawn = closure ? parents[parents.indexOf(closure) - 1] : undefined;
      out.push({ fn, call: e, ctor, spawn });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Check 1: where the allocation runs

function checkAllocation(crate: Crate, site: AllocationSite): RuleFinding | undefined {
  const device = deviceEvidence(crate, site);
  // A `&Device<Bound>` argument proves binding for as long as the reference lives, whatever
  // context the code runs in.
  if (device.bound) return undefined;
  const notes = device.reason ? [device.reason] : [];
  if (site.spawn) return { ...threadFinding(site), notes };
  const life = crate.lifecycle(site.fn);
  if (life.state === 'unbound' && life.root) return { ...unboundFinding(crate, site, life), notes };
  if (life.state === 'bound' || !device.reason) return undefined;
  return {
    rule: ID,
    message: `coherent DMA allocation (\`${site.ctor}\`) with a device that is not proven bound, so it can run with no driver attached (No Driver or Zombie state): ${device.reason}`,
    primary: loc(site.fn, site.call.span),
    related: device.decl ? [device.decl] : [],
    notes: [`no caller in the crate shows that \`${site.fn.label}\` runs between the start of probe() and the end of remove(), and ${WHY_BOUND}`],
    help: 'take `&Device<Bound>` (or the bus device in its `Core` state) so that only bound code can call this, or allocate in probe()',
    item: site.fn.label,
  };
}

function threadFinding(site: AllocationSite): RuleFinding {
  return {
    rule: ID,
    message: `coherent DMA allocation (\`${site.ctor}\`) in a closure run by a kernel thread, which can run after the driver is unbound (Zombie state); ${WHY_BOUND}`,
    primary: loc(site.fn, site.call.span),
    related: site.spawn ? [loc(site.fn, site.spawn.span, `the thread is started here, in \`${site.fn.label}\``)] : [],
    help: HELP_ALLOC,
    item: site.fn.label,
  };
}

function unboundFinding(crate: Crate, site: AllocationSite, life: Lifecycle): RuleFinding {
  const root = life.root!;
  const context = describeContext(crate, root);
  const where = root === site.fn ? context : `\`${site.fn.label}\`, reachable from ${context}`;
  return {
    rule: ID,
    message: `coherent DMA allocation (\`${site.ctor}\`) in ${where}; ${WHY_BOUND}`,
    primary: loc(site.fn, site.call.span),
    related: [...callChain(crate, life.chain), ...sharedWith(crate, root)],
    help: HELP_ALLOC,
    item: site.fn.label,
  };
}

/** The calls from the root down to the allocating function, as related locations. */
function callChain(crate: Crate, chain: FnNode[]): Location[] {
  const out: Location[] = [];
  for (let i = 0; i + 1 < chain.length && out.length < 4; i++) {
    const edge = crate.callees(chain[i]).find((e) => e.to === chain[i + 1]);
    if (edge) out.push(loc(chain[i], edge.site.span, `\`${chain[i + 1].label}\` is called here`));
  }
  return out;
}

/** For `Drop` of a shared type: the holder field that shares it beyond the driver data. */
function sharedWith(crate: Crate, root: FnNode): Location[] {
  if (!isDrop(crate, root)) return [];
  const name = root.impl!.selfType.name;
  for (const s of holderTypes(crate).keys()) {
    if (s.name === name) continue;
    const step = crate.ownedPaths(structType(s), (t) => t.local?.name === name)[0]?.steps[0];
    if (step) return [{ file: s.file.path, span: step.span, message: `\`${name}\` is shared here with \`${s.name}\`, which can outlive the driver binding` }];
  }
  return [];
}

/** The context a root runs in, its device state, and why: for messages. */
function describeContext(crate: Crate, root: FnNode): string {
  const label = `\`${root.label}\``;
  const traitName = root.impl?.traitName;
  const kind = traitName ? crate.api.unboundTraitKinds.get(traitName) : undefined;
  if (kind === 'module') return `${label}, which runs when the module loads, with no driver bound (No Driver state)`;
  if (kind === 'work') return `${label}, which can run after the driver is unbound (Zombie state)`;
  if (kind === 'timer') return `${label}, a timer callback that can fire after the driver is unbound (Zombie state)`;
  if (kind === 'file') return `${label}, a file operation that can run before probe or after unbind (No Driver or Zombie state)`;
  if (isDrop(crate, root)) {
    if (crate.moduleTypes.has(root.impl!.selfType.name)) return `${label}, which runs when the module unloads, after every driver is unbound (No Driver state)`;
    return `${label}, which runs when the last reference goes away, possibly after the driver is unbound (Zombie state)`;
  }
  if (crate.callers(root).some((e) => e.spawned)) return `${label}, run by a kernel thread that can run after the driver is unbound (Zombie state)`;
  return `${label}, which can run with no driver bound (No Driver or Zombie state)`;
}

function isDrop(crate: Crate, fn: FnNode): boolean {
  return !!fn.impl && crate.dropFns(fn.impl.selfType.name).includes(fn);
}

/** What the first argument of an allocation (the device) proves about binding. */
function deviceEvidence(crate: Crate, site: AllocationSite): DeviceEvidence {
  const arg = site.call.args[0];
  if (!arg) return { bound: false };
  const fn = site.fn;
  const t = crate.typeOf(arg, fn);
  const what = crate.deviceBinding(t);
  if (what === 'bound') return { bound: true };
  const inner = stripRefs(arg);
  const accessor = unboundAccessor(crate, fn, inner);
  if (accessor) return { bound: false, reason: accessor };
  if (!what) return { bound: false };
  const chain = fieldChain(inner);
  const named = chain ? `\`${chain.join('.')}\`` : 'the device';
  const reason = what === 'refcount'
    ? `${named} is an \`${renderType(deref(t)!)}\`, a reference count that keeps the \`struct device\` alive, not the driver bound`
    : `${named} is a \`${renderType(deref(t)!)}\` without a typestate, so nothing shows that a driver is bound`;
  return { bound: false, reason, decl: declarationOf(crate, fn, inner) };
}

/** `misc.device()`: a device that is never bound to a driver at all. */
function unboundAccessor(crate: Crate, fn: FnNode, e: Expr): string | undefined {
  if (e.k !== 'method') return undefined;
  const recv = crate.peel(crate.typeOf(e.recv, fn));
  if (!recv || recv.local || !crate.api.unboundDeviceAccessors.get(recv.name)?.has(e.name)) return undefined;
  const chain = fieldChain(e.recv);
  const text = chain ? `${chain.join('.')}.${e.name}()` : `${e.name}()`;
  return `\`${text}\` is the \`struct device\` of a \`${recv.name}\`, which no driver is bound to`;
}

function deref(t: NType | undefined): NType | undefined {
  let cur = t;
  for (let i = 0; cur && i < 4 && cur.kind === 'ref'; i++) cur = cur.args[0];
  return cur;
}

function stripRefs(e: Expr): Expr {
  let cur = e;
  while (cur.k === 'unary' && (cur.op === '&' || cur.op === '*' || cur.op === '&mut')) cur = cur.expr;
  return cur;
}

/** The parameter or struct field that declares a device expression's type. */
function declarationOf(crate: Crate, fn: FnNode, e: Expr): Location | undefined {
  if (e.k === 'path' && e.segs.length === 1) {
    const p = fn.facts.params.find((x) => x.name === e.segs[0]);
    if (p) return loc(fn, p.span, 'the device parameter is declared here without a bound typestate');
  }
  if (e.k === 'field') {
    const s = crate.structOf(crate.peel(crate.typeOf(e.recv, fn)));
    const f = s?.facts.fields.find((x) => x.name === e.name);
    if (s && f) return { file: s.file.path, span: f.span, message: 'the device is stored here without a bound typestate' };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Check 2: where the allocation is kept

function heldInStatics(crate: Crate, flow: AllocationFlow): RuleFinding[] {
  const out: RuleFinding[] = [];
  for (const st of crate.statics) {
    if (st.facts.kind !== 'static') continue;
    const path = crate.ownedPaths(st.type, (t) => isCoherent(crate, t))[0];
    if (!path) continue;
    const sites = [...flow.storedInStatic(st), ...flow.storedInField(path.steps[path.steps.length - 1])];
    out.push({
      rule: ID,
      message: `coherent DMA memory (${heldWhat(crate, path.found, path.steps, st.type)}) held in static \`${st.name}\`, which outlives every driver binding (No Driver state); a static is never dropped, so the buffer stays allocated after the driver is unbound`,
      primary: { file: st.file.path, span: st.facts.nameSpan },
      related: allocatedHere(sites),
      help: 'keep the buffer in the driver data, allocated in probe() and freed on remove',
      item: `static ${st.name}`,
    });
  }
  return out;
}

function heldInHolders(crate: Crate, flow: AllocationFlow): RuleFinding[] {
  const out: RuleFinding[] = [];
  const holders = holderTypes(crate);
  for (const [s, kind] of holders) {
    const reported = new Set<string>();
    for (const p of crate.ownedPaths(structType(s), (t) => isCoherent(crate, t))) {
      const outer = p.steps[0];
      if (!outer || reported.has(outer.field)) continue;
      // Through another holder (a module owning a work item): reported at that holder's field.
      if (p.steps.slice(1).some((step) => holders.has(step.struct))) continue;
      reported.add(outer.field);
      const sites = [...flow.storedInField(p.steps[p.steps.length - 1]), ...(p.steps.length > 1 ? flow.storedInField(outer) : [])];
      out.push({
        rule: ID,
        message: `coherent DMA memory (${heldWhat(crate, p.found, p.steps.slice(1), outer.type)}) held in field \`${outer.field}\` of ${describeHolder(kind, s.name)}`,
        primary: { file: s.file.path, span: outer.span },
        related: allocatedHere(sites),
        help: kind === 'module'
          ? 'move the buffer into the driver data of a bus driver: allocate it in probe() and let remove free it'
          : 'keep the buffer in the driver data; let the work item, timer or file reach it through the driver data and stop them in unbind()',
        item: `struct ${s.name}`,
      });
    }
  }
  return out;
}

/** Crate structs whose values can outlive the binding, with the kind of context they belong to. */
function holderTypes(crate: Crate): Map<StructNode, UnboundContextKind | undefined> {
  const api = crate.api;
  const out = new Map<StructNode, UnboundContextKind | undefined>();
  const driverTypes = crate.drivers.map((d) => d.dataType.name);
  // Owned by value by the driver data: dropped inside remove, with it.
  const driverOwned = crate.ownedTypeNames(driverTypes, false);
  const add = (t: NType | undefined, kind: UnboundContextKind | undefined) => {
    const s = crate.structOf(crate.peel(t));
    if (s && !driverOwned.has(s.name) && !out.has(s)) out.set(s, kind);
  };
  for (const impl of crate.impls) {
    const traitName = impl.traitName;
    if (!traitName || !api.unboundHolderTraits.has(traitName)) continue;
    const kind = api.unboundTraitKinds.get(traitName);
    add(impl.selfType, kind);
    // `type Ptr = Pin<KBox<State>>`: the value the kernel keeps for the file or work item.
    const scope = { file: impl.file, mod: impl.facts.mod, selfType: impl.selfType };
    for (const a of impl.facts.assocTypes) if (api.holderPointerTypes.has(a.name)) add(crate.normalize(a.type, scope), kind);
  }
  for (const name of crate.moduleTypes) for (const s of crate.structs.get(name) ?? []) add(structType(s), 'module');
  return out;
}

function structType(s: StructNode): NType {
  return { kind: 'path', name: s.name, path: [...s.modPath, s.name], args: [], local: s, text: s.name };
}

/** The holder, the state it lives in, and what dropping the buffer then means. */
function describeHolder(kind: UnboundContextKind | undefined, name: string): string {
  const freed = 'dropping it frees DMA memory after unbind, when the DMA API may no longer be used';
  switch (kind) {
    case 'module':
      return `the module type \`${name}\`, which lives from module load to unload, with no driver bound (No Driver state); the buffer is freed when the module unloads, after every driver is gone`;
    case 'work':
      return `work item \`${name}\`, which can still be queued, run and dropped after the driver is unbound (Zombie state); ${freed}`;
    case 'timer':
      return `timer \`${name}\`, which can fire and be dropped after the driver is unbound (Zombie state); ${freed}`;
    case 'file':
      return `\`${name}\`, the private data of a misc device or file, which an open file keeps after the driver is unbound (No Driver or Zombie state); ${freed}`;
    default:
      return `\`${name}\`, which can outlive the driver binding (No Driver or Zombie state); ${freed}`;
  }
}

/**
 * `` `Coherent<[u64]>` in `Rings::tx`, shared through an `Arc` `` for a found buffer, the steps
 * below the holder and the type of the holding field or static.
 */
function heldWhat(crate: Crate, found: NType, steps: OwnershipStep[], holding: NType): string {
  const inner = steps[steps.length - 1];
  const where = inner ? ` in \`${inner.struct.name}::${inner.field}\`` : '';
  const shared = steps.some((s) => s.shared) || sharesOwnership(crate, holding) ? ', shared through an `Arc`' : '';
  return `\`${renderType(found)}\`${where}${shared}`;
}

/** Whether a type wraps its value in shared ownership (`Arc<..>`, `Option<Arc<..>>`) before any crate type. */
function sharesOwnership(crate: Crate, t: NType, depth = 0): boolean {
  if (depth > 8 || t.local || t.kind === 'ref' || t.kind === 'ptr') return false;
  if (t.kind === 'path' && crate.api.sharedOwnership.has(t.name)) return true;
  return t.args.some((a) => sharesOwnership(crate, a, depth + 1));
}

/** A type by its canonical names, so renamed imports and aliases show what they stand for. */
function renderType(t: NType): string {
  switch (t.kind) {
    case 'path':
      return t.args.length > 0 ? `${t.name}<${t.args.map(renderType).join(', ')}>` : t.name || t.text;
    case 'ref':
      return t.args[0] ? `&${renderType(t.args[0])}` : t.text;
    case 'slice':
      return t.args[0] ? `[${renderType(t.args[0])}]` : t.text;
    default:
      return t.text;
  }
}

function isCoherent(crate: Crate, t: NType): boolean {
  return t.kind === 'path' && crate.api.coherentTypes.has(t.name) && kernelPredicates(crate).isCoherentOwner(t);
}

function allocatedHere(sites: AllocationSite[]): Location[] {
  const seen = new Set<AllocationSite>();
  const out: Location[] = [];
  for (const s of sites) {
    if (seen.has(s) || out.length >= 3) continue;
    seen.add(s);
    out.push(loc(s.fn, s.call.span, `the buffer is allocated here, in \`${s.fn.label}\``));
  }
  return out;
}

function loc(fn: FnNode, span: Span, message?: string): Location {
  return { file: fn.file.path, span, message };
}

// ---------------------------------------------------------------------------------------------
// Where a held buffer comes from: values followed through the IR

/**
 * Finds the allocation sites whose value can end up in an expression, following `let`
 * bindings in the same function and the bodies of crate functions called (a few levels deep).
 */
class AllocationFlow {
  private readonly byCall = new Map<Expr, AllocationSite>();
  private readonly byFn = new Map<FnNode, AllocationSite[]>();
  private literals?: Map<StructNode, { fn: FnNode; literal: Extract<Expr, { k: 'struct' }> }[]>;

  constructor(
    private readonly crate: Crate,
    sites: AllocationSite[],
  ) {
    for (const s of sites) {
      this.byCall.set(s.call, s);
      const list = this.byFn.get(s.fn);
      if (list) list.push(s);
      else this.byFn.set(s.fn, [s]);
    }
  }

  /** Sites stored into a static: assignments to it and arguments of methods called on it. */
  storedInStatic(st: StaticNode): AllocationSite[] {
    const out: AllocationSite[] = [];
    for (const fn of this.crate.fns) {
      if (!fn.facts.body) continue;
      walkExpr(fn.facts.body, (e) => {
        if (e.k === 'assign' && mentionsStatic(e.target, st)) out.push(...this.into(fn, e.value));
        else if (e.k === 'method' && e.args.length > 0 && mentionsStatic(e.recv, st)) for (const a of e.args) out.push(...this.into(fn, a));
      });
    }
    return out;
  }

  /** Sites that initialize a struct field in struct literals (also inside pin-init macros). */
  storedInField(step: OwnershipStep | undefined): AllocationSite[] {
    if (!step) return [];
    const out: AllocationSite[] = [];
    for (const { fn, literal } of this.literalsOf(step.struct)) {
      const init = literal.fields.find((f) => f.name === step.field);
      if (init) out.push(...this.into(fn, init.value));
    }
    return out;
  }

  /** The struct literals of each crate struct, found in one walk of the crate (not one per field asked). */
  private literalsOf(s: StructNode): { fn: FnNode; literal: Extract<Expr, { k: 'struct' }> }[] {
    if (!this.literals) {
      const byStruct = new Map<StructNode, { fn: FnNode; literal: Extract<Expr, { k: 'struct' }> }[]>();
      for (const fn of this.crate.fns) {
        if (!fn.facts.body) continue;
        walkExpr(fn.facts.body, (e) => {
          if (e.k !== 'struct') return;
          const target = this.literalStruct(fn, e.path);
          if (!target) return;
          const list = byStruct.get(target);
          if (list) list.push({ fn, literal: e });
          else byStruct.set(target, [{ fn, literal: e }]);
        });
      }
      this.literals = byStruct;
    }
    return this.literals.get(s) ?? [];
  }

  private literalStruct(fn: FnNode, path: string[]): StructNode | undefined {
    const t = path.length === 1 && path[0] === 'Self' ? fn.scope.selfType : this.crate.normalize({ kind: 'path', path, text: path.join('::') }, fn.scope);
    return this.crate.structOf(t);
  }

  private into(fn: FnNode, e: Expr, depth = 0, seen = new Set<unknown>()): AllocationSite[] {
    if (depth > 4) return [];
    const out: AllocationSite[] = [];
    walkExpr(e, (x) => {
      const site = this.byCall.get(x);
      if (site) {
        out.push(site);
        return false;
      }
      if (x.k === 'path' && x.segs.length === 1) {
        // The binding this use names (Rust's scopes and shadowing), and the value it is bound from.
        const binding = bodyBindings(fn.facts).resolved.get(x);
        if (!binding?.origin || seen.has(binding)) return;
        seen.add(binding);
        out.push(...this.into(fn, binding.origin, depth + 1, seen));
      } else if (x.k === 'call' || x.k === 'method') {
        const targets = x.k === 'call' ? this.crate.resolveCall(x, fn) : this.crate.resolveMethod(x, fn);
        for (const t of targets) out.push(...this.madeIn(t, depth + 1, seen));
      }
    });
    return out;
  }

  /** Sites in a function's body and in the crate functions it calls. */
  private madeIn(fn: FnNode, depth: number, seen: Set<unknown>): AllocationSite[] {
    const key = `fn:${fn.id}`;
    if (depth > 4 || seen.has(key)) return [];
    seen.add(key);
    const out = [...(this.byFn.get(fn) ?? [])];
    for (const edge of this.crate.callees(fn)) out.push(...this.madeIn(edge.to, depth + 1, seen));
    return out;
  }

}

function mentionsStatic(e: Expr, st: StaticNode): boolean {
  let found = false;
  walkExpr(e, (x) => {
    if (x.k === 'path' && x.segs[x.segs.length - 1] === st.name) found = true;
    return !found;
  });
  return found;
}
