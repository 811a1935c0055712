// Schema of one model endpoint (a role such as teacher, worker, policy): where it is, how to call it, its limits and prices.
import { z } from 'zod';

export const SamplingSchema = z
  .strictObject({
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    maxTokens: z.int().positive().optional().describe('Completion token cap sent as max_tokens.'),
    stop: z.array(z.string()).max(8).optional(),
    presencePenalty: z.number().min(-2).max(2).optional(),
    frequencyPenalty: z.number().min(-2).max(2).optional(),
    extraBody: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Provider-specific request fields passed through verbatim (e.g. vLLM top_k, repetition_penalty).'),
  })
  .describe('Sampling defaults; a call may override any of them.');

export const BackoffSchema = z.strictObject({
  initialMs: z.int().nonnegative().default(500),
  maxMs: z.int().positive().default(60_000),
  multiplier: z.number().min(1).default(2),
  jitter: z.number().min(0).max(1).default(0.25).describe('Fraction of each delay that is randomised.'),
});

export const HealthCheckSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Probe replicas that were taken out and bring them back as soon as they answer; false: they sit out failoverCooldownS.'),
    path: z
      .string()
      .regex(/^\//, 'must start with /')
      .default('/models')
      .describe('GET <baseUrl><path>; any answer below 500 counts as alive (vLLM, SGLang and the simulator serve /models).'),
    downIntervalS: z.number().positive().default(1).describe('Probe period of a replica that is out.'),
    intervalS: z
      .number()
      .nonnegative()
      .default(30)
      .describe('Probe period of a replica that is in, so a dead or hung one is taken out before calls wait on it (only with several base URLs); 0 = off.'),
    timeoutS: z.number().positive().default(5).describe('A probe with no answer in this time failed.'),
    unhealthyAfter: z
      .int()
      .positive()
      .default(3)
      .describe('Consecutive 5xx answers or timeouts (calls or probes) that take a replica out; a refused or dropped connection takes it out at once.'),
  })
  .describe('Health of the replicas behind a list of base URLs.');

export const LimitsSchema = z.strictObject({
  concurrency: z.int().positive().default(8).describe('Max requests in flight for this role (all base URLs together).'),
  requestsPerMinute: z.int().positive().optional(),
  tokensPerMinute: z.int().positive().optional().describe('Prompt + completion tokens per minute.'),
  timeoutS: z.number().positive().default(600).describe('Wall clock for one attempt, body included.'),
  maxRetries: z.int().nonnegative().default(6).describe('Retries of transient failures: 429, 5xx, timeouts, connection errors.'),
  maxReplyRetries: z
    .int()
    .nonnegative()
    .default(2)
    .describe('Retries of replies cut off by finish_reason=length, empty replies and replies with no content.'),
  failoverCooldownS: z
    .number()
    .nonnegative()
    .default(5)
    .describe(
      'Without health checks: how long a base URL that failed is avoided. With them: the least time a replica taken out for 5xx answers or timeouts stays out. Doubles (up to 16x) while it keeps failing.',
    ),
  healthCheck: HealthCheckSchema.prefault({}),
  backoff: BackoffSchema.prefault({}),
});

export const PriceSchema = z
  .strictObject({
    inputPerMTok: z.number().nonnegative().default(0),
    outputPerMTok: z.number().nonnegative().default(0),
    cachedInputPerMTok: z.number().nonnegative().optional(),
  })
  .describe('USD per million tokens.');

export const CaptureSchema = z.strictObject({
  tokenIds: z.boolean().default(false).describe('Ask for token ids (vLLM return_token_ids).'),
  logprobs: z.boolean().default(false).describe('Ask for per-token logprobs of the completion.'),
  topLogprobs: z.int().min(0).max(20).default(0),
});

const baseUrlSchema = z.union([z.literal('sim'), z.url({ protocol: /^https?$/ })]);

export const EndpointSchema = z
  .strictObject({
    provider: z
      .enum(['openai', 'huggingface'])
      .default('openai')
      .describe('openai: any OpenAI-compatible server (OpenAI, DeepSeek, vLLM, SGLang, Ollama, llama.cpp). huggingface: HF Inference Providers / Endpoints.'),
    baseUrl: z
      .union([baseUrlSchema, z.array(baseUrlSchema).min(1)])
      .optional()
      .describe('One URL or several (balanced by least outstanding requests, with failover). "sim" = the built-in simulator.'),
    model: z.string().min(1),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe('Name of the environment variable holding the API key.'),
    hfProvider: z.string().optional().describe('Hugging Face inference provider (e.g. "auto", "together"); ignored with baseUrl.'),
    stream: z.boolean().default(false).describe('Stream replies (keeps long R1 generations alive through idle timeouts).'),
    sampling: SamplingSchema.prefault({}),
    limits: LimitsSchema.prefault({}),
    price: PriceSchema.prefault({}),
    capture: CaptureSchema.prefault({}),
    headers: z.record(z.string(), z.string()).optional().describe('Extra HTTP headers. Values may use ${ENV} interpolation; they are redacted in frozen configs.'),
  })
  .superRefine((ep, ctx) => {
    if (ep.provider === 'openai' && ep.baseUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'required for provider "openai" (e.g. http://127.0.0.1:8000/v1 for vLLM, or "sim")' });
    }
  });

export type Endpoint = z.infer<typeof EndpointSchema>;
export type Sampling = z.infer<typeof SamplingSchema>;
export type Limits = z.infer<typeof LimitsSchema>;
export type HealthCheck = z.infer<typeof HealthCheckSchema>;
export type Price = z.infer<typeof PriceSchema>;

/** Base URLs of an endpoint as a list. */
export function baseUrlsOf(ep: Endpoint): string[] {
  if (ep.baseUrl === undefined) return [];
  return Array.isArray(ep.baseUrl) ? ep.baseUrl : [ep.baseUrl];
}
