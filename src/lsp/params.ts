// Checks the shape of what a client sends before a handler reads it: a request with params of
// the wrong type is answered with -32602 and a message that names the field, never with an
// internal error and a stack trace.

/** `string`, `integer`, `object`, `array`, `position`, `range`; a trailing `?` allows absence and null. */
export type FieldKind = 'string' | 'integer' | 'object' | 'array' | 'position' | 'range';
export type FieldSpec = Record<string, FieldKind | `${FieldKind}?`>;

/** What is wrong with `params` for `method`, or undefined when it has the expected shape. */
export function paramsProblem(params: unknown, spec: FieldSpec): string | undefined {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return 'params must be an object';
  for (const [field, kind] of Object.entries(spec)) {
    const optional = kind.endsWith('?');
    const want = (optional ? kind.slice(0, -1) : kind) as FieldKind;
    const value = valueAt(params, field);
    if (value === undefined || value === null) {
      if (optional) continue;
      return `\`${field}\` is missing`;
    }
    if (!isKind(value, want)) return `\`${field}\` must be ${ARTICLE[want]}`;
  }
  return undefined;
}

/** What is wrong with any element of the array at `field`, checked against `spec`. */
export function elementsProblem(params: unknown, field: string, spec: FieldSpec): string | undefined {
  const list = valueAt(params, field);
  if (!Array.isArray(list)) return undefined;
  for (let i = 0; i < list.length; i++) {
    const problem = paramsProblem(list[i], spec);
    if (problem) return `\`${field}[${i}]\`: ${problem.replace(/^params/, 'the element')}`;
  }
  return undefined;
}

const ARTICLE: Record<FieldKind, string> = {
  string: 'a string',
  integer: 'a whole number',
  object: 'an object',
  array: 'an array',
  position: 'a position (`line` and `character`, whole numbers)',
  range: 'a range (`start` and `end` positions)',
};

function valueAt(root: unknown, field: string): unknown {
  let v = root;
  for (const part of field.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function isPosition(v: unknown): boolean {
  const p = v as { line?: unknown; character?: unknown };
  return typeof p === 'object' && p !== null && isUint(p.line) && isUint(p.character);
}

function isUint(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0;
}

function isKind(v: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return Number.isInteger(v);
    case 'object':
      return typeof v === 'object' && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'position':
      return isPosition(v);
    case 'range':
      return typeof v === 'object' && isPosition((v as { start?: unknown }).start) && isPosition((v as { end?: unknown }).end);
  }
}

/** The shapes of the params dmalint reads, per method. */
export const PARAMS: Record<string, { spec: FieldSpec; elements?: [string, FieldSpec][] }> = {
  initialize: { spec: { capabilities: 'object', rootUri: 'string?', rootPath: 'string?', workspaceFolders: 'array?' }, elements: [['workspaceFolders', { uri: 'string' }]] },
  'textDocument/didOpen': { spec: { 'textDocument.uri': 'string', 'textDocument.languageId': 'string', 'textDocument.version': 'integer', 'textDocument.text': 'string' } },
  'textDocument/didChange': {
    spec: { 'textDocument.uri': 'string', 'textDocument.version': 'integer?', contentChanges: 'array' },
    elements: [['contentChanges', { text: 'string', range: 'range?' }]],
  },
  'textDocument/didClose': { spec: { 'textDocument.uri': 'string' } },
  'textDocument/didSave': { spec: { 'textDocument.uri': 'string' } },
  'workspace/didChangeWatchedFiles': { spec: { changes: 'array' }, elements: [['changes', { uri: 'string', type: 'integer' }]] },
  'textDocument/codeAction': {
    spec: { 'textDocument.uri': 'string', range: 'range', context: 'object', 'context.diagnostics': 'array?', 'context.only': 'array?' },
    elements: [['context.diagnostics', { range: 'range' }]],
  },
  'textDocument/hover': { spec: { 'textDocument.uri': 'string', position: 'position' } },
  'workspace/executeCommand': { spec: { command: 'string', arguments: 'array?' } },
  'textDocument/diagnostic': { spec: { 'textDocument.uri': 'string', previousResultId: 'string?' } },
  'workspace/diagnostic': { spec: { previousResultIds: 'array?' }, elements: [['previousResultIds', { uri: 'string', value: 'string' }]] },
};

/** What is wrong with the params of `method`, per `PARAMS`. */
export function methodParamsProblem(method: string, params: unknown): string | undefined {
  const shape = PARAMS[method];
  if (!shape) return undefined;
  const problem = paramsProblem(params, shape.spec);
  if (problem) return problem;
  for (const [field, spec] of shape.elements ?? []) {
    const p = elementsProblem(params, field, spec);
    if (p) return p;
  }
  return undefined;
}
