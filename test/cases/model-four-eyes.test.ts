import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/app/app.js';
import type { TestApp } from '../helpers/app.js';
import { client, person, startCaseApp, type Person } from './helpers.js';

/**
 * Activating a model version is a four-eyes operation (issue 11): a maker's request waits as a pending change,
 * the maker cannot approve it, and only a second person's approval moves what live decisions score with.
 */
describe('four eyes on model activation', () => {
  let t: TestApp;
  let maker: Person;
  let checker: Person;

  beforeAll(async () => {
    ({ t } = await startCaseApp());
    maker = await person(t, 'Model Maker', 'admin');
    checker = await person(t, 'Model Checker', 'supervisor');
    const bundled: unknown = JSON.parse(
      readFileSync(join(PACKAGE_ROOT, 'models', 'application-scorecard.json'), 'utf8'),
    );
    await t.app.models.register(bundled, { id: 'application-scorecard', version: 2, registeredBy: 'test' });
  });
  afterAll(async () => t?.close());

  const aliases = async () => (await client(t).get('/v1/models')).json().aliases as Record<string, number>;

  it('holds the activation until a different person approves it', async () => {
    expect((await aliases())['application-scorecard']).toBe(1);
    const asked = await client(t, maker.key).post('/v1/models/application-scorecard/versions/2/activate');
    expect(asked.statusCode, asked.body).toBe(202);
    const changeId = asked.json().pendingChange.id as string;
    expect((await aliases())['application-scorecard']).toBe(1);
    const own = await client(t, maker.key).post(`/v1/changes/${changeId}/approve`, {});
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('LG_SELF_APPROVAL');
    const approved = await client(t, checker.key).post(`/v1/changes/${changeId}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await aliases())['application-scorecard']).toBe(2);
    const activations = (await client(t).get('/v1/models/application-scorecard/activations')).json()
      .activations;
    expect(activations.at(-1)).toMatchObject({ version: 2, activatedBy: `user:${maker.userId}` });
  });

  it('refuses a version that was never registered', async () => {
    const missing = await client(t, maker.key).post('/v1/models/application-scorecard/versions/9/activate');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('LG_MODEL_NOT_FOUND');
  });
});
