/**
 * Headless Chromium for the approval-page tests, driven by playwright-core. The binary comes
 * from npm (`@sparticuz/chromium` ships it inside the package), so `npm ci` is all a machine
 * needs; `CHROMIUM_PATH` picks a system Chromium instead. Never downloads a browser.
 */
import sparticuz from '@sparticuz/chromium';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/**
 * Flags of the package's AWS Lambda set that a test of the page must not have:
 * `--single-process` lets the browser open only one context (the second `newPage` finds it closed),
 * and the others switch off the same-origin and mixed-content rules the page's security relies on.
 */
const NOT_FOR_TESTS = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']);

/** Launches headless Chromium: the one at `CHROMIUM_PATH` when set, else the npm package's. */
export async function launchBrowser(): Promise<Browser> {
  const system = process.env.CHROMIUM_PATH;
  if (system !== undefined && system !== '') {
    return chromium.launch({
      executablePath: system,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }
  // The package unpacks its brotli-compressed build into the temp dir once, then reuses it.
  return chromium.launch({
    executablePath: await sparticuz.executablePath(),
    args: sparticuz.args.filter((flag) => !NOT_FOR_TESTS.has(flag)),
    headless: true,
  });
}
