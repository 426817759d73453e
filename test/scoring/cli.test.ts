import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import {
  exitCodeFor,
  registerModelCommand,
  runModelMonitor,
  runModelScore,
  runModelTrain,
  writeFilesAtomic,
} from '../../src/cli/commands/model.js';
import { parseCsv, readCsvTable } from '../../src/scoring/csv.js';
import { scorerFromModel } from '../../src/scoring/scorer.js';
import { rowRecord } from '../../src/scoring/train.js';

const dir = mkdtempSync(join(tmpdir(), 'lg-model-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const clock = new ManualClock(Date.UTC(2025, 5, 1));

async function failure(fn: () => unknown): Promise<{ code: number; message: string }> {
  try {
    await fn();
  } catch (error) {
    return { code: exitCodeFor(error), message: error instanceof Error ? error.message : String(error) };
  }
  throw new Error('expected a failure');
}

const sets = [
  { name: 'german', file: 'data/german_credit.csv', target: 'class', kinds: ['scorecard', 'gbdt'] as const },
  { name: 'credit', file: 'data/credit_data.csv', target: 'Status', kinds: ['scorecard', 'gbdt'] as const },
];

describe.each(sets)('model CLI round trip on $name', ({ name, file, target, kinds }) => {
  it.each(kinds)('train %s -> score -> monitor', async (kind) => {
    const out = join(dir, `${name}-${kind}.json`);
    const report = join(dir, `${name}-${kind}.html`);
    const summary = await runModelTrain(
      { data: file, target, bad: 'bad', out, report, kind, seed: 42, id: `${name}-${kind}` },
      clock,
    );
    expect(summary.kind).toBe(kind);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('ROC');

    const scores = join(dir, `${name}-${kind}-scores.csv`);
    const { rows } = runModelScore({ model: out, data: file, out: scores });
    const input = readCsvTable(readFileSync(file, 'utf8'));
    expect(rows).toBe(input.rows.length);
    const written = parseCsv(readFileSync(scores, 'utf8'));
    expect(written[0]).toEqual(['score', 'pd', 'reason1', 'reason2', 'reason3', 'reason4']);
    // Same numbers as the engine-facing ModelScorer, row by row, in the same order.
    const scorer = scorerFromModel(JSON.parse(readFileSync(out, 'utf8')));
    for (const i of [0, 1, 17, input.rows.length - 1]) {
      const s = scorer.score(rowRecord(input, i));
      expect(written[i + 1]![0]).toBe(String(s.score));
      expect(Number(written[i + 1]![1])).toBe(s.pd);
      if (s.reasons[0]) expect(written[i + 1]![2]).toBe(`${s.reasons[0].code}: ${s.reasons[0].text}`);
    }

    const same = runModelMonitor({ model: out, baseline: file, current: file });
    expect(same.score.index).toBe(0);
    expect(same.verdict).toBe('stable');
    // A drifted population: only the first half of the rows sorted by the first feature.
    const feature = scorer.features[0]!;
    const j = input.header.indexOf(feature);
    const drifted = [...input.rows]
      .sort((a, b) => (a[j]! < b[j]! ? -1 : 1))
      .slice(0, Math.floor(input.rows.length / 3));
    const driftFile = join(dir, `${name}-${kind}-drift.csv`);
    writeFileSync(
      driftFile,
      [
        input.header.join(','),
        ...drifted.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')),
      ].join('\n'),
    );
    const drift = runModelMonitor({ model: out, baseline: file, current: driftFile });
    expect(drift.features.find((f) => f.name === feature)!.index).toBeGreaterThan(0.25);
    expect(drift.verdict).toBe('act');
  });
});

describe('model CLI bad input', () => {
  const out = join(dir, 'never.json');
  const write = (nameOf: string, text: string): string => {
    const p = join(dir, nameOf);
    writeFileSync(p, text);
    return p;
  };
  const noOutput = (): void => {
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  };

  it('an empty file', async () => {
    const f = await failure(() =>
      runModelTrain({ data: write('empty.csv', ''), target: 'y', bad: 'bad', out }, clock),
    );
    expect(f.code).toBe(2);
    expect(f.message).toMatch(/empty/);
    noOutput();
  });

  it('a missing target column', async () => {
    const f = await failure(() =>
      runModelTrain({ data: 'data/german_credit.csv', target: 'Class', bad: 'bad', out }, clock),
    );
    expect(f.code).toBe(2);
    expect(f.message).toMatch(/"Class"/);
    noOutput();
  });

  it('a target with one class', async () => {
    const f = await failure(() =>
      runModelTrain({ data: 'data/german_credit.csv', target: 'class', bad: 'BAD', out }, clock),
    );
    expect(f.code).toBe(2);
    expect(f.message).toMatch(/one class/);
    noOutput();
  });

  it('a target with values beside the bad value and one good value', async () => {
    const lines = readFileSync('data/german_credit.csv', 'utf8').trim().split('\n');
    for (let i = 3; i <= 30; i += 3) lines[i] = lines[i]!.replace(/^\w+,/, 'unknown,');
    const f = await failure(() =>
      runModelTrain(
        { data: write('three-labels.csv', lines.join('\n')), target: 'class', bad: 'bad', out },
        clock,
      ),
    );
    expect(f.code).toBe(2);
    expect(f.message).toMatch(/"class" has 3 distinct values \("good", "bad", "unknown"\)/);
    noOutput();
  });

  it('non-numeric values in a numeric column beyond the threshold', async () => {
    const lines = readFileSync('data/german_credit.csv', 'utf8').trim().split('\n');
    for (let i = 5; i <= 75; i += 5) lines[i] = lines[i]!.replace(/^(\w+),\d+,/, '$1,twelve,');
    const f = await failure(() =>
      runModelTrain({ data: write('dirty.csv', lines.join('\n')), target: 'class', bad: 'bad', out }, clock),
    );
    expect(f.code).toBe(2);
    expect(f.message).toMatch(/"Duration".*row 5/);
    noOutput();
  });

  it('--tune with more folds than the training part has bad (or good) rows', async () => {
    // 4 bad and 8 good rows: after the 30% hold-out, 3 bad and 6 good rows for 5 folds (and 6 good for 7).
    const lines = readFileSync('data/german_credit.csv', 'utf8').trim().split('\n');
    const tiny = [
      lines[0]!,
      ...lines.filter((l) => l.startsWith('bad,')).slice(0, 4),
      ...lines.filter((l) => l.startsWith('good,')).slice(0, 8),
    ];
    const data = write('tiny.csv', tiny.join('\n'));
    for (const kind of ['scorecard', 'gbdt'] as const) {
      const f = await failure(() =>
        runModelTrain({ data, target: 'class', bad: 'bad', out, kind, tune: true, jobs: 1 }, clock),
      );
      expect(f.code).toBe(2);
      expect(f.message).toMatch(/5 folds.*3 bad and 6 good/);
      noOutput();
    }
    // Two folds over all 12 rows each hold 2 bad rows: tuning goes ahead and every fold has an AUC.
    const fits = join(dir, 'tiny-2-folds.json');
    await runModelTrain(
      { data, target: 'class', bad: 'bad', out: fits, tune: true, folds: 2, holdout: 0 },
      clock,
    );
    const tuning = JSON.parse(readFileSync(fits, 'utf8')).training.tuning;
    for (const c of tuning.candidates) for (const auc of c.foldAuc) expect(Number.isFinite(auc)).toBe(true);
  });

  it('a report that cannot be written leaves no model file behind and names the report path', async () => {
    const report = join(dir, 'no-such-dir', 'r.html');
    const f = await failure(() =>
      runModelTrain({ data: 'data/german_credit.csv', target: 'class', bad: 'bad', out, report }, clock),
    );
    expect(f.code).toBe(2);
    expect(f.message).toContain(`cannot write report ${report}`);
    expect(f.message).not.toMatch(/\.tmp/);
    noOutput();
  });

  it('writes several files all or none: a later file that fails takes the earlier ones with it', () => {
    const first = join(dir, 'first.json');
    const second = join(dir, 'missing-dir', 'second.html');
    let error: unknown;
    try {
      writeFilesAtomic([
        { path: first, what: 'model file', content: '{}' },
        { path: second, what: 'report', content: '<html>' },
      ]);
    } catch (e) {
      error = e;
    }
    expect(exitCodeFor(error)).toBe(2);
    expect(String(error)).toContain(`cannot write report ${second}: ENOENT`);
    expect(existsSync(first)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an output path that is a directory', async () => {
    const f = await failure(() =>
      runModelTrain({ data: 'data/german_credit.csv', target: 'class', bad: 'bad', out, report: dir }, clock),
    );
    expect(f.code).toBe(2);
    expect(f.message).toContain(`cannot write report ${dir}: EISDIR`);
    noOutput();
  });

  it('the same path for --out and --report (or --data)', async () => {
    const data = write('same-data.csv', readFileSync('data/german_credit.csv', 'utf8'));
    for (const paths of [
      { out, report: out },
      { out, report: join(dir, '.', 'never.json') },
      { out: data, report: join(dir, 'r.html') },
    ]) {
      const f = await failure(() => runModelTrain({ data, target: 'class', bad: 'bad', ...paths }, clock));
      expect(f.code).toBe(2);
      expect(f.message).toMatch(/same file/);
      noOutput();
    }
    expect(readFileSync(data, 'utf8')).toBe(readFileSync('data/german_credit.csv', 'utf8'));
  });

  it.each([
    [{ pdo: 0 }, /pdo must be > 0/],
    [{ baseOdds: -1 }, /base odds must be > 0/],
    [{ version: 0 }, /version must be an integer >= 1/],
    [{ seed: 0 }, /seed must be an integer from 1 to 4294967295/],
    [{ seed: 2 ** 32 }, /seed must be an integer from 1 to 4294967295/],
    [{ seed: 1e20 }, /seed must be an integer from 1 to 4294967295/],
  ])('refuses %o up front, before the data is read', async (flag, message) => {
    // An empty data file: a refusal that names the flag came before the data was read.
    const data = write('unread.csv', '');
    const f = await failure(() => runModelTrain({ data, target: 'y', bad: 'bad', out, ...flag }, clock));
    expect(f.code).toBe(2);
    expect(f.message).toMatch(message);
    noOutput();
  });

  it('a missing data file, a malformed model, a model column absent from the data', async () => {
    expect(
      (
        await failure(() =>
          runModelTrain({ data: join(dir, 'nope.csv'), target: 'y', bad: 'bad', out }, clock),
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await failure(() =>
          runModelScore({
            model: write('bad-model.json', '{"format":"x"}'),
            data: 'data/german_credit.csv',
            out,
          }),
        )
      ).code,
    ).toBe(2);
    const model = join(dir, 'german-scorecard.json');
    if (!existsSync(model))
      await runModelTrain({ data: 'data/german_credit.csv', target: 'class', bad: 'bad', out: model }, clock);
    const f = await failure(() => runModelScore({ model, data: 'data/credit_data.csv', out }));
    expect(f.code).toBe(2);
    noOutput();
  });
});

describe('commander wiring', () => {
  it('runs `model score` in-process', async () => {
    const model = join(dir, 'wired.json');
    await runModelTrain({ data: 'data/german_credit.csv', target: 'class', bad: 'bad', out: model }, clock);
    const program = new Command('lineguard');
    registerModelCommand(program, async () => {
      throw new Error('not needed');
    });
    const scores = join(dir, 'wired.csv');
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await program.parseAsync(
        ['model', 'score', '--model', model, '--data', 'data/german_credit.csv', '--out', scores],
        { from: 'user' },
      );
    } finally {
      process.stdout.write = write;
    }
    expect(process.exitCode ?? 0).toBe(0);
    expect(parseCsv(readFileSync(scores, 'utf8')).length).toBe(1001);
  });
});

/** Runs `lineguard …` in-process: what it printed on stdout and stderr, and its exit code (reset for the next run). */
async function runCli(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command('lineguard');
  registerModelCommand(program, async () => {
    throw new Error('not needed');
  });
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write;
  const stderr = process.stderr.write;
  const capture =
    (chunks: string[]) =>
    (c: string): boolean => {
      chunks.push(String(c));
      return true;
    };
  process.stdout.write = capture(out) as typeof process.stdout.write;
  process.stderr.write = capture(err) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
    process.stderr.write = stderr;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout: out.join(''), stderr: err.join(''), code };
}

describe('commander wiring of the review options', () => {
  async function run(args: string[]): Promise<string> {
    const r = await runCli(args);
    process.exitCode = r.code;
    return r.stdout;
  }

  it('`model train --tune --folds --monotone --calibrate --group-column` then `model compare --json`', async () => {
    const a = join(dir, 'cli-tuned.json');
    const b = join(dir, 'cli-plain.json');
    const report = join(dir, 'cli-tuned.html');
    await run([
      'model',
      'train',
      '--data',
      'data/german_credit.csv',
      '--target',
      'class',
      '--bad',
      'bad',
      '--out',
      a,
      '--kind',
      'gbdt',
      '--tune',
      '--folds',
      '3',
      '--jobs',
      '2',
      '--monotone',
      'Duration:+1',
      '--calibrate',
      'isotonic',
      '--group-column',
      'Personal',
      '--report',
      report,
    ]);
    expect(process.exitCode ?? 0).toBe(0);
    const tuned = JSON.parse(readFileSync(a, 'utf8'));
    expect(tuned.training.tuning.folds).toBe(3);
    expect(tuned.training.monotone).toEqual({ Duration: 1 });
    expect(tuned.calibration.method).toBe('isotonic');
    expect(tuned.features.map((f: { name: string }) => f.name)).not.toContain('Personal');
    expect(readFileSync(report, 'utf8')).toContain('Fairness by Personal');
    await run([
      'model',
      'train',
      '--data',
      'data/german_credit.csv',
      '--target',
      'class',
      '--bad',
      'bad',
      '--out',
      b,
    ]);
    const out = await run([
      'model',
      'compare',
      '--models',
      a,
      b,
      '--data',
      'data/german_credit.csv',
      '--target',
      'class',
      '--bad',
      'bad',
      '--json',
    ]);
    const r = JSON.parse(out);
    expect(r.models).toHaveLength(2);
    expect(r.delong[0].pValue).toBeGreaterThanOrEqual(0);
    const text = await run([
      'model',
      'compare',
      '--models',
      a,
      b,
      '--data',
      'data/german_credit.csv',
      '--target',
      'class',
      '--bad',
      'bad',
    ]);
    expect(text).toMatch(/AUC\s+KS\s+Gini\s+log loss\s+Brier/);
    expect(text).toMatch(/DeLong cli-tuned\.json vs cli-plain\.json: AUC difference -?\d\.\d{4} .* p = /);
  });

  it('refuses a bad --calibrate value with exit 2', async () => {
    process.exitCode = 0;
    await run([
      'model',
      'train',
      '--data',
      'data/german_credit.csv',
      '--target',
      'class',
      '--bad',
      'bad',
      '--out',
      join(dir, 'never.json'),
      '--calibrate',
      'magic',
    ]);
    expect(process.exitCode).toBe(2);
    process.exitCode = 0;
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });

  it('refuses --jobs 0 with exit 2', async () => {
    process.exitCode = 0;
    const args = ['model', 'train', '--data', 'data/german_credit.csv', '--target', 'class', '--bad', 'bad'];
    await run([...args, '--out', join(dir, 'never.json'), '--kind', 'gbdt', '--tune', '--jobs', '0']);
    expect(process.exitCode).toBe(2);
    process.exitCode = 0;
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });
});

describe('reproducible model files', () => {
  const german = ['model', 'train', '--data', 'data/german_credit.csv', '--target', 'class', '--bad', 'bad'];
  const epoch = process.env.SOURCE_DATE_EPOCH;
  afterAll(() => {
    if (epoch === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = epoch;
  });

  it('SOURCE_DATE_EPOCH pins the run: the same bytes on one worker thread or two', async () => {
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    const files: { model: string; report: string }[] = [];
    for (const jobs of ['1', '2']) {
      const out = join(dir, `repro-${jobs}.json`);
      const report = join(dir, `repro-${jobs}.html`);
      // GBDT with calibration: its out-of-fold fits run on the worker threads.
      const args = [
        '--kind',
        'gbdt',
        '--calibrate',
        'platt',
        '--jobs',
        jobs,
        '--out',
        out,
        '--report',
        report,
      ];
      const r = await runCli([...german, ...args]);
      expect(r.code).toBe(0);
      files.push({ model: readFileSync(out, 'utf8'), report: readFileSync(report, 'utf8') });
    }
    expect(files[1]!.model).toBe(files[0]!.model);
    expect(files[1]!.report).toBe(files[0]!.report);
    const model = JSON.parse(files[0]!.model);
    expect(model.createdAt).toBe('2023-11-14T22:13:20.000Z');
    expect(model.training.durationMs).toBe(0);
  });

  it.each(['yesterday', '-1', '1.5', '1e9', '99999999999999'])(
    'refuses SOURCE_DATE_EPOCH=%s with exit 2 before training',
    async (value) => {
      process.env.SOURCE_DATE_EPOCH = value;
      const out = join(dir, 'never.json');
      const r = await runCli([...german, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/LG_VALIDATION: SOURCE_DATE_EPOCH must be/);
      expect(existsSync(out)).toBe(false);
    },
  );

  it('an empty SOURCE_DATE_EPOCH is unset: the clock runs', async () => {
    process.env.SOURCE_DATE_EPOCH = '';
    const out = join(dir, 'repro-unset.json');
    const r = await runCli([...german, '--out', out]);
    expect(r.code).toBe(0);
    expect(Date.parse(JSON.parse(readFileSync(out, 'utf8')).createdAt)).toBeGreaterThan(Date.UTC(2024, 0, 1));
  });
});

describe('options that name nothing', () => {
  const german = ['model', 'train', '--data', 'data/german_credit.csv', '--target', 'class', '--bad', 'bad'];
  const out = join(dir, 'never.json');

  it.each([
    [
      ['--types', 'Duration:numeric,Nope:categorical'],
      /--types names column "Nope", which is not in the header/,
    ],
    [['--types', 'class:numeric'], /--types names column "class", which is the target/],
    [['--id', ''], /model id \(--id\) must not be empty/],
    [['--id', '  '], /model id \(--id\) must not be empty/],
  ])('%j is refused with exit 2', async (flags, message) => {
    const r = await runCli([...german, '--out', out, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the cost matrix', () => {
  it('sets the cut-off of expected cost and fairness, is recorded in the model file and shown in the report', async () => {
    const run = async (name: string, costs?: { badAccepted: number; goodDeclined: number }) => {
      const out = join(dir, `costs-${name}.json`);
      const report = join(dir, `costs-${name}.html`);
      await runModelTrain(
        {
          data: 'data/german_credit.csv',
          target: 'class',
          bad: 'bad',
          out,
          report,
          groupColumn: 'Personal',
          ...(costs ? { costs } : {}),
        },
        clock,
      );
      return { model: JSON.parse(readFileSync(out, 'utf8')), html: readFileSync(report, 'utf8') };
    };
    const german = await run('default');
    expect(german.model.training.params.costs).toEqual({ badAccepted: 5, goodDeclined: 1 });
    expect(german.model.training.metrics.holdout.costThreshold).toBeCloseTo(1 / 6, 12);
    expect(german.html).toContain('bad accepted costs 5, good declined costs 1; decline if pd &gt; 0.1667');
    expect(german.html).toContain('Approval = PD ≤ 0.1667');
    const even = await run('even', { badAccepted: 1, goodDeclined: 1 });
    expect(even.model.training.params.costs).toEqual({ badAccepted: 1, goodDeclined: 1 });
    expect(even.model.training.metrics.holdout.costThreshold).toBe(0.5);
    expect(even.html).toContain('bad accepted costs 1, good declined costs 1; decline if pd &gt; 0.5000');
    expect(even.html).toContain('Approval = PD ≤ 0.5000');
    // The same model, another cut-off: fewer declines cost less when a bad costs no more than a good.
    expect(even.model.training.metrics.holdout.expectedCost).not.toBe(
      german.model.training.metrics.holdout.expectedCost,
    );
  });
});

describe('the cost flags', () => {
  const german = ['model', 'train', '--data', 'data/german_credit.csv', '--target', 'class', '--bad', 'bad'];

  it('--cost-bad-accepted and --cost-good-declined reach the model file', async () => {
    const out = join(dir, 'cost-flags.json');
    const r = await runCli([
      ...german,
      '--out',
      out,
      '--cost-bad-accepted',
      '3',
      '--cost-good-declined',
      '1.5',
    ]);
    expect(r.code).toBe(0);
    const training = JSON.parse(readFileSync(out, 'utf8')).training;
    expect(training.params.costs).toEqual({ badAccepted: 3, goodDeclined: 1.5 });
    expect(training.metrics.train.costThreshold).toBeCloseTo(1 / 3, 12);
  });

  it.each([
    [
      ['--cost-bad-accepted', '0'],
      /cost of a bad accepted \(--cost-bad-accepted\) must be a number > 0, got 0/,
    ],
    [['--cost-good-declined', '-1'], /cost of a good declined \(--cost-good-declined\) must be a number > 0/],
    [['--cost-bad-accepted', 'five'], /--cost-bad-accepted must be a number, got "five"/],
  ])('%j is refused with exit 2', async (flags, message) => {
    const out = join(dir, 'never.json');
    const r = await runCli([...german, '--out', out, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a categorical id column in a GBDT', () => {
  it('is warned about in the report as well as on stderr', async () => {
    const lines = readFileSync('data/german_credit.csv', 'utf8').trim().split('\n');
    const data = join(dir, 'german-with-ref.csv');
    writeFileSync(data, lines.map((l, i) => `${l},${i === 0 ? 'CustomerRef' : `R${10000 + i}`}`).join('\n'));
    const out = join(dir, 'german-with-ref.json');
    const report = join(dir, 'german-with-ref.html');
    const summary = await runModelTrain(
      { data, target: 'class', bad: 'bad', out, report, kind: 'gbdt' },
      clock,
    );
    const warning =
      /categorical column "CustomerRef" has, in most training rows, a value found in fewer than 10 of them.*treats such a value as unseen.*--ignore CustomerRef/;
    expect(summary.warnings.join('\n')).toMatch(warning);
    const html = readFileSync(report, 'utf8');
    const warnings = html.slice(html.indexOf('<h2>Data warnings</h2>'));
    expect(warnings).toContain('<h2>Data warnings</h2>');
    // The report escapes quotes as character references.
    expect(warnings.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)))).toMatch(warning);
  });
});
