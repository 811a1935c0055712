// Review findings kept from coming back: no tracked build artefacts, no exported value nobody uses, no conditional
// whose branches are the same.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/tmp.ts';

const tracked = (): string[] => execFileSync('git', ['ls-files'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter((f) => f !== '');

describe('housekeeping', () => {
  it('tracks no Python bytecode or other build output, and ignores __pycache__/', () => {
    expect(tracked().filter((f) => /(^|\/)__pycache__\/|\.py[co]$|^dist\//.test(f))).toEqual([]);
    expect(readFileSync(path.join(repoRoot, '.gitignore'), 'utf8').split('\n')).toContain('__pycache__/');
  });

  it('exports no value (const, function, class) that no other code or test uses', () => {
    const files = tracked().filter((f) => /\.(ts|mts|mjs)$/.test(f));
    const text = new Map(files.map((f) => [f, readFileSync(path.join(repoRoot, f), 'utf8')]));
    const unused: string[] = [];
    for (const [file, src] of text) {
      if (file.startsWith('tests/')) continue;
      for (const m of src.matchAll(/^export (?:async )?(?:const|let|function\*?|class) ([A-Za-z_$][\w$]*)/gm)) {
        const name = m[1] as string;
        const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
        let uses = 0;
        for (const [other, text2] of text) uses += (text2.match(word) ?? []).length - (other === file ? 1 : 0);
        if (uses === 0) unused.push(`${file}: ${name}`);
      }
    }
    expect(unused).toEqual([]);
  });

  it('has no conditional expression whose two branches are the same', () => {
    const same: string[] = [];
    for (const f of tracked().filter((x) => x.endsWith('.ts'))) {
      const src = readFileSync(path.join(repoRoot, f), 'utf8');
      for (const m of src.matchAll(/\?\s*([\w.'"-]+)\s*:\s*([\w.'"-]+)\s*\)/g)) if (m[1] === m[2]) same.push(`${f}: ${m[0]}`);
    }
    expect(same).toEqual([]);
  });

  it('starts untrusted-input Python one way and syncs directories one way', () => {
    const sources = tracked().filter((f) => f.endsWith('.ts') && !f.startsWith('tests/'));
    const where = (re: RegExp): string[] => sources.filter((f) => re.test(readFileSync(path.join(repoRoot, f), 'utf8')));
    // The interpreter command (bubblewrap or `python -I -B`), its environment and user: pipeline/sandbox/python-command.ts.
    expect(where(/bwrapArgs\(|'-I',\s*'-B'/)).toEqual(['pipeline/sandbox/bwrap.ts', 'pipeline/sandbox/python-command.ts']);
    // Opening a directory to fsync its entries: pipeline/store/durable-fs.ts.
    expect(where(/open\([^)]*dirname[^)]*\)|open\(dir, 'r'\)/)).toEqual(['pipeline/store/durable-fs.ts']);
  });

  it('keeps the engine below the stages: nothing in pipeline/ but the CLI edge imports distill, sft or grpo', () => {
    const offenders = tracked()
      .filter((f) => f.startsWith('pipeline/') && !f.startsWith('pipeline/cli/') && f.endsWith('.ts'))
      .filter((f) => /from '(\.\.\/)+(distill|sft|grpo)\//.test(readFileSync(path.join(repoRoot, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
