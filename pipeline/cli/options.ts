// Option parsers shared by the command modules; kept free of engine imports so that `<command> --help` loads nothing heavy.

/** Collects repeated values of an option (--set, --role, --ids). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
