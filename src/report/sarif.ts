// SARIF 2.1.0 for code scanning (GitHub, GitLab, IDE viewers).

import { ruleMarkdown, ruleText } from '../lint/explain.js';
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
    properties: { tags: [...meta.tags] },
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

/** Relative to `%SRCROOT%` when the file is inside the working directory, else an absolute file URI. */
export function artifactLocation(file: string, cwd: string): Json {
  const rel = relativeToCwd(file, cwd);
  if (rel !== undefined) return { uri: encodeUriPath(rel), uriBaseId: SRCROOT };
  return { uri: pathToFileURL(file).href };
}

function physicalLocation(loc: Location, cwd: string): Json {
  return {
    artifactLocation: artifactLocation(loc.file, cwd),
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

function notification(n: FileNotice, cwd: string): Json {
  const location: Json = { physicalLocation: { artifactLocation: artifactLocation(n.file, cwd) } };
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

export function sarifLog(input: ReportInput): Json {
  const { cwd } = input;
  const fingerprints = lineFingerprints(input, sourceCache(input));

  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  for (const meta of input.rules) {
    if (ruleIndex.has(meta.id)) continue;
    ruleIndex.set(meta.id, rules.length);
    rules.push(ruleDescriptor(meta));
  }

  const results = reportedFindings(input).map((f): Json => {
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
      locations: [{ physicalLocation: physicalLocation(f.primary, cwd) }],
    };
    if (f.related.length > 0) {
      result.relatedLocations = f.related.map((r, i) => ({
        id: i + 1,
        physicalLocation: physicalLocation(r, cwd),
        message: { text: r.message ?? 'related location' },
      }));
    }
    result.partialFingerprints = { primaryLocationLineHash: fingerprints.get(f)?.lineHash ?? '' };
    if (f.suppression) result.suppressions = [{ kind: 'inSource', justification: f.suppression.reason }];
    return result;
  });

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
        originalUriBaseIds: { [SRCROOT]: { uri: directoryUri(cwd) } },
        columnKind: 'utf16CodeUnits',
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: sortNotices(input.result.notices).map((n) => notification(n, cwd)),
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
