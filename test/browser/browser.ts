import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DASHBOARD_DIR } from '../../src/app/dashboard.js';

/**
 * Browser tests drive Debian's Chromium (`apt-get install -y chromium`, done by .ci/run) with playwright-core; on a
 * machine without it (or without a built dashboard) they are skipped with a message, as the service suites are.
 */
export const CHROMIUM_PATH = process.env.LINEGUARD_CHROMIUM ?? '/usr/bin/chromium';
export const BROWSER_READY = existsSync(CHROMIUM_PATH) && existsSync(join(DASHBOARD_DIR, 'index.html'));
if (!BROWSER_READY) {
  console.warn(
    `browser suites skipped: need ${CHROMIUM_PATH} (apt-get install -y chromium) and a built dashboard (npm run build)`,
  );
}

export const SCREENSHOT_DIR = join('tmp', 'screenshots');

/** Headless, with the background networking the closed network here would refuse turned off. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

/** Runs axe-core in the page (WCAG 2 A/AA rules) and returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern, so the console runs under its
  // real policy while axe is injected.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: unknown[] }> } }
    ).axe;
    const result = await axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations as { id: string; impact: string | null; help: string; nodes: unknown[] }[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
