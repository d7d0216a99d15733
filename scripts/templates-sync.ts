/**
 * `npm run templates:sync`: reads the mini-program's templates from WeChat (`gettemplate`) and writes
 * the catalogue (`TEMPLATES`, default config/templates.json). Ids already in the catalogue keep their
 * key and category; new ids get a generated key and the category `other` for the operator to edit;
 * ids WeChat no longer lists are dropped. Needs WECHAT_APPID and WECHAT_SECRET (the sandbox serves
 * the catalogue itself, so there is nothing to sync from it).
 */
import { Pool } from 'undici'
import { ConfigError, loadConfig } from '../server/config'
import { CatalogueError, syncCatalogue } from '../server/templates/catalogue-sync'
import { createWeChatClient } from '../server/wechat/client'
import { createMemoryTokenStore } from '../server/wechat/memory-token-store'
import { isWeChatError, systemClock } from '../server/wechat/types'
import { sendErrcodeMessage } from '../src/domain/wechat-errcodes'

async function main(): Promise<number> {
  // The admin key is not needed here: no key file is read or made.
  const config = loadConfig(process.env, { adminKeyFromFile: () => 'unused-by-templates-sync' })
  if (config.wechat.mode !== 'real') {
    process.stderr.write('未设置 WECHAT_APPID：templates:sync 要从真实小程序读取模板，请设置 WECHAT_APPID 和 WECHAT_SECRET。\n')
    return 78
  }
  const pool = new Pool(new URL(config.wechat.apiBase).origin, { connections: 1 })
  try {
    // stable_token hands every caller the same token, so this script does not disturb the service's.
    const wechat = createWeChatClient({
      baseUrl: config.wechat.apiBase,
      appId: config.wechat.appId,
      secret: config.wechat.secret,
      dispatcher: pool,
      tokenStore: createMemoryTokenStore(systemClock),
      clock: systemClock,
    })
    const report = await syncCatalogue(config.templatesPath, wechat)
    process.stdout.write(`${report.join('\n')}\n`)
    return 0
  } finally {
    await pool.close()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof CatalogueError) process.stderr.write(`${error.message}\n`)
    else if (isWeChatError(error)) process.stderr.write(`读取微信模板失败（错误码 ${error.errcode}）：${error.errmsg}。${sendErrcodeMessage(error.errcode)}\n`)
    else process.stderr.write(`templates:sync 失败：${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
