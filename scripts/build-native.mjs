#!/usr/bin/env node
// Builds the optional native addon (native/flat_parse.c) with node-gyp; run by `npm ci` /
// `npm install` (the package's `install` script). dmalint works without it (it then copies trees
// out of the tree-sitter binding, slower), so a failed build warns and exits 0.
// DMALINT_NATIVE=0 skips the build; DMALINT_NATIVE=require makes a failed build an error.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native');
const mode = process.env.DMALINT_NATIVE;

if (mode === '0') {
  console.log('dmalint: native addon not built (DMALINT_NATIVE=0); trees are copied through the tree-sitter binding');
  process.exit(0);
}

/** node-gyp: the one npm runs scripts with, else the one bundled with npm next to this node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

const args = ['rebuild', '--directory', dir, '--loglevel', 'warn'];
// Node's own headers, when installed with it (Linux packages, the official tarballs), spare
// node-gyp downloading them (and a build without network).
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) && fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) {
  args.push(`--nodedir=${prefix}`);
}

const gyp = nodeGyp();
const started = Date.now();
const run = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  : undefined;
const built = path.join(dir, 'build', 'Release', 'flat_parse.node');
if (run && run.status === 0 && fs.existsSync(built)) {
  console.log(`dmalint: native addon built in ${((Date.now() - started) / 1000).toFixed(1)} s (native/build/Release/flat_parse.node)`);
  process.exit(0);
}

const why = !gyp ? 'node-gyp was not found' : run.error ? run.error.message : `node-gyp exited with ${run.status}`;
const output = run ? `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n') : '';
if (output) console.warn(output);
console.warn(`dmalint: the native addon was not built (${why}); dmalint still works, copying trees through the tree-sitter binding (slower)`);
process.exit(mode === 'require' ? 1 : 0);
