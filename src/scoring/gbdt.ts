/**
 * Histogram-based gradient-boosted trees on log loss (second-order boosting as in XGBoost/LightGBM, Chen & Guestrin
 * 2016): features become at most `maxBins` quantile bins (+1 bin for missing), each tree is grown depth-wise on
 * gradient/hessian histograms, leaves are −G/(H+λ) shrunk by the learning rate. Missing values learn their side at
 * every split. Categorical features are ordinal-encoded by their (smoothed) training bad rate, which makes
 * "levels with similar risk" contiguous so a threshold split can group them; a level with fewer than
 * MIN_LEVEL_ROWS training rows is not ranked and shares the missing bin with unseen levels (see fitEncoder).
 */
import { seededRandom } from '../domain/index.js';
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
  /** Share of features a tree may split on, drawn per tree (XGBoost's colsample_bytree). */
  readonly colsample?: number;
  /** Quantile bins per feature, at most 64 (bin 64 is kept for missing). */
  readonly maxBins?: number;
  /** Share of the training rows held out for early stopping (0 disables early stopping). */
  readonly validationShare?: number;
  /** Stop when the validation log loss has not improved for this many rounds. */
  readonly patience?: number;
  /** After early stopping, refit on all training rows with the chosen number of rounds. */
  readonly refit?: boolean;
  /**
   * Monotone constraints by feature index, as XGBoost's monotone_constraints: +1 = the PD may only rise as the value
   * rises, −1 = only fall; numeric features only (missing values keep a free side).
   */
  readonly monotone?: Readonly<Record<number, 1 | -1>>;
}

export const DEFAULT_GBDT: Required<Omit<GbdtParams, 'monotone'>> = {
  rounds: 500,
  learningRate: 0.05,
  maxDepth: 3,
  minChildWeight: 2,
  lambda: 1,
  subsample: 0.8,
  colsample: 1,
  maxBins: 64,
  validationShare: 0.2,
  patience: 50,
  refit: true,
};

type Resolved = Required<Omit<GbdtParams, 'monotone'>> & { monotone: Readonly<Record<number, 1 | -1>> };

export interface GbdtTraining {
  readonly part: GbdtPart;
  readonly bestRounds: number;
  readonly validationLogLoss: number[];
}

/**
 * Training rows a categorical level needs to get a bin of its own; a rarer level is left out of the encoder's levels,
 * so its training rows go to the missing bin, where every level unseen in training goes at scoring.
 *
 * The rank is order-based, so smoothing a rare level's bad rate toward the prior does not keep its own labels out of
 * its position: a level of one row ranks with the goods or with the bads by that row's label alone, the trees fit
 * those rows on it, and a new applicant's level (unseen) is scored by the missing bin, which learnt nothing of it. A
 * near-unique column (a customer reference) took the German GBDT's held-out AUC to about 0.50. The bound is the
 * smoothing's own weight: a level is ranked once its rows weigh at least as much as the 10 pseudo-rows at the prior
 * in its smoothed rate. LightGBM draws the same line with the same number, node by node: its many-vs-many categorical
 * split sorts only the categories with at least cat_smooth (default 10) rows there and leaves the rest on the side of
 * the missing and unseen ones.
 * It is a fixed count, not chosen on any benchmark (CatBoost's ordered target statistics avoid the leak otherwise,
 * by ranking each row on earlier rows only, which a single level→bin map in the model file cannot express).
 */
export const MIN_LEVEL_ROWS = 10;

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
  // Smoothed bad rate (MIN_LEVEL_ROWS pseudo-rows at the prior) so a level is not ranked by noise alone; levels with
  // fewer rows are not ranked at all (they go to the missing bin, as unseen levels do).
  const ranked = [...stats.entries()]
    .filter(([, s]) => s.n >= MIN_LEVEL_ROWS)
    .map(([level, s]) => ({ level, r: (s.bads + MIN_LEVEL_ROWS * prior) / (s.n + MIN_LEVEL_ROWS) }))
    .sort((a, b) => a.r - b.r || (a.level < b.level ? -1 : 1));
  const levels: Record<string, number> = {};
  const bins = Math.min(regular, ranked.length);
  ranked.forEach((e, k) => {
    levels[e.level] = Math.floor((k * bins) / ranked.length);
  });
  // A column with no ranked level keeps one empty regular bin: a model file's missing bin is at least 1, and a
  // threshold split needs two regular bins, so the column never splits.
  return { type: 'categorical', levels, missing: Math.max(1, bins) };
}

/**
 * Categorical columns where most non-missing training rows hold a level of fewer than MIN_LEVEL_ROWS rows (a customer
 * reference, an application id): those rows go to the missing bin with the unseen levels, so the GBDT can learn
 * little or nothing from the column.
 */
export function nearUniqueCategoricals(data: Dataset): string[] {
  return data.columns
    .filter((c) => {
      if (c.type !== 'categorical') return false;
      const counts = new Map<string, number>();
      let present = 0;
      for (const v of c.values) {
        if (v === null) continue;
        present++;
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      let rare = 0;
      for (const n of counts.values()) if (n < MIN_LEVEL_ROWS) rare += n;
      return present > 0 && rare / present > 0.5;
    })
    .map((c) => c.name);
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
  /** Unshrunk leaf weights of the two children (for monotone bounds). */
  wl: number;
  wr: number;
}

interface Histogram {
  readonly g: Float64Array[];
  readonly h: Float64Array[];
}

const leafWeight = (g: number, h: number, lambda: number): number => -g / (h + lambda);

const clamp = (w: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, w));

/** The training rows' bins twice: by column (to partition rows and walk trees) and row-major (to build histograms). */
interface Binned {
  readonly columns: readonly Uint8Array[];
  /** rowMajor[i · width + f] = bin of row i, feature f. */
  readonly rowMajor: Uint8Array;
  readonly width: number;
}

function rowMajorBins(columns: readonly Uint8Array[], rows: number): Binned {
  const width = columns.length;
  const rowMajor = new Uint8Array(rows * width);
  columns.forEach((col, f) => {
    for (let i = 0; i < rows; i++) rowMajor[i * width + f] = col[i]!;
  });
  return { columns, rowMajor, width };
}

/**
 * Gradient and hessian sums per bin of every allowed feature over the given rows. One pass over the rows, reading
 * each row's bins where they sit together in memory (row-major) into one interleaved (g, h) buffer: a column-wise
 * pass per feature jumps across memory for every row of every feature, which made this the hot spot of training.
 * Each bin still adds its rows in the same order, so the sums are bit-identical to the column-wise pass.
 */
function buildHistogram(
  rows: Int32Array,
  binned: Binned,
  encoders: readonly GbdtEncoder[],
  features: readonly number[],
  grad: Float64Array,
  hess: Float64Array,
): Histogram {
  const nf = features.length;
  const feature = Int32Array.from(features);
  const offset = new Int32Array(nf + 1);
  for (let q = 0; q < nf; q++) offset[q + 1] = offset[q]! + encoders[features[q]!]!.missing + 1;
  const acc = new Float64Array(2 * offset[nf]!);
  const { rowMajor, width } = binned;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    const gi = grad[i]!;
    const hi = hess[i]!;
    const base = i * width;
    for (let q = 0; q < nf; q++) {
      const at = 2 * (offset[q]! + rowMajor[base + feature[q]!]!);
      acc[at]! += gi;
      acc[at + 1]! += hi;
    }
  }
  const g: Float64Array[] = [];
  const h: Float64Array[] = [];
  for (let q = 0; q < nf; q++) {
    const size = offset[q + 1]! - offset[q]!;
    const hg = new Float64Array(size);
    const hh = new Float64Array(size);
    for (let b = 0; b < size; b++) {
      hg[b] = acc[2 * (offset[q]! + b)]!;
      hh[b] = acc[2 * (offset[q]! + b) + 1]!;
    }
    g.push(hg);
    h.push(hh);
  }
  return { g, h };
}

/** The sibling's histogram as parent − child (LightGBM's histogram subtraction: one scan per split, not two). */
function subtractHistogram(parent: Histogram, child: Histogram): Histogram {
  return {
    g: parent.g.map((pg, k) => pg.map((v, b) => v - child.g[k]![b]!)),
    h: parent.h.map((ph, k) => ph.map((v, b) => v - child.h[k]![b]!)),
  };
}

interface NodeContext {
  readonly G: number;
  readonly H: number;
  readonly lower: number;
  readonly upper: number;
}

function bestSplit(
  hist: Histogram,
  features: readonly number[],
  encoders: readonly GbdtEncoder[],
  p: Resolved,
  node: NodeContext,
): Split | undefined {
  const { G, H } = node;
  const parentScore = (G * G) / (H + p.lambda);
  let best: Split | undefined;
  features.forEach((f, k) => {
    const hg = hist.g[k]!;
    const hh = hist.h[k]!;
    const missingBin = encoders[f]!.missing;
    const constraint = p.monotone[f] ?? 0;
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
        if (gain > 1e-9 && (best === undefined || gain > best.gain)) {
          const wl = clamp(leafWeight(GL, HL, p.lambda), node.lower, node.upper);
          const wr = clamp(leafWeight(GR, HR, p.lambda), node.lower, node.upper);
          // XGBoost's rule: a split on a constrained feature must order its children the constrained way.
          if (!((constraint > 0 && wl > wr) || (constraint < 0 && wl < wr)))
            best = { gain, feature: f, threshold: t, missingLeft, wl, wr };
        }
        if (mh === 0) break;
      }
    }
  });
  return best;
}

function growTree(
  rows: Int32Array,
  binned: Binned,
  encoders: readonly GbdtEncoder[],
  grad: Float64Array,
  hess: Float64Array,
  p: Resolved,
  features: readonly number[],
): TreeNode[] {
  const nodes: TreeNode[] = [];
  const build = (
    idx: Int32Array,
    depth: number,
    hist: Histogram | undefined,
    bounds: [number, number],
  ): number => {
    let G = 0;
    let H = 0;
    for (let k = 0; k < idx.length; k++) {
      G += grad[idx[k]!]!;
      H += hess[idx[k]!]!;
    }
    const weight = clamp(leafWeight(G, H, p.lambda), bounds[0], bounds[1]);
    const value = p.learningRate * weight;
    const at = nodes.length;
    nodes.push({ value });
    if (depth >= p.maxDepth || idx.length < 2) return at;
    const own = hist ?? buildHistogram(idx, binned, encoders, features, grad, hess);
    const split = bestSplit(own, features, encoders, p, { G, H, lower: bounds[0], upper: bounds[1] });
    if (split === undefined) return at;
    const col = binned.columns[split.feature]!;
    const missingBin = encoders[split.feature]!.missing;
    const left: number[] = [];
    const right: number[] = [];
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      const b = col[i]!;
      const goLeft = b === missingBin ? split.missingLeft : b <= split.threshold;
      (goLeft ? left : right).push(i);
    }
    const leftRows = Int32Array.from(left);
    const rightRows = Int32Array.from(right);
    let leftHist: Histogram | undefined;
    let rightHist: Histogram | undefined;
    if (depth + 1 < p.maxDepth) {
      // Scan the smaller child, derive the larger.
      const leftSmaller = leftRows.length <= rightRows.length;
      const small = buildHistogram(
        leftSmaller ? leftRows : rightRows,
        binned,
        encoders,
        features,
        grad,
        hess,
      );
      const large = subtractHistogram(own, small);
      leftHist = leftSmaller ? small : large;
      rightHist = leftSmaller ? large : small;
    }
    const constraint = p.monotone[split.feature] ?? 0;
    const mid = (split.wl + split.wr) / 2;
    const leftBounds: [number, number] =
      constraint > 0 ? [bounds[0], mid] : constraint < 0 ? [mid, bounds[1]] : bounds;
    const rightBounds: [number, number] =
      constraint > 0 ? [mid, bounds[1]] : constraint < 0 ? [bounds[0], mid] : bounds;
    const l = build(leftRows, depth + 1, leftHist, leftBounds);
    const r = build(rightRows, depth + 1, rightHist, rightBounds);
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
  build(rows, 0, undefined, [-Infinity, Infinity]);
  return nodes;
}

/** Leaf value of one tree for row i of column-major bins. */
function leafOfRow(
  tree: readonly TreeNode[],
  binned: readonly Uint8Array[],
  encoders: readonly GbdtEncoder[],
  i: number,
): number {
  let node = tree[0]!;
  while (node.feature !== undefined) {
    const b = binned[node.feature]![i]!;
    const goLeft = b === encoders[node.feature]!.missing ? node.missingLeft === true : b <= node.threshold!;
    node = tree[(goLeft ? node.left : node.right)!]!;
  }
  return node.value;
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

interface BoostOutcome {
  readonly part: GbdtPart;
  readonly valLoss: number[];
  readonly best: number;
  /** Validation margins at the best round (out-of-fold predictions for calibration and tuning). */
  readonly bestValMargin: Float64Array;
}

/** Features a tree may use: all, or a seeded draw of ⌈colsample · features⌉ (at least one). */
function drawFeatures(count: number, colsample: number, rng: { next(): number }): number[] {
  const all = Array.from({ length: count }, (_, f) => f);
  if (colsample >= 1) return all;
  const take = Math.max(1, Math.ceil(colsample * count));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, take).sort((a, b) => a - b);
}

function boost(
  data: Dataset,
  encoders: readonly GbdtEncoder[],
  p: Resolved,
  seed: number,
  rounds: number,
  validation?: { data: Dataset; binned: Uint8Array[] },
  onRound?: (round: number) => void,
): BoostOutcome {
  const binned = rowMajorBins(encodeDataset(data, encoders), data.rows);
  let bads = 0;
  for (const t of data.target) bads += t;
  const rate = Math.min(1 - 1e-6, Math.max(1e-6, bads / data.rows));
  const baseMargin = Math.log(rate / (1 - rate));
  const margin = new Float64Array(data.rows).fill(baseMargin);
  const vRows = validation?.data.rows ?? 0;
  const vMargin = new Float64Array(vRows).fill(baseMargin);
  let bestValMargin = Float64Array.from(vMargin);
  const grad = new Float64Array(data.rows);
  const hess = new Float64Array(data.rows);
  const rng = seededRandom(seed);
  const trees: TreeNode[][] = [];
  const valLoss: number[] = [];
  let best = 0;
  let bestLoss = Infinity;
  const probs = new Float64Array(vRows);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < data.rows; i++) {
      const prob = sigmoid(margin[i]!);
      grad[i] = prob - data.target[i]!;
      hess[i] = Math.max(prob * (1 - prob), 1e-12);
    }
    const sample: number[] = [];
    for (let i = 0; i < data.rows; i++) if (p.subsample >= 1 || rng.next() < p.subsample) sample.push(i);
    const features = drawFeatures(encoders.length, p.colsample, rng);
    const tree = growTree(Int32Array.from(sample), binned, encoders, grad, hess, p, features);
    trees.push(tree);
    for (let i = 0; i < data.rows; i++) margin[i]! += leafOfRow(tree, binned.columns, encoders, i);
    if (validation !== undefined) {
      for (let i = 0; i < vRows; i++) {
        vMargin[i]! += leafOfRow(tree, validation.binned, encoders, i);
        probs[i] = sigmoid(vMargin[i]!);
      }
      const loss = logLoss(probs, validation.data.target);
      valLoss.push(loss);
      if (loss < bestLoss - 1e-9) {
        bestLoss = loss;
        best = round + 1;
        bestValMargin = Float64Array.from(vMargin);
      } else if (round + 1 - best >= p.patience) break;
    } else best = round + 1;
    onRound?.(round + 1);
  }
  return { part: { baseMargin, encoders, trees: trees.slice(0, best) }, valLoss, best, bestValMargin };
}

export function resolveGbdtParams(params: GbdtParams): Resolved {
  return { ...DEFAULT_GBDT, ...params, monotone: params.monotone ?? {} };
}

export function fitGbdtEncoders(data: Dataset, maxBins: number): GbdtEncoder[] {
  return data.columns.map((_, j) => fitEncoder(data, j, maxBins));
}

/**
 * One fit with early stopping on a given validation part (a tuning fold, or trainGbdt's validation share): the
 * encoders are fitted on the fit part only, so early stopping never watches rows whose labels ordered the
 * categorical levels. Returns the model at its best round, the validation margins there and the loss curve.
 */
export function fitGbdtWithValidation(
  fitPart: Dataset,
  valPart: Dataset,
  params: GbdtParams,
  seed: number,
  onRound?: (round: number) => void,
): { part: GbdtPart; bestRounds: number; valMargin: Float64Array; validationLogLoss: number[] } {
  const p = resolveGbdtParams(params);
  const encoders = fitGbdtEncoders(fitPart, p.maxBins);
  const out = boost(
    fitPart,
    encoders,
    p,
    seed,
    p.rounds,
    { data: valPart, binned: encodeDataset(valPart, encoders) },
    onRound,
  );
  return {
    part: out.part,
    bestRounds: Math.max(1, out.best),
    valMargin: out.bestValMargin,
    validationLogLoss: out.valLoss,
  };
}

export function trainGbdt(
  data: Dataset,
  params: GbdtParams,
  seed: number,
  onProgress?: (fraction: number) => void,
): GbdtTraining {
  const p = resolveGbdtParams(params);
  if (p.validationShare <= 0) {
    const encoders = fitGbdtEncoders(data, p.maxBins);
    const out = boost(data, encoders, p, seed, p.rounds, undefined, (r) => onProgress?.(r / p.rounds));
    return { part: out.part, bestRounds: out.best, validationLogLoss: [] };
  }
  // Early stopping uses a stratified validation part carved out of the training rows before anything is fitted.
  const split = stratifiedSplit(data.target, p.validationShare, seed + 1);
  const stage1 = fitGbdtWithValidation(
    subsetDataset(data, split.train),
    subsetDataset(data, split.test),
    params,
    seed,
    (r) => onProgress?.((p.refit ? 0.5 : 1) * (r / p.rounds)),
  );
  const { bestRounds, validationLogLoss } = stage1;
  if (!p.refit) return { part: stage1.part, bestRounds, validationLogLoss };
  // The refit is a fresh model on all training rows, encoders included, for the rounds the validation part chose.
  const encoders = fitGbdtEncoders(data, p.maxBins);
  const stage2 = boost(data, encoders, p, seed, bestRounds, undefined, (r) =>
    onProgress?.(0.5 + 0.5 * (r / bestRounds)),
  );
  return { part: stage2.part, bestRounds, validationLogLoss };
}

/** Margin (log-odds of bad) of each row of a data set (columns in training order). */
export function gbdtMargins(part: GbdtPart, data: Dataset): Float64Array {
  const binned = encodeDataset(data, part.encoders);
  const out = new Float64Array(data.rows).fill(part.baseMargin);
  for (const tree of part.trees)
    for (let i = 0; i < data.rows; i++) out[i]! += leafOfRow(tree, binned, part.encoders, i);
  return out;
}

/** PD of each row of a data set (columns in training order), for cross-validation and benchmarks. */
export function predictGbdt(part: GbdtPart, data: Dataset): Float64Array {
  return gbdtMargins(part, data).map(sigmoid);
}
