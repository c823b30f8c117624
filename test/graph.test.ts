// The lifecycle pictures: what they show (buffers, owners, where addresses go, the stop, the
// removal order, findings), read from the DOT and Mermaid text; and `dmalint graph`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../src/facts/extract.js';
import { analyze } from '../src/lint/analyze.js';
import { driverGraphsOf } from '../src/lint/graphs.js';
import { RULES } from '../src/lint/registry.js';
import type { InputFile } from '../src/model/crate-graph.js';
import { defaultApi } from '../src/model/kernel-api.js';
import type { DriverGraph } from '../src/model/lifecycle-graph.js';
import { toDot } from '../src/report/graph/dot.js';
import { toMermaid } from '../src/report/graph/mermaid.js';
import { driverPicture } from '../src/report/graph/picture.js';
import { repo, runCli, tempTree } from './cli-helpers.js';

const api = defaultApi();

function inputsOf(dir: string, rel = ''): InputFile[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.rs')).map((f) => {
    const abs = path.join(dir, f);
    return { path: path.posix.join(rel, f), absPath: abs, facts: extractFacts(fs.readFileSync(abs, 'utf8')) };
  });
}

function graphsOf(inputs: InputFile[]): DriverGraph[] {
  const findings = analyze(inputs, { rules: RULES, levels: {}, api });
  return driverGraphsOf(inputs, api, findings);
}

function graphsOfTree(tree: Record<string, string>): DriverGraph[] {
  return graphsOf(inputsOf(tempTree(tree)));
}

function only(graphs: DriverGraph[], driver: string): DriverGraph {
  const g = graphs.find((x) => x.driver === driver);
  if (!g) throw new Error(`no driver ${driver}; have ${graphs.map((x) => x.driver).join(', ')}`);
  return g;
}

/** DOT node id whose label starts with `text`. */
function dotNode(dot: string, text: string): string {
  const line = dot.split('\n').find((l) => l.includes(`label="${text}`));
  if (!line) throw new Error(`no node labelled ${text} in\n${dot}`);
  return line.trim().split(' ')[0];
}

function dotEdges(dot: string): string[] {
  return [...dot.matchAll(/^\s*(\w+) -> (\w+) \[([^\]]*)\]/gm)].map((m) => `${m[1]} -> ${m[2]}${/label="([^"]*)"/.exec(m[3]) ? ` ${/label="([^"]*)"/.exec(m[3])![1]}` : ''}`);
}

/** The removal chain: labels of the boxes joined by the bold `then` arrows, in order. */
function removalChain(dot: string): string[] {
  const labels = new Map([...dot.matchAll(/^\s*(\w+) \[.*?label="([^"]*)"/gm)].map((m) => [m[1], m[2].split('\\n')[0]]));
  const next = new Map([...dot.matchAll(/^\s*(\w+) -> (\w+) \[[^\]]*penwidth=2, weight=4/gm)].map((m) => [m[1], m[2]]));
  const targets = new Set(next.values());
  let cur = [...next.keys()].find((k) => !targets.has(k));
  const out: string[] = [];
  for (let i = 0; cur && i < 100; i++) {
    out.push(labels.get(cur)!);
    cur = next.get(cur);
  }
  return out;
}

const netx = graphsOf(inputsOf(path.join(repo, 'fixtures/drivers/netx_sriov'), 'netx_sriov'));

describe('lifecycle picture of a driver that releases a buffer before stopping the device', () => {
  const pf = only(netx, 'NetxPf');
  const dot = toDot(driverPicture(pf));

  it('shows each DMA buffer with its owner path and wrapper', () => {
    expect(pf.buffers.map((b) => `${b.name}: ${b.type}`)).toEqual(['adminq: CoherentAllocation<AdminCmd>', 'fw_image: CoherentAllocation<u8>']);
    const wrapper = dotNode(dot, 'NetxPf.fw_image\\nMutex<Option<CoherentAllocation<u8>>>');
    const buffer = dotNode(dot, 'DMA buffer fw_image');
    expect(dotEdges(dot)).toContain(`data -> ${wrapper} owns`);
    expect(dotEdges(dot)).toContain(`${wrapper} -> ${buffer}`);
  });

  it('shows where each address reaches the device, and who writes it', () => {
    const edges = dotEdges(dot);
    const buffer = dotNode(dot, 'DMA buffer fw_image');
    for (const reg of ['PF_FW_BASE_LO', 'PF_FW_BASE_HI']) {
      const target = dotNode(dot, `register ${reg}`);
      expect(edges).toContain(`${buffer} -> ${target} dma address`);
      expect(edges).toContain(`${dotNode(dot, 'Driver::probe for NetxPf')} -> ${target} writes`);
    }
    expect(dot).toContain('label="register PF_AQ_BASE_LO\\naddress written to the device\\npf.rs:61"');
  });

  it('puts the release before the stop in the removal order, then the fields in declaration order', () => {
    expect(removalChain(dot)).toEqual([
      '1. Driver::unbind for NetxPf',
      'release: `take()`',
      'stop: the write to `PF_CTRL`',
      '2. field `pdev` dropped',
      '3. field `bar` dropped',
      '4. field `adminq` dropped',
      '5. field `fw_image` dropped',
      '6. device-managed (Devres) resources released',
    ]);
    const edges = dotEdges(dot);
    expect(edges).toContain(`${dotNode(dot, 'release: `take()`')} -> ${dotNode(dot, 'DMA buffer fw_image')} frees`);
    expect(edges).toContain(`${dotNode(dot, '4. field `adminq` dropped')} -> ${dotNode(dot, 'DMA buffer adminq')} frees`);
    expect(edges).toContain(`${dotNode(dot, 'stop: the write to `PF_CTRL`')} -> ${dotNode(dot, 'DMA buffer adminq')} stops the device for`);
  });

  it('marks the finding on the buffer, with its rule, in DOT and in Mermaid', () => {
    const line = dot.split('\n').find((l) => l.includes('label="DMA buffer fw_image'))!;
    expect(line).toContain('error[dma_free_without_quiesce]');
    expect(line).toContain('fillcolor="#ffc9c9"');
    expect(dot.split('\n').find((l) => l.includes('label="DMA buffer adminq'))).not.toContain('error[');
    const mermaid = toMermaid(driverPicture(pf));
    const id = dotNode(dot, 'DMA buffer fw_image');
    expect(mermaid).toContain(`class ${id} deny;`);
    expect(mermaid).toMatch(new RegExp(`${id}\\[\\("DMA buffer fw_image<br/>CoherentAllocation#lt;u8#gt;<br/>error\\[dma_free_without_quiesce\\]<br/>pf.rs:19"\\)\\]`));
  });

  it('links every box with a place to its file and line', () => {
    expect(dot).toContain('URL="netx_sriov/pf.rs#L19"');
    expect(toMermaid(driverPicture(pf))).toContain('click fn_3 href "netx_sriov/pf.rs#L75" "pf.rs:75"');
  });

  it('shows the device states with the functions that run in each', () => {
    const byState = Object.fromEntries(['no-driver', 'attached', 'zombie'].map((s) => [s, pf.functions.filter((f) => f.state === s).map((f) => f.label)]));
    expect(byState).toEqual({ 'no-driver': ['InPlaceModule::init for NetxModule'], attached: ['Driver::probe for NetxPf', 'Driver::unbind for NetxPf'], zombie: [] });
    expect(dot).toContain('label="No Driver"');
    expect(dot).toContain('label="Zombie (after unbind, references remain)"');
    expect(dotEdges(dot)).toContain('state_no_driver -> state_attached probe()');
  });

  it("marks a finding of the crate's other driver in that driver's picture only", () => {
    const vf = only(netx, 'NetxVf');
    const ring = vf.buffers.find((b) => b.name === 'txq.ring')!;
    expect(ring.findings.map((f) => f.rule)).toEqual(['dma_free_without_quiesce']);
    expect(pf.unplaced).toEqual([]);
    expect(removalChain(toDot(driverPicture(vf)))[0]).toBe('1. field `pdev` dropped');
  });
});

const CARD = {
  'card.rs': `use kernel::dma::CoherentAllocation;
use kernel::{pci, prelude::*, devres::Devres};
use kernel::sync::Arc;
use kernel::workqueue::WorkItem;

mod regs;

struct Engine {
    desc: CoherentAllocation<u64>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        pr_info!("engine gone\\n");
    }
}

struct Poll {
    n: u32,
}

impl WorkItem for Poll {
    type Pointer = Arc<Poll>;
    fn run(this: Arc<Poll>) {
        pr_info!("poll {}\\n", this.n);
    }
}

#[pin_data(PinnedDrop)]
struct Card {
    bar: Devres<pci::Bar<0x1000>>,
    engine: Engine,
    stats: CoherentAllocation<u32>,
    poll: Arc<Poll>,
}

#[pinned_drop]
impl PinnedDrop for Card {
    fn drop(self: Pin<&mut Self>) {
        if let Some(bar) = self.bar.try_access() {
            bar.write32(0, regs::CTRL);
        }
    }
}

impl pci::Driver for Card {
    type IdInfo = ();
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let desc = CoherentAllocation::alloc_coherent(pdev.as_ref(), 16, GFP_KERNEL)?;
        let stats = CoherentAllocation::alloc_coherent(pdev.as_ref(), 4, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x1000>(0, c_str!("card"))?;
        let b = bar.access(pdev.as_ref())?;
        b.write64(desc.dma_handle(), regs::DESC_BASE);
        b.write64(stats.dma_handle(), regs::STATS_BASE);
        Ok(KBox::pin(Card { bar, engine: Engine { desc }, stats, poll: Arc::new(Poll { n: 0 }, GFP_KERNEL)? }, GFP_KERNEL)?)
    }
}
`,
  'regs.rs': 'pub const CTRL: usize = 0x0;\npub const DESC_BASE: usize = 0x10;\npub const STATS_BASE: usize = 0x18;\n',
};

describe('lifecycle picture: Drop impls and work items', () => {
  const card = only(graphsOfTree(CARD), 'Card');
  const dot = toDot(driverPicture(card));

  it("runs the driver data's Drop, then each field in declaration order, a field's own Drop before it is freed", () => {
    expect(removalChain(dot)).toEqual([
      '1. PinnedDrop::drop for Card',
      'stop: the write to `CTRL` (through try_access)',
      '2. field `bar` dropped',
      '3. Drop::drop for Engine',
      '4. field `engine` dropped',
      '5. field `stats` dropped',
      '6. field `poll` dropped',
      '7. device-managed (Devres) resources released',
    ]);
    expect(dotEdges(dot)).toContain(`${dotNode(dot, '4. field `engine` dropped')} -> ${dotNode(dot, 'DMA buffer engine.desc')} frees`);
  });

  it('draws the path through a crate type to a nested buffer', () => {
    const desc = card.buffers.find((b) => b.name === 'engine.desc')!;
    expect(desc.path.map((id) => card.owners.find((o) => o.id === id)).map((o) => `${o!.struct}.${o!.field}`)).toEqual(['Card.engine', 'Engine.desc']);
    expect(desc.allocations.map((a) => `${a.what} at ${a.at.line}`)).toEqual(['CoherentAllocation::alloc_coherent at 49']);
    expect(desc.exposures.map((x) => x.target)).toEqual(['register DESC_BASE']);
  });

  it('puts a work item in the Zombie state', () => {
    expect(card.functions.filter((f) => f.state === 'zombie').map((f) => `${f.label} (${f.role})`)).toEqual(['WorkItem::run for Poll (work-item)']);
    expect(dot).toContain('label="WorkItem::run for Poll\\n(work item)\\ncard.rs:24"');
  });
});

const dir0 = 'fixtures/drivers/netx_sriov';

describe('dmalint graph', () => {
  const dir = dir0;

  it('prints Mermaid by default, one picture per driver', () => {
    const r = runCli(['graph', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^flowchart TB$/gm)).toHaveLength(2);
    expect(r.stdout).toContain('%% NetxPf: pci driver (fixtures/drivers/netx_sriov/netx.rs)');
  });

  it('writes one SVG document, laid out, with --format svg --output', () => {
    const out = path.join(tempTree({}), 'netx.svg');
    const r = runCli(['graph', dir, '--driver', 'NetxPf', '--format', 'svg', '--output', out]);
    expect(r.code).toBe(0);
    const svg = fs.readFileSync(out, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toMatch(/<svg width="\d+pt" height="\d+pt"/);
    expect(svg).toContain('DMA buffer fw_image');
    expect(svg).toContain('xlink:href="fixtures/drivers/netx_sriov/pf.rs#L19"');
  });

  it('stacks several drivers in one SVG', () => {
    const r = runCli(['graph', dir, '--format', 'svg']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/<svg /g)).toHaveLength(3);
  });

  it('fails with a clear message when there is nothing to draw', () => {
    const none = runCli(['graph', dir, '--driver', 'Nope', '--format', 'dot']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error: no driver `Nope` under fixtures/drivers/netx_sriov; drivers found: `NetxPf`, `NetxVf`\n');
    const empty = runCli(['graph', tempTree({ 'lib.rs': 'fn main() {}\n' })]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^error: no bus driver \(an `impl Driver` with `probe`\) that uses the DMA API found under /);
    const missing = runCli(['graph', 'no/such/dir']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no\/such\/dir: /);
  });

  it('still draws when a file cannot be read, names it and exits 2', () => {
    const dir = tempTree({});
    fs.cpSync(path.join(repo, dir0), path.join(dir, 'netx'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'netx', 'blob.rs'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]));
    const r = runCli(['graph', 'netx', '--format', 'dot'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^warning: netx\/blob.rs: /);
    expect(r.stdout.match(/^digraph /gm)).toHaveLength(2);
  });

  it('rejects an unknown format', () => {
    const r = runCli(['graph', dir, '--format', 'png']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'png' is invalid");
  });
});

describe('the picture in the README', () => {
  it('is the netx_sriov PF driver, with its buffers, the release, the stop and the finding (`npm run docs:graph` redraws it)', () => {
    const svg = fs.readFileSync(path.join(repo, 'docs/images/netx_pf-lifecycle.svg'), 'utf8');
    for (const text of ['DMA buffer fw_image', 'DMA buffer adminq', 'release: `take()`', 'stop: the write to `PF_CTRL`', 'error[dma_free_without_quiesce]', '6. device&#45;managed (Devres) resources released']) {
      expect(svg).toContain(text);
    }
    expect(svg).not.toMatch(/\/(tmp|home|work|root)\//);
    expect(fs.readFileSync(path.join(repo, 'README.md'), 'utf8')).toContain('](docs/images/netx_pf-lifecycle.svg)');
  });
});

describe('check --format html', () => {
  it('writes one page with the counts per rule and per driver, the findings and the pictures', () => {
    const r = runCli(['check', 'fixtures/drivers/netx_sriov', '--format', 'html']);
    expect(r.code).toBe(1);
    const html = r.stdout;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toMatch(/<tr><td><a href="[^"]*dma_free_without_quiesce.md"><code>dma_free_without_quiesce<\/code><\/a><br><span class="dim">[^<]*<\/span><\/td><td class="num">2<\/td><td class="num">0<\/td><td class="num">0<\/td><\/tr>/);
    expect(html).toMatch(/<a href="#driver-1"><code>NetxPf<\/code><\/a> <span class="dim">pci, [^<]*<\/span><\/td><td class="num">1<\/td><td class="num">0<\/td><td class="num">2<\/td>/);
    // rustc's style, in colour: the headline, the frame, the notes and the help.
    expect(html).toContain('<span class="b err">error[dma_free_without_quiesce]</span><span class="b">: DMA buffer `fw_image` is released in `Driver::unbind for NetxPf` before the device is stopped</span>');
    expect(html).toContain('<span class="b gut">--&gt;</span> fixtures/drivers/netx_sriov/pf.rs:19:5');
    expect(html).toContain('<span class="b help">help</span>: stop the device first, then release the buffer');
    expect(html.match(/<section class="driver"/g)).toHaveLength(2);
    // A marked box links to its finding.
    expect(html).toMatch(/<a xlink:href="#finding-1"[^>]*xlink:title="DMA buffer fw_image/);
  });

  it('marks only the findings it reports (a baseline hides the others)', () => {
    const dir = tempTree({});
    const baseline = path.join(dir, 'baseline.json');
    expect(runCli(['baseline', 'fixtures/drivers/netx_sriov', '--output', baseline]).code).toBe(0);
    const r = runCli(['check', 'fixtures/drivers/netx_sriov', '--format', 'html', '--baseline', baseline]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('error[dma_free_without_quiesce]');
    expect(r.stdout.match(/<section class="driver"/g)).toHaveLength(2);
  });
});
