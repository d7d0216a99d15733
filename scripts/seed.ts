/**
 * `npm run seed -- --users N [--url http://127.0.0.1:8080]`: demo data for a running service in
 * sandbox mode (see server/demo/seed.ts): N test users demo-00001… (default 2000) with tags,
 * attributes and credits the sandbox WeChat agrees with. The admin key comes from ADMIN_API_KEY or
 * the key file beside DATABASE, as the service reads it; the address from --url, else HOST and PORT
 * (scripts/service-admin.ts).
 * Demo users already there are kept, so running it again with a larger N adds the missing ones.
 */
import { ConfigError } from '../server/config'
import { SeedError, seedDemo } from '../server/demo/seed'
import { httpTransport } from '../server/demo/transports'
import { ScriptError, serviceAdmin } from './service-admin'

const DEFAULT_USERS = 2000
const MAX_USERS = 100_000

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? undefined : process.argv[index + 1]
}

function usersOption(): number {
  const given = option('users')
  if (given === undefined) return DEFAULT_USERS
  if (!/^[1-9][0-9]*$/.test(given) || Number(given) > MAX_USERS) throw new SeedError(`--users 应为 1 到 ${String(MAX_USERS)} 的整数（当前为 "${given}"）`)
  return Number(given)
}

async function main(): Promise<number> {
  const users = usersOption()
  const given = option('url')
  const { url, adminKey } = serviceAdmin(given === undefined ? {} : { url: given })
  const started = Date.now()
  const transport = httpTransport(url)
  const report = await seedDemo(async (request) => {
    try {
      return await transport(request)
    } catch (error) {
      throw new SeedError(`无法连接 ${url}（${error instanceof Error ? error.message : String(error)}）：服务在运行吗？用 --url 指定它的地址`)
    }
  }, { users, adminKey })
  process.stdout.write(
    `演示数据已生成（${url}）：新建 ${String(report.created)} 个测试用户，已有 ${String(report.kept)} 个保持不变，` +
      `订阅次数 ${String(report.credits)}，用时 ${String(Date.now() - started)} ms\n`,
  )
  return 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof SeedError || error instanceof ScriptError) process.stderr.write(`${error.message}\n`)
    else process.stderr.write(`seed 失败：${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
