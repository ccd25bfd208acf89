import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Debian's chromium; the test command installs it (apt-get install chromium). */
export const CHROMIUM = process.env.PHASEGATE_CHROMIUM ?? '/usr/bin/chromium'

/**
 * A headless Chromium with a fresh profile (Playwright's launch() gives every browser a new
 * temporary user data directory, and refuses --user-data-dir) and nothing that phones home. Throws, never skips,
 * when the browser is missing: a dashboard test that did not run must not look like a pass.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set PHASEGATE_CHROMIUM`
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  })
}
