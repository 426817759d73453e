import { TEST_FIELD_CRYPTO } from '../helpers/stores.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activateCommand,
  registerStrategyCommand,
  simulateCommand,
  validateCommand,
  exitCodeFor,
} from '../../src/cli/commands/strategy.js';
import { ManualClock } from '../../src/domain/clock.js';
import { openStore, type Store } from '../../src/store/db.js';
import type { EngineService } from '../../src/engine/index.js';
import { openEngine } from '../../src/app/engine.js';
import { recordDecision } from '../../src/store/index.js';
import { gateStrategy } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'lg-strategy-cli-'));
const capture = () => {
  const lines: string[] = [];
  return { lines, out: { log: (t: string) => lines.push(t), error: (t: string) => lines.push(t) } };
};

describe('lineguard strategy', () => {
  let store: Store;
  let engine: EngineService;
  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = await openEngine({
      store,
      crypto: TEST_FIELD_CRYPTO,
      clock: new ManualClock(Date.UTC(2025, 3, 1)),
      models: () => undefined,
    });
  });
  afterAll(async () => store?.close());

  it('validate: 0 for the bundled strategies and YAML, 2 with paths for an invalid file', () => {
    for (const name of ['application', 'draw', 'line-review'])
      expect(validateCommand(`strategies/${name}.json`, capture().out)).toBe(0);
    const yamlFile = join(dir, 'gate.yaml');
    writeFileSync(
      yamlFile,
      'id: gate\ninputs:\n  - {name: score, type: number}\nnodes:\n  - id: cut\n    type: ruleSet\n    mode: first-hit\n    rules:\n      - {id: LOW, when: "score < 5", outcome: DECLINE, reasons: [R_SCORE_LOW]}\n',
    );
    expect(validateCommand(yamlFile, capture().out)).toBe(0);
    const badFile = join(dir, 'bad.json');
    writeFileSync(
      badFile,
      JSON.stringify({
        ...gateStrategy(1),
        nodes: [{ id: 'cut', type: 'ruleSet', mode: 'first-hit', rules: [{ id: 'X', when: 'score <' }] }],
      }),
    );
    const c = capture();
    expect(validateCommand(badFile, c.out)).toBe(2);
    expect(c.lines[0]).toMatch(/\/nodes\/0\/rules\/0\/when: unexpected end/);
    try {
      validateCommand(join(dir, 'missing.json'));
    } catch (error) {
      expect(exitCodeFor(error)).toBe(2);
    }
  });

  it('activate and simulate', async () => {
    await engine.saveVersion(gateStrategy(500), 'test');
    const c = capture();
    expect(await activateCommand(engine, { id: 'gate', version: '1' }, c.out)).toBe(0);
    expect(c.lines[0]).toMatch(/version 1 is now active/);
    const refused = await activateCommand(engine, { id: 'gate', version: 'x' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'LG_VALIDATION' });
    expect(exitCodeFor(refused)).toBe(2);
    for (let i = 0; i < 3; i++) {
      const context = { score: 480 + 20 * i };
      await store.transaction((tx) =>
        recordDecision(
          tx,
          {
            id: `d-${i}`,
            kind: 'application',
            context,
            decision: engine.decide('gate', context),
            latencyMs: 0,
            decidedAt: Date.UTC(2025, 3, 2) + i,
          },
          TEST_FIELD_CRYPTO,
        ),
      );
    }
    const file = join(dir, 'candidate.json');
    writeFileSync(file, JSON.stringify(gateStrategy(510)));
    const json = capture();
    expect(
      await simulateCommand(
        engine,
        { strategy: file, from: '2025-04-02', to: '2025-04-02', json: true },
        json.out,
      ),
    ).toBe(0);
    expect(JSON.parse(json.lines[0] as string)).toMatchObject({ decisions: 3, changed: 1 });
    const text = capture();
    await simulateCommand(engine, { strategy: file, from: '2025-04-02', to: '2025-04-02' }, text.out);
    expect(text.lines[0]).toMatch(/approval rate 66.67% -> 33.33%/);
  });

  it('registers the subcommands', () => {
    const program = new Command();
    registerStrategyCommand(program, async () => ({ engine, close: async () => undefined }));
    const strategy = program.commands.find((c) => c.name() === 'strategy');
    expect(strategy?.commands.map((c) => c.name())).toEqual(['validate', 'simulate', 'activate']);
  });
});
