// `#[cfg(..)]` against a build's cfgs (rust-project.json): items certainly compiled out are not
// analyzed; names the build says nothing about keep the item.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CfgSet, cfgEnabled, evaluate } from '../src/model/cfg.js';
import { runCli, tempTree } from './cli-helpers.js';

describe('cfg predicates', () => {
  const cfgs = new CfgSet(['CONFIG_PCI', 'CONFIG_NR_QUEUES="4"', 'MODULE']);
  it('decide kernel config symbols and the names the build lists, three-valued', () => {
    expect(evaluate('CONFIG_PCI', cfgs)).toBe(true);
    expect(evaluate('CONFIG_SELFTESTS', cfgs)).toBe(false);
    expect(evaluate('CONFIG_NR_QUEUES = "4"', cfgs)).toBe(true);
    expect(evaluate('CONFIG_NR_QUEUES = "8"', cfgs)).toBe(false);
    expect(evaluate('not(CONFIG_SELFTESTS)', cfgs)).toBe(true);
    expect(evaluate('all(CONFIG_PCI, not(MODULE))', cfgs)).toBe(false);
    expect(evaluate('any(CONFIG_SELFTESTS, target_arch = "arm64")', cfgs)).toBeUndefined();
    expect(evaluate('any(CONFIG_PCI, target_arch = "arm64")', cfgs)).toBe(true);
    expect(evaluate('all(CONFIG_PCI,', cfgs)).toBeUndefined();
  });

  it('leave an item out only when its cfg is certainly off', () => {
    expect(cfgEnabled(['cfg(CONFIG_SELFTESTS)'], cfgs)).toBe(false);
    expect(cfgEnabled(['cfg(feature = "x")', 'inline'], cfgs)).toBe(true);
    expect(cfgEnabled(['cfg(CONFIG_PCI)', 'cfg(not(MODULE))'], cfgs)).toBe(false);
  });
});

const DRIVER = `use kernel::{device::Device, dma::CoherentAllocation, prelude::*};

struct Selftest;

impl kernel::Module for Selftest {
    #[cfg(CONFIG_DEMO_SELFTESTS)]
    fn init(dev: &Device) -> Result<Self> {
        let _scratch = CoherentAllocation::<u8>::alloc_coherent(dev, 64, GFP_KERNEL)?;
        Ok(Selftest)
    }
}
`;

function projectWith(cfg: string[]): string {
  return JSON.stringify({ crates: [{ root_module: 'drivers/demo/demo.rs', cfg, deps: [], edition: '2021' }] });
}

describe('check with rust-project.json', () => {
  it('analyzes #[cfg(CONFIG_..)] items only when the build enables them', () => {
    const off = tempTree({ 'rust-project.json': projectWith(['CONFIG_PCI']), 'drivers/demo/demo.rs': DRIVER });
    expect(runCli(['check', '--no-cache', '--format', 'short', 'drivers'], { cwd: off }).code).toBe(0);
    const on = tempTree({ 'rust-project.json': projectWith(['CONFIG_PCI', 'CONFIG_DEMO_SELFTESTS']), 'drivers/demo/demo.rs': DRIVER });
    const r = runCli(['check', '--no-cache', '--format', 'short', 'drivers'], { cwd: on });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${path.join('drivers', 'demo', 'demo.rs')}:8:`);
  });

  it('takes --rust-project from an O= build folder, and without any keeps every item', () => {
    const tree = tempTree({ 'build/rust-project.json': projectWith(['CONFIG_PCI']).replace('drivers/demo', '../drivers/demo'), 'drivers/demo/demo.rs': DRIVER });
    expect(runCli(['check', '--no-cache', '--rust-project', 'build/rust-project.json', 'drivers'], { cwd: tree }).code).toBe(0);
    expect(runCli(['check', '--no-cache', 'drivers'], { cwd: tree }).code).toBe(1);
  });
});
