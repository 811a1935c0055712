// The experience of a parent round: what its earlier children changed and how that scored (flowreasoner.md §2-§3).

export interface ExperienceEntry {
  parent: number;
  child: number;
  modification: string;
  before: number;
  after: number;
  /** Strictly better than the parent. */
  succeeded: boolean;
}

export function childrenOf(entries: readonly ExperienceEntry[], parent: number): ExperienceEntry[] {
  return entries.filter((e) => e.parent === parent);
}

/** True when `modification` repeats one already tried on this parent (compared loosely: case and spacing ignored). */
export function isRepeated(entries: readonly ExperienceEntry[], parent: number, modification: string): boolean {
  const norm = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim();
  const m = norm(modification);
  return childrenOf(entries, parent).some((e) => norm(e.modification) === m);
}

/** The experience text the teacher reads. Unlike AFlow, successful changes carry their score too. */
export function renderExperience(entries: readonly ExperienceEntry[], parent: number, parentScore: number): string {
  const kids = childrenOf(entries, parent);
  if (kids.length === 0) return `This workflow scored ${parentScore.toFixed(2)}. No changes to it have been tried yet.`;
  const lines = kids.map((k) => `- "${k.modification}" → ${k.after.toFixed(2)} (${k.succeeded ? 'better' : k.after === k.before ? 'no change' : 'worse'})`);
  return [
    `This workflow scored ${parentScore.toFixed(2)}. These changes to it were already tried; do not repeat any of them:`,
    ...lines,
    'Try a change of a different kind.',
  ].join('\n');
}
