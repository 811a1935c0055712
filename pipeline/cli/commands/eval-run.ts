// The work of `flowreasoner eval` and `eval merge`, loaded only when one runs: eval.ts registers them without the engine.
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../store/atomic-write.ts';
import { PipelineError } from '../../errors.ts';
import { createExecutor } from '../../sandbox/create-executor.ts';
import { checkMetaAgentReply } from '../../workflow/check-reply.ts';
import { resolveShard } from '../../shard.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';
import { closeSharedAnalysisClient } from '../../code-analysis/client.ts';
import { resultsOf, runEval, writeTables, type EvalSummary } from '../../../eval/run-eval.ts';
import { mergeEvalSamples } from '../../../eval/merge.ts';
import { loadWorkflowMethods } from '../../../eval/workflow-files.ts';
import { selectEvalTasks } from '../../../eval/select-tasks.ts';
import { renderMarkdown } from '../../../eval/render-table.ts';
import type { EvalConfig } from '../../../eval/config-schema.ts';
import type { EvalResults } from '../../../eval/results-schema.ts';
import { loadConfig, type Config } from '../config.ts';
import { dataDirOf, openRun, stageDepsOf } from '../run-context.ts';
import { createProgress, type Progress } from '../progress.ts';
import { fmtUsd, printSummary } from '../output.ts';
import type { EvalCliOptions } from './eval.ts';

type Status = 'completed' | 'failed' | 'budget-exceeded';

/** Where each method comes from, for the table: the workflow file, or the meta-agent's role and model. */
function methodSources(config: Config, files: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of config.eval.methods) {
    if (m.kind === 'direct') out.set(m.name, `worker ${config.models[config.eval.workerRole]?.model ?? config.eval.workerRole}`);
    else if (m.kind === 'workflow') out.set(m.name, files.get(m.name) ?? m.file);
    else out.set(m.name, `${m.role} ${config.models[m.role]?.model ?? '(no such role)'}`);
  }
  return out;
}

function checkRoles(config: Config): string[] {
  const roles = new Set([config.eval.workerRole]);
  for (const m of config.eval.methods) if (m.kind === 'meta-agent') roles.add(m.role);
  for (const r of roles) {
    if (config.models[r] === undefined) throw new PipelineError('config-invalid', `eval needs models.${r}, which the config does not define`, { hint: `Add models.${r} with its baseUrl and model, or name another role in eval.` });
  }
  return [...roles];
}

function printResults(results: EvalResults, dir: string, extra: Array<[string, string | number]>): void {
  const md = renderMarkdown(results);
  // The pass@1 table is the headline; the rest is in table.md.
  process.stdout.write(`\n${md.split('\n## Cost per method')[0]?.trimEnd() ?? ''}\n`);
  printSummary('eval', [
    ['run dir', dir],
    ['table', `${path.join(dir, 'eval', 'table.md')} (also table.csv, results.json)`],
    ['samples', path.join(dir, 'eval', 'samples.jsonl')],
    ...extra,
  ]);
}

export async function evalCommand(opts: EvalCliOptions): Promise<{ summary: EvalSummary; status: Status; dir: string }> {
  const shard = resolveShard(opts.shard);
  const ctx = await openRun('eval', opts, 'configs/eval.yaml');
  const executor = createExecutor(ctx.config.sandbox, { keyEnvNames: keyEnvNamesOf(ctx.config) });
  if (executor.info.warning !== null) process.stderr.write(`warning: ${executor.info.warning}\n`);
  try {
    const cfg = ctx.config.eval;
    const roles = checkRoles(ctx.config);
    const { workflows, files } = await loadWorkflowMethods(cfg, ctx.loaded.source.files.at(-1)?.path, checkMetaAgentReply);
    process.stdout.write(`run directory: ${ctx.store.dir}${shard !== null ? ` (shard ${shard.index}/${shard.count})` : ''}\n`);
    await ctx.gateway.preflight(roles);
    let bar: Progress | null = null;
    let seen = 0;
    const summary = await runEval({
      cfg,
      ...stageDepsOf(ctx, executor),
      shard,
      workflows,
      sources: methodSources(ctx.config, files),
      signal: ctx.signal,
      onProgress: (p) => {
        if (bar === null) {
          // A resumed run starts its bar at what was judged before, so its eta counts only what is left.
          bar = createProgress('eval', p.total, { start: p.done });
          seen = p.done;
        }
        bar.tick(p.done - seen, { cost: fmtUsd(p.cost) });
        seen = p.done;
      },
    });
    (bar as Progress | null)?.stop();
    const infra = Object.entries(summary.infraFailures);
    const status: Status = summary.stoppedBy !== null ? 'budget-exceeded' : summary.samplesJudged < summary.samplesPlanned ? 'failed' : 'completed';
    printResults(summary.results, ctx.store.dir, [
      ['tasks', `${summary.tasks - summary.excluded} judged, ${summary.excluded} excluded${shard !== null ? ` (shard ${shard.index}/${shard.count})` : ''}`],
      ['samples', `${summary.samplesJudged}/${summary.samplesPlanned} judged`],
      ['cost', fmtUsd(ctx.gateway.accounting.total.cost)],
      ...(infra.length > 0 ? [['not judged', `${infra.map(([k, v]) => `${k}: ${v}`).join(', ')} (our side failed; --resume ${ctx.store.dir} retries them)`] as [string, string]] : []),
      ...(summary.stoppedBy !== null ? [['stopped by', summary.stoppedBy] as [string, string]] : []),
    ]);
    const { results, ...rest } = summary;
    await ctx.close(status, { ...rest, bestBaseline: results.bestBaseline, incomplete: results.incomplete });
    return { summary, status, dir: ctx.store.dir };
  } catch (e) {
    await ctx.close(e instanceof PipelineError && e.code === 'aborted' ? 'interrupted' : 'failed', undefined, e);
    throw e;
  } finally {
    await executor.close();
    await closeSharedAnalysisClient();
  }
}

/** `eval merge DIR… --out DIR`: joins shard directories and computes the table over every task of the configuration. */
export async function evalMerge(dirs: string[], out: string): Promise<{ results: EvalResults; status: Status }> {
  const { samples, exclusions } = await mergeEvalSamples(dirs, out);
  const first = dirs[0] as string;
  const loaded = await loadConfig({ file: path.join(first, 'config.yaml') });
  const config = loaded.config;
  const cfg: EvalConfig = config.eval;
  const { all } = await selectEvalTasks(cfg, config.run.seed, dataDirOf(config), config.data.partition, null);
  const files = new Map(cfg.methods.flatMap((m) => (m.kind === 'workflow' ? [[m.name, m.file] as [string, string]] : [])));
  const results = resultsOf(cfg, config.data.partition, all, samples, exclusions, methodSources(config, files));
  const store = {
    writeJson: async (name: string, v: unknown) => writeFileAtomic(path.join(out, name), `${JSON.stringify(v, null, 2)}\n`),
    writeText: async (name: string, t: string) => writeFileAtomic(path.join(out, name), t),
  };
  await writeTables(store, results);
  await writeFile(path.join(out, 'config.yaml'), await readFile(path.join(first, 'config.yaml'), 'utf8'));
  await writeFile(path.join(out, 'merge.json'), `${JSON.stringify({ shards: dirs.map((d) => path.resolve(d)), samples: samples.length, excluded: exclusions.length }, null, 2)}\n`);
  printResults(results, path.resolve(out), [['merged', `${dirs.length} shard dirs`]]);
  return { results, status: results.incomplete.missingSamples > 0 ? 'failed' : 'completed' };
}
