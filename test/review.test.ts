// Which folders `dmalint patch` lints for the files a patch touches.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crateFolders } from '../src/ci/review.js';
import { rustProjectCrateRoots, rustProjectCrates } from '../src/ci/rust-project.js';
import { tempTree } from './cli-helpers.js';

describe('crate folders of a patch', () => {
  it('the nearest folder with a Makefile, Kbuild or Cargo.toml; only .rs files count', () => {
    const root = tempTree({ 'drivers/net/Makefile': '', 'drivers/net/nic/Makefile': '', 'drivers/net/nic/hw/regs.rs': '', 'tools/x/Cargo.toml': '', 'tools/x/src/main.rs': '', 'loose/a.rs': '' });
    expect(crateFolders(['drivers/net/nic/hw/regs.rs', 'tools/x/src/main.rs', 'loose/a.rs', 'drivers/net/nic/Makefile'], root)).toEqual(['drivers/net/nic', 'loose', 'tools/x']);
    // A folder inside another is linted with it.
    expect(crateFolders(['drivers/net/nic/hw/regs.rs', 'drivers/net/x.rs'], root)).toEqual(['drivers/net']);
  });

  it('rust-project.json (make rust-analyzer) names the crate roots and their cfgs', () => {
    const root = tempTree({ 'drivers/gpu/nova/nova.rs': '', 'drivers/gpu/nova/gsp/fw.rs': '', 'drivers/gpu/nova/Makefile': '', 'drivers/gpu/nova/gsp/Makefile': '' });
    const real = fs.realpathSync(root);
    fs.writeFileSync(
      path.join(root, 'rust-project.json'),
      JSON.stringify({
        crates: [
          { root_module: path.join(real, 'drivers/gpu/nova/nova.rs'), cfg: ['CONFIG_PCI', 'MODULE'] },
          { root_module: '/elsewhere/lib.rs', cfg: [] },
          { root_module: 42 },
        ],
      }),
    );
    expect(rustProjectCrates(root)).toEqual([{ folder: 'drivers/gpu/nova', cfg: ['CONFIG_PCI', 'MODULE'] }]);
    const roots = rustProjectCrateRoots(root);
    // Without it, the Makefile in gsp/ would make that folder a crate of its own.
    expect(crateFolders(['drivers/gpu/nova/gsp/fw.rs'], root)).toEqual(['drivers/gpu/nova/gsp']);
    expect(crateFolders(['drivers/gpu/nova/gsp/fw.rs'], root, roots)).toEqual(['drivers/gpu/nova']);
    fs.writeFileSync(path.join(root, 'rust-project.json'), '{ not json');
    expect(rustProjectCrates(root)).toEqual([]);
  });
});
