// The dmalint extension: starts `dmalint lsp --stdio` and connects it to VS Code. Everything
// else (diagnostics, quick fixes, hovers, config reload, the driver pictures) is the language
// server's; the extension only shows the picture it returns in a panel.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { nodeIsRecentEnough, resolveServerPath, serverLaunch, startFailure, type ServerLaunch } from './server-path';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('dmalint.restartServer', () => restart()),
    vscode.commands.registerCommand('dmalint.showDriverGraph', () => showDriverGraph()),
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

/** How to run the server: a `.js` file with Node.js (VS Code's own unless one is set), anything else as a program. */
export function serverOptions(launch: ServerLaunch): ServerOptions {
  if (launch.kind === 'node') {
    // The client adds `--stdio` for the stdio transport.
    if (launch.runtime) return { command: launch.runtime, args: [launch.module, ...launch.args, '--stdio'] };
    return { module: launch.module, args: launch.args, transport: TransportKind.stdio };
  }
  return { command: launch.command, args: launch.args };
}

async function start(): Promise<void> {
  if (!vscode.workspace.isTrusted) return; // the server path comes from settings
  const config = vscode.workspace.getConfiguration('dmalint');
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
  const serverPath = resolveServerPath(config.get<string>('server.path') || 'dmalint', folder, os.homedir());
  const configuredNode = config.get<string>('server.node');
  const nodePath = configuredNode ? resolveServerPath(configuredNode, folder, os.homedir()) : undefined;
  const extraArgs = config.get<string[]>('server.extraArgs') ?? [];
  const launch = serverLaunch(serverPath, extraArgs, nodePath);
  // VS Code's own Node.js runs the server only when no other is set: it may be too old.
  const vscodeNode = launch.kind === 'node' && !launch.runtime ? process.versions.node : undefined;
  if (vscodeNode && !nodeIsRecentEnough(vscodeNode)) {
    await showStartFailure(startFailure(serverPath, '', vscodeNode));
    return;
  }
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'rust' },
      { scheme: 'untitled', language: 'rust' },
      // Problems in the config file are reported on it.
      { scheme: 'file', pattern: '**/dmalint.toml' },
    ],
    outputChannelName: 'dmalint',
  };
  const next = new LanguageClient('dmalint', 'dmalint', serverOptions(launch), clientOptions);
  try {
    await next.start();
    client = next;
  } catch (e) {
    await showStartFailure(startFailure(serverPath, e instanceof Error ? e.message : String(e), vscodeNode));
  }
}

async function showStartFailure(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, 'Open Settings');
  if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'dmalint.server');
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

interface DriverGraphResult {
  driver: string;
  crate: string;
  svg: string;
}

/** The server's `dmalint.driverGraph` for the cursor's file and line, shown beside the editor. */
async function showDriverGraph(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!client || !editor) {
    await vscode.window.showInformationMessage('dmalint: open a Rust file of a driver first.');
    return;
  }
  try {
    const result = (await client.sendRequest('workspace/executeCommand', {
      command: 'dmalint.driverGraph',
      arguments: [editor.document.uri.toString(), editor.selection.active],
    })) as DriverGraphResult;
    const panel = vscode.window.createWebviewPanel('dmalint.driverGraph', `${result.driver}: DMA lifecycle`, vscode.ViewColumn.Beside, { enableScripts: false });
    // No scripts; the picture is inline SVG on a light card so its colours read in any theme.
    panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';"></head><body style="margin:0;padding:8px"><div style="background:#fff;overflow:auto">${result.svg}</div></body></html>`;
  } catch (e) {
    await vscode.window.showErrorMessage(`dmalint: ${e instanceof Error ? e.message : String(e)}`);
  }
}
