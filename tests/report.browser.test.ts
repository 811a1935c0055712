// The run report in a real browser (Chromium through puppeteer-core): every section and chart draws, the page makes no
// request but for itself, logs no error, runs no hostile script, and a full-page screenshot lands in the run.
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedAnalysisClient } from '../pipeline/code-analysis/client.ts';
import { buildReport, type BuiltReport } from '../report/build-report.ts';
import { evalRun } from './helpers/eval-run.ts';
import { tmpDir } from './helpers/tmp.ts';
import { demoRun, privateCopy } from './helpers/trainer-python.ts';
import { richFlow, HOSTILE, writeDistill, writeEval, writeGrpo, writeRunJson, writeSft } from './report.fixtures.ts';

const CHROMIUM = process.env.FR_CHROMIUM ?? '/usr/bin/chromium';

let browser: Browser | undefined;
let launchError: Error | undefined;

beforeAll(async () => {
  // Never skipped: without a browser every test here fails, saying how to get one (see needBrowser).
  if (!existsSync(CHROMIUM)) {
    launchError = new Error(`no Chromium at ${CHROMIUM}: install it (Debian/Ubuntu: \`apt-get install chromium\`; .ci/run does this when run as root), or point FR_CHROMIUM at a Chromium or Chrome binary`);
    return;
  }
  // One browser for the whole file (launching is the slow part); root needs --no-sandbox.
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
}, 60_000);

/** The browser, or the reason there is none (thrown before a test spends time building its run). */
function needBrowser(): Browser {
  if (browser === undefined) throw launchError ?? new Error('the browser did not start (see the error of beforeAll)');
  return browser;
}

afterAll(async () => {
  await browser?.close();
  await closeSharedAnalysisClient();
});

interface Seen {
  problems: string[];
  sections: string[];
  /** Per figure id: its data marks (charts) or nodes and edges (diagrams), and its drawn size. */
  figures: Record<string, { marks: number; width: number; height: number }>;
  pwned: unknown;
  dangerous: string[];
}

/** Opens report.html from disk, checks what the browser saw, and saves a full-page screenshot beside it. */
async function open(report: BuiltReport): Promise<Seen> {
  const page = await needBrowser().newPage();
  const url = pathToFileURL(report.path).href;
  const problems: string[] = [];
  page.on('console', (m) => {
    if (['error', 'warn', 'warning', 'assert'].includes(m.type())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
  page.on('request', (r) => {
    if (r.url() !== url && !r.url().startsWith('data:')) problems.push(`request for something other than the page: ${r.url()}`);
  });
  try {
    await page.setViewport({ width: 1150, height: 900 });
    const res = await page.goto(url, { waitUntil: 'load' });
    expect(res?.ok() ?? true).toBe(true);
    const seen = await page.evaluate(() => {
      // Runs in the page. The project's types have no DOM library (it is a Node project), so the little of the DOM
      // used here is declared locally.
      interface El {
        id: string;
        tagName: string;
        offsetHeight: number;
        dataset: Record<string, string | undefined>;
        getAttributeNames(): string[];
        getBoundingClientRect(): { width: number; height: number };
        querySelector(selector: string): El | null;
        querySelectorAll(selector: string): Iterable<El> & { length: number };
      }
      const win = globalThis as unknown as { document: El; __pwned?: unknown };
      const document = win.document;
      const figures: Record<string, { marks: number; width: number; height: number }> = {};
      for (const f of document.querySelectorAll('figure[data-chart], figure[data-flow]')) {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        // vega draws data marks inside <g class="mark-… role-mark">; our diagrams draw .flow-node and .flow-edge groups.
        const marks = f.dataset.chart !== undefined ? f.querySelectorAll('svg g.role-mark > *').length : f.querySelectorAll('svg .flow-node').length * Math.min(1, f.querySelectorAll('svg .flow-edge').length);
        figures[f.id] = { marks, width: box?.width ?? 0, height: box?.height ?? 0 };
      }
      const dangerous: string[] = [];
      for (const el of document.querySelectorAll('*')) {
        if (['SCRIPT', 'IMG', 'IFRAME', 'OBJECT', 'EMBED'].includes(el.tagName.toUpperCase())) dangerous.push(el.tagName);
        for (const a of el.getAttributeNames()) if (a.toLowerCase().startsWith('on')) dangerous.push(`${el.tagName}[${a}]`);
      }
      return {
        sections: [...document.querySelectorAll('section[data-section]')].filter((s) => s.offsetHeight > 0).map((s) => s.id),
        figures,
        pwned: win.__pwned,
        dangerous,
      };
    });
    const png = path.join(path.dirname(report.path), 'report.png');
    await page.screenshot({ path: png as `${string}.png`, fullPage: true });
    expect((await stat(png)).size).toBeGreaterThan(10_000);
    return { ...seen, problems };
  } finally {
    await page.close();
  }
}

function expectDrawn(report: BuiltReport, seen: Seen): void {
  expect(seen.problems).toEqual([]);
  expect(seen.sections).toEqual(report.sections.map((s) => s.id));
  const expected = report.sections.flatMap((s) => s.figures);
  expect(Object.keys(seen.figures).sort()).toEqual([...expected].sort());
  for (const id of expected) {
    const f = seen.figures[id];
    expect(f?.marks, `${id} drew marks`).toBeGreaterThan(0);
    expect(f?.width, `${id} has a width`).toBeGreaterThan(50);
    expect(f?.height, `${id} has a height`).toBeGreaterThan(50);
  }
}

describe('report in a browser', () => {
  it('draws the demo run: run, distill, sft and grpo sections, every chart and the best workflows', async () => {
    needBrowser();
    const demo = await demoRun();
    // The demo writes its own report at the end.
    expect(existsSync(path.join(demo, 'report.html'))).toBe(true);
    const run = await privateCopy(demo);
    const report = await buildReport(run);
    expect(report.sections.map((s) => s.id)).toEqual(['run', 'distill', 'sft', 'grpo']);
    expect(report.absent).toEqual(['eval']);
    const figures = report.sections.flatMap((s) => s.figures);
    expect(figures.filter((f) => f.startsWith('chart-'))).toHaveLength(11);
    expect(figures.filter((f) => f.startsWith('flow-')).length).toBeGreaterThan(0);
    const seen = await open(report);
    expectDrawn(report, seen);
  }, 300_000);

  it('draws an eval run: the pass@1 chart with its error bars and the tables', async () => {
    needBrowser();
    const run = await privateCopy(await evalRun());
    const report = await buildReport(run);
    expect(report.sections.map((s) => s.id)).toEqual(['run', 'eval']);
    expect(report.sections.find((s) => s.id === 'eval')?.figures).toEqual(['chart-eval-pass1']);
    expect(report.sections.flatMap((s) => s.notes)).toEqual([]);
    expectDrawn(report, await open(report));
  }, 300_000);

  it('runs nothing from hostile run text: no script, image or handler in the DOM, and no console error', async () => {
    needBrowser();
    const run = path.join(await tmpDir('fr-report-browser-'), 'run');
    await mkdir(run);
    await writeRunJson(run, { hostile: true });
    await writeDistill(run, { hostile: true });
    await writeSft(run, { hostile: true });
    await writeGrpo(run);
    await writeEval(run, { hostile: true });
    const report = await buildReport(run, { flowOf: async () => richFlow(HOSTILE) });
    const seen = await open(report);
    expectDrawn(report, seen);
    expect(seen.pwned).toBeUndefined();
    expect(seen.dangerous).toEqual([]);
  }, 120_000);
});
