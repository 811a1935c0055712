// A reply cut off by length, empty, or with reasoning but no answer is an error to count and retry, never an answer.
import { PipelineError } from '../errors.ts';
import type { RawCompletion } from './types.ts';

export function assertUsableCompletion(raw: RawCompletion): void {
  for (const c of raw.choices) {
    if (c.finishReason === 'length') {
      throw new PipelineError('reply-truncated', `choice ${c.index} was cut off by the token limit (finish_reason=length)`, {
        retryable: true,
        hint: 'Raise sampling.maxTokens for this role if this keeps happening.',
      });
    }
    if (c.content.trim() === '') {
      throw new PipelineError('reply-empty', c.reasoning !== null ? `choice ${c.index} has reasoning but no content` : `choice ${c.index} is empty`, { retryable: true });
    }
  }
  if (raw.choices.length === 0) throw new PipelineError('reply-empty', 'reply has no choices', { retryable: true });
}
