// The workflows the simulated meta-agent can propose: valid FlowReasoner/AFlow-style graphs plus their prompts.
//
// Format (flowreasoner.md §4): `<graph>` holds a `class Workflow` that may use `operator`, `prompt_custom`
// and `create_llm_instance` without importing them; `<prompt>` holds the `prompt_custom` string constants.

export interface WorkflowShape {
  id: string;
  /** One clause for the reasoning: why this design suits a coding query. */
  rationale: string;
  /** What the `<modification>` tag says was changed. */
  modification: string;
  graph: string;
  /** prompt_custom constants, NAME → text; every `prompt_custom.NAME` in the graph is among them. */
  prompts: Readonly<Record<string, string>>;
}

function init(operators: ReadonlyArray<readonly [attribute: string, className: string]>): string {
  return [
    '    def __init__(self, name: str, llm_config, dataset) -> None:',
    '        self.name = name',
    '        self.dataset = dataset',
    '        self.llm = create_llm_instance(llm_config)',
    ...operators.map(([attr, cls]) => `        self.${attr} = operator.${cls}(self.llm)`),
  ].join('\n');
}

const GENERATE = ['custom_code_generate', 'CustomCodeGenerate'] as const;
const CUSTOM = ['custom', 'Custom'] as const;
const ENSEMBLE = ['sc_ensemble', 'ScEnsemble'] as const;
const TEST = ['test', 'Test'] as const;
const REVIEW = ['review', 'Review'] as const;
const REVISE = ['revise', 'Revise'] as const;

function graph(imports: string, operators: ReadonlyArray<readonly [string, string]>, body: string): string {
  const head = imports ? `${imports}\n\n\n` : '';
  return `${head}class Workflow:\n${init(operators)}\n\n    async def __call__(self, problem: str, entry_point: str):\n${body}\n`;
}

export const WORKFLOW_LIBRARY: readonly WorkflowShape[] = [
  {
    id: 'single-generate',
    rationale: 'a single focused generation call is cheap and often enough when the specification is precise',
    modification: 'Use one code-generation call guided by a prompt that stresses the exact signature and edge cases.',
    graph: graph(
      '',
      [GENERATE],
      [
        '        attempt = await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.PRECISE_SOLVER)',
        "        return attempt['response'], self.llm.cost_manager.total_cost",
      ].join('\n'),
    ),
    prompts: {
      PRECISE_SOLVER:
        'Write one complete Python implementation for the task below. Keep the function name and parameters exactly as given, cover empty and boundary inputs, and return values instead of printing them.',
    },
  },
  {
    id: 'generate-test-fix',
    rationale: 'running the public tests after drafting catches most slips, and the Test operator repairs what fails',
    modification: 'Add a Test step after generation so the draft is executed against the public tests and repaired when it fails.',
    graph: graph(
      '',
      [GENERATE, TEST],
      [
        '        attempt = await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.DRAFT_WITH_CARE)',
        "        checked = await self.test(problem=problem, solution=attempt['response'], entry_point=entry_point)",
        "        return checked['solution'], self.llm.cost_manager.total_cost",
      ].join('\n'),
    ),
    prompts: {
      DRAFT_WITH_CARE:
        'Solve the programming task below in Python. Before writing code, decide how each example in the description should behave, then write a function that satisfies all of them.',
    },
  },
  {
    id: 'three-samples-ensemble',
    rationale: 'three independent drafts written from different angles, reconciled by ScEnsemble, smooth out one-off mistakes',
    modification: 'Generate three solutions in parallel with different instructions and let ScEnsemble choose the most consistent one.',
    graph: graph(
      'import asyncio',
      [GENERATE, ENSEMBLE],
      [
        '        angles = [prompt_custom.PLAIN_ANGLE, prompt_custom.EDGE_CASE_ANGLE, prompt_custom.STEPWISE_ANGLE]',
        '        attempts = await asyncio.gather(',
        '            *[self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=angle) for angle in angles]',
        '        )',
        "        chosen = await self.sc_ensemble(solutions=[a['response'] for a in attempts], problem=problem)",
        "        return chosen['response'], self.llm.cost_manager.total_cost",
      ].join('\n'),
    ),
    prompts: {
      PLAIN_ANGLE: 'Implement the requested Python function in the most direct way that meets the description.',
      EDGE_CASE_ANGLE:
        'List the unusual inputs this task allows (empty collections, zero, negative numbers, duplicates) and write a Python function that handles every one of them.',
      STEPWISE_ANGLE:
        'Break the task into small steps, solve each step in order, and combine them into one Python function with the required name.',
    },
  },
  {
    id: 'review-revise-loop',
    rationale: 'a reviewer that can send the draft back for at most two revisions fixes logic errors without running code',
    modification: 'After generating, loop up to two times: review the solution and, only when the review rejects it, revise it using the feedback.',
    graph: graph(
      '',
      [GENERATE, REVIEW, REVISE],
      [
        '        attempt = await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.FIRST_DRAFT)',
        "        solution = attempt['response']",
        '        for _ in range(2):',
        '            verdict = await self.review(problem=problem, solution=solution)',
        "            if verdict['review_result']:",
        '                break',
        "            revised = await self.revise(problem=problem, solution=solution, feedback=verdict['feedback'])",
        "            solution = revised['solution']",
        '        return solution, self.llm.cost_manager.total_cost',
      ].join('\n'),
    ),
    prompts: {
      FIRST_DRAFT:
        'Produce a correct Python solution for the task. Prefer clear control flow over clever tricks so that a reviewer can check it line by line.',
    },
  },
  {
    id: 'ensemble-then-test',
    rationale: 'voting among three drafts and then testing the winner combines agreement with execution feedback',
    modification: 'Sample three solutions concurrently, select one with ScEnsemble, then run the Test operator on the selection.',
    graph: graph(
      'import asyncio',
      [GENERATE, ENSEMBLE, TEST],
      [
        '        attempts = await asyncio.gather(',
        '            *[self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.INDEPENDENT_TRY) for _ in range(3)]',
        '        )',
        "        chosen = await self.sc_ensemble(solutions=[a['response'] for a in attempts], problem=problem)",
        "        checked = await self.test(problem=problem, solution=chosen['response'], entry_point=entry_point)",
        "        return checked['solution'], self.llm.cost_manager.total_cost",
      ].join('\n'),
    ),
    prompts: {
      INDEPENDENT_TRY:
        'Solve the task from scratch in Python without assuming any earlier attempt exists. Return only the finished function and the imports it needs.',
    },
  },
  {
    id: 'plan-then-code',
    rationale: 'writing a short plan first and coding against it keeps the implementation aligned with every stated requirement',
    modification: 'Ask Custom for a numbered plan first, then generate code that follows it, falling back to the bare problem if the plan-guided attempt is empty.',
    graph: graph(
      '',
      [CUSTOM, GENERATE],
      [
        '        plan = await self.custom(input=problem, instruction=prompt_custom.OUTLINE_STEPS)',
        "        guided = problem + '\\n\\nPlan to follow:\\n' + plan['response']",
        '        attempt = await self.custom_code_generate(problem=guided, entry_point=entry_point, instruction=prompt_custom.CODE_FROM_OUTLINE)',
        "        if not attempt['response'].strip():",
        '            attempt = await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.CODE_FROM_OUTLINE)',
        "        return attempt['response'], self.llm.cost_manager.total_cost",
      ].join('\n'),
    ),
    prompts: {
      OUTLINE_STEPS:
        'Do not write code yet. Describe, as a short numbered list, the steps a correct solution must take, including how it treats unusual inputs.',
      CODE_FROM_OUTLINE: 'Turn the plan that follows the task into a complete Python function. Follow the plan step by step.',
    },
  },
];

/** The `<prompt>` body: one triple-quoted constant per prompt, as a Python module. */
export function promptModule(prompts: Readonly<Record<string, string>>): string {
  return Object.entries(prompts)
    .map(([name, text]) => `${name} = """${text}"""`)
    .join('\n\n');
}

/**
 * What a graph does, as a comparable string: the operators `__call__` invokes, plus fan-out. Two graphs
 * with equal signatures are the same design for the purpose of "propose something different".
 */
export function graphSignature(graphText: string): string {
  const calls = new Set<string>();
  for (const m of graphText.matchAll(/self\.(\w+)\(/g)) if (m[1] !== undefined) calls.add(m[1]);
  if (/asyncio\.gather\(/.test(graphText)) calls.add('*gather');
  return [...calls].sort().join(',');
}

/**
 * The parent workflow shown in a meta-prompt: from `class Workflow` to the first line back at column 0.
 * Cutting at indentation works whatever tags or fences the prompt wraps the graph in.
 */
export function findParentGraph(text: string): string | undefined {
  const start = text.indexOf('class Workflow');
  if (start < 0) return undefined;
  const lines = text.slice(start).split('\n');
  let end = 1;
  while (end < lines.length) {
    const line = lines[end] ?? '';
    if (line.trim() !== '' && !/^\s/.test(line)) break;
    end++;
  }
  return lines.slice(0, end).join('\n');
}

/** The three parts of a meta-agent answer, before they are wrapped in tags. */
export interface WorkflowParts {
  modification: string;
  graph: string;
  /** The prompt module's source (see promptModule). */
  prompt: string;
}

/** The answer format the meta-prompt asks for: every part inside its own closed tag (flowreasoner.md §3). */
export function workflowReply(parts: WorkflowParts): string {
  return [
    `<modification>\n${parts.modification}\n</modification>`,
    `<graph>\n${parts.graph.trimEnd()}\n</graph>`,
    `<prompt>\n${parts.prompt}\n</prompt>`,
  ].join('\n\n');
}
