/**
 * L2-regularised logistic regression fitted by Newton's method (IRLS). Deterministic: no randomness, a fixed
 * iteration order, and a convergence test on the step size. The intercept is not penalised.
 * Objective (minimised): −Σ [y ln p + (1−y) ln(1−p)] + (l2/2)·Σ β_j², p = 1/(1+e^−(β0 + x·β)).
 */

export interface LogisticOptions {
  /** Ridge penalty on the coefficients (not the intercept). Default 1e-4 (a "small ridge" that only keeps IRLS stable). */
  readonly l2?: number;
  readonly maxIterations?: number;
  /** Converged when the largest change of any parameter is below this. Default 1e-9. */
  readonly tolerance?: number;
}

export interface LogisticFit {
  readonly intercept: number;
  readonly coefficients: number[];
  readonly iterations: number;
  readonly converged: boolean;
  /** Penalised negative log-likelihood at the solution. */
  readonly objective: number;
}

/** Row-major design matrix: x[i*k + j] is feature j of row i. */
export interface Design {
  readonly x: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

export const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

/** log(1 + e^z) without overflow. */
const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

function objective(d: Design, y: Uint8Array, beta: Float64Array, l2: number): number {
  const k = d.cols;
  let loss = 0;
  for (let i = 0; i < d.rows; i++) {
    let z = beta[0]!;
    for (let j = 0; j < k; j++) z += d.x[i * k + j]! * beta[j + 1]!;
    loss += softplus(z) - y[i]! * z;
  }
  let pen = 0;
  for (let j = 1; j <= k; j++) pen += beta[j]! ** 2;
  return loss + 0.5 * l2 * pen;
}

/** Solves A x = b for a symmetric positive-definite A (Cholesky); A is m×m row-major. */
export function choleskySolve(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * m + j]!;
      for (let p = 0; p < j; p++) s -= l[i * m + p]! * l[j * m + p]!;
      if (i === j) {
        // A tiny floor keeps a numerically semi-definite Hessian (e.g. a constant column) solvable.
        l[i * m + i] = Math.sqrt(Math.max(s, 1e-12));
      } else l[i * m + j] = s / l[j * m + j]!;
    }
  }
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= l[i * m + p]! * z[p]!;
    z[i] = s / l[i * m + i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let p = i + 1; p < m; p++) s -= l[p * m + i]! * x[p]!;
    x[i] = s / l[i * m + i]!;
  }
  return x;
}

export function fitLogistic(d: Design, y: Uint8Array, options: LogisticOptions = {}): LogisticFit {
  const l2 = options.l2 ?? 1e-4;
  const maxIter = options.maxIterations ?? 100;
  const tol = options.tolerance ?? 1e-9;
  const k = d.cols;
  const m = k + 1;
  const beta = new Float64Array(m);
  let mean = 0;
  for (const t of y) mean += t;
  mean /= d.rows;
  beta[0] = Math.log(mean / (1 - mean));
  let current = objective(d, y, beta, l2);
  const row = new Float64Array(m);
  for (let iter = 1; iter <= maxIter; iter++) {
    const h = new Float64Array(m * m);
    const g = new Float64Array(m);
    for (let i = 0; i < d.rows; i++) {
      row[0] = 1;
      for (let j = 0; j < k; j++) row[j + 1] = d.x[i * k + j]!;
      let z = 0;
      for (let j = 0; j < m; j++) z += row[j]! * beta[j]!;
      const p = sigmoid(z);
      const w = Math.max(p * (1 - p), 1e-12);
      const r = p - y[i]!;
      for (let a = 0; a < m; a++) {
        const ra = row[a]!;
        if (ra === 0) continue;
        g[a]! += ra * r;
        const wa = w * ra;
        for (let b = 0; b <= a; b++) h[a * m + b]! += wa * row[b]!;
      }
    }
    for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) h[b * m + a] = h[a * m + b]!;
    for (let j = 1; j < m; j++) {
      g[j]! += l2 * beta[j]!;
      h[j * m + j]! += l2;
    }
    const step = choleskySolve(h, g, m);
    // Step halving guarantees the objective never increases (Newton can overshoot far from the optimum).
    let scale = 1;
    let next = new Float64Array(m);
    let value = current;
    for (let half = 0; half < 30; half++) {
      for (let j = 0; j < m; j++) next[j] = beta[j]! - scale * step[j]!;
      value = objective(d, y, next, l2);
      if (value <= current + 1e-12) break;
      scale /= 2;
    }
    let maxChange = 0;
    for (let j = 0; j < m; j++) maxChange = Math.max(maxChange, Math.abs(next[j]! - beta[j]!));
    beta.set(next);
    current = value;
    next = new Float64Array(m);
    if (maxChange < tol) {
      return {
        intercept: beta[0]!,
        coefficients: Array.from(beta.subarray(1)),
        iterations: iter,
        converged: true,
        objective: current,
      };
    }
  }
  return {
    intercept: beta[0]!,
    coefficients: Array.from(beta.subarray(1)),
    iterations: maxIter,
    converged: false,
    objective: current,
  };
}

export function predictLogistic(
  fit: Pick<LogisticFit, 'intercept' | 'coefficients'>,
  d: Design,
): Float64Array {
  const out = new Float64Array(d.rows);
  const k = d.cols;
  for (let i = 0; i < d.rows; i++) {
    let z = fit.intercept;
    for (let j = 0; j < k; j++) z += d.x[i * k + j]! * fit.coefficients[j]!;
    out[i] = sigmoid(z);
  }
  return out;
}
