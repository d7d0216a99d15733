import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Health, ServiceInfo } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** GET /healthz, GET /api/info: no auth. */
export const healthRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { config }) => {
  app.get('/healthz', { schema: { response: responses({ 200: Health }) } }, async () => ({ status: 'ok' as const }))

  app.get('/api/info', { schema: { response: responses({ 200: ServiceInfo }) } }, async () => ({
    sandbox: config.wechat.mode === 'sandbox',
    miniprogramState: config.miniprogramState,
  }))
}
