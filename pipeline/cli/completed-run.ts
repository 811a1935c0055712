// `--resume` of a run that already completed: nothing is left to do, so the command says so and exits 0 at once.
// A Slurm array task that is requeued or resubmitted after its shard finished must not reopen the run, restart the
// simulator or preflight endpoints (which may be gone by then), nor rewrite the finished run's files.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig, type LoadedConfig } from './config.ts';
import { redactedConfig } from '../config/redact.ts';
import { canonicalJson } from '../gateway/cache.ts';
import type { RunMeta } from '../store/run-dir.ts';
import type { CommonOptions } from './run-context.ts';
import { printSummary } from './output.ts';

/** The config a resumed run is rebuilt from (its recorded files and overrides, then `set`), and whether it differs from the frozen one. */
export async function resumedConfig(dir: string, source: RunMeta['source'], set: readonly string[]): Promise<{ loaded: LoadedConfig; entry: string | undefined; changed: boolean }> {
  const entry = source.files.at(-1)?.path;
  const loaded = await loadConfig({ ...(entry !== undefined ? { file: entry } : {}), overrides: [...source.overrides, ...set] });
  const frozen: unknown = parseYaml(await readFile(path.join(dir, 'config.yaml'), 'utf8'));
  return { loaded, entry, changed: canonicalJson(frozen) !== canonicalJson(redactedConfig(loaded)) };
}

/**
 * True (after printing a one-line summary) when `--resume DIR` names a `command` run whose run.json says `completed`
 * and whose config is unchanged, with no `--set` or `--allow-config-change` asking for more. Otherwise false, and the
 * command resumes as before (a missing or unreadable run.json is reported there).
 */
export async function resumeOfCompletedRun(command: string, opts: CommonOptions): Promise<boolean> {
  if (opts.resume === undefined || (opts.set ?? []).length > 0 || opts.allowConfigChange === true) return false;
  const dir = path.resolve(opts.resume);
  let meta: RunMeta;
  try {
    meta = JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')) as RunMeta;
  } catch {
    return false;
  }
  if (meta.status !== 'completed' || meta.command !== command) return false;
  // An edited config file asks for more work, and a config that no longer loads is an error: resume reports either.
  const changed = await resumedConfig(dir, meta.source, []).then((r) => r.changed, () => true);
  if (changed) return false;
  printSummary(command, [
    ['run dir', dir],
    ['status', 'already completed: nothing to do (run.json unchanged)'],
  ]);
  return true;
}
