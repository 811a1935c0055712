// Normalises the three ways servers return reasoning (reasoning_content, reasoning, <think> in content) into one field.

export interface Normalised {
  content: string;
  reasoning: string | null;
}

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';

/**
 * @param message the raw assistant message (or accumulated stream deltas).
 * Nothing is dropped: reasoning from several channels is joined in order.
 */
export function normaliseReasoning(message: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown }): Normalised {
  const parts: string[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') parts.push(message.reasoning_content);
  if (typeof message.reasoning === 'string' && message.reasoning !== '' && message.reasoning !== message.reasoning_content) parts.push(message.reasoning);
  let content = typeof message.content === 'string' ? message.content : '';
  const lead = content.trimStart();
  if (lead.startsWith(THINK_OPEN)) {
    const body = lead.slice(THINK_OPEN.length);
    const close = body.indexOf(THINK_CLOSE);
    if (close === -1) {
      // Cut off inside the thinking: all of it is reasoning, nothing is an answer.
      parts.push(body.trim());
      content = '';
    } else {
      parts.push(body.slice(0, close).trim());
      content = body.slice(close + THINK_CLOSE.length).trimStart();
    }
  } else if (content.includes(THINK_CLOSE) && !content.includes(THINK_OPEN)) {
    // R1-style templates put <think> in the prompt, so the reply starts mid-thought and only closes the tag.
    const close = content.indexOf(THINK_CLOSE);
    parts.push(content.slice(0, close).trim());
    content = content.slice(close + THINK_CLOSE.length).trimStart();
  }
  const reasoning = parts.filter((p) => p !== '').join('\n\n');
  return { content, reasoning: reasoning === '' ? null : reasoning };
}
