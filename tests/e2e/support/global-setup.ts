/**
 * Before the journeys: the browser must be there (with the way to install it), and dist/build/h5 must
 * be a build of the current sources.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ensureUniBuild, ROOT } from '../../support/uni-build'
import { CHROMIUM_PATH } from './browser'

export default function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install chromium fonts-noto-cjk (or set CHROMIUM_PATH)`)
  }
  // Same origin: the journeys' service serves the app and the API from one address.
  ensureUniBuild({ platform: 'h5', marker: join(ROOT, 'dist/build/h5/index.html'), env: { VITE_API_BASE: '' } })
}
