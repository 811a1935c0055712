// The hand-written workflows of `workflow` methods: read from their files (meta-agent reply format) and checked like any
// meta-agent reply before a single task runs, so a broken file stops the run at once with its name and the problems.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';
import type { ReplyChecker } from '../pipeline/workflow/check-reply.ts';
import type { EvalConfig } from './config-schema.ts';

/** A relative path is looked up from the working directory first, then beside the config file. */
export function resolveWorkflowFile(file: string, configFile: string | undefined): string {
  if (path.isAbsolute(file) || existsSync(file) || configFile === undefined) return file;
  const beside = path.join(path.dirname(configFile), file);
  return existsSync(beside) ? beside : file;
}

export async function loadWorkflowMethods(cfg: EvalConfig, configFile: string | undefined, check: ReplyChecker): Promise<{ workflows: Map<string, { graph: string; prompt: string }>; files: Map<string, string> }> {
  const workflows = new Map<string, { graph: string; prompt: string }>();
  const files = new Map<string, string>();
  for (const m of cfg.methods) {
    if (m.kind !== 'workflow') continue;
    const file = resolveWorkflowFile(m.file, configFile);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new PipelineError('config-invalid', `eval.methods (${m.name}): cannot read workflow file ${file}: ${(e as Error).message}`, { hint: 'Paths are relative to the working directory or to the config file.' });
    }
    const r = await check(text);
    if (!r.ok) {
      throw new PipelineError('config-invalid', `eval.methods (${m.name}): ${file} is not a valid workflow: ${r.failures.map((f) => `${f.code}${f.line !== undefined ? ` (line ${f.line})` : ''}: ${f.message}`).join('; ')}`, {
        hint: 'Check it with `flowreasoner workflow check FILE`.',
      });
    }
    workflows.set(m.name, { graph: r.graph, prompt: r.prompt });
    files.set(m.name, file);
  }
  return { workflows, files };
}
