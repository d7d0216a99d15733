/**
 * The sandbox WeChat lives in the service's memory and forgets everything at each restart, while
 * the database keeps the users and their credits. At start in sandbox mode the sandbox is told again
 * what it forgot: every user is one of its users (a send to them is not 40003), and each credit the
 * ledger holds is quota it has (a send that the ledger allows is not 43101). A count the sandbox
 * still has (a sandbox that outlived the service, as in the browser journeys) is kept.
 */
import type { UserService } from '../audience/users'
import type { Ledger } from '../ledger/ledger'
import type { TemplateDirectory } from '../messages/templates'
import type { SandboxWeChat } from '../wechat/sandbox'
import type { Clock } from '../wechat/types'

const PAGE_SIZE = 1000

export async function restoreSandboxMemory(options: {
  sandbox: Pick<SandboxWeChat, 'remember'>
  users: Pick<UserService, 'openidPages'>
  ledger: Pick<Ledger, 'creditsOf'>
  templates: TemplateDirectory
  clock: Clock
}): Promise<{ users: number; credits: number }> {
  const { sandbox, users, ledger, templates, clock } = options
  const restored = { users: 0, credits: 0 }
  for await (const openids of users.openidPages({}, { limit: PAGE_SIZE, now: clock.now() })) {
    const byTemplate = await Promise.all(
      templates.list().map(async (template) => ({ templateId: template.id, credits: await ledger.creditsOf(openids, template.id) })),
    )
    for (const openid of openids) {
      const quota: Record<string, number> = {}
      for (const { templateId, credits } of byTemplate) {
        const held = credits.get(openid) ?? 0
        if (held > 0) quota[templateId] = held
        restored.credits += held
      }
      sandbox.remember(openid, quota)
      restored.users += 1
    }
  }
  return restored
}
