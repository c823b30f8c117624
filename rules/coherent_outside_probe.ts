// coherent_outside_probe: coherent DMA memory allocated, or kept, where no driver is bound.
import type { Expr, Span } from '../src/facts/ir.js';
import type { DmaRule, RuleContext } from '../src/lint/context.js';
import type { Location, RuleFinding } from '../src/lint/types.js';
import type { Crate, FnNode, NType } from '../src/model/crate.js';
import { walkExpr } from '../src/model/walk.js';

export const rule: DmaRule = {
  meta: {
    id: 'coherent_outside_probe',
    defaultLevel: 'deny',
    summary: 'coherent DMA memory allocated or held outside a probed-driver scope',
    whatItDoes:
      'Finds coherent DMA allocations (`CoherentAllocation`, `Coherent`, `CoherentBox`, `CoherentHandle`) made in code that can run while no driver is bound to the device: module `init`, work items, timers, misc-device and file operations, kernel threads, or a function whose device argument is only a reference-counted `ARef<Device>` or a plain `&Device`. It also finds such memory kept where it outlives the binding: a `static`, the module type, a work item, timer or misc-device type.',
    whyBad:
      'A device is in one of three states: *No Driver* (before probe, after remove), *Driver Attached* (from the start of `probe()` to the end of `remove()`), and *Zombie* (unbound, but something still holds a reference). The DMA API may only be used while a driver is attached. Holding an `ARef<Device>` keeps the `struct device` alive, not the binding: after unbind the IOMMU domain and DMA configuration can be torn down, so allocating or freeing coherent memory then is a use of a dead device. Memory kept in a static or in the module outlives every binding and is freed in the No Driver state.',
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
        title: 'allocation held by the module (2026 API)',
        code: `struct RingModule {
    ring: Coherent<[u64]>,
}
impl kernel::Module for RingModule { /* ... */ }`,
      },
    ],
    goodExamples: [
      {
        title: 'allocate in probe, keep in the driver data',
        code: `impl pci::Driver for Nic {
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = Coherent::<[u64]>::zeroed_slice(pdev.as_ref(), 64, GFP_KERNEL)?;
        KBox::pin_init(try_pin_init!(Nic { ring }), GFP_KERNEL)
    }
}`,
      },
    ],
    howToFix:
      'Allocate in `probe()` (or in a helper that takes `&Device<Bound>`), keep the buffer in the driver data, and let remove free it after the device is stopped. Work items and timers should use buffers owned by the driver data and must be cancelled in `unbind()`.',
    limits:
      'Device states are inferred from the crate\'s own call graph. A function that nothing in the crate calls, and whose device argument has no typestate, is not reported. Calls through function pointers and trait objects are not followed. Holding through an `Arc` that is cloned out of the driver data is reported only when the clone lands in a type dmalint knows can outlive the binding.',
    tags: ['dma', 'lifecycle', 'correctness'],
    links: [{ title: 'Device driver lifecycle and the DMA API', url: 'https://docs.kernel.org/driver-api/driver-model/binding.html' }],
  },
  check,
};

export default rule;

interface AllocationSite {
  fn: FnNode;
  call: Extract<Expr, { k: 'call' }>;
  type: string;
  ctor: string;
}

function check({ crate, api }: RuleContext): RuleFinding[] {
  const findings: RuleFinding[] = [];
  // The kernel's own abstraction code defines these types; its allocations are not a driver's.
  const definesApi = [...api.coherentTypes].some((t) => crate.structs.has(t));
  const sites = definesApi ? [] : allocationSites(crate);
  for (const site of sites) {
    const finding = checkAllocation(crate, site);
    if (finding) findings.push(finding);
  }
  if (!definesApi) findings.push(...heldOutsideBinding(crate, sites));
  return findings;
}

function allocationSites(crate: Crate): AllocationSite[] {
  const out: AllocationSite[] = [];
  const api = crate.api;
  for (const fn of crate.fns) {
    if (!fn.facts.body) continue;
    walkExpr(fn.facts.body, (e) => {
      if (e.k !== 'call' || e.callee.k !== 'path' || e.callee.segs.length < 2) return;
      const segs = e.callee.segs;
      const ctor = segs[segs.length - 1];
      const owner = crate.normalize({ kind: 'path', path: segs.slice(0, -1), text: segs.slice(0, -1).join('::') }, fn.scope);
      if (owner.local) return;
      if (api.allocationConstructors.get(owner.name)?.has(ctor)) out.push({ fn, call: e, type: owner.name, ctor });
    });
  }
  return out;
}

function loc(fn: FnNode, span: Span, message?: string): Location {
  return { file: fn.file.path, span, message };
}

function checkAllocation(crate: Crate, site: AllocationSite): RuleFinding | undefined {
  const { fn, call } = site;
  const life = crate.lifecycle(fn);
  const what = `coherent DMA allocation \`${site.type}::${site.ctor}\``;
  if (life.state === 'unbound' && life.root) {
    const where = life.root === fn ? `in ${life.why}` : `in \`${fn.label}\`, reachable from ${life.why}`;
    const related: Location[] = [];
    if (life.root !== fn) related.push(loc(life.root, life.root.facts.nameSpan, `\`${life.root.label}\` can run with no driver bound`));
    for (let i = 1; i < life.chain.length - 1 && related.length < 4; i++) {
      const step = life.chain[i];
      related.push(loc(step, step.facts.nameSpan, `called on the way, through \`${step.label}\``));
    }
    return {
      rule: 'coherent_outside_probe',
      message: `${what} ${where}`,
      primary: loc(fn, call.span),
      related,
      help: 'allocate in probe() and keep the buffer in the driver data; stop users of it in unbind()',
      item: fn.label,
    };
  }
  if (life.state === 'bound') return undefined;
  // Unknown context: decide by the device argument's type.
  const dev = call.args[0];
  if (!dev) return undefined;
  const devType = crate.typeOf(dev, fn);
  const reason = unprovenDevice(crate, devType);
  if (!reason) return undefined;
  return {
    rule: 'coherent_outside_probe',
    message: `${what} with a device that is not proven bound: ${reason}`,
    primary: loc(fn, call.span),
    related: [],
    notes: ['a reference count keeps the `struct device` alive, not the binding of a driver to it'],
    help: 'take `&Device<Bound>` (or the bus device in its `Core` state) so only bound code can call this, or allocate in probe()',
    item: fn.label,
  };
}

/** Why a device argument's type does not prove binding, or undefined when it does or is unknown. */
function unprovenDevice(crate: Crate, t: NType | undefined): string | undefined {
  if (!t) return undefined;
  if (crate.provesBound(t)) return undefined;
  let cur: NType | undefined = t;
  for (let i = 0; cur && i < 4 && cur.kind === 'ref'; i++) cur = cur.args[0];
  if (!cur) return undefined;
  if (cur.name === 'ARef' && cur.args[0]?.name === 'Device') return '`ARef<Device>` is only a reference count';
  if (cur.name === 'Device' && (cur.args.length === 0 || cur.args[0].name === 'Normal')) return `\`${t.text}\` carries no typestate`;
  return undefined;
}

/** Coherent memory kept in statics and in types that outlive the binding. */
function heldOutsideBinding(crate: Crate, sites: AllocationSite[]): RuleFinding[] {
  const api = crate.api;
  const out: RuleFinding[] = [];
  const isCoherent = (t: NType) => !t.local && api.coherentTypes.has(t.name);
  for (const st of crate.statics) {
    const paths = crate.ownedPaths(st.type, isCoherent);
    if (paths.length === 0) continue;
    out.push({
      rule: 'coherent_outside_probe',
      message: `coherent DMA memory (\`${paths[0].found.text}\`) held in static \`${st.name}\`, which outlives every driver binding`,
      primary: { file: st.file.path, span: st.facts.nameSpan },
      related: relatedAllocations(sites, st.name),
      help: 'keep the buffer in the driver data, allocated in probe() and freed on remove',
      item: `static ${st.name}`,
    });
  }
  const holders = crate.unboundHolderTypes();
  for (const name of holders) {
    for (const s of crate.structs.get(name) ?? []) {
      const t: NType = { kind: 'path', name: s.name, path: [...s.modPath, s.name], args: [], local: s, text: s.name };
      const seen = new Set<string>();
      for (const p of crate.ownedPaths(t, isCoherent)) {
        const outer = p.steps[0];
        if (!outer || seen.has(outer.field)) continue;
        seen.add(outer.field);
        const kind = crate.moduleTypes.has(name) ? 'the module type' : `\`${name}\`, which can outlive the driver binding`;
        out.push({
          rule: 'coherent_outside_probe',
          message: `coherent DMA memory (\`${p.found.text}\`) held in field \`${outer.field}\` of ${kind}`,
          primary: { file: s.file.path, span: outer.span },
          related: relatedAllocations(sites, undefined, name),
          help: 'keep the buffer in the driver data; a work item or timer should borrow it and be cancelled in unbind()',
          item: `struct ${name}`,
        });
      }
    }
  }
  return out;
}

function relatedAllocations(sites: AllocationSite[], staticName?: string, holder?: string): Location[] {
  const out: Location[] = [];
  for (const site of sites) {
    const mentions = staticName
      ? JSON.stringify(site.fn.facts.body ?? {}).includes(`"segs":["${staticName}"`)
      : site.fn.impl?.selfType.name === holder;
    if (mentions) out.push({ file: site.fn.file.path, span: site.call.span, message: 'allocated here' });
    if (out.length >= 3) break;
  }
  return out;
}
