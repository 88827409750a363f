// What the browser tests share: Debian's Chromium with no network of its own, checks, signing
// in, screenshots, and an accessibility check with axe-core.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

export const run = JSON.parse(process.env.BAZAAR_E2E);
mkdirSync(run.shots, { recursive: true });

export const browser = await chromium.launch({
  executablePath: run.chromium,
  // No sandbox (the tests may run as root) and none of Chromium's own network traffic: this
  // machine has no internet, and nothing here should need it.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/// A fresh page (its own cookies). `{ axe: true }` lets axe-core's script past the pages' CSP
/// (the pages' CSP itself is kept, and checked, in the other pages).
export async function newPage({ axe = false } = {}) {
  const context = await browser.newContext({ baseURL: run.base, viewport: { width: 1200, height: 900 }, bypassCSP: axe });
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
  page.on('pageerror', (error) => { throw error; });
  return page;
}

/// Fills and sends the sign-in form the page is on.
export async function signInHere(page, who) {
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signedIn(who, options) {
  const page = await newPage(options);
  await page.goto('/signin');
  await signInHere(page, who);
  await page.waitForURL('**/marketplace');
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: `${run.shots}/${name}.png`, fullPage: true });
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/// Runs axe-core on the page; a serious or critical violation fails the test, with what and where.
export async function accessible(page, name) {
  await page.addScriptTag({ path: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  check(violations.length === 0, `${name} has accessibility violations:\n  ${violations.join('\n  ')}`);
}
