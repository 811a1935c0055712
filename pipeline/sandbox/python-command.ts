// The one way this project starts a Python process that reads untrusted input (the sandbox pool's workers, the workflow
// runtimes, the AST service): the interpreter, isolation and user of the sandbox settings, and nothing of our env.
import type { SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { bwrapArgs } from './bwrap.ts';
import type { SandboxConfig } from './sandbox-config.ts';

/** The sandbox settings every such process follows (the `sandbox` section of the config). */
export type PythonProcessSettings = Pick<SandboxConfig, 'python' | 'mode' | 'sandboxUser'>;

export const DEFAULT_PYTHON_SETTINGS: Readonly<PythonProcessSettings> = { python: '/usr/bin/python3', mode: 'auto', sandboxUser: 65534 };

/** Only what an interpreter needs: API keys and other variables of ours never reach a process that reads untrusted text. */
export const SANDBOX_ENV: Readonly<Record<string, string>> = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/tmp', MPLBACKEND: 'Agg', PYTHONDONTWRITEBYTECODE: '1' };

export interface PythonCommand {
  cmd: string;
  args: string[];
  /** Spawn options without stdio; `user` is the uid/gid to run as when we are root and no wrapper sets it (null otherwise). */
  options: SpawnOptions;
  isolated: boolean;
}

export const runningAsRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * `script` from `dir`, under bubblewrap when `bwrap` is a usable binary (the caller decides from the mode: it knows
 * whether a missing bwrap is an error for it), else as a plain isolated interpreter (-I -B). The process gets its own
 * process group (detached) so the caller can end it and whatever it started, runs in /tmp, and as root drops to
 * `uid` (default: the settings' sandboxUser) unless `setUid` is false because a wrapper (setpriv in a cgroup) does it.
 */
export function pythonCommand(
  settings: PythonProcessSettings,
  spec: { dir: string; script: string; args?: string[]; bwrap: string | null; asPid1?: boolean; uid?: number; setUid?: boolean },
): PythonCommand {
  const args = spec.args ?? [];
  const [cmd, argv] =
    spec.bwrap !== null
      ? [spec.bwrap, bwrapArgs({ runnerDir: spec.dir, python: settings.python, workerArgs: args, script: spec.script, ...(spec.asPid1 === true ? { asPid1: true } : {}) })]
      : [settings.python, ['-I', '-B', path.join(spec.dir, spec.script), ...args]];
  const uid = spec.uid ?? settings.sandboxUser;
  return {
    cmd,
    args: argv,
    isolated: spec.bwrap !== null,
    options: {
      env: { ...SANDBOX_ENV, ...(process.env.FR_DEBUG ? { FR_DEBUG: '1' } : {}) },
      detached: true,
      cwd: '/tmp',
      ...(runningAsRoot() && spec.setUid !== false ? { uid, gid: settings.sandboxUser } : {}),
    },
  };
}

let processDefaults: PythonProcessSettings = { ...DEFAULT_PYTHON_SETTINGS };

/**
 * The sandbox settings of this process, set from the config by the Executor (the owner of the `sandbox` section), so
 * services started without an executor at hand (the shared AST service) follow the same interpreter, isolation and user.
 */
export function setPythonProcessDefaults(s: PythonProcessSettings): void {
  processDefaults = { python: s.python, mode: s.mode, sandboxUser: s.sandboxUser };
}

export function pythonProcessDefaults(): PythonProcessSettings {
  return processDefaults;
}
