// Start-up as users meet it: `prepare` builds dist/, the bin runs it, every command answers --help, and a build that is
// missing or older than the sources never runs stale code. Timing lives in `npm run bench:startup`, not here.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, buildProgram, requestedCommand } from '../pipeline/cli/main.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function bin(root: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'flowreasoner.mjs'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A copy of what `npm ci` sees in a fresh clone, so that building and editing it leave this checkout's dist/ alone. */
async function cloneLike(): Promise<string> {
  const root = await tmpDir('fr-startup-');
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(path.join(repoRoot, f), path.join(root, f));
  const roots = JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8')).include as string[];
  for (const d of roots) cpSync(path.join(repoRoot, d), path.join(root, d), { recursive: true, filter: (src) => !src.includes('__pycache__') });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  return root;
}

const edit = (file: string, from: string, to: string): void => {
  const text = readFileSync(file, 'utf8');
  expect(text, file).toContain(from);
  writeFileSync(file, text.replace(from, to));
};

describe('startup', () => {
  it('lists every command from the table in main.ts exactly as the command modules register it', async () => {
    const listed = await buildProgram(new Set());
    const loaded = await buildProgram('all');
    expect(loaded.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    expect(listed.helpInformation()).toBe(loaded.helpInformation());
  });

  it('loads the module of the command a command line runs or asks help for, and none for the program help', () => {
    expect(requestedCommand(['node', 'fr', '--help'])).toBeUndefined();
    expect(requestedCommand(['node', 'fr', 'help'])).toBeUndefined();
    expect(requestedCommand(['node', 'fr', 'grpo', '--config', 'c.yaml'])).toBe('grpo');
    expect(requestedCommand(['node', 'fr', 'help', 'distill'])).toBe('distill');
    expect(requestedCommand(['node', 'fr', 'workflow', 'check', 'x.json'])).toBe('workflow');
  });

  it('builds dist/ in `prepare`, runs it from the bin, and runs the current sources when dist/ is stale or missing', async () => {
    const root = await cloneLike();
    const prepare = spawnSync('npm', ['run', 'prepare'], { cwd: root, encoding: 'utf8' });
    expect(prepare.status, prepare.stderr).toBe(0);
    expect(existsSync(path.join(root, 'dist', 'pipeline', 'cli', 'main.js'))).toBe(true);

    const top = await bin(root, ['--help']);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stderr).toBe('');
    for (const c of COMMANDS) expect(top.stdout).toContain(`  ${c.term}`);
    const helps = await Promise.all(COMMANDS.map((c) => bin(root, [c.name, '--help'])));
    helps.forEach((h, i) => {
      const name = COMMANDS[i]?.name ?? '';
      expect(h.code, `${name}: ${h.stderr}`).toBe(0);
      expect(h.stdout, name).toContain(`Usage: flowreasoner ${name}`);
      expect(h.stderr, name).toBe('');
    });

    // What the bin prints comes from dist/ while dist/ matches the sources...
    const program = 'Train query-level meta-agents';
    edit(path.join(root, 'dist', 'pipeline', 'cli', 'main.js'), program, 'FROM-DIST');
    expect((await bin(root, ['--help'])).stdout).toContain('FROM-DIST');

    // ...and from the sources once any of them, not only the entry point, is newer than the build.
    const bench = COMMANDS.find((c) => c.name === 'bench')?.description ?? '';
    edit(path.join(root, 'pipeline', 'cli', 'commands', 'bench.ts'), bench, 'EDITED-SOURCE');
    const stale = await bin(root, ['bench', '--help']);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stdout).toContain('EDITED-SOURCE');
    expect(stale.stderr).toContain('dist/ is older than the sources');
    const staleTop = await bin(root, ['--help']);
    expect(staleTop.stdout).toContain(program);
    expect(staleTop.stdout).not.toContain('FROM-DIST');

    rmSync(path.join(root, 'dist'), { recursive: true });
    const missing = await bin(root, ['bench', '--help']);
    expect(missing.code, missing.stderr).toBe(0);
    expect(missing.stdout).toContain('EDITED-SOURCE');
    expect(missing.stderr).toContain('dist/ has no');
  }, 300_000);
});
