// The run section: what run.json says (command, status, times, config) and what the run's model calls cost, by role.
import path from 'node:path';
import { chartFigure } from '../charts.ts';
import { counts, int, num, usd } from '../format.ts';
import { html } from '../html.ts';
import { jsonNote, jsonlNote } from '../load.ts';
import type { RunData } from '../read-run.ts';
import { addNote, addPart, facts, newSection, table, type Section } from '../section.ts';

/** A summary value as one line of text: numbers formatted, small records as `k v` pairs, anything else as JSON. */
function summaryValue(v: unknown): string {
  if (typeof v === 'number') return num(v, 4);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number')) return counts(v as Record<string, number>);
  return JSON.stringify(v);
}

export async function runSection(run: RunData): Promise<Section> {
  const s = newSection('run', 'Run');
  addNote(s, jsonNote(run.runJson, 'run.json'));
  const rj = run.runJson.state === 'ok' ? run.runJson.value : null;
  const configFiles = (rj?.source?.files ?? []).map((f) => f.path);
  const overrides = rj?.source?.overrides ?? [];
  addPart(
    s,
    'Overview',
    facts([
      ['run id', rj?.id ?? path.basename(run.dir)],
      ['command', rj?.command ?? '—'],
      ['status', html`<span class="status status-${rj?.status ?? 'unknown'}">${rj?.status ?? 'unknown'}</span>`],
      ['created', rj?.createdAt ?? '—'],
      ['updated', rj?.updatedAt ?? '—'],
      ['resumed', (rj?.resumes ?? []).length === 0 ? 'never' : (rj?.resumes ?? []).join(', ')],
      ['config', [configFiles.length === 0 ? '—' : configFiles.join(', '), run.configName !== null ? ` (run.name ${run.configName})` : '']],
      ['overrides', overrides.length === 0 ? 'none' : overrides.join(' ')],
      ['host', [rj?.host ?? '—', rj?.nodeVersion !== undefined ? `, Node ${rj.nodeVersion}` : '']],
      ['directory', run.dir],
    ]),
  );
  const summary = rj?.summary ?? null;
  if (summary !== null && Object.keys(summary).length > 0) {
    addPart(s, 'Summary of the last command', facts(Object.entries(summary).map(([k, v]) => [k, summaryValue(v)] as const)));
  }

  addNote(s, jsonlNote(run.calls.read, 'calls.jsonl'));
  const rows = [...run.calls.byRoleStage].sort((a, b) => b.cost - a.cost);
  if (rows.length > 0) {
    const id = 'chart-cost-by-role';
    const figure = await chartFigure({
      id,
      title: 'Cost by role',
      caption: 'USD of every model call in calls.jsonl (cache hits at their original price), stacked by the stage that made it.',
      spec: {
        width: 420,
        height: { step: 28 },
        data: { values: rows.map((r) => ({ role: r.role, stage: r.stage, cost: r.cost, calls: r.calls })) },
        mark: 'bar',
        encoding: {
          y: { field: 'role', type: 'nominal', sort: '-x', title: 'role' },
          x: { field: 'cost', type: 'quantitative', title: 'cost (USD)', aggregate: 'sum' },
          color: { field: 'stage', type: 'nominal', title: 'stage' },
        },
      },
    });
    s.figures.push(id);
    addPart(
      s,
      'Model calls',
      html`${figure}${table(
        ['role', 'stage', 'calls', 'cost'],
        rows.map((r) => [r.role, r.stage, int(r.calls), usd(r.cost)]),
        new Set([2, 3]),
      )}`,
    );
  }
  return s;
}
