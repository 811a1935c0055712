// The simulated worker LLM: answers benchmark tasks with the reference program, or a near miss.
import type { Rng } from '../../random.ts';
import { mutateProgram } from '../mutate.ts';
import type { SimTask } from '../task-index.ts';
import { selectorDraft } from './selector.ts';
import { reviewerDraft } from './reviewer.ts';
import { lastUserText, userText, type Draft, type RoleInput } from './types.ts';

export function workerDraft(input: RoleInput): Draft {
  const { rng } = input;
  const task = input.tasks.find(userText(input.messages));
  const selection = selectorDraft(lastUserText(input.messages), task, input.accuracy, rng);
  if (selection) return selection;
  const verdict = reviewerDraft(lastUserText(input.messages), task, input.accuracy, rng);
  if (verdict) return verdict;
  if (!task) {
    const program = stubProgram(userText(input.messages));
    return {
      reasoning: 'I do not recognise this task, so I will only keep the requested signature.',
      content: `I could not work out a full solution; this keeps the expected interface.\n\n\`\`\`python\n${program}\n\`\`\``,
    };
  }
  const correct = rng.chance(input.accuracy);
  const program = correct ? task.solution : mutateProgram(task.solution, rng, task.entryPoint);
  return {
    reasoning: workerReasoning(task, rng),
    content: `${rng.pick(INTROS)}\n\n\`\`\`python\n${program.trimEnd()}\n\`\`\``,
  };
}

const INTROS = ['Here is an implementation:', 'This solution keeps the requested signature.', 'A direct implementation of the task:'];

function workerReasoning(task: SimTask, rng: Rng): string {
  return rng.pick([
    `The function to write is ${task.entryPoint}. I will follow the examples in the description.`,
    `I need ${task.entryPoint}; the examples show the expected outputs, so I will match them.`,
  ]);
}

/** A stub with the signature of the first `def` in the text (annotations dropped: their imports may be missing). */
export function stubProgram(text: string): string {
  for (const m of text.matchAll(/\bdef[ \t]+([A-Za-z_]\w*)[ \t]*\(([^()\n]*)\)/g)) {
    const name = m[1];
    if (name === undefined || name.startsWith('__')) continue;
    const params = splitTopLevel(m[2] ?? '')
      .map((p) => p.split(/[:=]/)[0]?.trim() ?? '')
      .filter((p) => /^(\*{0,2}[A-Za-z_]\w*|\*|\/)$/.test(p));
    return `def ${name}(${params.join(', ')}):\n    return None\n`;
  }
  return 'def solve(*args, **kwargs):\n    return None\n';
}

function splitTopLevel(params: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of params) {
    if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}
