// The fuzzing checker's child process: lints one case (a set of files as bytes) the way the CLI
// does, from the built code in dist/, and reports what broke. It runs in its own process so that
// the caller can stop it when it takes too long (a hang is a failure like a throw) and outlives
// it if it crashes.
import { decodeSource } from '../dist/src/lint/read.js';
import { extractFacts } from '../dist/src/facts/extract.js';
import { createFactsSource } from '../dist/src/facts/source.js';
import { analyze } from '../dist/src/lint/analyze.js';
import { allRuleMetas } from '../dist/src/lint/registry.js';
import { apiWithConfig } from '../dist/src/model/kernel-api.js';
import { FORMAT_NAMES, formatReport } from '../dist/src/report/index.js';
import { RULES } from '../dist/rules/index.js';

const api = apiWithConfig(undefined);
const analysis = { rules: RULES, levels: {}, api };
const metas = allRuleMetas();

// One serial and one parallel source for the whole session: starting workers per case would
// cost more than the cases. `minPoolBytes: 0` sends even small cases to the workers.
const serial = await createFactsSource({ jobs: 1, cache: false });
const parallel = await createFactsSource({ jobs: 2, cache: false, minPoolBytes: 0 });

process.on('message', async (msg) => {
  if (msg.type === 'close') {
    await serial.close?.();
    await parallel.close?.();
    process.send({ type: 'closed' });
    return;
  }
  let stage = 'decode';
  try {
    const texts = [];
    const notices = [];
    for (const f of msg.files) {
      const r = decodeSource(new Uint8Array(f.bytes));
      if (r.ok) texts.push({ path: f.path, absPath: f.absPath, text: r.text });
      else notices.push({ file: f.path, kind: r.kind });
    }
    stage = 'extract';
    const inline = texts.map((t) => extractFacts(t.text));
    stage = 'extract (serial source)';
    const fromSerial = await serial.extract(texts);
    stage = 'extract (parallel source)';
    const fromParallel = await parallel.extract(texts);
    stage = 'compare facts';
    for (let i = 0; i < texts.length; i++) {
      const a = JSON.stringify(inline[i]);
      if (JSON.stringify(fromSerial[i]) !== a) throw new Error(`${texts[i].path}: serial source facts differ from the inline extractor`);
      if (JSON.stringify(fromParallel[i]) !== a) throw new Error(`${texts[i].path}: parallel source facts differ from the inline extractor`);
    }
    stage = 'analyze';
    const inputs = (facts) => texts.map((t, i) => ({ path: t.path, absPath: t.absPath, facts: facts[i] }));
    const findings = analyze(inputs(inline), analysis);
    stage = 'analyze (parallel facts)';
    const findingsParallel = analyze(inputs(fromParallel), analysis);
    if (JSON.stringify(findingsParallel) !== JSON.stringify(findings)) throw new Error('findings from parallel facts differ from the serial ones');
    stage = 'report';
    const sources = new Map(texts.map((t) => [t.path, t.text]));
    const result = { findings, notices: notices.map((n) => ({ ...n, message: n.kind })), filesChecked: texts.length, durationMs: 0 };
    for (const format of FORMAT_NAMES) {
      formatReport(format, { result, rules: metas, cwd: '/fuzz', readSource: (f) => sources.get(f), color: format === 'human', toolVersion: '0.0.0' });
    }
    process.send({
      type: 'result',
      id: msg.id,
      ok: true,
      findings: findings.length,
      notices: notices.map((n) => n.kind),
      truncated: inline.some((f) => f.truncated),
      depth: Math.max(0, ...inline.map(nestingDepth)),
      // Worker threads the parallel source has started so far (0: the pool never ran).
      workers: parallel.stats?.workers ?? 0,
    });
  } catch (e) {
    process.send({ type: 'result', id: msg.id, ok: false, stage, error: String(e?.message ?? e), stack: String(e?.stack ?? '') });
  }
});

// The checker gone (its process ended or killed us): nothing left to do.
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });

/**
 * How deeply the facts nest (objects and arrays). The analysis walks facts recursively, so this
 * must stay bounded whatever the input.
 */
function nestingDepth(value) {
  let max = 0;
  const stack = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop();
    if (d > max) max = d;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return max;
}
