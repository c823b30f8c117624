// dma_free_without_quiesce: DMA buffers freed on remove while the device may still use them.
import type { Expr } from '../src/facts/ir.js';
import type { DmaRule, RuleContext } from '../src/lint/context.js';
import type { Location, RuleFinding } from '../src/lint/types.js';
import type { Crate, FnNode, NType } from '../src/model/crate.js';
import { isQuiesceName } from '../src/model/kernel-api.js';
import { fieldChain, walkExpr } from '../src/model/walk.js';

export const rule: DmaRule = {
  meta: {
    id: 'dma_free_without_quiesce',
    defaultLevel: 'deny',
    summary: 'DMA buffer freed on remove while the hardware may still use it',
    whatItDoes:
      'For each bus driver, finds the DMA buffers its driver data owns (directly, in `Devres`, or inside crate types) whose bus address is handed to the device, and checks that the removal path (`unbind()`, then `Drop`/`PinnedDrop` of the driver data and of the types on the way to the buffer) stops the device before the buffer is released.',
    whyBad:
      'A device that was given a DMA address keeps reading and writing it until the driver tells it to stop. On remove, the kernel calls `unbind()`, drops the driver data, then releases Devres resources; dropping a coherent allocation frees the memory. If nothing stopped the device first, it writes into freed memory: a use-after-free done by hardware, invisible to the compiler and to KASAN.',
    badExamples: [
      {
        title: 'ring address programmed, never stopped',
        code: `struct Nic { ring: CoherentAllocation<u64>, bar: Devres<pci::Bar<0x1000>> }
impl pci::Driver for Nic {
    fn probe(pdev: &pci::Device<Core>, _: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        // ... bar.write64(ring.dma_handle(), RING_BASE) ...
    }
    // no unbind(), no Drop: the engine still runs when ring is freed
}`,
      },
    ],
    goodExamples: [
      {
        title: 'stop the engine in unbind()',
        code: `fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
    if let Ok(bar) = this.bar.access(pdev.as_ref()) {
        bar.write32(0, ENGINE_CTRL); // stop DMA
        bar.write64(0, RING_BASE);   // forget the address
    }
}`,
      },
    ],
    howToFix:
      'Stop the device in `unbind()`: disable the DMA engine, clear the address registers, or reset the function, through the MMIO handle accessed with the bound device. Only then let the buffer be dropped. Do not release a buffer (`take()`, `drop()`, assigning `None`) before that write.',
    limits:
      'A quiesce is recognised by an MMIO write or by the name of the function called (stop, halt, quiesce, reset, disable, shutdown, unregister, teardown, clear_master, free_irq, and names from `quiesce-functions` in dmalint.toml). That a write really stops the device is not checked.',
    tags: ['dma', 'lifecycle', 'use-after-free'],
    links: [{ title: 'Dynamic DMA mapping guide', url: 'https://docs.kernel.org/core-api/dma-api-howto.html' }],
  },
  check,
};

export default rule;

function check({ crate, api }: RuleContext): RuleFinding[] {
  const out: RuleFinding[] = [];
  const isBuffer = (t: NType) => !t.local && api.dmaBufferTypes.has(t.name);
  for (const driver of crate.drivers) {
    const reported = new Set<string>();
    for (const path of crate.ownedPaths(driver.dataType, isBuffer)) {
      const outer = path.steps[0];
      const inner = path.steps[path.steps.length - 1];
      if (!outer || !inner || reported.has(outer.field)) continue;
      const exposures = addressExposures(crate, inner.field);
      if (exposures.length === 0) continue;
      const removal = [driver.unbind, ...crate.dropFns(driver.dataType.name), ...path.steps.slice(1).flatMap((s) => crate.dropFns(s.struct.name))].filter((f): f is FnNode => !!f);
      if (removal.some((f) => reachesQuiesce(crate, f, 0, new Set()))) continue;
      reported.add(outer.field);
      const related: Location[] = exposures.slice(0, 2).map((x) => ({ file: x.fn.file.path, span: x.site.span, message: 'the DMA address is given to the device here' }));
      if (removal.length === 0) related.push({ file: driver.impl.file.path, span: driver.impl.facts.headerSpan, message: `no unbind() and no Drop for \`${driver.dataType.name}\`` });
      for (const f of removal) related.push({ file: f.file.path, span: f.facts.nameSpan, message: 'checked: does not stop the device' });
      out.push({
        rule: 'dma_free_without_quiesce',
        message: `DMA buffer \`${inner.field}\` is freed on remove, but the device is never stopped before it`,
        primary: { file: outer.struct.file.path, span: outer.span },
        related,
        help: 'stop the device in unbind() (disable DMA, clear the address register or reset) before the buffer is dropped',
        item: `struct ${outer.struct.name}`,
      });
    }
  }
  return out;
}

interface Exposure {
  fn: FnNode;
  site: Expr;
}

function addressExposures(crate: Crate, field: string): Exposure[] {
  const out: Exposure[] = [];
  for (const fn of crate.fns) {
    if (!fn.facts.body) continue;
    walkExpr(fn.facts.body, (e, parents) => {
      if (e.k !== 'method' || !crate.api.dmaAddressMethods.has(e.name)) return;
      if (parents.some((p) => p.k === 'macro' && crate.api.logMacros.has(p.name))) return;
      const chain = fieldChain(e.recv);
      const t = crate.peel(crate.typeOf(e.recv, fn));
      if ((chain && chain.includes(field)) || (chain?.length === 1 && t && crate.api.dmaBufferTypes.has(t.name))) out.push({ fn, site: e });
    });
  }
  return out;
}

function reachesQuiesce(crate: Crate, fn: FnNode, depth: number, seen: Set<FnNode>): boolean {
  if (depth > 6 || seen.has(fn) || !fn.facts.body) return false;
  seen.add(fn);
  if (isQuiesceName(crate.api, fn.name) && depth > 0) return true;
  let found = false;
  walkExpr(fn.facts.body, (e) => {
    if (found) return false;
    if (e.k === 'method' && (crate.api.mmioWriteMethods.has(e.name) || isQuiesceName(crate.api, e.name))) found = true;
    if (e.k === 'call' && e.callee.k === 'path' && isQuiesceName(crate.api, e.callee.segs[e.callee.segs.length - 1])) found = true;
  });
  if (found) return true;
  return crate.callees(fn).some((edge) => reachesQuiesce(crate, edge.to, depth + 1, seen));
}
