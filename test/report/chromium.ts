/**
 * Headless Chromium for report tests: Debian's `chromium` package, installed on first use when
 * missing by scripts/apt-install.sh (the test machine and CI run as root with Debian's apt; no
 * browser download of its own; .ci/run installs it before the tests through scripts/test-deps.sh).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

/** Where Debian puts the browser; CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The browser's path, installing Debian's `chromium` with apt-get first if it is absent. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing and this is not root: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
  }
  execFileSync('bash', [fileURLToPath(new URL('../../scripts/apt-install.sh', import.meta.url)), 'chromium'], { stdio: 'inherit' });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get install chromium did not provide ${CHROMIUM}`);
  return CHROMIUM;
}

/**
 * A new page that opens `file` from disk and collects what a report must never produce: console
 * errors and warnings, page errors, and requests beyond `file:` and `data:` URLs.
 */
export async function openWatched(browser: Browser, file: string): Promise<{ page: Page; errors: string[]; fetched: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  const fetched: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) fetched.push(r.url());
  });
  await page.goto(pathToFileURL(file).href);
  return { page, errors, fetched };
}
