// Reasoning normalisation: reasoning_content, reasoning and <think> tags all land in one field; nothing is lost.
import { describe, expect, it } from 'vitest';
import { normaliseReasoning } from '../pipeline/gateway/reasoning.ts';

describe('normaliseReasoning', () => {
  it('reads reasoning_content (DeepSeek, vLLM reasoning parsers)', () => {
    expect(normaliseReasoning({ content: 'answer', reasoning_content: 'because' })).toEqual({ content: 'answer', reasoning: 'because' });
  });
  it('reads reasoning (routers)', () => {
    expect(normaliseReasoning({ content: 'answer', reasoning: 'because' })).toEqual({ content: 'answer', reasoning: 'because' });
  });
  it('splits <think>…</think> out of the content', () => {
    expect(normaliseReasoning({ content: '<think>\nstep 1\n</think>\n\nanswer' })).toEqual({ content: 'answer', reasoning: 'step 1' });
  });
  it('handles a reply that only closes the think tag (template opened it)', () => {
    expect(normaliseReasoning({ content: 'step 1</think>answer' })).toEqual({ content: 'answer', reasoning: 'step 1' });
  });
  it('treats an unclosed <think> as all reasoning and no answer', () => {
    expect(normaliseReasoning({ content: '<think>never finished' })).toEqual({ content: '', reasoning: 'never finished' });
  });
  it('keeps every channel when several are present', () => {
    expect(normaliseReasoning({ content: '<think>b</think>c', reasoning_content: 'a' })).toEqual({ content: 'c', reasoning: 'a\n\nb' });
  });
  it('gives null reasoning when there is none', () => {
    expect(normaliseReasoning({ content: 'x' })).toEqual({ content: 'x', reasoning: null });
  });
});
