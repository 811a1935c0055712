// The error raised for a bad configuration: one line per problem, each naming file, key path, expectation and finding.
import { PipelineError } from '../errors.ts';

export interface ConfigProblem {
  file: string | null;
  /** Dotted key path, e.g. models.teacher.limits.concurrency ('' for the root). */
  key: string;
  line?: number;
  message: string;
}

export class ConfigError extends PipelineError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], code: 'config-invalid' | 'config-not-found' | 'env-missing' = 'config-invalid') {
    super(code, ConfigError.render(problems), {
      hint: code === 'env-missing' ? 'Export the variable, or give a default as ${VAR:-value}.' : 'Fix the keys above; configs/schema.json lists every key.',
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }

  static render(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => {
      const where = `${p.file ?? '<config>'}${p.line !== undefined ? `:${p.line}` : ''}`;
      return `  - ${where}: ${p.key === '' ? '(root)' : p.key}: ${p.message}`;
    });
    return `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
  }
}
