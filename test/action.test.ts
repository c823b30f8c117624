// The composite Action's shell steps, run the way a GitHub runner runs them: the `run:` text in
// a file, started with `bash --noprofile --norc -eo pipefail FILE`, inputs in the environment.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLEAN_DRIVER, WORK_ITEM_BUG, cliPath, repo, tempTree } from './cli-helpers.js';

interface Step {
  id?: string;
  name: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const action = parse(fs.readFileSync(path.join(repo, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: Step[] };
};

function step(name: string): Step {
  const s = action.runs.steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
}

/** Runs a step's script as the runner does; returns its status and the outputs it set. */
function runStep(s: Step, cwd: string, env: Record<string, string>): { code: number; stdout: string; stderr: string; outputs: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-runner-'));
  const script = path.join(dir, 'step.sh');
  const output = path.join(dir, 'output');
  fs.writeFileSync(script, s.run!);
  fs.writeFileSync(output, '');
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', GITHUB_OUTPUT: output, DMALINT_BIN: cliPath, ...env },
    timeout: 60_000,
  });
  const outputs: Record<string, string> = {};
  for (const line of fs.readFileSync(output, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, outputs };
}

/** The Run step's inputs, as the runner sets them from the `with:` of a workflow. */
function inputs(values: Record<string, string>): Record<string, string> {
  return {
    DMALINT_PATHS: '.',
    DMALINT_CONFIG: '',
    DMALINT_BASELINE: '',
    DMALINT_CHANGED_SINCE: '',
    DMALINT_SARIF: '',
    DMALINT_ARGS: '',
    ...values,
  };
}

describe('action.yml', () => {
  it('the lint step survives findings: it sets exit-code and writes the SARIF report', () => {
    const dir = tempTree({ 'drivers/bug.rs': WORK_ITEM_BUG, 'drivers/ok.rs': CLEAN_DRIVER });
    const r = runStep(step('Run dmalint'), dir, inputs({ DMALINT_PATHS: 'drivers', DMALINT_SARIF: 'out/dmalint.sarif' }));
    // No SARIF folder yet: the report is refused, and the step says so through exit-code.
    expect(r.code).toBe(0);
    expect(r.outputs['exit-code']).toBe('2');
    fs.mkdirSync(path.join(dir, 'out'));
    const ok = runStep(step('Run dmalint'), dir, inputs({ DMALINT_PATHS: 'drivers', DMALINT_SARIF: 'out/dmalint.sarif' }));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^::error file=drivers\/bug\.rs,line=16,/m);
    expect(ok.outputs).toEqual({ 'exit-code': '1', sarif: path.join(dir, 'out', 'dmalint.sarif') });
    const sarif = JSON.parse(fs.readFileSync(ok.outputs.sarif!, 'utf8'));
    expect(sarif.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toEqual(['coherent_outside_probe']);
  });

  it('the lint step passes a clean tree, extra arguments and several paths', () => {
    const dir = tempTree({ 'a/ok.rs': CLEAN_DRIVER, 'b/bug.rs': WORK_ITEM_BUG });
    const clean = runStep(step('Run dmalint'), dir, inputs({ DMALINT_PATHS: 'a' }));
    expect(clean).toMatchObject({ code: 0, outputs: { 'exit-code': '0' } });
    const both = runStep(step('Run dmalint'), dir, inputs({ DMALINT_PATHS: 'a\nb', DMALINT_ARGS: '--rule coherent_outside_probe' }));
    expect(both).toMatchObject({ code: 0, outputs: { 'exit-code': '1' } });
    const bad = runStep(step('Run dmalint'), dir, inputs({ DMALINT_ARGS: '--no-such-option' }));
    expect(bad).toMatchObject({ code: 0, outputs: { 'exit-code': '2' } });
  });

  it('the result step fails on findings only when asked, and always on errors', () => {
    const result = step('Result');
    const run = (exit: string, fail: string) => runStep(result, repo, { DMALINT_EXIT: exit, DMALINT_FAIL: fail }).code;
    expect([run('0', 'true'), run('1', 'true'), run('1', 'false'), run('2', 'false')]).toEqual([0, 1, 0, 2]);
  });

  it("keys npm's cache by the action's own lock file", () => {
    const r = runStep(step("Find npm's cache"), os.tmpdir(), { GITHUB_ACTION_PATH: repo, RUNNER_OS: 'Linux' });
    expect(r.code).toBe(0);
    expect(r.outputs.key).toMatch(/^dmalint-npm-Linux-[0-9a-f]{64}$/);
    expect(r.outputs.dir).not.toBe('');
  });

  it('installs from its own checkout or a release tarball, with current actions and Node', () => {
    expect(action.runs.using).toBe('composite');
    expect(action.inputs['node-version']!.default).toBe('24');
    expect(step('Upload SARIF to code scanning').uses).toBe('github/codeql-action/upload-sarif@v4');
    const install = step('Install dmalint').run!;
    expect(install).toContain('npm ci');
    expect(install).not.toMatch(/dmalint@/);
    // Inputs reach scripts through the environment, never pasted into the script text.
    for (const s of action.runs.steps) expect(s.run ?? '').not.toContain('${{');
  });
});
