/** A line diff (longest common subsequence) of two texts, for comparing strategy versions side by side. */
export type DiffLine = { kind: 'same' | 'removed' | 'added'; text: string };

const LINES_MAX = 4_000;

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n').slice(0, LINES_MAX);
  const b = after.split('\n').slice(0, LINES_MAX);
  const table: number[][] = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = table[i] as number[];
      row[j] =
        a[i] === b[j] ? (table[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(table[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] ?? '' });
      i++;
      j++;
    } else if ((table[i + 1]?.[j] ?? 0) >= (table[i]?.[j + 1] ?? 0))
      out.push({ kind: 'removed', text: a[i++] ?? '' });
    else out.push({ kind: 'added', text: b[j++] ?? '' });
  }
  while (i < a.length) out.push({ kind: 'removed', text: a[i++] ?? '' });
  while (j < b.length) out.push({ kind: 'added', text: b[j++] ?? '' });
  return out;
}
