import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getReason } from '../../src/domain/index.js';
import { scorerFromModel } from '../../src/scoring/index.js';
import { reasonSpecFor, specOfModelFeature } from '../../src/scoring/reasons.js';

/**
 * README "Models a reviewer can trust": a feature's neutral code names the factor. Three characteristics of the German
 * credit data (and of the bundled scorecard) — Property, OtherInstallmentPlans, InstallmentRatePercentage — cited the
 * generic R_SCORE_LOW ("your overall credit score does not meet the requirement"): a borrower declined principally on
 * one of them was never told which factor it was.
 */
const MODEL_TEXT = readFileSync('models/application-scorecard.json', 'utf8');
const CODES: Record<string, string> = {
  Property: 'R_PROPERTY',
  OtherInstallmentPlans: 'R_OTHER_INSTALMENT_PLANS',
  InstallmentRatePercentage: 'R_INSTALMENT_RATE',
};
const FACTORS: Record<string, RegExp> = {
  Property: /propert/i,
  OtherInstallmentPlans: /instal?lment/i,
  InstallmentRatePercentage: /instal?lment/i,
};

describe('the German credit characteristics that cited the generic score reason', () => {
  it('each has a neutral catalogue code naming its factor, in Chinese and English, appealable', () => {
    for (const [feature, factor] of Object.entries(FACTORS)) {
      const code = reasonSpecFor(feature).neutral;
      expect(code, feature).toBe(CODES[feature]);
      const def = getReason(code);
      expect(def.en, feature).toMatch(factor);
      expect(def.en, feature).toMatch(/affected the assessment/);
      expect(def.zh, feature).toMatch(/影响了评估结果/);
      expect(def.appealable).toBe(true);
      expect(def.category).toBe('application');
    }
  });

  it('a model file trained before the codes existed is read with them (no retraining to tell the factor)', () => {
    expect(specOfModelFeature({ name: 'Property', reasonCode: 'R_SCORE_LOW' }).neutral).toBe('R_PROPERTY');
    // A feature the built-in table does not know keeps the code its file gives.
    expect(specOfModelFeature({ name: 'Telephone', reasonCode: 'R_SCORE_LOW' }).neutral).toBe('R_SCORE_LOW');
    // A code chosen at training (an override) stays.
    expect(specOfModelFeature({ name: 'Property', reasonCode: 'R_HOUSING' }).neutral).toBe('R_HOUSING');
  });

  it('the bundled scorecard names the factor when one of them costs the applicant points', () => {
    const scorer = scorerFromModel(MODEL_TEXT);
    // Every characteristic at a level that loses no points, then each of the three at one that does.
    const best = {
      CheckingAccountStatus: 'none',
      Duration: 1,
      CreditHistory: 'Critical',
      Property: 'RealEstate',
      Amount: 1,
      SavingsAccountBonds: 'gt.1000',
      Purpose: 'Radio.Television',
      EmploymentDuration: '4.to.7',
      OtherInstallmentPlans: 'None',
      Housing: 'Own',
      InstallmentRatePercentage: 1,
    };
    expect(scorer.score(best).reasons).toEqual([]);
    const worse = { Property: 'Unknown', OtherInstallmentPlans: 'Bank', InstallmentRatePercentage: 4 };
    for (const [feature, value] of Object.entries(worse)) {
      const reasons = scorer.score({ ...best, [feature]: value }).reasons;
      expect(reasons.map((r) => [r.feature, r.code])).toEqual([[feature, CODES[feature]]]);
    }
  });
});
