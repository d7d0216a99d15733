/** `npm run templates -- <command>` (and `npm run templates:sync`): see templates-cli.ts. */
import { templatesCli } from './templates-cli'

templatesCli(process.argv.slice(2), {
  env: process.env,
  fetch,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`templates 失败：${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
