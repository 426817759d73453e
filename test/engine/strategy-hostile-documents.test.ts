import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { isLgError } from '../../src/domain/errors.js';
import { openStore, type Store } from '../../src/store/db.js';
import { createEngineRepository } from '../../src/store/index.js';
import { openEngine } from '../../src/app/engine.js';
import { validateCommand } from '../../src/cli/commands/strategy.js';
import {
  checkStrategy,
  compileStrategy,
  parseStrategySource,
  type EngineService,
  type StrategyDocument,
} from '../../src/engine/index.js';
import { TEST_FIELD_CRYPTO } from '../helpers/stores.js';

/**
 * The YAML path (`lineguard strategy validate`, EngineService.validate/saveVersion, the bundled loader) holds the
 * guards the HTTP body layer has: YAML's `.nan` / `.inf` are numbers JSON has not, and would make a score-sum total NaN
 * (no band reached: everyone approved); a parameter named `__proto__` is kept by the YAML and JSON parsers as an own
 * key, and `params['__proto__'] = 1` on a plain object sets nothing.
 */
const NAN_YAML = `id: hostile-nan
inputs:
  - name: x
    type: number
nodes:
  - id: points
    type: ruleSet
    mode: score-sum
    output: total
    rules:
      - id: ANY
        when: "x >= 0"
        points: .nan
    bands:
      - min: -.inf
        outcome: DECLINE
        reasons: [R_SCORE_LOW]
`;

const PROTO_YAML = `id: hostile-proto
inputs:
  - name: x
    type: number
params:
  __proto__:
    default: 1
nodes:
  - id: a
    type: ruleSet
    mode: first-hit
    rules:
      - id: R
        when: "param.__proto__ == 1"
        outcome: DECLINE
        reasons: [R_SCORE_LOW]
`;

const fileWith = (name: string, text: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'lg-hostile-')), name);
  writeFileSync(file, text);
  return file;
};

const capture = () => {
  const lines: string[] = [];
  return { lines, out: { log: (t: string) => lines.push(t), error: (t: string) => lines.push(t) } };
};

const codeOf = async (work: () => unknown): Promise<string> => {
  try {
    await work();
    return 'no error';
  } catch (error) {
    return isLgError(error) ? error.code : `${(error as Error).name}: ${(error as Error).message}`;
  }
};

describe('strategy documents with numbers JSON has not', () => {
  it('every NaN or infinite number is a problem with its path', () => {
    const problems = checkStrategy(parseStrategySource(NAN_YAML));
    expect(problems.map((p) => p.path)).toEqual(['/nodes/0/rules/0/points', '/nodes/0/bands/0/min']);
    expect(problems[0]?.message).toMatch(/finite/);
    const inJson = checkStrategy(
      parseStrategySource(
        '{"id":"j","inputs":[{"name":"x","type":"number","min":-1e999}],"nodes":[{"id":"a","type":"branch","branches":[{"when":"x > 1","next":"end"}],"otherwise":"end"}]}',
      ),
    );
    expect(inJson.map((p) => p.path)).toEqual(['/inputs/0/min']);
  });

  it('is refused by the compiler too (never compiled to a strategy that approves everyone)', async () => {
    expect(await codeOf(() => compileStrategy(parseStrategySource(NAN_YAML)))).toBe('LG_STRATEGY_INVALID');
  });

  it('`lineguard strategy validate` exits 2 naming the paths', () => {
    const c = capture();
    expect(validateCommand(fileWith('nan.yaml', NAN_YAML), c.out)).toBe(2);
    expect(c.lines.join('\n')).toMatch(/\/nodes\/0\/rules\/0\/points: .*finite/);
    expect(c.lines.join('\n')).toMatch(/\/nodes\/0\/bands\/0\/min: .*finite/);
  });
});

describe('strategy parameters with reserved names', () => {
  it('`__proto__` and other names of Object.prototype are refused as for inputs and values', () => {
    const problems = checkStrategy(parseStrategySource(PROTO_YAML));
    expect(problems).toEqual([{ path: '/params/__proto__', message: "'__proto__' is a reserved name" }]);
    const doc = parseStrategySource(PROTO_YAML.replaceAll('__proto__', 'constructor'));
    expect(checkStrategy(doc).map((p) => p.path)).toEqual(['/params/constructor']);
  });

  it('`lineguard strategy validate` exits 2', () => {
    expect(validateCommand(fileWith('proto.yaml', PROTO_YAML), capture().out)).toBe(2);
  });
});

describe('EngineService with hostile documents', () => {
  let store: Store;
  let engine: EngineService;
  const clock = new ManualClock(Date.UTC(2025, 5, 1));

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = await openEngine({ store, crypto: TEST_FIELD_CRYPTO, clock, models: () => undefined });
  });
  afterAll(async () => store?.close());

  it('validate and saveVersion refuse NaN and infinite numbers with LG_STRATEGY_INVALID', async () => {
    expect(await codeOf(() => engine.validate(NAN_YAML))).toBe('LG_STRATEGY_INVALID');
    expect(await codeOf(() => engine.saveVersion(NAN_YAML, 'test'))).toBe('LG_STRATEGY_INVALID');
    const json =
      '{"id":"j","inputs":[{"name":"x","type":"number"}],"nodes":[{"id":"a","type":"ruleSet","mode":"score-sum","output":"t","rules":[{"id":"r","when":"true","points":1e999}]}]}';
    expect(await codeOf(() => engine.saveVersion(json, 'test'))).toBe('LG_STRATEGY_INVALID');
  });

  it('validate and saveVersion refuse a `__proto__` parameter with LG_STRATEGY_INVALID', async () => {
    expect(await codeOf(() => engine.validate(PROTO_YAML))).toBe('LG_STRATEGY_INVALID');
    expect(await codeOf(() => engine.saveVersion(PROTO_YAML, 'test'))).toBe('LG_STRATEGY_INVALID');
  });

  it('a `__proto__` parameter stored by an older release decides as written once active', async () => {
    // Saved and activated as an older release did: through the repository, before the reserved-name check.
    const repo = createEngineRepository(store, TEST_FIELD_CRYPTO);
    const doc = parseStrategySource(PROTO_YAML) as StrategyDocument;
    const saved = await repo.saveVersion(doc, {
      by: 'old-release',
      at: clock.now(),
      entryId: '01900000-0000-7000-8000-000000000002',
    });
    await repo.activateVersion({
      id: 'hostile-proto',
      version: saved.version,
      by: 'old-release',
      at: clock.now(),
      activationId: '01900000-0000-7000-8000-000000000003',
    });
    await engine.refresh();
    const decision = engine.decide('hostile-proto', { x: 1 });
    expect({ outcome: decision.outcome, reasons: decision.reasons }).toEqual({
      outcome: 'DECLINE',
      reasons: ['R_SCORE_LOW'],
    });
    expect(Object.hasOwn(decision.trace.find((s) => s.node === '$params')?.values ?? {}, '__proto__')).toBe(
      true,
    );
  });
});
