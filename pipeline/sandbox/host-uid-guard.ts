// Refuses process mode when candidate code would run as the host's own uid while an API key is in the host's environment.
import { PipelineError } from '../errors.ts';
import { looksSecretName } from '../secrets.ts';

export interface HostUidExposure {
  /** The mode the pool resolved to (after auto's fallback), not the configured one. */
  mode: 'bwrap' | 'process';
  /** The host's uid (process.getuid()), or null where there is none (then jobs cannot be moved to another uid either). */
  uid: number | null;
  /** The host's environment (process.env). Only names are ever reported, never values. */
  env: Readonly<Record<string, string | undefined>>;
  /** Variables the config names as holding keys (models.<role>.apiKeyEnv); see keyEnvNamesOf. */
  keyEnvNames: Iterable<string>;
  /** sandbox.allowHostUid: the user accepted the risk. */
  allowHostUid: boolean;
}

/**
 * Names the secret pattern of secrets.ts matches but that hold no secret: paths to sockets and files that a process
 * of the same uid reaches anyway, and git's author fields ("auth" in AUTHOR).
 */
const NOT_SECRET = new Set(['SSH_AUTH_SOCK', 'XAUTHORITY', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_AUTHOR_DATE', 'KEYTIMEOUT']);

/** Every models.<role>.apiKeyEnv of a config (the keys the pipeline itself reads). */
export function keyEnvNamesOf(config: { models?: Readonly<Record<string, { apiKeyEnv?: string | undefined }>> }): string[] {
  const names = new Set<string>();
  for (const ep of Object.values(config.models ?? {})) if (ep.apiKeyEnv !== undefined) names.add(ep.apiKeyEnv);
  return [...names].sort();
}

/** Names of set, non-empty variables that hold keys: declared by the config, or named like a secret. Sorted. */
export function configuredKeyNames(env: Readonly<Record<string, string | undefined>>, keyEnvNames: Iterable<string>): string[] {
  const declared = new Set(keyEnvNames);
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (declared.has(name) || (looksSecretName(name) && !NOT_SECRET.has(name))) out.push(name);
  }
  return out.sort();
}

/**
 * The refusal, or null when running is safe enough: in process mode without root, jobs run as the host's uid, so
 * candidate code can read /proc/<host pid>/environ (and, same uid, the host's memory and files). With a key
 * configured that is refused unless sandbox.allowHostUid is set. Root is fine: jobs then run as other uids.
 */
export function checkHostUidExposure(c: HostUidExposure): PipelineError | null {
  if (c.mode !== 'process' || c.uid === 0 || c.allowHostUid) return null;
  const names = configuredKeyNames(c.env, c.keyEnvNames);
  if (names.length === 0) return null;
  const who = c.uid === null ? 'your own user' : `your own uid (${c.uid})`;
  const listed = names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')} and ${names.length - 6} more`;
  return new PipelineError(
    'sandbox-unsafe',
    `refusing to run candidate code in process mode as ${who} while API keys are in the environment (${listed}): ` +
      `that code could read this process's environment (/proc/${process.pid}/environ), its memory and your files, and with them the keys.`,
    {
      hint:
        'Install bubblewrap (apt-get install bubblewrap) and use sandbox.mode: bwrap (or auto); or run as root, so jobs run as separate uids; ' +
        `or unset ${names.length === 1 ? names[0] : 'those variables'} for this run; or set sandbox.allowHostUid: true to accept the risk.`,
    },
  );
}
