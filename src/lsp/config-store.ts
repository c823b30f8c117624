// The `dmalint.toml` files the server uses, each kept with its last good contents: an edit
// that breaks a config is reported and the previous settings stay in force until it is fixed.
import * as path from 'node:path';
import { defaultConfig, findConfigFile, loadConfig, makePathFilter } from '../config/load.js';
import { ConfigError, type DmalintConfig } from '../config/types.js';
import { allRuleMetas } from '../lint/registry.js';
import { apiWithConfig, type KernelApi } from '../model/kernel-api.js';

export interface ConfigEntry {
  /** The config file; undefined for the defaults. */
  file?: string;
  config: DmalintConfig;
  api: KernelApi;
  filter: (absPath: string) => boolean;
  /** The problem with the file as it is on disk now, when it has one. */
  error?: ConfigError;
}

export class ConfigStore {
  private readonly byFile = new Map<string, ConfigEntry>();
  private readonly defaults = new Map<string, ConfigEntry>();

  /** The config that applies to files under `dir`: the nearest `dmalint.toml` above it. */
  forDir(dir: string): ConfigEntry {
    const file = findConfigFile(dir);
    if (!file) {
      let entry = this.defaults.get(dir);
      if (!entry) this.defaults.set(dir, (entry = entryOf(defaultConfig(dir))));
      return entry;
    }
    return this.byFile.get(file) ?? this.load(file);
  }

  /**
   * Reads `file` again. Returns the new entry, or undefined when the server never used it.
   * A broken file keeps the last good config (or the defaults) and records the error.
   */
  reload(file: string): ConfigEntry | undefined {
    if (!this.byFile.has(file)) return undefined;
    return this.load(file);
  }

  /** Drops a file that was deleted; the folders it covered get the next config up. */
  forget(file: string): boolean {
    return this.byFile.delete(file);
  }

  /** Every known config file with its current problem, if any. */
  files(): { file: string; error?: ConfigError }[] {
    return [...this.byFile.values()].map((e) => ({ file: e.file!, error: e.error }));
  }

  private load(file: string): ConfigEntry {
    const previous = this.byFile.get(file);
    let entry: ConfigEntry;
    try {
      entry = { ...entryOf(loadConfig({ explicitFile: file, startPath: path.dirname(file), knownRules: knownRules() })), file };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const fallback = previous ?? { ...entryOf(defaultConfig(path.dirname(file))), file };
      entry = { ...fallback, error: e };
    }
    this.byFile.set(file, entry);
    return entry;
  }
}

function entryOf(config: DmalintConfig): ConfigEntry {
  return { file: config.source, config, api: apiWithConfig(config.api), filter: makePathFilter(config) };
}

function knownRules(): string[] {
  return allRuleMetas().map((m) => m.id);
}
