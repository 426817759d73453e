/**
 * The training report: one self-contained HTML file (inline CSS and SVG, no scripts, no external assets) that a
 * model-risk reviewer can open offline. Charts are drawn from the same numbers the model file records.
 */
import type { FeatureBinning } from './binning.js';
import { allBins } from './binning.js';
import { rocCurve, scoreBands, type ModelMetrics } from './metrics.js';
import type { ModelFile } from './model-file.js';
import type { ScoredPart } from './train.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

const W = 420;
const H = 260;
const PAD = 36;

function axes(xLabel: string, yLabel: string): string {
  return `<line x1="${PAD}" y1="${H - PAD}" x2="${W - 10}" y2="${H - PAD}" stroke="#333"/><line x1="${PAD}" y1="10" x2="${PAD}" y2="${H - PAD}" stroke="#333"/>
<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text><text x="12" y="${H / 2}" font-size="11" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text>`;
}

const sx = (x: number): number => PAD + x * (W - PAD - 10);
const sy = (y: number): number => H - PAD - y * (H - PAD - 10);

function polyline(points: readonly [number, number][], colour: string): string {
  return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`;
}

function svg(body: string, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${body}</svg>`;
}

function rocSvg(part: ScoredPart): string {
  const pts = rocCurve(part.pd, part.target).map((p): [number, number] => [p.fpr, p.tpr]);
  return svg(
    `${axes('false-positive rate (goods declined)', 'true-positive rate (bads declined)')}${polyline(
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
    `${axes('share of applicants, lowest score first', 'cumulative share')}${polyline(badPts, '#d62728')}${polyline(goodPts, '#2ca02c')}
<text x="${PAD + 8}" y="22" font-size="11" fill="#d62728">bads</text><text x="${PAD + 48}" y="22" font-size="11" fill="#2ca02c">goods</text>`,
    'KS curve',
  );
}

function distributionSvg(part: ScoredPart): string {
  const scores = Array.from(part.score);
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
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
  const ticks = `<text x="${PAD}" y="${H - PAD + 12}" font-size="10">${lo}</text><text x="${W - 10}" y="${H - PAD + 12}" font-size="10" text-anchor="end">${hi}</text>`;
  return svg(
    `${axes('score', 'share of class')}${bars}${ticks}<text x="${PAD + 8}" y="22" font-size="11" fill="#2ca02c">goods</text><text x="${PAD + 56}" y="22" font-size="11" fill="#d62728">bads</text>`,
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
      return `<rect x="${(cx + 4).toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${(bw - 8).toFixed(1)}" height="${h.toFixed(1)}" fill="${x.woe > 0 ? '#d62728' : '#2ca02c'}"/><text x="${(cx + bw / 2).toFixed(1)}" y="${(H - PAD - h - 4).toFixed(1)}" font-size="10" text-anchor="middle">${pct(x.badRate)}</text><text x="${(cx + bw / 2).toFixed(1)}" y="${H - PAD + 12}" font-size="9" text-anchor="middle">${esc(x.label.length > 14 ? `${x.label.slice(0, 13)}…` : x.label)}</text>`;
    })
    .join('');
  return svg(`${axes('bin', 'bad rate')}${bars}`, `Bad rate by bin of ${b.feature}`);
}

function metricsTable(m: { train: ModelMetrics; holdout?: ModelMetrics }): string {
  const rows = [['train', m.train], ...(m.holdout ? [['hold-out', m.holdout] as const] : [])] as [
    string,
    ModelMetrics,
  ][];
  return `<table><tr><th>set</th><th>rows</th><th>bad rate</th><th>AUC</th><th>Gini</th><th>KS</th><th>log loss</th><th>expected cost / applicant (decline if pd &gt; ${f4(m.train.costThreshold)})</th></tr>${rows
    .map(
      ([name, x]) =>
        `<tr><td>${name}</td><td>${x.rows}</td><td>${pct(x.badRate)}</td><td>${f4(x.auc)}</td><td>${f4(x.gini)}</td><td>${f4(x.ks)}</td><td>${f4(x.logLoss)}</td><td>${f4(x.expectedCost)}</td></tr>`,
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
      ) => `<section><h3>${esc(b.feature)} <small>(${b.type}, IV ${f4(b.iv)}${b.type === 'numeric' ? `, ${b.trend}` : ''}${selected.has(b.feature) ? ', in model' : ', not in model'})</small></h3>
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
<h2>Performance</h2>${metricsTable(model.training.metrics)}
<div class="row"><div><h3>ROC (${evalName})</h3>${rocSvg(evalPart)}</div><div><h3>KS (${evalName}, KS ${f4(model.training.metrics.holdout?.ks ?? model.training.metrics.train.ks)})</h3>${ksSvg(evalPart)}</div><div><h3>Score distribution (${evalName})</h3>${distributionSvg(evalPart)}</div></div>
<h2>Bad rate by score band (${evalName})</h2><table><tr><th>band</th><th>score</th><th>count</th><th>bads</th><th>bad rate</th><th>cumulative bads</th></tr>${bands}</table>
<h2>Feature selection</h2><table><tr><th>feature</th><th>type</th><th>IV</th><th>in model</th><th>why</th></tr>${selection}</table>
${model.training.warnings.length > 0 ? `<h2>Data warnings</h2><ul>${model.training.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<h2>Bins</h2>
${features}
</body></html>
`;
}
