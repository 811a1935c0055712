// Pulls <modification>, <graph> and <prompt> out of a meta-agent reply as models really write them (flowreasoner.md §3).
import { workflowFailure, type WorkflowFailure, type WorkflowFailureCode } from './failures.ts';

export const REPLY_TAGS = ['modification', 'graph', 'prompt'] as const;
export type ReplyTag = (typeof REPLY_TAGS)[number];

const MISSING: Record<ReplyTag, WorkflowFailureCode> = {
  modification: 'missing-modification',
  graph: 'missing-graph',
  prompt: 'missing-prompt',
};

export interface TagBlock {
  /** The content as a module: code fences and prose around them removed, common indentation removed. */
  text: string;
  /** Reply line (1-based) of the content's first line: module line n is reply line `line + n - 1`. */
  line: number;
  /** Reply line of the opening tag that was used. */
  tagLine: number;
  /** Complete occurrences after the reasoning; the last one is used. */
  occurrences: number;
  fenced: boolean;
  /** The tag was never closed and `acceptUnclosed` took the text up to the end of the answer. */
  unclosed: boolean;
}

export interface WorkflowParts {
  modification: string;
  graph: string;
  prompt: string;
}

interface ParsedBase {
  tags: Partial<Record<ReplyTag, TagBlock>>;
  /** Reply line where the answer starts (after `</think>`), 1 when there is no reasoning block. */
  answerLine: number;
  /** Choices made on the way (repeated tags, ignored drafts), for logs. */
  notes: string[];
}

export type ParsedReply = (ParsedBase & { ok: true; parts: WorkflowParts; failures: [] }) | (ParsedBase & { ok: false; parts: null; failures: WorkflowFailure[] });

export interface ParseReplyOptions {
  /**
   * Take an opened but never closed tag up to the end of the reply. Off by default: a reply cut by the token limit
   * ends inside a tag, and a truncated graph that still parses would silently lose its last lines.
   */
  acceptUnclosed?: boolean;
}

interface Span {
  start: number;
  end: number;
}

interface Mark {
  index: number;
  end: number;
  closing: boolean;
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * The part of the reply that is the answer. R1-style models reason inside <think>…</think> and may draft the tags
 * there; distilled models often emit only the closing </think> (the chat template opened it). So the answer starts
 * after the last </think>; a <think> opened later and never closed (truncated reasoning) ends it.
 */
export function answerSpan(text: string): Span {
  let start = 0;
  for (const m of text.matchAll(/<\/\s*think(?:ing)?\s*>/gi)) start = m.index + m[0].length;
  const open = /<\s*think(?:ing)?\s*>/gi;
  open.lastIndex = start;
  const reopened = open.exec(text);
  return { start, end: reopened === null ? text.length : reopened.index };
}

function marks(text: string, tag: ReplyTag, span: Span): Mark[] {
  const out: Mark[] = [];
  const re = new RegExp(`<\\s*(/?)\\s*${tag}\\s*>`, 'gi');
  re.lastIndex = span.start;
  for (let m = re.exec(text); m !== null && m.index < span.end; m = re.exec(text)) {
    if (m.index + m[0].length > span.end) break;
    out.push({ index: m.index, end: m.index + m[0].length, closing: m[1] === '/' });
  }
  return out;
}

const FENCE = /^\s*(`{3,}|~{3,})\s*([\w+.#-]*)\s*$/;
const PY_LANGS = new Set(['', 'python', 'py', 'python3', 'py3']);

function dedent(lines: string[]): string[] {
  let common: string | null = null;
  for (const ln of lines) {
    if (ln.trim() === '') continue;
    const lead = /^[ \t]*/.exec(ln)?.[0] ?? '';
    if (common === null) {
      common = lead;
    } else {
      let k = 0;
      while (k < common.length && k < lead.length && common[k] === lead[k]) k++;
      common = common.slice(0, k);
    }
    if (common === '') return lines;
  }
  const cut = common?.length ?? 0;
  return cut === 0 ? lines : lines.map((ln) => (ln.trim() === '' ? '' : ln.slice(cut)));
}

/**
 * Turns a tag's raw content into module text. Models put ```python fences inside tags, add a sentence before the
 * fence, or leave a stray closing fence; the code is what is inside the fences (several fenced blocks are joined),
 * or everything when there is no fence. `firstLine` is the 0-based line of `raw` where the kept text starts.
 */
export function cleanTagContent(raw: string): { text: string; fenced: boolean; firstLine: number } {
  const lines = raw.split('\n');
  const fences: Array<{ at: number; lang: string }> = [];
  lines.forEach((ln, at) => {
    const m = FENCE.exec(ln);
    if (m !== null) fences.push({ at, lang: (m[2] ?? '').toLowerCase() });
  });
  let kept: Array<{ at: number; lines: string[] }> = [];
  let fenced = false;
  const nonBlank = lines.map((ln, i) => (ln.trim() === '' ? -1 : i)).filter((i) => i >= 0);
  const firstNonBlank = nonBlank[0] ?? 0;
  const lastNonBlank = nonBlank[nonBlank.length - 1] ?? 0;
  if (fences.length === 1 && fences[0] !== undefined && (fences[0].at === lastNonBlank || fences[0].at === firstNonBlank)) {
    // A lone fence at either end belongs to a fence opened or closed outside the tag: drop just that line.
    const at = fences[0].at;
    kept = at === firstNonBlank ? [{ at: at + 1, lines: lines.slice(at + 1) }] : [{ at: 0, lines: lines.slice(0, at) }];
  } else if (fences.length > 0) {
    fenced = true;
    const blocks: Array<{ at: number; lang: string; lines: string[] }> = [];
    for (let k = 0; k < fences.length; k += 2) {
      const open = fences[k];
      if (open === undefined) break;
      const close = fences[k + 1];
      blocks.push({ at: open.at + 1, lang: open.lang, lines: lines.slice(open.at + 1, close === undefined ? lines.length : close.at) });
    }
    const code = blocks.filter((b) => PY_LANGS.has(b.lang) && b.lines.some((ln) => ln.trim() !== ''));
    kept = code.length > 0 ? code : blocks;
  } else {
    kept = [{ at: 0, lines }];
  }
  const joined: string[] = [];
  kept.forEach((b, i) => {
    if (i > 0) joined.push('');
    joined.push(...b.lines);
  });
  let firstLine = kept[0]?.at ?? 0;
  while (joined.length > 0 && (joined[0] ?? '').trim() === '') {
    joined.shift();
    firstLine++;
  }
  while (joined.length > 0 && (joined[joined.length - 1] ?? '').trim() === '') joined.pop();
  return { text: dedent(joined).join('\n'), fenced, firstLine };
}

/**
 * Splits a meta-agent reply into its three parts.
 *
 * Choice (unlike AFlow, which takes the first regex match): the LAST complete <tag>…</tag> after the reasoning wins.
 * Models restate a tag when they revise it, and R1 drafts tags inside <think>; the final answer is the last one.
 * Tags only found inside the reasoning do not count. A tag opened but never closed is a failure at its line
 * (the reply was most likely cut by the token limit) unless `acceptUnclosed` is set. An empty <modification> or
 * <graph> counts as missing; an empty <prompt> is fine (a workflow may use no custom prompts).
 */
export function parseReply(reply: string, opts: ParseReplyOptions = {}): ParsedReply {
  const text = reply.replace(/\r\n?/g, '\n');
  const notes: string[] = [];
  if (text.trim() === '') {
    return { ok: false, parts: null, failures: [workflowFailure('empty-reply', 'reply', 'the reply is empty')], tags: {}, answerLine: 1, notes };
  }
  const span = answerSpan(text);
  const answerLine = lineAt(text, span.start);
  if (text.slice(span.start, span.end).trim() === '') {
    const f = workflowFailure('empty-reply', 'reply', 'the reply holds only reasoning (<think>…) and no answer after it', { line: answerLine });
    return { ok: false, parts: null, failures: [f], tags: {}, answerLine, notes };
  }
  const failures: WorkflowFailure[] = [];
  const tags: Partial<Record<ReplyTag, TagBlock>> = {};
  for (const tag of REPLY_TAGS) {
    const found = marks(text, tag, span);
    const pairs: Array<[Mark, Mark]> = [];
    let open: Mark | null = null;
    for (const m of found) {
      if (!m.closing) open = m;
      else if (open !== null) {
        pairs.push([open, m]);
        open = null;
      }
    }
    const last = pairs[pairs.length - 1];
    let raw: { from: number; to: number; openAt: number; unclosed: boolean } | null = null;
    if (last !== undefined) {
      raw = { from: last[0].end, to: last[1].index, openAt: last[0].index, unclosed: false };
      if (pairs.length > 1) notes.push(`${pairs.length} complete <${tag}> blocks; used the last (line ${lineAt(text, last[0].index)})`);
      if (open !== null) notes.push(`ignored an unclosed <${tag}> at line ${lineAt(text, open.index)} after the last complete one`);
    } else if (open !== null) {
      const at = lineAt(text, open.index);
      if (opts.acceptUnclosed === true) {
        raw = { from: open.end, to: span.end, openAt: open.index, unclosed: true };
        notes.push(`<${tag}> at line ${at} is never closed; took the text to the end`);
      } else {
        failures.push(workflowFailure(MISSING[tag], 'reply', `<${tag}> opened at line ${at} is never closed (was the reply cut off?)`, { line: at }));
        continue;
      }
    }
    if (raw === null) {
      const inReasoning = span.start > 0 && marks(text, tag, { start: 0, end: span.start }).some((m) => m.closing);
      const why = inReasoning ? `a <${tag}> appears only inside the reasoning (<think>), not in the answer` : `no <${tag}>…</${tag}> in the reply`;
      failures.push(workflowFailure(MISSING[tag], 'reply', why));
      continue;
    }
    const cleaned = cleanTagContent(text.slice(raw.from, raw.to));
    const tagLine = lineAt(text, raw.openAt);
    const block: TagBlock = {
      text: cleaned.text,
      line: lineAt(text, raw.from) + cleaned.firstLine,
      tagLine,
      occurrences: pairs.length,
      fenced: cleaned.fenced,
      unclosed: raw.unclosed,
    };
    tags[tag] = block;
    if (block.text.trim() === '' && tag !== 'prompt') {
      failures.push(workflowFailure(MISSING[tag], 'reply', `<${tag}> at line ${tagLine} is empty`, { line: tagLine }));
    }
  }
  const { modification, graph, prompt } = tags;
  if (failures.length > 0 || modification === undefined || graph === undefined || prompt === undefined) {
    return { ok: false, parts: null, failures, tags, answerLine, notes };
  }
  return { ok: true, parts: { modification: modification.text, graph: graph.text, prompt: prompt.text }, failures: [], tags, answerLine, notes };
}
