// Local bindings of a function body with Rust's scoping: every use of a name resolves to its own
// `let`, pattern, parameter or closure parameter, so a shadowing `let ring = Devres::new(dev,
// ring, ..)?` is a new value whose initializer reads the old one. Computed once per body object
// (the language server keeps unedited functions' facts, so only the edited one is resolved again).
import type { Expr, FnFacts, Pat, Span, TypeRef } from '../facts/ir.js';
import { forEachChild } from './walk.js';

export type BindingKind = 'self' | 'param' | 'let' | 'let-else' | 'if-let' | 'while-let' | 'match' | 'for' | 'closure';

export interface Binding {
  name: string;
  /** Where the name is bound (in its pattern, or the parameter). */
  span: Span;
  kind: BindingKind;
  /**
   * The value the name is bound from: a `let` initializer, an `if let`/`while let`/`match`
   * scrutinee, a `for` iterable, or for a closure parameter the receiver of the method the closure
   * is handed to (`x.try_access_with(|v| ..)`, `it.map(|v| ..)`). Undefined for parameters.
   */
  origin?: Expr;
  /** The whole pattern: its constructor (`Some`, `Ok`) says whether the value is unwrapped. */
  pat?: Pat;
  /** A written type: a parameter's, or a `let`'s annotation. */
  declared?: TypeRef;
  /** For parameters: the index in the signature (self excluded). */
  paramIndex?: number;
  /** For closure parameters: the closure and the method call it is an argument of. */
  closure?: Extract<Expr, { k: 'closure' }>;
  closureHolder?: Extract<Expr, { k: 'method' | 'call' }>;
}

export interface BodyBindings {
  all: Binding[];
  /** Each single-segment path expression that names a local or a parameter, with its binding. */
  resolved: Map<Expr, Binding>;
  /** The uses of each binding, in source order. */
  uses: Map<Binding, Expr[]>;
  /** The parent of each expression of the body. */
  parent: Map<Expr, Expr>;
  /** `let` initializers and the statement's pattern. */
  letPattern: Map<Expr, Pat>;
  params: Binding[];
  self?: Binding;
}

const cache = new WeakMap<FnFacts, BodyBindings>();

export function bodyBindings(fn: FnFacts): BodyBindings {
  const hit = cache.get(fn);
  if (hit) return hit;
  const result = resolve(fn);
  cache.set(fn, result);
  return result;
}

function resolve(fn: FnFacts): BodyBindings {
  const out: BodyBindings = { all: [], resolved: new Map(), uses: new Map(), parent: new Map(), letPattern: new Map(), params: [] };
  const scopes: Map<string, Binding>[] = [new Map()];
  const declare = (b: Binding): void => {
    scopes[scopes.length - 1].set(b.name, b);
    out.all.push(b);
    out.uses.set(b, []);
  };
  const declarePat = (pat: Pat, kind: BindingKind, origin: Expr | undefined, extra: Partial<Binding> = {}): void => {
    for (const n of pat.names) declare({ name: n.name, span: n.span, kind, origin, pat, ...extra });
  };
  const lookup = (name: string): Binding | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const b = scopes[i].get(name);
      if (b) return b;
    }
    return undefined;
  };
  const scoped = (f: () => void): void => {
    scopes.push(new Map());
    f();
    scopes.pop();
  };

  if (fn.self) {
    out.self = { name: 'self', span: fn.self.span, kind: 'self' };
    declare(out.self);
  }
  fn.params.forEach((p, i) => {
    for (const n of p.pat.names) {
      const b: Binding = { name: n.name, span: p.pat.names.length === 1 ? p.span : n.span, kind: 'param', declared: p.type, paramIndex: i, pat: p.pat };
      declare(b);
      out.params.push(b);
    }
  });

  const visit = (e: Expr, parent: Expr | undefined): void => {
    if (parent) out.parent.set(e, parent);
    const child = (c: Expr) => visit(c, e);
    switch (e.k) {
      case 'path':
        if (e.segs.length === 1) {
          const b = lookup(e.segs[0]);
          if (b) {
            out.resolved.set(e, b);
            out.uses.get(b)!.push(e);
          }
        }
        return;
      case 'block':
        scoped(() => {
          for (const s of e.stmts) {
            if (s.k === 'let') {
              if (s.init) {
                child(s.init);
                out.letPattern.set(s.init, s.pat);
              }
              if (s.else) child(s.else);
              declarePat(s.pat, s.else ? 'let-else' : 'let', s.init, { declared: s.type });
            } else child(s.expr);
          }
        });
        return;
      case 'if':
        // Names bound by `if let` are visible in the `then` branch only.
        scoped(() => {
          child(e.cond);
          child(e.then);
        });
        if (e.else) child(e.else);
        return;
      case 'letcond': {
        child(e.value);
        const inWhile = parent?.k === 'loop' && parent.kind === 'while';
        declarePat(e.pat, inWhile ? 'while-let' : 'if-let', e.value);
        return;
      }
      case 'loop':
        if (e.kind === 'for') {
          if (e.iter) child(e.iter);
          scoped(() => {
            if (e.pat) declarePat(e.pat, 'for', e.iter);
            child(e.body);
          });
        } else {
          scoped(() => {
            if (e.cond) child(e.cond);
            child(e.body);
          });
        }
        return;
      case 'match':
        child(e.value);
        for (const arm of e.arms) {
          scoped(() => {
            declarePat(arm.pat, 'match', e.value);
            if (arm.guard) child(arm.guard);
            child(arm.body);
          });
        }
        return;
      case 'closure': {
        const holder = parent && (parent.k === 'method' || parent.k === 'call') && parent.args.includes(e) ? parent : undefined;
        const origin = holder?.k === 'method' ? holder.recv : undefined;
        scoped(() => {
          for (const p of e.params) declarePat(p, 'closure', origin, { closure: e, closureHolder: holder });
          child(e.body);
        });
        return;
      }
      default:
        forEachChild(e, child);
    }
  };
  if (fn.body) visit(fn.body, undefined);
  return out;
}

/** Whether a pattern unwraps an `Option`/`Result` (`Some(x)`, `Ok(x)`). */
export function unwrapsOption(pat: Pat | undefined): boolean {
  const ctor = pat?.ctor;
  return !!ctor && ['Some', 'Ok'].includes(ctor[ctor.length - 1]);
}
