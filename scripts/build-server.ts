/**
 * `npm run build:server`: the service compiled ahead into one ES module, `dist/server/server.mjs`,
 * which `npm start` runs under plain `node`. Run through tsx (`npm run server`, `npm run dev`), every
 * start transforms the sources again and the process carries tsx's loader thread: about 45 MB of RSS
 * and a second of start-up that production has no use for.
 *
 * npm packages stay outside the bundle (better-sqlite3 is native, and `npm ci` installs them anyway);
 * the service's own code and the shared rules in src/domain are in it. The bundle sits two folders
 * below the project, as server/messages/pages.ts does, so its `../../pages.json` is the same file.
 */
import { build, type BuildOptions } from 'esbuild'

export const SERVER_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
} as const satisfies BuildOptions

export const SERVER_BUNDLE = 'dist/server/server.mjs'

if (import.meta.url === `file://${process.argv[1]}`) {
  await build({ ...SERVER_BUNDLE_OPTIONS, entryPoints: ['server/server.ts'], outfile: SERVER_BUNDLE })
  process.stdout.write(`${SERVER_BUNDLE} built\n`)
}
