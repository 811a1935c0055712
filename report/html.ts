// HTML built only through a tagged template that escapes every interpolated value: run data is model-written and hostile.

/** A fragment of markup that is already safe: made by `html`, by `escapeHtml`, or vouched for by `trusted`. */
export class Html {
  readonly text: string;
  private constructor(text: string) {
    this.text = text;
  }
  /** Only for markup this report generated itself (vega's SVG, our own diagrams); never for run data. */
  static trusted(text: string): Html {
    return new Html(text);
  }
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as it may appear in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

export type Interpolated = Html | string | number | boolean | null | undefined | readonly Interpolated[];

function render(v: Interpolated): string {
  if (v instanceof Html) return v.text;
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return (v as readonly Interpolated[]).map(render).join('');
  return escapeHtml(String(v));
}

/** `html\`<p>${text}</p>\``: strings and numbers are escaped, Html fragments and arrays of them are inserted as they are. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return Html.trusted(out);
}

/** Element ids from free text (section and chart anchors): letters, digits and '-' only, at most 60 of them. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60).replace(/-+$/, '') || 'x';
}
