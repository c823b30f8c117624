// Per-file extraction: Rust source text in, FileFacts out. Pure and synchronous, so it can run
// in a worker thread and its result can be cached by content hash.
import { flattenTree, nodeAtIndex, parseFlat, parseNative } from '../syntax/flat-tree.js';
import { is, parseRust, type SyntaxNode, type Tree } from '../syntax/parser.js';
import {
  FACTS_VERSION,
  type EnumFacts,
  type Expr,
  type FieldFacts,
  type FileFacts,
  type FnFacts,
  type ImplFacts,
  type ItemExtent,
  type MacroItemFacts,
  type MatchArm,
  type Pat,
  type PatBinding,
  type Span,
  type Stmt,
  type StructFacts,
  type TypeRef,
} from './ir.js';
import { extractSuppressions } from './suppressions.js';

/** Expression nesting deeper than this is not analyzed (and the file is marked truncated). */
const MAX_DEPTH = 256;
/** Macro bodies longer than this are not re-parsed as expressions. */
const MAX_MACRO_REPARSE = 64 * 1024;
/** Literal text kept in facts is cut to this length. */
const MAX_LITERAL = 200;

interface Offset {
  row: number;
  col: number;
}

/** Position mapping for macro bodies re-parsed out of context. */
interface Ctx {
  /** Where a re-parsed body sits: its text starts at row `rowStart` of the re-parsed source. */
  offset?: { base: Offset; prefixLen: number; rowStart: number };
  state: { truncated: boolean };
  /** Macro bodies waiting to be re-parsed, all in one parse at the end of the file. */
  pending?: PendingMacro[];
}

interface PendingMacro {
  tt: SyntaxNode;
  apply(args: Expr[], parsed: boolean): void;
}

function spanOf(node: SyntaxNode, ctx: Ctx): Span {
  const s = node.startPosition;
  const e = node.endPosition;
  if (!ctx.offset) return { line: s.row + 1, col: s.column + 1, endLine: e.row + 1, endCol: e.column + 1 };
  const off = ctx.offset;
  const map = (p: { row: number; column: number }) => {
    const row = p.row - off.rowStart;
    return row === 0
      ? { line: off.base.row + 1, col: off.base.col + p.column - off.prefixLen + 1 }
      : { line: off.base.row + row + 1, col: p.column + 1 };
  };
  const a = map(s);
  const b = map(e);
  return { line: a.line, col: a.col, endLine: b.line, endCol: b.col };
}

export interface ExtractOptions {
  /** An already parsed tree of the same text (the language server keeps one per open file). */
  tree?: Tree;
}

/** Facts of a file with no items yet. */
export function emptyFacts(text: string): FileFacts {
  return {
    version: FACTS_VERSION,
    lineCount: countLines(text),
    structs: [],
    enums: [],
    impls: [],
    traits: [],
    fns: [],
    statics: [],
    typeAliases: [],
    uses: [],
    mods: [],
    macros: [],
    suppressions: [],
    items: [],
    syntaxErrors: [],
    truncated: false,
  };
}

export function extractFacts(text: string, options: ExtractOptions = {}): FileFacts {
  // Without a tree to reuse, the native addon parses and copies in one call when it is built.
  const native = options.tree ? undefined : parseNative(text);
  const tree = native ? undefined : (options.tree ?? parseRust(text));
  const facts = emptyFacts(text);
  const ctx: Ctx = { state: { truncated: false }, pending: [] };
  const root = native ?? flattenTree(tree!, text);
  walkItems(root, [], facts, ctx, 0);
  reparseMacroBodies(ctx.pending!, ctx);
  collectSyntaxErrors(root, facts.syntaxErrors);
  const lookup = tree ? tree.rootNode : root;
  facts.suppressions = extractSuppressions(text, (index) => commentAt(lookup, index));
  facts.truncated = ctx.state.truncated;
  return facts;
}

export function countLines(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Whether the code unit at `index` lies inside a line comment (not a doc comment). */
function commentAt(root: SyntaxNode, index: number): boolean {
  for (let n: SyntaxNode | null = nodeAtIndex(root, index); n; n = n.parent) {
    if (n.type === 'line_comment') return !/^\/\/[/!]/.test(n.text) || n.text.startsWith('////');
    if (n.type === 'block_comment') return true;
  }
  return false;
}

function collectSyntaxErrors(root: SyntaxNode, out: Span[]): void {
  if (!root.hasError) return;
  // Iterative: a hostile file may nest deeply.
  const stack: SyntaxNode[] = [root];
  const ctx: Ctx = { state: { truncated: false } };
  while (stack.length > 0 && out.length < 50) {
    const node = stack.pop()!;
    if (node.type === 'ERROR' || node.isMissing) {
      out.push(spanOf(node, ctx));
      continue;
    }
    if (!node.hasError) continue;
    const children = node.children;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// Items

function attrsBefore(node: SyntaxNode): { attrs: string[]; leadLine: number } {
  const attrs: string[] = [];
  let leadLine = node.startPosition.row + 1;
  for (let p = node.previousSibling; p; p = p.previousSibling) {
    if (p.type === 'attribute_item') {
      const attr = p.namedChildren.find((c) => c.type === 'attribute');
      if (attr) attrs.push(attr.text);
      leadLine = p.startPosition.row + 1;
    } else if (p.type === 'line_comment' || p.type === 'block_comment') {
      leadLine = p.startPosition.row + 1;
    } else break;
  }
  return { attrs: attrs.reverse(), leadLine };
}

function addExtent(facts: FileFacts, kind: string, name: string, node: SyntaxNode, ctx: Ctx): void {
  const span = spanOf(node, ctx);
  const leadLine = ctx.offset ? span.line : attrsBefore(node).leadLine;
  facts.items.push({ kind, name, span, leadLine } satisfies ItemExtent);
}

/**
 * `#[cfg(test)]` items and KUnit test modules (`#[kunit_tests(..)]`) are never part of the
 * driver module: they are left out of the facts.
 */
function isAttribute(node: SyntaxNode): boolean {
  return node.type === 'attribute_item' || node.type === 'inner_attribute_item';
}

function isTestOnly(node: SyntaxNode): boolean {
  return attrsBefore(node).attrs.some((a) => /^cfg\s*\(\s*test\s*\)$/.test(a) || /^kunit_tests\b/.test(a));
}

function walkItems(container: SyntaxNode, mod: string[], facts: FileFacts, ctx: Ctx, depth: number): void {
  if (depth > 32) {
    ctx.state.truncated = true;
    return;
  }
  for (const node of container.namedChildren) {
    // An out-of-line `#[cfg(test)] mod tests;` is kept (marked) so that its file is known to
    // belong to the crate; every other test-only item is left out.
    // Attributes end in `_item` but are not items: asking them would walk back over every
    // attribute before them, quadratic in a long run of attributes.
    if (node.type.endsWith('_item') && !isAttribute(node) && isTestOnly(node) && !(node.type === 'mod_item' && !node.childForFieldName('body'))) continue;
    switch (node.type) {
      case 'function_item': {
        const fn = extractFn(node, mod, ctx);
        facts.fns.push(fn);
        addExtent(facts, 'fn', fn.name, node, ctx);
        break;
      }
      case 'struct_item':
      case 'union_item': {
        const s = extractStruct(node, mod, ctx);
        facts.structs.push(s);
        addExtent(facts, 'struct', s.name, node, ctx);
        break;
      }
      case 'enum_item': {
        const e = extractEnum(node, mod, ctx);
        facts.enums.push(e);
        addExtent(facts, 'enum', e.name, node, ctx);
        break;
      }
      case 'impl_item': {
        const impl = extractImpl(node, mod, ctx);
        facts.impls.push(impl);
        const label = impl.trait ? `impl ${impl.trait.text} for ${impl.selfType.text}` : `impl ${impl.selfType.text}`;
        addExtent(facts, 'impl', label, node, ctx);
        const body = node.childForFieldName('body');
        if (body) {
          for (const f of body.namedChildren) {
            if (f.type === 'function_item') addExtent(facts, 'fn', `${impl.selfType.text}::${nameOf(f)}`, f, ctx);
          }
        }
        break;
      }
      case 'trait_item': {
        const body = node.childForFieldName('body');
        const fns = body ? body.namedChildren.filter((c) => c.type === 'function_item').map((f) => extractFn(f, mod, ctx)) : [];
        facts.traits.push({ name: nameOf(node), span: spanOf(node, ctx), mod, fns });
        addExtent(facts, 'trait', nameOf(node), node, ctx);
        break;
      }
      case 'static_item':
      case 'const_item': {
        const typeNode = node.childForFieldName('type');
        const value = node.childForFieldName('value');
        const nameNode = node.childForFieldName('name');
        facts.statics.push({
          kind: node.type === 'static_item' ? 'static' : 'const',
          name: nameOf(node),
          type: typeNode ? typeRef(typeNode, 0) : otherType(node),
          init: value ? expr(value, ctx, 0) : undefined,
          mutable: node.children.some((c) => c.type === 'mutable_specifier'),
          span: spanOf(node, ctx),
          nameSpan: nameNode ? spanOf(nameNode, ctx) : spanOf(node, ctx),
          mod,
          attrs: attrsBefore(node).attrs,
        });
        addExtent(facts, node.type === 'static_item' ? 'static' : 'const', nameOf(node), node, ctx);
        break;
      }
      case 'type_item': {
        const t = node.childForFieldName('type');
        if (t) facts.typeAliases.push({ name: nameOf(node), type: typeRef(t, 0), span: spanOf(node, ctx), mod });
        break;
      }
      case 'use_declaration': {
        const arg = node.childForFieldName('argument');
        if (arg) collectUse(arg, [], facts, mod, spanOf(node, ctx), ctx, 0);
        break;
      }
      case 'mod_item': {
        const name = nameOf(node);
        const body = node.childForFieldName('body');
        const pathAttr = attrsBefore(node).attrs.map((a) => /^path\s*=\s*"([^"]*)"/.exec(a)?.[1]).find((p) => p !== undefined);
        facts.mods.push({ name, inline: !!body, pathAttr, span: spanOf(node, ctx), mod, ...(body || !isTestOnly(node) ? {} : { testOnly: true }) });
        if (body) {
          addExtent(facts, 'mod', name, node, ctx);
          walkItems(body, [...mod, name], facts, ctx, depth + 1);
        }
        break;
      }
      case 'macro_invocation': {
        const m = extractItemMacro(node, mod, facts, ctx);
        facts.macros.push(m);
        addExtent(facts, 'macro', `${m.name}!`, node, ctx);
        break;
      }
      case 'expression_statement': {
        // An item-level macro call written with parentheses and a semicolon parses this way.
        const inner = node.namedChildren[0];
        if (is(inner, 'macro_invocation')) {
          const m = extractItemMacro(inner, mod, facts, ctx);
          facts.macros.push(m);
          addExtent(facts, 'macro', `${m.name}!`, inner, ctx);
        }
        break;
      }
      case 'foreign_mod_item':
      case 'declaration_list': {
        const body = node.childForFieldName('body') ?? (node.type === 'declaration_list' ? node : null);
        if (body) walkItems(body, mod, facts, ctx, depth + 1);
        break;
      }
      default:
        break;
    }
  }
}

function nameOf(node: SyntaxNode): string {
  return node.childForFieldName('name')?.text ?? '';
}

/** Nested `use` lists deeper than this are not read (no real code comes close). */
const MAX_USE_DEPTH = 32;

function collectUse(node: SyntaxNode, prefix: string[], facts: FileFacts, mod: string[], span: Span, ctx: Ctx, depth: number): void {
  if (depth > MAX_USE_DEPTH) {
    ctx.state.truncated = true;
    return;
  }
  switch (node.type) {
    case 'identifier':
    case 'crate':
    case 'self':
    case 'super':
    case 'metavariable': {
      const path = [...prefix, node.text];
      const alias = node.text === 'self' ? prefix[prefix.length - 1] ?? 'self' : node.text;
      facts.uses.push({ alias, path: node.text === 'self' ? prefix : path, glob: false, span, mod });
      break;
    }
    case 'scoped_identifier': {
      const path = [...prefix, ...pathSegments(node)];
      facts.uses.push({ alias: path[path.length - 1], path, glob: false, span, mod });
      break;
    }
    case 'use_as_clause': {
      const p = node.childForFieldName('path');
      const a = node.childForFieldName('alias');
      if (p && a) facts.uses.push({ alias: a.text, path: [...prefix, ...pathSegments(p)], glob: false, span, mod });
      break;
    }
    case 'use_wildcard': {
      const p = node.namedChildren[0];
      facts.uses.push({ alias: '*', path: p ? [...prefix, ...pathSegments(p)] : prefix, glob: true, span, mod });
      break;
    }
    case 'scoped_use_list': {
      const p = node.childForFieldName('path');
      const list = node.childForFieldName('list');
      const next = p ? [...prefix, ...pathSegments(p)] : prefix;
      if (list) for (const c of list.namedChildren) collectUse(c, next, facts, mod, span, ctx, depth + 1);
      break;
    }
    case 'use_list':
      for (const c of node.namedChildren) collectUse(c, prefix, facts, mod, span, ctx, depth + 1);
      break;
    default:
      break;
  }
}

/** Segments of a path expression or type path, without generic arguments. */
function pathSegments(node: SyntaxNode): string[] {
  const out: string[] = [];
  let cur: SyntaxNode | null = node;
  let guard = 0;
  while (cur && guard++ < 64) {
    if (cur.type === 'scoped_identifier' || cur.type === 'scoped_type_identifier') {
      const name = cur.childForFieldName('name');
      if (name) out.unshift(name.type === 'generic_type' ? name.childForFieldName('type')?.text ?? name.text : name.text);
      cur = cur.childForFieldName('path');
    } else if (cur.type === 'generic_type' || cur.type === 'generic_type_with_turbofish') {
      cur = cur.childForFieldName('type');
    } else if (cur.type === 'bracketed_type') {
      // `<T as Trait>::f`: keep the trait when present, else the type.
      const inner = cur.namedChildren[0];
      const qualified = inner && inner.type === 'qualified_type' ? inner.childForFieldName('alias') ?? inner.childForFieldName('type') : inner;
      if (qualified) out.unshift(...pathSegments(qualified));
      break;
    } else {
      out.unshift(cur.text);
      break;
    }
  }
  return out;
}

function extractFn(node: SyntaxNode, mod: string[], ctx: Ctx): FnFacts {
  const params = node.childForFieldName('parameters');
  const ret = node.childForFieldName('return_type');
  const body = node.childForFieldName('body');
  const nameNode = node.childForFieldName('name');
  const fn: FnFacts = {
    name: nameOf(node),
    span: spanOf(node, ctx),
    nameSpan: nameNode ? spanOf(nameNode, ctx) : spanOf(node, ctx),
    mod,
    params: [],
    ret: ret ? typeRef(ret, 0) : undefined,
    body: body ? expr(body, ctx, 0) : undefined,
    attrs: attrsBefore(node).attrs,
  };
  if (params) {
    for (const p of params.namedChildren) {
      if (p.type === 'self_parameter') {
        const typeNode = p.childForFieldName('type' as never);
        fn.self = {
          ref: p.children.some((c) => c.type === '&'),
          mut: p.children.some((c) => c.type === 'mutable_specifier'),
          type: typeNode ? typeRef(typeNode, 0) : undefined,
          span: spanOf(p, ctx),
        };
      } else if (p.type === 'parameter') {
        const pat = p.childForFieldName('pattern');
        const t = p.childForFieldName('type');
        if (pat && pat.type === 'self') {
          fn.self = { ref: false, mut: false, type: t ? typeRef(t, 0) : undefined, span: spanOf(p, ctx) };
          continue;
        }
        const pattern = pat ? pattern_(pat, ctx) : { names: [], text: '', span: spanOf(p, ctx) };
        fn.params.push({
          pat: pattern,
          name: pattern.names.length === 1 && !pattern.ctor ? pattern.names[0].name : undefined,
          type: t ? typeRef(t, 0) : otherType(p),
          span: spanOf(p, ctx),
        });
      }
    }
  }
  return fn;
}

function fieldList(body: SyntaxNode | null, ctx: Ctx): FieldFacts[] {
  if (!body) return [];
  const out: FieldFacts[] = [];
  if (body.type === 'field_declaration_list') {
    for (const f of body.namedChildren) {
      if (f.type !== 'field_declaration') continue;
      const t = f.childForFieldName('type');
      out.push({ name: nameOf(f), type: t ? typeRef(t, 0) : otherType(f), span: spanOf(f, ctx), attrs: attrsBefore(f).attrs });
    }
  } else if (body.type === 'ordered_field_declaration_list') {
    let i = 0;
    for (const t of body.childrenForFieldName('type')) {
      out.push({ name: String(i++), type: typeRef(t, 0), span: spanOf(t, ctx), attrs: [] });
    }
  }
  return out;
}

function typeParamNames(node: SyntaxNode): string[] {
  const tp = node.childForFieldName('type_parameters');
  if (!tp) return [];
  return tp.namedChildren
    .filter((c) => c.type === 'type_parameter' || c.type === 'type_identifier' || c.type === 'constrained_type_parameter')
    .map((c) => (c.childForFieldName('name') ?? c.namedChildren[0] ?? c).text);
}

function extractStruct(node: SyntaxNode, mod: string[], ctx: Ctx): StructFacts {
  const nameNode = node.childForFieldName('name');
  return {
    name: nameOf(node),
    span: spanOf(node, ctx),
    nameSpan: nameNode ? spanOf(nameNode, ctx) : spanOf(node, ctx),
    mod,
    fields: fieldList(node.childForFieldName('body'), ctx),
    attrs: attrsBefore(node).attrs,
    generics: typeParamNames(node),
  };
}

function extractEnum(node: SyntaxNode, mod: string[], ctx: Ctx): EnumFacts {
  const nameNode = node.childForFieldName('name');
  const body = node.childForFieldName('body');
  return {
    name: nameOf(node),
    span: spanOf(node, ctx),
    nameSpan: nameNode ? spanOf(nameNode, ctx) : spanOf(node, ctx),
    mod,
    variants: body
      ? body.namedChildren
          .filter((v) => v.type === 'enum_variant')
          .map((v) => ({ name: nameOf(v), fields: fieldList(v.childForFieldName('body'), ctx) }))
      : [],
    attrs: attrsBefore(node).attrs,
  };
}

function extractImpl(node: SyntaxNode, mod: string[], ctx: Ctx): ImplFacts {
  const traitNode = node.childForFieldName('trait');
  const typeNode = node.childForFieldName('type');
  const body = node.childForFieldName('body');
  const fns: FnFacts[] = [];
  const assocTypes: { name: string; type: TypeRef }[] = [];
  if (body) {
    for (const c of body.namedChildren) {
      if (c.type === 'function_item') fns.push(extractFn(c, mod, ctx));
      else if (c.type === 'type_item') {
        const t = c.childForFieldName('type');
        if (t) assocTypes.push({ name: nameOf(c), type: typeRef(t, 0) });
      }
    }
  }
  const headerEnd = body ? body.startPosition : node.endPosition;
  const start = spanOf(node, ctx);
  return {
    trait: traitNode ? typeRef(traitNode, 0) : undefined,
    selfType: typeNode ? typeRef(typeNode, 0) : otherType(node),
    span: start,
    headerSpan: { line: start.line, col: start.col, endLine: headerEnd.row + 1, endCol: headerEnd.column + 1 },
    mod,
    fns,
    assocTypes,
    attrs: attrsBefore(node).attrs,
  };
}

function extractItemMacro(node: SyntaxNode, mod: string[], facts: FileFacts, ctx: Ctx): MacroItemFacts {
  const macroNode = node.childForFieldName('macro');
  const path = macroNode ? pathSegments(macroNode) : [];
  const tt = node.namedChildren.find((c) => c.type === 'token_tree');
  const keys: Record<string, string> = {};
  if (tt) {
    // `key: value,` pairs at the top level of the token tree (module!, module_pci_driver!, ...).
    const toks = tt.children;
    for (let i = 1; i + 2 < toks.length; i++) {
      if (/^[A-Za-z_]\w*$/.test(toks[i].text) && toks[i + 1].type === ':' && (i === 1 || toks[i - 1].type === ',')) {
        const key = toks[i].text;
        const value: string[] = [];
        let j = i + 2;
        for (; j < toks.length - 1 && toks[j].type !== ','; j++) value.push(toks[j].text);
        if (!(key in keys)) keys[key] = value.join('');
        i = j;
      }
    }
  }
  const name = path[path.length - 1] ?? '';
  const m: MacroItemFacts = { name, path, keys, args: [], span: spanOf(node, ctx), mod };
  if (tt && tt.text.length <= MAX_MACRO_REPARSE) {
    if (/\bstatic\b/.test(tt.text)) reparseMacroItems(tt, mod, facts, ctx);
    else if (/[(.]/.test(tt.text) && !/^\s*[{[]/.test(tt.text.slice(1))) queueMacroArgs(tt, ctx, (args) => (m.args = args));
  }
  return m;
}

/** Statics declared inside a macro (`global_lock! { unsafe(uninit) static X: Mutex<T> = ..; }`). */
function reparseMacroItems(tt: SyntaxNode, mod: string[], facts: FileFacts, ctx: Ctx): void {
  if (ctx.offset) return; // nested re-parse: positions would compound; not worth it
  const inner = tt.text.slice(1, -1).replace(/unsafe\s*\(\s*uninit\s*\)/g, (s) => ' '.repeat(s.length));
  const sub = parseFlat(inner);
  const subCtx: Ctx = { offset: { base: { row: tt.startPosition.row, col: tt.startPosition.column + 1 }, prefixLen: 0, rowStart: 0 }, state: ctx.state };
  const before = facts.statics.length;
  walkItems(sub, mod, facts, subCtx, 30);
  for (let i = before; i < facts.statics.length; i++) facts.statics[i].attrs.push('dmalint::in_macro');
}

const MACRO_PREFIX = 'fn __dmalint_macro() { (';

/** The text a macro body is re-parsed as: a tuple expression inside a function. */
function macroSource(tt: SyntaxNode): string {
  // `field <- init` in pin-init macros: same length, so positions are kept.
  return `${MACRO_PREFIX}${tt.text.slice(1, -1).replace(/<-/g, ': ')}\n); }\n`;
}

/** Asks for a macro body's expressions; `apply` receives them once the file's bodies are parsed. */
function queueMacroArgs(tt: SyntaxNode, ctx: Ctx, apply: PendingMacro['apply']): void {
  if (ctx.offset || !ctx.pending) return; // no nested re-parse
  const open = tt.text[0];
  if (open !== '(' && open !== '[' && open !== '{') return;
  ctx.pending.push({ tt, apply });
}

/**
 * Re-parses every queued macro body of a file in one parse (one function per body): a parse
 * call costs more than the text it reads, and files have many small macro bodies. If a broken
 * body spills into its neighbours, each body is parsed on its own instead.
 */
function reparseMacroBodies(pending: PendingMacro[], ctx: Ctx): void {
  if (pending.length === 0) return;
  const sources = pending.map((p) => macroSource(p.tt));
  const rowStarts: number[] = [];
  let row = 0;
  for (const src of sources) {
    rowStarts.push(row);
    for (let i = src.indexOf('\n'); i !== -1; i = src.indexOf('\n', i + 1)) row++;
  }
  const fns = parseFlat(sources.join('')).namedChildren.filter((c) => c.type === 'function_item');
  const aligned =
    fns.length === pending.length &&
    fns.every((f, i) => f.startPosition.row === rowStarts[i] && (i + 1 === fns.length || f.endPosition.row < rowStarts[i + 1]));
  pending.forEach((p, i) => {
    const fn = aligned ? fns[i] : parseFlat(sources[i]).namedChildren.find((c) => c.type === 'function_item');
    const { args, parsed } = macroArgs(fn, p.tt, aligned ? rowStarts[i] : 0, ctx);
    p.apply(args, parsed);
  });
}

function macroArgs(fn: SyntaxNode | undefined, tt: SyntaxNode, rowStart: number, ctx: Ctx): { args: Expr[]; parsed: boolean } {
  const subCtx: Ctx = {
    offset: { base: { row: tt.startPosition.row, col: tt.startPosition.column + 1 }, prefixLen: MACRO_PREFIX.length, rowStart },
    state: ctx.state,
  };
  const block = fn?.childForFieldName('body');
  const stmt = block?.namedChildren.find((c) => c.type === 'expression_statement' || c.type.endsWith('_expression'));
  const top = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : stmt;
  if (!fn || !top) return { args: [], parsed: false };
  const parsed = !fn.hasError;
  const items = top.type === 'tuple_expression' || top.type === 'parenthesized_expression' ? top.namedChildren : [top];
  const args: Expr[] = [];
  for (const item of items) {
    if (item.type === 'ERROR') {
      for (const c of item.namedChildren) if (isExprNode(c)) args.push(expr(c, subCtx, 1));
    } else if (isExprNode(item)) args.push(expr(item, subCtx, 1));
  }
  return { args, parsed };
}

function isExprNode(n: SyntaxNode): boolean {
  return n.isNamed && !['line_comment', 'block_comment', 'attribute_item', 'ERROR'].includes(n.type);
}

// ---------------------------------------------------------------------------------------------
// Types

function otherType(node: SyntaxNode): TypeRef {
  return { kind: 'other', text: node.text.slice(0, MAX_LITERAL) };
}

function typeRef(node: SyntaxNode, depth: number): TypeRef {
  const text = node.text.length > 300 ? node.text.slice(0, 300) : node.text;
  if (depth > 24) return { kind: 'other', text };
  switch (node.type) {
    case 'type_identifier':
    case 'primitive_type':
    case 'identifier':
      return { kind: 'path', path: [node.text], text };
    case 'scoped_type_identifier':
    case 'scoped_identifier':
      return { kind: 'path', path: pathSegments(node), text };
    case 'generic_type': {
      const base = node.childForFieldName('type');
      const targs = node.childForFieldName('type_arguments');
      return { kind: 'path', path: base ? pathSegments(base) : [text], args: targs ? typeArgs(targs, depth) : [], text };
    }
    case 'reference_type': {
      const inner = node.childForFieldName('type');
      return { kind: 'ref', mut: node.children.some((c) => c.type === 'mutable_specifier'), args: inner ? [typeRef(inner, depth + 1)] : [], text };
    }
    case 'pointer_type': {
      const inner = node.childForFieldName('type');
      return { kind: 'ptr', mut: node.children.some((c) => c.type === 'mutable_specifier'), args: inner ? [typeRef(inner, depth + 1)] : [], text };
    }
    case 'array_type': {
      const el = node.childForFieldName('element');
      const len = node.childForFieldName('length');
      return { kind: len ? 'array' : 'slice', args: el ? [typeRef(el, depth + 1)] : [], text };
    }
    case 'tuple_type':
      return { kind: 'tuple', args: node.namedChildren.map((c) => typeRef(c, depth + 1)), text };
    case 'unit_type':
      return { kind: 'unit', text };
    case 'never_type':
      return { kind: 'never', text };
    case 'function_type':
      return { kind: 'fn', text };
    case 'dynamic_type':
    case 'abstract_type': {
      const t = node.childForFieldName('trait');
      const bounds = t ? (t.type === 'trait_bounds' ? t.namedChildren : [t]) : [];
      return { kind: node.type === 'dynamic_type' ? 'dyn' : 'impl', args: bounds.filter((b) => b.type !== 'lifetime').map((b) => typeRef(b, depth + 1)), text };
    }
    case 'bounded_type':
      return { kind: 'other', args: node.namedChildren.filter((b) => b.type !== 'lifetime').map((b) => typeRef(b, depth + 1)), text };
    case 'qualified_type':
    case 'bracketed_type':
      return { kind: 'path', path: pathSegments(node), text };
    default:
      return { kind: 'other', text };
  }
}

function typeArgs(node: SyntaxNode, depth: number): TypeRef[] {
  const out: TypeRef[] = [];
  for (const c of node.namedChildren) {
    if (c.type === 'lifetime' || c.type.endsWith('_literal') || c.type === 'block') continue;
    if (c.type === 'type_binding') {
      const t = c.childForFieldName('type');
      if (t) out.push(typeRef(t, depth + 1));
      continue;
    }
    out.push(typeRef(c, depth + 1));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Patterns

function pattern_(node: SyntaxNode, ctx: Ctx): Pat {
  const names: PatBinding[] = [];
  let ctor: string[] | undefined;
  const stack: { n: SyntaxNode; mut: boolean; d: number }[] = [{ n: node, mut: false, d: 0 }];
  let first = true;
  while (stack.length > 0) {
    const { n, mut, d } = stack.pop()!;
    if (d > 32) continue;
    switch (n.type) {
      case 'identifier':
        // A lone capitalized identifier is a unit variant or constant (`None`), not a binding.
        if (!/^[A-Z]/.test(n.text) || n.text.length === 1) names.push({ name: n.text, span: spanOf(n, ctx), mut });
        else if (first) ctor = [n.text];
        break;
      case 'mut_pattern':
        for (const c of n.namedChildren) stack.push({ n: c, mut: true, d: d + 1 });
        break;
      case 'tuple_struct_pattern':
      case 'struct_pattern': {
        const t = n.childForFieldName('type');
        if (first && t) ctor = pathSegments(t);
        for (const c of n.namedChildren) if (c !== t) stack.push({ n: c, mut, d: d + 1 });
        break;
      }
      case 'field_pattern': {
        const p = n.childForFieldName('pattern');
        const name = n.childForFieldName('name');
        if (p) stack.push({ n: p, mut, d: d + 1 });
        else if (name) names.push({ name: name.text, span: spanOf(name, ctx), mut: n.children.some((c) => c.type === 'mutable_specifier') });
        break;
      }
      case 'shorthand_field_identifier':
        names.push({ name: n.text, span: spanOf(n, ctx), mut });
        break;
      case 'captured_pattern':
      case 'ref_pattern':
      case 'reference_pattern':
      case 'tuple_pattern':
      case 'slice_pattern':
      case 'or_pattern':
      case 'generic_pattern':
        for (const c of n.namedChildren) stack.push({ n: c, mut, d: d + 1 });
        break;
      case 'scoped_identifier':
        if (first) ctor = pathSegments(n);
        break;
      default:
        break;
    }
    first = false;
  }
  return { names, ctor, text: node.text.slice(0, MAX_LITERAL), span: spanOf(node, ctx) };
}

// ---------------------------------------------------------------------------------------------
// Expressions

function expr(node: SyntaxNode, ctx: Ctx, depth: number): Expr {
  const span = spanOf(node, ctx);
  if (depth > MAX_DEPTH) {
    ctx.state.truncated = true;
    return { k: 'other', children: [], span };
  }
  const d = depth + 1;
  const sub = (n: SyntaxNode | null | undefined): Expr | undefined => (n ? expr(n, ctx, d) : undefined);
  switch (node.type) {
    case 'identifier':
    case 'self':
    case 'super':
    case 'crate':
    case 'metavariable':
    case 'field_identifier':
    case 'type_identifier':
      return { k: 'path', segs: [node.text], span };
    case 'scoped_identifier':
    case 'scoped_type_identifier': {
      // `Type::<T>::f` keeps the turbofish of the type.
      const path = node.childForFieldName('path');
      const targs = path && (path.type === 'generic_type' || path.type === 'generic_type_with_turbofish') ? path.childForFieldName('type_arguments') : null;
      return { k: 'path', segs: pathSegments(node), targs: targs ? typeArgs(targs, 0) : undefined, span };
    }
    case 'generic_function': {
      const f = node.childForFieldName('function');
      const targs = node.childForFieldName('type_arguments');
      const inner = f ? expr(f, ctx, d) : ({ k: 'other', children: [], span } as Expr);
      if (inner.k === 'path') return { ...inner, targs: targs ? typeArgs(targs, 0) : inner.targs, span };
      if (inner.k === 'field') return inner;
      return inner;
    }
    case 'generic_type':
    case 'generic_type_with_turbofish': {
      const t = node.childForFieldName('type');
      const targs = node.childForFieldName('type_arguments');
      return { k: 'path', segs: t ? pathSegments(t) : [node.text], targs: targs ? typeArgs(targs, 0) : undefined, span };
    }
    case 'call_expression': {
      const f = node.childForFieldName('function');
      const argsNode = node.childForFieldName('arguments');
      const args = argsNode ? argsNode.namedChildren.filter(isExprNode).map((a) => expr(a, ctx, d)) : [];
      // `recv.method::<T>(..)` is a generic_function over a field_expression.
      let fnNode = f;
      let targs: TypeRef[] | undefined;
      if (fnNode && fnNode.type === 'generic_function') {
        const inner = fnNode.childForFieldName('function');
        if (inner && inner.type === 'field_expression') {
          const ta = fnNode.childForFieldName('type_arguments');
          targs = ta ? typeArgs(ta, 0) : undefined;
          fnNode = inner;
        }
      }
      if (fnNode && fnNode.type === 'field_expression') {
        const recv = fnNode.childForFieldName('value');
        const field = fnNode.childForFieldName('field');
        return {
          k: 'method',
          recv: recv ? expr(recv, ctx, d) : { k: 'other', children: [], span },
          name: field?.text ?? '',
          targs,
          args,
          span,
          nameSpan: field ? spanOf(field, ctx) : span,
        };
      }
      return { k: 'call', callee: fnNode ? expr(fnNode, ctx, d) : { k: 'other', children: [], span }, args, span };
    }
    case 'field_expression': {
      const recv = node.childForFieldName('value');
      const field = node.childForFieldName('field');
      return { k: 'field', recv: recv ? expr(recv, ctx, d) : { k: 'other', children: [], span }, name: field?.text ?? '', span };
    }
    case 'index_expression': {
      const [a, b] = node.namedChildren;
      return { k: 'index', recv: a ? expr(a, ctx, d) : { k: 'other', children: [], span }, index: b ? expr(b, ctx, d) : { k: 'other', children: [], span }, span };
    }
    case 'macro_invocation': {
      const macroNode = node.childForFieldName('macro');
      const path = macroNode ? pathSegments(macroNode) : [];
      const tt = node.namedChildren.find((c) => c.type === 'token_tree');
      const m: Extract<Expr, { k: 'macro' }> = { k: 'macro', name: path[path.length - 1] ?? '', path, args: [], parsed: false, span };
      if (tt && tt.text.length <= MAX_MACRO_REPARSE && depth < MAX_DEPTH / 2) {
        queueMacroArgs(tt, ctx, (args, parsed) => {
          m.args = args;
          m.parsed = parsed;
        });
      }
      return m;
    }
    case 'closure_expression': {
      const params = node.childForFieldName('parameters');
      const body = node.childForFieldName('body');
      const pats: Pat[] = [];
      if (params) {
        for (const p of params.namedChildren) {
          if (p.type === 'parameter') {
            const pat = p.childForFieldName('pattern');
            if (pat) pats.push(pattern_(pat, ctx));
          } else pats.push(pattern_(p, ctx));
        }
      }
      return {
        k: 'closure',
        params: pats,
        body: sub(body) ?? { k: 'other', children: [], span },
        move: node.children.some((c) => c.type === 'move'),
        span,
      };
    }
    case 'block':
      return block(node, ctx, d, false);
    case 'unsafe_block':
    case 'async_block':
    case 'const_block':
    case 'try_block':
    case 'gen_block': {
      const b = node.namedChildren.find((c) => c.type === 'block');
      return b ? block(b, ctx, d, node.type === 'unsafe_block') : { k: 'other', children: [], span };
    }
    case 'if_expression': {
      const cond = node.childForFieldName('condition');
      const cons = node.childForFieldName('consequence');
      const alt = node.childForFieldName('alternative');
      const elseNode = alt ? alt.namedChildren.find((c) => c.type === 'block' || c.type === 'if_expression') : undefined;
      return {
        k: 'if',
        cond: sub(cond) ?? { k: 'other', children: [], span },
        then: sub(cons) ?? { k: 'other', children: [], span },
        else: sub(elseNode),
        span,
      };
    }
    case 'let_condition': {
      const pat = node.childForFieldName('pattern');
      const value = node.childForFieldName('value');
      return {
        k: 'letcond',
        pat: pat ? pattern_(pat, ctx) : { names: [], text: '', span },
        value: sub(value) ?? { k: 'other', children: [], span },
        span,
      };
    }
    case 'let_chain':
      return { k: 'other', children: node.namedChildren.filter(isExprNode).map((c) => expr(c, ctx, d)), span };
    case 'match_expression': {
      const value = node.childForFieldName('value');
      const body = node.childForFieldName('body');
      const arms: MatchArm[] = [];
      if (body) {
        for (const arm of body.namedChildren) {
          if (arm.type !== 'match_arm') continue;
          const mp = arm.childForFieldName('pattern');
          const v = arm.childForFieldName('value');
          const p = mp ? mp.namedChildren.find((c) => c.type !== 'line_comment' && c !== mp.childForFieldName('condition')) : undefined;
          const guard = mp?.childForFieldName('condition');
          arms.push({
            pat: p ? pattern_(p, ctx) : { names: [], text: '', span: spanOf(arm, ctx) },
            guard: sub(guard),
            body: sub(v) ?? { k: 'other', children: [], span: spanOf(arm, ctx) },
          });
        }
      }
      return { k: 'match', value: sub(value) ?? { k: 'other', children: [], span }, arms, span };
    }
    case 'while_expression': {
      const cond = node.childForFieldName('condition');
      const body = node.childForFieldName('body');
      return { k: 'loop', kind: 'while', cond: sub(cond), body: sub(body) ?? { k: 'other', children: [], span }, span };
    }
    case 'loop_expression': {
      const body = node.childForFieldName('body');
      return { k: 'loop', kind: 'loop', body: sub(body) ?? { k: 'other', children: [], span }, span };
    }
    case 'for_expression': {
      const pat = node.childForFieldName('pattern');
      const value = node.childForFieldName('value');
      const body = node.childForFieldName('body');
      return {
        k: 'loop',
        kind: 'for',
        pat: pat ? pattern_(pat, ctx) : undefined,
        iter: sub(value),
        body: sub(body) ?? { k: 'other', children: [], span },
        span,
      };
    }
    case 'assignment_expression':
    case 'compound_assignment_expr': {
      const l = node.childForFieldName('left');
      const r = node.childForFieldName('right');
      const op = node.type === 'assignment_expression' ? '=' : node.childForFieldName('operator')?.text ?? '=';
      return { k: 'assign', op, target: sub(l) ?? { k: 'other', children: [], span }, value: sub(r) ?? { k: 'other', children: [], span }, span };
    }
    case 'return_expression': {
      const v = node.namedChildren[0];
      return { k: 'return', value: v ? expr(v, ctx, d) : undefined, span };
    }
    case 'reference_expression': {
      const v = node.childForFieldName('value');
      const mut = node.children.some((c) => c.type === 'mutable_specifier');
      return { k: 'unary', op: mut ? '&mut' : '&', expr: sub(v) ?? { k: 'other', children: [], span }, span };
    }
    case 'unary_expression': {
      const op = node.children[0]?.type ?? '';
      const v = node.namedChildren[0];
      return { k: 'unary', op, expr: v ? expr(v, ctx, d) : { k: 'other', children: [], span }, span };
    }
    case 'try_expression': {
      const v = node.namedChildren[0];
      return { k: 'try', expr: v ? expr(v, ctx, d) : { k: 'other', children: [], span }, span };
    }
    case 'await_expression': {
      const v = node.namedChildren[0];
      return v ? expr(v, ctx, d) : { k: 'other', children: [], span };
    }
    case 'binary_expression': {
      const l = node.childForFieldName('left');
      const r = node.childForFieldName('right');
      const op = node.childForFieldName('operator')?.text ?? '';
      return { k: 'binary', op, left: sub(l) ?? { k: 'other', children: [], span }, right: sub(r) ?? { k: 'other', children: [], span }, span };
    }
    case 'type_cast_expression': {
      const v = node.childForFieldName('value');
      const t = node.childForFieldName('type');
      return { k: 'cast', expr: sub(v) ?? { k: 'other', children: [], span }, type: t ? typeRef(t, 0) : otherType(node), span };
    }
    case 'struct_expression': {
      const name = node.childForFieldName('name');
      const body = node.childForFieldName('body');
      const fields: { name: string; value: Expr; span: Span }[] = [];
      let base: Expr | undefined;
      if (body) {
        for (const f of body.namedChildren) {
          if (f.type === 'field_initializer') {
            const fname = f.childForFieldName('field');
            const v = f.childForFieldName('value');
            if (fname && v) fields.push({ name: fname.text, value: expr(v, ctx, d), span: spanOf(f, ctx) });
          } else if (f.type === 'shorthand_field_initializer') {
            const id = f.namedChildren[0];
            if (id) fields.push({ name: id.text, value: { k: 'path', segs: [id.text], span: spanOf(id, ctx) }, span: spanOf(f, ctx) });
          } else if (f.type === 'base_field_initializer') {
            const v = f.namedChildren[0];
            if (v) base = expr(v, ctx, d);
          }
        }
      }
      return { k: 'struct', path: name ? pathSegments(name) : [], fields, base, span };
    }
    case 'tuple_expression':
    case 'array_expression':
    case 'parenthesized_expression': {
      const kind = node.type === 'tuple_expression' ? 'tuple' : node.type === 'array_expression' ? 'array' : 'paren';
      const items = node.namedChildren.filter(isExprNode).map((c) => expr(c, ctx, d));
      if (kind === 'paren' && items.length === 1) return items[0];
      return { k: 'seq', kind, items, span };
    }
    case 'string_literal':
    case 'raw_string_literal':
      return { k: 'lit', kind: 'string', text: node.text.slice(0, MAX_LITERAL), span };
    case 'integer_literal':
    case 'float_literal':
    case 'negative_literal':
      return { k: 'lit', kind: 'number', text: node.text, span };
    case 'boolean_literal':
      return { k: 'lit', kind: 'bool', text: node.text, span };
    case 'char_literal':
      return { k: 'lit', kind: 'char', text: node.text, span };
    case 'expression_statement': {
      const v = node.namedChildren[0];
      return v ? expr(v, ctx, d) : { k: 'other', children: [], span };
    }
    case 'let_declaration':
      return { k: 'block', stmts: [letStmt(node, ctx, d)], span };
    default: {
      // Ranges, breaks, labels, items in blocks and anything else: keep their expressions.
      const children = node.namedChildren.filter((c) => isExprNode(c) && !c.type.endsWith('_item') && c.type !== 'label' && c.type !== 'lifetime');
      return { k: 'other', children: children.map((c) => expr(c, ctx, d)), span };
    }
  }
}

function letStmt(node: SyntaxNode, ctx: Ctx, d: number): Stmt {
  const pat = node.childForFieldName('pattern');
  const t = node.childForFieldName('type');
  const v = node.childForFieldName('value');
  const alt = node.childForFieldName('alternative');
  const span = spanOf(node, ctx);
  return {
    k: 'let',
    pat: pat ? pattern_(pat, ctx) : { names: [], text: '', span },
    type: t ? typeRef(t, 0) : undefined,
    init: v ? expr(v, ctx, d) : undefined,
    else: alt ? expr(alt, ctx, d) : undefined,
    span,
  };
}

function block(node: SyntaxNode, ctx: Ctx, d: number, unsafe: boolean): Expr {
  const stmts: Stmt[] = [];
  for (const c of node.namedChildren) {
    if (c.type === 'let_declaration') stmts.push(letStmt(c, ctx, d));
    else if (c.type === 'expression_statement') {
      const inner = c.namedChildren[0];
      if (inner) stmts.push({ k: 'expr', expr: expr(inner, ctx, d), semi: c.children.some((x) => x.type === ';'), span: spanOf(c, ctx) });
    } else if (c.type === 'line_comment' || c.type === 'block_comment' || c.type === 'attribute_item' || c.type === 'empty_statement') {
      continue;
    } else if (c.type.endsWith('_item') || c.type === 'macro_definition') {
      continue;
    } else if (isExprNode(c)) {
      stmts.push({ k: 'expr', expr: expr(c, ctx, d), semi: false, span: spanOf(c, ctx) });
    }
  }
  return { k: 'block', stmts, unsafe: unsafe || undefined, span: spanOf(node, ctx) };
}
