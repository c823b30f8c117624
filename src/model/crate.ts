// The crate model: symbols across a crate's files, type resolution through aliases and
// wrappers, a call graph, and the device state each function can run in.
import type { EnumFacts, Expr, FnFacts, ImplFacts, Span, StaticFacts, StructFacts, TypeRef } from '../facts/ir.js';
import type { CrateFile, CrateFiles } from './crate-graph.js';
import type { KernelApi } from './kernel-api.js';
import { bodyBindings, unwrapsOption, type Binding } from './bindings.js';
import { cfgEnabled, type CfgSet } from './cfg.js';
import { PerFunctionResults } from './fn-results.js';
import { LazySignature } from './item-signature.js';
import { TRANSPARENT_METHODS, walkExpr } from './walk.js';

/** Each body's call sites with the indexes (in `Crate.fns`) of the functions they reach; see buildCallGraph. */
const resolvedCalls = new PerFunctionResults<{ site: Expr; to: number[]; spawned: boolean }[]>({ movesWithFacts: true });

/** A type after alias resolution: `name` is the canonical last segment. */
export interface NType {
  kind: TypeRef['kind'];
  name: string;
  /** Full path as resolved through `use` (external types) or the crate module path (local). */
  path: string[];
  args: NType[];
  local?: StructNode | EnumNode;
  text: string;
}

export interface Scope {
  file: CrateFile;
  /** Inline module path inside the file. */
  mod: string[];
  selfType?: NType;
}

export interface StructNode {
  kind: 'struct';
  name: string;
  facts: StructFacts;
  file: CrateFile;
  modPath: string[];
}

export interface EnumNode {
  kind: 'enum';
  name: string;
  facts: EnumFacts;
  file: CrateFile;
  modPath: string[];
}

export interface ImplNode {
  facts: ImplFacts;
  file: CrateFile;
  selfType: NType;
  /** Canonical last segment of the trait, if a trait impl. */
  traitName?: string;
  traitPath?: string[];
  fns: FnNode[];
}

export interface FnNode {
  id: number;
  name: string;
  facts: FnFacts;
  file: CrateFile;
  impl?: ImplNode;
  scope: Scope;
  /** `Type::name`, `Trait::name for Type` or `name`, for messages. */
  label: string;
}

export interface StaticNode {
  name: string;
  facts: StaticFacts;
  file: CrateFile;
  type: NType;
}

export interface CallEdge {
  from: FnNode;
  to: FnNode;
  site: Expr;
  /** The call sits in a closure handed to a thread spawner. */
  spawned: boolean;
}

export interface DriverNode {
  impl: ImplNode;
  bus: string;
  dataType: NType;
  struct?: StructNode;
  probe?: FnNode;
  unbind?: FnNode;
}

interface FnLookup {
  free: Map<string, FnNode[]>;
  /** Keyed `Type::method`. */
  methods: Map<string, FnNode[]>;
  traitImpls: Map<string, ImplNode[]>;
  /** Methods that take `self`, by name, in the order of `fns`. */
  selfMethods: Map<string, FnNode[]>;
}

export type DeviceState = 'bound' | 'unbound' | 'unknown';

export interface Lifecycle {
  state: DeviceState;
  /** For `bound` and `unbound`: the entry point that decides it, e.g. `WorkItem::run for Job`. */
  root?: FnNode;
  /** Why, in a few words: "`WorkItem::run`, which can run after the driver is unbound". */
  why: string;
  /** Call chain from the root to this function (root first). */
  chain: FnNode[];
}

/** One step of an ownership path: a field of a crate struct. */
export interface OwnershipStep {
  struct: StructNode;
  field: string;
  span: Span;
  type: NType;
  /** The step crosses shared ownership (Arc). */
  shared: boolean;
}

const GUARD_METHODS = new Set(['try_access', 'access', 'lock', 'try_lock', 'lock_irqsave', 'try_access_with_guard', 'borrow', 'borrow_mut', 'get', 'get_mut', 'as_ref', 'as_mut', 'unwrap', 'expect', 'as_deref', 'as_deref_mut', 'deref', 'deref_mut']);
/** Types seen through when looking for the type a method is called on. */
const DEREF_TYPES = new Set(['Option', 'Result', 'KBox', 'Box', 'Arc', 'Pin', 'Devres', 'Revocable', 'Mutex', 'SpinLock', 'ARef', 'RevocableGuard', 'Guard', 'LockedBy', 'UniqueArc', 'ArcBorrow', 'RefCell', 'Cell', 'UnsafeCell', 'ManuallyDrop', 'MaybeUninit', 'Opaque', 'CondVar', 'Ref', 'RefMut', 'MutexGuard', 'SpinLockGuard', 'Rc']);
/** Associated functions of a type outside the crate that give a value of that type (`Clk::get(..)?`). */
const EXTERNAL_CONSTRUCTOR = /^(new|try_new|request|get|create|acquire|open)(_|$)/;
/** Collections whose first generic argument is the element type. */
const COLLECTION_TYPES = new Set(['KVec', 'Vec', 'VecDeque', 'ArrayVec']);
/** Method names so common that an unresolved receiver must not be guessed from the name alone. */
const COMMON_METHODS = new Set(['new', 'write', 'read', 'write32', 'read32', 'lock', 'access', 'try_access', 'clone', 'drop', 'init', 'run', 'probe', 'unbind', 'as_ref', 'get', 'set', 'take', 'push', 'pop', 'len', 'iter', 'map', 'start', 'stop', 'reset', 'enable', 'disable', 'open', 'release', 'ioctl', 'handle', 'into', 'from', 'default', 'fmt', 'eq', 'cmp', 'hash']);

export class Crate {
  readonly root: CrateFile;
  readonly files: CrateFile[];
  readonly structs = new Map<string, StructNode[]>();
  readonly enums = new Map<string, EnumNode[]>();
  readonly impls: ImplNode[] = [];
  readonly fns: FnNode[] = [];
  readonly statics: StaticNode[] = [];
  readonly drivers: DriverNode[] = [];
  /** Types named by `module! { type: M }` or implementing `Module`/`InPlaceModule`. */
  readonly moduleTypes = new Set<string>();
  private readonly aliases = new Map<string, { type: TypeRef; scope: Scope }[]>();
  private readonly uses = new Map<string, Map<string, string[]>>();
  private readonly edgesFrom = new Map<FnNode, CallEdge[]>();
  private readonly edgesTo = new Map<FnNode, CallEdge[]>();
  private readonly envs = new Map<FnNode, Map<string, NType>>();
  private readonly bindingTypes = new Map<FnNode, Map<Binding, NType | null>>();
  private lifecycles?: Map<FnNode, Lifecycle>;
  private readonly normalized = new WeakMap<TypeRef, Map<Scope, NType>>();
  private fnLookup?: FnLookup;
  private dropsByType?: Map<string, FnNode[]>;

  /** The build's cfgs (from rust-project.json); items whose `#[cfg]` is certainly off are left out. */
  readonly cfgs?: CfgSet;
  private declarations?: LazySignature;
  private fnByFacts?: Map<FnFacts, FnNode>;

  constructor(
    files: CrateFiles,
    readonly api: KernelApi,
    options: { cfgs?: CfgSet } = {},
  ) {
    this.cfgs = options.cfgs;
    this.root = files.root;
    // Test modules are compiled only for tests: they are never part of the driver.
    this.files = files.files.filter((f) => !f.testOnly);
    this.index();
    this.buildCallGraph();
    this.findDrivers();
  }

  /** The digest of the crate's declarations (items without bodies and positions), worked out when compared. */
  get signature(): LazySignature {
    return (this.declarations ??= new LazySignature(this.files));
  }

  /** The crate function whose facts are `facts`, if it is in this crate. */
  fnOf(facts: FnFacts): FnNode | undefined {
    this.fnByFacts ??= new Map(this.fns.map((f) => [f.facts, f]));
    return this.fnByFacts.get(facts);
  }

  // -------------------------------------------------------------------------------------------
  // Symbols

  private index(): void {
    for (const file of this.files) {
      for (const u of file.facts.uses) {
        const key = this.useKey(file, u.mod);
        if (!this.uses.has(key)) this.uses.set(key, new Map());
        if (!u.glob) this.uses.get(key)!.set(u.alias, u.path);
      }
      for (const s of file.facts.structs) if (this.compiled(s.attrs)) push(this.structs, s.name, { kind: 'struct', name: s.name, facts: s, file, modPath: [...file.modPath, ...s.mod] });
      for (const e of file.facts.enums) push(this.enums, e.name, { kind: 'enum', name: e.name, facts: e, file, modPath: [...file.modPath, ...e.mod] });
      for (const a of file.facts.typeAliases) push(this.aliases, a.name, { type: a.type, scope: { file, mod: a.mod } });
    }
    let id = 0;
    for (const file of this.files) {
      for (const f of file.facts.fns) {
        if (!this.compiled(f.attrs)) continue;
        const scope: Scope = { file, mod: f.mod };
        this.fns.push({ id: id++, name: f.name, facts: f, file, scope, label: f.name });
      }
      for (const impl of file.facts.impls) {
        if (!this.compiled(impl.attrs)) continue;
        const scope: Scope = { file, mod: impl.mod };
        const selfType = this.normalize(impl.selfType, scope);
        scope.selfType = selfType;
        const traitType = impl.trait ? this.normalize(impl.trait, scope) : undefined;
        const node: ImplNode = { facts: impl, file, selfType, traitName: traitType?.name, traitPath: traitType?.path, fns: [] };
        for (const f of impl.fns) {
          if (!this.compiled(f.attrs)) continue;
          const label = node.traitName ? `${node.traitName}::${f.name} for ${selfType.name}` : `${selfType.name}::${f.name}`;
          const fn: FnNode = { id: id++, name: f.name, facts: f, file, impl: node, scope, label };
          node.fns.push(fn);
          this.fns.push(fn);
        }
        this.impls.push(node);
        if (node.traitName && this.api.moduleTraits.has(node.traitName)) this.moduleTypes.add(selfType.name);
      }
      for (const s of file.facts.statics) {
        if (!this.compiled(s.attrs)) continue;
        this.statics.push({ name: s.name, facts: s, file, type: this.normalize(s.type, { file, mod: s.mod }) });
      }
      for (const m of file.facts.macros) {
        // `module_pci_driver! { type: Nic }` names the driver data, not a module type: the macro
        // generates its own module around the driver registration.
        if (this.api.moduleMacros.has(m.name) && !this.api.driverModuleMacros.has(m.name) && m.keys.type) this.moduleTypes.add(lastSeg(m.keys.type));
      }
    }
  }

  /** Whether an item is compiled in this build: without known cfgs, every item is. */
  private compiled(attrs: readonly string[]): boolean {
    return !this.cfgs || cfgEnabled(attrs, this.cfgs);
  }

  private useKey(file: CrateFile, mod: string[]): string {
    return `${file.absPath}#${mod.join('::')}`;
  }

  /** What a name imported with `use` stands for, looking in the inline module and then the file. */
  useTarget(name: string, scope: Scope): string[] | undefined {
    for (let i = scope.mod.length; i >= 0; i--) {
      const hit = this.uses.get(this.useKey(scope.file, scope.mod.slice(0, i)))?.get(name);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Resolves a path as written to its canonical last segment and full path. */
  resolvePath(segs: string[], scope: Scope): { name: string; path: string[] } {
    if (segs.length === 0) return { name: '', path: [] };
    const first = segs[0];
    const target = this.useTarget(first, scope);
    const full = target ? [...target, ...segs.slice(1)] : segs;
    return { name: full[full.length - 1] ?? '', path: full };
  }

  private localType(name: string, path: string[], scope: Scope): StructNode | EnumNode | undefined {
    const external = path.length > 1 && (path[0] === 'kernel' || path[0] === 'bindings' || path[0] === 'core' || path[0] === 'alloc' || path[0] === 'std');
    if (external) return undefined;
    const candidates: (StructNode | EnumNode)[] = [...(this.structs.get(name) ?? []), ...(this.enums.get(name) ?? [])];
    if (candidates.length === 0) return undefined;
    if (candidates.length === 1) return candidates[0];
    // `use crate::falcon::gsp::Gsp as GspFalcon`: the module path written picks among types of one name.
    if (path.length > 1 && path[0] === 'crate') {
      const written = path.slice(1, -1).join('::');
      const exact = candidates.find((c) => c.modPath.join('::') === written);
      if (exact) return exact;
    }
    const here = [...scope.file.modPath, ...scope.mod].join('::');
    return candidates.find((c) => c.modPath.join('::') === here) ?? candidates.find((c) => c.file === scope.file) ?? candidates[0];
  }

  normalize(t: TypeRef, scope: Scope, depth = 0): NType {
    if (depth > 0) return this.normalizeUncached(t, scope, depth);
    // Types of fields and parameters are resolved again and again by every rule.
    let byScope = this.normalized.get(t);
    if (!byScope) this.normalized.set(t, (byScope = new Map()));
    let result = byScope.get(scope);
    if (!result) byScope.set(scope, (result = this.normalizeUncached(t, scope, 0)));
    return result;
  }

  private normalizeUncached(t: TypeRef, scope: Scope, depth: number): NType {
    if (depth > 16) return { kind: 'other', name: '', path: [], args: [], text: t.text };
    const args = (t.args ?? []).map((a) => this.normalize(a, scope, depth + 1));
    if (t.kind !== 'path' || !t.path) return { kind: t.kind, name: '', path: [], args, text: t.text };
    if (t.path.length === 1 && t.path[0] === 'Self' && scope.selfType) return scope.selfType;
    if (t.path[0] === 'Self' && t.path.length === 2 && scope.selfType) {
      // `Self::Data` and other associated types: look the associated type up in impls of Self.
      const assoc = this.assocType(scope.selfType.name, t.path[1]);
      if (assoc) return this.normalize(assoc.type, assoc.scope, depth + 1);
    }
    const { name, path } = this.resolvePath(t.path, scope);
    const alias = this.aliases.get(name);
    if (alias && alias.length > 0 && !(path.length > 1 && ['kernel', 'bindings'].includes(path[0]))) {
      const a = alias.find((x) => x.scope.file === scope.file) ?? alias[0];
      const expanded = this.normalize(a.type, a.scope, depth + 1);
      return { ...expanded, text: t.text };
    }
    const local = this.localType(name, path, scope);
    return { kind: 'path', name, path: local ? [...local.modPath, name] : path, args, local, text: t.text };
  }

  private assocType(selfName: string, assoc: string): { type: TypeRef; scope: Scope } | undefined {
    for (const impl of this.impls) {
      if (impl.selfType.name !== selfName) continue;
      const a = impl.facts.assocTypes.find((x) => x.name === assoc);
      if (a) return { type: a.type, scope: { file: impl.file, mod: impl.facts.mod, selfType: impl.selfType } };
    }
    return undefined;
  }

  structOf(t: NType | undefined): StructNode | undefined {
    return t?.local?.kind === 'struct' ? t.local : undefined;
  }

  /** Normalized type of a struct's field. */
  fieldType(s: StructNode, field: string): NType | undefined {
    const f = s.facts.fields.find((x) => x.name === field);
    if (!f) return undefined;
    const selfType: NType = { kind: 'path', name: s.name, path: [...s.modPath, s.name], args: [], local: s, text: s.name };
    return this.normalize(f.type, { file: s.file, mod: s.facts.mod, selfType });
  }

  /**
   * The type of a field of a value of type `owner`, its generic parameters replaced by the
   * owner's arguments: `hw: H` in an `Engine<MmioRegs>` is a `MmioRegs`.
   */
  fieldTypeIn(owner: NType, s: StructNode, field: string): NType | undefined {
    const t = this.fieldType(s, field);
    if (!t || owner.local !== s || owner.args.length === 0 || s.facts.generics.length === 0) return t;
    const bound = new Map(s.facts.generics.map((g, i) => [g, owner.args[i]] as const).filter(([, a]) => !!a));
    return substitute(t, bound);
  }

  /** Crate structs that implement one of the traits bounding a `dyn Trait`/`impl Trait` type. */
  implementorsOf(t: NType): StructNode[] {
    const bounds = traitBounds(t);
    if (bounds.length === 0) return [];
    const out: StructNode[] = [];
    for (const impl of this.impls) {
      const s = impl.traitName && bounds.includes(impl.traitName) ? this.structOf(impl.selfType) : undefined;
      if (s && !out.includes(s)) out.push(s);
    }
    return out;
  }

  /** Sees through references, smart pointers, locks and revocable wrappers to the value type. */
  peel(t: NType | undefined): NType | undefined {
    let cur = t;
    for (let i = 0; cur && i < 12; i++) {
      if ((cur.kind === 'ref' || cur.kind === 'ptr' || cur.kind === 'array' || cur.kind === 'slice') && cur.args[0]) cur = cur.args[0];
      else if (cur.kind === 'path' && !cur.local && DEREF_TYPES.has(cur.name) && cur.args[0]) cur = cur.args[0];
      else if (cur.kind === 'path' && !cur.local && (cur.name === 'KVec' || cur.name === 'Vec' || cur.name === 'VecDeque') && cur.args[0]) cur = cur.args[0];
      else if ((cur.kind === 'impl' || cur.kind === 'dyn') && cur.args[0]) {
        // `impl PinInit<Self, Error>`: the initialized type.
        const b = cur.args[0];
        if (b.name === 'PinInit' || b.name === 'Init') cur = b.args[0];
        else return cur;
      } else return cur;
    }
    return cur;
  }

  /**
   * Every ownership path from a type down to types matching `match`, through wrappers and crate
   * struct fields. Each result lists the struct fields crossed (outermost first).
   */
  ownedPaths(t: NType, match: (t: NType) => boolean, maxDepth = 8): { steps: OwnershipStep[]; found: NType }[] {
    const out: { steps: OwnershipStep[]; found: NType }[] = [];
    const visiting = new Set<StructNode>();
    const go = (cur: NType, steps: OwnershipStep[], shared: boolean, depth: number): void => {
      if (depth > maxDepth || out.length > 64) return;
      if (match(cur)) {
        out.push({ steps, found: cur });
        return;
      }
      if (cur.kind === 'ref' || cur.kind === 'ptr' || cur.kind === 'fn') return;
      if (cur.kind === 'path' && this.api.nonOwningWrappers.has(cur.name)) return;
      const isShared = shared || (cur.kind === 'path' && this.api.sharedOwnership.has(cur.name));
      const s = this.structOf(cur);
      if (s) {
        if (visiting.has(s)) return;
        visiting.add(s);
        for (const f of s.facts.fields) {
          const ft = this.fieldType(s, f.name);
          if (ft) go(ft, [...steps, { struct: s, field: f.name, span: f.span, type: ft, shared: isShared }], false, depth + 1);
        }
        visiting.delete(s);
        return;
      }
      if (cur.local?.kind === 'enum') {
        const e = cur.local;
        for (const v of e.facts.variants) for (const f of v.fields) go(this.normalize(f.type, { file: e.file, mod: e.facts.mod }), steps, isShared, depth + 1);
        return;
      }
      for (const a of cur.args) go(a, steps, isShared, depth + 1);
    };
    go(t, [], false, 0);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Local types inside function bodies

  /**
   * Types of `self` and the parameters by name. Locals are typed per binding (`bindingType`); a
   * caller that evaluates a body itself may pass a copy of this map with its own locals added.
   */
  env(fn: FnNode): Map<string, NType> {
    const cached = this.envs.get(fn);
    if (cached) return cached;
    const env = new Map<string, NType>();
    this.envs.set(fn, env);
    if (fn.scope.selfType) env.set('self', fn.scope.selfType);
    for (const p of fn.facts.params) {
      if (p.name) env.set(p.name, this.normalize(p.type, fn.scope));
    }
    return env;
  }

  /** Best-effort static type of an expression. */
  typeOf(e: Expr, fn: FnNode, env: Map<string, NType> = this.env(fn), depth = 0): NType | undefined {
    if (depth > 24) return undefined;
    const again = (x: Expr) => this.typeOf(x, fn, env, depth + 1);
    switch (e.k) {
      case 'path': {
        if (e.segs.length !== 1) return undefined;
        const b = bodyBindings(fn.facts).resolved.get(e);
        return (b && this.bindingType(fn, b)) ?? env.get(e.segs[0]);
      }
      case 'field': {
        const recv = this.peel(again(e.recv));
        const s = this.structOf(recv);
        return s ? this.fieldType(s, e.name) : undefined;
      }
      case 'unary':
        if (e.op === '&' || e.op === '&mut') {
          const inner = again(e.expr);
          return inner ? { kind: 'ref', name: '', path: [], args: [inner], text: `&${inner.text}` } : undefined;
        }
        return e.op === '*' ? this.peel(again(e.expr)) : undefined;
      case 'try': {
        const inner = again(e.expr);
        if (inner && (inner.name === 'Result' || inner.name === 'Option')) return inner.args[0];
        return inner;
      }
      case 'struct': {
        const t: TypeRef = { kind: 'path', path: e.path, text: e.path.join('::') };
        return this.normalize(t, fn.scope);
      }
      case 'call': {
        if (e.callee.k !== 'path') return undefined;
        const segs = e.callee.segs;
        if (segs.length >= 2) {
          const typeSegs = segs.slice(0, -1);
          const owner = typeSegs.length === 1 && typeSegs[0] === 'Self' && fn.scope.selfType ? fn.scope.selfType : this.normalize({ kind: 'path', path: typeSegs, text: typeSegs.join('::') }, fn.scope);
          const fnName = segs[segs.length - 1];
          if (owner.local) {
            const m = this.methodsOf(owner.name, fnName)[0];
            if (m?.facts.ret) return this.peelInit(this.normalize(m.facts.ret, m.scope));
            return fnName === 'new' || fnName.startsWith('new_') || fnName.startsWith('try_new') ? owner : undefined;
          }
          const wrapped = this.api.revocableConstructors.get(owner.name)?.get(fnName);
          if (wrapped !== undefined && !owner.local && owner.args.length === 0 && e.args[wrapped]) {
            // `Devres::new(dev, ring, GFP_KERNEL)`: a revocable of the wrapped value's type.
            const inner = again(e.args[wrapped]);
            if (inner) return { ...owner, args: [this.peelInit(inner)] };
          }
          if (this.api.allocationConstructors.get(owner.name)?.has(fnName) || (fnName === 'new' && owner.name !== '') || (!owner.local && EXTERNAL_CONSTRUCTOR.test(fnName) && /^[A-Z]/.test(owner.name))) {
            const targs = e.callee.targs?.map((a) => this.normalize(a, fn.scope)) ?? owner.args;
            return { ...owner, args: targs.length > 0 ? targs : owner.args };
          }
        }
        const target = this.resolveCall(e, fn, env)[0];
        if (target?.facts.ret) return this.peelInit(this.normalize(target.facts.ret, target.scope));
        return undefined;
      }
      case 'method': {
        const recv = again(e.recv);
        if (GUARD_METHODS.has(e.name) || TRANSPARENT_METHODS.has(e.name)) {
          if (!recv) return undefined;
          // A guard or reference to the value inside the wrapper.
          if (recv.kind === 'ref' && recv.args[0]) return this.typeOfGuard(recv.args[0], e.name);
          return this.typeOfGuard(recv, e.name);
        }
        if (this.api.dmaAddressMethods.has(e.name)) return { kind: 'path', name: 'DmaAddress', path: ['kernel', 'dma', 'DmaAddress'], args: [], text: 'DmaAddress' };
        // The receiver's type is known already: typing it again from resolveMethod would make
        // a chain of n method calls cost 2^n.
        const target = this.methodTargets(e, recv)[0];
        if (target?.facts.ret) return this.peelInit(this.normalize(target.facts.ret, target.scope));
        return undefined;
      }
      case 'index': {
        const recv = again(e.recv);
        return recv ? this.elementType(recv) : undefined;
      }
      case 'cast':
        return this.normalize(e.type, fn.scope);
      case 'block': {
        const last = e.stmts[e.stmts.length - 1];
        return last && last.k === 'expr' && !last.semi ? again(last.expr) : undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * The type of one binding: its written type, or the type of the value it is bound from
   * (unwrapped by `Some(x)`/`Ok(x)` patterns, the protected value for a closure handed to
   * `try_access_with`/`map`/`and_then`). Undefined when unknown.
   */
  bindingType(fn: FnNode, b: Binding): NType | undefined {
    let byBinding = this.bindingTypes.get(fn);
    if (!byBinding) this.bindingTypes.set(fn, (byBinding = new Map()));
    if (byBinding.has(b)) return byBinding.get(b) ?? undefined;
    byBinding.set(b, null); // a cycle (a closure parameter typed from itself) gives unknown
    const t = this.computeBindingType(fn, b);
    byBinding.set(b, t ?? null);
    return t;
  }

  private computeBindingType(fn: FnNode, b: Binding): NType | undefined {
    if (b.kind === 'self') return fn.scope.selfType;
    if (b.declared && (b.kind === 'param' || b.pat?.names.length === 1)) return this.normalize(b.declared, fn.scope);
    if (!b.origin || b.pat?.names.length !== 1) return undefined;
    const unwrap = (t: NType | undefined) => (t && unwrapsOption(b.pat) && (t.name === 'Option' || t.name === 'Result') ? t.args[0] ?? t : t);
    switch (b.kind) {
      case 'let':
      case 'let-else':
      case 'if-let':
      case 'while-let':
        return unwrap(this.typeOf(b.origin, fn));
      case 'closure': {
        const holder = b.closureHolder;
        if (holder?.k !== 'method' || b.closure?.params[0] !== b.pat) return undefined;
        if (!(this.api.revocableAccess.closure.has(holder.name) || holder.name === 'map' || holder.name === 'and_then' || holder.name === 'with_lock')) return undefined;
        return this.typeOf(holder.recv, fn)?.args[0];
      }
      default:
        return undefined;
    }
  }

  /** The element type of a collection (`KVec<T>`, `[T; N]`, `&[T]`), seen through references. */
  elementType(t: NType): NType | undefined {
    let cur: NType | undefined = t;
    for (let i = 0; cur && i < 4 && (cur.kind === 'ref' || cur.kind === 'ptr'); i++) cur = cur.args[0];
    if (!cur) return undefined;
    if (cur.kind === 'array' || cur.kind === 'slice') return cur.args[0];
    if (cur.kind === 'path' && !cur.local && COLLECTION_TYPES.has(cur.name)) return cur.args[0];
    return undefined;
  }

  private typeOfGuard(t: NType, method: string): NType | undefined {
    if (t.kind === 'path' && !t.local && DEREF_TYPES.has(t.name) && t.args[0]) {
      if (method === 'unwrap' || method === 'expect') return t.args[0];
      return t.args[0];
    }
    return t;
  }

  private peelInit(t: NType): NType {
    if ((t.name === 'Result' || t.name === 'Option') && t.args[0]) return this.peelInit(t.args[0]);
    if ((t.kind === 'impl' || t.kind === 'dyn') && t.args[0] && (t.args[0].name === 'PinInit' || t.args[0].name === 'Init') && t.args[0].args[0]) return t.args[0].args[0];
    if (t.name === 'Pin' && t.args[0]) return this.peelInit(t.args[0]);
    if ((t.name === 'KBox' || t.name === 'Box' || t.name === 'Arc') && t.args[0]?.local) return t.args[0];
    return t;
  }

  // -------------------------------------------------------------------------------------------
  // Call graph

  methodsOf(typeName: string, method: string): FnNode[] {
    return [...(this.lookup().methods.get(`${typeName}::${method}`) ?? [])];
  }

  private freeFns(name: string): FnNode[] {
    return [...(this.lookup().free.get(name) ?? [])];
  }

  /**
   * Functions by name, built on first use (after `index`): every call site looks its targets
   * up, and scanning all functions for each made a crate of n functions cost n².
   */
  private lookup(): FnLookup {
    if (this.fnLookup) return this.fnLookup;
    const l: FnLookup = { free: new Map(), methods: new Map(), traitImpls: new Map(), selfMethods: new Map() };
    for (const f of this.fns) if (!f.impl) push(l.free, f.name, f);
    for (const f of this.fns) if (f.impl && f.facts.self) push(l.selfMethods, f.name, f);
    for (const impl of this.impls) {
      for (const f of impl.fns) push(l.methods, `${impl.selfType.name}::${f.name}`, f);
      if (impl.traitName) push(l.traitImpls, impl.traitName, impl);
    }
    this.fnLookup = l;
    return l;
  }

  /** Crate functions a call expression can reach. */
  resolveCall(e: Extract<Expr, { k: 'call' }>, fn: FnNode, env = this.env(fn)): FnNode[] {
    if (e.callee.k !== 'path') return [];
    const segs = e.callee.segs;
    if (segs.length === 1) {
      if (env.has(segs[0]) || bodyBindings(fn.facts).resolved.has(e.callee)) return []; // a closure or function pointer in a local
      const target = this.useTarget(segs[0], fn.scope);
      const name = target ? target[target.length - 1] : segs[0];
      if (target && ['kernel', 'bindings', 'core', 'alloc'].includes(target[0])) return [];
      return this.pickByModule(this.freeFns(name), fn);
    }
    const last = segs[segs.length - 1];
    const ownerSegs = segs.slice(0, -1);
    if (ownerSegs.length === 1 && ownerSegs[0] === 'Self' && fn.scope.selfType) return this.methodsOf(fn.scope.selfType.name, last);
    const owner = this.normalize({ kind: 'path', path: ownerSegs, text: ownerSegs.join('::') }, fn.scope);
    if (owner.local) return this.methodsOf(owner.name, last);
    const resolved = this.resolvePath(segs, fn.scope);
    if (['kernel', 'bindings', 'core', 'alloc'].includes(resolved.path[0])) return [];
    // `module::f`, `crate::module::f`, `super::f`: a free function of the crate.
    const frees = this.freeFns(last);
    const modHint = ownerSegs.filter((s) => !['crate', 'super', 'self'].includes(s));
    const inMod = frees.filter((f) => {
      const mp = [...f.file.modPath, ...f.facts.mod];
      return modHint.length === 0 || mp.slice(-modHint.length).join('::') === modHint.join('::');
    });
    if (inMod.length > 0) return inMod;
    // A trait method called through its trait: `Trait::method(x)`.
    const traitImpls = (this.lookup().traitImpls.get(owner.name) ?? []).flatMap((i) => i.fns.filter((f) => f.name === last));
    return traitImpls;
  }

  resolveMethod(e: Extract<Expr, { k: 'method' }>, fn: FnNode, env = this.env(fn)): FnNode[] {
    return this.methodTargets(e, this.typeOf(e.recv, fn, env));
  }

  /** Crate methods a method call can reach, given its receiver's type (undefined: unknown). */
  private methodTargets(e: Extract<Expr, { k: 'method' }>, recvType: NType | undefined): FnNode[] {
    const recv = this.peel(recvType);
    if (recv?.local) {
      const direct = this.methodsOf(recv.name, e.name);
      if (direct.length > 0) return direct;
    }
    if (recv && !recv.local && recv.name !== '') return [];
    // A trait object or `impl Trait` (a HAL behind `&dyn ChipOps`): any impl of the crate's
    // trait can be the one that runs.
    const bounds = recv ? traitBounds(recv) : [];
    if (bounds.length > 0) return this.traitImplsOf(bounds, e.name);
    // Unknown receiver: a unique, distinctive method name in the crate.
    if (COMMON_METHODS.has(e.name)) return [];
    const candidates = this.lookup().selfMethods.get(e.name) ?? [];
    return candidates.length === 1 ? [...candidates] : [];
  }

  /** The crate's implementations of `method` for the given traits. */
  private traitImplsOf(traits: string[], method: string): FnNode[] {
    return this.impls.filter((i) => i.traitName && traits.includes(i.traitName)).flatMap((i) => i.fns.filter((f) => f.name === method));
  }

  private pickByModule(cands: FnNode[], from: FnNode): FnNode[] {
    if (cands.length <= 1) return cands;
    const here = [...from.file.modPath, ...from.scope.mod].join('::');
    const same = cands.filter((c) => [...c.file.modPath, ...c.scope.mod].join('::') === here);
    return same.length > 0 ? same : cands;
  }

  private buildCallGraph(): void {
    // A body's calls resolve alike while the crate's declarations are the same: kept per body.
    const indexOf = new Map(this.fns.map((f, i) => [f, i]));
    for (const fn of this.fns) {
      const body = fn.facts.body;
      if (!body) continue;
      // The crate's declarations and build decide which functions a call can reach; a body's
      // sites refer into its facts, which move with it.
      const sites = resolvedCalls.of(this, fn, '', () => this.resolveBody(fn, body).map((c) => ({ ...c, to: c.to.map((t) => indexOf.get(t)!) })));
      for (const c of sites) {
        for (const i of c.to) {
          const to = this.fns[i];
          const edge: CallEdge = { from: fn, to, site: c.site, spawned: c.spawned };
          push(this.edgesFrom, fn, edge);
          push(this.edgesTo, to, edge);
        }
      }
    }
  }

  /** The crate functions each call site of a body reaches, in walk order. */
  private resolveBody(fn: FnNode, body: Expr): { site: Expr; to: FnNode[]; spawned: boolean }[] {
    const out: { site: Expr; to: FnNode[]; spawned: boolean }[] = [];
    const env = this.env(fn);
    const spawnedClosures = new Set<Expr>();
    walkExpr(body, (e, parents) => {
      if ((e.k === 'call' || e.k === 'method') && this.isSpawner(e)) {
        for (const a of e.args) if (a.k === 'closure') spawnedClosures.add(a);
      }
      let targets: FnNode[] = [];
      if (e.k === 'call') targets = this.resolveCall(e, fn, env);
      else if (e.k === 'method') targets = this.resolveMethod(e, fn, env);
      const to = targets.filter((t) => t !== fn);
      if (to.length === 0) return;
      out.push({ site: e, to, spawned: parents.some((p) => spawnedClosures.has(p)) });
    });
    return out;
  }

  /** The innermost closure among `parents` (root first, as walkExpr gives them) handed to a thread spawner. */
  spawnedClosure(parents: readonly Expr[]): Extract<Expr, { k: 'closure' }> | undefined {
    for (let i = parents.length - 1; i > 0; i--) {
      const c = parents[i];
      const holder = parents[i - 1];
      if (c.k !== 'closure' || (holder.k !== 'call' && holder.k !== 'method')) continue;
      if (holder.args.includes(c) && this.isSpawner(holder)) return c;
    }
    return undefined;
  }

  private isSpawner(e: Extract<Expr, { k: 'call' | 'method' }>): boolean {
    const name = e.k === 'method' ? e.name : e.callee.k === 'path' ? e.callee.segs[e.callee.segs.length - 1] : '';
    if (!this.api.threadSpawners.has(name)) return false;
    if (e.k === 'call' && e.callee.k === 'path' && name === 'spawn') return e.callee.segs.some((s) => /thread|task|kthread/i.test(s));
    return true;
  }

  callees(fn: FnNode): CallEdge[] {
    return this.edgesFrom.get(fn) ?? [];
  }

  callers(fn: FnNode): CallEdge[] {
    return this.edgesTo.get(fn) ?? [];
  }

  fnsNamed(name: string): FnNode[] {
    return this.fns.filter((f) => f.name === name);
  }

  /** The function whose body contains a span of a file. */
  fnAt(file: CrateFile, span: Span): FnNode | undefined {
    let best: FnNode | undefined;
    for (const f of this.fns) {
      if (f.file !== file || !contains(f.facts.span, span)) continue;
      if (!best || contains(best.facts.span, f.facts.span)) best = f;
    }
    return best;
  }

  // -------------------------------------------------------------------------------------------
  // Drivers and lifecycle

  private findDrivers(): void {
    for (const impl of this.impls) {
      if (impl.traitName !== 'Driver' || !impl.traitPath) continue;
      const bus = impl.traitPath.find((s) => this.api.buses.has(s));
      const hasProbe = impl.fns.some((f) => f.name === 'probe');
      if (!bus && !hasProbe) continue;
      this.drivers.push({
        impl,
        bus: bus ?? 'unknown',
        dataType: impl.selfType,
        struct: this.structOf(impl.selfType),
        probe: impl.fns.find((f) => f.name === 'probe'),
        unbind: impl.fns.find((f) => f.name === 'unbind' || f.name === 'remove'),
      });
    }
  }

  /** `Drop::drop` and `PinnedDrop::drop` of a type. */
  dropFns(typeName: string): FnNode[] {
    if (!this.dropsByType) {
      // Asked for each allocation and each owner type: indexed once, not a scan of every impl.
      this.dropsByType = new Map();
      for (const i of this.impls) {
        if (i.traitName !== 'Drop' && i.traitName !== 'PinnedDrop') continue;
        for (const f of i.fns) if (f.name === 'drop') push(this.dropsByType, i.selfType.name, f);
      }
    }
    return this.dropsByType.get(typeName) ?? [];
  }

  /** Whether a parameter type proves the device is bound (`&Device<Bound>`, `&pci::Device<Core>`). */
  provesBound(t: NType): boolean {
    let cur: NType | undefined = t;
    for (let i = 0; cur && i < 4 && (cur.kind === 'ref' || cur.name === 'Pin'); i++) cur = cur.args[0];
    if (!cur || cur.kind !== 'path') return false;
    const ctx = cur.args[0];
    return cur.name === 'Device' && !!ctx && this.api.boundContexts.has(ctx.name);
  }

  /**
   * What a device type says about binding, seen through references: `bound` (`&Device<Bound>`,
   * `&pci::Device<Core>`), `refcount` (`ARef<Device>`: keeps the struct alive, not the binding),
   * `untyped` (`&Device`, `Device<Normal>`: no typestate), or undefined when it is not a device
   * or its context is generic.
   */
  deviceBinding(t: NType | undefined): 'bound' | 'refcount' | 'untyped' | undefined {
    if (!t) return undefined;
    if (this.provesBound(t)) return 'bound';
    let cur: NType | undefined = t;
    for (let i = 0; cur && i < 4 && cur.kind === 'ref'; i++) cur = cur.args[0];
    if (!cur || cur.kind !== 'path') return undefined;
    if (this.api.refcountTypes.has(cur.name)) return cur.args[0] && this.deviceBinding(cur.args[0]) ? 'refcount' : undefined;
    if (cur.name !== 'Device') return undefined;
    return cur.args.length === 0 || this.api.unboundContexts.has(cur.args[0].name) ? 'untyped' : undefined;
  }

  /** Types whose values can outlive the binding: module types, work items, timers, misc devices, files. */
  unboundHolderTypes(): Set<string> {
    const out = new Set(this.moduleTypes);
    for (const impl of this.impls) {
      if (impl.traitName && this.api.unboundHolderTraits.has(impl.traitName)) out.add(impl.selfType.name);
    }
    return out;
  }

  lifecycle(fn: FnNode): Lifecycle {
    if (!this.lifecycles) this.lifecycles = this.computeLifecycles();
    return this.lifecycles.get(fn) ?? { state: 'unknown', why: 'no caller in the crate decides it', chain: [] };
  }

  private rootState(fn: FnNode, driverOwned: Set<string>, holderOwned: Set<string>): Lifecycle | undefined {
    const impl = fn.impl;
    const traitName = impl?.traitName;
    if (impl && traitName === 'Driver' && this.drivers.some((d) => d.impl === impl) && this.api.boundDriverMethods.has(fn.name)) {
      return { state: 'bound', root: fn, why: `\`${fn.name}()\` of a bus driver, which runs with the driver bound`, chain: [fn] };
    }
    if (traitName && this.api.boundMethods.has(`${traitName}::${fn.name}`)) {
      return { state: 'bound', root: fn, why: `\`${traitName}::${fn.name}\`, configured as running with the driver bound`, chain: [fn] };
    }
    for (const p of fn.facts.params) {
      if (this.provesBound(this.normalize(p.type, fn.scope))) {
        return { state: 'bound', root: fn, why: `its \`${p.name ?? 'device'}: ${p.type.text}\` parameter proves the device is bound`, chain: [fn] };
      }
    }
    if (traitName && this.api.unboundMethods.has(`${traitName}::${fn.name}`)) {
      const what = traitName === 'Module' || traitName === 'InPlaceModule'
        ? `module \`${traitName}::init\`, which runs with no driver bound (No Driver state)`
        : `\`${traitName}::${fn.name}\`, which can run after the driver is unbound (Zombie state)`;
      return { state: 'unbound', root: fn, why: what, chain: [fn] };
    }
    if (impl && (traitName === 'Drop' || traitName === 'PinnedDrop') && fn.name === 'drop') {
      const t = impl.selfType.name;
      if (this.moduleTypes.has(t) || holderOwned.has(t)) {
        return { state: 'unbound', root: fn, why: `\`Drop\` of \`${t}\`, which can run after the driver is unbound`, chain: [fn] };
      }
      if (driverOwned.has(t)) {
        return { state: 'bound', root: fn, why: `\`Drop\` of \`${t}\`, owned by the driver data and dropped inside remove`, chain: [fn] };
      }
    }
    return undefined;
  }

  /** Names of crate types reachable by ownership from the given types (including them). */
  ownedTypeNames(from: Iterable<string>, throughShared: boolean): Set<string> {
    const out = new Set<string>();
    const queue = [...from];
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (out.has(name)) continue;
      out.add(name);
      for (const s of this.structs.get(name) ?? []) {
        for (const f of s.facts.fields) {
          const ft = this.fieldType(s, f.name);
          if (!ft) continue;
          this.forEachOwnedLocal(ft, throughShared, (n) => queue.push(n));
        }
      }
    }
    return out;
  }

  private forEachOwnedLocal(t: NType, throughShared: boolean, visit: (name: string) => void, depth = 0): void {
    if (depth > 8 || t.kind === 'ref' || t.kind === 'ptr') return;
    if (t.kind === 'path' && this.api.nonOwningWrappers.has(t.name)) return;
    if (!throughShared && t.kind === 'path' && this.api.sharedOwnership.has(t.name)) return;
    if (t.local) visit(t.name);
    for (const a of t.args) this.forEachOwnedLocal(a, throughShared, visit, depth + 1);
  }

  private computeLifecycles(): Map<FnNode, Lifecycle> {
    const result = new Map<FnNode, Lifecycle>();
    const driverOwned = this.ownedTypeNames(this.drivers.map((d) => d.dataType.name), false);
    const holderOwned = this.ownedTypeNames(this.unboundHolderTypes(), true);
    for (const fn of this.fns) {
      const root = this.rootState(fn, driverOwned, holderOwned);
      if (root) result.set(fn, root);
    }
    // Unbound: everything reachable from an unbound root, or from a spawned thread's closure,
    // unless the callee proves the device is bound through its own parameters.
    const queue: FnNode[] = [];
    for (const [fn, l] of result) if (l.state === 'unbound') queue.push(fn);
    for (const fn of this.fns) {
      for (const edge of this.callees(fn)) {
        if (edge.spawned && result.get(edge.to)?.state !== 'bound' && !result.has(edge.to)) {
          result.set(edge.to, { state: 'unbound', root: edge.to, why: `a closure run by a kernel thread, which can run after the driver is unbound`, chain: [fn, edge.to] });
          queue.push(edge.to);
        }
      }
    }
    while (queue.length > 0) {
      const fn = queue.shift()!;
      const l = result.get(fn)!;
      for (const edge of this.callees(fn)) {
        if (result.has(edge.to)) continue;
        result.set(edge.to, { state: 'unbound', root: l.root, why: l.why, chain: [...l.chain, edge.to] });
        queue.push(edge.to);
      }
    }
    // Bound: a function all of whose callers are bound (fixpoint).
    let changed = true;
    while (changed) {
      changed = false;
      for (const fn of this.fns) {
        if (result.has(fn)) continue;
        const callers = this.callers(fn);
        if (callers.length === 0) continue;
        if (callers.every((c) => result.get(c.from)?.state === 'bound')) {
          const first = result.get(callers[0].from)!;
          result.set(fn, { state: 'bound', root: first.root, why: `only called from functions that run with the driver bound`, chain: [...first.chain, fn] });
          changed = true;
        }
      }
    }
    return result;
  }
}

/** `t` with generic parameters (single-segment paths named in `bound`) replaced. */
function substitute(t: NType, bound: ReadonlyMap<string, NType>, depth = 0): NType {
  if (depth > 12) return t;
  if (t.kind === 'path' && !t.local && t.path.length === 1 && t.args.length === 0) {
    const hit = bound.get(t.name);
    if (hit) return hit;
  }
  if (t.args.length === 0) return t;
  return { ...t, args: t.args.map((a) => substitute(a, bound, depth + 1)) };
}

/** The traits bounding a `dyn Trait` or `impl Trait` type, also with extra bounds (`dyn Ops + Send`). */
function traitBounds(t: NType): string[] {
  if (t.kind === 'dyn' || t.kind === 'impl') return t.args.filter((b) => b.kind === 'path').map((b) => b.name);
  if (t.kind === 'other') return t.args.flatMap((a) => (a.kind === 'dyn' || a.kind === 'impl' ? traitBounds(a) : []));
  return [];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function lastSeg(text: string): string {
  const parts = text.split('::');
  return parts[parts.length - 1].replace(/<.*$/, '').trim();
}

export function contains(outer: Span, inner: Span): boolean {
  const startsAfter = inner.line > outer.line || (inner.line === outer.line && inner.col >= outer.col);
  const endsBefore = inner.endLine < outer.endLine || (inner.endLine === outer.endLine && inner.endCol <= outer.endCol);
  return startsAfter && endsBefore;
}

