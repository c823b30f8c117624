// The dmalint extension: starts `dmalint lsp --stdio` and connects it to VS Code. Everything
// else (diagnostics, quick fixes, hovers, config reload) is the language server's.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('dmalint.restartServer', () => restart()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dmalint.server')) void restart();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart()),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

/** How to run the server: a `.js` file with VS Code's Node.js, anything else as a program. */
export function serverOptions(serverPath: string, extraArgs: string[]): ServerOptions {
  if (serverPath.endsWith('.js')) {
    // The client adds `--stdio` for the stdio transport.
    return { module: path.resolve(serverPath), args: [...extraArgs, 'lsp'], transport: TransportKind.stdio };
  }
  return { command: serverPath, args: [...extraArgs, 'lsp', '--stdio'] };
}

async function start(): Promise<void> {
  if (!vscode.workspace.isTrusted) return; // the server path comes from settings
  const config = vscode.workspace.getConfiguration('dmalint');
  const serverPath = config.get<string>('server.path') || 'dmalint';
  const extraArgs = config.get<string[]>('server.extraArgs') ?? [];
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'rust' },
      { scheme: 'untitled', language: 'rust' },
      // Problems in the config file are reported on it.
      { scheme: 'file', pattern: '**/dmalint.toml' },
    ],
    outputChannelName: 'dmalint',
  };
  const next = new LanguageClient('dmalint', 'dmalint', serverOptions(serverPath, extraArgs), clientOptions);
  try {
    await next.start();
    client = next;
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    const choice = await vscode.window.showErrorMessage(
      `dmalint: cannot start \`${serverPath} lsp\` (${detail}). Install dmalint (\`npm install -g dmalint\`) or set \`dmalint.server.path\`.`,
      'Open Settings',
    );
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'dmalint.server');
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) await running.stop();
}

async function restart(): Promise<void> {
  await stop();
  await start();
}
