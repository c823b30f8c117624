// The few git commands dmalint runs, without a shell, each with a clear error when git is
// missing, the folder is not in a repository or a revision is unknown.
import { execFileSync, spawnSync } from 'node:child_process';

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

/** Large enough for the diff of a whole kernel release. */
const MAX_OUTPUT = 512 * 1024 * 1024;

/** Messages are matched below only to choose wording; keep them in English. */
const GIT_ENV = { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' };

export function git(args: string[], cwd: string, input?: string): string {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: MAX_OUTPUT,
      input,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: GIT_ENV,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; status?: number };
    if (err.code === 'ENOENT') throw new GitError('git was not found on PATH (use `--diff FILE` with a patch instead)');
    const detail = String(err.stderr ?? '').trim().split('\n')[0] || err.message;
    throw new GitError(`\`git ${args[0]}\` failed: ${detail}`);
  }
}

/**
 * Runs git and hands back its exit status and both outputs, for commands whose failure is an
 * answer to report (a patch that does not apply) rather than an error.
 */
export function gitResult(args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: MAX_OUTPUT, stdio: ['ignore', 'pipe', 'pipe'], env: GIT_ENV });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new GitError('git was not found on PATH');
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The top folder of the repository that holds `cwd`, or undefined outside a repository or without git. */
export function repositoryRoot(cwd: string): string | undefined {
  try {
    return git(['rev-parse', '--show-toplevel'], cwd).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Like `repositoryRoot`, but an error when there is none. */
export function requireRepositoryRoot(cwd: string): string {
  // Distinguish "no git" from "not a repository" for the message.
  git(['--version'], cwd);
  const root = repositoryRoot(cwd);
  if (!root) throw new GitError(`${cwd} is not inside a git repository`);
  return root;
}

/** The commit `ref` names; an error naming `ref` when there is none. */
export function resolveCommit(ref: string, cwd: string): string {
  // A revision starting with `-` would be read as an option.
  if (ref === '' || ref.startsWith('-')) throw new GitError(`\`${ref}\` is not a revision`);
  try {
    return git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd).trim();
  } catch (e) {
    if (e instanceof GitError && e.message.startsWith('git was not found')) throw e;
    throw new GitError(`unknown revision \`${ref}\` (is it fetched? shallow clones need \`fetch-depth: 0\` or a fetch of the base)`);
  }
}

/**
 * The diff from `commit` to the working tree, with no context lines. Options that user
 * configuration could change (prefixes, colors, external diff drivers, relative paths, path
 * quoting) are set explicitly so the output is always parsed the same way.
 */
export function diffSince(commit: string, root: string): string {
  return git(
    [
      '-c', 'core.quotePath=false',
      'diff', '--unified=0', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative',
      '--src-prefix=a/', '--dst-prefix=b/', '--find-renames',
      commit, '--',
    ],
    root,
  );
}

/** Files git does not track and does not ignore, relative to `root`. */
export function untrackedFiles(root: string): string[] {
  return git(['ls-files', '--others', '--exclude-standard', '-z'], root)
    .split('\0')
    .filter((f) => f !== '');
}
