/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time by function and by file, and
 * inclusive time by function (each function counted once per sample, however deep it recurs).
 *
 * node --import tsx bench/profile/top.ts FILE.cpuprofile [--last-seconds N] [--top N] [--match TEXT]
 * `--last-seconds` keeps only the samples of the profile's last N seconds (e.g. the draws phase of
 * `npm run bench:api -- --draws-only`, after the server's setup); `--match` keeps samples whose stack has a frame
 * whose function or URL contains TEXT.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const file = process.argv[2];
if (!file) throw new Error('usage: top.ts FILE.cpuprofile [--last-seconds N] [--top N] [--match TEXT]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const lastSeconds = Number(arg('last-seconds') ?? 0);
const top = Number(arg('top') ?? 40);
const match = arg('match');

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parent.set(child, node.id);
}

const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'nm:')
    .replace(/^.*\/(src|bench)\//, '$1/');
const label = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'} ${f.url ? `${short(f.url)}:${f.lineNumber + 1}` : ''}`.trim();

function stackOf(id: number): ProfileNode[] {
  const stack: ProfileNode[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
  return stack;
}

let t = profile.startTime;
const times = profile.timeDeltas.map((d) => (t += d));
const from = lastSeconds > 0 ? profile.endTime - lastSeconds * 1e6 : -Infinity;
const self = new Map<string, number>();
const selfFile = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  if (times[i]! < from) continue;
  const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
  const node = byId.get(profile.samples[i]!)!;
  if (node.callFrame.functionName === '(idle)') {
    idle += dt;
    continue;
  }
  const stack = stackOf(node.id);
  if (match && !stack.some((n) => label(n.callFrame).includes(match))) continue;
  total += dt;
  const l = label(node.callFrame);
  self.set(l, (self.get(l) ?? 0) + dt);
  const f = short(node.callFrame.url) || `(${node.callFrame.functionName})`;
  selfFile.set(f, (selfFile.get(f) ?? 0) + dt);
  for (const seen of new Set(stack.map((n) => label(n.callFrame)))) {
    inclusive.set(seen, (inclusive.get(seen) ?? 0) + dt);
  }
}

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n== ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${v.toFixed(0).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`busy ${total.toFixed(0)} ms, idle ${idle.toFixed(0)} ms`);
print('self by function', self);
print('self by file', selfFile);
print('inclusive by function', inclusive);
