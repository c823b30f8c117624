// Findings name files relative to the working folder. The quick way (slicing a path below the
// folder) must name every file exactly as path.relative does.
import fc from 'fast-check';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath } from '../src/lint/discover.js';

function reference(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return abs;
}

const segment = fc.constantFrom('a', 'b', 'src', '.', '..', '', '..b', '.c', 'd.', 'x.rs');
const absPath = fc.array(segment, { maxLength: 6 }).map((parts) => path.sep + parts.join(path.sep));

describe('displayPath', () => {
  it('names files as path.relative does', () => {
    fc.assert(
      fc.property(absPath, absPath, fc.boolean(), (abs, cwd, below) => {
        // Half the cases put the file below the folder, the case the quick way handles.
        const file = below ? cwd + path.sep + abs : abs;
        expect(displayPath(file, cwd)).toBe(reference(file, cwd));
      }),
      { numRuns: 2000, seed: 20_261_124 },
    );
  });
});
