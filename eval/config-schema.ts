// The `eval` section of a config: which held-out tasks, which methods (direct, hand-written workflows, meta-agent
// endpoints), how many samples, and the statistics settings.
import { z } from 'zod';
import { RunLimitsSchema } from '../pipeline/workflow/runtime/run-types.ts';

export const EvalDatasetSchema = z.strictObject({
  name: z.string().min(1).describe('humaneval, mbpp (with split: test, as the paper), humaneval-plus, mbpp-plus, bigcodebench, bigcodebench-hard, or custom:FILE.'),
  split: z.string().optional().describe('MBPP family: the official split.'),
  version: z.string().optional().describe('BigCodeBench: 0.1.4 (default) or 0.1.0.'),
  label: z.string().min(1).optional().describe('Column heading in the table (default: the paper\'s name for the benchmark).'),
  maxTasks: z.int().positive().optional().describe('At most this many tasks of this dataset (after partitioning, in a seeded order).'),
  taskIds: z.array(z.string().min(1)).min(1).optional().describe('Exactly these task ids; each must be in the evaluated partition.'),
});
export type EvalDataset = z.infer<typeof EvalDatasetSchema>;

const MethodName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'letters, digits and . _ + - (it names a table column and a journal key)')
  .refine((s) => s !== 'overall', 'overall is the name of the pooled column');

export const DirectMethodSchema = z.strictObject({
  name: MethodName,
  kind: z.literal('direct').describe('One worker call per sample: the task and an instruction to answer with the code.'),
});

export const WorkflowMethodSchema = z.strictObject({
  name: MethodName,
  kind: z.literal('workflow').describe('A hand-written workflow, the same for every task.'),
  file: z.string().min(1).describe('A workflow file in the meta-agent reply format (<modification>, <graph>, <prompt>), relative to the config file or the working directory.'),
});

export const MetaAgentMethodSchema = z.strictObject({
  name: MethodName,
  kind: z.literal('meta-agent').describe('An OpenAI-compatible endpoint writes a workflow per task, refined on the public tests.'),
  role: z.string().min(1).describe('The models.<role> endpoint of the meta-agent (e.g. a base model, an SFT and a GRPO checkpoint as three roles).'),
  rounds: z.int().min(1).max(20).default(3).describe('Workflows written per task at most (R): round 1, then a revision after each public-test report.'),
  publicRuns: z.int().min(1).max(10).default(1).describe('Executions of each round\'s workflow on the public tests (its score is their mean pass rate).'),
  replyRetries: z.int().min(0).max(10).default(2).describe('Extra attempts within a round when a reply is malformed or its call fails.'),
  stopWhenPerfect: z.boolean().default(true).describe('Stop refining once a workflow passes every public test.'),
});

export const EvalMethodSchema = z.discriminatedUnion('kind', [DirectMethodSchema, WorkflowMethodSchema, MetaAgentMethodSchema]);
export type EvalMethod = z.infer<typeof EvalMethodSchema>;
export type MetaAgentMethod = z.infer<typeof MetaAgentMethodSchema>;

export const EvalSchema = z
  .strictObject({
    datasets: z.array(EvalDatasetSchema).min(1).default([{ name: 'humaneval' }, { name: 'mbpp', split: 'test' }]),
    partition: z
      .enum(['test', 'validation'])
      .default('test')
      .describe('Which part of data.partition is evaluated: held-out tasks only (distill and grpo take train). Never train.'),
    methods: z.array(EvalMethodSchema).min(1).default([{ name: 'direct', kind: 'direct' }]),
    samples: z.int().min(1).max(200).default(1).describe('Samples per task and method (n); pass@k for k > 1 needs n >= k.'),
    passAtK: z.array(z.int().positive()).default([1]).describe('The k of pass@k (unbiased estimator), each reported when every task has n >= k samples.'),
    alpha: z.number().gt(0).lt(1).default(0.05).describe('Significance level of the paired tests.'),
    confidence: z.number().gt(0).lt(1).default(0.95).describe('Level of the pass@1 intervals.'),
    bootstrapIterations: z.int().min(100).max(1_000_000).default(10_000),
    concurrency: z.int().min(1).max(256).default(8).describe('Samples in flight at once (the gateway limits still apply).'),
    trainedOn: z
      .array(z.string().min(1))
      .default([])
      .describe('Run directories the meta-agents were trained from (distill, grpo): checked to share data.partition and never to have touched an evaluated task.'),
    workerRole: z.string().default('worker'),
    runLimits: RunLimitsSchema.prefault({}),
  })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.methods.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: 'custom', path: ['methods', i, 'name'], message: `method name "${m.name}" is used twice; each names one table column` });
      seen.add(m.name);
    });
    const names = new Set<string>();
    v.datasets.forEach((d, i) => {
      const key = datasetKey(d);
      if (names.has(key)) ctx.addIssue({ code: 'custom', path: ['datasets', i], message: `dataset ${key} is listed twice` });
      names.add(key);
    });
  });
export type EvalConfig = z.infer<typeof EvalSchema>;

/** The dataset's name in journals and tables: `mbpp` plus its split when one is given (`mbpp[test]`). */
export function datasetKey(d: Pick<EvalDataset, 'name' | 'split' | 'version'>): string {
  const parts = [d.split, d.version].filter((x): x is string => x !== undefined);
  return parts.length === 0 ? d.name : `${d.name}[${parts.join(',')}]`;
}
