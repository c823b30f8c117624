// The one formatter a run asks for, loaded alone: a run prints one format, and start-up counts.
import type { FormatName, ReportInput } from './types.js';

type Formatter = (input: ReportInput) => string;

const LOADERS: Record<FormatName, () => Promise<Formatter>> = {
  human: async () => (await import('./human.js')).formatHuman,
  short: async () => (await import('./short.js')).formatShort,
  json: async () => (await import('./json.js')).formatJson,
  sarif: async () => (await import('./sarif.js')).formatSarif,
  github: async () => (await import('./github.js')).formatGithub,
  gitlab: async () => (await import('./gitlab.js')).formatGitlab,
  junit: async () => (await import('./junit.js')).formatJunit,
  html: async () => {
    const [{ formatHtml }, { loadSvgRenderer }] = await Promise.all([import('./html.js'), import('./graph/svg.js')]);
    const renderer = await loadSvgRenderer();
    return (input) => formatHtml(input, renderer);
  },
};

export async function loadFormatter(format: FormatName): Promise<Formatter> {
  const load = LOADERS[format];
  if (!load) throw new Error(`unknown report format: ${String(format)}`);
  return load();
}

export async function loadGithubStepSummary(): Promise<Formatter> {
  return (await import('./github.js')).githubStepSummary;
}
