// `dmalint graph`: a picture of each driver's DMA lifecycle, in Mermaid, DOT or SVG.
import * as path from 'node:path';
import { ConfigError } from '../config/types.js';
import { graphFinding, type DriverGraph } from '../lint/graphs.js';
import { hasUncheckedInput, UsageError } from '../lint/run.js';
import { markFindings } from '../model/lifecycle-graph.js';
import { toDot } from '../report/graph/dot.js';
import { toMermaid } from '../report/graph/mermaid.js';
import { driverPicture } from '../report/graph/picture.js';
import { loadSvgRenderer, svgFile } from '../report/graph/svg.js';
import { EXIT_ERROR, EXIT_OK, lintSelection, makeFactsSource } from './check.js';
import { checkOutputPath, OutputError, writeOutputFile } from './output.js';

export type GraphFormat = 'mermaid' | 'dot' | 'svg';

export interface GraphOptions {
  format: GraphFormat;
  output?: string;
  driver?: string;
  config?: string;
  followSymlinks?: boolean;
  respectGitignore?: boolean;
  jobs?: number;
  cacheDir?: string;
  cache?: boolean;
  debug?: boolean;
}

export async function runGraph(paths: string[], opts: GraphOptions): Promise<number> {
  const cwd = process.cwd();
  try {
    if (opts.output) writable(opts.output);
    const factsSource = await makeFactsSource(opts);
    const graphs: DriverGraph[] = [];
    let unchecked = false;
    try {
      const result = await lintSelection(paths, cwd, { config: opts.config, followSymlinks: opts.followSymlinks, respectGitignore: opts.respectGitignore, graphs }, factsSource);
      for (const n of result.notices) process.stderr.write(`warning: ${n.file}: ${n.message}\n`);
      unchecked = hasUncheckedInput(result.notices);
      markFindings(graphs, result.findings.filter((f) => !f.suppression).map(graphFinding));
    } finally {
      await factsSource.close?.();
    }
    const chosen = opts.driver ? graphs.filter((g) => g.driver === opts.driver) : graphs;
    if (chosen.length === 0) {
      const where = paths.join(', ');
      const known = graphs.map((g) => `\`${g.driver}\``).join(', ');
      throw new UsageError(opts.driver ? `no driver \`${opts.driver}\` under ${where}${known ? `; drivers found: ${known}` : ''}` : `no bus driver (an \`impl Driver\` with \`probe\`) that uses the DMA API found under ${where}`);
    }
    const text = await draw(chosen, opts.format);
    if (opts.output) writeOutputFile(opts.output, text);
    else process.stdout.write(text);
    // As with check: a file that could not be read may be missing from the pictures.
    return unchecked ? EXIT_ERROR : EXIT_OK;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof OutputError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT_ERROR;
    }
    throw e;
  }
}

/** Every picture in one text: DOT and Mermaid one after the other, SVG stacked in one document. */
export async function draw(graphs: DriverGraph[], format: GraphFormat): Promise<string> {
  const pictures = graphs.map(driverPicture);
  if (format === 'dot') return pictures.map((p) => toDot(p)).join('\n');
  if (format === 'mermaid') return pictures.map((p) => toMermaid(p)).join('\n');
  const renderer = await loadSvgRenderer();
  return svgFile(stackSvgs(pictures.map((p) => renderer.render(toDot(p)))));
}

/** Several SVG pictures one above the other, as one SVG document. */
export function stackSvgs(svgs: string[]): string {
  if (svgs.length === 1) return svgs[0];
  let y = 0;
  let width = 0;
  const parts: string[] = [];
  for (const svg of svgs) {
    const w = points(svg, 'width');
    const h = points(svg, 'height');
    // Inside the outer picture, sizes are in its user units (the points of the inner ones).
    parts.push(svg.replace(/<svg([^>]*?)\swidth="[\d.]+pt"\s+height="[\d.]+pt"/, `<svg x="0" y="${y}" width="${w}" height="${h}"$1`));
    y += h + 24;
    width = Math.max(width, w);
  }
  return `<svg width="${width}pt" height="${y}pt" viewBox="0 0 ${width} ${y}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n${parts.join('\n')}\n</svg>\n`;
}

function points(svg: string, attr: 'width' | 'height'): number {
  const m = new RegExp(`<svg[^>]*\\s${attr}="([\\d.]+)pt"`).exec(svg);
  return m ? Number(m[1]) : 0;
}

function writable(file: string): void {
  try {
    checkOutputPath(path.resolve(file));
  } catch (e) {
    if (e instanceof OutputError) throw new UsageError(`cannot write the picture ${file}: ${e.message}`);
    throw e;
  }
}
