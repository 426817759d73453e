import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsvTable } from '../../src/scoring/csv.js';
import { scorerFromModel } from '../../src/scoring/scorer.js';
import { sha256Hex } from '../../src/domain/sha256.js';
import { rowRecord, trainModel } from '../../src/scoring/train.js';

const fileJson = JSON.parse(readFileSync('models/application-scorecard.json', 'utf8'));
const germanBytes = readFileSync('data/german_credit.csv');

describe('committed application scorecard (models/application-scorecard.json)', () => {
  const scorer = scorerFromModel(fileJson);

  it('is the German-data scorecard, id application-scorecard v1, trained on the bundled file', () => {
    expect(scorer.id).toBe('application-scorecard');
    expect(scorer.version).toBe(1);
    expect(scorer.kind).toBe('scorecard');
    expect(scorer.model.training.dataSha256).toBe(sha256Hex(germanBytes));
    const header = readCsvTable(germanBytes.toString('utf8')).header;
    for (const f of scorer.features) expect(header).toContain(f);
    expect(scorer.features).toContain('CheckingAccountStatus');
  });

  it('is trained without protected attributes (sex + marital status, age, national origin)', () => {
    for (const column of ['Personal', 'Age', 'ForeignWorker']) expect(scorer.features).not.toContain(column);
    expect(scorer.model.training.protectedAttributes?.excluded).toEqual(['Age', 'ForeignWorker', 'Personal']);
    const byFeature = new Map(scorer.model.training.selection.map((s) => [s.feature, s]));
    expect(byFeature.get('Personal')).toMatchObject({ selected: false });
    expect(byFeature.get('Personal')!.reason).toMatch(/protected attribute/);
  });

  it("gives the same score whatever the applicant's sex, marital status or age", () => {
    const table = readCsvTable(germanBytes.toString('utf8'));
    for (let i = 0; i < 50; i++) {
      const row = rowRecord(table, i);
      const s = scorer.score(row);
      for (const personal of ['Female.NotSingle', 'Male.Single', 'Male.Divorced.Seperated']) {
        const other = scorer.score({ ...row, Personal: personal, Age: '75', ForeignWorker: '0' });
        expect(other.score).toBe(s.score);
        expect(other.pd).toBe(s.pd);
      }
    }
  });

  it('is reproducible: retraining with the recorded seed gives the same card', async () => {
    const again = await trainModel({
      csv: germanBytes,
      target: 'class',
      bad: 'bad',
      seed: 42,
      id: 'application-scorecard',
      version: 1,
      now: 0,
    });
    expect(again.model.kind === 'scorecard' && again.model.scorecard).toEqual(
      scorer.model.kind === 'scorecard' && scorer.model.scorecard,
    );
    expect(again.model.training.metrics).toEqual(scorer.model.training.metrics);
  });

  it('scores an applicant with reasons from the catalogue', () => {
    const table = readCsvTable(germanBytes.toString('utf8'));
    const s = scorer.score(rowRecord(table, 1));
    expect(s.score).toBeGreaterThan(300);
    expect(s.score).toBeLessThan(800);
    expect(s.reasons[0]!.code).toMatch(/^R_/);
  });
});
