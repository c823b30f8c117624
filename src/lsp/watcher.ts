// Watches folders for clients that do not watch files for the server
// (`workspace.didChangeWatchedFiles.dynamicRegistration` absent): the `.rs` files of each scope
// (recursively) and the folders of config files (`dmalint.toml` only).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isConfigFile } from './project.js';

export class FolderWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();

  constructor(
    private readonly onChange: (absPath: string) => void,
    private readonly log: (message: string) => void,
  ) {}

  /** Starts watching folders not watched yet; folders watched before stay watched. */
  watch(folders: { recursive: string[]; configDirs: string[] }): void {
    for (const dir of folders.recursive) this.add(dir, true, (f) => f.endsWith('.rs') || isConfigFile(f));
    for (const dir of folders.configDirs) this.add(dir, false, isConfigFile);
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private add(dir: string, recursive: boolean, wanted: (file: string) => boolean): void {
    const id = `${recursive ? 'r' : 'f'}:${dir}`;
    if (this.watchers.has(id)) return;
    try {
      const w = fs.watch(dir, { recursive, persistent: false }, (_event, name) => {
        if (!name) return;
        const file = path.join(dir, name.toString());
        if (wanted(file)) this.onChange(file);
      });
      w.on('error', (e) => {
        this.log(`stopped watching ${dir}: ${e.message}`);
        w.close();
        this.watchers.delete(id);
      });
      this.watchers.set(id, w);
    } catch (e) {
      this.log(`cannot watch ${dir}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
