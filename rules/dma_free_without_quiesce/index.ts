// dma_free_without_quiesce: DMA buffers freed on remove while the device may still use them.
//
// For each bus driver: the DMA buffers its driver data owns (through fields and wrappers), kept
// when their bus address reaches the device (followed through locals, moves into struct
// literals, parameters and return values), then the removal path (`unbind()`, then the `Drop`
// impls that run before the buffer is freed) is scanned in order for a hardware stop and for
// an explicit release of the buffer.
import type { DriverNode, NType, OwnershipStep } from '../../src/model/crate.js';
import { removalSteps, type RemovalStep } from '../../src/model/removal-path.js';
import { MAX_FLOW_DEPTH, valueFlow } from '../../src/model/value-flow.js';
import type { DmaRule, Location, RuleContext, RuleFinding } from '../../src/rule/api.js';
import { moveReleaseFix, stopFixes } from './fixes.js';
import { addressExposures, addressRegistersOf, consumerNote, removalEvents, stopCovers, whyNotCovered, type Exposure, type RemovalEvent } from '../../src/model/stops.js';

const RULE_ID = 'dma_free_without_quiesce';

export const rule: DmaRule = {
  meta: {
    id: RULE_ID,
    defaultLevel: 'deny',
    summary: 'DMA buffer freed on remove while the hardware may still use it',
    whatItDoes: `For each bus driver (\`impl pci::Driver for T\`, platform, auxiliary, ...), finds the DMA buffers that the driver data \`T\` owns: \`CoherentAllocation\`, \`Coherent\`, \`CoherentHandle\`, \`SGTable\` and types added with \`dma-buffer-types\` in dmalint.toml, held directly or through \`Devres\`, \`Option\`, \`KBox\`, \`Arc\`, \`Pin\`, \`KVec\`, arrays and the crate's own types, across the files of the crate.

It keeps the buffers whose bus address is handed to the device: \`dma_handle()\`, \`dma_handle_with_offset()\` or an SG entry's \`dma_address()\` is taken on that buffer, and the value reaches something other than a log macro (a register write, a descriptor, a struct field, another function). The buffer is identified by its owner, not by its name: the receiver is resolved to a field of a crate type (\`self.queue.ring\`, a guard from \`try_access()\`, an SG entry from \`iter()\`), or to a local that is moved into the driver data (\`let ring = ..; Ok(Self { ring })\`, \`try_pin_init!(Self { ring })\`, a constructor of an owner type).

It records where each address went (its consumers): the register it was written to (by the offset constant or the generated register type, both halves of a split 64-bit write), or the object it was handed to (\`gsp_falcon.boot(bar, addr, ..)\`, \`chan.attach(addr)\`), or anything else (a descriptor in DMA memory, a field, a function outside the crate).

It then walks the removal path in the order the kernel runs it: \`Driver::unbind()\`, \`Drop\`/\`PinnedDrop\` of \`T\`, the \`Drop\` impls of the fields declared before the one holding the buffer, and \`Drop\` of each owner type on the way to the buffer, following calls into the crate's functions (also inside \`warn_on!\` and closures). The buffer is safe when, before any explicit release of it, a stop reaches the hardware that holds its address:
- a stop of the whole function: clearing bus mastering (\`clear_master\`), disabling the device, a function-level reset, or a function listed in \`quiesce-functions\`;
- a register write (\`write8/16/32/64\`, \`try_write*\`, \`write_reg\`, a generated register's \`write(bar)\`, \`alter\`, \`update\`), unless it only writes the address register of *other* buffers: clearing the flush page's address register stops the flush page, not the firmware processor that was given three other buffers;
- a call on the object the address was handed to whose name says it stops it (\`chan.halt()\` after \`chan.attach(addr)\`).
Gating a clock, switching a regulator off, releasing an interrupt (\`free_irq\`, dropping an IRQ registration), writing an interrupt register (\`IRQ_MASK\`, \`INTR_ACK\`), resetting a counter or a flag stop no DMA engine and never count; each finding lists the teardown it saw and why it does not stop this buffer. A release is \`drop(x)\`, \`.take()\`, \`mem::take\`/\`mem::replace\`, \`clear()\`/\`truncate()\` of a collection that holds the buffers, \`revoke()\` or assigning \`None\`.`,
    whyBad: `A device is in one of three states. *No Driver*: no driver is bound. *Driver Attached*: from the start of \`probe()\` to the end of remove. *Zombie*: the driver was unbound but objects still hold references to the device or to driver data. Hardware that was given a DMA address keeps reading and writing that memory until the driver tells it to stop, whatever state the driver is in.

On remove the kernel calls \`unbind()\` (with the device still bound, so \`bar.access(dev)\` works), then drops the driver data \`T\` (its \`Drop\`/\`PinnedDrop\` first, then its fields in declaration order), and last releases the device-managed (\`Devres\`) resources of the device. Dropping a coherent allocation calls \`dma_free_attrs\`; dropping an SG table unmaps it. A buffer in a \`Devres\` is freed at the latest in that final step, and a \`Devres\` field is freed when the driver data is dropped. If nothing stopped the engine before that, the device writes into memory the allocator has handed to someone else: a use-after-free done by hardware, invisible to the borrow checker and to KASAN, which shows up as random corruption long after the driver is gone.

Order matters inside \`unbind()\` too: taking the buffer out of the driver data (\`take()\`, \`drop()\`) and stopping the device afterwards frees the memory while the engine still runs.`,
    badExamples: [
      {
        title: 'ring address programmed, never stopped (2025 API)',
        code: `struct Nic {
    ring: CoherentAllocation<u64>,
    bar: Devres<pci::Bar<0x1000>>,
}
impl pci::Driver for Nic {
    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::alloc_coherent(pdev.as_ref(), 256, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x1000>(0, c_str!("nic"))?;
        bar.access(pdev.as_ref())?.write64(ring.dma_handle(), RING_BASE);
        Ok(KBox::pin(Nic { ring, bar }, GFP_KERNEL)?)
    }
    // no unbind() and no Drop: the engine still runs when ring is freed
}`,
      },
      {
        title: 'buffer taken before the engine is stopped (2026 API)',
        code: `impl pci::Driver for Dma {
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        drop(this.ring.lock().take()); // freed here ...
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            bar.write32(0, ENGINE_CTRL); // ... stopped only here
        }
    }
}`,
      },
      {
        title: 'stop only in Drop of a type shared through Arc, through try_access',
        code: `struct Engine { ring: Coherent<[u64]>, bar: Arc<Devres<pci::Bar<0x1000>>> }
impl Drop for Engine {
    fn drop(&mut self) {
        // Engine is shared (Arc<Engine>): this can run after unbind, when the BAR is
        // revoked and try_access() returns None, so the engine is never stopped.
        if let Some(bar) = self.bar.try_access() { bar.write32(0, ENGINE_CTRL); }
    }
}`,
      },
    ],
    goodExamples: [
      {
        title: 'stop the engine in unbind() (2025 API)',
        code: `impl pci::Driver for Nic {
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            bar.write32(0, ENGINE_CTRL); // stop DMA
            bar.write64(0, RING_BASE);   // forget the address
        }
    }
}`,
      },
      {
        title: 'stop the engine in unbind(), then release (2026 API)',
        code: `impl pci::Driver for Dma {
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        if let Ok(bar) = this.bar.access(pdev.as_ref()) {
            regs::Control::default().set_enable(false).write(&bar);
        }
        drop(this.ring.lock().take()); // the device no longer uses it
    }
}`,
      },
      {
        title: 'stop in PinnedDrop of the driver data (runs inside remove)',
        code: `#[pinned_drop]
impl PinnedDrop for Nic {
    fn drop(self: Pin<&mut Self>) {
        // Still inside remove, before Devres resources are released: the BAR is there.
        if let Some(bar) = self.bar.try_access() { bar.write32(0, ENGINE_CTRL); }
    }
}`,
      },
    ],
    howToFix: `Stop the device in \`unbind()\`: disable the DMA engine, clear the address registers, or reset the function, through the MMIO handle accessed with the bound device (\`this.bar.access(pdev.as_ref())\`). Only then let the buffer go: if \`unbind()\` releases it explicitly, put the release after the register write. A stop in \`Drop\`/\`PinnedDrop\` of the driver data also runs before the buffer is freed; prefer \`unbind()\`, where \`access()\` proves the device is still bound instead of \`try_access()\` silently doing nothing.

If the crate stops the device through a function whose name does not say so, or through code dmalint cannot see, name it in dmalint.toml:

\`\`\`toml
[api]
quiesce-functions = ["park_rings"]
\`\`\`

To accept a finding, write \`// dmalint-allow(dma_free_without_quiesce): <reason>\` on the line before the reported field, at the end of that line, or before the struct.`,
    limits: `- A register write counts as a stop unless the register it writes received another buffer's address and not this one's; what a control register does is known only from its name: a register named for interrupts (\`IRQ\`, \`INT\`, \`INTR\`, \`MSI\`) is not a stop, any other register write is. Registers are told apart by the name of the offset constant or generated register type, so two names for one offset are two registers.
- A function of the crate counts by what its body does, not by its name: \`fn reset_stats(&self)\` that only clears counters is not a stop. Functions listed in \`quiesce-functions\` count by name, for every buffer.
- A call outside the crate counts by its name only on the object the address was handed to (or, when the address went to a register or memory, on an object whose type is not known to do no DMA); clocks, regulators, IRQ registrations, atomics and timers never count.
- A \`.write(..)\` (and \`alter\`, \`update\`) is a register write only when its receiver or an argument is an MMIO handle (\`Bar\`, \`IoMem\`, ...): a \`write\` on a \`KVec\`, a file or the coherent buffer itself, and \`dma_write!\`, are CPU writes and stop nothing.
- A stop in \`Drop\`/\`PinnedDrop\` that reaches the registers through \`try_access\`/\`try_access_with\` is accepted when the type is owned by the driver data: it runs inside remove, before the BAR's \`Devres\` is released. It is reported only in a type reached through \`Arc\`, whose \`Drop\` can run after unbind when \`try_access\` returns \`None\`.
- Branches are not weighed: a stop in one arm of an \`if\` counts. Writes are not told apart: a device stopped again inside \`probe()\` after a self-test still counts as holding the address.
- A crate function whose name says it stops the device, and whose body calls raw C bindings (\`bindings::..\`), counts by its name.
- The address is followed through locals, struct literals, the crate's function parameters and return values, up to a few calls deep; an address stored and later read back from memory is counted as given to the device. Calls through function pointers are not followed. A call through a trait object or an \`impl Trait\` value (a HAL behind \`&dyn ChipOps\`) reaches every implementation of the trait in the crate, and a stop in any of them counts.
- A macro nested inside a pin-init macro is not parsed: \`ring <- new_mutex!(Some(ring))\` is taken to move the local \`ring\` into the field of the same name.
- Buffers freed by code outside the removal path (a work item, a file release) are not checked here.`,
    tags: ['dma', 'lifecycle', 'use-after-free'],
    links: [
      { title: 'Dynamic DMA mapping guide', url: 'https://docs.kernel.org/core-api/dma-api-howto.html' },
      { title: 'Rust kernel::dma', url: 'https://rust.docs.kernel.org/kernel/dma/index.html' },
    ],
  },
  check,
};

export default rule;

// ---------------------------------------------------------------------------------------------
// Check

function check({ crate, api }: RuleContext): RuleFinding[] {
  const out: RuleFinding[] = [];
  const flow = valueFlow(crate);
  const exposures = addressExposures(flow);
  if (exposures.length === 0) return out;
  const addressRegisters = addressRegistersOf(exposures);
  const isBuffer = (t: NType) => flow.is.isDmaBuffer(t);
  for (const driver of crate.drivers) {
    // One finding per outer field and per buffer: a buffer shared by two fields (an `Arc`) is
    // reported at the first.
    const reported = new Set<string>();
    const reportedBuffers = new Set<string>();
    for (const path of crate.ownedPaths(driver.dataType, isBuffer)) {
      const outer = path.steps[0];
      const inner = path.steps[path.steps.length - 1];
      if (!outer || reported.has(outer.field) || reportedBuffers.has(bufferKey(inner))) continue;
      const exposed = exposures.filter((x) => x.places.some((p) => flow.placeOnPath(p, path.steps)));
      if (exposed.length === 0) continue;
      const consumers = exposed.flatMap((x) => x.consumers);
      const steps = removalSteps(crate, driver, path.steps);
      const events = steps.flatMap((s) => removalEvents(flow, s, path.steps, MAX_FLOW_DEPTH));
      // A stop that does not reach this buffer's consumers is evidence, not a stop.
      const forBuffer = events.map((e) =>
        e.kind === 'quiesce' && e.stop && !stopCovers(e.stop, consumers, addressRegisters) ? { ...e, kind: 'no-stop' as const, what: whyNotCovered(e.stop, consumers) } : e,
      );
      const verdict = judge(forBuffer);
      if (verdict.kind === 'ok') continue;
      reported.add(outer.field);
      reportedBuffers.add(bufferKey(inner));
      const fixes = verdict.kind === 'release-first' ? moveReleaseFix(verdict.release, verdict.stop) : verdict.kind === 'none' ? stopFixes(crate, driver, consumers) : [];
      out.push({ ...finding(driver, path.steps, exposed, steps, verdict, forBuffer.filter((e) => e.kind === 'no-stop')), fixes });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Removal order and verdict

type Verdict =
  | { kind: 'ok' }
  | { kind: 'none'; release?: RemovalEvent }
  | { kind: 'release-first'; release: RemovalEvent; stop: RemovalEvent }
  | { kind: 'revocable-only'; stop: RemovalEvent };

/** A stop is reliable unless it is in Drop of an Arc-shared owner and goes through `try_access`. */
function unreliable(ev: RemovalEvent): boolean {
  return ev.step.kind === 'drop' && ev.step.shared && ev.viaTry;
}

function judge(events: RemovalEvent[]): Verdict {
  const releaseAt = events.findIndex((e) => e.kind === 'release');
  const bound = releaseAt < 0 ? events.length : releaseAt;
  const beforeRelease = events.slice(0, bound);
  if (beforeRelease.some((e) => e.kind === 'quiesce' && !unreliable(e))) return { kind: 'ok' };
  const release = releaseAt >= 0 ? events[releaseAt] : undefined;
  const later = release && events.slice(releaseAt + 1).find((e) => e.kind === 'quiesce' && !unreliable(e));
  if (release && later) return { kind: 'release-first', release, stop: later };
  const weak = beforeRelease.find((e) => e.kind === 'quiesce');
  if (weak) return { kind: 'revocable-only', stop: weak };
  return { kind: 'none', release };
}

// ---------------------------------------------------------------------------------------------
// Report

function finding(
  driver: DriverNode,
  steps: OwnershipStep[],
  exposed: Exposure[],
  removal: RemovalStep[],
  verdict: Exclude<Verdict, { kind: 'ok' }>,
  notStops: RemovalEvent[],
): RuleFinding {
  const outer = steps[0];
  const name = steps.map((s) => s.field).join('.');
  const related: Location[] = [];
  const seenSinks = new Set<string>();
  for (const x of exposed) {
    const key = `${x.sink.fn.file.path}:${x.sink.expr.span.line}`;
    if (seenSinks.has(key) || seenSinks.size >= 2) continue;
    seenSinks.add(key);
    related.push({ file: x.sink.fn.file.path, span: x.sink.expr.span, message: consumerNote(x.consumer) });
  }
  // Teardown that was seen and does not stop this buffer's consumer: why it does not count.
  const seenTeardown = new Set<string>();
  for (const ev of notStops) {
    const key = `${ev.fn.file.path}:${ev.expr.span.line}:${ev.expr.span.col}`;
    if (seenTeardown.has(key) || seenTeardown.size >= 3) continue;
    seenTeardown.add(key);
    related.push({ file: ev.fn.file.path, span: ev.expr.span, message: `not a stop: ${ev.what}` });
  }
  const notes: string[] = [];
  let message: string;
  let help = 'stop the device in unbind() (disable DMA, clear the address register or reset the function) before the buffer is dropped';
  if (verdict.kind === 'release-first') {
    message = `DMA buffer \`${name}\` is released in \`${verdict.release.step.fn.label}\` before the device is stopped`;
    related.push({ file: verdict.release.fn.file.path, span: verdict.release.expr.span, message: `released here, by ${verdict.release.what}` });
    related.push({ file: verdict.stop.fn.file.path, span: verdict.stop.expr.span, message: 'the device is stopped only here, after the release' });
    help = 'stop the device first, then release the buffer: move the release after the register write';
  } else if (verdict.kind === 'revocable-only') {
    const owner = verdict.stop.step.owner?.name ?? 'the owner';
    message = `DMA buffer \`${name}\` can be freed while the device still uses it: the only stop is in \`${verdict.stop.step.fn.label}\`, through \`try_access\``;
    related.push({ file: verdict.stop.fn.file.path, span: verdict.stop.expr.span, message: 'skipped silently once the BAR is revoked' });
    const at = verdict.stop.step.sharedAt;
    if (at) related.push({ file: at.struct.file.path, span: at.span, message: `\`${owner}\` is shared through \`Arc\` here` });
    notes.push(`\`${owner}\` is shared through \`Arc\`, so its \`Drop\` can run after unbind, when the BAR has been revoked and \`try_access\` returns \`None\`: the device is then never stopped`);
  } else {
    message = `DMA buffer \`${name}\` is freed on remove, but the device is never stopped before it`;
    if (removal.length === 0) {
      related.push({ file: driver.impl.file.path, span: driver.impl.facts.headerSpan, message: `no unbind() and no Drop for \`${driver.dataType.name}\`` });
    }
    for (const r of removal) related.push({ file: r.fn.file.path, span: r.fn.facts.nameSpan, message: `checked: \`${r.fn.label}\` does not stop the device` });
    if (verdict.release) related.push({ file: verdict.release.fn.file.path, span: verdict.release.expr.span, message: `released here, by ${verdict.release.what}` });
  }
  return {
    rule: RULE_ID,
    message,
    primary: { file: outer.struct.file.path, span: outer.span },
    related,
    notes,
    help,
    item: `struct ${outer.struct.name}`,
  };
}


// ---------------------------------------------------------------------------------------------
// Small helpers

function bufferKey(step: OwnershipStep): string {
  return `${step.struct.file.path}#${step.struct.name}.${step.field}`;
}
