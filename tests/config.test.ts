// Config loading: typed errors that name file, key, line, expectation and finding; env interpolation; overrides; extends; redaction.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../pipeline/cli/config.ts';
import { ConfigError } from '../pipeline/config/config-error.ts';
import { redactedConfig } from '../pipeline/config/redact.ts';
import { configJsonSchema } from '../pipeline/cli/config.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

async function writeYaml(text: string, name = 'c.yaml'): Promise<string> {
  const dir = await tmpDir();
  const f = path.join(dir, name);
  await writeFile(f, text);
  return f;
}

async function loadError(opts: Parameters<typeof loadConfig>[0]): Promise<ConfigError> {
  try {
    await loadConfig(opts);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config errors', () => {
  it('rejects an unknown key with file, key path, line and a did-you-mean', async () => {
    const f = await writeYaml(['models:', '  worker:', '    baseUrl: http://127.0.0.1:8000/v1', '    model: m', '    limits:', '      concurency: 4', ''].join('\n'));
    const err = await loadError({ file: f, env: {} });
    expect(err.code).toBe('config-invalid');
    expect(err.problems).toHaveLength(1);
    const p = err.problems[0]!;
    expect(p.key).toBe('models.worker.limits.concurency');
    expect(p.file).toBe(f);
    expect(p.line).toBe(6);
    expect(p.message).toContain('did you mean "concurrency"');
    expect(err.message).toContain(`${f}:6`);
  });

  it('names the expected type and what was found for a wrong type', async () => {
    const f = await writeYaml('run:\n  seed: seven\n');
    const err = await loadError({ file: f, env: {} });
    const p = err.problems[0]!;
    expect(p.key).toBe('run.seed');
    expect(p.line).toBe(2);
    expect(p.message).toMatch(/expected (int|number)/);
    expect(p.message).toContain('"seven" (string)');
  });

  it('reports a missing environment variable with its name and key', async () => {
    const f = await writeYaml('models:\n  teacher:\n    baseUrl: ${TEACHER_URL}\n    model: deepseek-reasoner\n');
    const err = await loadError({ file: f, env: {} });
    expect(err.code).toBe('env-missing');
    expect(err.problems[0]!.key).toBe('models.teacher.baseUrl');
    expect(err.message).toContain('TEACHER_URL');
  });

  it('requires baseUrl for OpenAI-compatible endpoints', async () => {
    const f = await writeYaml('models:\n  worker:\n    model: gpt-4o-mini\n');
    const err = await loadError({ file: f, env: {} });
    expect(err.problems[0]!.key).toBe('models.worker.baseUrl');
  });

  it('reports a missing file and YAML syntax errors', async () => {
    expect((await loadError({ file: '/nonexistent/x.yaml', env: {} })).code).toBe('config-not-found');
    const f = await writeYaml('run: [unclosed\n');
    expect((await loadError({ file: f, env: {} })).message).toContain('YAML syntax');
  });
});

describe('config resolution', () => {
  it('interpolates ${VAR} and ${VAR:-default}', async () => {
    const f = await writeYaml('models:\n  w:\n    baseUrl: ${W_URL}\n    model: ${W_MODEL:-sim-worker}\nrun:\n  outDir: $${literal}\n');
    const { config } = await loadConfig({ file: f, env: { W_URL: 'http://10.0.0.1:8000/v1' } });
    expect(config.models.w!.baseUrl).toBe('http://10.0.0.1:8000/v1');
    expect(config.models.w!.model).toBe('sim-worker');
    expect(config.run.outDir).toBe('${literal}');
  });

  it('applies --set overrides with YAML typing, and validates them', async () => {
    const f = await writeYaml('models:\n  w:\n    baseUrl: sim\n    model: sim-worker\n');
    const { config } = await loadConfig({ file: f, env: {}, overrides: ['models.w.limits.concurrency=16', 'cache.enabled=false', 'models.w.sampling.stop=[a, b]'] });
    expect(config.models.w!.limits.concurrency).toBe(16);
    expect(config.cache.enabled).toBe(false);
    expect(config.models.w!.sampling.stop).toEqual(['a', 'b']);
    const err = await loadError({ file: f, env: {}, overrides: ['models.w.limits.concurrency=-1'] });
    expect(err.problems[0]!.key).toBe('models.w.limits.concurrency');
    await expect(loadConfig({ file: f, env: {}, overrides: ['nonsense'] })).rejects.toThrow(/key.path=value/);
  });

  it('merges `extends` parents under the child', async () => {
    const dir = await tmpDir();
    await writeFile(path.join(dir, 'base.yaml'), 'run:\n  seed: 3\n  name: base\nmodels:\n  w:\n    baseUrl: sim\n    model: sim-worker\n    limits: { concurrency: 2 }\n');
    await writeFile(path.join(dir, 'child.yaml'), 'extends: base.yaml\nrun:\n  name: child\nmodels:\n  w:\n    limits: { timeoutS: 9 }\n');
    const { config, source } = await loadConfig({ file: path.join(dir, 'child.yaml'), env: {} });
    expect(config.run).toMatchObject({ seed: 3, name: 'child' });
    expect(config.models.w!.limits).toMatchObject({ concurrency: 2, timeoutS: 9 });
    expect(source.files.map((s) => path.basename(s.path))).toEqual(['base.yaml', 'child.yaml']);
  });

  it('FLOWREASONER_DATA_DIR sets data.dir', async () => {
    const { config } = await loadConfig({ env: { FLOWREASONER_DATA_DIR: '/data/bench' } });
    expect(config.data.dir).toBe('/data/bench');
  });

  it('redacts secrets from interpolated env values and headers in the frozen copy', async () => {
    const f = await writeYaml('models:\n  w:\n    baseUrl: http://u:pw@127.0.0.1:8000/v1\n    model: m\n    apiKeyEnv: MY_API_KEY\n    headers:\n      X-Api-Token: ${MY_TOKEN}\n');
    const loaded = await loadConfig({ file: f, env: { MY_TOKEN: 'tok-secret-123456' } });
    const frozen = JSON.stringify(redactedConfig(loaded));
    expect(frozen).not.toContain('tok-secret-123456');
    expect(frozen).not.toContain('pw@');
    expect(frozen).toContain('MY_API_KEY'); // the name of the variable is kept, so the run can be resumed
  });
});

describe('shipped configs', () => {
  it('configs/demo.yaml is valid', async () => {
    const { config } = await loadConfig({ file: path.join(repoRoot, 'configs/demo.yaml'), env: {} });
    expect(Object.keys(config.models).sort()).toEqual(['policy', 'teacher', 'worker']);
  });

  it('configs/schema.json is the one generated from the zod schema', async () => {
    const onDisk: unknown = JSON.parse(await readFile(path.join(repoRoot, 'configs/schema.json'), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});
