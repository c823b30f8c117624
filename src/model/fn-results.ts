// Per-function results kept from one analysis of a crate to the next.
//
// The language server analyzes a crate again after every edit, and an edit replaces the facts of
// the items it touched only: the others keep their facts objects (moved in place by whole lines
// when lines are added above them). A function's result can then be reused while the inputs it
// was computed from are the same: its own facts at the same place, the crate's declarations and
// build, the facts of every other function the computation looked into, and whatever crate-wide
// value the caller passes as `key`. A one-off run (the command line) never meets a kept result,
// and pays only for storing it.
import type { FnFacts } from '../facts/ir.js';
import type { Crate, FnNode } from './crate.js';
import type { LazySignature } from './item-signature.js';

interface Kept<T> {
  signature: LazySignature;
  api: Crate['api'];
  cfgs: Crate['cfgs'];
  key: string;
  file: string;
  /** Where the function was: results hold line numbers in their messages. */
  line: number;
  col: number;
  /** The facts of the other functions the result depends on. */
  dependsOn: FnFacts[];
  value: T;
}

/** Records, while a result is computed, the other functions it looks into. */
export type DependsOn = (other: FnNode) => void;

/**
 * Results kept per function: the newest first. Two, so that undoing an edit that changed the
 * crate's declarations (a delimiter typed and deleted, which the parser's recovery turns into
 * other items for a moment) finds the results from before it.
 */
const KEPT_PER_FUNCTION = 2;

export class PerFunctionResults<T> {
  private readonly kept = new WeakMap<FnFacts, Kept<T>[]>();

  /**
   * `movesWithFacts`: the results hold no line or column of their own, only references to the
   * facts' spans, which are moved in place with the function; they stay valid where it moves.
   * Otherwise a result is kept only while the function stays where it was.
   */
  constructor(private readonly options: { movesWithFacts?: boolean } = {}) {}

  /** `fn`'s result: the kept one when nothing it depends on changed, else `compute`'s. */
  of(crate: Crate, fn: FnNode, key: string, compute: (dependsOn: DependsOn) => T): T {
    const kept = this.kept.get(fn.facts) ?? [];
    const valid = kept.find((k) => this.stillValid(k, crate, fn, key));
    if (valid) return valid.value;
    const others = new Set<FnFacts>();
    const value = compute((other) => {
      if (other !== fn) others.add(other.facts);
    });
    const at = fn.facts.nameSpan;
    const entry: Kept<T> = {
      signature: crate.signature,
      api: crate.api,
      cfgs: crate.cfgs,
      key,
      file: fn.file.path,
      line: at.line,
      col: at.col,
      dependsOn: [...others],
      value,
    };
    this.kept.set(fn.facts, [entry, ...kept].slice(0, KEPT_PER_FUNCTION));
    return value;
  }

  private stillValid(kept: Kept<T>, crate: Crate, fn: FnNode, key: string): boolean {
    const at = fn.facts.nameSpan;
    return (
      kept.key === key &&
      kept.api === crate.api &&
      kept.cfgs === crate.cfgs &&
      kept.file === fn.file.path &&
      (this.options.movesWithFacts === true || (kept.line === at.line && kept.col === at.col)) &&
      kept.dependsOn.every((facts) => crate.fnOf(facts) !== undefined) &&
      // Last: the first comparison with an earlier crate works its digest out.
      kept.signature.sameAs(crate.signature)
    );
  }
}
