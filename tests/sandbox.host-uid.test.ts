// Process mode refuses to run candidate code as the host's uid while a key is configured (unless sandbox.allowHostUid), and says why.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../pipeline/cli/config.ts';
import { isPipelineError } from '../pipeline/errors.ts';
import { checkHostUidExposure, configuredKeyNames, keyEnvNamesOf } from '../pipeline/sandbox/host-uid-guard.ts';
import { SandboxSchema } from '../pipeline/sandbox/sandbox-config.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

const KEY = 'sk-host-uid-test-0123456789abcdef';
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const base = { mode: 'process' as const, uid: 1000, env: {}, keyEnvNames: [] as string[], allowHostUid: false };

describe('checkHostUidExposure', () => {
  it('refuses process mode as a non-root uid with a key in the environment, naming the variable but never its value', () => {
    const err = checkHostUidExposure({ ...base, env: { OPENAI_API_KEY: KEY, PATH: '/usr/bin' } });
    expect(isPipelineError(err, 'sandbox-unsafe')).toBe(true);
    expect(err?.retryable).toBe(false);
    expect(err?.message).toContain('OPENAI_API_KEY');
    expect(err?.message).toContain('uid (1000)');
    expect(err?.message).toMatch(/\/proc\/\d+\/environ/);
    expect(err?.hint).toMatch(/bubblewrap/);
    expect(err?.hint).toMatch(/run as root/);
    expect(err?.hint).toMatch(/unset OPENAI_API_KEY/);
    expect(err?.hint).toMatch(/sandbox\.allowHostUid: true/);
    expect(`${err?.message} ${err?.hint}`).not.toContain(KEY);
    expect(err?.message).not.toContain('PATH');
  });

  it('counts variables the config declares as keys even when their names do not look secret', () => {
    expect(checkHostUidExposure({ ...base, env: { PROVIDER_CRED_X: KEY } })).toBeNull();
    expect(checkHostUidExposure({ ...base, env: { DEEPSEEK: KEY }, keyEnvNames: ['DEEPSEEK'] })?.message).toContain('DEEPSEEK');
  });

  it('ignores empty or unset keys and names that only look secret', () => {
    expect(checkHostUidExposure({ ...base, env: { OPENAI_API_KEY: '', HF_TOKEN: undefined }, keyEnvNames: ['HF_TOKEN'] })).toBeNull();
    expect(checkHostUidExposure({ ...base, env: { SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1', GIT_AUTHOR_NAME: 'Ada Lovelace', XAUTHORITY: '/home/a/.Xauthority' } })).toBeNull();
    expect(configuredKeyNames({ B_TOKEN: 'x', A_SECRET: 'y', HOME: '/root' }, [])).toEqual(['A_SECRET', 'B_TOKEN']);
  });

  it('lets bwrap mode, root, and an explicit opt-in through', () => {
    const env = { OPENAI_API_KEY: KEY };
    expect(checkHostUidExposure({ ...base, env, mode: 'bwrap' })).toBeNull();
    expect(checkHostUidExposure({ ...base, env, uid: 0 })).toBeNull();
    expect(checkHostUidExposure({ ...base, env, allowHostUid: true })).toBeNull();
    // No uid at all (not POSIX): jobs cannot be moved to another uid, so it is refused like any other.
    expect(checkHostUidExposure({ ...base, env, uid: null })?.message).toContain('as your own user');
  });

  it('shortens a long list of names', () => {
    const env = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`K${i}_TOKEN`, 'v']));
    expect(checkHostUidExposure({ ...base, env })?.message).toContain('K0_TOKEN, K1_TOKEN, K2_TOKEN, K3_TOKEN, K4_TOKEN, K5_TOKEN and 3 more');
  });
});

describe('sandbox.allowHostUid', () => {
  it('defaults to false and explains the risk', () => {
    expect(SandboxSchema.parse({}).allowHostUid).toBe(false);
    expect(SandboxSchema.parse({ allowHostUid: true }).allowHostUid).toBe(true);
    expect(SandboxSchema.shape.allowHostUid.description).toMatch(/environ.*memory/);
  });

  it('takes the key names from models.<role>.apiKeyEnv of a loaded config', async () => {
    const dir = await tmpDir();
    const f = path.join(dir, 'c.yaml');
    await writeFile(
      f,
      ['models:', '  teacher:', '    baseUrl: http://127.0.0.1:8000/v1', '    model: m', '    apiKeyEnv: TEACHER_CRED', '  worker:', '    baseUrl: sim', '    model: w', 'sandbox:', '  mode: process', ''].join('\n'),
    );
    const { config } = await loadConfig({ file: f, env: {} });
    expect(keyEnvNamesOf(config)).toEqual(['TEACHER_CRED']);
    const err = checkHostUidExposure({ mode: config.sandbox.mode === 'bwrap' ? 'bwrap' : 'process', uid: 1000, env: { TEACHER_CRED: KEY }, keyEnvNames: keyEnvNamesOf(config), allowHostUid: config.sandbox.allowHostUid });
    expect(err?.message).toContain('TEACHER_CRED');
  });
});

// The real thing: an unprivileged host with a key. Its child (same uid, as candidate code would be) really can read
// the host's environment; the guard refuses, and the opt-in lets it through.
const HOST = `
import { spawnSync } from 'node:child_process';
import { checkHostUidExposure } from ${JSON.stringify(path.join(repoRoot, 'pipeline/sandbox/host-uid-guard.ts'))};
const err = checkHostUidExposure({
  mode: 'process',
  uid: process.getuid(),
  env: process.env,
  keyEnvNames: ['PROVIDER_CRED'],
  allowHostUid: process.env.FR_ALLOW_HOST_UID === '1',
});
const peek = spawnSync('/bin/cat', ['/proc/' + process.pid + '/environ'], { encoding: 'latin1' });
console.log(JSON.stringify({
  uid: process.getuid(),
  refusal: err === null ? null : { code: err.code, message: err.message, hint: err.hint },
  childReadsHostKey: peek.status === 0 && peek.stdout.includes(process.env.PROVIDER_CRED),
}));
`;

function host(asUser: 'nobody' | 'self', allow: boolean): { uid: number; refusal: { code: string; message: string; hint: string } | null; childReadsHostKey: boolean } {
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', HOST];
  const [cmd, args] = asUser === 'nobody' ? ['setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', ...node]] : [node[0]!, node.slice(1)];
  const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/tmp', PROVIDER_CRED: KEY, FR_ALLOW_HOST_UID: allow ? '1' : '0' } });
  if (r.status !== 0) throw new Error(`host script failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as ReturnType<typeof host>;
}

describe('an unprivileged host process with a key', () => {
  const user = asRoot ? ('nobody' as const) : ('self' as const);

  it('is refused, because its same-uid children can read the key from its environ', () => {
    const r = host(user, false);
    if (user === 'nobody') expect(r.uid).toBe(65534);
    expect(r.childReadsHostKey).toBe(true);
    expect(r.refusal?.code).toBe('sandbox-unsafe');
    expect(r.refusal?.message).toContain('PROVIDER_CRED');
    expect(r.refusal?.message).toContain(`uid (${r.uid})`);
    expect(JSON.stringify(r.refusal)).not.toContain(KEY);
  });

  it('runs with sandbox.allowHostUid', () => {
    expect(host(user, true).refusal).toBeNull();
  });

  it.runIf(asRoot)('is not refused as root (jobs then run as other uids)', () => {
    expect(host('self', false).refusal).toBeNull();
  });
});
