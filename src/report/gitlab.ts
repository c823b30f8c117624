// GitLab Code Quality report (a subset of the Code Climate issue format).

import {
  lineFingerprints,
  reportedFindings,
  rootPath,
  sha256Hex,
  sortNotices,
  sourceCache,
  TOOL_NAME,
} from './common.js';
import type { ReportInput } from './types.js';

export interface GitlabIssue {
  description: string;
  check_name: string;
  fingerprint: string;
  severity: 'info' | 'minor' | 'major' | 'critical' | 'blocker';
  location: { path: string; lines: { begin: number; end: number } };
  categories: string[];
  type: 'issue';
  engine_name: string;
}

/**
 * One issue per unsuppressed finding (`major` for deny, `minor` for warn) and one `info` issue
 * per file notice. Fingerprints hash the rule, the file, the normalized text of the primary line
 * and its occurrence index, not the line number, so they survive edits elsewhere in the file.
 */
export function gitlabIssues(input: ReportInput): GitlabIssue[] {
  const fingerprints = lineFingerprints(input, sourceCache(input));
  const issues: GitlabIssue[] = reportedFindings(input, false).map((f) => ({
    description: f.message,
    check_name: f.rule,
    fingerprint: fingerprints.get(f)?.full ?? sha256Hex(`${f.rule}\u0000${f.primary.file}\u0000${f.message}`),
    severity: f.level === 'deny' ? 'major' : 'minor',
    location: {
      path: rootPath(input, f.primary.file),
      lines: { begin: f.primary.span.line, end: f.primary.span.endLine },
    },
    categories: ['Bug Risk'],
    type: 'issue',
    engine_name: TOOL_NAME,
  }));
  for (const n of sortNotices(input.result.notices)) {
    issues.push({
      description: n.message,
      check_name: `${TOOL_NAME}/${n.kind}`,
      fingerprint: sha256Hex(`${n.kind}\u0000${rootPath(input, n.file)}\u0000${n.message}`),
      severity: 'info',
      location: {
        path: rootPath(input, n.file),
        lines: { begin: n.span?.line ?? 1, end: n.span?.endLine ?? n.span?.line ?? 1 },
      },
      categories: ['Bug Risk'],
      type: 'issue',
      engine_name: TOOL_NAME,
    });
  }
  return issues;
}

export function formatGitlab(input: ReportInput): string {
  return `${JSON.stringify(gitlabIssues(input), null, 2)}\n`;
}
