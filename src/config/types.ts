import type { Level } from '../rule/api.js';

/**
 * The effective configuration. `dmalint.toml` (see docs/configuration.md) maps onto this:
 *
 *   [rules]                      # rule id = "allow" | "warn" | "deny"
 *   [api]
 *   quiesce-functions = []       # extra names of functions that stop the device
 *   allocation-constructors = [] # extra coherent constructors, "Type::function"
 *   dma-buffer-types = []        # extra types that own DMA memory (wrappers, pools)
 *   bound-methods = []           # extra "Trait::method" that run with the driver bound
 *   unbound-methods = []         # extra "Trait::method" that can run with no driver bound
 *   [files]
 *   include = []                 # globs, relative to the config file's folder
 *   exclude = []
 */
export interface DmalintConfig {
  /** Absolute path of the file this came from; undefined for the defaults. */
  source?: string;
  /** Folder globs are relative to. */
  root: string;
  rules: Record<string, Level>;
  api: ApiConfig;
  include: string[];
  exclude: string[];
}

export interface ApiConfig {
  quiesceFunctions: string[];
  /** "Type::function" */
  allocationConstructors: string[];
  dmaBufferTypes: string[];
  /** "Trait::method" */
  boundMethods: string[];
  unboundMethods: string[];
}

/** A user error in a config file: always names the file, and the line and key when known. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${key ? `\`${key}\`: ` : ''}${detail}`);
    this.name = 'ConfigError';
  }
}
