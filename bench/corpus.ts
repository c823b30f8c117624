// The benchmark corpus: driver crates derived from the fixtures (renamed, laid out differently,
// grown with ordinary driver code) mixed with generated drivers that use no DMA API, written
// into shards that each hold the same mix, so one shard is a quarter of the corpus.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chipName, FILLER_KINDS, fillerModule, fillerRoot, fillerTail, Random, type FillerKind } from './filler.js';

export interface CorpusOptions {
  fixtures: string;
  outDir: string;
  /** Share of files (and, by construction, of bytes) in crates that name DMA APIs. */
  dmaShare: number;
  minFiles: number;
  minBytes: number;
  shards: number;
  seed: number;
  /** Names whose presence makes a crate DMA-relevant; filler must contain none of them. */
  mentionsDma: (text: string) => boolean;
  /** Large DMA crates (as big GPU and network drivers are) written before the others. */
  largeCrates?: number;
}

export interface CorpusManifest {
  files: number;
  bytes: number;
  crates: number;
  dmaFiles: number;
  dmaBytes: number;
  dmaCrates: number;
  fixtureCases: number;
  /** sha256 over every path and content: equal digests, equal corpora. */
  digest: string;
  shards: string[];
}

interface CrateFiles {
  /** Relative path inside the crate folder to content. */
  files: Map<string, string>;
  dma: boolean;
  /** Where under drivers/ the crate goes. */
  subsystem: string;
}

/** A fixture case: one file, or a folder of files forming a crate. */
interface FixtureCase {
  name: string;
  files: Map<string, string>;
}

export function loadFixtureCases(root: string): FixtureCase[] {
  const cases: FixtureCase[] = [];
  for (const group of sortedEntries(root)) {
    const groupDir = path.join(root, group.name);
    if (!group.isDirectory()) continue;
    for (const entry of sortedEntries(groupDir)) {
      const full = path.join(groupDir, entry.name);
      if (entry.isFile() && entry.name.endsWith('.rs')) {
        cases.push({ name: `${group.name}/${entry.name}`, files: new Map([[entry.name, fs.readFileSync(full, 'utf8')]]) });
      } else if (entry.isDirectory()) {
        const files = new Map<string, string>();
        for (const rel of rustFilesUnder(full, '')) files.set(rel, fs.readFileSync(path.join(full, rel), 'utf8'));
        if (files.size > 0) cases.push({ name: `${group.name}/${entry.name}`, files });
      }
    }
  }
  return cases;
}

function sortedEntries(dir: string): fs.Dirent[] {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function rustFilesUnder(dir: string, rel: string): string[] {
  const out: string[] = [];
  for (const e of sortedEntries(path.join(dir, rel))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...rustFilesUnder(dir, r));
    else if (e.name.endsWith('.rs')) out.push(r);
  }
  return out;
}

/** Sizes of generated files: 1.5 KiB plus an exponential tail, mean about 4 KiB, at most 24 KiB. */
function fileSize(rnd: Random): number {
  return Math.min(24 * 1024, Math.round(1536 - 2600 * Math.log(1 - rnd.next() * 0.999)));
}

const DEFINITION = /\b(?:struct|enum|trait|const|static|type)\s+([A-Za-z_][A-Za-z0-9_]*)/g;
/** Keywords the pattern can catch (`const fn`, `static mut`) and names of trait items. */
const KEEP = new Set([
  'fn', 'mut', 'unsafe', 'extern', 'impl', 'dyn', 'for', 'where', 'as', 'crate', 'self', 'super', 'move', 'ref', 'async',
  'Self', 'Output', 'Error', 'Err', 'Target', 'Item', 'Pointer', 'Borrowed', 'Owned', 'IdInfo', 'Data', 'DriverData',
  'ID_TABLE', 'OF_ID_TABLE', 'ACPI_ID_TABLE', 'NAME', 'PHY_DEVICE_ID', 'OPS', 'INFO',
]);

/**
 * A variant of a fixture crate: its own types and constants renamed with the variant's suffix,
 * a different module layout, the test annotations removed and each file grown with ordinary
 * (non-DMA) driver code to the corpus's file size.
 */
function fixtureVariant(rnd: Random, fixture: FixtureCase, variant: number, layout: number, apiNames: Set<string>): CrateFiles {
  const suffix = `V${variant}`;
  const defined = new Set<string>();
  for (const text of fixture.files.values()) for (const m of text.matchAll(DEFINITION)) if (!apiNames.has(m[1]) && !KEEP.has(m[1])) defined.add(m[1]);
  const rename = defined.size > 0 ? new RegExp(`\\b(${[...defined].map((d) => d.replace(/[$]/g, '\\$')).join('|')})\\b`, 'g') : undefined;
  const files = new Map<string, string>();
  for (const [rel, text] of fixture.files) {
    let t = text.replace(/\s*\/\/~.*$/gm, '');
    if (rename) t = t.replace(rename, (name) => (name === name.toUpperCase() ? `${name}_${suffix}` : `${name}${suffix}`));
    t = t.replace(/^(\/\/ SPDX[^\n]*\n)?/, (spdx) => `${spdx}// Variant ${variant} of ${fixture.name}.\n`);
    files.set(rel, t);
  }
  const laidOut = relayout(rnd, files, layout);
  const kind = rnd.pick(FILLER_KINDS);
  const chip = chipName(rnd, variant);
  for (const [rel, text] of laidOut) laidOut.set(rel, text + fillerTail(rnd, `${chip}${rel.length}`, kind, text.length, fileSize(rnd)));
  return { files: laidOut, dma: true, subsystem: rnd.pick(DMA_SUBSYSTEMS) };
}

/**
 * Moves leaf modules (files that declare no modules) of a multi-file crate: layout 1 puts
 * `x.rs` at `x/mod.rs`, layout 2 renames it and adds `#[path]` to its `mod x;`. Layout 0 keeps
 * the fixture's layout.
 */
function relayout(rnd: Random, files: Map<string, string>, layout: number): Map<string, string> {
  const style = layout % 3;
  if (style === 0 || files.size < 2) return files;
  const out = new Map(files);
  for (const [rel, text] of files) {
    const decl = new RegExp(`^(\\s*)((?:pub(?:\\([^)]*\\))?\\s+)?mod\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*;)`, 'gm');
    const dir = path.posix.dirname(rel);
    let changed = text;
    for (const m of text.matchAll(decl)) {
      const name = m[3];
      const child = path.posix.join(dir, `${name}.rs`);
      const childText = out.get(child);
      if (childText === undefined || /\bmod\s+\w+\s*;/.test(childText) || path.posix.basename(rel) === 'mod.rs') continue;
      out.delete(child);
      if (style === 1) {
        out.set(path.posix.join(dir, name, 'mod.rs'), childText);
      } else {
        const renamed = `${name}_impl${rnd.int(1, 9)}.rs`;
        out.set(path.posix.join(dir, renamed), childText);
        changed = changed.replace(m[0], `${m[1]}#[path = "${renamed}"]\n${m[1]}${m[2]}`);
      }
    }
    if (out.has(rel)) out.set(rel, changed);
  }
  return out;
}

/** Modules of a large crate: about half of them use the DMA API, as in a GPU driver. */
const LARGE_CRATE_MODULES = 36;
/** Files of a large crate: its root and its modules. */
export const LARGE_CRATE_FILES = LARGE_CRATE_MODULES + 1;

/**
 * A large driver crate: a root that declares many modules, every second one a variant of a
 * single-file fixture (so it uses the DMA API) and the others ordinary register and helper code.
 */
function largeCrate(rnd: Random, cases: FixtureCase[], serial: number, firstVariant: number, apiNames: Set<string>): CrateFiles {
  const singles = cases.filter((c) => c.files.size === 1);
  const kind = rnd.pick(FILLER_KINDS);
  const chip = chipName(rnd, serial);
  const names = Array.from({ length: LARGE_CRATE_MODULES }, (_, i) => `${i % 2 === 0 ? 'engine' : 'hw'}${String(i).padStart(2, '0')}`);
  const files = new Map<string, string>();
  files.set(`${chip}.rs`, fillerRoot(rnd, chip, kind, names, fileSize(rnd)));
  names.forEach((n, i) => {
    if (i % 2 === 1) {
      files.set(`${n}.rs`, fillerModule(rnd, chip, kind, fileSize(rnd)));
      return;
    }
    const v = firstVariant + i / 2;
    const variant = fixtureVariant(rnd, singles[(serial * LARGE_CRATE_MODULES + i) % singles.length], v, 0, apiNames);
    files.set(`${n}.rs`, [...variant.files.values()][0]);
  });
  return { files, dma: true, subsystem: 'gpu' };
}

function fillerCrate(rnd: Random, serial: number): CrateFiles {
  const kind = rnd.pick(FILLER_KINDS);
  const chip = chipName(rnd, serial);
  const count = rnd.int(0, 5);
  const names = [...new Set(Array.from({ length: count }, () => rnd.pick(['regs', 'hw', 'ops', 'irq', 'config', 'calib', 'sysfs', 'util', 'limits', 'table'])))];
  const files = new Map<string, string>();
  files.set(`${chip}.rs`, fillerRoot(rnd, chip, kind, names, fileSize(rnd)));
  for (const n of names) files.set(`${n}.rs`, fillerModule(rnd, chip, kind, fileSize(rnd)));
  return { files, dma: false, subsystem: SUBSYSTEM_OF[kind] };
}

const DMA_SUBSYSTEMS = ['net/ethernet', 'gpu', 'crypto', 'media/pci', 'scsi', 'nvme', 'misc'];
const SUBSYSTEM_OF: Record<FillerKind, string> = { hwmon: 'hwmon', gpio: 'gpio', watchdog: 'watchdog', phy: 'net/phy', pwm: 'pwm', rtc: 'rtc' };

/** Writes the corpus (deterministic for given options and fixtures) and describes it. */
export function buildCorpus(options: CorpusOptions, apiNames: Set<string>): CorpusManifest {
  const rnd = new Random(options.seed);
  const cases = loadFixtureCases(options.fixtures);
  if (cases.length === 0) throw new Error(`no fixtures under ${options.fixtures}`);
  fs.rmSync(options.outDir, { recursive: true, force: true });
  const shards = Array.from({ length: options.shards }, (_, i) => path.join(options.outDir, `shard-${i}`));
  const m: CorpusManifest = { files: 0, bytes: 0, crates: 0, dmaFiles: 0, dmaBytes: 0, dmaCrates: 0, fixtureCases: cases.length, digest: '', shards };
  const digest = createHash('sha256');
  let variants = 0;
  let large = 0;
  while (m.files < options.minFiles || m.bytes < options.minBytes || m.crates % options.shards !== 0) {
    const wantDma = m.dmaFiles < options.dmaShare * (m.files + 1);
    let crate: CrateFiles;
    if (large < (options.largeCrates ?? 0)) {
      crate = largeCrate(rnd, cases, m.crates, variants, apiNames);
      variants += LARGE_CRATE_MODULES / 2;
      large++;
    } else if (wantDma) {
      const v = variants++;
      // Each fixture in turn; a fixture's successive copies cycle through the layouts.
      crate = fixtureVariant(rnd, cases[v % cases.length], v, Math.floor(v / cases.length), apiNames);
    } else crate = fillerCrate(rnd, m.crates);
    const dir = path.join(shards[m.crates % options.shards], 'drivers', crate.subsystem, `c${String(m.crates).padStart(5, '0')}`);
    for (const [rel, text] of [...crate.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!crate.dma && options.mentionsDma(text)) throw new Error(`generated filler names a DMA API: ${rel}`);
      const file = path.join(dir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      const bytes = Buffer.byteLength(text);
      digest.update(`${path.relative(options.outDir, file)}\0${text}\0`);
      m.files++;
      m.bytes += bytes;
      if (crate.dma) {
        m.dmaFiles++;
        m.dmaBytes += bytes;
      }
    }
    m.crates++;
    if (crate.dma) m.dmaCrates++;
  }
  m.digest = digest.digest('hex').slice(0, 16);
  return m;
}
