// Report formats: each is a pure function of the lint result.

import { formatGithub } from './github.js';
import { formatGitlab } from './gitlab.js';
import { formatHuman } from './human.js';
import { formatJson } from './json.js';
import { formatJunit } from './junit.js';
import { formatSarif } from './sarif.js';
import { formatShort } from './short.js';
import type { FormatName, ReportInput } from './types.js';

export type { FormatName, ReportInput } from './types.js';
export { formatGithub, githubStepSummary } from './github.js';
export { formatGitlab } from './gitlab.js';
export { formatHuman } from './human.js';
export { formatJson, JSON_FORMAT_VERSION } from './json.js';
export { formatJunit } from './junit.js';
export { formatSarif } from './sarif.js';
export { formatShort } from './short.js';

/** The text formats; `html` lays out pictures with a WebAssembly engine that loads asynchronously (see load.ts). */
type TextFormatName = Exclude<FormatName, 'html'>;

const FORMATTERS: Record<TextFormatName, (input: ReportInput) => string> = {
  human: formatHuman,
  short: formatShort,
  json: formatJson,
  sarif: formatSarif,
  github: formatGithub,
  gitlab: formatGitlab,
  junit: formatJunit,
};

export const FORMAT_NAMES = Object.keys(FORMATTERS) as TextFormatName[];

export function formatReport(format: TextFormatName, input: ReportInput): string {
  const formatter = FORMATTERS[format];
  if (!formatter) throw new Error(`unknown report format: ${String(format)}`);
  return formatter(input);
}
