// `dmalint.driverGraph`: the lifecycle picture of the driver under the cursor, as SVG, and on
// request opened as a page in the editor's browser. The crate is read as the editor has it:
// open documents with their unsaved text, other files from disk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, ResponseError, type Position } from 'vscode-languageserver';
import { loadConfig, makePathFilter } from '../config/load.js';
import { ConfigError } from '../config/types.js';
import { extractFacts } from '../facts/extract.js';
import { analyze } from '../lint/analyze.js';
import { discoverFiles } from '../lint/discover.js';
import { driverGraphsOf, type DriverGraph } from '../lint/graphs.js';
import { readSource } from '../lint/read.js';
import { allRuleMetas, RULES } from '../lint/registry.js';
import { groupCrates, type InputFile } from '../model/crate-graph.js';
import { apiWithConfig } from '../model/kernel-api.js';
import type { GraphLocation } from '../model/lifecycle-graph.js';
import { toDot } from '../report/graph/dot.js';
import { driverPicture } from '../report/graph/picture.js';
import { loadSvgRenderer } from '../report/graph/svg.js';
import { MAX_SCOPE_FILES, uriToPath, type Project } from './project.js';

export const DRIVER_GRAPH_COMMAND = 'dmalint.driverGraph';

export interface DriverGraphResult {
  driver: string;
  /** Root file of the driver's crate. */
  crate: string;
  svg: string;
  /** The page that was opened, with `{ open: true }`. */
  page?: string;
}

export interface GraphCommandHost {
  project: Project;
  /** Asks the client to open a URI in the browser; false when the client cannot. */
  openExternal(uri: string): Promise<boolean>;
}

/** Arguments: the document URI, optionally the cursor position and `{ open: true }`. */
export async function driverGraphCommand(args: unknown[], host: GraphCommandHost): Promise<DriverGraphResult> {
  const [uri, position, options] = args as [unknown, unknown, unknown];
  const file = typeof uri === 'string' ? uriToPath(uri) : undefined;
  if (!file) throw new ResponseError(ErrorCodes.InvalidParams, `${DRIVER_GRAPH_COMMAND} takes the URI of a file, a position and { open: boolean }`);
  const at = isPosition(position) ? position : undefined;
  const graphs = graphsOfCrate(host.project, file);
  const graph = graphs.find((g) => at && showsPlace(g, file, at.line + 1)) ?? graphs[0];
  if (!graph) throw new ResponseError(ErrorCodes.InvalidParams, `no bus driver (an \`impl Driver\` with \`probe\`) in the crate of ${path.basename(file)}`);
  const renderer = await loadSvgRenderer();
  const svg = renderer.render(toDot(driverPicture(graph), { link: (loc) => `${pathToFileURL(loc.file).href}#L${loc.line}` }));
  const result: DriverGraphResult = { driver: graph.driver, crate: graph.crate, svg };
  if ((options as { open?: unknown } | undefined)?.open === true) {
    const page = path.join(os.tmpdir(), `dmalint-${graph.driver}-${process.pid}.html`);
    fs.writeFileSync(page, pictureFilePage(graph, svg));
    if (await host.openExternal(pathToFileURL(page).href)) result.page = page;
  }
  return result;
}

/** The pictures of the drivers in the crate that holds `file`, from the editor's texts. */
function graphsOfCrate(project: Project, file: string): DriverGraph[] {
  // A scratch file outside any project is drawn on its own, from its folder.
  const dir = project.scopeDirFor(file) ?? path.dirname(file);
  let config;
  try {
    config = loadConfig({ startPath: dir, knownRules: allRuleMetas().map((m) => m.id) });
  } catch (e) {
    if (e instanceof ConfigError) throw new ResponseError(ErrorCodes.InvalidParams, e.message);
    throw e;
  }
  const found = discoverFiles([dir], { filter: makePathFilter(config) }).files.slice(0, MAX_SCOPE_FILES);
  if (!found.includes(file)) found.push(file);
  const inputs: InputFile[] = [];
  for (const abs of found) {
    const open = project.documentByKey(abs);
    const facts = open ? open.facts() : readFacts(abs);
    if (facts) inputs.push({ path: abs, absPath: abs, facts });
  }
  const crate = groupCrates(inputs).find((c) => c.files.some((f) => f.absPath === file));
  if (!crate) return [];
  const members = crate.files.map((f) => ({ path: f.path, absPath: f.absPath, facts: f.facts }));
  const api = apiWithConfig(config.api);
  return driverGraphsOf(members, api, analyze(members, { rules: RULES, levels: config.rules, api }));
}

function readFacts(abs: string) {
  const r = readSource(abs);
  return r.ok ? extractFacts(r.text) : undefined;
}

/** Whether a picture has a box at this line of this file (the driver "under the cursor"). */
function showsPlace(g: DriverGraph, file: string, line: number): boolean {
  const places: GraphLocation[] = [g.at, ...g.functions.map((f) => f.at), ...g.owners.map((o) => o.at), ...g.buffers.map((b) => b.at)];
  return places.some((p) => p.file === file && p.line <= line && line <= p.endLine);
}

function pictureFilePage(g: DriverGraph, svg: string): string {
  const title = `${g.driver}: DMA lifecycle`.replace(/[<&>]/g, '');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>body{margin:0;padding:1rem;background:#fff}svg{max-width:none;height:auto}</style></head><body>${svg}</body></html>\n`;
}

function isPosition(v: unknown): v is Position {
  const p = v as Position;
  return typeof p === 'object' && p !== null && Number.isInteger(p.line) && Number.isInteger(p.character);
}
