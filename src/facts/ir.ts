// The per-file facts: a serializable summary of one Rust file, produced by a pure function of
// its text (see extract.ts). Everything the model and rules know about a file is here, so the
// facts can be cached by content hash and produced in worker threads.

/** Bump when the shape or meaning of the facts changes: it invalidates cached facts. */
export const FACTS_VERSION = 2;

/** 1-based lines, 1-based columns counted in UTF-16 code units (as editors and LSP do). */
export interface Span {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

/** A type as written, normalized. `path` segments exclude generic arguments. */
export interface TypeRef {
  kind: 'path' | 'ref' | 'ptr' | 'array' | 'slice' | 'tuple' | 'fn' | 'dyn' | 'impl' | 'never' | 'unit' | 'other';
  /** For `path`: the segments, e.g. ['kernel', 'dma', 'CoherentAllocation']. */
  path?: string[];
  /** Generic type arguments (path), element (ref/ptr/array/slice), elements (tuple), bounds (dyn/impl). */
  args?: TypeRef[];
  mut?: boolean;
  text: string;
}

export interface PatBinding {
  name: string;
  span: Span;
  mut: boolean;
}

/** A pattern, reduced to the names it binds and its outermost constructor (`Some`, `Ok`, a struct). */
export interface Pat {
  names: PatBinding[];
  ctor?: string[];
  text: string;
  span: Span;
}

export type Expr =
  | { k: 'path'; segs: string[]; targs?: TypeRef[]; span: Span }
  | { k: 'call'; callee: Expr; args: Expr[]; span: Span }
  | { k: 'method'; recv: Expr; name: string; targs?: TypeRef[]; args: Expr[]; span: Span; nameSpan: Span }
  | { k: 'field'; recv: Expr; name: string; span: Span }
  | { k: 'index'; recv: Expr; index: Expr; span: Span }
  | { k: 'macro'; name: string; path: string[]; args: Expr[]; parsed: boolean; span: Span }
  | { k: 'closure'; params: Pat[]; body: Expr; move: boolean; span: Span }
  | { k: 'block'; stmts: Stmt[]; unsafe?: boolean; span: Span }
  | { k: 'if'; cond: Expr; then: Expr; else?: Expr; span: Span }
  | { k: 'letcond'; pat: Pat; value: Expr; span: Span }
  | { k: 'match'; value: Expr; arms: MatchArm[]; span: Span }
  | { k: 'loop'; kind: 'loop' | 'while' | 'for'; cond?: Expr; pat?: Pat; iter?: Expr; body: Expr; span: Span }
  | { k: 'assign'; op: string; target: Expr; value: Expr; span: Span }
  | { k: 'return'; value?: Expr; span: Span }
  | { k: 'unary'; op: string; expr: Expr; span: Span }
  | { k: 'try'; expr: Expr; span: Span }
  | { k: 'binary'; op: string; left: Expr; right: Expr; span: Span }
  | { k: 'cast'; expr: Expr; type: TypeRef; span: Span }
  | { k: 'struct'; path: string[]; fields: StructFieldInit[]; base?: Expr; span: Span }
  | { k: 'seq'; kind: 'tuple' | 'array' | 'paren'; items: Expr[]; span: Span }
  | { k: 'lit'; kind: 'string' | 'number' | 'bool' | 'char' | 'other'; text: string; span: Span }
  | { k: 'other'; children: Expr[]; span: Span };

export interface MatchArm {
  pat: Pat;
  guard?: Expr;
  body: Expr;
}

export interface StructFieldInit {
  name: string;
  value: Expr;
  span: Span;
}

export type Stmt =
  | { k: 'let'; pat: Pat; type?: TypeRef; init?: Expr; else?: Expr; span: Span }
  | { k: 'expr'; expr: Expr; semi: boolean; span: Span };

export interface Param {
  pat: Pat;
  /** The simple name bound, if the pattern is a plain identifier. */
  name?: string;
  type: TypeRef;
  span: Span;
}

export interface SelfParam {
  ref: boolean;
  mut: boolean;
  type?: TypeRef;
  span: Span;
}

export interface FnFacts {
  name: string;
  span: Span;
  nameSpan: Span;
  /** Inline module path inside this file (`mod a { fn f() }` gives ['a']). */
  mod: string[];
  params: Param[];
  self?: SelfParam;
  ret?: TypeRef;
  body?: Expr;
  attrs: string[];
}

export interface FieldFacts {
  /** Field name, or its index for tuple structs. */
  name: string;
  type: TypeRef;
  span: Span;
  attrs: string[];
}

export interface StructFacts {
  name: string;
  span: Span;
  nameSpan: Span;
  mod: string[];
  fields: FieldFacts[];
  attrs: string[];
  generics: string[];
}

export interface EnumFacts {
  name: string;
  span: Span;
  nameSpan: Span;
  mod: string[];
  variants: { name: string; fields: FieldFacts[] }[];
  attrs: string[];
}

export interface ImplFacts {
  trait?: TypeRef;
  selfType: TypeRef;
  span: Span;
  /** The `impl ... for X` header, for reporting. */
  headerSpan: Span;
  mod: string[];
  fns: FnFacts[];
  assocTypes: { name: string; type: TypeRef }[];
  attrs: string[];
}

export interface TraitFacts {
  name: string;
  span: Span;
  mod: string[];
  fns: FnFacts[];
}

export interface StaticFacts {
  kind: 'static' | 'const';
  name: string;
  type: TypeRef;
  init?: Expr;
  mutable: boolean;
  span: Span;
  nameSpan: Span;
  mod: string[];
  attrs: string[];
}

export interface TypeAliasFacts {
  name: string;
  type: TypeRef;
  span: Span;
  mod: string[];
}

/** One leaf of a `use` tree: `use a::b::{c as d}` gives { alias: 'd', path: ['a','b','c'] }. */
export interface UseFacts {
  alias: string;
  path: string[];
  glob: boolean;
  span: Span;
  mod: string[];
}

export interface ModFacts {
  name: string;
  /** `mod x { ... }` (true) or `mod x;` (false). */
  inline: boolean;
  pathAttr?: string;
  /** `#[cfg(test)] mod tests;`: the file is test code, not part of the driver. */
  testOnly?: true;
  span: Span;
  /** Enclosing inline module path. */
  mod: string[];
}

/** An item-level macro invocation such as `module_pci_driver! { .. }` or `global_lock! { .. }`. */
export interface MacroItemFacts {
  name: string;
  path: string[];
  /** `key: Value` pairs found at the top level of the macro's token tree. */
  keys: Record<string, string>;
  /** Expressions parsed from the body, when the body parses as expressions. */
  args: Expr[];
  span: Span;
  mod: string[];
}

export interface SuppressionFacts {
  rules: string[];
  reason: string;
  span: Span;
  /** `own-line`: the comment is alone on its line; `trailing`: it ends a line of code. */
  placement: 'own-line' | 'trailing';
  /** Whether the comment is malformed (unparsable rule list). */
  malformed?: string;
}

/** An item's extent, for item-level suppressions and for naming the item a finding is in. */
export interface ItemExtent {
  kind: string;
  name: string;
  span: Span;
  /** First line of the attributes and comments directly above the item. */
  leadLine: number;
}

export interface FileFacts {
  version: number;
  lineCount: number;
  structs: StructFacts[];
  enums: EnumFacts[];
  impls: ImplFacts[];
  traits: TraitFacts[];
  fns: FnFacts[];
  statics: StaticFacts[];
  typeAliases: TypeAliasFacts[];
  uses: UseFacts[];
  mods: ModFacts[];
  macros: MacroItemFacts[];
  suppressions: SuppressionFacts[];
  items: ItemExtent[];
  /** Where the parser recovered from syntax errors. */
  syntaxErrors: Span[];
  /** Set when parts of the file were not analyzed (nesting deeper than the walker's bound). */
  truncated: boolean;
}
