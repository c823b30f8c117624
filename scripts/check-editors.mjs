// `npm run check:editors`: runs the editor recipes of docs/editors.md, exactly as written there,
// in the editors installed on this machine (headless), and checks that each one shows the
// finding of a small driver with its related locations. Editors that are not installed are
// skipped and named. Needs `npm run build` first.
//
// Checked: Neovim (by its version: `vim.lsp.start_client` before 0.10, `vim.lsp.start` from
// 0.10, and `vim.lsp.config` as well from 0.11), Emacs with Eglot, Emacs with lsp-mode, Vim with
// ALE, and Helix (in a tmux pane: it has no headless mode). Exit status 1 when a recipe that could
// run failed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(`error: ${cli} is missing: run \`npm run build\` first\n`);
  process.exit(2);
}
const docs = fs.readFileSync(path.join(repo, 'docs', 'editors.md'), 'utf8');
const blocks = (lang) => [...docs.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

// The benchmark's driver without its filler: its ring's address reaches the device in probe(),
// and nothing stops the device before the ring is freed.
const { driverText } = await import(path.join(repo, 'dist', 'bench', 'lsp-latency.js'));
const MAIN = driverText(1);
const sinkLine = MAIN.slice(0, MAIN.indexOf('b.write64(ring.dma_handle()')).split('\n').length;
/** What every editor must show: the finding, and a related location in the message. */
const EXPECTED = [/DMA buffer `ring` is freed on remove/, new RegExp(`note: [^\\n]*[ (]main\\.rs:${sinkLine}\\b`)];

const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-editors-')));
const project = path.join(work, 'driver');
const bin = path.join(work, 'bin');
fs.mkdirSync(project);
fs.mkdirSync(bin);
fs.writeFileSync(path.join(project, 'Cargo.toml'), '');
fs.writeFileSync(path.join(project, 'main.rs'), MAIN);
fs.writeFileSync(path.join(bin, 'dmalint'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`, { mode: 0o755 });
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, HOME: work };
const file = (name, text) => {
  const p = path.join(work, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};
const has = (program) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const run = (program, args) => {
  const r = spawnSync(program, args, { cwd: project, env, encoding: 'utf8', timeout: 90_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
};
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** `nvim --version`'s [major, minor], or null. */
const nvimVersion = () => {
  const m = /NVIM v(\d+)\.(\d+)/.exec(run('nvim', ['--version']));
  return m ? [Number(m[1]), Number(m[2])] : null;
};
const atLeast = (v, major, minor) => v !== null && (v[0] > major || (v[0] === major && v[1] >= minor));

const ELISP_WAIT = `(let ((deadline (+ (float-time) 30)))
  (while (and (< (float-time) deadline) (null (flymake-diagnostics)))
    (accept-process-output nil 0.2)))
(dolist (d (flymake-diagnostics)) (princ (format "%s\\n" (flymake-diagnostic-text d))))
(kill-emacs 0)
`;
// Emacs 28 has no Rust mode of its own; one is defined when none is installed.
const ELISP_HEAD = `(require 'package)
(package-initialize)
(unless (fboundp 'rust-mode) (define-derived-mode rust-mode prog-mode "Rust"))
(add-to-list 'auto-mode-alist '("\\\\.rs\\\\'" . rust-mode))
`;
const [eglotRecipe, lspModeRecipe] = blocks('elisp');
const [aleLinter, aleVimrc] = blocks('vim');
const luaRecipe = (marker) => blocks('lua').find((b) => b.includes(marker));
const [helixRecipe] = blocks('toml');

/** Runs a Neovim recipe as the init file, opens the driver and prints its diagnostics. */
const nvimCheck = (name, recipe, applies) => ({
  name: `Neovim (${name})`,
  program: 'nvim',
  applies,
  run: () => {
    const check = file('nvim/check.lua', `vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 100)
for _, d in ipairs(vim.diagnostic.get(0)) do io.stdout:write(d.message .. '\\n') end
vim.cmd('qa!')
`);
    return run('nvim', ['--headless', '-u', file('nvim/init.lua', recipe), 'main.rs', '-c', `luafile ${check}`]);
  },
});
const nvim = has('nvim') ? nvimVersion() : null;
const nvimName = nvim ? `Neovim ${nvim.join('.')}` : 'a Neovim of unknown version';

const checks = [
  nvimCheck('vim.lsp.start_client', luaRecipe('vim.lsp.start_client('), () => !atLeast(nvim, 0, 10) || `the recipe for Neovim 0.7 to 0.9 (this is ${nvimName})`),
  nvimCheck('vim.lsp.start', luaRecipe('vim.lsp.start({'), () => atLeast(nvim, 0, 10) || `needs Neovim 0.10 (this is ${nvimName})`),
  nvimCheck('vim.lsp.config', luaRecipe('vim.lsp.config('), () => atLeast(nvim, 0, 11) || `needs Neovim 0.11 (this is ${nvimName})`),
  {
    name: 'Emacs with Eglot',
    program: 'emacs',
    run: () => {
      const el = file('emacs/eglot.el', `${ELISP_HEAD}(require 'eglot)\n${eglotRecipe}(add-hook 'rust-mode-hook #'eglot-ensure)\n(find-file "main.rs")\n(run-hooks 'post-command-hook)\n${ELISP_WAIT}`);
      return run('emacs', ['--batch', '-l', el]);
    },
  },
  {
    name: 'Emacs with lsp-mode',
    program: 'emacs',
    run: () => {
      const setup = `(unless (require 'lsp-mode nil t) (princ "lsp-mode is not installed\\n") (kill-emacs 0))
(setq lsp-auto-guess-root t lsp-enable-suggest-server-download nil lsp-diagnostics-provider :flymake
      lsp-session-file "${path.join(work, 'lsp-session')}" lsp-disabled-clients '(rust-analyzer rls) lsp-enable-snippet nil)
`;
      const el = file('emacs/lsp-mode.el', `${ELISP_HEAD}${setup}${lspModeRecipe}(find-file "main.rs")\n(lsp)\n${ELISP_WAIT}`);
      return run('emacs', ['--batch', '-l', el]);
    },
  },
  {
    name: 'Vim with ALE',
    program: 'vim',
    run: () => {
      file('vim/ale_linters/rust/dmalint.vim', aleLinter);
      const out = path.join(work, 'vim', 'out.txt');
      const check = file('vim/check.vim', `let s:tries = 0
while s:tries < 300 && empty(ale#engine#GetLoclist(bufnr('')))
  sleep 100m
  let s:tries += 1
endwhile
call writefile(map(ale#engine#GetLoclist(bufnr('')), 'v:val.text'), '${out}')
qa!
`);
      const vimrc = file('vim/vimrc', `set nocompatible\nfiletype plugin on\nset runtimepath+=${path.join(work, 'vim')}\npackadd! ale\n${aleVimrc}`);
      run('vim', ['-N', '-u', vimrc, '--not-a-term', '-c', `source ${check}`, 'main.rs']);
      return fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : 'no output (is ALE installed?)';
    },
  },
  {
    // Helix has no headless mode: it runs in a tmux pane of its own server, `]d` moves the cursor
    // to the diagnostic (once there is one) and the pane's text is what Helix shows of it.
    name: 'Helix',
    program: 'hx',
    applies: () => has('tmux') || '`tmux` is not installed',
    run: () => {
      file('.config/helix/languages.toml', helixRecipe);
      const socket = `dmalint-editors-${process.pid}`;
      const tmux = (...args) =>
        spawnSync('tmux', ['-L', socket, ...args], { cwd: project, env: { ...env, XDG_CONFIG_HOME: path.join(work, '.config') }, encoding: 'utf8' });
      tmux('new-session', '-d', '-x', '220', '-y', '50', '-c', project, 'hx main.rs');
      let screen = '';
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && !EXPECTED.every((re) => re.test(screen)); sleep(200)) {
        tmux('send-keys', ']', 'd');
        sleep(100);
        const shown = tmux('capture-pane', '-p');
        screen = shown.status === 0 ? shown.stdout.replace(/ +$/gm, '') : `Helix is not running: ${shown.stderr}`;
      }
      tmux('send-keys', 'Escape', ':q!', 'Enter');
      sleep(300);
      tmux('kill-server');
      return screen;
    },
  },
];

let failed = 0;
for (const c of checks) {
  if (!has(c.program)) {
    process.stdout.write(`skipped  ${c.name}: \`${c.program}\` is not installed\n`);
    continue;
  }
  const applies = c.applies ? c.applies() : true;
  if (applies !== true) {
    process.stdout.write(`skipped  ${c.name}: ${applies}\n`);
    continue;
  }
  const output = c.run();
  if (/lsp-mode is not installed/.test(output)) {
    process.stdout.write(`skipped  ${c.name}: not installed\n`);
    continue;
  }
  const ok = EXPECTED.every((re) => re.test(output));
  if (!ok) failed++;
  process.stdout.write(`${ok ? 'ok      ' : 'FAILED  '} ${c.name}\n`);
  if (!ok) process.stdout.write(output.split('\n').map((l) => `    ${l}`).join('\n') + '\n');
}
fs.rmSync(work, { recursive: true, force: true });
process.exit(failed > 0 ? 1 : 0);
