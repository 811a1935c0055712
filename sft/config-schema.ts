// The `sft` section of a config: which distilled traces become SFT samples, how they are shaped, split and length-filtered.
import { z } from 'zod';

export const ReasoningFormatSchema = z
  .enum(['think-tags', 'none', 'separate-field'])
  .describe(
    'Where the teacher reasoning goes: think-tags = <think>…</think> before the workflow in the assistant text (R1-distill style); none = dropped; separate-field = a reasoning_content field beside the content (read by chat templates such as Qwen3\'s; LLaMA-Factory ignores it).',
  );

export const SftSchema = z.strictObject({
  minHiddenScore: z.number().min(0).max(1).default(1).describe('Keep a query when its best workflow reaches this mean pass rate on the hidden tests.'),
  keepImproved: z.boolean().default(false).describe('Also keep queries below minHiddenScore whose best public score beat the seed round.'),
  dedupeWorkflows: z.boolean().default(true).describe('Keep one query per identical final workflow (graph and prompt module), the first by query id.'),
  maxTokens: z.int().positive().default(16384).describe('Drop samples longer than this (all messages together, chat-template tokens not counted).'),
  tokenizer: z.string().optional().describe('tokenizer.json of the student model, read locally, for real token counts; without it tokens are estimated as ceil(chars / charsPerToken).'),
  charsPerToken: z.number().positive().default(3.5).describe('The estimate used when no tokenizer is given (3.5 is a typical BPE average on English prose mixed with Python).'),
  validationFraction: z.number().min(0).max(1).default(0.05).describe('Share of queries in the validation split, by a seeded hash of the query id.'),
  splitSeed: z.int().default(0).describe('Seed of the train/validation hash; the same seed gives the same split on every export.'),
  reasoningFormat: ReasoningFormatSchema.default('think-tags'),
  rlQueries: z
    .enum(['all', 'kept'])
    .default('all')
    .describe('Queries in the RL prompt set: all = every distinct distilled query (RL needs no demonstration); kept = only those that became SFT samples.'),
});

export type SftConfig = z.infer<typeof SftSchema>;
export type ReasoningFormat = z.infer<typeof ReasoningFormatSchema>;
