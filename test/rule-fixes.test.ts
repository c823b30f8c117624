// The fixes dma_free_without_quiesce suggests, applied to the text the way the language server
// applies them: the driver compiles in spirit (the write that clears the address register goes
// into unbind(), a release moves after the stop) and the finding goes away.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../rules/index.js';
import { lintPaths } from '../src/lint/run.js';
import type { Finding } from '../src/lint/types.js';
import { ruleEditToLineEdits, splitLines, type LineEdit } from '../src/lsp/fixes.js';
import { defaultApi } from '../src/model/kernel-api.js';

async function lint(text: string): Promise<Finding[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-fix-'));
  fs.writeFileSync(path.join(dir, 'drv.rs'), text);
  const r = await lintPaths({ paths: [dir], cwd: dir, rules: RULES, levels: {}, api: defaultApi(), prescan: false });
  fs.rmSync(dir, { recursive: true, force: true });
  return r.findings.filter((f) => f.rule === 'dma_free_without_quiesce');
}

/** Applies non-overlapping edits, last first (they are computed on the original text). */
function apply(text: string, edits: LineEdit[]): string {
  const lines = splitLines(text);
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  let out = text;
  for (const e of [...edits].sort((a, b) => offset(b.start) - offset(a.start))) out = out.slice(0, offset(e.start)) + e.newText + out.slice(offset(e.end));
  return out;
}

async function fixed(text: string): Promise<{ title: string; text: string }> {
  const [finding] = await lint(text);
  expect(finding, 'a finding to fix').toBeDefined();
  const fix = finding.fixes![0];
  return { title: fix.title, text: apply(text, fix.edits.flatMap((e) => ruleEditToLineEdits(e, splitLines(text)))) };
}

const HEAD = `use kernel::{device::Core, devres::Devres, dma::CoherentAllocation, pci, prelude::*};

const RING_BASE: usize = 0x10;
const ENGINE_CTRL: usize = 0x14;

struct Nic {
    ring: CoherentAllocation<u64>,
    bar: Devres<pci::Bar<0x100>>,
}
`;

const PROBE = `    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::<u64>::alloc_coherent(pdev.as_ref(), 8, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x100>(0, c_str!("nic"))?;
        bar.access(pdev.as_ref())?.write64(ring.dma_handle(), RING_BASE);
        Ok(KBox::pin(Nic { ring, bar }, GFP_KERNEL)?)
    }
`;

describe('dma_free_without_quiesce fixes', () => {
  it('clear the address register at the start of an existing unbind()', async () => {
    const text = `${HEAD}
impl pci::Driver for Nic {
${PROBE}
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        pr_info!("bye\\n");
    }
}
`;
    const out = await fixed(text);
    expect(out.title).toBe('Clear `RING_BASE` in unbind() before the buffer is freed');
    expect(out.text).toContain(`    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            bar.write64(0, RING_BASE);
        }
        pr_info!("bye\\n");`);
    expect(await lint(out.text)).toEqual([]);
  });

  it('move a release after the stop that follows it', async () => {
    const text = `${HEAD.replace('ring: CoherentAllocation<u64>,', 'ring: Mutex<Option<CoherentAllocation<u64>>>,')}
impl pci::Driver for Nic {
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::<u64>::alloc_coherent(pdev.as_ref(), 8, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x100>(0, c_str!("nic"))?;
        bar.access(pdev.as_ref())?.write64(ring.dma_handle(), RING_BASE);
        Ok(KBox::pin(Nic { ring: Mutex::new(Some(ring)), bar }, GFP_KERNEL)?)
    }

    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        drop(this.ring.lock().take());
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            bar.write32(0, ENGINE_CTRL);
        }
    }
}
`;
    const out = await fixed(text);
    expect(out.title).toBe('Move the release after the stop');
    expect(out.text).toContain(`        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            bar.write32(0, ENGINE_CTRL);
        }
        drop(this.ring.lock().take());
    }`);
    expect(await lint(out.text)).toEqual([]);
  });

  it('offer an unbind() skeleton when no register received the address by name', async () => {
    const text = `${HEAD}
impl pci::Driver for Nic {
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::<u64>::alloc_coherent(pdev.as_ref(), 8, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x100>(0, c_str!("nic"))?;
        bar.access(pdev.as_ref())?.write64(ring.dma_handle(), RING_BASE + 8);
        Ok(KBox::pin(Nic { ring, bar }, GFP_KERNEL)?)
    }
}
`;
    const out = await fixed(text);
    expect(out.title).toBe('Add an unbind() skeleton to `impl pci::Driver for Nic` to stop the device');
    expect(out.text).toContain('    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {\n        // Stop the device');
  });
});
