// Generic traversal of the expression IR. Depth is bounded by the extractor (MAX_DEPTH), so
// plain recursion here cannot overflow.
import type { Expr } from '../facts/ir.js';

/** Calls `f` on each direct sub-expression, in evaluation order (roughly), without allocating. */
export function forEachChild(e: Expr, f: (c: Expr) => void): void {
  switch (e.k) {
    case 'path':
    case 'lit':
      return;
    case 'call':
      f(e.callee);
      for (const a of e.args) f(a);
      return;
    case 'method':
      f(e.recv);
      for (const a of e.args) f(a);
      return;
    case 'field':
      f(e.recv);
      return;
    case 'index':
      f(e.recv);
      f(e.index);
      return;
    case 'macro':
      for (const a of e.args) f(a);
      return;
    case 'closure':
      f(e.body);
      return;
    case 'block':
      for (const st of e.stmts) {
        if (st.k === 'let') {
          if (st.init) f(st.init);
          if (st.else) f(st.else);
        } else f(st.expr);
      }
      return;
    case 'if':
      f(e.cond);
      f(e.then);
      if (e.else) f(e.else);
      return;
    case 'letcond':
      f(e.value);
      return;
    case 'match':
      f(e.value);
      for (const a of e.arms) {
        if (a.guard) f(a.guard);
        f(a.body);
      }
      return;
    case 'loop':
      if (e.cond) f(e.cond);
      if (e.iter) f(e.iter);
      f(e.body);
      return;
    case 'assign':
      f(e.target);
      f(e.value);
      return;
    case 'return':
      if (e.value) f(e.value);
      return;
    case 'unary':
    case 'try':
    case 'cast':
      f(e.expr);
      return;
    case 'binary':
      f(e.left);
      f(e.right);
      return;
    case 'struct':
      for (const x of e.fields) f(x.value);
      if (e.base) f(e.base);
      return;
    case 'seq':
      for (const x of e.items) f(x);
      return;
    case 'other':
      for (const x of e.children) f(x);
      return;
  }
}


/** A tree in pre-order: `ends[i]` is the index just past the subtree of `nodes[i]`. */
interface PreOrder {
  nodes: Expr[];
  ends: Int32Array;
}

// Rules walk the same bodies many times, and the language server keeps the facts of unchanged
// functions between edits: the pre-order of a tree is computed once per tree object.
const preOrders = new WeakMap<Expr, PreOrder>();

function preOrder(root: Expr): PreOrder {
  const cached = preOrders.get(root);
  if (cached) return cached;
  const nodes: Expr[] = [];
  const endsList: number[] = [];
  const go = (e: Expr): void => {
    const at = nodes.length;
    nodes.push(e);
    endsList.push(0);
    forEachChild(e, go);
    endsList[at] = nodes.length;
  };
  go(root);
  const result = { nodes, ends: Int32Array.from(endsList) };
  preOrders.set(root, result);
  return result;
}

/** Names a body uses, for rules that can tell from them alone that a body has nothing for them. */
export interface BodyNames {
  /** Names of the methods called (`x.name(..)`). */
  methods: ReadonlySet<string>;
  /** Last segment of every called path (`a::b::name(..)`, `name(..)`), as written. */
  calledPaths: ReadonlySet<string>;
}

const bodyNamesCache = new WeakMap<Expr, BodyNames>();

export function bodyNames(body: Expr): BodyNames {
  const cached = bodyNamesCache.get(body);
  if (cached) return cached;
  const methods = new Set<string>();
  const calledPaths = new Set<string>();
  for (const e of preOrder(body).nodes) {
    if (e.k === 'method') methods.add(e.name);
    else if (e.k === 'call' && e.callee.k === 'path' && e.callee.segs.length > 0) calledPaths.add(e.callee.segs[e.callee.segs.length - 1]);
  }
  const names = { methods, calledPaths };
  bodyNamesCache.set(body, names);
  return names;
}

/**
 * Visits every expression under `root` (pre-order). Return false from `visit` to skip the
 * children of that expression. `parents` is the chain from the root to the visited node's parent.
 */
export function walkExpr(root: Expr, visit: (e: Expr, parents: readonly Expr[]) => boolean | void): void {
  const { nodes, ends } = preOrder(root);
  const parents: Expr[] = [];
  const parentEnds: number[] = [];
  let i = 0;
  while (i < nodes.length) {
    while (parentEnds.length > 0 && parentEnds[parentEnds.length - 1] <= i) {
      parents.pop();
      parentEnds.pop();
    }
    const e = nodes[i];
    if (visit(e, parents) === false) {
      i = ends[i];
      continue;
    }
    parents.push(e);
    parentEnds.push(ends[i]);
    i++;
  }
}


/** `a.b.c` as ['a', 'b', 'c'] for a chain of fields over a path; undefined for anything else. */
export function fieldChain(e: Expr): string[] | undefined {
  const out: string[] = [];
  let cur: Expr = e;
  for (let i = 0; i < 32; i++) {
    if (cur.k === 'field') {
      out.unshift(cur.name);
      cur = cur.recv;
    } else if (cur.k === 'unary' && (cur.op === '*' || cur.op === '&' || cur.op === '&mut')) {
      cur = cur.expr;
    } else if (cur.k === 'path' && cur.segs.length === 1) {
      out.unshift(cur.segs[0]);
      return out;
    } else if (cur.k === 'method' && (cur.args.length === 0 || cur.name === 'expect') && TRANSPARENT_METHODS.has(cur.name)) {
      cur = cur.recv;
    } else return undefined;
  }
  return undefined;
}

/** Methods that give access to the same value (references, guards), seen through by fieldChain. */
export const TRANSPARENT_METHODS = new Set([
  'as_ref', 'as_mut', 'as_deref', 'as_deref_mut', 'get_ref', 'get_mut', 'lock', 'unwrap', 'expect', 'borrow', 'borrow_mut',
  'clone', 'deref', 'deref_mut', 'get', 'as_pin_ref', 'as_pin_mut', 'get_unchecked_mut', 'try_lock', 'lock_irqsave',
]);

/** The last segment of a callee path, or the method name. */
export function calleeName(e: Expr): string | undefined {
  if (e.k === 'method') return e.name;
  if (e.k === 'call' && e.callee.k === 'path') return e.callee.segs[e.callee.segs.length - 1];
  return undefined;
}
