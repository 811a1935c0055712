// The work of `flowreasoner smoke`, loaded only when the command runs (smoke.ts registers it without the engine).
import { runSmoke } from '../../gateway/smoke-run.ts';
import { PipelineError } from '../../errors.ts';
import { openRun } from '../run-context.ts';
import { createProgress } from '../progress.ts';
import { fmtInt, fmtUsd, printSummary } from '../output.ts';
import type { SmokeOptions } from './smoke.ts';

export async function smokeAction(command: string, opts: SmokeOptions, defaultConfig: string | undefined): Promise<void> {
  // --calls and --role are config overrides, so they are frozen with the run and replayed by --resume.
  const set = [...(opts.set ?? [])];
  if (opts.calls !== undefined) set.push(`smoke.calls=${opts.calls}`);
  if (opts.role !== undefined && opts.role.length > 0) set.push(`smoke.roles=[${opts.role.join(',')}]`);
  const ctx = await openRun(command, { ...opts, set }, defaultConfig);
  try {
    const roles = ctx.config.smoke.roles.length > 0 ? ctx.config.smoke.roles : ctx.gateway.roles;
    if (roles.length === 0) throw new PipelineError('config-invalid', 'no roles to call: the config has no models', { hint: 'Add a models section, or use --config configs/demo.yaml.' });
    const calls = ctx.config.smoke.calls;
    process.stdout.write(`run directory: ${ctx.store.dir}\n`);
    await ctx.gateway.preflight(roles);
    const progress = createProgress(command, calls * roles.length);
    const stats = await runSmoke(ctx.gateway, roles, calls, { signal: ctx.signal, onDone: () => progress.tick(1, { cost: fmtUsd(ctx.gateway.accounting.total.cost) }) });
    progress.stop();
    const report = ctx.gateway.report();
    const failedTotal = stats.reduce((s, r) => s + Object.values(r.failed).reduce((a, b) => a + b, 0), 0);
    const summary = { roles: stats, gateway: report };
    await ctx.store.writeJson('smoke.json', summary);
    const rows: Array<[string, string | number]> = [['run dir', ctx.store.dir]];
    for (const s of stats) {
      rows.push([
        `role ${s.role}`,
        `${s.ok}/${s.calls} ok, ${s.cacheHits} cached, ${s.withReasoning} with reasoning, p50 ${s.latencyMs.p50.toFixed(0)}ms p95 ${s.latencyMs.p95.toFixed(0)}ms, max in flight ${s.maxInFlight}`,
      ]);
      if (Object.keys(s.failed).length > 0) rows.push([`  failed`, Object.entries(s.failed).map(([k, v]) => `${k}:${v}`).join(' ')]);
    }
    rows.push(['tokens', `${fmtInt(report.total.promptTokens)} prompt + ${fmtInt(report.total.completionTokens)} completion (${fmtInt(report.total.reasoningTokens)} reasoning)`]);
    rows.push(['cost', fmtUsd(report.total.cost)]);
    const retried = Object.entries(report.errors).filter(([k]) => k.startsWith('retried:'));
    rows.push(['retries', retried.length > 0 ? retried.map(([k, v]) => `${k.slice(8)}:${v}`).join(' ') : 'none']);
    if (report.cache !== null) rows.push(['cache', `${report.cache.hits} hits, ${report.cache.misses} misses`]);
    if (ctx.sim !== null) rows.push(['simulator', `${ctx.sim.url} (max in flight ${ctx.sim.stats().maxInFlight})`]);
    printSummary('smoke run', rows);
    if (failedTotal > 0) {
      await ctx.close('failed', summary);
      process.exitCode = 1;
      return;
    }
    await ctx.close('completed', summary);
  } catch (e) {
    await ctx.close(e instanceof PipelineError && e.code === 'budget-exceeded' ? 'budget-exceeded' : 'failed', undefined, e);
    throw e;
  }
}
