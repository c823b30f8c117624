// Each "is this X" about the kernel API, asked once here and by every rule: is this type a DMA
// buffer, an address, an MMIO handle; is this call a register write and to which register;
// does this call stop the whole function. Names come from the KernelApi tables.
import type { Expr } from '../facts/ir.js';
import { bodyBindings } from './bindings.js';
import type { Crate, FnNode, NType } from './crate.js';
import { defaultApi } from './kernel-api.js';
import { calleeName } from './walk.js';

/** A write that reaches the device's registers. */
export interface RegisterWrite {
  expr: Extract<Expr, { k: 'method' | 'call' }>;
  /**
   * The register, as the code names it: the offset constant of `write32(v, CTRL)`, the generated
   * register type of `regs::Ctrl::default().set_run(false).write(bar)` or `Ctrl::alter(bar, ..)`.
   * Undefined when the offset is computed and has no name.
   */
  register?: string;
  /**
   * The statement that writes zero to the same register, when the write names it plainly:
   * `io.write64(0, RING_BASE)`, `regs::RingBase::default().write(bar)` (`HANDLE` stands for the
   * MMIO handle). Undefined for computed offsets.
   */
  clear?: string;
}

/** Calls that stop every DMA of the function, whatever engine holds an address. */
const FUNCTION_STOP_NAMES = new Set([
  'clear_master', 'pci_clear_master', 'disable_device', 'pci_disable_device', 'reset_function', 'pci_reset_function',
  'pcie_flr', 'flr', 'function_reset', 'reset_bus', 'pci_reset_bus',
]);

/**
 * Types that hold no DMA engine: stopping, disabling or resetting one of them (gating a clock,
 * switching a regulator off, releasing an interrupt, clearing a counter or a flag) stops no DMA.
 */
const NO_DMA_TYPES = new Set([
  'Clk', 'OptionalClk', 'Regulator', 'EnabledRegulator', 'IrqRequest', 'Registration', 'ThreadedRegistration',
  'AtomicBool', 'AtomicU8', 'AtomicU16', 'AtomicU32', 'AtomicU64', 'AtomicUsize', 'AtomicI32', 'AtomicI64', 'Atomic',
  'bool', 'u8', 'u16', 'u32', 'u64', 'usize', 'i32', 'i64', 'Cell', 'Completion', 'CondVar', 'Timer', 'HrTimer', 'Work', 'DelayedWork',
]);

/** The kernel's own coherent types, before a config adds the crate's. */
const KERNEL_COHERENT = defaultApi().coherentTypes;

const cache = new WeakMap<Crate, KernelPredicates>();

/** The predicates of one crate (they type expressions with its model). */
export function kernelPredicates(crate: Crate): KernelPredicates {
  let p = cache.get(crate);
  if (!p) cache.set(crate, (p = new KernelPredicates(crate)));
  return p;
}

export class KernelPredicates {
  private readonly api;

  constructor(readonly crate: Crate) {
    this.api = crate.api;
  }

  isMmioType(t: NType | undefined): boolean {
    return !!t && !t.local && this.api.mmioTypes.has(t.name);
  }

  /** An MMIO handle, or a crate type that wraps one (a register-block newtype), seen through references and guards. */
  isMmio(t: NType | undefined): boolean {
    const inner = this.crate.peel(t);
    if (!inner) return false;
    if (!inner.local) return this.isMmioType(inner);
    return inner.local.kind === 'struct' && this.crate.ownedPaths(inner, (x) => this.isMmioType(x), 2).length > 0;
  }

  isDmaBuffer(t: NType | undefined): boolean {
    return !!t && !t.local && this.api.dmaBufferTypes.has(t.name);
  }

  isDmaAddressType(t: NType | undefined): boolean {
    return !!t && !t.local && this.api.dmaAddressTypes.has(t.name);
  }

  isRevocable(t: NType | undefined): boolean {
    return !!t && !t.local && this.api.revocableTypes.has(t.name);
  }

  /** A log macro or one that only turns its tokens into text (`stringify!`): values in it go nowhere. */
  isTextMacro(e: Expr): boolean {
    return e.k === 'macro' && (this.api.logMacros.has(e.name) || this.api.inertMacros.has(e.name));
  }

  /** `Type::ctor` when a call is a coherent allocation constructor of the kernel (or configured). */
  coherentAllocation(fn: FnNode, call: Expr): string | undefined {
    if (call.k !== 'call' || call.callee.k !== 'path' || call.callee.segs.length < 2) return undefined;
    const segs = call.callee.segs;
    const name = segs[segs.length - 1];
    const ownerSegs = segs.slice(0, -1);
    const owner = ownerSegs.length === 1 && ownerSegs[0] === 'Self' ? fn.scope.selfType : this.crate.normalize({ kind: 'path', path: ownerSegs, text: ownerSegs.join('::') }, fn.scope);
    if (!owner || !this.isCoherentOwner(owner)) return undefined;
    return this.api.allocationConstructors.get(owner.name)?.has(name) ? `${owner.name}::${name}` : undefined;
  }

  /**
   * A crate type named like a kernel coherent type is a look-alike (or the kernel's abstraction
   * itself, where these types are local); a type from another crate than the kernel is not one
   * either. A crate type given in `allocation-constructors` is the crate's own DMA owner.
   */
  isCoherentOwner(t: NType): boolean {
    if (t.local) return !KERNEL_COHERENT.has(t.name);
    return t.path.length <= 1 || ['kernel', 'crate', 'super', 'self'].includes(t.path[0]);
  }

  /** A type whose methods touch no DMA engine (a clock, a regulator, an IRQ registration, a counter). */
  isNoDmaType(t: NType | undefined): boolean {
    const inner = this.crate.peel(t);
    return !!inner && !inner.local && NO_DMA_TYPES.has(inner.name);
  }

  /**
   * `typeOf`, or for a local it cannot type, the type of the value the local is bound from
   * (`|r| ..` handed to `self.bar.try_access().map(..)` is the BAR).
   */
  valueType(fn: FnNode, e: Expr, depth = 0): NType | undefined {
    const t = this.crate.typeOf(e, fn);
    if (t || depth > 3) return t;
    let inner = e;
    while (inner.k === 'unary' || inner.k === 'try') inner = inner.expr;
    if (inner.k !== 'path' || inner.segs.length !== 1) return undefined;
    const origin = bodyBindings(fn.facts).resolved.get(inner)?.origin;
    return origin ? this.valueType(fn, origin, depth + 1) : undefined;
  }

  /** Whether the receiver or an argument of a call is an MMIO handle. */
  private touchesMmio(fn: FnNode, e: Extract<Expr, { k: 'method' | 'call' }>): boolean {
    const operands = e.k === 'method' ? [e.recv, ...e.args] : e.args;
    return operands.some((x) => this.isMmio(this.valueType(fn, x)));
  }

  /**
   * The register write `e` is, if it is one: a distinctive MMIO method (`write32`, `try_write64`,
   * `write_reg`), or a shared name (`write`, `alter`, `update`) with an MMIO handle as receiver
   * or argument (`REG::default().set_x(..).write(bar)`, `REG::update(bar, |r| ..)`). A `write`
   * on a `KVec`, a file or a DMA buffer is a CPU write.
   */
  registerWrite(fn: FnNode, e: Expr): RegisterWrite | undefined {
    if (e.k !== 'method' && e.k !== 'call') return undefined;
    const name = calleeName(e);
    if (!name) return undefined;
    const shared = this.api.registerWriteMethods.has(name);
    if (e.k === 'method' && this.api.mmioWriteMethods.has(name) && !shared) return { expr: e, register: registerOfOffsetWrite(e), clear: clearOfOffsetWrite(e) };
    if (!shared && !this.api.mmioWriteMethods.has(name)) return undefined;
    if (!this.touchesMmio(fn, e)) return undefined;
    // `REG::default().set_x(v).write(bar, &E::ID)`: a generated register written at an
    // instance's base; the register is the type at the root of the chain, not the base.
    const instanced = e.k === 'method' && e.args.length === 2 && this.isMmio(this.valueType(fn, e.args[0]));
    const register = instanced && e.k === 'method' ? chainRoot(e.recv) : registerOfTypedWrite(e);
    return { expr: e, register, clear: e.k === 'method' && e.args.length === 1 ? clearOfTypedWrite(e) : undefined };
  }

  /** A CPU write into DMA memory (`ring.write(..)` on a coherent buffer). */
  isDmaMemoryWrite(fn: FnNode, e: Expr): boolean {
    if (e.k !== 'method' || !(this.api.registerWriteMethods.has(e.name) || this.api.mmioWriteMethods.has(e.name))) return false;
    return this.isDmaBuffer(this.crate.peel(this.valueType(fn, e.recv)));
  }

  /**
   * A call that stops every DMA of the function: clearing bus mastering, disabling the device, a
   * function-level reset. `free_irq`, clocks and regulators are not among them.
   */
  wholeFunctionStop(e: Expr): string | undefined {
    const name = e.k === 'method' || e.k === 'call' ? calleeName(e) : undefined;
    return name && FUNCTION_STOP_NAMES.has(name) ? `\`${name}()\`` : undefined;
  }
}

/** `io.write64(addr, RING_BASE)` gives `HANDLE.write64(0, RING_BASE)`, for a plainly named offset. */
function clearOfOffsetWrite(e: Extract<Expr, { k: 'method' }>): string | undefined {
  const offset = e.args[1];
  if (e.args.length !== 2 || !offset || offset.k !== 'path') return undefined;
  return `HANDLE.${e.name}(0, ${offset.segs.join('::')})`;
}

/** `regs::Base::default().set_addr(a).write(bar)` gives `regs::Base::default().write(HANDLE)`. */
function clearOfTypedWrite(e: Extract<Expr, { k: 'method' }>): string | undefined {
  let cur: Expr = e.recv;
  for (let i = 0; i < 16 && cur.k === 'method'; i++) cur = cur.recv;
  if (cur.k !== 'call' || cur.callee.k !== 'path' || cur.callee.segs.length < 2) return undefined;
  const segs = cur.callee.segs;
  const ctor = segs[segs.length - 1];
  if (ctor !== 'default' && ctor !== 'zeroed') return undefined;
  return `${segs.join('::')}().${e.name}(HANDLE)`;
}

/** `io.write32(value, CTRL)`: the offset argument, by name. */
function registerOfOffsetWrite(e: Extract<Expr, { k: 'method' }>): string | undefined {
  if (e.name === 'write_reg' || e.name === 'try_write_reg') return e.args[0] ? chainRoot(e.args[0]) : undefined;
  const offset = e.args[1];
  return offset ? keyText(offset) : undefined;
}

/** `REG::default().set_x(..).write(bar)`, `REG::alter(bar, ..)`: the register type. */
function registerOfTypedWrite(e: Extract<Expr, { k: 'method' | 'call' }>): string | undefined {
  if (e.k === 'call') {
    if (e.callee.k !== 'path' || e.callee.segs.length < 2) return undefined;
    return e.callee.segs[e.callee.segs.length - 2];
  }
  if (e.args.length === 2 && !['write', 'try_write'].includes(e.name)) return undefined;
  if (e.args.length === 2) return keyText(e.args[1]);
  return chainRoot(e.recv);
}

/** The type at the root of a builder chain: `regs::Ctrl::default().set_run(false)` gives `Ctrl`. */
function chainRoot(e: Expr): string | undefined {
  let cur = e;
  for (let i = 0; i < 32; i++) {
    if (cur.k === 'method') cur = cur.recv;
    else if (cur.k === 'unary' || cur.k === 'try') cur = cur.expr;
    else if (cur.k === 'call' && cur.callee.k === 'path') {
      const segs = cur.callee.segs;
      return segs.length >= 2 ? segs[segs.length - 2] : segs[0];
    } else if (cur.k === 'path') return cur.segs[cur.segs.length - 1];
    else if (cur.k === 'struct') return cur.path[cur.path.length - 1];
    else return undefined;
  }
  return undefined;
}

/** A register offset as text: a constant's name, a literal, `BASE + 4`. */
function keyText(e: Expr): string | undefined {
  switch (e.k) {
    case 'path':
      return e.segs[e.segs.length - 1];
    case 'lit':
      return e.text;
    case 'field':
      return e.name;
    case 'binary': {
      const l = keyText(e.left);
      const r = keyText(e.right);
      return l && r ? `${l} ${e.op} ${r}` : undefined;
    }
    case 'seq':
      return e.kind === 'paren' && e.items.length === 1 ? keyText(e.items[0]) : undefined;
    case 'cast':
    case 'try':
    case 'unary':
      return keyText(e.expr);
    case 'call':
    case 'method': {
      // `self.reg(Q_BASE_LO)`, `queue_base(q)`: the constant passed, else the helper named.
      const constant = e.args.map(keyText).find((k) => !!k && /^[A-Z][A-Z0-9_]*$/.test(k));
      if (constant) return constant;
      const name = e.k === 'method' ? e.name : e.callee.k === 'path' ? e.callee.segs[e.callee.segs.length - 1] : undefined;
      return name ? `${name}(..)` : undefined;
    }
    default:
      return undefined;
  }
}
