// The language server at the level of bytes and messages: JSON-RPC errors, broken framing, and
// how it schedules analysis when changes arrive faster than it analyzes them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NIC_HW, NIC_MAIN, positionAt, tempProject, uriOf } from './lsp-client.js';
import { RawPeer, frame, type RawMessage } from './lsp-raw.js';

const PUSH = { textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true } } };
const PULL = { textDocument: { ...PUSH.textDocument, diagnostic: {} }, workspace: { diagnostics: { refreshSupport: true } } };

const peers: RawPeer[] = [];
const roots: string[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.kill();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function start(): { peer: RawPeer; root: string; uri: string } {
  const root = tempProject({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW });
  roots.push(root);
  const peer = RawPeer.start(root);
  peers.push(peer);
  return { peer, root, uri: uriOf(path.join(root, 'main.rs')) };
}

const open = (uri: string, text: string) => ({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'rust', version: 1, text } } });
const change = (uri: string, version: number, text: string, at: number) => ({
  jsonrpc: '2.0',
  method: 'textDocument/didChange',
  params: { textDocument: { uri, version }, contentChanges: [{ range: { start: positionAt(text, at), end: positionAt(text, at) }, text: ' ' }] },
});
const published = (peer: RawPeer, uri: string) => peer.received.filter((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
const analyses = (peer: RawPeer) => peer.received.filter((m) => m.method === '$/logTrace' && /^analyzed /.test(m.params.message)).length;

describe('dmalint lsp: JSON-RPC', () => {
  it('answers requests before initialize with -32002 and drops notifications', async () => {
    const { peer, root, uri } = start();
    peer.send({ jsonrpc: '2.0', id: 1, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 0, character: 0 } } }, open(uri, NIC_MAIN));
    const early = await peer.waitFor('the early request', (m) => m.id === 1);
    expect(early.error?.code).toBe(-32002);
    await peer.initialize(uriOf(root), PUSH);
    peer.send({ jsonrpc: '2.0', id: 2, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 0, character: 0 } } });
    expect((await peer.waitFor('hover', (m) => m.id === 2)).result).toBeNull();
    expect(published(peer, uri)).toEqual([]); // the didOpen before initialize was dropped
  });

  it('answers a body that is not JSON with -32700, one that is no message with -32600, and reads on', async () => {
    const { peer, root, uri } = start();
    await peer.initialize(uriOf(root), PUSH);
    const notJson = '{"jsonrpc":"2.0","id":5,"method":';
    peer.write(`Content-Length: ${notJson.length}\r\n\r\n${notJson}` + frame([1, 2]) + frame(open(uri, NIC_MAIN)));
    const parseError = await peer.waitFor('-32700', (m) => m.error?.code === -32700);
    expect(parseError.id).toBeNull();
    expect(parseError.error!.message).toMatch(/^dmalint: the message is not valid JSON/);
    expect((await peer.waitFor('-32600', (m) => m.error?.code === -32600)).id).toBeNull();
    const diagnostics = await peer.waitFor('diagnostics', (m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
    expect(diagnostics.params.diagnostics.map((d: { code: string }) => d.code)).toEqual(['dma_free_without_quiesce']);
  });

  const broken: [string, string, RegExp][] = [
    ['no Content-Length', 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}', /a message without a Content-Length header/],
    ['a negative Content-Length', 'Content-Length: -5\r\n\r\n{}', /Content-Length "-5" is not a byte count/],
    ['a Content-Length larger than the body', `Content-Length: 5000\r\n\r\n{"jsonrpc":"2.0","method":"initialized","params":{}}${frame({ jsonrpc: '2.0', id: 9, method: 'shutdown' })}`, /Content-Length \(5000 bytes\) runs into the header of the next message/],
    ['a header line without a colon', 'Content-Length 12\r\n\r\n{}', /malformed header line/],
  ];
  for (const [what, bytes, reason] of broken) {
    it(`exits with a message on stderr on ${what}, so the editor restarts it`, async () => {
      const { peer, root } = start();
      await peer.initialize(uriOf(root), PUSH);
      peer.write(bytes);
      expect(await peer.waitForExit()).toBe(1);
      expect(peer.stderr).toMatch(/^dmalint lsp: broken message framing: /m);
      expect(peer.stderr).toMatch(reason);
    });
  }
});

describe('dmalint lsp: related locations in the message', () => {
  const cases: [string, Record<string, unknown>, object, boolean][] = [
    ['Neovim, which announces them but does not show them', { clientInfo: { name: 'Neovim', version: '0.7.2' } }, PUSH, true],
    ['a client that asks for them in initializationOptions', { initializationOptions: { relatedInMessage: true } }, PUSH, true],
    ['a client that announces them', {}, PUSH, false],
    ['a client that does not announce them but turns them off', { initializationOptions: { relatedInMessage: false } }, { textDocument: {} }, false],
  ];
  for (const [who, more, caps, inMessage] of cases) {
    it(`${inMessage ? 'are' : 'are not'} written for ${who}`, async () => {
      const { peer, root, uri } = start();
      await peer.initialize(uriOf(root), caps, 'off', more);
      peer.send(open(uri, NIC_MAIN));
      const p = await peer.waitFor('diagnostics', (m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
      const message: string = p.params.diagnostics[0].message;
      const sink = p.params.diagnostics[0].relatedInformation[0].location.range.start.line + 1;
      expect(new RegExp(`\\nnote: [^\\n]+[ (]main\\.rs:${sink}\\b`).test(message)).toBe(inMessage);
    });
  }
});

describe('dmalint lsp: scheduling', () => {
  it('analyzes a burst of changes once, at its newest version, and publishes only that version', async () => {
    const { peer, root, uri } = start();
    await peer.initialize(uriOf(root), PUSH, 'verbose');
    peer.send(open(uri, NIC_MAIN));
    await peer.waitFor('version 1', (m) => m.method === 'textDocument/publishDiagnostics' && m.params.version === 1);
    const before = analyses(peer);
    // Ten keystrokes in one write: all are read before the first is handled.
    let text = NIC_MAIN;
    const at = NIC_MAIN.indexOf('const RING_BASE');
    const burst: unknown[] = [];
    for (let v = 2; v <= 11; v++) {
      burst.push(change(uri, v, text, at));
      text = text.slice(0, at) + ' ' + text.slice(at);
    }
    peer.send(...burst);
    await peer.waitFor('version 11', (m) => m.method === 'textDocument/publishDiagnostics' && m.params.version === 11);
    // A request after the burst is answered after anything the burst caused.
    peer.send({ jsonrpc: '2.0', id: 'after', method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 0, character: 0 } } });
    await peer.waitFor('hover', (m) => m.id === 'after');
    expect(published(peer, uri).map((m) => m.params.version)).toEqual([1, 11]);
    expect(analyses(peer) - before).toBe(1);
  });

  it('cancels a pull for a document whose newer change is already queued, and asks the client to pull again', async () => {
    const { peer, root, uri } = start();
    await peer.initialize(uriOf(root), PULL);
    peer.send(open(uri, NIC_MAIN));
    const pull = (id: string) => ({ jsonrpc: '2.0', id, method: 'textDocument/diagnostic', params: { textDocument: { uri } } });
    // The first pull waits for the folder to be read; the next ones are answered at once.
    peer.send(pull('first'));
    await peer.waitFor('the first pull', (m) => m.id === 'first');
    const at = NIC_MAIN.indexOf('const RING_BASE');
    const spaced = NIC_MAIN.slice(0, at) + ' ' + NIC_MAIN.slice(at);
    peer.send(change(uri, 2, NIC_MAIN, at), pull('stale'), change(uri, 3, spaced, at), pull('fresh'));
    const stale: RawMessage = await peer.waitFor('the stale pull', (m) => m.id === 'stale');
    expect(stale.error).toMatchObject({ code: -32802, data: { retriggerRequest: true } });
    const fresh = await peer.waitFor('the fresh pull', (m) => m.id === 'fresh');
    expect((fresh.result as { items: { code: string }[] }).items.map((d) => d.code)).toEqual(['dma_free_without_quiesce']);
  });
});
