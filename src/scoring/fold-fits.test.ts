import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsvTable } from './csv.js';
import { prepareDataset, stratifiedFolds, subsetDataset } from './dataset.js';
import { foldWorkerEntry, inThreadFitter, startFoldFitter, tuneJobs, TUNE_JOBS_ENV } from './fold-fits.js';

const table = readCsvTable(readFileSync('data/german_credit.csv', 'utf8'));
const german = prepareDataset(table, { target: 'class', bad: 'bad' }).dataset;
const data = subsetDataset(
  german,
  Array.from({ length: 300 }, (_, i) => i),
);
const folds = stratifiedFolds(data.target, 3, 1);
const jobs = [0, 1, 2].map((fold) => ({ params: { rounds: 20 }, fold }));

describe('fold fitter', () => {
  it('runs in this thread when no worker can start, with the same fits', async () => {
    const missing = { entry: new URL('./no-such-worker.js', import.meta.url).href };
    const fallback = await startFoldFitter(data, folds, 3, 2, missing);
    expect(fallback.threads).toBe(0);
    const fits = await fallback.fitAll(jobs, () => undefined);
    await fallback.close();
    expect(fits).toEqual(await inThreadFitter(data, folds, 3).fitAll(jobs, () => undefined));
  });

  it('runs in this thread for jobs = 1', async () => {
    const fitter = await startFoldFitter(data, folds, 3, 1);
    expect(fitter.threads).toBe(0);
    await fitter.close();
  });

  it("a fit that fails on a worker fails the batch with the worker's message, and close() stops the workers", async () => {
    const fitter = await startFoldFitter(data, folds, 3, 2);
    expect(fitter.threads).toBe(2);
    const batch = fitter.fitAll([...jobs, { params: {}, fold: 7 }], () => undefined);
    await expect(batch).rejects.toThrow(/undefined/);
    await fitter.close();
    await expect(fitter.fitAll(jobs, () => undefined)).rejects.toThrow(/stopped/);
  });

  it('finds its worker module beside it: .ts in the sources (with tsx to load it), .js in the build', () => {
    expect(foldWorkerEntry('file:///app/dist/scoring/fold-fits.js')).toEqual({
      entry: 'file:///app/dist/scoring/fold-worker.js',
    });
    expect(foldWorkerEntry(import.meta.url)?.entry).toMatch(/src\/scoring\/fold-worker\.ts$/);
    expect(foldWorkerEntry(import.meta.url)?.tsLoader).toMatch(/tsx/);
  });
});

describe('tuneJobs', () => {
  it('takes the number asked for, else LINEGUARD_TUNE_JOBS, else every core', () => {
    expect(tuneJobs(3, { [TUNE_JOBS_ENV]: '1' })).toBe(3);
    expect(tuneJobs(undefined, { [TUNE_JOBS_ENV]: '1' })).toBe(1);
    expect(tuneJobs(undefined, {})).toBeGreaterThanOrEqual(1);
  });

  it('refuses zero, fractions and words', () => {
    expect(() => tuneJobs(0)).toThrow(/positive integer/);
    expect(() => tuneJobs(1.5)).toThrow(/positive integer/);
    expect(() => tuneJobs(undefined, { [TUNE_JOBS_ENV]: 'many' })).toThrow(/LINEGUARD_TUNE_JOBS/);
  });
});
