/**
 * Structural validation of a model file read from disk or the registry: a model that fails here is rejected with
 * LG_MODEL_INVALID before it can score anyone (fail closed).
 */
import { LgError } from '../domain/index.js';
import { isKnownReason } from '../domain/index.js';
import type { Bin, FeatureBinning } from './binning.js';
import { MODEL_FORMAT, type GbdtEncoder, type ModelFile, type TreeNode } from './model-file.js';

type Obj = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new LgError('LG_MODEL_INVALID', `model file: ${path} ${what}`, { path });
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, 'must be an object');
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v;
}

function num(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'must be a finite number');
  return v;
}

function int(v: unknown, path: string): number {
  const n = num(v, path);
  if (!Number.isInteger(n)) fail(path, 'must be an integer');
  return n;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') fail(path, 'must be a non-empty string');
  return v;
}

function checkBin(v: unknown, path: string): void {
  const b = obj(v, path);
  str(b.label, `${path}.label`);
  for (const k of ['count', 'goods', 'bads', 'badRate', 'woe', 'iv'] as const) num(b[k], `${path}.${k}`);
}

function checkBinning(v: unknown, path: string, type: string): FeatureBinning {
  const b = obj(v, path);
  if (b.type !== type) fail(`${path}.type`, `must be "${type}"`);
  const bins = arr(b.bins, `${path}.bins`);
  if (bins.length === 0) fail(`${path}.bins`, 'must not be empty');
  bins.forEach((x, k) => checkBin(x, `${path}.bins[${k}]`));
  checkBin(b.missing, `${path}.missing`);
  checkBin(b.unseen, `${path}.unseen`);
  if (type === 'numeric') {
    const cuts = arr(b.cuts, `${path}.cuts`).map((c, k) => num(c, `${path}.cuts[${k}]`));
    if (cuts.length !== bins.length - 1) fail(`${path}.cuts`, 'must have one fewer entry than bins');
    cuts.forEach((c, k) => {
      if (k > 0 && !(c > cuts[k - 1]!)) fail(`${path}.cuts`, 'must be strictly increasing');
    });
  } else {
    const groups = arr(b.groups, `${path}.groups`);
    if (groups.length !== bins.length) fail(`${path}.groups`, 'must have one entry per bin');
    groups.forEach((g, k) =>
      arr(g, `${path}.groups[${k}]`).forEach((l, m) => str(l, `${path}.groups[${k}][${m}]`)),
    );
  }
  return b as unknown as FeatureBinning & { bins: Bin[] };
}

/**
 * An encoder whose bins mean what scoring reads them as; returns its missing bin. Bins are bytes (a level's bin of 300
 * would wrap to 44), a numeric value's bin is its interval among sorted cuts (0 … cuts), and the bin after those is
 * missing: any other missing bin would file real values as missing or missing values as real.
 */
function checkEncoder(v: unknown, path: string, type: string): number {
  const e = obj(v, path);
  if (e.type !== type) fail(`${path}.type`, `must be "${type}"`);
  const missing = int(e.missing, `${path}.missing`);
  if (missing < 1 || missing > 255) fail(`${path}.missing`, 'must be between 1 and 255');
  if (type === 'numeric') {
    const cuts = arr(e.cuts, `${path}.cuts`).map((c, k) => num(c, `${path}.cuts[${k}]`));
    cuts.forEach((c, k) => {
      if (k > 0 && !(c > cuts[k - 1]!)) fail(`${path}.cuts`, 'must be strictly increasing');
    });
    if (missing !== cuts.length + 1) fail(`${path}.missing`, 'must be the number of cuts + 1');
  } else {
    Object.entries(obj(e.levels, `${path}.levels`)).forEach(([k, b]) => {
      const bin = int(b, `${path}.levels.${k}`);
      if (bin < 0 || bin >= missing) fail(`${path}.levels.${k}`, `must be a bin from 0 to ${missing - 1}`);
    });
  }
  return missing;
}

/**
 * One tree, whose splits read bins of the encoders' ranges; returns its largest |node value| (for the margin bound).
 * `missingBins[f]` is feature f's missing bin.
 */
function checkTree(v: unknown, path: string, missingBins: readonly number[]): number {
  const nodes = arr(v, path);
  if (nodes.length === 0) fail(path, 'must have a root');
  let largest = 0;
  nodes.forEach((n, k) => {
    const node = obj(n, `${path}[${k}]`) as Partial<Record<keyof TreeNode, unknown>>;
    largest = Math.max(largest, Math.abs(num(node.value, `${path}[${k}].value`)));
    if (node.feature === undefined) return;
    const f = int(node.feature, `${path}[${k}].feature`);
    if (f < 0 || f >= missingBins.length) fail(`${path}[${k}].feature`, 'is out of range');
    const threshold = int(node.threshold, `${path}[${k}].threshold`);
    if (threshold < 0 || threshold >= missingBins[f]!)
      fail(`${path}[${k}].threshold`, `must be a bin from 0 to ${missingBins[f]! - 1}`);
    // Scoring reads missingLeft === true: a "yes" would quietly send missing values right.
    if (node.missingLeft !== undefined && typeof node.missingLeft !== 'boolean')
      fail(`${path}[${k}].missingLeft`, 'must be a boolean');
    // Children always come after their parent, so a walk from the root can never loop.
    for (const side of ['left', 'right'] as const) {
      const c = int(node[side], `${path}[${k}].${side}`);
      if (c <= k || c >= nodes.length) fail(`${path}[${k}].${side}`, 'must point to a later node');
    }
  });
  return largest;
}

function checkDirectionalCodes(v: unknown, path: string): void {
  const codes = obj(v, path);
  const levels = codes.levels === undefined ? {} : obj(codes.levels, `${path}.levels`);
  const entries: [string, unknown][] = [
    ...(codes.high !== undefined ? [['high', codes.high] as [string, unknown]] : []),
    ...(codes.low !== undefined ? [['low', codes.low] as [string, unknown]] : []),
    ...Object.entries(levels).map(([k, c]): [string, unknown] => [`levels.${k}`, c]),
  ];
  for (const [key, code] of entries) {
    if (!isKnownReason(str(code, `${path}.${key}`)))
      fail(`${path}.${key}`, `"${String(code)}" is not in the reason-code catalogue`);
  }
}

function checkCalibration(v: unknown): void {
  const c = obj(v, 'calibration');
  if (c.method === 'platt') {
    // A negative slope makes the PD fall as the risk rises; isotonic maps are held to non-decreasing likewise.
    if (num(c.a, 'calibration.a') < 0) fail('calibration.a', 'must be >= 0');
    num(c.b, 'calibration.b');
    return;
  }
  if (c.method !== 'isotonic') fail('calibration.method', 'must be "platt" or "isotonic"');
  const x = arr(c.x, 'calibration.x').map((e, k) => num(e, `calibration.x[${k}]`));
  const y = arr(c.y, 'calibration.y').map((e, k) => num(e, `calibration.y[${k}]`));
  if (x.length === 0 || x.length !== y.length)
    fail('calibration.x', 'must be non-empty and as long as calibration.y');
  x.forEach((e, k) => {
    if (k > 0 && !(e >= x[k - 1]!)) fail('calibration.x', 'must be non-decreasing');
  });
  y.forEach((e, k) => {
    if (!(e > 0 && e < 1)) fail(`calibration.y[${k}]`, 'must be a probability in (0, 1)');
    if (k > 0 && !(e >= y[k - 1]!)) fail('calibration.y', 'must be non-decreasing');
  });
}

export function parseModelFile(value: unknown): ModelFile {
  const m = obj(value, '(root)');
  if (m.format !== MODEL_FORMAT) fail('format', `must be "${MODEL_FORMAT}"`);
  if (m.formatVersion !== 1) fail('formatVersion', 'must be 1');
  str(m.id, 'id');
  const version = int(m.version, 'version');
  if (version < 1) fail('version', 'must be >= 1');
  if (m.kind !== 'scorecard' && m.kind !== 'gbdt') fail('kind', 'must be "scorecard" or "gbdt"');
  const scaling = obj(m.scaling, 'scaling');
  if (!(num(scaling.pdo, 'scaling.pdo') > 0)) fail('scaling.pdo', 'must be > 0');
  if (!(num(scaling.baseOdds, 'scaling.baseOdds') > 0)) fail('scaling.baseOdds', 'must be > 0');
  num(scaling.basePoints, 'scaling.basePoints');
  const features = arr(m.features, 'features');
  if (features.length === 0) fail('features', 'must not be empty');
  const names = new Map<string, number>();
  const types = features.map((f, j) => {
    const feature = obj(f, `features[${j}]`);
    // Scoring reads each feature by name: a second feature of one name would read the first one's value.
    const name = str(feature.name, `features[${j}].name`);
    if (names.has(name)) fail(`features[${j}].name`, `repeats features[${names.get(name)}].name "${name}"`);
    names.set(name, j);
    const type = feature.type;
    if (type !== 'numeric' && type !== 'categorical')
      fail(`features[${j}].type`, 'must be "numeric" or "categorical"');
    const code = str(feature.reasonCode, `features[${j}].reasonCode`);
    if (!isKnownReason(code))
      fail(`features[${j}].reasonCode`, `"${code}" is not in the reason-code catalogue`);
    if (feature.reasonCodes !== undefined)
      checkDirectionalCodes(feature.reasonCodes, `features[${j}].reasonCodes`);
    checkBinning(feature.binning, `features[${j}].binning`, type);
    return type;
  });
  if (m.calibration !== undefined) checkCalibration(m.calibration);
  if (m.kind === 'scorecard') {
    const sc = obj(m.scorecard, 'scorecard');
    num(sc.intercept, 'scorecard.intercept');
    int(sc.basePoints, 'scorecard.basePoints');
    const parts = arr(sc.features, 'scorecard.features');
    if (parts.length !== features.length) fail('scorecard.features', 'must have one entry per feature');
    parts.forEach((p, j) => {
      const part = obj(p, `scorecard.features[${j}]`);
      if (part.name !== (features[j] as Obj).name)
        fail(`scorecard.features[${j}].name`, 'must match features[j].name');
      num(part.coefficient, `scorecard.features[${j}].coefficient`);
      const points = arr(part.points, `scorecard.features[${j}].points`);
      const slots = arr(((features[j] as Obj).binning as Obj).bins, 'bins').length + 2;
      if (points.length !== slots)
        fail(`scorecard.features[${j}].points`, `must have ${slots} entries (bins, missing, unseen)`);
      points.forEach((x, k) => int(x, `scorecard.features[${j}].points[${k}]`));
    });
  } else {
    const g = obj(m.gbdt, 'gbdt');
    const baseMargin = num(g.baseMargin, 'gbdt.baseMargin');
    const encoders = arr(g.encoders, 'gbdt.encoders');
    if (encoders.length !== features.length) fail('gbdt.encoders', 'must have one entry per feature');
    const missingBins = encoders.map((e, j) =>
      checkEncoder(e as GbdtEncoder, `gbdt.encoders[${j}]`, types[j]!),
    );
    // Scoring adds the base margin, each root value and each step child − parent (at most 3 × the tree's largest
    // value): finite values whose sum overflows would still give a PD of exactly 0 or 1, or NaN.
    const bound = arr(g.trees, 'gbdt.trees').reduce(
      (sum: number, t, k) => sum + 3 * checkTree(t, `gbdt.trees[${k}]`, missingBins),
      Math.abs(baseMargin),
    );
    if (!Number.isFinite(bound))
      fail('gbdt', 'margin can overflow: its base margin and node values are too large');
  }
  return m as unknown as ModelFile;
}
