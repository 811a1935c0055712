// What run.json says about the policy's tokenizer: its revision and the sha256 of its chat template, read from the
// tokenizer files the config names, or null when the config names none (never a hash of something else).
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';

export interface TokenizerIdentity {
  tokenizer_revision: string | null;
  chat_template_sha256: string | null;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * The template transformers would apply by default: `chat_template.jinja` beside the config when present (newer
 * transformers save it there and prefer it), else `chat_template` in tokenizer_config.json: a string, or a list of
 * named templates of which "default" is the one used without a name.
 */
function templateOf(configText: string | null, jinja: string | null, where: string): string | null {
  if (jinja !== null) return jinja;
  if (configText === null) return null;
  let cfg: unknown;
  try {
    cfg = JSON.parse(configText);
  } catch (e) {
    throw new PipelineError('config-invalid', `${where}: tokenizer_config.json is not JSON (${(e as Error).message})`);
  }
  const t = (cfg as { chat_template?: unknown }).chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const def = t.find((x): x is { name: string; template: string } => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === 'default');
    return typeof def?.template === 'string' ? def.template : null;
  }
  return null;
}

/** The commit of a Hugging Face cache snapshot (`…/snapshots/<40 hex>/…`), the revision such files came from. */
export function snapshotRevision(p: string): string | null {
  const m = /(?:^|[\\/])snapshots[\\/]([0-9a-f]{40})(?:[\\/]|$)/.exec(p);
  return m?.[1] ?? null;
}

/**
 * `tokenizer` is a tokenizer directory or its tokenizer_config.json; `revision`, when given, wins over one read from
 * a cache path. A named tokenizer that cannot be read is a config error, not a silent null.
 */
export async function tokenizerIdentity(tokenizer: string | undefined, revision: string | undefined): Promise<TokenizerIdentity> {
  if (tokenizer === undefined) return { tokenizer_revision: revision ?? null, chat_template_sha256: null };
  const abs = path.resolve(tokenizer);
  let dir = abs;
  try {
    if (!(await stat(abs)).isDirectory()) dir = path.dirname(abs);
  } catch {
    throw new PipelineError('config-invalid', `grpo.tokenizer: not found: ${tokenizer}`, { hint: 'Name the policy tokenizer directory (with tokenizer_config.json), or leave grpo.tokenizer out.' });
  }
  const configText = await readIfExists(path.join(dir, 'tokenizer_config.json'));
  const jinja = await readIfExists(path.join(dir, 'chat_template.jinja'));
  if (configText === null && jinja === null) {
    throw new PipelineError('config-invalid', `grpo.tokenizer: ${tokenizer} has neither tokenizer_config.json nor chat_template.jinja`);
  }
  const template = templateOf(configText, jinja, tokenizer);
  return { tokenizer_revision: revision ?? snapshotRevision(abs), chat_template_sha256: template === null ? null : sha256(template) };
}
