// revocable_dma_addr: a Revocable/Devres guard used to "protect" a DMA address.
import type { DmaRule, RuleContext } from '../src/lint/context.js';
import type { RuleFinding } from '../src/lint/types.js';
import type { Crate, NType } from '../src/model/crate.js';
import { walkExpr } from '../src/model/walk.js';

export const rule: DmaRule = {
  meta: {
    id: 'revocable_dma_addr',
    defaultLevel: 'deny',
    summary: 'a revocable guard (Revocable/Devres) used to protect a DMA address that outlives it',
    whatItDoes:
      'Finds `Revocable<T>` and `Devres<T>` whose `T` is a DMA address (`DmaAddress`, `dma_addr_t`) or holds one, and DMA addresses taken out of a revocable guard that outlive the guard.',
    whyBad:
      'A revocable guard is an RCU read-side critical section around CPU code. Revoking waits for the CPU readers, not for the device. A DMA address given to the hardware lives on in its registers and descriptors after the guard ends, so revocation protects nothing about it: the memory behind the address can be freed while the device still uses it.',
    badExamples: [
      {
        title: 'the address behind a revocable wrapper',
        code: `struct Queue {
    ring_addr: Devres<DmaAddress>,
}`,
      },
    ],
    goodExamples: [
      {
        title: 'own the buffer, fence the hardware in unbind()',
        code: `struct Queue {
    ring: CoherentAllocation<u64>,        // owned by the driver data
    bar: Devres<pci::Bar<0x1000>>,         // MMIO is what is revocable
}
// unbind(): bar.write64(0, RING_BASE) before the ring is dropped`,
      },
    ],
    howToFix:
      'Let the driver data own the DMA memory outright, hand its address to the device while bound, and stop the device in `unbind()` before the memory is dropped. Keep `Devres` for MMIO and other resources that the CPU uses.',
    limits: 'Flows are followed inside one function; an address passed to another function is followed only through its return value.',
    tags: ['dma', 'devres', 'correctness'],
    links: [{ title: 'Rust devres and revocable', url: 'https://rust.docs.kernel.org/kernel/devres/struct.Devres.html' }],
  },
  check,
};

export default rule;

function check({ crate, api }: RuleContext): RuleFinding[] {
  const out: RuleFinding[] = [];
  const isAddress = (t: NType) => !t.local && api.dmaAddressTypes.has(t.name);
  const revocableOfAddress = (t: NType): NType | undefined => {
    const hits = crate.ownedPaths(t, (x) => !x.local && api.revocableTypes.has(x.name) && !!x.args[0] && crate.ownedPaths(x.args[0], isAddress).length > 0);
    return hits[0]?.found;
  };
  for (const [, structs] of crate.structs) {
    for (const s of structs) {
      for (const f of s.facts.fields) {
        const t = crate.fieldType(s, f.name);
        const hit = t && firstLevelRevocable(crate, t, revocableOfAddress);
        if (hit) {
          out.push({
            rule: 'revocable_dma_addr',
            message: `DMA address kept behind a revocable guard (\`${hit.text}\`): the device keeps using it after revocation, so the guard cannot make this safe`,
            primary: { file: s.file.path, span: f.span },
            related: [],
            help: 'own the DMA buffer in the driver data and stop the device in unbind(); keep Devres for MMIO',
            item: `struct ${s.name}`,
          });
        }
      }
    }
  }
  for (const fn of crate.fns) {
    if (!fn.facts.body) continue;
    walkExpr(fn.facts.body, (e) => {
      if (e.k !== 'method' || !api.revocableAccess.closure.has(e.name)) return;
      const recv = crate.typeOf(e.recv, fn);
      const inner = recv && crate.peel(recv);
      if (!inner || !crate.ownedPaths(inner, (x) => !x.local && api.dmaBufferTypes.has(x.name)).length) return;
      for (const arg of e.args) {
        if (arg.k !== 'closure') continue;
        const tail = tailExpr(arg.body);
        if (tail && tail.k === 'method' && api.dmaAddressMethods.has(tail.name)) {
          out.push({
            rule: 'revocable_dma_addr',
            message: 'DMA address taken out of a revocable guard: the device keeps using it after the guard ends, so revocation cannot make this safe',
            primary: { file: fn.file.path, span: tail.span },
            related: [{ file: fn.file.path, span: e.nameSpan, message: 'the guard ends when this closure returns' }],
            help: 'own the buffer in the driver data and stop the device in unbind()',
            item: fn.label,
          });
        }
      }
    });
  }
  return out;
}

function firstLevelRevocable(crate: Crate, t: NType, pick: (t: NType) => NType | undefined): NType | undefined {
  // Only wrappers written in this field's own type: a crate struct holding one is reported at its own field.
  if (t.local) return undefined;
  if (!t.local && crate.api.revocableTypes.has(t.name)) return pick(t);
  for (const a of t.args) {
    const hit = firstLevelRevocable(crate, a, pick);
    if (hit) return hit;
  }
  return undefined;
}

function tailExpr(e: import('../src/facts/ir.js').Expr): import('../src/facts/ir.js').Expr | undefined {
  if (e.k !== 'block') return e;
  const last = e.stmts[e.stmts.length - 1];
  return last && last.k === 'expr' && !last.semi ? tailExpr(last.expr) : undefined;
}
