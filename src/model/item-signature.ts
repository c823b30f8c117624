// What a crate's items declare, without function bodies and positions: two crates with the same
// signature resolve a given body's calls to the same functions. The language server keeps the
// facts of unedited items across edits, so each item's text is worked out once and kept with it.
import { createHash } from 'node:crypto';
import type { FileFacts } from '../facts/ir.js';
import type { CrateFile } from './crate-graph.js';

/** The parts of a file's facts that declare something; bodies of functions are left out below. */
const DECLARING_KEYS = ['structs', 'enums', 'impls', 'traits', 'fns', 'statics', 'typeAliases', 'uses', 'mods', 'macros'] as const satisfies readonly (keyof FileFacts)[];

const fnText = new WeakMap<object, string>();

/**
 * The declaration digest of a crate, worked out only when a later crate compares its own with
 * it: a one-off run (the command line) never pays for it.
 */
export class LazySignature {
  private digest: string | undefined;
  private files: readonly CrateFile[] | undefined;

  constructor(files: readonly CrateFile[]) {
    // A snapshot: the digest must be of the declarations as they are now, whenever it is asked.
    this.files = files.map((f) => ({ ...f }));
  }

  get value(): string {
    if (this.digest === undefined) {
      this.digest = crateSignature(this.files ?? []);
      this.files = undefined;
    }
    return this.digest;
  }

  sameAs(other: LazySignature): boolean {
    return this === other || this.value === other.value;
  }
}

/** A short digest of the declarations of `files`, in their order. */
function crateSignature(files: readonly CrateFile[]): string {
  const hash = createHash('sha1');
  for (const file of files) {
    hash.update(`\0file ${file.path} ${file.modPath.join('::')}\0`);
    for (const key of DECLARING_KEYS) {
      hash.update(`\0${key}`);
      for (const item of file.facts[key]) hash.update(digestOf(item));
    }
  }
  return hash.digest('base64');
}

const itemDigest = new WeakMap<object, string>();

/** An item's text, digested once per item object: the crate's digest then hashes little. */
function digestOf(item: object): string {
  let digest = itemDigest.get(item);
  if (digest === undefined) {
    digest = createHash('sha1').update(textOf(item)).digest('base64');
    itemDigest.set(item, digest);
  }
  return digest;
}

function textOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(textOf).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const fnLike = 'nameSpan' in obj && 'params' in obj;
  // A method keeps its facts object while another method of its impl is edited: its text is kept.
  const cached = fnLike ? fnText.get(obj) : undefined;
  if (cached !== undefined) return cached;
  const parts: string[] = [];
  for (const key in obj) {
    const v = obj[key];
    // Positions move when lines are added above; a function's body is what is cached per body.
    if (isSpan(v) || (fnLike && key === 'body')) continue;
    parts.push(`${key}:${textOf(v)}`);
  }
  const text = `{${parts.join(',')}}`;
  if (fnLike) fnText.set(obj, text);
  return text;
}

function isSpan(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { line?: unknown }).line === 'number' && typeof (v as { endLine?: unknown }).endLine === 'number';
}
