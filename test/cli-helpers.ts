// Running the built CLI as a real process.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repo = path.resolve(__dirname, '..');
export const cliPath = path.join(repo, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repo,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', GITHUB_STEP_SUMMARY: '', ...options.env },
    input: options.input,
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary folder with the given files; returns its path. */
export function tempTree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-test-'));
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
  }
  return dir;
}

/** A small driver with one coherent_outside_probe finding (a work item allocating). */
export const WORK_ITEM_BUG = `// SPDX-License-Identifier: GPL-2.0
use kernel::dma::CoherentAllocation;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::workqueue::{Work, WorkItem};
use kernel::{device::Device, types::ARef};

struct Refill {
    dev: ARef<Device>,
}

impl WorkItem for Refill {
    type Pointer = Arc<Refill>;

    fn run(this: Arc<Refill>) {
        let ring = CoherentAllocation::<u64>::alloc_coherent(&this.dev, 64, GFP_KERNEL);
        let _ = ring;
    }
}
`;

/** A driver that allocates in probe: no finding. */
export const CLEAN_DRIVER = `// SPDX-License-Identifier: GPL-2.0
use kernel::dma::CoherentAllocation;
use kernel::{pci, prelude::*};

struct Ok1 {
    ring: CoherentAllocation<u64>,
}

impl pci::Driver for Ok1 {
    type IdInfo = ();
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::alloc_coherent(pdev.as_ref(), 16, GFP_KERNEL)?;
        KBox::pin(Ok1 { ring }, GFP_KERNEL)
    }
}
`;

/**
 * The SARIF 2.1.0 schema: the shared copy beside the checkout when present, else the copy kept
 * in test/schemas (the same file, from the MIT-licensed @microsoft/jest-sarif package).
 */
export function sarifSchemaPath(): string {
  const shared = path.resolve(repo, '..', 'shared', 'schemas', 'sarif-2.1.0-rtm.5.json');
  return fs.existsSync(shared) ? shared : path.join(repo, 'test', 'schemas', 'sarif-2.1.0-rtm.5.json');
}
