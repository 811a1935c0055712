// The last line of defence of a page built from hostile text: finds markup that could run script or fetch anything.

/** Elements that run script, embed or fetch content, or change where links and forms go. */
const FORBIDDEN_ELEMENTS = new Set(['script', 'iframe', 'frame', 'object', 'embed', 'img', 'image', 'picture', 'source', 'video', 'audio', 'link', 'base', 'form', 'input', 'button', 'foreignobject', 'use', 'animate', 'set', 'portal']);

const TAG = /<([a-zA-Z][\w:-]*)((?:\s+[^\s=>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*\/?>/g;
const ATTR = /\s+([^\s=>/"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?/g;

const unquote = (v: string | undefined): string => (v === undefined ? '' : v.replace(/^["']|["']$/g, ''));

/**
 * Problems in `markup`: a forbidden element, an event-handler attribute, a link that is not to an anchor of the page,
 * a `src`, or a CSS url() to anything but an anchor. Text content cannot trip it: `<` in text is always escaped, so
 * every `<name` here is a real tag; attribute values are read whole, so escaped text inside them is not mistaken for
 * an attribute. The contents of <style> are ours and are skipped.
 */
export function unsafeMarkup(markup: string): string[] {
  const problems: string[] = [];
  const scan = markup.replace(/<style>[\s\S]*?<\/style>/g, '<style></style>');
  for (const m of scan.matchAll(TAG)) {
    const name = (m[1] ?? '').toLowerCase();
    if (FORBIDDEN_ELEMENTS.has(name)) problems.push(`<${name}> element`);
    if (name === 'meta' && /http-equiv\s*=\s*["']?refresh/i.test(m[2] ?? '')) problems.push('<meta http-equiv=refresh>');
    for (const a of (m[2] ?? '').matchAll(ATTR)) {
      const attr = (a[1] ?? '').toLowerCase();
      const value = unquote(a[2]);
      if (attr.startsWith('on')) problems.push(`${attr}= on <${name}>`);
      else if (attr === 'src' || attr === 'srcset' || attr === 'action' || attr === 'formaction') problems.push(`${attr}= on <${name}>`);
      else if ((attr === 'href' || attr === 'xlink:href') && !value.startsWith('#')) problems.push(`${attr}="${value.slice(0, 40)}" on <${name}>`);
      else if (/url\(\s*["']?(?!#)/i.test(value)) problems.push(`url() to outside the page in ${attr}= on <${name}>`);
    }
  }
  return problems;
}
