// The worker answering an ensemble question: pick one lettered candidate, in ScEnsemble's reply format.
import type { Rng } from '../../random.ts';
import type { SimTask } from '../task-index.ts';
import type { Draft } from './types.ts';

interface Candidate {
  letter: string;
  text: string;
}

const LABEL = /^[ \t]*([A-Z])[ \t]*[:)][ \t]?(.*)$/;

/**
 * undefined when the message is not a selection question: it must mention "letter" and label at least
 * two candidates A, B, ... at line starts.
 *
 * The choice is self-consistency, not an oracle: the most frequent candidate wins (whitespace and fences
 * aside), so two agreeing wrong drafts outvote one right one. Only among tied candidates does the worker's
 * skill count: with probability `accuracy` it recognises the task's reference among them, otherwise it keeps
 * the first tied one. An ensemble therefore helps exactly as much as its drafts agree on the right answer.
 */
export function selectorDraft(message: string, task: SimTask | undefined, accuracy: number, rng: Rng): Draft | undefined {
  if (!/letter/i.test(message)) return undefined;
  const candidates = parseCandidates(message);
  if (candidates.length < 2) return undefined;
  const keys = candidates.map((c) => comparable(c.text));
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const top = Math.max(...counts.values());
  const tied = keys.flatMap((k, i) => (counts.get(k) === top ? [i] : []));
  const reference = task ? comparable(task.solution) : undefined;
  const right = tied.find((i) => keys[i] === reference);
  // The draw happens only when there is something to recognise, so unrelated questions keep their stream.
  if (right !== undefined && tied.length > 1 && rng.chance(accuracy)) {
    return reply(candidates[right]?.letter ?? 'A', 'it is correct on every example I traced through');
  }
  const best = tied[0] ?? 0;
  const why = top > 1 ? `${top} of the ${candidates.length} candidates agree on it` : 'none of the candidates agrees with another, so I keep the first';
  return reply(candidates[best]?.letter ?? 'A', why);
}

function reply(letter: string, why: string): Draft {
  return { reasoning: '', content: `<thought>I compared the candidates and chose ${letter}: ${why}.</thought>\n<solution_letter>${letter}</solution_letter>` };
}

/**
 * Candidates run from their label line to the next label. Labels must come in order (A, then B, ...),
 * so a code line such as `X: int = 1` inside a candidate is not taken for a label. The last candidate
 * stops before the paragraph that mentions "letter", which is the instruction, not part of the answer.
 */
export function parseCandidates(message: string): Candidate[] {
  const out: Array<{ letter: string; lines: string[] }> = [];
  for (const line of message.split('\n')) {
    const m = LABEL.exec(line);
    const expected = String.fromCharCode(65 + out.length);
    if (m && m[1] === expected) out.push({ letter: expected, lines: [m[2] ?? ''] });
    else out.at(-1)?.lines.push(line);
  }
  const last = out.at(-1);
  if (last) {
    const paragraphs = last.lines.join('\n').split(/\n[ \t]*\n/);
    const instruction = paragraphs.findIndex((p, i) => i > 0 && /letter/i.test(p));
    if (instruction > 0) last.lines = paragraphs.slice(0, instruction).join('\n\n').split('\n');
  }
  return out.map((c) => ({ letter: c.letter, text: c.lines.join('\n') }));
}

/** Whitespace-insensitive and fence-insensitive, so formatting alone never makes two programs differ. */
function comparable(text: string): string {
  return text.replace(/```[\w-]*/g, '').replace(/\s+/g, '');
}
