// Real git repositories with a small driver crate, for the process tests of diff-aware runs
// and patch series.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';
import { WORK_ITEM_BUG, tempTree } from './cli-helpers.js';

// ---------------------------------------------------------------------------------------------
// Repositories

/** Git with no user or system configuration, so the machine's settings cannot change the output. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull, LC_ALL: 'C' },
  });
}

export function gitRepo(files: Record<string, string>): string {
  const dir = tempTree(files);
  git(dir, 'init', '-q');
  git(dir, 'config', 'user.name', 'dmalint test');
  git(dir, 'config', 'user.email', 'test@dmalint.invalid');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'base');
  return dir;
}

export function edit(dir: string, file: string, change: (text: string) => string): void {
  const full = path.join(dir, file);
  const before = fs.readFileSync(full, 'utf8');
  const after = change(before);
  expect(after).not.toBe(before);
  fs.writeFileSync(full, after);
}
// ---------------------------------------------------------------------------------------------
// A small crate: an old bug in old.rs; ring.rs has a helper that only probe() calls, so it is
// fine until a work item calls it too.

export const LIB = `// SPDX-License-Identifier: GPL-2.0
use kernel::dma::CoherentAllocation;
use kernel::{pci, prelude::*};

mod old;
mod ring;
mod work;

struct Nic {
    ring: CoherentAllocation<u64>,
}

impl pci::Driver for Nic {
    type IdInfo = ();
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = crate::ring::alloc_ring(pdev.as_ref())?;
        KBox::pin(Nic { ring }, GFP_KERNEL)
    }
}
`;

export const RING = `// SPDX-License-Identifier: GPL-2.0
use kernel::dma::CoherentAllocation;
use kernel::prelude::*;
use kernel::device::Device;

pub(crate) fn alloc_ring(dev: &Device) -> Result<CoherentAllocation<u64>> {
    CoherentAllocation::<u64>::alloc_coherent(dev, 64, GFP_KERNEL)
}
`;

export const WORK = `// SPDX-License-Identifier: GPL-2.0
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::workqueue::{Work, WorkItem};
use kernel::{device::Device, types::ARef};

struct Poll {
    dev: ARef<Device>,
}

impl WorkItem for Poll {
    type Pointer = Arc<Poll>;

    fn run(this: Arc<Poll>) {
        pr_info!("poll\\n");
    }
}
`;

/** The change under review: the work item now allocates through the helper. */
export function callHelperFromWorkItem(text: string): string {
  return text.replace('        pr_info!("poll\\n");\n', '        pr_info!("poll\\n");\n        let _ring = crate::ring::alloc_ring(&this.dev);\n');
}

export const OLD_BUG = 'old.rs:16';
/** The finding the change adds: in ring.rs, which it does not touch, through its call in work.rs. */
export const NEW_BUG = 'ring.rs:7';

export function crateRepo(prefix = ''): string {
  return gitRepo({ [`${prefix}lib.rs`]: LIB, [`${prefix}ring.rs`]: RING, [`${prefix}work.rs`]: WORK, [`${prefix}old.rs`]: WORK_ITEM_BUG });
}
