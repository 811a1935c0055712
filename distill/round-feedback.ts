// What a round's runs tell the next teacher: workflow errors and public-test failures, deduplicated (never hidden tests).
import type { ScoredRun } from '../pipeline/workflow/score-workflow.ts';
import type { Task } from '../datasets/task.ts';

export function roundFeedback(runs: readonly ScoredRun[], task: Task, max: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of runs) {
    let text: string | null = null;
    if (r.run.status !== 'ok') {
      const tb = r.run.error?.traceback?.trim();
      text = `The workflow itself failed (${r.run.status}): ${r.run.error?.message ?? ''}${tb ? `\n${tb.split('\n').slice(-8).join('\n')}` : ''}`;
    } else if (r.exec !== null && !r.exec.passed) {
      const f = r.exec.firstFailure;
      const code = f !== undefined ? task.publicTests.tests?.find((t) => t.name === f.name)?.code : undefined;
      text = [`Its solution failed the public tests: ${r.exec.result}`, code !== undefined ? `Failing test: ${code}` : '', f !== undefined && f.error !== '' ? `Error: ${f.error}` : '']
        .filter((x) => x !== '')
        .join('\n');
    }
    if (text !== null && !seen.has(text)) {
      seen.add(text);
      out.push(text);
    }
    if (out.length >= max) break;
  }
  return out;
}
