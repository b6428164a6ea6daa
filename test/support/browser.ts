// Real headless Chromium for the dashboard's tests: Debian's `chromium`
// driven by playwright-core (which never downloads a browser). Without it the
// browser tests skip with the reason, unless MICROMESH_REQUIRE_BROWSER=1 (CI)
// makes them fail with it.
import { access, constants } from 'node:fs/promises';
import type { Browser } from 'playwright-core';

export const REQUIRE_BROWSER_ENV = 'MICROMESH_REQUIRE_BROWSER';

/** Where Chromium is: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export interface BrowserGate {
  /** node:test's `skip`: the reason when Chromium is missing and not required, else false. */
  readonly skip: string | false;
  /** Launches Chromium (throws the reason when required but missing). */
  launch(): Promise<Browser>;
}

/** Top-level `await` it, as `skip` must be known when tests register. */
export async function browserGate(env: NodeJS.ProcessEnv = process.env): Promise<BrowserGate> {
  const path = chromiumPath(env);
  let reason: string | undefined;
  try {
    await access(path, constants.X_OK);
  } catch {
    reason = `no Chromium at ${path} (apt-get install chromium, or set CHROMIUM_PATH)`;
  }
  const required = (env[REQUIRE_BROWSER_ENV] ?? '') !== '' && env[REQUIRE_BROWSER_ENV] !== '0';
  return {
    skip: reason !== undefined && !required ? reason : false,
    async launch() {
      if (reason !== undefined) throw new Error(`${REQUIRE_BROWSER_ENV} is set but ${reason}`);
      const { chromium } = await import('playwright-core');
      // --no-sandbox: Chromium refuses to run as root with its sandbox (CI runs as root).
      return chromium.launch({
        executablePath: path,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    },
  };
}
