/**
 * Dashboard budgets (issue 14): the initial JavaScript a browser downloads before the console renders (gzipped,
 * budget 250 KB), the overview's first render in Chromium against the demo book (budget 1 s), and the line list
 * against 100,000 lines: each page through the API (Fastify inject, keyset pagination) beside the same page read
 * raw from SQLite in the same run (the ratio is the figure). Prints JSON.
 *
 *   npm run build && npm run bench:web -- [--lines 100000]
 */
import BetterSqlite3 from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DASHBOARD_DIR } from '../../src/app/dashboard.js';
import { adminHeaders, startTestApp, TEST_ADMIN_KEY } from '../../test/helpers/app.js';
import { BROWSER_READY, launchBrowser } from '../../test/browser/browser.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const LINES = Number(args.get('lines') ?? 100_000);
const PAGES = 200;

/** The entry script, the stylesheet and every chunk the page preloads: what the browser fetches before rendering. */
function initialAssets(): { file: string; gzipBytes: number }[] {
  const html = readFileSync(join(DASHBOARD_DIR, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? '');
  return refs.map((file) => ({ file, gzipBytes: gzipSync(readFileSync(join(DASHBOARD_DIR, file))).length }));
}

async function firstRenderMs(): Promise<number | null> {
  if (!BROWSER_READY) return null;
  const t = await startTestApp({ LINEGUARD_SEED_DEMO: '1' });
  const base = await t.server.listen({ port: 0, host: '127.0.0.1' });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.evaluate(`sessionStorage.setItem('lineguard.key', ${JSON.stringify(TEST_ADMIN_KEY)})`);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.goto('about:blank');
      const started = Date.now();
      await page.goto(`${base}/#/`, { waitUntil: 'commit' });
      await page.waitForSelector('[data-testid=approval-rate]');
      samples.push(Date.now() - started);
    }
    return samples.sort((a, b) => a - b)[2] ?? null;
  } finally {
    await browser.close();
    await t.close();
  }
}

/** Inserts `count` lines straight into the app's SQLite file (one borrower each), as a large book would hold. */
function seedLines(file: string, count: number): string[] {
  const db = new BetterSqlite3(file);
  const now = Date.now();
  const ids: string[] = [];
  const insert = db.prepare(
    `INSERT INTO credit_lines (id, borrower_id, status, currency, limit_minor, base_limit_minor, temp_limit_until,
       outstanding_minor, available_minor, annual_rate, dpd, bucket, created_at, updated_at)
     VALUES (?, ?, ?, 'CNY', 2000000, 2000000, NULL, 0, 2000000, 0.12, 0, 'CURRENT', ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = `bench-line-${String(i).padStart(7, '0')}`;
      ids.push(id);
      insert.run(id, `bench-borrower-${i}`, i % 50 === 0 ? 'DRAW_FROZEN' : 'ACTIVE', now, now);
    }
  })();
  db.close();
  return ids;
}

async function listPages(): Promise<Record<string, number>> {
  const t = await startTestApp({});
  const file = join(t.dataDir, 'lineguard.db');
  const ids = seedLines(file, LINES);
  const raw = new BetterSqlite3(file, { readonly: true });
  const rawPage = raw.prepare(
    'SELECT id, borrower_id, status, currency, limit_minor, available_minor, outstanding_minor, dpd, bucket, updated_at FROM credit_lines WHERE id > ? ORDER BY id LIMIT 51',
  );
  const cursors = Array.from(
    { length: PAGES },
    (_, i) => ids[Math.floor((i / PAGES) * (ids.length - 1))] ?? '',
  );
  try {
    const apiStart = performance.now();
    for (const after of cursors) {
      const res = await t.server.inject({
        method: 'GET',
        url: `/v1/console/lines?limit=50&after=${after}`,
        headers: adminHeaders(),
      });
      if (res.statusCode !== 200) throw new Error(`page failed: ${res.statusCode} ${res.body}`);
    }
    const apiMs = (performance.now() - apiStart) / PAGES;
    const rawStart = performance.now();
    for (const after of cursors) rawPage.all(after);
    const rawMs = (performance.now() - rawStart) / PAGES;
    const searchStart = performance.now();
    const found = await t.server.inject({
      method: 'GET',
      url: `/v1/console/lines?q=${ids[LINES - 1]?.slice(0, 16)}&limit=50`,
      headers: adminHeaders(),
    });
    const searchMs = performance.now() - searchStart;
    if (found.json().items.length === 0) throw new Error('search found nothing');
    return {
      apiPageMs: round(apiMs),
      rawPageMs: round(rawMs),
      ratioApiToRaw: round(rawMs / apiMs),
      searchMs: round(searchMs),
    };
  } finally {
    raw.close();
    await t.close();
    rmSync(t.dataDir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const assets = initialAssets();
const initialJsGzipBytes = assets.filter((a) => a.file.endsWith('.js')).reduce((s, a) => s + a.gzipBytes, 0);
const result = {
  initialAssets: assets,
  initialJsGzipKB: round(initialJsGzipBytes / 1024),
  initialJsBudgetKB: 250,
  overviewFirstRenderMs: await firstRenderMs(),
  overviewBudgetMs: 1000,
  lines: LINES,
  linePages: await listPages(),
};
console.log(JSON.stringify(result, null, 2));
