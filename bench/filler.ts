// Realistic driver code that uses no DMA API: I2C sensors, GPIO and pin controllers, watchdogs,
// PHYs, PWM and LED controllers, RTCs. Most of a kernel tree is code like this. Generated from
// a seeded random source, so the same seed gives the same bytes.

export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** mulberry32 */
  next(): number {
    let t = (this.state += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(bits: number): string {
    const max = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
    return `0x${Math.floor(this.next() * max).toString(16).padStart(Math.ceil(bits / 4), '0')}`;
  }
}

const NOUNS = [
  'ctrl', 'status', 'cfg', 'thresh', 'fan', 'temp', 'volt', 'curr', 'led', 'bank', 'pin', 'irq', 'edge', 'level',
  'debounce', 'pull', 'drive', 'rate', 'period', 'duty', 'alarm', 'limit', 'hyst', 'sample', 'avg', 'calib', 'trim',
  'offset', 'gain', 'scale', 'mux', 'div', 'pll', 'gate', 'parent', 'timeout', 'reload', 'counter', 'window', 'link',
  'speed', 'duplex', 'autoneg', 'lpa', 'adv', 'mdix', 'loopback', 'fifo', 'clock', 'reset', 'enable', 'mode', 'range',
  'channel', 'lane', 'port', 'group', 'func', 'bias', 'slew', 'strength', 'wake', 'event', 'trip', 'zone', 'sensor',
  'adc', 'dac', 'filter', 'osr', 'conv', 'shadow', 'latch', 'polarity', 'blink', 'bright', 'pattern', 'seconds',
  'minutes', 'hours', 'day', 'month', 'year', 'century', 'weekday', 'cal', 'keepalive', 'pretimeout', 'heartbeat',
];
const VERBS = ['read', 'write', 'update', 'apply', 'check', 'decode', 'encode', 'compute', 'clamp', 'convert', 'probe_hw', 'init_hw', 'sync', 'poll', 'wait', 'set', 'get', 'toggle', 'refresh', 'validate'];
const CHIPS = ['ltc', 'max', 'tmp', 'ina', 'adt', 'lm', 'emc', 'nct', 'pca', 'tca', 'mcp', 'sx', 'aw', 'is', 'pcf', 'ds', 'rv', 'ab', 'ktd', 'lp', 'bd', 'rt', 'sy', 'mp', 'tps', 'da', 'wm', 'ar', 'qca', 'rtl', 'mv', 'bcm', 'dp', 'ksz', 'ti', 'st', 'nxp', 'mt', 'rk', 'sun'];

/** What kind of driver a filler crate is; it decides the bus and the trait implemented. */
export type FillerKind = 'hwmon' | 'gpio' | 'watchdog' | 'phy' | 'pwm' | 'rtc';
export const FILLER_KINDS: readonly FillerKind[] = ['hwmon', 'gpio', 'watchdog', 'phy', 'pwm', 'rtc'];

export function chipName(rnd: Random, serial: number): string {
  return `${rnd.pick(CHIPS)}${rnd.int(10, 9999)}${serial}`;
}

function camel(snake: string): string {
  return snake.split('_').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

/** Names unique inside one file, from words drivers use. */
class Names {
  private used = new Set<string>();
  constructor(private readonly rnd: Random) {}
  snake(parts = 2): string {
    for (;;) {
      const words = Array.from({ length: parts }, () => this.rnd.pick(NOUNS));
      const name = words.join('_');
      if (!this.used.has(name)) {
        this.used.add(name);
        return name;
      }
      parts = Math.min(parts + 1, 4);
    }
  }
  fn(): string {
    for (;;) {
      const name = `${this.rnd.pick(VERBS)}_${this.rnd.pick(NOUNS)}${this.rnd.chance(0.4) ? `_${this.rnd.pick(NOUNS)}` : ''}`;
      if (!this.used.has(name)) {
        this.used.add(name);
        return name;
      }
    }
  }
  upper(): string {
    return this.snake(2).toUpperCase();
  }
  type(): string {
    return camel(this.snake(2));
  }
}

interface Ctx {
  rnd: Random;
  names: Names;
  chip: string;
  kind: FillerKind;
}

const BUS_OF: Record<FillerKind, string> = { hwmon: 'i2c', gpio: 'platform', watchdog: 'platform', phy: 'phy', pwm: 'platform', rtc: 'i2c' };

function regBlock(c: Ctx): { text: string; regs: string[] } {
  const regs: string[] = [];
  const lines: string[] = [];
  const n = c.rnd.int(6, 18);
  let addr = c.rnd.int(0, 4) * 4;
  for (let i = 0; i < n; i++) {
    const name = c.names.upper();
    regs.push(name);
    if (c.rnd.chance(0.3)) lines.push(`/// ${c.rnd.pick(NOUNS)} ${c.rnd.pick(NOUNS)} register.`);
    lines.push(`pub(crate) const ${name}: ${c.kind === 'hwmon' || c.kind === 'rtc' ? 'u8' : 'usize'} = 0x${addr.toString(16).padStart(2, '0')};`);
    addr += c.rnd.pick([1, 2, 4, 4, 8]);
  }
  lines.push('');
  const fields = c.rnd.int(4, 10);
  for (let i = 0; i < fields; i++) {
    const name = `${c.names.upper()}_${c.rnd.pick(['MASK', 'SHIFT', 'EN', 'BIT'])}`;
    if (name.endsWith('SHIFT')) lines.push(`pub(crate) const ${name}: u32 = ${c.rnd.int(0, 28)};`);
    else if (name.endsWith('MASK')) lines.push(`pub(crate) const ${name}: u32 = genmask(${c.rnd.int(8, 31)}, ${c.rnd.int(0, 7)});`);
    else lines.push(`pub(crate) const ${name}: u32 = 1 << ${c.rnd.int(0, 31)};`);
    regs.push(name);
  }
  return { text: lines.join('\n'), regs };
}

function genmaskFn(): string {
  return `/// Bits \`lo..=hi\` set.
pub(crate) const fn genmask(hi: u32, lo: u32) -> u32 {
    (u32::MAX >> (31 - hi)) & !((1u32 << lo) - 1)
}

/// Extracts the field selected by \`mask\`.
pub(crate) const fn field_get(mask: u32, value: u32) -> u32 {
    (value & mask) >> mask.trailing_zeros()
}

/// Places \`value\` in the field selected by \`mask\`.
pub(crate) const fn field_prep(mask: u32, value: u32) -> u32 {
    (value << mask.trailing_zeros()) & mask
}
`;
}

function enumBlock(c: Ctx): string {
  const name = c.names.type();
  const variants = Array.from({ length: c.rnd.int(3, 8) }, () => camel(c.names.snake(1)));
  const uniq = [...new Set(variants)];
  const arms = uniq.map((v, i) => `            ${i} => Ok(Self::${v}),`).join('\n');
  const back = uniq.map((v, i) => `            Self::${v} => ${i},`).join('\n');
  return `/// Hardware ${c.rnd.pick(NOUNS)} ${c.rnd.pick(NOUNS)} setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ${name} {
${uniq.map((v) => `    ${v},`).join('\n')}
}

impl TryFrom<u32> for ${name} {
    type Error = Error;

    fn try_from(raw: u32) -> Result<Self> {
        match raw {
${arms}
            _ => Err(EINVAL),
        }
    }
}

impl ${name} {
    pub(crate) fn bits(self) -> u32 {
        match self {
${back}
        }
    }
}
`;
}

function conversionFn(c: Ctx): string {
  const f = c.names.fn();
  const scale = c.rnd.int(2, 4096);
  const off = c.rnd.int(-500, 500);
  return `/// Converts a raw ${c.rnd.pick(NOUNS)} reading to milli-units, clamped to the chip's range.
pub(crate) fn ${f}(raw: u16, ${c.rnd.pick(['gain', 'scale', 'range'])}: u32) -> i64 {
    let mut value = i64::from(raw as i16) * ${scale};
    value = value / i64::from(${c.rnd.pick(['gain', 'scale', 'range'])}.max(1));
    value += ${off};
    if value < ${c.rnd.int(-200000, -1000)} {
        return ${c.rnd.int(-200000, -1000)};
    }
    value.min(${c.rnd.int(1000, 300000)})
}
`;
}

function pollFn(c: Ctx, regs: string[], access: string): string {
  const f = c.names.fn();
  const reg = c.rnd.pick(regs);
  const bit = c.rnd.pick(regs);
  return `/// Polls until the ${c.rnd.pick(NOUNS)} bit clears, giving up after ${c.rnd.int(10, 500)} tries.
pub(crate) fn ${f}(${access}) -> Result {
    for attempt in 0..${c.rnd.int(10, 500)} {
        let value = ${readExpr(c, reg)};
        if value & ${bit} as u32 == 0 {
            return Ok(());
        }
        if attempt % ${c.rnd.int(2, 16)} == 0 {
            kernel::delay::fsleep(kernel::time::Delta::from_micros(${c.rnd.int(5, 2000)}));
        }
    }
    Err(ETIMEDOUT)
}
`;
}

function readExpr(c: Ctx, reg: string): string {
  switch (BUS_OF[c.kind]) {
    case 'i2c':
      return `u32::from(client.smbus_read_byte_data(${reg} as u8)?)`;
    case 'phy':
      return `u32::from(dev.read(C22::${c.rnd.pick(['BMCR', 'BMSR', 'PHYSID1', 'PHYSID2'])})?)`;
    default:
      return `io.read32(${reg} as usize)`;
  }
}

function writeStmt(c: Ctx, reg: string, value: string): string {
  switch (BUS_OF[c.kind]) {
    case 'i2c':
      return `client.smbus_write_byte_data(${reg} as u8, (${value}) as u8)?;`;
    case 'phy':
      return `dev.write(C22::BMCR, (${value}) as u16)?;`;
    default:
      return `io.write32(${value}, ${reg} as usize);`;
  }
}

function accessParam(c: Ctx): string {
  switch (BUS_OF[c.kind]) {
    case 'i2c':
      return 'client: &i2c::I2cClient';
    case 'phy':
      return 'dev: &mut phy::Device';
    default:
      return 'io: &IoMem<REGS_SIZE>';
  }
}

function stateStruct(c: Ctx, regs: string[]): string {
  const name = c.names.type();
  const fields = Array.from({ length: c.rnd.int(3, 7) }, () => c.names.snake(2));
  const types = fields.map(() => c.rnd.pick(['u32', 'u16', 'u8', 'bool', 'i32', 'usize', 'Option<u32>']));
  const defaults = types.map((t) => (t === 'bool' ? 'false' : t.startsWith('Option') ? 'None' : '0'));
  const m1 = c.names.fn();
  const m2 = c.names.fn();
  const numeric = fields.map((f, i) => [f, types[i]] as const).filter(([, t]) => ['u32', 'u16', 'u8', 'usize'].includes(t));
  const summed = numeric.length > 0 ? numeric.map(([f, t]) => (t === 'u32' ? `self.${f}` : `self.${f} as u32`)).join(' ^ ') : '0';
  return `/// Software copy of the ${c.rnd.pick(NOUNS)} state, so reads need no bus access.
#[derive(Clone, Debug)]
pub(crate) struct ${name} {
${fields.map((f, i) => `    pub(crate) ${f}: ${types[i]},`).join('\n')}
}

impl Default for ${name} {
    fn default() -> Self {
        Self {
${fields.map((f, i) => `            ${f}: ${defaults[i]},`).join('\n')}
        }
    }
}

impl ${name} {
    /// Folds the cached fields into the value written to \`${c.rnd.pick(regs)}\`.
    pub(crate) fn ${m1}(&self) -> u32 {
        let mut value = ${summed};
        ${fields.filter((_, i) => types[i] === 'bool').map((f) => `if self.${f} {\n            value |= 1 << ${c.rnd.int(0, 31)};\n        }`).join('\n        ')}
        value
    }

    pub(crate) fn ${m2}(&mut self, raw: u32) {
${fields.map((f, i) => `        self.${f} = ${fromRaw(types[i], c)};`).join('\n')}
    }
}
`;
}

function fromRaw(t: string, c: Ctx): string {
  const shift = c.rnd.int(0, 24);
  switch (t) {
    case 'bool':
      return `raw & (1 << ${c.rnd.int(0, 31)}) != 0`;
    case 'Option<u32>':
      return `if raw >> ${shift} == 0 { None } else { Some(raw >> ${shift}) }`;
    case 'u32':
      return `(raw >> ${shift}) & 0xff`;
    case 'i32':
      return `((raw >> ${shift}) & 0xff) as i32 - ${c.rnd.int(1, 128)}`;
    default:
      return `((raw >> ${shift}) & 0xff) as ${t}`;
  }
}

function configFn(c: Ctx, regs: string[]): string {
  const f = c.names.fn();
  const reg = c.rnd.pick(regs);
  const mask = c.rnd.pick(regs);
  const table = Array.from({ length: c.rnd.int(4, 12) }, () => c.rnd.int(1, 65535));
  return `/// Picks the closest supported ${c.rnd.pick(NOUNS)} and programs it.
pub(crate) fn ${f}(${accessParam(c)}, wanted: u32) -> Result<u32> {
    const TABLE: [u32; ${table.length}] = [${table.join(', ')}];
    let (index, &actual) = TABLE
        .iter()
        .enumerate()
        .min_by_key(|(_, &v)| v.abs_diff(wanted))
        .ok_or(EINVAL)?;
    let current = ${readExpr(c, reg)};
    let value = (current & !(${mask} as u32)) | field_prep(${mask} as u32, index as u32);
    ${writeStmt(c, reg, 'value')}
    Ok(actual)
}
`;
}

function irqFn(c: Ctx, regs: string[]): string {
  const f = c.names.fn();
  const events = Array.from({ length: c.rnd.int(2, 5) }, () => c.rnd.pick(regs));
  return `/// Decodes and acknowledges pending ${c.rnd.pick(NOUNS)} events; returns how many were handled.
pub(crate) fn ${f}(${accessParam(c)}) -> Result<usize> {
    let pending = ${readExpr(c, c.rnd.pick(regs))};
    let mut handled = 0;
${events.map((e) => `    if pending & ${e} as u32 != 0 {\n        pr_debug!("${c.chip}: event ${e.toLowerCase()}\\n");\n        handled += 1;\n    }`).join('\n')}
    if handled > 0 {
        ${writeStmt(c, c.rnd.pick(regs), 'pending')}
    }
    Ok(handled)
}
`;
}

function lockedCounterBlock(c: Ctx): string {
  const name = c.names.type();
  const f = c.names.fn();
  return `/// Event counters shared with the interrupt handler.
#[pin_data]
pub(crate) struct ${name} {
    #[pin]
    inner: SpinLock<[u64; ${c.rnd.int(2, 16)}]>,
}

impl ${name} {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            inner <- new_spinlock!([0; ${c.rnd.int(2, 16)}], "${c.chip}_${c.names.snake(1)}"),
        })
    }

    pub(crate) fn ${f}(&self, index: usize) -> u64 {
        let mut guard = self.inner.lock();
        let slot = index % guard.len();
        guard[slot] = guard[slot].wrapping_add(1);
        guard.iter().sum()
    }
}
`;
}

function testsBlock(c: Ctx): string {
  const cases = Array.from({ length: c.rnd.int(2, 5) }, () => [c.rnd.int(0, 31), c.rnd.int(0, 7)] as const);
  return `#[cfg(test)]
mod tests {
    use super::*;

${cases.map(([hi, lo], i) => `    #[test]\n    fn genmask_${i}() {\n        let m = genmask(${Math.max(hi, lo)}, ${Math.min(hi, lo)});\n        assert_eq!(field_prep(m, field_get(m, u32::MAX)), m);\n    }`).join('\n\n')}
}
`;
}

function header(c: Ctx, what: string): string {
  return `// SPDX-License-Identifier: GPL-2.0

//! ${c.chip.toUpperCase()} ${what}.
//!
//! ${c.rnd.pick(['Register layout from the datasheet', 'Register access and helpers', 'Written against the v6.16 driver core'])}, revision ${c.rnd.int(1, 9)}.
`;
}

function prelude(c: Ctx): string {
  switch (BUS_OF[c.kind]) {
    case 'i2c':
      return 'use kernel::{i2c, prelude::*, sync::SpinLock, new_spinlock};\n';
    case 'phy':
      return 'use kernel::{net::phy::{self, reg::C22}, prelude::*, sync::SpinLock, new_spinlock};\n';
    default:
      return 'use kernel::{io::mem::IoMem, prelude::*, sync::SpinLock, new_spinlock};\n\npub(crate) const REGS_SIZE: usize = 0x1000;\n';
  }
}

/** A helper module of a filler crate, about `target` bytes. */
export function fillerModule(rnd: Random, chip: string, kind: FillerKind, target: number): string {
  const c: Ctx = { rnd, names: new Names(rnd), chip, kind };
  const parts: string[] = [header(c, rnd.pick(['register map and helpers', 'configuration', 'event handling', 'calibration']))];
  parts.push(prelude(c));
  const { text, regs } = regBlock(c);
  parts.push(text, genmaskFn());
  return grow(c, parts, regs, target, true);
}

/** Items without DMA names to append to another file (a fixture's) until it is about `target` bytes. */
export function fillerTail(rnd: Random, chip: string, kind: FillerKind, current: number, target: number): string {
  if (current >= target) return '';
  const c: Ctx = { rnd, names: new Names(rnd), chip, kind };
  const tail = `mod ${c.names.snake(1)}_hw {
    #![allow(dead_code)]
    use kernel::prelude::*;
${prelude(c).replace(/^/gm, '    ')}
${indent(genmaskFn())}
`;
  const { text, regs } = regBlock(c);
  const body = grow(c, [tail, indent(text)], regs, target - current, false, true);
  return `\n${body}}\n`;
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '    ');
}

function grow(c: Ctx, parts: string[], regs: string[], target: number, withTests: boolean, indented = false): string {
  const size = () => parts.reduce((n, p) => n + p.length + 1, 0);
  const makers = [
    () => enumBlock(c),
    () => conversionFn(c),
    () => pollFn(c, regs, accessParam(c)),
    () => stateStruct(c, regs),
    () => configFn(c, regs),
    () => irqFn(c, regs),
    () => lockedCounterBlock(c),
  ];
  while (size() < target) {
    const block = c.rnd.pick(makers)();
    parts.push(indented ? indent(block) : block);
  }
  if (withTests && c.rnd.chance(0.3)) parts.push(testsBlock(c));
  return parts.join('\n');
}

/** The crate root: the driver type, its bus registration and the trait its subsystem wants. */
export function fillerRoot(rnd: Random, chip: string, kind: FillerKind, modules: string[], target: number): string {
  const c: Ctx = { rnd, names: new Names(rnd), chip, kind };
  const Drv = camel(chip);
  const parts: string[] = [header(c, rnd.pick(['driver', 'controller driver', 'core driver']))];
  parts.push(modules.map((m) => `mod ${m};`).join('\n'), '');
  parts.push(rootBody(c, Drv, modules));
  const { text, regs } = regBlock(c);
  parts.push(text, genmaskFn());
  return grow(c, parts, regs, target, true);
}

function rootBody(c: Ctx, Drv: string, modules: string[]): string {
  const first = modules[0] ?? 'regs';
  switch (c.kind) {
    case 'hwmon':
    case 'rtc':
      return `use kernel::{c_str, i2c, of, prelude::*, sync::{Arc, Mutex}, new_mutex};

/// Driver data: the client and a cache of the last readings.
#[pin_data]
struct ${Drv} {
    client: ARef<i2c::I2cClient>,
    #[pin]
    cache: Mutex<[i64; ${c.rnd.int(2, 8)}]>,
}

kernel::of_device_table!(
    OF_TABLE,
    MODULE_OF_TABLE,
    <${Drv} as i2c::Driver>::IdInfo,
    [(of::DeviceId::new(c_str!("${c.rnd.pick(['adi', 'ti', 'nxp', 'maxim', 'st'])},${c.chip}")), ())]
);

impl i2c::Driver for ${Drv} {
    type IdInfo = ();
    const OF_ID_TABLE: Option<of::IdTable<Self::IdInfo>> = Some(&OF_TABLE);

    fn probe(client: &i2c::I2cClient<Core>, _info: Option<&Self::IdInfo>) -> Result<Pin<KBox<Self>>> {
        let id = client.smbus_read_byte_data(0x${c.rnd.int(0, 255).toString(16)})?;
        if id != 0x${c.rnd.int(0, 255).toString(16)} {
            dev_err!(client.as_ref(), "unexpected chip id {:#x}\\n", id);
            return Err(ENODEV);
        }
        ${first}::genmask(7, 0);
        KBox::pin_init(
            try_pin_init!(Self {
                client: client.into(),
                cache <- new_mutex!([0; ${c.rnd.int(2, 8)}]),
            }),
            GFP_KERNEL,
        )
    }
}

kernel::module_i2c_driver! {
    type: ${Drv},
    name: "${c.chip}",
    authors: ["${c.chip} maintainers"],
    description: "${c.chip.toUpperCase()} ${c.kind === 'rtc' ? 'real-time clock' : 'hardware monitor'}",
    license: "GPL",
}
`;
    case 'phy':
      return `use kernel::net::phy::{self, reg::C22, DeviceId, Driver};
use kernel::prelude::*;

kernel::module_phy_driver! {
    drivers: [Phy${Drv}],
    device_table: [DeviceId::new_with_driver::<Phy${Drv}>()],
    name: "${c.chip}",
    authors: ["${c.chip} maintainers"],
    description: "${c.chip.toUpperCase()} PHY driver",
    license: "GPL",
}

struct Phy${Drv};

#[vtable]
impl Driver for Phy${Drv} {
    const NAME: &'static CStr = c_str!("${c.chip.toUpperCase()}");
    const PHY_DEVICE_ID: DeviceId = DeviceId::new_with_exact_mask(${c.rnd.hex(32)});

    fn read_status(dev: &mut phy::Device) -> Result<u16> {
        dev.genphy_update_link()?;
        if !dev.is_link_up() {
            return Ok(0);
        }
        let ret = dev.read(C22::BMCR)?;
        if ret & ${c.rnd.hex(16)} != 0 {
            dev.set_speed(${c.rnd.pick([10, 100, 1000])});
        }
        dev.genphy_read_lpa()?;
        Ok(0)
    }

    fn suspend(dev: &mut phy::Device) -> Result {
        dev.genphy_suspend()
    }

    fn resume(dev: &mut phy::Device) -> Result {
        dev.genphy_resume()
    }

    fn soft_reset(dev: &mut phy::Device) -> Result {
        dev.genphy_soft_reset()
    }
}
`;
    default: {
      const field = c.names.snake(1);
      return `use kernel::{c_str, device::Core, devres::Devres, io::mem::IoMem, of, platform, prelude::*};

const REGS_SIZE: usize = 0x1000;

/// Driver data: the register window, valid while the device is bound.
#[pin_data]
struct ${Drv} {
    #[pin]
    regs: Devres<IoMem<REGS_SIZE>>,
    ${field}: u32,
}

kernel::of_device_table!(
    OF_TABLE,
    MODULE_OF_TABLE,
    <${Drv} as platform::Driver>::IdInfo,
    [(of::DeviceId::new(c_str!("${c.rnd.pick(['vendor', 'acme', 'soc'])},${c.chip}-${c.kind}")), ())]
);

impl platform::Driver for ${Drv} {
    type IdInfo = ();
    const OF_ID_TABLE: Option<of::IdTable<Self::IdInfo>> = Some(&OF_TABLE);

    fn probe(pdev: &platform::Device<Core>, _info: Option<&Self::IdInfo>) -> Result<Pin<KBox<Self>>> {
        let request = pdev.io_request_by_index(0).ok_or(ENODEV)?;
        let drvdata = KBox::pin_init(
            try_pin_init!(Self {
                regs <- request.iomap_sized::<REGS_SIZE>(),
                ${field}: ${c.rnd.int(0, 4096)},
            }),
            GFP_KERNEL,
        )?;
        let io = drvdata.regs.access(pdev.as_ref())?;
        ${first}::genmask(7, 0);
        io.write32(0, 0x${c.rnd.int(0, 255).toString(16)});
        dev_info!(pdev.as_ref(), "${c.chip} ${c.kind} ready\\n");
        Ok(drvdata)
    }
}

kernel::module_platform_driver! {
    type: ${Drv},
    name: "${c.chip}_${c.kind}",
    authors: ["${c.chip} maintainers"],
    description: "${c.chip.toUpperCase()} ${c.kind} controller",
    license: "GPL v2",
}
`;
    }
  }
}
