// `workflow check` and `render` on a reply without <graph>: the reply's own failure (missing-graph), not a Python syntax error.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';

const cli = (args: string[]) => runCli(args);

interface CheckOut {
  ok: boolean;
  failures: Array<{ code: string }>;
}

describe('workflow check of a reply without <graph>', () => {
  const replies: Array<[string, string]> = [
    ['modification and prompt', '<modification>Add a review step.</modification>\n<prompt>\nCAREFUL = "Check edge cases."\n</prompt>\n'],
    ['prompt only, spaced tags', 'Here is my answer.\n< prompt >\nCAREFUL = "x"\n</ prompt >\n'],
    ['modification only', '<think>draft</think>\n<modification>\nUse ScEnsemble over three samples.\n</modification>\n'],
  ];
  for (const [name, reply] of replies) {
    it(`reports missing-graph for a reply with ${name}`, async () => {
      const dir = await tmpDir();
      const file = path.join(dir, 'reply.txt');
      await writeFile(file, reply);
      const r = await cli(['workflow', 'check', file]);
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout) as CheckOut;
      expect(out.ok).toBe(false);
      expect(out.failures.map((f) => f.code)).toContain('missing-graph');
      expect(out.failures.map((f) => f.code)).not.toContain('syntax-error');
    });
  }

  it('render names missing-graph too', async () => {
    const dir = await tmpDir();
    const file = path.join(dir, 'reply.txt');
    await writeFile(file, replies[0]![1]);
    const r = await cli(['workflow', 'render', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing-graph');
    expect(r.stderr).not.toContain('syntax-error');
  });
});
