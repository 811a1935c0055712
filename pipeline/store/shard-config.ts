// Whether run directories are shards of one configuration: their frozen config.yaml files, less what may differ
// between shards (the run name and the output place), must be equal before a merge joins them.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PipelineError } from '../errors.ts';
import { canonicalJson } from '../gateway/cache.ts';

async function comparableConfig(dir: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'config.yaml'), 'utf8');
  } catch {
    throw new PipelineError('usage', `${dir} is not a ${what} directory (no config.yaml)`);
  }
  const cfg = parseYaml(text) as Record<string, Record<string, unknown>>;
  delete cfg.run?.name;
  delete cfg.run?.outDir;
  return canonicalJson(cfg);
}

/** Throws a usage error naming the first directory whose configuration differs from the first one's. */
export async function requireSameConfig(dirs: readonly string[], what: string): Promise<void> {
  if (dirs.length === 0) throw new PipelineError('usage', `merge needs at least one ${what} directory`);
  const reference = await comparableConfig(dirs[0] as string, what);
  for (const d of dirs.slice(1)) {
    if ((await comparableConfig(d, what)) !== reference) {
      throw new PipelineError('usage', `${d} was run with a different configuration than ${dirs[0]}`, { hint: 'Only shards of one configuration can be merged.' });
    }
  }
}
