// Finds the `.rs` files of a folder for the language server without blocking it: one folder per
// turn of the event loop, and no more than a bounded number of folder entries, so a document
// opened in a huge tree (a home folder, `/`) costs a short, bounded walk in the background
// while the server keeps answering.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SKIP_DIRS } from '../lint/discover.js';

export interface ScanLimits {
  /** Stop after this many `.rs` files. */
  maxFiles: number;
  /** Stop after looking at this many folder entries. */
  maxEntries: number;
}

export interface ScanResult {
  files: string[];
  /** Why the walk stopped early, when it did. */
  cut?: string;
}

/** `.rs` files under `dir` that pass `filter`, sorted; symbolic links are not followed. */
export async function scanRustFiles(dir: string, filter: (absPath: string) => boolean, limits: ScanLimits): Promise<ScanResult> {
  const files: string[] = [];
  const stack = [dir];
  let entries = 0;
  while (stack.length > 0) {
    const folder = stack.pop()!;
    let list: fs.Dirent[];
    try {
      list = await fs.promises.readdir(folder, { withFileTypes: true });
    } catch {
      continue; // unreadable or gone: its files are not part of the scope
    }
    entries += list.length;
    if (entries > limits.maxEntries) return { files: files.sort(), cut: `more than ${limits.maxEntries} folder entries` };
    const children: string[] = [];
    for (const entry of list) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) children.push(full);
      } else if (entry.isFile() && entry.name.endsWith('.rs') && filter(full)) {
        files.push(full);
        if (files.length > limits.maxFiles) return { files: files.sort(), cut: `more than ${limits.maxFiles} .rs files` };
      }
    }
    children.sort().reverse();
    stack.push(...children);
  }
  return { files: files.sort() };
}
