// Where facts come from: extracted here, from a cache, or in worker threads.
import type { FileFacts } from './ir.js';
import { extractFacts } from './extract.js';

export interface FactsSource {
  /** Facts of each file, in the same order. */
  extract(files: { absPath: string; text: string }[]): Promise<FileFacts[]>;
  close?(): Promise<void>;
}

export interface FactsSourceOptions {
  jobs?: number;
  cacheDir?: string;
  /** false with --no-cache */
  cache?: boolean;
}

/** Extracts in this thread, no cache. */
export const inlineFactsSource: FactsSource = {
  async extract(files) {
    return files.map((f) => extractFacts(f.text));
  },
};

export async function createFactsSource(_options: FactsSourceOptions): Promise<FactsSource> {
  return inlineFactsSource;
}
