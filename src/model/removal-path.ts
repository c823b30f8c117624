// The removal path as the kernel runs it when a driver is unbound: `unbind()` with the device
// still bound, then the driver data is dropped (its `Drop`/`PinnedDrop`, then its fields in
// declaration order, each owner's `Drop` before its own fields), and last the device-managed
// (`Devres`) resources are released.
import type { Crate, DriverNode, FnNode, NType, OwnershipStep, StructNode } from './crate.js';

export interface RemovalStep {
  fn: FnNode;
  kind: 'unbind' | 'drop';
  owner?: StructNode;
  /** The owner is reached through shared ownership (`Arc`): its Drop can run after unbind. */
  shared: boolean;
  /** The ownership step that made it shared, for the report. */
  sharedAt?: OwnershipStep;
}


/**
 * The removal functions that run before the buffer at the end of `steps` is freed, in order:
 * `unbind()`, then for each struct on the path its `Drop` followed by the `Drop` impls of the
 * fields declared before the one that leads to the buffer.
 */
export function removalSteps(crate: Crate, driver: DriverNode, steps: OwnershipStep[]): RemovalStep[] {
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
    const owner = ownerTypeAt(driver, steps, i);
    for (const f of step.struct.facts.fields) {
      if (f.name === step.field) break;
      const ft = crate.fieldTypeIn(owner, step.struct, f.name);
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

export function dropsOf(crate: Crate, s: StructNode): FnNode[] {
  return crate.dropFns(s.name).filter((f) => !f.impl || !f.impl.selfType.local || f.impl.selfType.local === s);
}

/**
 * Crate structs a value of type `t` owns outright, in drop order (a struct before its fields):
 * through generic crate types (`Engine<MmioRegs>` owns a `MmioRegs`) and trait objects (a
 * `KBox<dyn Hal>` owns whichever crate type implements `Hal`).
 */
export function ownedStructs(crate: Crate, t: NType, depth = 0, seen = new Set<StructNode>()): StructNode[] {
  if (depth > 8 || t.kind === 'ref' || t.kind === 'ptr') return [];
  if (t.kind === 'path' && (crate.api.nonOwningWrappers.has(t.name) || crate.api.sharedOwnership.has(t.name))) return [];
  const s = crate.structOf(t);
  if (s) {
    if (seen.has(s)) return [];
    seen.add(s);
    const fields = s.facts.fields.flatMap((f) => {
      const ft = crate.fieldTypeIn(t, s, f.name);
      return ft ? ownedStructs(crate, ft, depth + 1, seen) : [];
    });
    return [s, ...fields];
  }
  if (t.kind === 'dyn' || t.kind === 'impl') return crate.implementorsOf(t).flatMap((impl) => ownedStructs(crate, structType(impl), depth + 1, seen));
  return t.args.flatMap((a) => ownedStructs(crate, a, depth + 1, seen));
}

function structType(s: StructNode): NType {
  return { kind: 'path', name: s.name, path: [...s.modPath, s.name], args: [], local: s, text: s.name };
}

/** The type of the value that holds step `i`'s field: the driver data, or the local struct inside the previous field's type. */
function ownerTypeAt(driver: DriverNode, steps: OwnershipStep[], i: number): NType {
  const step = steps[i];
  if (i === 0) return driver.dataType;
  const find = (t: NType, depth: number): NType | undefined => {
    if (t.local === step.struct) return t;
    if (depth > 8) return undefined;
    for (const a of t.args) {
      const hit = find(a, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  };
  return find(steps[i - 1].type, 0) ?? structType(step.struct);
}
