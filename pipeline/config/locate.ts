// Finds where a key path was written: which file of the `extends` chain (or which --set), at which line and column.
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Pair, type YAMLMap } from 'yaml';

export interface LocatedFile {
  path: string;
  doc: Document.Parsed;
  counter: LineCounter;
}

/** A value set outside the files: `--set key=value` or FLOWREASONER_DATA_DIR, in the order they were applied. */
export interface LocatedOverride {
  path: ReadonlyArray<string | number>;
  label: string;
}

export interface Origin {
  file: string | null;
  source?: string;
  line?: number;
  col?: number;
}

interface Reach {
  /** How many leading segments of the path exist in the file. */
  depth: number;
  offset: number | undefined;
}

function commonPrefix(a: readonly PropertyKey[], b: readonly PropertyKey[]): number {
  let n = 0;
  while (n < a.length && n < b.length && String(a[n]) === String(b[n])) n++;
  return n;
}

export class Locator {
  // Key lookups in a YAML map are a linear scan; one index per map, built on first use, keeps many look-ups linear overall.
  private readonly index = new WeakMap<YAMLMap, Map<string, Pair>>();

  /**
   * @param files the extends chain, parents first (children override parents).
   * @param overrides applied after the files, in order (later ones win).
   */
  constructor(
    private readonly files: readonly LocatedFile[],
    private readonly overrides: readonly LocatedOverride[] = [],
  ) {}

  private pairs(map: YAMLMap): Map<string, Pair> {
    let m = this.index.get(map);
    if (m === undefined) {
      m = new Map();
      for (const pair of map.items) {
        const key = pair.key;
        if (isScalar(key) && !m.has(String(key.value))) m.set(String(key.value), pair);
      }
      this.index.set(map, m);
    }
    return m;
  }

  private reach(f: LocatedFile, path: readonly PropertyKey[]): Reach {
    let node: unknown = f.doc.contents;
    let offset: number | undefined;
    let depth = 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = this.pairs(node).get(String(seg));
        if (pair === undefined) break;
        // Point at the key, not the value: a block value starts on the next line.
        offset = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item: unknown = node.items[seg];
        if (item === undefined) break;
        offset = (item as { range?: [number, number, number] } | null)?.range?.[0];
        node = item;
      } else break;
      depth++;
    }
    return { depth, offset };
  }

  /** Where the value at `path` (or, for a key that is missing or unknown, its nearest existing parent) came from. */
  origin(path: readonly PropertyKey[]): Origin {
    let best: { file: LocatedFile; reach: Reach } | null = null;
    // Children first: on a tie the child's value is the one that survived the merge.
    for (let i = this.files.length - 1; i >= 0; i--) {
      const file = this.files[i] as LocatedFile;
      const reach = this.reach(file, path);
      if (best === null || reach.depth > best.reach.depth) best = { file, reach };
    }
    // An override owns the path when it set it or a parent of it (the last such wins); failing that, one that created a
    // parent deeper than any file reaches is to blame (the first to create the deepest one).
    let owner: LocatedOverride | undefined;
    let creator: LocatedOverride | undefined;
    let deepest = best?.reach.depth ?? 0;
    for (const o of this.overrides) {
      const c = commonPrefix(o.path, path);
      if (c === o.path.length) owner = o;
      else if (c > deepest) {
        creator = o;
        deepest = c;
      }
    }
    const override = owner ?? creator;
    if (override !== undefined) return { file: null, source: override.label };
    if (best === null) return { file: null };
    const { file, reach } = best;
    if (reach.depth === 0 || reach.offset === undefined) return { file: file.path };
    const pos = file.counter.linePos(reach.offset);
    return { file: file.path, line: pos.line, col: pos.col };
  }
}
