// The language server's `dmalint.driverGraph` command: the picture of the driver under the
// cursor, from the editor's unsaved text, and opened in the browser on request.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientCapabilities } from 'vscode-languageserver-protocol';
import { NIC_HW, NIC_MAIN, TestClient, positionAt, tempProject, uriOf } from './lsp-client.js';

const CAPS: ClientCapabilities = { window: { showDocument: { support: true } } };
const COMMAND = 'dmalint.driverGraph';

const clients: TestClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
});

async function start(): Promise<{ client: TestClient; root: string }> {
  const root = tempProject({ 'main.rs': NIC_MAIN, 'hw.rs': NIC_HW, 'other.rs': 'fn helper() {}\n' });
  const client = await TestClient.start({ root, capabilities: CAPS });
  clients.push(client);
  return { client, root };
}

interface GraphResult {
  driver: string;
  crate: string;
  svg: string;
  page?: string;
}

describe('dmalint.driverGraph', () => {
  it('is offered, and returns the SVG picture of the driver under the cursor with its finding marked', async () => {
    const { client, root } = await start();
    expect(client.initializeResult.capabilities.executeCommandProvider?.commands).toContain(COMMAND);
    const main = path.join(root, 'main.rs');
    const at = positionAt(NIC_MAIN, NIC_MAIN.indexOf('fn probe'));
    const r = await client.request<GraphResult>('workspace/executeCommand', { command: COMMAND, arguments: [uriOf(main), at] });
    expect(r.driver).toBe('Nic');
    expect(r.crate).toBe(main);
    expect(r.svg.startsWith('<svg')).toBe(true);
    expect(r.svg).toContain('DMA buffer ring');
    expect(r.svg).toContain('error[dma_free_without_quiesce]');
    expect(r.svg).toContain(`xlink:href="${uriOf(main)}#L14"`);
    expect(client.shown).toEqual([]);
  });

  it('draws the unsaved text of an open document', async () => {
    const { client, root } = await start();
    const main = path.join(root, 'main.rs');
    const edited = NIC_MAIN.replace(
      '        KBox::pin(Nic { ring, bar }, GFP_KERNEL)\n    }\n',
      '        KBox::pin(Nic { ring, bar }, GFP_KERNEL)\n    }\n    fn unbind(pdev: &pci::Device<Core>, this: Pin<&Self>) {\n        if let Ok(b) = this.bar.access(pdev.as_ref()) {\n            b.write64(0, RING_BASE);\n        }\n    }\n',
    );
    expect(edited).not.toBe(NIC_MAIN);
    await client.open(uriOf(main), edited);
    const r = await client.request<GraphResult>('workspace/executeCommand', { command: COMMAND, arguments: [uriOf(main)] });
    expect(r.svg).toContain('stop: the write to `RING_BASE`');
    expect(r.svg).not.toContain('error[dma_free_without_quiesce]');
  });

  it('opens the picture as a page in the browser when asked', async () => {
    const { client, root } = await start();
    const r = await client.request<GraphResult>('workspace/executeCommand', { command: COMMAND, arguments: [uriOf(path.join(root, 'hw.rs')), { line: 0, character: 0 }, { open: true }] });
    expect(r.page).toBeDefined();
    expect(client.shown).toEqual([{ uri: uriOf(r.page!), external: true }]);
    const page = fs.readFileSync(r.page!, 'utf8');
    expect(page).toContain('<svg');
    fs.rmSync(r.page!, { force: true });
  });

  it('answers with an error for a file whose crate has no driver, and for bad arguments', async () => {
    const { client, root } = await start();
    await expect(client.request('workspace/executeCommand', { command: COMMAND, arguments: [uriOf(path.join(root, 'other.rs'))] })).rejects.toThrow(
      'no bus driver (an `impl Driver` with `probe`) in the crate of other.rs',
    );
    await expect(client.request('workspace/executeCommand', { command: COMMAND, arguments: [42] })).rejects.toThrow(`${COMMAND} takes the URI of a file`);
  });
});
