// SARIF 2.1.0 for code scanning (GitHub, GitLab, IDE viewers).

import { ruleMarkdown, ruleText } from '../lint/explain.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FileNotice, Finding, Level, Location, RuleMeta } from '../lint/types.js';
import { ruleDocUrl } from '../lint/types.js';
import {
  levelWord,
  lineFingerprints,
  relativeToCwd,
  reportedFindings,
  sortNotices,
  sourceCache,
  TOOL_NAME,
  TOOL_URI,
} from './common.js';
import type { ReportInput } from './types.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const SRCROOT = '%SRCROOT%';
/** `runs[0].automationDetails.id`: the category GitHub code scanning files the results under. */
export const SARIF_AUTOMATION_ID = 'dmalint/';

type Json = Record<string, unknown>;

/** `coherent_outside_probe` gives `CoherentOutsideProbe`. */
export function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

export function sarifLevel(level: Level): 'error' | 'warning' | 'none' {
  return level === 'deny' ? 'error' : level === 'warn' ? 'warning' : 'none';
}




/**
 * What GitHub code scanning needs to rank a rule as a security problem: a `security-severity`
 * score (CVSS-like, 7.0 and up is high) and CWE tags. The device writing into memory the driver
 * already freed is a use after free (CWE-416); DMA set up or kept after the device was released
 * is an operation on a released resource (CWE-672).
 */
export const RULE_SECURITY: Readonly<Record<string, { cwe: number[]; securitySeverity: string }>> = {
  dma_free_without_quiesce: { cwe: [416], securitySeverity: '8.1' },
  revocable_dma_addr: { cwe: [416, 672], securitySeverity: '7.5' },
  coherent_outside_probe: { cwe: [672], securitySeverity: '5.5' },
};

/** GitHub code scanning accepts at most this many results in one run. */
export const SARIF_RESULTS_LIMIT = 25_000;

function ruleProperties(meta: RuleMeta): Json {
  const security = RULE_SECURITY[meta.id];
  if (!security) return { tags: [...meta.tags] };
  return {
    tags: [...meta.tags, 'security', ...security.cwe.map((n) => `external/cwe/cwe-${n}`)],
    'security-severity': security.securitySeverity,
    precision: 'high',
    'problem.severity': sarifLevel(meta.defaultLevel),
  };
}

function ruleDescriptor(meta: RuleMeta): Json {
  return {
    id: meta.id,
    name: pascalCase(meta.id),
    shortDescription: { text: meta.summary },
    fullDescription: { text: meta.whatItDoes.trim() || meta.summary },
    // The same renderers as `dmalint explain` and docs/rules: one source for rule documentation.
    help: { text: ruleText(meta), markdown: ruleMarkdown(meta) },
    helpUri: ruleDocUrl(meta.id),
    defaultConfiguration: { level: sarifLevel(meta.defaultLevel) },
    properties: ruleProperties(meta),
  };
}

/** Percent-encodes each path segment (spaces, `#`, `%`, `?`, non-ASCII) and joins with `/`. */
export function encodeUriPath(posixPath: string): string {
  return posixPath
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}

/** File URI of a directory, with a trailing slash. */
export function directoryUri(dir: string): string {
  const href = pathToFileURL(dir).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/**
 * Relative to `%SRCROOT%` (the report's root) when the file is inside it, else an absolute file
 * URI. `file` is as findings name it: relative to `cwd` or absolute.
 */
export function artifactLocation(file: string, cwd: string, root = cwd): Json {
  const abs = path.resolve(cwd, file);
  const rel = root === cwd ? relativeToCwd(file, cwd) : relativeToCwd(abs, root);
  if (rel !== undefined) return { uri: encodeUriPath(rel), uriBaseId: SRCROOT };
  return { uri: pathToFileURL(abs).href };
}

function physicalLocation(loc: Location, cwd: string, root: string): Json {
  return {
    artifactLocation: artifactLocation(loc.file, cwd, root),
    region: {
      startLine: loc.span.line,
      startColumn: loc.span.col,
      endLine: loc.span.endLine,
      endColumn: loc.span.endCol,
    },
  };
}

function messageText(f: Finding): string {
  const lines = [f.message, ...f.notes.map((n) => `note: ${n}`)];
  if (f.help) lines.push(`help: ${f.help}`);
  return lines.join('\n');
}

function notification(n: FileNotice, cwd: string, root: string): Json {
  const location: Json = { physicalLocation: { artifactLocation: artifactLocation(n.file, cwd, root) } };
  if (n.span) {
    location.physicalLocation = {
      ...(location.physicalLocation as Json),
      region: { startLine: n.span.line, startColumn: n.span.col, endLine: n.span.endLine, endColumn: n.span.endCol },
    };
  }
  return {
    level: 'warning',
    message: { text: n.message },
    locations: [location],
    descriptor: { id: n.kind },
  };
}

/**
 * The results a run keeps under GitHub's limit: errors before warnings, each in file order, so
 * what is cut is the least severe.
 */
function withinLimit<T extends { level: string }>(results: T[]): { kept: T[]; dropped: number } {
  if (results.length <= SARIF_RESULTS_LIMIT) return { kept: results, dropped: 0 };
  const rank = (r: T) => (r.level === 'error' ? 0 : r.level === 'warning' ? 1 : 2);
  const kept = results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
    .slice(0, SARIF_RESULTS_LIMIT)
    .sort((a, b) => a.i - b.i)
    .map((x) => x.r);
  return { kept, dropped: results.length - SARIF_RESULTS_LIMIT };
}

function droppedNote(dropped: number): Json {
  return {
    level: 'warning',
    descriptor: { id: 'results-limit' },
    message: {
      text:
        `${dropped} more ${dropped === 1 ? 'result was' : 'results were'} left out: code scanning accepts at most ` +
        `${SARIF_RESULTS_LIMIT} results per run (errors are kept first); run \`dmalint check\` to see them all`,
    },
  };
}

export function sarifLog(input: ReportInput): Json {
  const { cwd } = input;
  const root = input.root ?? cwd;
  const fingerprints = lineFingerprints(input, sourceCache(input));

  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  for (const meta of input.rules) {
    if (ruleIndex.has(meta.id)) continue;
    ruleIndex.set(meta.id, rules.length);
    rules.push(ruleDescriptor(meta));
  }

  const all = reportedFindings(input).map((f): Json & { level: string } => {
    let index = ruleIndex.get(f.rule);
    if (index === undefined) {
      // A finding of a rule without metadata still needs a descriptor for ruleIndex.
      index = rules.length;
      ruleIndex.set(f.rule, index);
      rules.push({ id: f.rule, name: pascalCase(f.rule), helpUri: ruleDocUrl(f.rule) });
    }
    const result: Json = {
      ruleId: f.rule,
      ruleIndex: index,
      level: levelWord(f.level),
      message: { text: messageText(f) },
      locations: [{ physicalLocation: physicalLocation(f.primary, cwd, root) }],
    };
    if (f.related.length > 0) {
      result.relatedLocations = f.related.map((r, i) => ({
        id: i + 1,
        physicalLocation: physicalLocation(r, cwd, root),
        message: { text: r.message ?? 'related location' },
      }));
    }
    result.partialFingerprints = { primaryLocationLineHash: fingerprints.get(f)?.lineHash ?? '' };
    if (f.suppression) result.suppressions = [{ kind: 'inSource', justification: f.suppression.reason }];
    return result as Json & { level: string };
  });
  const { kept: results, dropped } = withinLimit(all);
  const notifications = sortNotices(input.result.notices).map((n) => notification(n, cwd, root));
  if (dropped > 0) notifications.push(droppedNote(dropped));

  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            version: input.toolVersion,
            semanticVersion: input.toolVersion,
            informationUri: TOOL_URI,
            rules,
          },
        },
        automationDetails: { id: SARIF_AUTOMATION_ID },
        originalUriBaseIds: { [SRCROOT]: { uri: directoryUri(root) } },
        columnKind: 'utf16CodeUnits',
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: notifications,
          },
        ],
        results,
      },
    ],
  };
}

export function formatSarif(input: ReportInput): string {
  return `${JSON.stringify(sarifLog(input), null, 2)}\n`;
}
