// End-to-end tests of `dmalint lsp`: a real server process, JSON-RPC over its stdio.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  ClientCapabilities,
  CodeAction,
  Diagnostic,
  DiagnosticRelatedInformation,
  DocumentDiagnosticReport,
  Hover,
  TextEdit,
  WorkspaceDiagnosticReport,
} from 'vscode-languageserver-protocol';
import { parseRust } from '../src/syntax/parser.js';
import { NIC_HW, NIC_HW_DROP, NIC_MAIN, TestClient, positionAt, rangeOf, tempProject, uriOf } from './lsp-client.js';

const PUSH: ClientCapabilities = {
  workspace: { didChangeWatchedFiles: { dynamicRegistration: true }, workspaceEdit: { documentChanges: true } },
  window: { showDocument: { support: true } },
  textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true }, hover: { contentFormat: ['markdown', 'plaintext'] } },
};

const PULL: ClientCapabilities = {
  ...PUSH,
  workspace: { ...PUSH.workspace, diagnostics: { refreshSupport: true } },
  textDocument: { ...PUSH.textDocument, diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false } },
};

const clients: TestClient[] = [];
const roots: string[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

async function start(files: Record<string, string>, capabilities = PUSH): Promise<{ client: TestClient; root: string }> {
  const root = tempProject(files);
  roots.push(root);
  const client = await TestClient.start({ root, capabilities });
  clients.push(client);
  return { client, root };
}

const FREE_RULE = 'dma_free_without_quiesce';

/** How a related location reads in a message or hover: its `here` becomes `at <where>`. */
function relatedLine(r: DiagnosticRelatedInformation, where: (line: number) => string): string {
  const at = where(r.location.range.start.line + 1);
  return /\bhere\b/.test(r.message) ? r.message.replace(/\bhere\b/, `at ${at}`) : `${r.message} (${at})`;
}
const rules = (p: { diagnostics: Diagnostic[] }) => p.diagnostics.map((d) => d.code);

/** An unbind() that stops the engine, for main.rs. */
const UNBIND = `
    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {
        if let Ok(b) = this.bar.access(pdev.as_ref()) {
            b.write32(0, RING_BASE);
        }
    }
`;

describe('dmalint lsp', () => {
  it('answers initialize with incremental sync and push diagnostics for a push client', async () => {
    const { client } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const caps = client.initializeResult.capabilities;
    expect(client.initializeResult.serverInfo?.name).toBe('dmalint');
    expect(caps.textDocumentSync).toMatchObject({ openClose: true, change: 2 });
    expect(caps.codeActionProvider).toBeTruthy();
    expect(caps.hoverProvider).toBe(true);
    expect(caps.diagnosticProvider).toBeUndefined();
    await client.waitUntil('file watcher registration', () => client.registrations.some((r) => r.method === 'workspace/didChangeWatchedFiles'));
  });

  it('publishes a finding with rule, link, severity, related locations and data, and clears it when fixed', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    const first = await client.diagnosticsFor(uri, (p) => p.version === 1);
    expect(rules(first)).toEqual([FREE_RULE]);
    const d = first.diagnostics[0];
    expect(d.source).toBe('dmalint');
    expect(d.severity).toBe(1);
    expect(d.codeDescription?.href).toMatch(/dma_free_without_quiesce\.md$/);
    expect(d.range).toEqual(rangeOf(NIC_MAIN, 'ring: CoherentAllocation<u64>'));
    expect(d.message).toContain('`ring`');
    // Where the address reaches the device, and the driver impl that has no unbind().
    const relatedLines = d.relatedInformation?.map((r) => r.location.range.start.line);
    expect(relatedLines).toContain(rangeOf(NIC_MAIN, 'ring.dma_handle()').start.line);
    expect(relatedLines).toContain(rangeOf(NIC_MAIN, 'impl pci::Driver for Nic').start.line);
    expect(d.relatedInformation?.every((r) => r.location.uri === uri)).toBe(true);
    expect(d.data).toMatchObject({ rule: FREE_RULE, version: 1 });

    // Type the fix in: an unbind() that writes the device's control register.
    const at = positionAt(NIC_MAIN, NIC_MAIN.lastIndexOf('}'));
    await client.change(uri, 2, [{ range: { start: at, end: at }, text: UNBIND }]);
    const fixed = await client.diagnosticsFor(uri, (p) => p.version === 2);
    expect(fixed.diagnostics).toEqual([]);

    // And take it out again, one edit that deletes the inserted lines.
    const end = positionAt(NIC_MAIN.slice(0, NIC_MAIN.lastIndexOf('}')) + UNBIND, NIC_MAIN.lastIndexOf('}') + UNBIND.length);
    await client.change(uri, 3, [{ range: { start: at, end }, text: '' }]);
    const back = await client.diagnosticsFor(uri, (p) => p.version === 3);
    expect(rules(back)).toEqual([FREE_RULE]);
  });

  it('updates a file when the other file of its crate is edited, open or on disk', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const mainUri = uriOf(path.join(root, 'main.rs'));
    const hwPath = path.join(root, 'hw.rs');
    const hwUri = uriOf(hwPath);
    await client.open(mainUri, NIC_MAIN);
    await client.diagnosticsFor(mainUri, (p) => rules(p).includes(FREE_RULE));

    // hw.rs open in the editor: a Drop that stops the device fixes main.rs.
    await client.open(hwUri, NIC_HW);
    await client.diagnosticsFor(hwUri, (p) => p.version === 1);
    const mark = client.published.length;
    const end = positionAt(NIC_HW, NIC_HW.length);
    await client.change(hwUri, 2, [{ range: { start: end, end }, text: NIC_HW_DROP }]);
    const cleared = await client.diagnosticsFor(mainUri, () => true, mark);
    expect(cleared.diagnostics).toEqual([]);
    expect(cleared.version).toBe(1);

    // Closed again, hw.rs is what the disk says (no Drop): the finding is back.
    const mark2 = client.published.length;
    await client.notify('textDocument/didClose', { textDocument: { uri: hwUri } });
    expect(rules(await client.diagnosticsFor(mainUri, () => true, mark2))).toEqual([FREE_RULE]);

    // Saved by another program: the file watcher event brings the change in.
    const mark3 = client.published.length;
    fs.writeFileSync(hwPath, NIC_HW + NIC_HW_DROP);
    await client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: hwUri, type: 2 }] });
    expect((await client.diagnosticsFor(mainUri, () => true, mark3)).diagnostics).toEqual([]);

    // Deleted: main.rs's `mod hw;` finds nothing, so no Drop, so the finding returns.
    const mark4 = client.published.length;
    fs.rmSync(hwPath);
    await client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: hwUri, type: 3 }] });
    expect(rules(await client.diagnosticsFor(mainUri, () => true, mark4))).toEqual([FREE_RULE]);
  });

  it('offers a suppression with the reason selected, and an unbind() that clears the address register', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    const published = await client.diagnosticsFor(uri, (p) => p.version === 1);
    const diagnostic = published.diagnostics[0];
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    });
    expect(actions.map((a) => a.title)).toEqual([
      'Add an unbind() to `impl pci::Driver for Nic` that clears `RING_BASE`',
      'Suppress `dma_free_without_quiesce` here with a dmalint-allow comment',
    ]);
    for (const a of actions) expect(a.kind).toBe('quickfix');
    expect(actions[0].isPreferred).toBe(false);
    const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'rust', 1, NIC_MAIN), editsFor(actions[0], uri, 1));
    expect(fixed).toContain(
      [
        '        KBox::pin(Nic { ring, bar }, GFP_KERNEL)',
        '    }',
        '',
        '    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {',
        '        if let Ok(bar) = this.bar.access(pdev.as_ref()) {',
        '            bar.write64(0, RING_BASE);',
        '        }',
        '    }',
        '}',
      ].join('\n'),
    );

    // The suppression goes above the struct's attribute, the placeholder gets selected.
    const suppress = actions[1];
    let doc = TextDocument.create(uri, 'rust', 1, NIC_MAIN);
    const edits = editsFor(suppress, uri, 1);
    doc = TextDocument.create(uri, 'rust', 2, TextDocument.applyEdits(doc, edits));
    expect(doc.getText()).toContain('// dmalint-allow(dma_free_without_quiesce): <reason>\n#[pin_data]\nstruct Nic {');
    expect(suppress.command?.command).toBe('dmalint.selectPlaceholder');
    await client.request('workspace/executeCommand', { command: suppress.command!.command, arguments: suppress.command!.arguments });
    expect(client.shown).toHaveLength(1);
    const selection = client.shown[0].selection!;
    expect(doc.getText(selection)).toBe('<reason>');

    // Left as it is, the placeholder is no reason: the finding stays, and the comment is reported.
    await client.change(uri, 2, edits.map((e) => ({ range: e.range, text: e.newText })));
    const placeholder = await client.diagnosticsFor(uri, (p) => p.version === 2);
    expect(rules(placeholder).sort()).toEqual([FREE_RULE, 'invalid_suppression']);
    expect(placeholder.diagnostics.find((d) => d.code === 'invalid_suppression')?.message).toMatch(/^suppression comment with a placeholder for a reason: `<reason>`/);

    // The reason is written in; the suppression still holds.
    await client.change(uri, 3, [{ range: selection, text: 'the device is reset by the bus on remove' }]);
    expect((await client.diagnosticsFor(uri, (p) => p.version === 3)).diagnostics).toEqual([]);
  });

  it('applies the unbind() fix as code that parses, and the finding goes away', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    const diagnostic = (await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics[0];
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic] } });
    const edits = editsFor(actions[0], uri, 1);
    const text = TextDocument.applyEdits(TextDocument.create(uri, 'rust', 1, NIC_MAIN), edits);
    expect(text).toContain('    }\n\n    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {\n        if let Ok(bar) = this.bar.access(pdev.as_ref()) {');
    expect(parseRust(text).rootNode.hasError).toBe(false);
    await client.change(uri, 2, [{ text }]);
    // The register that received the ring's address is cleared before the ring is freed.
    const after = await client.diagnosticsFor(uri, (p) => p.version === 2);
    expect(rules(after)).toEqual([]);
  });

  it('sends snippets to clients that take snippet edits', async () => {
    const caps: ClientCapabilities = { ...PUSH, workspace: { ...PUSH.workspace, workspaceEdit: { documentChanges: true, snippetEditSupport: true } as never } };
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW }, caps);
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    const diagnostic = (await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics[0];
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic] } });
    const suppress = actions.find((a) => a.title.startsWith('Suppress'))!;
    expect(suppress.command).toBeUndefined();
    const change = suppress.edit!.documentChanges![0] as { edits: { snippet: { kind: string; value: string } }[] };
    expect(change.edits[0].snippet).toEqual({ kind: 'snippet', value: '// dmalint-allow(dma_free_without_quiesce): ${1:<reason>}\n' });
  });

  it('explains the rule on hover over a diagnostic, and nothing elsewhere', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    const [finding] = (await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics;
    const on = rangeOf(NIC_MAIN, 'CoherentAllocation<u64>,').start;
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: on });
    const value = (hover?.contents as { kind: string; value: string }).value;
    expect((hover?.contents as { kind: string }).kind).toBe('markdown');
    // The finding's evidence first, with links to its related locations; then the rule, briefly.
    const mainUri = uriOf(path.join(root, 'main.rs'));
    expect(value.split('\n')[0]).toBe('DMA buffer `ring` is freed on remove, but the device is never stopped before it');
    const related = finding.relatedInformation ?? [];
    expect(related.length).toBeGreaterThan(0);
    const lines = related.map((r) => `- ${relatedLine(r, (l) => `[main.rs:${l}](${mainUri}#L${l})`)}`);
    expect(value.split('\n').slice(1, 2 + lines.length)).toEqual(['', ...lines]);
    expect(value.indexOf('help: stop the device')).toBeGreaterThan(value.indexOf(lines[lines.length - 1]));
    expect(value).toMatch(/---\n\n`dma_free_without_quiesce`: [^\n]+\. \[Documentation\]\(https:[^)]+dma_free_without_quiesce\.md\)$/);
    expect(value.length).toBeLessThan(1000);
    expect(hover?.range).toEqual(rangeOf(NIC_MAIN, 'ring: CoherentAllocation<u64>'));
    const off = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(NIC_MAIN, 'RING_BASE').start });
    expect(off).toBeNull();
  });

  it('gives the evidence in plain text to a client that takes no Markdown', async () => {
    const plain: ClientCapabilities = { ...PUSH, textDocument: { ...PUSH.textDocument, hover: { contentFormat: ['plaintext'] } } };
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW }, plain);
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    const [finding] = (await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics;
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(NIC_MAIN, 'CoherentAllocation<u64>,').start });
    const contents = hover?.contents as { kind: string; value: string };
    expect(contents.kind).toBe('plaintext');
    const related = (finding.relatedInformation ?? []).map((r) => `  ${relatedLine(r, (l) => `main.rs:${l}`)}`);
    expect(related.length).toBeGreaterThan(0);
    expect(contents.value.split('\n').slice(0, 1 + related.length)).toEqual(['DMA buffer `ring` is freed on remove, but the device is never stopped before it', ...related]);
    expect(contents.value).toMatch(/\n\ndma_free_without_quiesce: [^\n]+\nhttps:\S+dma_free_without_quiesce\.md$/);
  });

  it('removes an unused suppression, and explains the rules a suppression comment names', async () => {
    const text = `// A helper with nothing to suppress.\n\nfn helper() -> u32 {\n    // dmalint-allow(coherent_outside_probe): left from an old version\n    7\n}\n`;
    const { client, root } = await start({ 'lib.rs': text });
    const uri = uriOf(path.join(root, 'lib.rs'));
    await client.open(uri, text);
    const published = await client.diagnosticsFor(uri, (p) => p.version === 1);
    expect(rules(published)).toEqual(['unused_suppression']);
    expect(published.diagnostics[0].severity).toBe(2);

    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: rangeOf(text, 'coherent_outside_probe').start });
    const value = (hover?.contents as { value: string }).value;
    expect(value.split('\n')[0]).toBe('this `dmalint-allow(coherent_outside_probe)` suppresses nothing');
    expect(value).toContain('`unused_suppression`: a dmalint-allow comment that suppresses nothing');
    expect(value).toContain('`coherent_outside_probe`: ');
    expect(published.diagnostics[0].tags).toEqual([1]); // Unnecessary: shown faded

    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: published.diagnostics[0].range, context: { diagnostics: published.diagnostics } });
    expect(actions.map((a) => a.title)).toEqual(['Remove the unused dmalint-allow comment']);
    expect(actions[0].isPreferred).toBe(true);
    const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'rust', 1, text), editsFor(actions[0], uri, 1));
    expect(fixed).toBe('// A helper with nothing to suppress.\n\nfn helper() -> u32 {\n    7\n}\n');
    await client.change(uri, 2, [{ text: fixed }]);
    expect((await client.diagnosticsFor(uri, (p) => p.version === 2)).diagnostics).toEqual([]);
  });

  it('checks an unsaved buffer on its own, and leaves files excluded by the config alone', async () => {
    const { client, root } = await start({ 'dmalint.toml': '[files]\nexclude = ["vendor"]\n', 'vendor/main.rs': NIC_MAIN, 'vendor/hw.rs': NIC_HW });
    const untitled = 'untitled:Untitled-1';
    await client.open(untitled, NIC_MAIN);
    const own = await client.diagnosticsFor(untitled, (p) => p.version === 1);
    expect(rules(own)).toEqual([FREE_RULE]);
    expect(own.diagnostics[0].relatedInformation?.[0].location.uri).toBe(untitled);

    const vendored = uriOf(path.join(root, 'vendor', 'main.rs'));
    await client.open(vendored, NIC_MAIN);
    expect((await client.diagnosticsFor(vendored, (p) => p.version === 1)).diagnostics).toEqual([]);
  });

  it('serves pull diagnostics to a pull client, with resultIds, refresh and workspace reports, and never pushes', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW }, PULL);
    expect(client.initializeResult.capabilities.diagnosticProvider).toMatchObject({ interFileDependencies: true, workspaceDiagnostics: true });
    const uri = uriOf(path.join(root, 'main.rs'));
    const hwUri = uriOf(path.join(root, 'hw.rs'));
    await client.open(uri, NIC_MAIN);
    const first = await client.request<DocumentDiagnosticReport & { items: Diagnostic[]; resultId: string }>('textDocument/diagnostic', { textDocument: { uri } });
    expect(first.kind).toBe('full');
    expect(first.items.map((d) => d.code)).toEqual([FREE_RULE]);
    const same = await client.request<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: first.resultId });
    expect(same).toEqual({ kind: 'unchanged', resultId: first.resultId });

    // Fixing it from hw.rs: the server asks the client to pull again.
    await client.open(hwUri, NIC_HW);
    await client.request('textDocument/diagnostic', { textDocument: { uri: hwUri } });
    const end = positionAt(NIC_HW, NIC_HW.length);
    await client.change(hwUri, 2, [{ range: { start: end, end }, text: NIC_HW_DROP }]);
    await client.waitUntil('workspace/diagnostic/refresh', () => client.refreshes > 0);
    const now = await client.request<DocumentDiagnosticReport & { items?: Diagnostic[] }>('textDocument/diagnostic', { textDocument: { uri }, previousResultId: first.resultId });
    expect(now.kind).toBe('full');
    expect(now.items).toEqual([]);

    const workspace = await client.request<WorkspaceDiagnosticReport>('workspace/diagnostic', { previousResultIds: [] });
    const byUri = new Map(workspace.items.map((i) => [i.uri, i]));
    expect([...byUri.keys()].sort()).toEqual([hwUri, uri].sort());
    expect(byUri.get(uri)).toMatchObject({ kind: 'full', items: [], version: 1 });
    const again = await client.request<WorkspaceDiagnosticReport>('workspace/diagnostic', {
      previousResultIds: workspace.items.map((i) => ({ uri: i.uri, value: i.resultId! })),
    });
    expect(again.items.every((i) => i.kind === 'unchanged')).toBe(true);

    // A round trip after the last change: any push would have arrived by now.
    await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
    expect(client.published).toEqual([]);
  });

  it('reloads dmalint.toml on change, reports a broken one and keeps the last good settings', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW, 'dmalint.toml': '' });
    const uri = uriOf(path.join(root, 'main.rs'));
    const configPath = path.join(root, 'dmalint.toml');
    const configUri = uriOf(configPath);
    await client.open(uri, NIC_MAIN);
    expect((await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics[0].severity).toBe(1);

    const write = async (text: string) => {
      const mark = client.published.length;
      fs.writeFileSync(configPath, text);
      await client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: configUri, type: 2 }] });
      return mark;
    };
    let mark = await write('[rules]\ndma_free_without_quiesce = "warn"\n');
    expect((await client.diagnosticsFor(uri, () => true, mark)).diagnostics[0].severity).toBe(2);

    mark = await write('[rules]\ndma_free_without_quiesce = "warn"\nno_such_rule = "deny"\n');
    const configDiagnostics = await client.diagnosticsFor(configUri, (p) => p.diagnostics.length > 0, mark);
    expect(configDiagnostics.diagnostics[0].range.start.line).toBe(2);
    expect(configDiagnostics.diagnostics[0].message).toContain('unknown rule `no_such_rule`');
    await client.waitUntil('showMessage', () => client.messages.length > 0);
    expect(client.messages[0].type).toBe(1);
    expect(client.messages[0].message).toContain('no_such_rule');
    // The last good config (warn) still applies.
    await client.change(uri, 2, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: ' ' }]);
    expect((await client.diagnosticsFor(uri, (p) => p.version === 2)).diagnostics[0].severity).toBe(2);

    mark = await write('[rules]\ndma_free_without_quiesce = "allow"\n');
    expect((await client.diagnosticsFor(uri, () => true, mark)).diagnostics).toEqual([]);
    expect((await client.diagnosticsFor(configUri, () => true, mark)).diagnostics).toEqual([]);
  });

  it('watches folders itself when the client does not', async () => {
    const caps: ClientCapabilities = { ...PUSH, workspace: { workspaceEdit: { documentChanges: true } } };
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW }, caps);
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    await client.diagnosticsFor(uri, (p) => rules(p).includes(FREE_RULE));
    expect(client.registrations).toEqual([]);
    const mark = client.published.length;
    fs.writeFileSync(path.join(root, 'hw.rs'), NIC_HW + NIC_HW_DROP);
    expect((await client.diagnosticsFor(uri, () => true, mark)).diagnostics).toEqual([]);
  });

  it('answers a bad request with an error and keeps serving', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const uri = uriOf(path.join(root, 'main.rs'));
    // Wrong types are invalid params (-32602) named by field, with no stack trace anywhere.
    const bad = client.request('textDocument/hover', { textDocument: null, position: 'nowhere' });
    await expect(bad).rejects.toMatchObject({ code: -32602, message: 'dmalint: `textDocument/hover`: `textDocument.uri` is missing' });
    await expect(client.request('textDocument/hover', { textDocument: { uri }, position: { line: -1, character: 0 } })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('`position` must be a position') });
    await expect(client.request('textDocument/codeAction', { textDocument: { uri }, range: rangeOf(NIC_MAIN, 'ring'), context: { diagnostics: [{}] } })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('`context.diagnostics[0]`: `range` is missing') });
    await client.notify('textDocument/didChange', { textDocument: { uri: 'file:///not/open.rs', version: 1 }, contentChanges: [{ text: 'x' }] });
    await client.notify('textDocument/didOpen', { textDocument: null });
    await client.notify('textDocument/didChange', { textDocument: { uri, version: 'two' }, contentChanges: [{ text: 'x' }] });
    await client.open(uri, NIC_MAIN);
    expect(rules(await client.diagnosticsFor(uri, (p) => p.version === 1))).toEqual([FREE_RULE]);
    expect(client.logs.some((l) => l.includes('`textDocument/didOpen` ignored: `textDocument.uri` is missing'))).toBe(true);
    expect(client.logs.some((l) => l.includes('`textDocument/didChange` ignored: `textDocument.version` must be a whole number'))).toBe(true);
    expect(client.logs.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('writes the related locations into the message for a client that does not show them', async () => {
    const plain: ClientCapabilities = { ...PUSH, textDocument: { publishDiagnostics: { versionSupport: true } } };
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW }, plain);
    const uri = uriOf(path.join(root, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    const [d] = (await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics;
    // The locations are sent as relatedInformation all the same; the message says them too.
    const related = (d.relatedInformation ?? []).map((r) => `note: ${relatedLine(r, (l) => `main.rs:${l}`)}`);
    expect(related.length).toBeGreaterThan(0);
    expect(d.message.split('\n')).toEqual([
      'DMA buffer `ring` is freed on remove, but the device is never stopped before it',
      ...related,
      expect.stringMatching(/^help: stop the device in unbind\(\)/),
    ]);
  });

  it('gives a document over the size limit one diagnostic, and keeps serving', async () => {
    const { client, root } = await start({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
    const uri = uriOf(path.join(root, 'main.rs'));
    const huge = NIC_MAIN + '// filler line of a generated table\n'.repeat(Math.ceil((33 * 1048576) / 36));
    await client.open(uri, huge);
    const [d, ...rest] = (await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics;
    expect(rest).toEqual([]);
    expect(d.message).toMatch(/^too large to analyze: 3[34]\.\d MiB, limit 8 MiB; not checked$/);
    expect(d.range).toEqual({ start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
    // Cut down under the limit, it is checked again.
    await client.change(uri, 2, [{ text: NIC_MAIN }]);
    expect(rules(await client.diagnosticsFor(uri, (p) => p.version === 2))).toEqual([FREE_RULE]);
  });

  it('checks a file outside any project on its own, without reading its folder', async () => {
    const { client } = await start({ 'lib.rs': '' });
    // No marker above it and no workspace folder holding it: its folder's other files are not read
    // (were they, the Drop in hw.rs would stop the device and there would be no finding).
    const scratch = tempProject({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW + NIC_HW_DROP });
    roots.push(scratch);
    const uri = uriOf(path.join(scratch, 'main.rs'));
    await client.open(uri, NIC_MAIN);
    expect(rules(await client.diagnosticsFor(uri, (p) => p.version === 1))).toEqual([FREE_RULE]);
  });

  it('bounds the walk of a huge folder and reads the opened file\'s own folder instead', async () => {
    const { client, root } = await start({ 'Cargo.toml': '', 'drv/main.rs': NIC_MAIN, 'drv/hw.rs': NIC_HW + NIC_HW_DROP });
    fs.mkdirSync(path.join(root, 'big'));
    for (let i = 0; i <= 50_000; i++) fs.writeFileSync(path.join(root, 'big', `f${i}.txt`), '');
    const uri = uriOf(path.join(root, 'drv', 'main.rs'));
    await client.open(uri, NIC_MAIN);
    // hw.rs was read: its Drop stops the device.
    expect((await client.diagnosticsFor(uri, (p) => p.version === 1)).diagnostics).toEqual([]);
    expect(client.logs.some((l) => l.includes(`${root} holds more than 50000 folder entries; only ${path.join(root, 'drv')} is read for crates`))).toBe(true);
  });

  it('exits 0 after shutdown and exit', async () => {
    const { client } = await start({ 'main.rs': NIC_MAIN });
    expect(await client.shutdown()).toBe(0);
  });

  it('exits when its input ends', async () => {
    const { client } = await start({ 'main.rs': NIC_MAIN });
    client.proc.stdin!.end();
    expect(await client.waitForExit()).not.toBeNull();
  });

  it('exits when the editor process named in initialize is gone', async () => {
    const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 100000)']);
    const root = tempProject({ 'main.rs': NIC_MAIN });
    roots.push(root);
    const client = await TestClient.start({ root, capabilities: PUSH, processId: parent.pid! });
    clients.push(client);
    parent.kill();
    // The server polls its parent every few seconds.
    expect(await client.waitForExit(20_000)).not.toBeNull();
  }, 30_000);
});

/** The text edits of a code action for `uri`, checking the document version it was made for. */
function editsFor(action: CodeAction, uri: string, version: number): TextEdit[] {
  const change = action.edit?.documentChanges?.find((c) => 'textDocument' in c && c.textDocument.uri === uri) as
    | { textDocument: { version: number | null }; edits: TextEdit[] }
    | undefined;
  if (!change) throw new Error(`no edit of ${uri} in ${JSON.stringify(action.edit)}`);
  expect(change.textDocument.version).toBe(version);
  return change.edits;
}
