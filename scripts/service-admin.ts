/**
 * How an operator's script finds the running service and its admin key, as the service itself reads
 * them: the address from `--url`, else HOST and PORT; the key from `--key`, else ADMIN_API_KEY, else
 * the key file beside DATABASE (which a sandbox service writes on its first start).
 */
import { readFileSync } from 'node:fs'
import { loadConfig } from '../server/config'

/** A problem the person at the terminal can fix: said in one line, no stack. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError'
}

function readAdminKey(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    throw new ScriptError(`没有找到管理密钥文件 ${path}：先启动服务（npm start 或 npm run server），或设置 ADMIN_API_KEY`)
  }
}

export interface ServiceAdmin {
  /** `http://127.0.0.1:8080`, without a trailing slash. */
  url: string
  adminKey: string
}

/** Throws ConfigError for a bad environment (as the service would refuse it), ScriptError for a missing key file. */
export function serviceAdmin(given: { url?: string; key?: string } = {}, env: NodeJS.ProcessEnv = process.env): ServiceAdmin {
  const config = loadConfig(given.key === undefined ? env : { ...env, ADMIN_API_KEY: given.key }, { adminKeyFromFile: readAdminKey })
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  return { url: (given.url ?? `http://${host}:${String(config.port)}`).replace(/\/+$/, ''), adminKey: config.adminApiKey }
}
