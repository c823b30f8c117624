// The VS Code extension's reading of its settings: where the server program is and what runs it.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeIsRecentEnough, resolveServerPath, serverLaunch, startFailure } from '../editors/vscode/src/server-path.js';

describe('VS Code extension: server path', () => {
  const folder = path.resolve('/srv/projects/driver');
  const home = path.resolve('/home/user');

  it('takes ~ as the home folder and a relative path from the workspace folder, and leaves a bare name to PATH', () => {
    expect(resolveServerPath('~/bin/dmalint', folder, home)).toBe(path.join(home, 'bin', 'dmalint'));
    expect(resolveServerPath('~', folder, home)).toBe(home);
    expect(resolveServerPath('./node_modules/.bin/dmalint', folder, home)).toBe(path.join(folder, 'node_modules', '.bin', 'dmalint'));
    expect(resolveServerPath('../dmalint/dist/src/cli/main.js', folder, home)).toBe(path.resolve(folder, '..', 'dmalint', 'dist', 'src', 'cli', 'main.js'));
    expect(resolveServerPath('dmalint', folder, home)).toBe('dmalint');
    expect(resolveServerPath(path.resolve('/opt/dmalint/bin/dmalint'), folder, home)).toBe(path.resolve('/opt/dmalint/bin/dmalint'));
    // No folder open: relative to the home folder rather than to VS Code's own working directory.
    expect(resolveServerPath('tools/dmalint', undefined, home)).toBe(path.join(home, 'tools', 'dmalint'));
  });

  it('runs a .js with the configured node or VS Code\'s, and a program with lsp --stdio', () => {
    expect(serverLaunch('/x/main.js', ['--debug'], undefined)).toEqual({ kind: 'node', module: '/x/main.js', runtime: undefined, args: ['--debug', 'lsp'] });
    expect(serverLaunch('/x/main.js', [], '/usr/bin/node')).toEqual({ kind: 'node', module: '/x/main.js', runtime: '/usr/bin/node', args: ['lsp'] });
    expect(serverLaunch('dmalint', [], '/usr/bin/node')).toEqual({ kind: 'program', command: 'dmalint', args: ['lsp', '--stdio'] });
  });

  it('knows which Node.js dmalint needs, and says so', () => {
    expect(nodeIsRecentEnough('20.19.0')).toBe(true);
    expect(nodeIsRecentEnough('v22.1.0')).toBe(true);
    expect(nodeIsRecentEnough('20.18.3')).toBe(false);
    expect(nodeIsRecentEnough('18.15.0')).toBe(false);
    expect(startFailure('/x/main.js', '', '18.15.0')).toMatch(/with VS Code's Node\.js 18\.15\.0: dmalint needs Node\.js 20\.19\.0 or later\. Set `dmalint\.server\.node`/);
    expect(startFailure('dmalint', 'spawn dmalint ENOENT', undefined)).toMatch(/^dmalint: cannot start `dmalint lsp` \(spawn dmalint ENOENT\)\. dmalint needs Node\.js 20\.19\.0 or later/);
  });
});
