import { startPostgres, createDatabase } from './tests/support/servers'
import { createPostgresStorage } from './server/db/postgres/storage'
import type { NewMessage } from './server/db/storage'
import { systemClock } from './server/wechat/types'
const newMessage = (id: string, o: Partial<NewMessage>): NewMessage => ({ id, openid: 'x', templateId: 't', category: 'order', data: { thing1: { value: 'v' } }, urgent: false, source: 'admin', createdAt: new Date(), ...o })
const server = await startPostgres()
try {
  const url = await createDatabase(server.url, 'm')
  const s = await createPostgresStorage(url, systemClock, { max: 10 })
  let t = performance.now()
  const now = new Date()
  for (let p = 0; p < 300; p++) await s.ledger.applyConsent({ openid: `o${p}`, consentId: `c${p}`, changes: [{ templateId: 't', result: 'accept', credit: { type: 'add', amount: 20 } }], now })
  console.log('consents', Math.round(performance.now() - t)); t = performance.now()
  for (let i = 0; i < 1000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => s.messages.insert(newMessage(`m${i + k}`, { openid: `o${(i + k) % 300}`, createdAt: now }))))
  console.log('inserts', Math.round(performance.now() - t))
  for (let b = 0; b < 3; b++) {
    const now = new Date(); const until = new Date(now.getTime() + 60000)
    t = performance.now()
    const { jobs } = await s.messages.leaseDue({ owner: 'w', now, until, limit: 64, scope: { exceptCampaigns: [] } })
    const t1 = performance.now()
    const claims = await s.messages.claimForSends(jobs.map((j) => ({ id: j.id, owner: 'w', leaseUntil: until, spendCredit: true, dayKey: 'd', dailyLimit: 100 })), now)
    const t2 = performance.now()
    await s.messages.finishSends(jobs.map((j) => ({ id: j.id, attempts: [{ at: now, errcode: 0, errmsg: 'ok' }], ending: { status: 'sent', msgid: `x${j.id}` }, credit: { type: 'none' }, creditHeld: true })), new Date())
    const t3 = performance.now()
    console.log(`lease ${Math.round(t1 - t)} claim ${Math.round(t2 - t1)} finish ${Math.round(t3 - t2)} claimed ${claims.filter((c) => c.outcome === 'claimed').length}`)
  }
  await s.close()
} finally { await server.stop() }
