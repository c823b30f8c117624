// The crate model: grouping files by their mod tree, resolving types, the call graph and the
// device state of each function.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../src/facts/extract.js';
import { groupCrates, type InputFile } from '../src/model/crate-graph.js';
import { bodyBindings } from '../src/model/bindings.js';
import { Crate, type FnNode, type NType } from '../src/model/crate.js';
import { PerFunctionResults } from '../src/model/fn-results.js';
import type { Expr } from '../src/facts/ir.js';
import { CfgSet } from '../src/model/cfg.js';
import { defaultApi } from '../src/model/kernel-api.js';
import { kernelPredicates } from '../src/model/kernel-predicates.js';
import { stopCovers, type AddressConsumer } from '../src/model/stops.js';
import { forEachChild } from '../src/model/walk.js';

const ROOT = path.resolve('/virtual/drivers/demo');

function files(tree: Record<string, string>): InputFile[] {
  return Object.entries(tree).map(([rel, text]) => ({ path: rel, absPath: path.join(ROOT, rel), facts: extractFacts(text) }));
}

function crateOf(tree: Record<string, string>): Crate {
  const groups = groupCrates(files(tree));
  expect(groups).toHaveLength(1);
  return new Crate(groups[0], defaultApi());
}

function fn(crate: Crate, label: string): FnNode {
  const f = crate.fns.find((x) => x.label === label);
  if (!f) throw new Error(`no fn ${label}; have ${crate.fns.map((x) => x.label).join(', ')}`);
  return f;
}

/** The type of the last binding of `name` in a function (what a use after all of them sees). */
function localType(crate: Crate, f: FnNode, name: string): NType | undefined {
  const b = bodyBindings(f.facts).all.filter((x) => x.name === name).pop();
  return b && crate.bindingType(f, b);
}

describe('crate grouping', () => {
  it('follows mod declarations: sibling files of a root, mod.rs folders, nested non-mod-rs files', () => {
    const groups = groupCrates(
      files({
        'demo.rs': 'mod ring; mod hw;',
        'ring.rs': 'mod desc;',
        'ring/desc.rs': 'pub struct Desc;',
        'hw/mod.rs': 'pub mod regs;',
        'hw/regs.rs': 'pub const CTRL: usize = 0;',
        'other.rs': 'fn lonely() {}',
      }),
    );
    const byRoot = Object.fromEntries(groups.map((g) => [g.root.path, g.files.map((f) => `${f.path}=${f.modPath.join('::')}`).sort()]));
    expect(byRoot).toEqual({
      'demo.rs': ['demo.rs=', 'hw/mod.rs=hw', 'hw/regs.rs=hw::regs', 'ring.rs=ring', 'ring/desc.rs=ring::desc'],
      'other.rs': ['other.rs='],
    });
  });

  it('honours #[path] and inline modules', () => {
    const groups = groupCrates(
      files({
        'lib.rs': '#[path = "backend/real_impl.rs"]\nmod imp;\nmod outer { pub mod inner; }',
        'backend/real_impl.rs': 'pub fn go() {}',
        'outer/inner.rs': 'pub fn deep() {}',
      }),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0].files.map((f) => `${f.path}=${f.modPath.join('::')}`).sort()).toEqual(['backend/real_impl.rs=imp', 'lib.rs=', 'outer/inner.rs=outer::inner']);
  });

  it('does not lose files in a mod cycle', () => {
    const groups = groupCrates(files({ 'a/mod.rs': 'mod b;', 'a/b.rs': 'mod c;', 'a/b/c.rs': '' }));
    expect(groups.flatMap((g) => g.files).map((f) => f.path).sort()).toEqual(['a/b.rs', 'a/b/c.rs', 'a/mod.rs']);
  });
});

describe('types', () => {
  it('resolves use-as aliases, type aliases and wrappers to canonical kernel names', () => {
    const crate = crateOf({
      'demo.rs': `
use kernel::dma::CoherentAllocation as Dma;
use kernel::devres::Devres;
type Ring = Dma<u64>;
struct Desc { buf: KBox<Devres<Ring>> }
struct Drv { desc: Option<Arc<Desc>>, raw: bindings::dma_addr_t }
`,
    });
    const drv = crate.structs.get('Drv')![0];
    const desc = crate.fieldType(drv, 'desc')!;
    expect(desc.name).toBe('Option');
    expect(crate.peel(desc)!.name).toBe('Desc');
    expect(crate.fieldType(drv, 'raw')!.name).toBe('dma_addr_t');
    const found = crate.ownedPaths(desc, (t) => t.name === 'CoherentAllocation');
    expect(found).toHaveLength(1);
    expect(found[0].steps.map((s) => `${s.struct.name}.${s.field}`)).toEqual(['Desc.buf']);
    expect(found[0].steps[0].shared).toBe(true);
  });

  it('infers local types from constructors, fields and guards', () => {
    const crate = crateOf({
      'demo.rs': `
use kernel::dma::CoherentAllocation;
struct Regs;
struct Drv { regs: Devres<Regs> }
impl Drv {
    fn go(&self, dev: &Device<Bound>) {
        let ring = CoherentAllocation::<u32>::alloc_coherent(dev, 4, GFP_KERNEL).unwrap();
        let r = self.regs.access(dev).unwrap();
        if let Some(g) = self.regs.try_access() { g.poke(); }
    }
}
impl Regs { fn poke(&self) {} }
`,
    });
    const go = fn(crate, 'Drv::go');
    expect(localType(crate, go, 'ring')?.name).toBe('CoherentAllocation');
    expect(localType(crate, go, 'ring')?.args[0]?.name).toBe('u32');
    expect(localType(crate, go, 'g')?.name).toBe('Regs');
  });

  it('types a let-else binding of a guard as the guarded value, not its generic argument', () => {
    const crate = crateOf({
      'demo.rs': `
const SIZE: usize = 0x100;
struct Drv { io: Devres<IoMem<SIZE>>, slot: Option<Regs> }
struct Regs;
impl Drv {
    fn go(&self, dev: &Device<Bound>) {
        let Ok(io) = self.io.access(dev) else { return };
        let Some(r) = self.slot else { return };
    }
}
`,
    });
    const go = fn(crate, 'Drv::go');
    expect(localType(crate, go, 'io')?.name).toBe('IoMem');
    expect(localType(crate, go, 'r')?.name).toBe('Regs');
  });

  it('resolves each use to its own binding: a shadowing let reads the shadowed value', () => {
    const crate = crateOf({
      'demo.rs': `
struct Drv;
impl Drv {
    fn go(&self, dev: &Device<Bound>) {
        let ring = CoherentAllocation::<u64>::alloc_coherent(dev, 4, GFP_KERNEL)?;
        let addr = ring.dma_handle();
        let ring = Devres::new(dev, ring, GFP_KERNEL)?;
        { let addr = 0u64; use_it(addr); }
        if let Some(addr) = other() { use_it(addr); }
        use_it(addr);
        ring
    }
}
`,
    });
    const go = fn(crate, 'Drv::go');
    const scopes = bodyBindings(go.facts);
    const rings = scopes.all.filter((b) => b.name === 'ring');
    const addrs = scopes.all.filter((b) => b.name === 'addr');
    expect(rings).toHaveLength(2);
    expect(addrs).toHaveLength(3);
    // `ring.dma_handle()` and the `ring` argument of `Devres::new` read the allocation.
    expect(scopes.uses.get(rings[0])!.map((u) => u.span.line)).toEqual([6, 7]);
    // The tail `ring` is the Devres.
    expect(scopes.uses.get(rings[1])!.map((u) => u.span.line)).toEqual([11]);
    expect(crate.bindingType(go, rings[0])?.name).toBe('CoherentAllocation');
    expect(crate.bindingType(go, rings[1])?.name).toBe('Devres');
    expect(crate.bindingType(go, rings[1])?.args[0]?.name).toBe('CoherentAllocation');
    // The outer `addr` is used once, after the inner block and the `if let` ended.
    expect(scopes.uses.get(addrs[0])!.map((u) => u.span.line)).toEqual([10]);
    expect(scopes.uses.get(addrs[1])!.map((u) => u.span.line)).toEqual([8]);
    expect(scopes.uses.get(addrs[2])!.map((u) => u.span.line)).toEqual([9]);
  });
});

describe('call graph and device states', () => {
  const driver = {
    'demo.rs': `
use kernel::{pci, prelude::*};
mod helpers;
struct Drv { hw: helpers::Hw }
impl pci::Driver for Drv {
    type IdInfo = ();
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let hw = helpers::Hw::new();
        hw.setup();
        shared_helper();
        todo!()
    }
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        this.hw.stop_engine();
    }
}
fn shared_helper() { deep_helper(); }
fn deep_helper() {}
fn never_called() {}
fn on_both() {}
struct Poll;
impl WorkItem for Poll {
    type Pointer = Arc<Poll>;
    fn run(this: Arc<Poll>) { on_both(); via_thread(); }
}
fn via_thread() {}
fn bound_by_type(dev: &Device<Bound>) { on_both(); }
`,
    'helpers.rs': `
pub struct Hw;
impl Hw {
    pub fn new() -> Self { Hw }
    pub fn setup(&self) { self.program(); }
    fn program(&self) {}
    pub fn stop_engine(&self) {}
}
`,
  };

  it('resolves calls across files: Type::f, self.f(), this.field.f()', () => {
    const crate = crateOf(driver);
    const calls = (label: string) => crate.callees(fn(crate, label)).map((e) => e.to.label).sort();
    expect(calls('Driver::probe for Drv')).toEqual(['Hw::new', 'Hw::setup', 'shared_helper']);
    expect(calls('Hw::setup')).toEqual(['Hw::program']);
    expect(calls('Driver::unbind for Drv')).toEqual(['Hw::stop_engine']);
  });

  it('resolves a method called through a trait object or impl Trait to every impl of the trait', () => {
    const crate = crateOf({
      'demo.rs': `
trait ChipOps { fn park(&self); }
struct A;
struct B;
impl ChipOps for A { fn park(&self) {} }
impl ChipOps for B { fn park(&self) {} }
impl B { fn other(&self) {} }
struct Drv { ops: &'static dyn ChipOps, boxed: KBox<dyn ChipOps + Send> }
impl Drv {
    fn stop(&self) { self.ops.park(); }
    fn stop_boxed(&self) { self.boxed.park(); }
    fn via_impl(ops: &impl ChipOps) { ops.park(); }
    fn closure(f: &dyn Fn()) { f.park(); }
}
`,
    });
    const calls = (label: string) => crate.callees(fn(crate, label)).map((e) => e.to.label).sort();
    expect(calls('Drv::stop')).toEqual(['ChipOps::park for A', 'ChipOps::park for B']);
    expect(calls('Drv::stop_boxed')).toEqual(['ChipOps::park for A', 'ChipOps::park for B']);
    expect(calls('Drv::via_impl')).toEqual(['ChipOps::park for A', 'ChipOps::park for B']);
    expect(calls('Drv::closure')).toEqual([]);
  });

  it('classifies functions by the device state they can run in', () => {
    const crate = crateOf(driver);
    const state = (label: string) => crate.lifecycle(fn(crate, label)).state;
    expect(state('Driver::probe for Drv')).toBe('bound');
    expect(state('Driver::unbind for Drv')).toBe('bound');
    expect(state('Hw::program')).toBe('bound'); // two calls deep, in another file
    expect(state('deep_helper')).toBe('bound');
    expect(state('bound_by_type')).toBe('bound');
    expect(state('WorkItem::run for Poll')).toBe('unbound');
    expect(state('on_both')).toBe('unbound'); // one unbound caller is enough
    expect(state('via_thread')).toBe('unbound');
    expect(state('never_called')).toBe('unknown');
    const l = crate.lifecycle(fn(crate, 'on_both'));
    expect(l.root?.label).toBe('WorkItem::run for Poll');
    expect(l.why).toContain('Zombie');
  });

  it('finds the bus driver and its callbacks', () => {
    const crate = crateOf(driver);
    expect(crate.drivers).toHaveLength(1);
    expect(crate.drivers[0]).toMatchObject({ bus: 'pci' });
    expect(crate.drivers[0].probe?.name).toBe('probe');
    expect(crate.drivers[0].unbind?.name).toBe('unbind');
  });

  it('module init and kthread closures are unbound-capable', () => {
    const crate = crateOf({
      'demo.rs': `
use kernel::prelude::*;
module! { type: Demo, name: "demo", license: "GPL" }
struct Demo;
impl kernel::Module for Demo {
    fn init(_module: &'static ThisModule) -> Result<Self> { setup(); Ok(Demo) }
}
fn setup() {}
fn start() { let _t = kthread::spawn(move || worker()); }
fn worker() {}
`,
    });
    expect(crate.moduleTypes.has('Demo')).toBe(true);
    expect(crate.lifecycle(fn(crate, 'Module::init for Demo')).why).toContain('No Driver');
    expect(crate.lifecycle(fn(crate, 'setup')).state).toBe('unbound');
    expect(crate.lifecycle(fn(crate, 'worker')).state).toBe('unbound');
    expect(crate.lifecycle(fn(crate, 'start')).state).toBe('unknown');
  });
});

describe('facts', () => {
  it('re-parses macro bodies so calls inside them are seen, with correct positions', () => {
    const facts = extractFacts('fn f(dev: &Device) {\n    dev_info!(dev, "addr {}\\n",\n        ring.dma_handle());\n}\n');
    const body = JSON.stringify(facts.fns[0].body);
    expect(body).toContain('"name":"dma_handle"');
    const m = /"k":"method","recv":\{"k":"path","segs":\["ring"\],"span":\{"line":(\d+),"col":(\d+)/.exec(body);
    expect(m && [Number(m[1]), Number(m[2])]).toEqual([3, 9]);
  });

  it('reads module! keys and statics declared inside macros', () => {
    const facts = extractFacts('kernel::module_pci_driver! { type: MyDrv, name: "x" }\nglobal_lock! {\n    unsafe(uninit) static BUFS: Mutex<KVec<u8>> = KVec::new();\n}\n');
    expect(facts.macros[0].keys).toMatchObject({ type: 'MyDrv', name: '"x"' });
    expect(facts.statics.map((s) => [s.name, s.nameSpan.line, s.nameSpan.col])).toEqual([['BUFS', 3, 27]]);
  });

  it('finds suppression comments only in comments', () => {
    const facts = extractFacts('// dmalint-allow(a_rule): because\nfn f() { let s = "// dmalint-allow(x): y"; } // dmalint-allow(b, c): both\n/// dmalint-allow(doc): not one\nfn g() {}\n');
    expect(facts.suppressions.map((s) => [s.rules, s.reason, s.placement, s.span.line])).toEqual([
      [['a_rule'], 'because', 'own-line', 1],
      [['b', 'c'], 'both', 'trailing', 2],
    ]);
  });
});

describe('kernel predicates and the stop model', () => {
  const source = `
use kernel::{clk::Clk, pci, prelude::*};
const CTRL: usize = 0x10;
struct Regs { bar: Devres<pci::Bar<0x100>> }
struct Drv { bar: Devres<pci::Bar<0x100>>, clk: Clk, log: KVec<u8> }
impl Drv {
    fn go(&self, dev: &Device<Bound>) {
        let io = self.bar.access(dev).unwrap();
        io.write32(0, CTRL);
        io.write32(0, self.reg(Q_BASE_LO));
        regs::Ctrl::default().set_run(false).write(&io);
        regs::Mbox0::default().set_value(1).write(&io, &E::ID);
        regs::Status::update(&io, |r| r.set_busy(false));
        io.write_reg(regs::Base::zeroed());
        self.log.write(0u8);
        self.clk.disable_unprepare();
    }
}
`;
  it('names the register of each write form, and a KVec write is no register write', () => {
    const crate = crateOf({ 'demo.rs': source });
    const go = fn(crate, 'Drv::go');
    const is = kernelPredicates(crate);
    const writes: string[] = [];
    const visit = (e: Expr): void => {
      const w = is.registerWrite(go, e);
      if (w) writes.push(w.register ?? '?');
      forEachChild(e, visit);
    };
    visit(go.facts.body!);
    expect(writes).toEqual(['CTRL', 'Q_BASE_LO', 'Ctrl', 'Mbox0', 'Status', 'Base']);
  });

  it('covers a buffer with a stop only where it reaches the hardware that holds the address', () => {
    const crate = crateOf({ 'demo.rs': source });
    const go = fn(crate, 'Drv::go');
    const reg = (register: string): AddressConsumer => ({ kind: 'register', register, fn: go, expr: go.facts.body! });
    const addressRegisters = new Set(['FLUSH_ADDR', 'CMDQ_BASE']);
    expect(stopCovers({ scope: 'register', register: 'FLUSH_ADDR', what: '' }, [reg('CMDQ_BASE')], addressRegisters)).toBe(false);
    expect(stopCovers({ scope: 'register', register: 'CMDQ_BASE', what: '' }, [reg('CMDQ_BASE')], addressRegisters)).toBe(true);
    expect(stopCovers({ scope: 'register', register: 'ENGINE_CTRL', what: '' }, [reg('CMDQ_BASE')], addressRegisters)).toBe(true);
    expect(stopCovers({ scope: 'function', what: '' }, [reg('CMDQ_BASE')], addressRegisters)).toBe(true);
    const chan: AddressConsumer = { kind: 'object', text: 'chan', method: 'attach', fn: go, expr: go.facts.body! };
    expect(stopCovers({ scope: 'object', text: 'this.chan', what: '' }, [chan], addressRegisters)).toBe(true);
    expect(stopCovers({ scope: 'object', text: 'this.other', what: '' }, [chan], addressRegisters)).toBe(false);
  });
});

describe('call graph kept per body', () => {
  it('resolves an unedited body again when a declaration it depends on changes', () => {
    const caller = `fn run(d: &Dev) -> u32 {\n    d.read()\n}\n`;
    const make = (owner: string) => {
      const callerFacts = extractFacts(caller);
      const other = extractFacts(`struct Dev;\nstruct Other;\nimpl ${owner} {\n    fn read(&self) -> u32 { 1 }\n}\n`);
      return { callerFacts, other };
    };
    const { callerFacts, other } = make('Dev');
    const api = defaultApi();
    const crate = (facts: typeof other) =>
      new Crate({ root: { path: 'lib.rs', absPath: path.join(ROOT, 'lib.rs'), modPath: [], facts: callerFacts }, files: [{ path: 'lib.rs', absPath: path.join(ROOT, 'lib.rs'), modPath: [], facts: callerFacts }, { path: 'dev.rs', absPath: path.join(ROOT, 'dev.rs'), modPath: [], facts }] }, api);
    const callees = (c: Crate) => c.callees(fn(c, 'run')).map((e) => e.to.label);
    expect(callees(crate(other))).toEqual(['Dev::read']);
    // The same body object (as the language server keeps it), another crate around it.
    expect(callees(crate(make('Other').other))).toEqual([]);
    expect(callees(crate(other))).toEqual(['Dev::read']);
  });

  it('resolves an unedited body again under other cfgs, which change the functions of the crate', () => {
    const facts = extractFacts(`#[cfg(CONFIG_A)]\nfn gone() {}\nfn helper() {}\nfn run() {\n    helper();\n}\n`);
    const api = defaultApi();
    const file = { path: 'lib.rs', absPath: path.join(ROOT, 'lib.rs'), modPath: [], facts };
    const callees = (cfgs: CfgSet) => {
      const c = new Crate({ root: file, files: [file] }, api, { cfgs });
      return c.callees(fn(c, 'run')).map((e) => e.to.label);
    };
    expect(callees(new CfgSet(['CONFIG_A']))).toEqual(['helper']);
    expect(callees(new CfgSet([]))).toEqual(['helper']);
  });
});

describe('per-function results', () => {
  const api = defaultApi();
  const build = (inputs: InputFile[]) => new Crate(groupCrates(inputs)[0], api);

  it('are reused while nothing they depend on changes, and found again when an edit is undone', () => {
    const main = extractFacts('mod hw;\nfn probe() { hw::start(1); }\n');
    const hw = extractFacts('pub fn start(n: u32) { let _ = n; }\n');
    const renamed = extractFacts('pub fn begin(n: u32) { let _ = n; }\n');
    const at = (facts: typeof main, name: string): InputFile[] => [
      { path: 'main.rs', absPath: path.join(ROOT, 'main.rs'), facts: main },
      { path: name, absPath: path.join(ROOT, name), facts },
    ];
    const results = new PerFunctionResults<string>();
    let computed = 0;
    const probeOf = (crate: Crate) =>
      results.of(crate, fn(crate, 'probe'), '', (dependsOn) => {
        computed++;
        for (const e of crate.callees(fn(crate, 'probe'))) dependsOn(e.to);
        return crate.callees(fn(crate, 'probe')).map((e) => e.to.name).join(',');
      });
    expect(probeOf(build(at(hw, 'hw.rs')))).toBe('start');
    expect(probeOf(build(at(hw, 'hw.rs')))).toBe('start');
    expect(computed).toBe(1);
    // Another declaration: computed again; undone: the first result again.
    expect(probeOf(build(at(renamed, 'hw.rs')))).toBe('');
    expect(probeOf(build(at(hw, 'hw.rs')))).toBe('start');
    expect(computed).toBe(2);
    // The function looked into has other facts (its body edited): computed again.
    expect(probeOf(build(at(extractFacts('pub fn start(n: u32) { let _ = n + 1; }\n'), 'hw.rs')))).toBe('start');
    expect(computed).toBe(3);
  });
});
