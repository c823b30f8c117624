import type { LintResult, RuleMeta } from '../lint/types.js';
import type { DriverGraph } from '../model/lifecycle-graph.js';

export type FormatName = 'human' | 'short' | 'json' | 'sarif' | 'github' | 'gitlab' | 'junit' | 'html';

export interface ReportInput {
  result: LintResult;
  /** Metadata of every rule that can appear in `result` (the three rules and the suppression checks). */
  rules: RuleMeta[];
  /** Working directory; `Finding.primary.file` is relative to it unless absolute. */
  cwd: string;
  /** Source text of a reported file (for code frames and fingerprints); undefined if unreadable. */
  readSource(file: string): string | undefined;
  color: boolean;
  toolVersion: string;
  /**
   * The folder CI formats (SARIF, GitLab, GitHub, JUnit) give paths relative to: the repository
   * root, so that paths and fingerprints do not depend on the folder dmalint ran from. Default: `cwd`.
   */
  root?: string;
  /** Every checked file (as findings name them), for formats that list clean files too. */
  files?: string[];
  /** Include suppressed findings (SARIF `suppressions`); other formats skip them. */
  includeSuppressed?: boolean;
  /** The lifecycle pictures of the linted drivers, without findings marked (formats that draw). */
  graphs?: DriverGraph[];
}
