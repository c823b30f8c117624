// The optional native addon (native/flat_parse.c) that parses Rust text and exports the whole
// tree's node columns in one call, instead of copying them node by node out of the tree-sitter
// binding (see flat-tree.ts). `npm ci` builds it; when it is not built, fails to load or is
// turned off with DMALINT_NATIVE=0, `getNativeParse()` answers undefined and dmalint parses
// through the binding as before. Both run the same tree-sitter core on the same language object.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Columns } from './flat-tree.js';

const require = createRequire(import.meta.url);

/** One parsed tree: every visible node in preorder; offsets in UTF-16 code units. */
export interface NativeColumns extends Columns {
  count: number;
  /** Per node, present only when the root has an error (`ts_node_is_missing`, `ts_node_has_error`). */
  missing?: Uint8Array;
  error?: Uint8Array;
}

export interface NativeParse {
  parse(text: string): NativeColumns;
  /** The language's ABI version, as the core read it. */
  abi: number;
  /** The version of the tree-sitter package whose core the addon was compiled from. */
  treeSitter: string;
  /** Symbol names by id (the ERROR symbol at 65535; holes elsewhere past the table). */
  names: (string | null | undefined)[];
  /** 1 where a symbol is named, by id. */
  named: Uint8Array;
  /** Field names by id; id 0 is no field. */
  fields: (string | null)[];
}

interface Addon {
  init(language: unknown): { abi: number; treeSitter: string; names: (string | null)[]; named: Uint8Array; fields: (string | null)[] };
  parse(text: string): NativeColumns;
}

let loaded: NativeParse | null | undefined;
let enabled = process.env.DMALINT_NATIVE !== '0';
let loadError: string | undefined;

/** The addon, ready to parse, or undefined when it is absent, broken or turned off. */
export function getNativeParse(): NativeParse | undefined {
  if (!enabled) return undefined;
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

/** Why the addon did not load (undefined when it loaded or was not tried). For tests and diagnostics. */
export function nativeParseLoadError(): string | undefined {
  return loadError;
}

/** Turns the addon's use on or off in this thread (tests compare both paths in one process). */
export function useNativeParse(on: boolean): void {
  enabled = on;
}

/**
 * A digest of the built addon, '' when it is not built: part of the cache's namespaces, so facts
 * kept from an addon built from other C sources are never read back.
 */
export function nativeAddonDigest(): string {
  const file = addonPath();
  if (!file) return '';
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return '';
  }
}

/** The built addon's path: `native/build/Release/flat_parse.node` at the package root. */
function addonPath(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = path.join(dir, 'native', 'build', 'Release', 'flat_parse.node');
    if (fs.existsSync(path.join(dir, 'package.json'))) return fs.existsSync(candidate) ? candidate : undefined;
    dir = path.dirname(dir);
  }
  return undefined;
}

function load(): NativeParse | null {
  try {
    const file = addonPath();
    if (!file) {
      loadError = 'native/build/Release/flat_parse.node is not built';
      return null;
    }
    const addon = require(file) as Addon;
    // The very language object the binding parses with (the grammar's prebuilt or built addon).
    const tables = addon.init(require('tree-sitter-rust'));
    // Built against another tree-sitter than the installed one (upgraded without rebuilding):
    // its core could parse differently from the binding's.
    const installed = (require('tree-sitter/package.json') as { version: string }).version;
    if (tables.treeSitter !== installed) {
      loadError = `the native addon was built for tree-sitter ${tables.treeSitter}, not the installed ${installed}; run npm ci`;
      return null;
    }
    return { parse: (text) => addon.parse(text), ...tables };
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
    return null;
  }
}
