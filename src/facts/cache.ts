// The persistent cache: content-addressed entries on disk, written atomically and checked on
// every read. An entry that is truncated, garbled, from another version or for another key is
// a miss (and is rewritten by the run that recomputes it), never a result.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FACTS_VERSION, type FileFacts } from './ir.js';
import { FILE_FACTS, hasShape } from './shape.js';

/** First line of every entry; the payload follows it. */
interface EntryHeader {
  dmalint: 'cache-entry';
  /** Which namespace (and so which code and versions) wrote the entry. */
  tag: string;
  key: string;
  /** sha256 of the payload, hex. */
  sum: string;
  /** Payload length in UTF-16 code units. */
  length: number;
}

export interface CacheCounters {
  hits: number;
  misses: number;
  /** Entries that existed but failed validation (and were treated as misses). */
  rejected: number;
  writes: number;
  /** Writes that failed (full disk, permissions): the run goes on without them. */
  writeErrors: number;
}

export function newCounters(): CacheCounters {
  return { hits: 0, misses: 0, rejected: 0, writes: 0, writeErrors: 0 };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A file's content hash, computed once per run: run, component and facts keys all use it. */
export function digestOf(file: { text: string; digest?: string }): string {
  return (file.digest ??= sha256(file.text));
}

/**
 * Where the cache lives when `--cache-dir` is not given: inside the `node_modules` of the
 * project being linted when it has one (so the cache goes away with it, as other JavaScript
 * tools do), else `$XDG_CACHE_HOME/dmalint`, else `~/.cache/dmalint`. The project is the
 * nearest folder at or above `cwd` that has a `package.json`.
 */
export function defaultCacheDir(cwd: string, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const modules = path.join(dir, 'node_modules');
      if (isDirectory(modules)) return path.join(modules, '.cache', 'dmalint');
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'dmalint');
  return path.join(home, '.cache', 'dmalint');
}

/**
 * Creates `dir` and the folders missing above it, one `mkdir` each. (A recursive `mkdir` under
 * `/proc` never ends: each ENOENT sends it back to the parent, which exists.) Throws the first
 * error other than "already there".
 */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let cur = path.resolve(dir); !fs.existsSync(cur); cur = path.dirname(cur)) {
    missing.push(cur);
    if (path.dirname(cur) === cur) break;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      fs.mkdirSync(missing[i]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** A cache folder that cannot hold the cache; the message says why, in a few words. */
export class CacheDirError extends Error {
  override name = 'CacheDirError';
}

/**
 * Makes sure `dir` can hold the cache before a run relies on it: it is (or is created as) a
 * folder, and a file can be written and removed inside it. `/proc`, a read-only mount or a
 * regular file fail here with a reason instead of failing every write later.
 */
export function prepareCacheDir(dir: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir, { throwIfNoEntry: false });
  } catch (e) {
    throw new CacheDirError(cacheErrorText(e));
  }
  if (st && !st.isDirectory()) throw new CacheDirError('not a folder');
  const probe = path.join(dir, `.probe.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    if (!st) makeFolders(dir);
    fs.writeFileSync(probe, 'dmalint');
    if (fs.readFileSync(probe, 'utf8') !== 'dmalint') throw new CacheDirError('files written there do not read back');
  } catch (e) {
    if (e instanceof CacheDirError) throw e;
    throw new CacheDirError(cacheErrorText(e));
  } finally {
    try {
      fs.rmSync(probe, { force: true });
    } catch {
      // a folder that lets us write but not remove: the next check says so
    }
  }
  if (fs.existsSync(probe)) throw new CacheDirError('files written there cannot be removed');
}

function cacheErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'cannot create files there';
  return (e as Error | undefined)?.message ?? String(e);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The namespace folders dmalint writes: `facts-v<N>-<digest>` and `results-<digest>`. */
const NAMESPACE = /^(?:facts-v\d+|results)-[0-9a-f]{16}$/;

/**
 * Deletes the namespace folders under `dir` other than `keep`: they were written by another
 * version of dmalint (or of its grammar), and no version reads another's entries, so they only
 * take space. Anything else in `dir` is left alone. A folder that cannot be removed is left too.
 * Returns how many were removed.
 */
export function pruneStaleNamespaces(dir: string, keep: readonly string[]): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0; // no cache yet
  }
  let removed = 0;
  for (const name of names) {
    if (!NAMESPACE.test(name) || keep.includes(name)) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed++;
    } catch {
      // still in use on a system that refuses, or not ours to delete: left for next time
    }
  }
  return removed;
}

/**
 * A folder of entries `<dir>/<tag>/<key[0..2]>/<key>`. The tag names everything besides the key
 * that the payload depends on (code and versions), so a new version never reads an old entry
 * and stale namespaces can be deleted whole.
 */
export class EntryStore {
  readonly counters: CacheCounters = newCounters();
  private readonly madeDirs = new Set<string>();

  constructor(
    readonly dir: string,
    readonly tag: string,
  ) {}

  entryPath(key: string): string {
    return path.join(this.dir, this.tag, key.slice(0, 2), key);
  }

  /**
   * The value stored under `key`, or undefined when there is none or it is not valid: a bad
   * header or checksum, or a payload that `parse` rejects.
   */
  read<T>(key: string, parse: (payload: string) => T | undefined): T | undefined {
    let raw: string;
    try {
      raw = fs.readFileSync(this.entryPath(key), 'utf8');
    } catch {
      this.counters.misses++;
      return undefined;
    }
    const payload = checkedPayload(raw, this.tag, key);
    const value = payload === undefined ? undefined : parse(payload);
    if (value === undefined) {
      this.counters.rejected++;
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    return value;
  }

  /**
   * Writes an entry atomically: a temporary file unique to this process and thread, then a
   * rename over the final name. Readers see the old entry, the new one, or none; two runs
   * writing the same key both write a whole entry and the last rename wins.
   */
  /** `value` as JSON, written as `write` does; a value too large for one string is not written. */
  writeJson(key: string, value: unknown): void {
    let payload: string;
    try {
      payload = JSON.stringify(value);
    } catch {
      // Too large for one string: no entry, as for a full disk.
      this.counters.writeErrors++;
      return;
    }
    this.write(key, payload);
  }

  write(key: string, payload: string): void {
    const file = this.entryPath(key);
    const dir = path.dirname(file);
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      if (!this.madeDirs.has(dir)) {
        makeFolders(dir);
        this.madeDirs.add(dir);
      }
      fs.writeFileSync(tmp, encodeEntry(this.tag, key, payload));
      fs.renameSync(tmp, file);
      this.counters.writes++;
    } catch {
      this.counters.writeErrors++;
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // nothing to clean up
      }
    }
  }
}

export function encodeEntry(tag: string, key: string, payload: string): string {
  const header: EntryHeader = { dmalint: 'cache-entry', tag, key, sum: sha256(payload), length: payload.length };
  return `${JSON.stringify(header)}\n${payload}`;
}

/** The payload of a raw entry if its header matches `tag` and `key` and its checksum holds. */
export function checkedPayload(raw: string, tag: string, key: string): string | undefined {
  const nl = raw.indexOf('\n');
  if (nl <= 0 || nl > 4096) return undefined;
  let header: Partial<EntryHeader>;
  try {
    header = JSON.parse(raw.slice(0, nl)) as Partial<EntryHeader>;
  } catch {
    return undefined;
  }
  if (!header || header.dmalint !== 'cache-entry' || header.tag !== tag || header.key !== key) return undefined;
  const payload = raw.slice(nl + 1);
  if (header.length !== payload.length || header.sum !== sha256(payload)) return undefined;
  return payload;
}

/**
 * Facts as JSON, or undefined when they are too large for one string (a RangeError past 512 MiB
 * of text): callers go on without the cache entry or the thread hop, never fail the run.
 */
export function serializeFacts(facts: FileFacts): string | undefined {
  try {
    return JSON.stringify(facts);
  } catch {
    return undefined;
  }
}

/** Parses cached facts, or undefined when the JSON is not FileFacts of this version. */
export function parseFacts(payload: string): FileFacts | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  return isFileFacts(value) ? value : undefined;
}

/** Whether a value read back is FileFacts of this version, whole (see src/facts/shape.ts). */
export function isFileFacts(value: unknown): value is FileFacts {
  return (value as Partial<FileFacts> | null)?.version === FACTS_VERSION && hasShape(value, FILE_FACTS);
}

/**
 * A digest of the code that produces a cached value: the given files and folders, relative to
 * the package root (a file may be named without its extension). A change to dmalint's code,
 * even without a version bump, changes the digest and so the namespace: nothing computed by
 * other code is ever read back.
 */
export function codeDigest(parts: string[]): string {
  const hash = createHash('sha256');
  const root = packageRoot();
  for (const part of parts) {
    for (const file of listCode(path.join(root, part))) {
      hash.update(path.relative(root, file));
      hash.update('\0');
      hash.update(fs.readFileSync(file));
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

/** The folder holding `src/` and `rules/`: the repository, or `dist/` once built. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function listCode(target: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(target, { withFileTypes: true });
  } catch {
    // Not a folder: the module itself, compiled or not.
    return ['.js', '.ts'].map((ext) => target + ext).filter((f) => fs.existsSync(f));
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(target, e.name);
    if (e.isDirectory()) out.push(...listCode(full));
    else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}
