// Checks that a JSON value read back from the cache has the shape the code expects. A checksum
// proves an entry is what was written; it does not prove it was written by this code or left
// alone since (an edited entry with a fixed checksum, `related: [null]`). Anything off is a miss.
//
// Shapes are data, and the check walks them with an explicit stack: facts nest deeper than a
// recursive walk should go.

export type Shape =
  | 'string'
  | 'boolean'
  | 'number'
  | 'int'
  | { enum: readonly string[] }
  | { array: Shape }
  /** An array of exactly these shapes, in order. */
  | { tuple: readonly Shape[] }
  /** An object with string values of one shape (`Record<string, V>`). */
  | { map: Shape }
  /** Fields that must be present; `optional` ones may be absent (but not null). */
  | { fields: Record<string, Shape>; optional?: Record<string, Shape> }
  /** Objects told apart by a string field (`k`), each with its own fields. */
  | { tag: string; cases: Record<string, { fields: Record<string, Shape>; optional?: Record<string, Shape> }> }
  /** A shape defined later (for recursive types). */
  | { ref: () => Shape };

/** Whether `value` has `shape`. Never throws; linear in the size of `value`. */
export function hasShape(value: unknown, shape: Shape): boolean {
  // Two stacks (value, shape) rather than one of pairs, and each shape's fields listed once:
  // facts read back from the cache hold hundreds of thousands of values, each checked.
  const values: unknown[] = [value];
  const shapes: Shape[] = [shape];
  while (values.length > 0) {
    if (!checkOne(values.pop(), shapes.pop()!, values, shapes)) return false;
  }
  return true;
}

function checkOne(v: unknown, s: Shape, values: unknown[], shapes: Shape[]): boolean {
  if (s === 'string') return typeof v === 'string';
  if (s === 'boolean') return typeof v === 'boolean';
  if (s === 'number') return typeof v === 'number' && Number.isFinite(v);
  if (s === 'int') return Number.isInteger(v);
  if ('ref' in s) {
    values.push(v);
    shapes.push(s.ref());
    return true;
  }
  if ('enum' in s) return typeof v === 'string' && s.enum.includes(v);
  if ('array' in s) {
    if (!Array.isArray(v)) return false;
    for (const item of v) {
      values.push(item);
      shapes.push(s.array);
    }
    return true;
  }
  if ('tuple' in s) {
    if (!Array.isArray(v) || v.length !== s.tuple.length) return false;
    s.tuple.forEach((item, i) => {
      values.push(v[i]);
      shapes.push(item);
    });
    return true;
  }
  if (!isObject(v)) return false;
  if ('map' in s) {
    for (const item of Object.values(v)) {
      values.push(item);
      shapes.push(s.map);
    }
    return true;
  }
  let fields: { fields: Record<string, Shape>; optional?: Record<string, Shape> };
  if ('tag' in s) {
    const tag = v[s.tag];
    if (typeof tag !== 'string' || !Object.hasOwn(s.cases, tag)) return false;
    fields = s.cases[tag];
  } else fields = s;
  for (const [name, shape] of entriesOf(fields.fields)) {
    if (!Object.hasOwn(v, name)) return false;
    values.push(v[name]);
    shapes.push(shape);
  }
  if (fields.optional) {
    for (const [name, shape] of entriesOf(fields.optional)) {
      if (!Object.hasOwn(v, name)) continue;
      values.push(v[name]);
      shapes.push(shape);
    }
  }
  return true;
}

const fieldLists = new WeakMap<Record<string, Shape>, [string, Shape][]>();

/** A shape's fields as a list, made once per shape. */
function entriesOf(fields: Record<string, Shape>): [string, Shape][] {
  let list = fieldLists.get(fields);
  if (!list) fieldLists.set(fields, (list = Object.entries(fields)));
  return list;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const strings: Shape = { array: 'string' };

export const SPAN: Shape = { fields: { line: 'int', col: 'int', endLine: 'int', endCol: 'int' } };

/** A reported location (`Location` in src/lint/types.ts). */
export const LOCATION: Shape = { fields: { file: 'string', span: SPAN }, optional: { message: 'string' } };

/** A finding as the results cache stores it (`Finding` in src/lint/types.ts). */
export const FINDING: Shape = {
  fields: { rule: 'string', level: { enum: ['warn', 'deny'] }, message: 'string', primary: LOCATION, related: { array: LOCATION }, notes: strings },
  optional: {
    help: 'string',
    item: 'string',
    suppression: { fields: { reason: 'string', location: LOCATION } },
    fixes: { array: { fields: { title: 'string', edits: { array: { ref: () => RULE_EDIT } } } } },
  },
};

/** A rule's line edit (RuleEdit in src/rule/api.ts). */
const RULE_EDIT: Shape = {
  tag: 'kind',
  cases: {
    insert: { fields: { file: 'string', before: 'number', lines: strings, indentOf: 'number', indentExtra: 'number' } },
    move: { fields: { file: 'string', from: 'number', to: 'number', after: 'number' } },
  },
};

/** What a file's notices need from its facts (`FileReport` in src/facts/pipeline.ts). */
export const FILE_REPORT: Shape = { fields: { syntaxErrors: { array: SPAN }, truncated: 'boolean' } };

// The facts IR (src/facts/ir.ts), field by field.
const typeRef: Shape = {
  fields: { kind: { enum: ['path', 'ref', 'ptr', 'array', 'slice', 'tuple', 'fn', 'dyn', 'impl', 'never', 'unit', 'other'] }, text: 'string' },
  optional: { path: strings, args: { array: { ref: () => typeRef } }, mut: 'boolean' },
};
const pat: Shape = {
  fields: { names: { array: { fields: { name: 'string', span: SPAN, mut: 'boolean' } } }, text: 'string', span: SPAN },
  optional: { ctor: strings },
};
const expr: Shape = { ref: () => EXPR };
const exprs: Shape = { array: expr };
const types: Shape = { array: typeRef };
const stmt: Shape = {
  tag: 'k',
  cases: {
    let: { fields: { pat, span: SPAN }, optional: { type: typeRef, init: expr, else: expr } },
    expr: { fields: { expr, semi: 'boolean', span: SPAN } },
  },
};
const EXPR: Shape = {
  tag: 'k',
  cases: {
    path: { fields: { segs: strings, span: SPAN }, optional: { targs: types } },
    call: { fields: { callee: expr, args: exprs, span: SPAN } },
    method: { fields: { recv: expr, name: 'string', args: exprs, span: SPAN, nameSpan: SPAN }, optional: { targs: types } },
    field: { fields: { recv: expr, name: 'string', span: SPAN } },
    index: { fields: { recv: expr, index: expr, span: SPAN } },
    macro: { fields: { name: 'string', path: strings, args: exprs, parsed: 'boolean', span: SPAN } },
    closure: { fields: { params: { array: pat }, body: expr, move: 'boolean', span: SPAN } },
    block: { fields: { stmts: { array: stmt }, span: SPAN }, optional: { unsafe: 'boolean' } },
    if: { fields: { cond: expr, then: expr, span: SPAN }, optional: { else: expr } },
    letcond: { fields: { pat, value: expr, span: SPAN } },
    match: { fields: { value: expr, arms: { array: { fields: { pat, body: expr }, optional: { guard: expr } } }, span: SPAN } },
    loop: { fields: { kind: { enum: ['loop', 'while', 'for'] }, body: expr, span: SPAN }, optional: { cond: expr, pat, iter: expr } },
    assign: { fields: { op: 'string', target: expr, value: expr, span: SPAN } },
    return: { fields: { span: SPAN }, optional: { value: expr } },
    unary: { fields: { op: 'string', expr, span: SPAN } },
    try: { fields: { expr, span: SPAN } },
    binary: { fields: { op: 'string', left: expr, right: expr, span: SPAN } },
    cast: { fields: { expr, type: typeRef, span: SPAN } },
    struct: { fields: { path: strings, fields: { array: { fields: { name: 'string', value: expr, span: SPAN } } }, span: SPAN }, optional: { base: expr } },
    seq: { fields: { kind: { enum: ['tuple', 'array', 'paren'] }, items: exprs, span: SPAN } },
    lit: { fields: { kind: { enum: ['string', 'number', 'bool', 'char', 'other'] }, text: 'string', span: SPAN } },
    other: { fields: { children: exprs, span: SPAN } },
  },
};
const fieldFacts: Shape = { fields: { name: 'string', type: typeRef, span: SPAN, attrs: strings } };
const fnFacts: Shape = {
  fields: {
    name: 'string',
    span: SPAN,
    nameSpan: SPAN,
    mod: strings,
    params: { array: { fields: { pat, type: typeRef, span: SPAN }, optional: { name: 'string' } } },
    attrs: strings,
  },
  optional: { self: { fields: { ref: 'boolean', mut: 'boolean', span: SPAN }, optional: { type: typeRef } }, ret: typeRef, body: expr },
};
const named = { name: 'string', span: SPAN, mod: strings } as const;

/** `FileFacts` of this version's IR (the version number itself is checked by the caller). */
export const FILE_FACTS: Shape = {
  fields: {
    version: 'int',
    lineCount: 'int',
    structs: { array: { fields: { ...named, nameSpan: SPAN, fields: { array: fieldFacts }, attrs: strings, generics: strings } } },
    enums: { array: { fields: { ...named, nameSpan: SPAN, variants: { array: { fields: { name: 'string', fields: { array: fieldFacts } } } }, attrs: strings } } },
    impls: {
      array: {
        fields: { selfType: typeRef, span: SPAN, headerSpan: SPAN, mod: strings, fns: { array: fnFacts }, assocTypes: { array: { fields: { name: 'string', type: typeRef } } }, attrs: strings },
        optional: { trait: typeRef },
      },
    },
    traits: { array: { fields: { ...named, fns: { array: fnFacts } } } },
    fns: { array: fnFacts },
    statics: {
      array: { fields: { ...named, kind: { enum: ['static', 'const'] }, type: typeRef, mutable: 'boolean', nameSpan: SPAN, attrs: strings }, optional: { init: expr } },
    },
    typeAliases: { array: { fields: { ...named, type: typeRef } } },
    uses: { array: { fields: { alias: 'string', path: strings, glob: 'boolean', span: SPAN, mod: strings } } },
    mods: { array: { fields: { ...named, inline: 'boolean' }, optional: { pathAttr: 'string', testOnly: 'boolean' } } },
    macros: { array: { fields: { ...named, path: strings, keys: { map: 'string' }, args: exprs } } },
    suppressions: {
      array: { fields: { rules: strings, reason: 'string', span: SPAN, placement: { enum: ['own-line', 'trailing'] } }, optional: { malformed: 'string' } },
    },
    items: { array: { fields: { kind: 'string', name: 'string', span: SPAN, leadLine: 'int' } } },
    syntaxErrors: { array: SPAN },
    truncated: 'boolean',
  },
};
