import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

type Version = readonly [number, number, number];

function parseVersion(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text.split('.').map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** Whether a version satisfies an `engines.node` range, in the forms lock files hold (>=, ^, majors, x, ||, spaces). */
function satisfies(version: Version, range: string): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/>=\s+/g, '>=')
      .split(/\s+/)
      .every((comparator) => satisfiesComparator(version, comparator)),
  );
}

function satisfiesComparator(version: Version, comparator: string): boolean {
  const spec = comparator.replace(/\.[x*]$/, '');
  if (spec === '*' || spec === '') return true;
  if (spec.startsWith('>=')) return compare(version, parseVersion(spec.slice(2))) >= 0;
  if (spec.startsWith('^')) {
    const floor = parseVersion(spec.slice(1));
    return version[0] === floor[0] && compare(version, floor) >= 0;
  }
  if (/^\d+$/.test(spec)) return version[0] === Number.parseInt(spec, 10);
  if (/^\d+\.\d+$/.test(spec))
    return version[0] === parseVersion(spec)[0] && version[1] === parseVersion(spec)[1];
  throw new Error(`unhandled engines range form: ${comparator}`);
}

/**
 * `npm install` on the Node version the README promises must not warn EBADENGINE (cookie@2 needs Node 22; it came
 * in through fastify → light-my-request until package.json pinned it with an override).
 */
describe('install on the promised Node version', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const floor = parseVersion(manifest.engines.node.replace(/^>=\s*/, ''));

  it('promises Node 20.19 or later', () => {
    expect(floor).toEqual([20, 19, 0]);
  });

  it('locks no package whose engines exclude that Node version', () => {
    const excluded = Object.entries(lock.packages)
      .filter(([path, entry]) => {
        const range = !entry.engines || Array.isArray(entry.engines) ? undefined : entry.engines.node;
        return path !== '' && range !== undefined && !satisfies(floor, range);
      })
      .map(([path, entry]) => `${path}@${entry.version}`);
    expect(excluded).toEqual([]);
  });
});
