// Quick fixes of dma_free_without_quiesce, from what the model knows of the finding: the
// registers that received the buffer's address, the driver data's MMIO handle, the driver's
// unbind(), and where a release comes before the stop.
import type { Expr, Stmt } from '../../src/facts/ir.js';
import type { Crate, DriverNode, FnNode } from '../../src/model/crate.js';
import { kernelPredicates } from '../../src/model/kernel-predicates.js';
import type { AddressConsumer, RemovalEvent } from '../../src/model/stops.js';
import type { RuleEdit, RuleFix } from '../../src/rule/api.js';

/**
 * Clear the address registers in unbind() (made if missing), through the driver data's MMIO
 * handle accessed with the bound device; without a register to clear, an unbind() to fill in.
 */
export function stopFixes(crate: Crate, driver: DriverNode, consumers: readonly AddressConsumer[]): RuleFix[] {
  const clears = [...new Set(consumers.flatMap((c) => (c.kind === 'register' && c.clear ? [c.clear] : [])))];
  const handle = mmioField(crate, driver);
  const body = clears.length > 0 && handle ? clearBlock(handle, clears) : undefined;
  const registers = [...new Set(consumers.flatMap((c) => (c.kind === 'register' && c.clear && c.register ? [`\`${c.register}\``] : [])))].join(', ');
  if (driver.unbind) {
    if (!body) return [];
    const edit = intoBody(driver.unbind, body);
    return edit ? [{ title: `Clear ${registers} in unbind() before the buffer is freed`, edits: [edit] }] : [];
  }
  const edit = newUnbind(driver, body);
  if (!edit) return [];
  return [{ title: body ? `Add an unbind() to \`${implLabel(driver)}\` that clears ${registers}` : `Add an unbind() skeleton to \`${implLabel(driver)}\` to stop the device`, edits: [edit] }];
}

/** Move an explicit release after the stop that follows it, when both are statements of one function. */
export function moveReleaseFix(release: RemovalEvent, stop: RemovalEvent): RuleFix[] {
  if (release.fn !== stop.fn || !release.fn.facts.body) return [];
  const releaseStmt = topStatement(release.fn, release.expr);
  const stopStmt = topStatement(release.fn, stop.expr);
  if (!releaseStmt || !stopStmt || releaseStmt === stopStmt || releaseStmt.span.endLine >= stopStmt.span.line) return [];
  return [{
    title: 'Move the release after the stop',
    edits: [{ kind: 'move', file: release.fn.file.path, from: releaseStmt.span.line, to: releaseStmt.span.endLine, after: stopStmt.span.endLine }],
  }];
}

/** The statement of the function's body block that holds `e`, if the statement has lines of its own. */
function topStatement(fn: FnNode, e: Expr): Stmt | undefined {
  const body = fn.facts.body;
  if (body?.k !== 'block') return undefined;
  const inside = (s: Stmt) => s.span.line <= e.span.line && e.span.endLine <= s.span.endLine;
  const stmt = body.stmts.find(inside);
  if (!stmt) return undefined;
  const others = body.stmts.filter((s) => s !== stmt);
  return others.some((s) => s.span.line <= stmt.span.endLine && s.span.endLine >= stmt.span.line) ? undefined : stmt;
}

/** A direct field of the driver data holding an MMIO handle, and whether it is behind a revocable wrapper. */
function mmioField(crate: Crate, driver: DriverNode): { field: string; revocable: boolean } | undefined {
  const is = kernelPredicates(crate);
  const path = crate.ownedPaths(driver.dataType, (t) => is.isMmioType(t)).find((p) => p.steps.length === 1);
  if (!path) return undefined;
  const step = path.steps[0];
  const revocable = mentions(step.type, (name) => crate.api.revocableTypes.has(name));
  return { field: step.field, revocable };
}

function mentions(t: { name: string; args: { name: string; args: unknown[] }[] }, test: (name: string) => boolean, depth = 0): boolean {
  if (test(t.name)) return true;
  return depth < 8 && t.args.some((a) => mentions(a as typeof t, test, depth + 1));
}

/** The statements, with `DEV` and `THIS` for the unbind() parameters. */
function clearBlock(handle: { field: string; revocable: boolean }, clears: string[]): string[] {
  // `HANDLE.write64(0, REG)` calls the handle; `REG::default().write(HANDLE)` takes a reference.
  const writes = clears.map((c) => `    ${c.startsWith('HANDLE.') ? c.replace('HANDLE', 'bar') : c.replace('HANDLE', handle.revocable ? '&bar' : 'bar')};`);
  if (handle.revocable) return [`if let Ok(bar) = THIS.${handle.field}.access(DEV.as_ref()) {`, ...writes, '}'];
  return [`let bar = &THIS.${handle.field};`, ...writes.map((w) => w.slice(4))];
}

function intoBody(unbind: FnNode, block: string[]): RuleEdit | undefined {
  const body = unbind.facts.body;
  const dev = unbind.facts.params[0]?.name;
  const self = unbind.facts.params[1]?.name;
  if (body?.k !== 'block' || !dev || !self || body.span.line === body.span.endLine) return undefined;
  const first = body.stmts[0];
  const lines = block.map((l) => l.replace('THIS', self).replace('DEV', dev));
  const before = first ? first.span.line : body.span.endLine;
  return first
    ? { kind: 'insert', file: unbind.file.path, before, lines, indentOf: first.span.line, indentExtra: 0 }
    : { kind: 'insert', file: unbind.file.path, before, lines, indentOf: body.span.line, indentExtra: 1 };
}

function newUnbind(driver: DriverNode, block: string[] | undefined): RuleEdit | undefined {
  const impl = driver.impl.facts;
  if (impl.span.line === impl.span.endLine) return undefined;
  const probe = driver.probe?.facts;
  const dev = probe?.params[0]?.name ?? 'dev';
  const bus = impl.trait?.path && impl.trait.path.length > 1 ? `${impl.trait.path[impl.trait.path.length - 2]}::` : '';
  const inner = block
    ? block.map((l) => `    ${l.replace('THIS', 'this').replace('DEV', dev)}`)
    : ['    // Stop the device before its DMA buffers are dropped: disable the DMA engine,', '    // clear the address registers or reset the function, through `this`.'];
  const lines = [`fn unbind(${dev}: &${bus}Device<Core>, this: Pin<&Self>) {`, ...inner, '}'];
  const lastFn = driver.impl.fns[driver.impl.fns.length - 1]?.facts;
  return {
    kind: 'insert',
    file: driver.impl.file.path,
    before: impl.span.endLine,
    lines: lastFn ? ['', ...lines] : lines,
    indentOf: lastFn ? lastFn.span.line : impl.span.line,
    indentExtra: lastFn ? 0 : 1,
  };
}

function implLabel(driver: DriverNode): string {
  const impl = driver.impl.facts;
  return impl.trait ? `impl ${impl.trait.text} for ${impl.selfType.text}` : impl.selfType.text;
}
