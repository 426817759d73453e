/**
 * The engine wired to its adapters: the store's repository, the bundled strategies found on disk, the app's metrics.
 * Discovery lives here, not in the engine (issue 10: the app discovers files and wires adapters).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngineService, type EngineService, type EngineServiceOptions } from '../engine/index.js';
import { createEngineRepository, type Store } from '../store/index.js';
import type { FieldCrypto } from '../compliance/index.js';

export interface OpenEngineOptions extends Omit<EngineServiceOptions, 'repository' | 'bundled'> {
  readonly store: Store;
  /** Opens the stored decisions' sealed contexts and traces (simulation, the decision API). */
  readonly crypto: FieldCrypto;
  /** Strategy documents (*.json, *.yaml) loaded on first start, in file-name order. Default: <package>/strategies. */
  readonly strategiesDir?: string;
}

export async function openEngine(options: OpenEngineOptions): Promise<EngineService> {
  const { store, crypto, strategiesDir, ...rest } = options;
  return createEngineService({
    ...rest,
    repository: createEngineRepository(store, crypto),
    bundled: bundledStrategySources(strategiesDir ?? findBundledDir()),
  });
}

/** The texts of the strategy files in `dir`, sorted by file name; none when there is no such folder. */
export function bundledStrategySources(dir: string | undefined): string[] {
  if (dir === undefined || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => /\.(json|ya?ml)$/.test(file))
    .sort()
    .map((file) => readFileSync(join(dir, file), 'utf8'));
}

/** The package's strategies/ folder, found from this module whether it runs from src/ (tsx) or dist/ (build). */
function findBundledDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'strategies');
    if (existsSync(join(candidate, 'application.json'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}
