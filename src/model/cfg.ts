// `#[cfg(..)]` predicates against the cfgs a kernel build passes to a crate (rust-project.json's
// `cfg` list: `CONFIG_PCI`, `CONFIG_NR_CPUS="64"`). Three-valued: a name the build says nothing
// about (`target_arch`, a feature) is unknown, and an item is left out only when its predicate is
// false for certain.

export type CfgValue = boolean | undefined;

/** The cfgs of a build: names and `name="value"` pairs. */
export class CfgSet {
  private readonly names = new Set<string>();
  private readonly pairs = new Set<string>();

  constructor(entries: Iterable<string>) {
    for (const entry of entries) {
      const eq = entry.indexOf('=');
      if (eq < 0) this.names.add(entry.trim());
      else {
        const name = entry.slice(0, eq).trim();
        this.names.add(name);
        this.pairs.add(`${name}=${entry.slice(eq + 1).trim().replace(/^"|"$/g, '')}`);
      }
    }
  }

  /** Kernel config symbols are decided by the build: absent means off. Other names are unknown. */
  private decides(name: string): boolean {
    return name.startsWith('CONFIG_') || this.names.has(name);
  }

  has(name: string, value?: string): CfgValue {
    if (!this.decides(name)) return undefined;
    return value === undefined ? this.names.has(name) : this.pairs.has(`${name}=${value}`);
  }
}

/** Whether an item with these attributes is compiled under `cfgs` (false only when certainly not). */
export function cfgEnabled(attrs: readonly string[], cfgs: CfgSet): boolean {
  for (const attr of attrs) {
    const m = /^cfg\s*\(([\s\S]*)\)\s*$/.exec(attr);
    if (m && evaluate(m[1], cfgs) === false) return false;
  }
  return true;
}

/** Evaluates a cfg predicate's text; undefined when it cannot be parsed or decided. */
export function evaluate(text: string, cfgs: CfgSet): CfgValue {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[(),=]/g) ?? [];
  let at = 0;
  const predicate = (): CfgValue | 'error' => {
    const name = tokens[at++];
    if (!name || !/^[A-Za-z_]/.test(name)) return 'error';
    if (tokens[at] === '(' && (name === 'all' || name === 'any' || name === 'not')) {
      at++;
      const values: CfgValue[] = [];
      while (tokens[at] !== ')') {
        const v = predicate();
        if (v === 'error') return 'error';
        values.push(v);
        if (tokens[at] === ',') at++;
        else if (tokens[at] !== ')') return 'error';
      }
      at++;
      if (name === 'not') return values.length === 1 ? (values[0] === undefined ? undefined : !values[0]) : 'error';
      if (name === 'all') return values.includes(false) ? false : values.includes(undefined) ? undefined : true;
      return values.includes(true) ? true : values.includes(undefined) ? undefined : false;
    }
    if (tokens[at] === '=') {
      at++;
      const value = tokens[at++];
      if (!value?.startsWith('"')) return 'error';
      return cfgs.has(name, value.slice(1, -1));
    }
    return cfgs.has(name);
  };
  const v = predicate();
  return v === 'error' || at !== tokens.length ? undefined : v;
}
