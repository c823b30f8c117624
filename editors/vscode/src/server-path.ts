// Where the server program is and what runs it, from the extension's settings. Pure: no `vscode`
// import, so the rules are tested without an editor.
import * as path from 'node:path';

/** The Node.js version dmalint runs on (its `engines`). */
export const REQUIRED_NODE = '20.19.0';

/**
 * A configured path as a program to run: `~` is the home folder; a relative path with a folder
 * in it (`./node_modules/.bin/dmalint`, `../dmalint/dist/src/cli/main.js`) is relative to the
 * first workspace folder; a bare name (`dmalint`) is left to be found on `PATH`.
 */
export function resolveServerPath(configured: string, workspaceFolder: string | undefined, home: string): string {
  const p = configured.trim();
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(home, p.slice(2));
  if (path.isAbsolute(p)) return p;
  const bare = !p.includes('/') && !p.includes('\\');
  if (bare) return p;
  return path.resolve(workspaceFolder ?? home, p);
}

/** Whether `version` (`20.19.1`, `v22.3.0`) is at least REQUIRED_NODE. */
export function nodeIsRecentEnough(version: string): boolean {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const want = REQUIRED_NODE.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    const h = have[i] ?? 0;
    if (Number.isNaN(h)) return false;
    if (h !== want[i]) return h > want[i];
  }
  return true;
}

export type ServerLaunch =
  | { kind: 'program'; command: string; args: string[] }
  /** A `.js` run by Node: VS Code's own (`runtime` undefined) or the one configured. */
  | { kind: 'node'; module: string; runtime?: string; args: string[] };

/** How to start the server for a resolved path, extra arguments and an optional Node.js program. */
export function serverLaunch(serverPath: string, extraArgs: string[], nodePath: string | undefined): ServerLaunch {
  if (serverPath.endsWith('.js')) return { kind: 'node', module: serverPath, runtime: nodePath || undefined, args: [...extraArgs, 'lsp'] };
  return { kind: 'program', command: serverPath, args: [...extraArgs, 'lsp', '--stdio'] };
}

/** The message for a server that could not start, naming what it needs. */
export function startFailure(serverPath: string, detail: string, vscodeNode: string | undefined): string {
  const needs = `dmalint needs Node.js ${REQUIRED_NODE} or later`;
  if (vscodeNode && !nodeIsRecentEnough(vscodeNode)) {
    return `dmalint: cannot run \`${serverPath}\` with VS Code's Node.js ${vscodeNode}: ${needs}. Set \`dmalint.server.node\` to a newer \`node\`, or install the \`dmalint\` program (\`npm install -g dmalint\`) and clear \`dmalint.server.path\`.`;
  }
  return `dmalint: cannot start \`${serverPath} lsp\` (${detail}). ${needs}: install it with \`npm install -g dmalint\`, or set \`dmalint.server.path\` (a relative path is taken from the workspace folder, \`~\` is your home folder).`;
}
