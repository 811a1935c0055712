// The error raised for a bad configuration: one line per problem, each naming where (file:line:col or --set), key path, expectation and finding.
import { PipelineError } from '../errors.ts';

export interface ConfigProblem {
  /** The config file the value came from; null when it came from the command line, the environment or the defaults. */
  file: string | null;
  /** Where the value came from when not a file, e.g. `--set grpo.groupSize=1`. */
  source?: string;
  /** Dotted key path, e.g. models.teacher.limits.concurrency ('' for the root). */
  key: string;
  line?: number;
  col?: number;
  message: string;
}

export type ConfigErrorCode = 'config-invalid' | 'config-not-found' | 'env-missing';

/** A config with thousands of mistakes is one mistake repeated: list a screenful, count the rest. */
export const MAX_LISTED_PROBLEMS = 20;

const HINTS: Record<ConfigErrorCode, string> = {
  'config-invalid': 'Fix the keys above; configs/schema.json lists every key.',
  'config-not-found': '--config is relative to the current directory, `extends:` to the file that names it.',
  'env-missing': 'Export the variable, or give a default as ${VAR:-value}.',
};

/** Keeps a message readable when a key or value is megabytes long. */
function clip(s: string, max = 120): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

export function whereOf(p: Pick<ConfigProblem, 'file' | 'source' | 'line' | 'col'>): string {
  if (p.source !== undefined) return p.source;
  const line = p.line !== undefined ? `:${p.line}${p.col !== undefined ? `:${p.col}` : ''}` : '';
  return `${p.file ?? '<config>'}${line}`;
}

export class ConfigError extends PipelineError {
  /** The listed problems: at most MAX_LISTED_PROBLEMS. */
  readonly problems: ConfigProblem[];
  /** Every problem found, listed or not. */
  readonly total: number;

  constructor(problems: ConfigProblem[], code: ConfigErrorCode = 'config-invalid', total = problems.length) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    const all = Math.max(total, problems.length);
    super(code, ConfigError.render(listed, all, code), { hint: HINTS[code] });
    this.name = 'ConfigError';
    this.problems = listed;
    this.total = all;
  }

  static render(problems: ConfigProblem[], total = problems.length, code: ConfigErrorCode = 'config-invalid'): string {
    // A missing file has no keys to blame: the message is the path itself.
    if (code === 'config-not-found') return problems.map((p) => p.message).join('\n');
    const lines = problems.map((p) => `  - ${clip(whereOf(p), 400)}: ${p.key === '' ? '(root)' : clip(p.key)}: ${clip(p.message, 400)}`);
    if (total > problems.length) lines.push(`  - ... and ${total - problems.length} more`);
    return `Invalid configuration (${total} problem${total === 1 ? '' : 's'}):\n${lines.join('\n')}`;
  }
}
