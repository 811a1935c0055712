// Config errors a person can act on: file:line:col for YAML faults, --set and extends attribution, alias bombs, size caps, GRPO start-up checks; from the library and the CLI (exit 2, no stack).
import { spawn } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../pipeline/cli/config.ts';
import { ConfigError } from '../pipeline/config/config-error.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

async function writeYaml(text: string, name = 'c.yaml', dir?: string): Promise<string> {
  const f = path.join(dir ?? (await tmpDir()), name);
  await writeFile(f, text);
  return f;
}

async function loadError(opts: Parameters<typeof loadConfig>[0]): Promise<ConfigError> {
  try {
    await loadConfig({ env: {}, ...opts });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** A YAML file of `mb` megabytes of unknown keys, written 1 MB at a time so the test never holds 50 MB. */
async function hugeConfig(mb: number): Promise<string> {
  const f = path.join(await tmpDir(), 'huge.yaml');
  const piece = Array.from({ length: 50_000 }, (_, i) => `k${i}: ${i}\n`).join('').padEnd(1024 * 1024 - 1, '#') + '\n';
  const fh = await open(f, 'w');
  try {
    for (let i = 0; i < mb; i++) await fh.write(piece);
  } finally {
    await fh.close();
  }
  return f;
}

interface Ran {
  code: number;
  stderr: string;
}

function cli(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/**
 * `distill` validates its config before any work. run.outDir (not --out, which would bypass run.name) keeps a config
 * that loads by mistake out of runs/.
 */
async function distill(config: string, ...set: string[]): Promise<Ran> {
  return cli(['distill', '--config', config, ...[...set, `run.outDir=${await tmpDir()}`].flatMap((s) => ['--set', s])]);
}

function expectConfigExit(r: Ran): void {
  expect(r.code, r.stderr.slice(0, 2000)).toBe(2);
  expect(r.stderr).toMatch(/^error \[config-/);
  // A stack trace has "    at fn (file:line:col)" lines.
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe('where a config problem is', () => {
  it('places a YAML syntax error at file:line:col', async () => {
    const f = await writeYaml('run:\n  name: x\ngrpo:\n  groupSize: 4\n  steps: [1, 2}\n');
    const err = await loadError({ file: f });
    expect(err.problems[0]).toMatchObject({ file: f, line: 5, col: 15 });
    expect(err.message).toContain(`${f}:5:15`);
    expect(err.message).toContain('YAML syntax');
  });

  it('places a duplicate key at the second occurrence', async () => {
    const f = await writeYaml('run:\n  seed: 1\n  name: x\n  seed: 2\n');
    const err = await loadError({ file: f });
    expect(err.problems[0]).toMatchObject({ file: f, line: 4, col: 3 });
    expect(err.problems[0]!.message).toContain('duplicate key "seed"');
  });

  it('blames --set key=value, not the line of the file that the override replaced', async () => {
    const f = await writeYaml('run:\n  seed: 1\n');
    const err = await loadError({ file: f, overrides: ['run.seed=seven'] });
    expect(err.problems[0]).toMatchObject({ key: 'run.seed', source: '--set run.seed=seven', file: null });
    expect(err.problems[0]!.line).toBeUndefined();
    expect(err.message).toContain('- --set run.seed=seven: run.seed:');
  });

  it('blames the --set that created a section no file has', async () => {
    const f = await writeYaml('run:\n  seed: 1\n');
    const err = await loadError({ file: f, overrides: ['models.w.model=m'] });
    expect(err.problems[0]).toMatchObject({ key: 'models.w.baseUrl', source: '--set models.w.model=m' });
  });

  it('names the extends parent and its line for a problem written there', async () => {
    const dir = await tmpDir();
    const base = await writeYaml('# shared settings\nrun:\n  seed: seven\n', 'base.yaml', dir);
    const child = await writeYaml('extends: base.yaml\nrun:\n  name: child\n', 'child.yaml', dir);
    const err = await loadError({ file: child });
    expect(err.problems[0]).toMatchObject({ key: 'run.seed', file: base, line: 3, col: 3 });
    expect(err.message).toContain(`${base}:3:3: run.seed`);
  });

  it('says "not found: PATH" for a missing file, and which extends named a missing parent', async () => {
    const missing = path.join(await tmpDir(), 'nope.yaml');
    const err = await loadError({ file: missing });
    expect(err.code).toBe('config-not-found');
    expect(err.message).toBe(`not found: ${missing}`);
    expect(err.hint).not.toContain('Fix the keys');
    const dir = await tmpDir();
    const child = await writeYaml('run:\n  seed: 1\nextends: ./gone.yaml\n', 'child.yaml', dir);
    const parentErr = await loadError({ file: child });
    expect(parentErr.message).toBe(`not found: ${path.join(dir, 'gone.yaml')} (named by extends: at ${child}:3:1)`);
  });
});

describe('YAML aliases', () => {
  it('reports an alias without an anchor as a config error at its line', async () => {
    const f = await writeYaml('run:\n  name: &n x\nsft:\n  name: *missing\n');
    const err = await loadError({ file: f });
    expect(err.code).toBe('config-invalid');
    expect(err.problems[0]).toMatchObject({ file: f, line: 4, col: 9 });
    expect(err.problems[0]!.message).toContain('*missing');
  });

  it('stops an alias bomb (billion laughs) with a config error naming the file', async () => {
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
    const f = await writeYaml(`${lines.join('\n')}\n`);
    const err = await loadError({ file: f });
    expect(err.problems[0]!.file).toBe(f);
    expect(err.message).toContain('aliases expand too far');
  });
});

describe('size limits', () => {
  it('rejects a 50 MB config at once, by its size', async () => {
    const f = await hugeConfig(50);
    // Refused by its size before parsing; a loader that parsed it would run into the test's timeout.
    const err = await loadError({ file: f });
    expect(err.message).toContain('a config may be at most 1,048,576 bytes');
  }, 30_000);

  it('lists the first 20 of 20,000 unknown keys and counts the rest (the timeout catches a quadratic loader)', async () => {
    // The old loader compared every key with every other and scanned the map once per problem: about a minute here.
    const f = await writeYaml(Array.from({ length: 20_000 }, (_, i) => `unknown_${i}: ${i}\n`).join(''));
    const err = await loadError({ file: f });
    expect(err.total).toBe(20_000);
    expect(err.problems).toHaveLength(20);
    expect(err.problems[19]).toMatchObject({ key: 'unknown_19', line: 20, col: 1 });
    expect(err.message).toContain('Invalid configuration (20000 problems)');
    expect(err.message.trimEnd().endsWith('... and 19980 more')).toBe(true);
  }, 20_000);

  it('limits run.name, which becomes a directory name, to 64 safe characters', async () => {
    const long = await loadError({ overrides: [`run.name=${'r'.repeat(300)}`] });
    expect(long.problems[0]).toMatchObject({ key: 'run.name' });
    expect(long.problems[0]!.message).toContain('at most 64 characters');
    const slash = await loadError({ overrides: ['run.name=../x'] });
    expect(slash.problems[0]!.key).toBe('run.name');
    const { config } = await loadConfig({ env: {}, overrides: [`run.name=${'r'.repeat(64)}`] });
    expect(config.run.name).toHaveLength(64);
  });
});

describe('GRPO settings checked at load', () => {
  const grpo = (lines: string[]): Promise<string> => writeYaml(`grpo:\n${lines.map((l) => `  ${l}\n`).join('')}`);

  it('rejects groupSize 1 with an advantage setting that needs G ≥ 2, at grpo.groupSize', async () => {
    const reject = await loadError({ file: await grpo(['groupSize: 1', 'advantage:', '  singleton: reject']) });
    expect(reject.problems).toHaveLength(1);
    expect(reject.problems[0]).toMatchObject({ key: 'grpo.groupSize', line: 2, col: 3 });
    expect(reject.problems[0]!.message).toContain('singleton reject');
    const rloo = await loadError({ file: await grpo(['groupSize: 1', 'advantage:', '  estimator: rloo']) });
    expect(rloo.problems[0]!.key).toBe('grpo.groupSize');
    expect(rloo.problems[0]!.message).toContain('rloo');
    const zero = await loadError({ file: await grpo(['groupSize: 1', 'advantage:', '  singleton: zero']) });
    expect(zero.problems[0]!.message).toContain('singleton zero');
  });

  it('rejects the DAPO filter with groupSize 1, at grpo.advantage.filter', async () => {
    const err = await loadError({ file: await grpo(['groupSize: 1', 'advantage:', '  filter: dapo_nonzero_std']) });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ key: 'grpo.advantage.filter', line: 4, col: 5 });
    expect(err.problems[0]!.message).toContain('groupSize ≥ 2');
  });

  it("keeps verl's G = 1 rule and every setting at G ≥ 2", async () => {
    const one = await loadConfig({ env: {}, file: await grpo(['groupSize: 1']) });
    expect(one.config.grpo.groupSize).toBe(1);
    const two = await loadConfig({ env: {}, file: await grpo(['groupSize: 2', 'advantage:', '  estimator: rloo', '  singleton: reject', '  filter: dapo_nonzero_std']) });
    expect(two.config.grpo.advantage.filter).toBe('dapo_nonzero_std');
  });
});

describe('the CLI on a bad config: exit 2, where, no stack trace', () => {
  it('prints file:line:col for a YAML syntax error', async () => {
    const f = await writeYaml('run:\n  name: x\ngrpo:\n  groupSize: 4\n  steps: [1, 2}\n');
    const r = await distill(f);
    expectConfigExit(r);
    expect(r.stderr).toContain(`${f}:5:15: (root): YAML syntax`);
  }, 20_000);

  it('reports an alias bomb as a config error', async () => {
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
    const f = await writeYaml(`${lines.join('\n')}\n`);
    const r = await distill(f);
    expectConfigExit(r);
    expect(r.stderr).toContain(f);
  }, 20_000);

  it('says "not found: PATH" for a missing config', async () => {
    const missing = path.join(await tmpDir(), 'nope.yaml');
    const r = await distill(missing);
    expectConfigExit(r);
    expect(r.stderr).toContain(`not found: ${missing}`);
    expect(r.stderr).not.toContain('Fix the keys');
  }, 20_000);

  it('blames --set for a GRPO setting that needs groupSize ≥ 2', async () => {
    const f = await writeYaml('grpo:\n  groupSize: 1\n');
    const r = await distill(f, 'grpo.advantage.filter=dapo_nonzero_std');
    expectConfigExit(r);
    expect(r.stderr).toContain('--set grpo.advantage.filter=dapo_nonzero_std: grpo.advantage.filter:');
  }, 20_000);

  it('rejects a 50 MB run.name by the file size, and a 300-character one by the schema, not ENAMETOOLONG', async () => {
    const dir = await tmpDir();
    const huge = path.join(dir, 'huge-name.yaml');
    await writeFile(huge, `run:\n  name: ${'n'.repeat(50 * 1024 * 1024)}\n`);
    const big = await distill(huge);
    expectConfigExit(big);
    expect(big.stderr).toContain('a config may be at most');
    const long = await distill(await writeYaml(`run:\n  name: ${'n'.repeat(300)}\n`));
    expectConfigExit(long);
    expect(long.stderr).toContain('run.name: run.name may be at most 64 characters');
    expect(long.stderr).not.toContain('ENAMETOOLONG');
  }, 30_000);
});
