// Keeps API keys out of journals, logs and exports: every secret read is registered, and every record written is scrubbed.

const registered = new Set<string>();

/** Remember a secret value so that `scrub` removes it wherever it appears. Short values are ignored (too many false hits). */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 8) registered.add(value);
}

export function scrubText(text: string): string {
  let out = text;
  for (const s of registered) if (out.includes(s)) out = out.split(s).join('<redacted>');
  return out;
}

/** Scrub a JSON line before it is written. */
export function scrubJsonLine(line: string): string {
  return registered.size === 0 ? line : scrubText(line);
}

const SECRET_NAME = /(key|token|secret|passw|auth|credential|cookie)/i;

export function looksSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Removes user:password@ and credential-looking query parameters from a URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') {
      u.username = '';
      u.password = '';
    }
    for (const k of [...u.searchParams.keys()]) if (looksSecretName(k)) u.searchParams.set(k, 'redacted');
    return u.toString();
  } catch {
    return url;
  }
}
