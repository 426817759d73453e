/**
 * Histogram-based gradient-boosted trees on log loss (second-order boosting as in XGBoost/LightGBM, Chen & Guestrin
 * 2016): features become at most `maxBins` quantile bins (+1 bin for missing), each tree is grown depth-wise on
 * gradient/hessian histograms, leaves are −G/(H+λ) shrunk by the learning rate. Missing values learn their side at
 * every split. Categorical features are ordinal-encoded by their (smoothed) training bad rate, which makes
 * "levels with similar risk" contiguous so a threshold split can group them.
 */
import { seededRandom } from '../domain/random.js';
import { intervalIndex, quantileCuts, toLevel, toNumber } from './binning.js';
import { stratifiedSplit, subsetDataset, type Dataset } from './dataset.js';
import { logLoss } from './metrics.js';
import type { GbdtEncoder, GbdtPart, TreeNode } from './model-file.js';
import { sigmoid } from './logistic.js';

export interface GbdtParams {
  readonly rounds?: number;
  readonly learningRate?: number;
  readonly maxDepth?: number;
  /** Smallest hessian sum (≈ rows · p(1−p)) a child may have. */
  readonly minChildWeight?: number;
  /** L2 penalty on leaf values. */
  readonly lambda?: number;
  /** Share of rows drawn (without replacement) for each tree. */
  readonly subsample?: number;
  /** Quantile bins per feature, at most 64 (bin 64 is kept for missing). */
  readonly maxBins?: number;
  /** Share of the training rows held out for early stopping (0 disables early stopping). */
  readonly validationShare?: number;
  /** Stop when the validation log loss has not improved for this many rounds. */
  readonly patience?: number;
  /** After early stopping, refit on all training rows with the chosen number of rounds. */
  readonly refit?: boolean;
}

export const DEFAULT_GBDT: Required<GbdtParams> = {
  rounds: 500,
  learningRate: 0.05,
  maxDepth: 3,
  minChildWeight: 2,
  lambda: 1,
  subsample: 0.8,
  maxBins: 64,
  validationShare: 0.2,
  patience: 50,
  refit: true,
};

export interface GbdtTraining {
  readonly part: GbdtPart;
  readonly bestRounds: number;
  readonly validationLogLoss: number[];
}

/** Encoder for one column, fitted on the training rows. */
function fitEncoder(data: Dataset, j: number, maxBins: number): GbdtEncoder {
  const column = data.columns[j]!;
  const regular = Math.min(64, maxBins);
  if (column.type === 'numeric') {
    const sorted = Float64Array.from(column.values.filter((v) => !Number.isNaN(v))).sort();
    const cuts = sorted.length === 0 ? [] : quantileCuts(sorted, regular);
    return { type: 'numeric', cuts, missing: cuts.length + 1 };
  }
  const stats = new Map<string, { n: number; bads: number }>();
  let bads = 0;
  column.values.forEach((v, i) => {
    bads += data.target[i]!;
    if (v === null) return;
    const s = stats.get(v) ?? { n: 0, bads: 0 };
    s.n++;
    s.bads += data.target[i]!;
    stats.set(v, s);
  });
  const prior = bads / data.rows;
  // Smoothed bad rate (10 pseudo-rows at the prior) so a rare level is not ranked by noise alone.
  const ranked = [...stats.entries()]
    .map(([level, s]) => ({ level, r: (s.bads + 10 * prior) / (s.n + 10) }))
    .sort((a, b) => a.r - b.r || (a.level < b.level ? -1 : 1));
  const levels: Record<string, number> = {};
  const bins = Math.min(regular, ranked.length);
  ranked.forEach((e, k) => {
    levels[e.level] = Math.floor((k * bins) / ranked.length);
  });
  return { type: 'categorical', levels, missing: bins };
}

/** Histogram bin of one raw value; missing, unseen or unusable values go to the encoder's missing bin. */
export function encodeValue(enc: GbdtEncoder, raw: unknown): number {
  if (enc.type === 'numeric') {
    const x = toNumber(raw);
    return x === undefined || Number.isNaN(x) ? enc.missing : intervalIndex(enc.cuts, x);
  }
  const level = toLevel(raw);
  if (level === undefined) return enc.missing;
  return Object.hasOwn(enc.levels, level) ? enc.levels[level]! : enc.missing;
}

function encodeDataset(data: Dataset, encoders: readonly GbdtEncoder[]): Uint8Array[] {
  return data.columns.map((c, j) => {
    const enc = encoders[j]!;
    const out = new Uint8Array(data.rows);
    for (let i = 0; i < data.rows; i++) {
      const v = c.values[i];
      out[i] = c.type === 'numeric' ? encodeValue(enc, v) : encodeValue(enc, v ?? null);
    }
    return out;
  });
}

interface Split {
  gain: number;
  feature: number;
  threshold: number;
  missingLeft: boolean;
}

const leafWeight = (g: number, h: number, lambda: number): number => -g / (h + lambda);

function bestSplit(
  rows: Int32Array,
  binned: readonly Uint8Array[],
  encoders: readonly GbdtEncoder[],
  grad: Float64Array,
  hess: Float64Array,
  p: Required<GbdtParams>,
  totals: { readonly G: number; readonly H: number },
): Split | undefined {
  // The node's gradient and hessian sums: its caller already has them for the leaf value.
  const { G, H } = totals;
  const parentScore = (G * G) / (H + p.lambda);
  let best: Split | undefined;
  for (let f = 0; f < binned.length; f++) {
    const col = binned[f]!;
    const missingBin = encoders[f]!.missing;
    const hg = new Float64Array(missingBin + 1);
    const hh = new Float64Array(missingBin + 1);
    for (const i of rows) {
      const b = col[i]!;
      hg[b]! += grad[i]!;
      hh[b]! += hess[i]!;
    }
    const mg = hg[missingBin]!;
    const mh = hh[missingBin]!;
    let gl = 0;
    let hl = 0;
    for (let t = 0; t < missingBin - 1; t++) {
      gl += hg[t]!;
      hl += hh[t]!;
      if (hh[t] === 0) continue;
      for (const missingLeft of [false, true]) {
        const GL = missingLeft ? gl + mg : gl;
        const HL = missingLeft ? hl + mh : hl;
        const GR = G - GL;
        const HR = H - HL;
        if (HL < p.minChildWeight || HR < p.minChildWeight) continue;
        const gain = (GL * GL) / (HL + p.lambda) + (GR * GR) / (HR + p.lambda) - parentScore;
        if (gain > 1e-9 && (best === undefined || gain > best.gain))
          best = { gain, feature: f, threshold: t, missingLeft };
        if (mh === 0) break;
      }
    }
  }
  return best;
}

function growTree(
  rows: Int32Array,
  binned: readonly Uint8Array[],
  encoders: readonly GbdtEncoder[],
  grad: Float64Array,
  hess: Float64Array,
  p: Required<GbdtParams>,
): TreeNode[] {
  const nodes: TreeNode[] = [];
  const build = (idx: Int32Array, depth: number): number => {
    let G = 0;
    let H = 0;
    for (const i of idx) {
      G += grad[i]!;
      H += hess[i]!;
    }
    const value = p.learningRate * leafWeight(G, H, p.lambda);
    const at = nodes.length;
    nodes.push({ value });
    if (depth >= p.maxDepth) return at;
    const split = bestSplit(idx, binned, encoders, grad, hess, p, { G, H });
    if (split === undefined) return at;
    const col = binned[split.feature]!;
    const missingBin = encoders[split.feature]!.missing;
    const left: number[] = [];
    const right: number[] = [];
    for (const i of idx) {
      const b = col[i]!;
      const goLeft = b === missingBin ? split.missingLeft : b <= split.threshold;
      (goLeft ? left : right).push(i);
    }
    const l = build(Int32Array.from(left), depth + 1);
    const r = build(Int32Array.from(right), depth + 1);
    nodes[at] = {
      feature: split.feature,
      threshold: split.threshold,
      missingLeft: split.missingLeft,
      left: l,
      right: r,
      value,
    };
    return at;
  };
  build(rows, 0);
  return nodes;
}

/** Walks one tree for a row of bins; returns the leaf value. */
export function treeLeaf(
  tree: readonly TreeNode[],
  bins: ArrayLike<number>,
  encoders: readonly GbdtEncoder[],
): number {
  let node = tree[0]!;
  while (node.feature !== undefined) {
    const b = bins[node.feature]!;
    const goLeft = b === encoders[node.feature]!.missing ? node.missingLeft === true : b <= node.threshold!;
    node = tree[(goLeft ? node.left : node.right)!]!;
  }
  return node.value;
}

/**
 * Margin and per-feature Saabas contributions (each split credits its feature with child value − parent value);
 * margin = baseMargin + Σ root values + Σ contributions, exactly.
 */
export function gbdtContributions(
  part: GbdtPart,
  bins: ArrayLike<number>,
): { margin: number; contributions: Float64Array } {
  const contributions = new Float64Array(part.encoders.length);
  let margin = part.baseMargin;
  for (const tree of part.trees) {
    let node = tree[0]!;
    margin += node.value;
    while (node.feature !== undefined) {
      const b = bins[node.feature]!;
      const goLeft =
        b === part.encoders[node.feature]!.missing ? node.missingLeft === true : b <= node.threshold!;
      const child = tree[(goLeft ? node.left : node.right)!]!;
      contributions[node.feature]! += child.value - node.value;
      margin += child.value - node.value;
      node = child;
    }
  }
  return { margin, contributions };
}

function boost(
  data: Dataset,
  encoders: readonly GbdtEncoder[],
  p: Required<GbdtParams>,
  seed: number,
  rounds: number,
  validation?: { data: Dataset; binned: Uint8Array[] },
  onRound?: (round: number) => void,
): { part: GbdtPart; valLoss: number[]; best: number } {
  const binned = encodeDataset(data, encoders);
  let bads = 0;
  for (const t of data.target) bads += t;
  const rate = Math.min(1 - 1e-6, Math.max(1e-6, bads / data.rows));
  const baseMargin = Math.log(rate / (1 - rate));
  const margin = new Float64Array(data.rows).fill(baseMargin);
  const vMargin = new Float64Array(validation?.data.rows ?? 0).fill(baseMargin);
  const grad = new Float64Array(data.rows);
  const hess = new Float64Array(data.rows);
  const rng = seededRandom(seed);
  const trees: TreeNode[][] = [];
  const valLoss: number[] = [];
  let best = 0;
  let bestLoss = Infinity;
  const vRow = new Uint8Array(encoders.length);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < data.rows; i++) {
      const prob = sigmoid(margin[i]!);
      grad[i] = prob - data.target[i]!;
      hess[i] = Math.max(prob * (1 - prob), 1e-12);
    }
    const sample: number[] = [];
    for (let i = 0; i < data.rows; i++) if (p.subsample >= 1 || rng.next() < p.subsample) sample.push(i);
    const tree = growTree(Int32Array.from(sample), binned, encoders, grad, hess, p);
    trees.push(tree);
    const row = new Uint8Array(encoders.length);
    for (let i = 0; i < data.rows; i++) {
      for (let f = 0; f < encoders.length; f++) row[f] = binned[f]![i]!;
      margin[i]! += treeLeaf(tree, row, encoders);
    }
    if (validation !== undefined) {
      const probs = new Float64Array(validation.data.rows);
      for (let i = 0; i < validation.data.rows; i++) {
        for (let f = 0; f < encoders.length; f++) vRow[f] = validation.binned[f]![i]!;
        vMargin[i]! += treeLeaf(tree, vRow, encoders);
        probs[i] = sigmoid(vMargin[i]!);
      }
      const loss = logLoss(probs, validation.data.target);
      valLoss.push(loss);
      if (loss < bestLoss - 1e-9) {
        bestLoss = loss;
        best = round + 1;
      } else if (round + 1 - best >= p.patience) break;
    } else best = round + 1;
    onRound?.(round + 1);
  }
  return { part: { baseMargin, encoders, trees: trees.slice(0, best) }, valLoss, best };
}

export function trainGbdt(
  data: Dataset,
  params: GbdtParams,
  seed: number,
  onProgress?: (fraction: number) => void,
): GbdtTraining {
  const p: Required<GbdtParams> = { ...DEFAULT_GBDT, ...params };
  const encoders = data.columns.map((_, j) => fitEncoder(data, j, p.maxBins));
  if (p.validationShare <= 0) {
    const out = boost(data, encoders, p, seed, p.rounds, undefined, (r) => onProgress?.(r / p.rounds));
    return { part: out.part, bestRounds: out.best, validationLogLoss: [] };
  }
  // Early stopping uses a stratified validation fold carved out of the training rows only.
  const split = stratifiedSplit(data.target, p.validationShare, seed + 1);
  const fitPart = subsetDataset(data, split.train);
  const valPart = subsetDataset(data, split.test);
  const stage1 = boost(
    fitPart,
    encoders,
    p,
    seed,
    p.rounds,
    { data: valPart, binned: encodeDataset(valPart, encoders) },
    (r) => onProgress?.((p.refit ? 0.5 : 1) * (r / p.rounds)),
  );
  const bestRounds = Math.max(1, stage1.best);
  if (!p.refit) return { part: stage1.part, bestRounds, validationLogLoss: stage1.valLoss };
  const stage2 = boost(data, encoders, p, seed, bestRounds, undefined, (r) =>
    onProgress?.(0.5 + 0.5 * (r / bestRounds)),
  );
  return { part: stage2.part, bestRounds, validationLogLoss: stage1.valLoss };
}

/** PD of each row of a data set (columns in training order), for cross-validation and benchmarks. */
export function predictGbdt(part: GbdtPart, data: Dataset): Float64Array {
  const binned = encodeDataset(data, part.encoders);
  const out = new Float64Array(data.rows);
  const row = new Uint8Array(part.encoders.length);
  for (let i = 0; i < data.rows; i++) {
    for (let f = 0; f < row.length; f++) row[f] = binned[f]![i]!;
    let margin = part.baseMargin;
    for (const tree of part.trees) margin += treeLeaf(tree, row, part.encoders);
    out[i] = sigmoid(margin);
  }
  return out;
}
