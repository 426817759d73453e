/**
 * The training report: one self-contained HTML file (inline CSS and SVG, no scripts, no external assets) that a
 * model-risk reviewer can open offline. Charts are drawn from the same numbers the model file records.
 */
import type { FeatureBinning } from './binning.js';
import { allBins } from './binning.js';
import { rocCurve, scoreBands, type CostMatrix, type ModelMetrics } from './metrics.js';
import type { ModelFile } from './model-file.js';
import type { EvaluationColumns, ScoredPart } from './train.js';
import { brierScore, reliabilityTable, type ReliabilityRow } from './calibration.js';
import { riskDirection } from './reasons.js';
import {
  fairnessByGroup,
  FOUR_FIFTHS,
  MIN_PERIOD_ROWS,
  stabilityOverTime,
  type FairnessResult,
} from './review.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

const W = 420;
const H = 260;
const PAD = 44;

const sx = (x: number): number => PAD + x * (W - PAD - 10);
const sy = (y: number): number => H - PAD - y * (H - PAD - 10);

/** A tick at position `at` (0..1 along the axis) with its label. */
export interface Tick {
  readonly at: number;
  readonly label: string;
}

/** Ticks at 0, 0.25, …, 1 of a range [lo, hi], labelled by `format`. */
export function ticks(lo: number, hi: number, format: (v: number) => string, count = 5): Tick[] {
  return Array.from({ length: count }, (_, k) => {
    const at = k / (count - 1);
    return { at, label: format(lo + at * (hi - lo)) };
  });
}

const shareTicks = (max = 1): Tick[] =>
  ticks(0, max, (v) => (max <= 1 ? v.toFixed(2) : String(Math.round(v))));

/** Both axes with their labels and tick marks (a chart without scales cannot be reviewed). */
function axes(
  xLabel: string,
  yLabel: string,
  xTicks: readonly Tick[] = [],
  yTicks: readonly Tick[] = [],
): string {
  const xt = xTicks
    .map(
      (t) =>
        `<line class="tick" x1="${sx(t.at).toFixed(1)}" y1="${H - PAD}" x2="${sx(t.at).toFixed(1)}" y2="${H - PAD + 4}" stroke="#333"/><text x="${sx(t.at).toFixed(1)}" y="${H - PAD + 14}" font-size="9" text-anchor="middle">${esc(t.label)}</text>`,
    )
    .join('');
  const yt = yTicks
    .map(
      (t) =>
        `<line class="tick" x1="${PAD - 4}" y1="${sy(t.at).toFixed(1)}" x2="${PAD}" y2="${sy(t.at).toFixed(1)}" stroke="#333"/><text x="${PAD - 6}" y="${(sy(t.at) + 3).toFixed(1)}" font-size="9" text-anchor="end">${esc(t.label)}</text>`,
    )
    .join('');
  return `<line x1="${PAD}" y1="${H - PAD}" x2="${W - 10}" y2="${H - PAD}" stroke="#333"/><line x1="${PAD}" y1="10" x2="${PAD}" y2="${H - PAD}" stroke="#333"/>${xt}${yt}
<text x="${W / 2}" y="${H - 2}" text-anchor="middle" font-size="11">${esc(xLabel)}</text><text x="10" y="${H / 2}" font-size="11" transform="rotate(-90 10 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text>`;
}

function polyline(points: readonly [number, number][], colour: string): string {
  return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`;
}

function svg(body: string, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${body}</svg>`;
}

function rocSvg(part: ScoredPart): string {
  const pts = rocCurve(part.pd, part.target).map((p): [number, number] => [p.fpr, p.tpr]);
  return svg(
    `${axes('false-positive rate (goods declined)', 'true-positive rate (bads declined)', shareTicks(), shareTicks())}${polyline(
      [
        [0, 0],
        [1, 1],
      ],
      '#bbb',
    )}${polyline(pts, '#1f77b4')}`,
    'ROC curve',
  );
}

function ksSvg(part: ScoredPart): string {
  // Cumulative shares of bads and goods as the score cut-off rises (lowest scores declined first).
  const order = Array.from(part.score.keys()).sort((a, b) => part.score[a]! - part.score[b]!);
  let bads = 0;
  for (const t of part.target) bads += t;
  const goods = part.target.length - bads;
  let cb = 0;
  let cg = 0;
  const badPts: [number, number][] = [[0, 0]];
  const goodPts: [number, number][] = [[0, 0]];
  order.forEach((i, k) => {
    if (part.target[i] === 1) cb++;
    else cg++;
    const x = (k + 1) / order.length;
    badPts.push([x, cb / bads]);
    goodPts.push([x, cg / goods]);
  });
  return svg(
    `${axes('share of applicants, lowest score first', 'cumulative share', shareTicks(), shareTicks())}${polyline(badPts, '#d62728')}${polyline(goodPts, '#2ca02c')}
<text x="${PAD + 8}" y="22" font-size="11" fill="#d62728">bads</text><text x="${PAD + 48}" y="22" font-size="11" fill="#2ca02c">goods</text>`,
    'KS curve',
  );
}

function distributionSvg(part: ScoredPart): string {
  // Folds, not Math.min(...scores): a spread of every evaluation row overflows the stack past ~125,000 rows.
  const lo = part.score.reduce((m, s) => Math.min(m, s), Infinity);
  const hi = part.score.reduce((m, s) => Math.max(m, s), -Infinity);
  const nb = 20;
  const width = (hi - lo) / nb || 1;
  const hist = (cls: number): number[] => {
    const h = new Array<number>(nb).fill(0);
    let n = 0;
    part.score.forEach((s, i) => {
      if (part.target[i] !== cls) return;
      h[Math.min(nb - 1, Math.floor((s - lo) / width))]!++;
      n++;
    });
    return h.map((c) => c / Math.max(1, n));
  };
  const g = hist(0);
  const b = hist(1);
  const max = Math.max(...g, ...b, 1e-9);
  const bw = (W - PAD - 10) / nb;
  let bars = '';
  for (let k = 0; k < nb; k++) {
    const x = PAD + k * bw;
    const hg = (g[k]! / max) * (H - PAD - 10);
    const hb = (b[k]! / max) * (H - PAD - 10);
    bars += `<rect x="${x.toFixed(1)}" y="${(H - PAD - hg).toFixed(1)}" width="${(bw / 2).toFixed(1)}" height="${hg.toFixed(1)}" fill="#2ca02c" opacity="0.8"/>`;
    bars += `<rect x="${(x + bw / 2).toFixed(1)}" y="${(H - PAD - hb).toFixed(1)}" width="${(bw / 2).toFixed(1)}" height="${hb.toFixed(1)}" fill="#d62728" opacity="0.8"/>`;
  }
  return svg(
    `${axes(
      'score',
      'share of class',
      ticks(lo, lo + nb * width, (v) => String(Math.round(v))),
      ticks(0, max, (v) => pct(v)),
    )}${bars}<text x="${PAD + 8}" y="22" font-size="11" fill="#2ca02c">goods</text><text x="${PAD + 56}" y="22" font-size="11" fill="#d62728">bads</text>`,
    'Score distribution',
  );
}

function binSvg(b: FeatureBinning): string {
  const bins = allBins(b).filter((x) => x.count > 0);
  const maxRate = Math.max(...bins.map((x) => x.badRate), 1e-9);
  const bw = (W - PAD - 10) / Math.max(1, bins.length);
  const bars = bins
    .map((x, k) => {
      const h = (x.badRate / maxRate) * (H - PAD - 30);
      const cx = PAD + k * bw;
      return `<rect x="${(cx + 4).toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${(bw - 8).toFixed(1)}" height="${h.toFixed(1)}" fill="${x.woe > 0 ? '#d62728' : '#2ca02c'}"/><text x="${(cx + bw / 2).toFixed(1)}" y="${(H - PAD - h - 4).toFixed(1)}" font-size="10" text-anchor="middle">${pct(x.badRate)}</text><text x="${(cx + bw / 2).toFixed(1)}" y="${H - PAD + 14}" font-size="9" text-anchor="middle">${esc(x.label.length > 14 ? `${x.label.slice(0, 13)}…` : x.label)}</text>`;
    })
    .join('');
  // Bars are drawn to (H − PAD − 30) at the largest rate; the y ticks follow that scale.
  const top = maxRate * ((H - PAD - 10) / (H - PAD - 30));
  return svg(
    `${axes(
      'bin',
      'bad rate',
      [],
      ticks(0, top, (v) => pct(v)),
    )}${bars}`,
    `Bad rate by bin of ${b.feature}`,
  );
}

/** The cost matrix training recorded (params.costs); undefined in a file that has none, which says nothing of it. */
function recordedCosts(training: ModelFile['training']): CostMatrix | undefined {
  const c = training.params.costs as Partial<Record<keyof CostMatrix, unknown>> | undefined;
  return typeof c?.badAccepted === 'number' && typeof c.goodDeclined === 'number'
    ? { badAccepted: c.badAccepted, goodDeclined: c.goodDeclined }
    : undefined;
}

function metricsTable(training: ModelFile['training']): string {
  const m = training.metrics;
  const costs = recordedCosts(training);
  const matrix = costs
    ? `bad accepted costs ${costs.badAccepted}, good declined costs ${costs.goodDeclined}; `
    : '';
  const rows = [['train', m.train], ...(m.holdout ? [['hold-out', m.holdout] as const] : [])] as [
    string,
    ModelMetrics,
  ][];
  return `<table><tr><th>set</th><th>rows</th><th>bad rate</th><th>AUC</th><th>Gini</th><th>KS</th><th>log loss</th><th>Brier</th><th>expected cost / applicant (${matrix}decline if pd &gt; ${f4(m.train.costThreshold)})</th></tr>${rows
    .map(
      ([name, x]) =>
        `<tr><td>${name}</td><td>${x.rows}</td><td>${pct(x.badRate)}</td><td>${f4(x.auc)}</td><td>${f4(x.gini)}</td><td>${f4(x.ks)}</td><td>${f4(x.logLoss)}</td><td>${f4(x.brier)}</td><td>${f4(x.expectedCost)}</td></tr>`,
    )
    .join('')}</table>`;
}

function binTable(b: FeatureBinning, points?: readonly number[]): string {
  const rows = allBins(b)
    .map(
      (x, k) =>
        `<tr><td>${esc(x.label)}</td><td>${x.count}</td><td>${x.goods}</td><td>${x.bads}</td><td>${pct(x.badRate)}</td><td>${f4(x.woe)}</td><td>${f4(x.iv)}</td>${points ? `<td>${points[k]}</td>` : ''}</tr>`,
    )
    .join('');
  return `<table><tr><th>bin</th><th>count</th><th>goods</th><th>bads</th><th>bad rate</th><th>WOE</th><th>IV</th>${points ? '<th>points</th>' : ''}</tr>${rows}</table>`;
}

export interface ReportInput {
  readonly model: ModelFile;
  readonly binnings: readonly FeatureBinning[];
  readonly train: ScoredPart;
  readonly holdout?: ScoredPart;
  readonly evaluation?: EvaluationColumns;
}

function reliabilitySvg(rows: readonly ReliabilityRow[]): string {
  const max = Math.min(1, Math.max(0.05, ...rows.map((r) => Math.max(r.meanPd, r.observedBadRate))) * 1.1);
  const pts = rows.map((r): [number, number] => [r.meanPd / max, r.observedBadRate / max]);
  const dots = pts
    .map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="#1f77b4"/>`)
    .join('');
  return svg(
    `${axes('predicted PD (mean of decile)', 'observed bad rate', ticks(0, max, pct), ticks(0, max, pct))}${polyline(
      [
        [0, 0],
        [1, 1],
      ],
      '#bbb',
    )}${polyline(pts, '#1f77b4')}${dots}<text x="${PAD + 8}" y="22" font-size="11" fill="#888">perfect calibration</text>`,
    'Reliability plot',
  );
}

function calibrationSection(model: ModelFile, part: ScoredPart, evalName: string): string {
  const rows = reliabilityTable(part.pd, part.target);
  const info = model.training.calibration;
  const how = info
    ? `PD calibrated by ${info.method === 'platt' ? 'Platt scaling' : 'isotonic regression (steps of at least 5% of the rows)'}${info.requested === 'auto' ? ' (chosen by cross-validated log loss)' : ''} on ${info.folds}-fold out-of-fold predictions of the training rows (out-of-fold Brier ${f4(info.oofBrierBefore)} before, ${f4(info.oofBrierAfter)} after${info.cvBrier ? `; cross-validated Brier of Platt ${f4(info.cvBrier.platt)}, isotonic ${f4(info.cvBrier.isotonic)}` : ''}${info.cvLogLoss ? `; cross-validated log loss of Platt ${f4(info.cvLogLoss.platt)}, isotonic ${f4(info.cvLogLoss.isotonic)}` : ''}).`
    : "PD is the model's own (no separate calibration step; train with --calibrate platt|isotonic|auto to add one).";
  const table = rows
    .map(
      (r) =>
        `<tr><td>${r.decile}</td><td>${r.count}</td><td>${pct(r.meanPd)}</td><td>${pct(r.observedBadRate)}</td><td>${(100 * r.gap).toFixed(1)}</td></tr>`,
    )
    .join('');
  return `<h2>Calibration (${evalName})</h2><p>${how} Brier score ${f4(brierScore(part.pd, part.target))}.</p>
<div class="row"><table><tr><th>decile of PD</th><th>rows</th><th>expected (mean PD)</th><th>observed bad rate</th><th>observed − expected (points)</th></tr>${table}</table>${reliabilitySvg(rows)}</div>`;
}

function fairnessSvg(f: FairnessResult): string {
  const n = f.groups.length;
  const bw = (W - PAD - 10) / Math.max(1, n);
  const bars = f.groups
    .map((g, k) => {
      const h = g.adverseImpactRatio * (H - PAD - 10);
      const x = PAD + k * bw;
      return `<rect x="${(x + 4).toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${(bw - 8).toFixed(1)}" height="${h.toFixed(1)}" fill="${g.belowFourFifths ? '#d62728' : '#2ca02c'}"/><text x="${(x + bw / 2).toFixed(1)}" y="${H - PAD + 14}" font-size="9" text-anchor="middle">${esc(g.group.length > 16 ? `${g.group.slice(0, 15)}…` : g.group)}</text>`;
    })
    .join('');
  const line = `<line x1="${PAD}" y1="${sy(FOUR_FIFTHS).toFixed(1)}" x2="${W - 10}" y2="${sy(FOUR_FIFTHS).toFixed(1)}" stroke="#333" stroke-dasharray="4 3"/><text x="${W - 12}" y="${(sy(FOUR_FIFTHS) - 4).toFixed(1)}" font-size="10" text-anchor="end">four-fifths line (0.8)</text>`;
  return svg(
    `${axes(
      `group (${f.column})`,
      'adverse-impact ratio',
      [],
      ticks(0, 1, (v) => v.toFixed(2)),
    )}${bars}${line}`,
    'Adverse-impact ratio by group',
  );
}

function fairnessSection(
  model: ModelFile,
  part: ScoredPart,
  groups: readonly string[],
  evalName: string,
): string {
  const column = model.training.evaluationColumns?.group ?? 'group';
  const threshold = model.training.metrics.train.costThreshold;
  const f = fairnessByGroup(column, groups, part.pd, part.target, threshold);
  const rows = f.groups
    .map(
      (g) =>
        `<tr><td>${esc(g.group)}</td><td>${g.count}</td><td>${g.approved}</td><td>${pct(g.approvalRate)}</td><td>${pct(g.badRate)}</td><td>${g.adverseImpactRatio.toFixed(3)}</td><td>${g.belowFourFifths ? 'below 0.8' : 'ok'}</td></tr>`,
    )
    .join('');
  const excluded = model.training.protectedAttributes?.excluded ?? [];
  return `<h2>Fairness by ${esc(column)} (${evalName}, evaluation only)</h2>
<p>The group column is used for this table only, never as a model input${excluded.length > 0 ? `; protected attributes left out of training: ${excluded.map(esc).join(', ')}` : ''}. Approval = PD ≤ ${f4(threshold)} (the cost-based cut-off of the metrics table). Adverse-impact ratio = a group's approval rate over the highest group's; below 0.8 fails the four-fifths rule (29 CFR 1607.4(D)), the usual screen in fair-lending reviews (ECOA / Reg B disparate impact). Lowest ratio: ${f.minAdverseImpactRatio.toFixed(3)}.</p>
<div class="row"><table><tr><th>group</th><th>rows</th><th>approved</th><th>approval rate</th><th>observed bad rate</th><th>adverse-impact ratio</th><th>four-fifths</th></tr>${rows}</table>${fairnessSvg(f)}</div>`;
}

function stabilitySection(
  input: ReportInput,
  part: ScoredPart,
  times: readonly string[],
  evalName: string,
): string {
  const column = input.model.training.evaluationColumns?.time ?? 'time';
  const periods = stabilityOverTime(times, part.score, part.pd, part.target, input.train.score);
  const rows = periods
    .map(
      (p) =>
        `<tr><td>${esc(p.period)}</td><td>${p.count}</td><td>${pct(p.badRate)}</td><td>${pct(p.meanPd)}</td><td>${f4(p.auc)}</td><td>${f4(p.psi)}</td><td>${p.verdict}</td></tr>`,
    )
    .join('');
  const maxPsi = periods.reduce((m, p) => Math.max(m, p.psi), 0.3);
  const pts = periods.map((p, k): [number, number] => [
    // Inset 5% at both ends so the first and last period labels stay inside the chart.
    periods.length === 1 ? 0.5 : 0.05 + (0.9 * k) / (periods.length - 1),
    p.psi / maxPsi,
  ]);
  // At most 12 labelled ticks (every k-th period) keep the labels apart; the axis is never left without any.
  const every = Math.ceil(periods.length / 12);
  const xTicks = periods
    .map((p, k) => ({ at: pts[k]![0], label: p.period }))
    .filter((_, k) => k % every === 0);
  const guide = (v: number, label: string): string =>
    `<line x1="${PAD}" y1="${sy(v / maxPsi).toFixed(1)}" x2="${W - 10}" y2="${sy(v / maxPsi).toFixed(1)}" stroke="#999" stroke-dasharray="4 3"/><text x="${W - 12}" y="${(sy(v / maxPsi) - 3).toFixed(1)}" font-size="9" text-anchor="end">${label}</text>`;
  const chart = svg(
    `${axes(
      `period (${column})`,
      'PSI of the score vs training',
      xTicks,
      ticks(0, maxPsi, (v) => v.toFixed(2)),
    )}${guide(0.1, 'watch 0.10')}${guide(0.25, 'act 0.25')}${polyline(pts, '#1f77b4')}`,
    'Score stability over time',
  );
  return `<h2>Stability over time by ${esc(column)} (${evalName})</h2><p>Periods are calendar months of the date column. PSI compares each period's scores with the training scores' deciles (&lt; 0.1 stable, 0.1–0.25 watch, &gt; 0.25 act). A period of fewer than ${MIN_PERIOD_ROWS} rows gets no verdict ("too few rows"): on so few rows an unchanged population shows a PSI above 0.1 by chance alone.</p>
<div class="row"><table><tr><th>period</th><th>rows</th><th>bad rate</th><th>mean PD</th><th>AUC</th><th>PSI</th><th>verdict</th></tr>${rows}</table>${chart}</div>`;
}

function tuningSection(model: ModelFile): string {
  const t = model.training.tuning;
  if (t === undefined) return '';
  const chosen = Object.entries(t.chosen)
    .map(([k, v]) => `${esc(k)} = ${esc(String(v))}`)
    .join(', ');
  const rows = t.candidates
    .map(
      (c) =>
        `<tr><td>${esc(
          Object.entries(c.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        )}</td><td>${c.foldAuc.map((a) => a.toFixed(4)).join(' ')}</td><td>${c.meanAuc.toFixed(4)}</td><td>${c.foldRounds ? c.foldRounds.join(' ') : ''}</td></tr>`,
    )
    .join('');
  return `<h2>Tuning</h2><p>${esc(t.method)}, by ${t.folds}-fold stratified cross-validated AUC on the training rows only (the hold-out part is not used). Chosen: ${chosen} (mean fold AUC ${t.meanAuc.toFixed(4)}).</p>
<table><tr><th>settings</th><th>fold AUCs</th><th>mean</th><th>best rounds per fold</th></tr>${rows}</table>`;
}

/** How each feature moves the risk: fitted bin trend (scorecard) or the GBDT's monotone constraint. */
function directionOf(model: ModelFile, b: FeatureBinning): string {
  const constraint = model.training.monotone?.[b.feature];
  if (model.kind === 'gbdt')
    return constraint === undefined
      ? 'unconstrained'
      : constraint > 0
        ? 'constrained: PD rises with the value'
        : 'constrained: PD falls with the value';
  const d = riskDirection(b);
  return d === 'rises'
    ? 'bad rate rises with the value'
    : d === 'falls'
      ? 'bad rate falls with the value'
      : b.type === 'numeric'
        ? `${b.trend}`
        : 'categorical';
}

export function renderReport(input: ReportInput): string {
  const { model } = input;
  const evalPart = input.holdout ?? input.train;
  const evalName = input.holdout ? 'hold-out' : 'training';
  const pointsOf = (name: string): readonly number[] | undefined =>
    model.kind === 'scorecard' ? model.scorecard.features.find((f) => f.name === name)?.points : undefined;
  const selected = new Set(model.features.map((f) => f.name));
  const features = [...input.binnings]
    .sort((a, b) => b.iv - a.iv)
    .map(
      (
        b,
      ) => `<section><h3>${esc(b.feature)} <small>(${b.type}, IV ${f4(b.iv)}, ${esc(directionOf(model, b))}${selected.has(b.feature) ? ', in model' : ', not in model'})</small></h3>
<div class="row">${binTable(b, pointsOf(b.feature))}${binSvg(b)}</div></section>`,
    )
    .join('\n');
  const bands = scoreBands(evalPart.score, evalPart.target, 10)
    .map(
      (s) =>
        `<tr><td>${s.band}</td><td>${s.minScore}–${s.maxScore}</td><td>${s.count}</td><td>${s.bads}</td><td>${pct(s.badRate)}</td><td>${pct(s.cumulativeBadShare)}</td></tr>`,
    )
    .join('');
  const selection = model.training.selection
    .map(
      (s) =>
        `<tr><td>${esc(s.feature)}</td><td>${s.type}</td><td>${f4(s.iv)}</td><td>${s.selected ? 'yes' : 'no'}</td><td>${esc(s.reason)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(model.id)} v${model.version} — model report</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 16px 8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}.row{display:flex;flex-wrap:wrap;align-items:flex-start}section{border-top:1px solid #eee;margin-top:12px}small{color:#666;font-weight:normal}</style></head>
<body>
<h1>${esc(model.id)} v${model.version} <small>${model.kind}</small></h1>
<p>Created ${esc(model.createdAt)} · target <code>${esc(model.target.column)}</code> = <code>${esc(model.target.bad)}</code> is bad · data sha256 <code>${model.training.dataSha256}</code> · ${model.training.rows} rows (${model.training.trainRows} train, ${model.training.holdoutRows} hold-out, seed ${model.training.seed}) · scaling ${model.scaling.basePoints} points at ${model.scaling.baseOdds}:1 good:bad, PDO ${model.scaling.pdo} · toolkit ${model.software.toolkitVersion}</p>
<p>WOE convention: WOE = ln(bad% / good%) — a higher WOE is riskier; +0.5 smoothing only where a bin has no bads or no goods.</p>
<h2>Performance</h2>${metricsTable(model.training)}
<div class="row"><div><h3>ROC (${evalName})</h3>${rocSvg(evalPart)}</div><div><h3>KS (${evalName}, KS ${f4(model.training.metrics.holdout?.ks ?? model.training.metrics.train.ks)})</h3>${ksSvg(evalPart)}</div><div><h3>Score distribution (${evalName})</h3>${distributionSvg(evalPart)}</div></div>
<h2>Bad rate by score band (${evalName})</h2><table><tr><th>band</th><th>score</th><th>count</th><th>bads</th><th>bad rate</th><th>cumulative bads</th></tr>${bands}</table>
<h2>Feature selection</h2><table><tr><th>feature</th><th>type</th><th>IV</th><th>in model</th><th>why</th></tr>${selection}</table>
${calibrationSection(model, evalPart, evalName)}
${input.evaluation?.time ? stabilitySection(input, evalPart, input.evaluation.time, evalName) : ''}
${input.evaluation?.group ? fairnessSection(model, evalPart, input.evaluation.group, evalName) : ''}
${tuningSection(model)}
${model.training.warnings.length > 0 ? `<h2>Data warnings</h2><ul>${model.training.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<h2>Bins</h2>
${features}
</body></html>
`;
}
