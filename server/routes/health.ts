import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ServiceHealth } from '../../src/domain/console-contract'
import { Health, ServiceInfo } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** GET /healthz, GET /api/info: no auth. GET /api/health (operators): the console's health report. */
export const healthRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { config, health, auth }) => {
  app.get('/healthz', { schema: { response: responses({ 200: Health }) } }, async () => ({ status: 'ok' as const }))

  app.get('/api/info', { schema: { response: responses({ 200: ServiceInfo }) } }, async () => ({
    sandbox: config.wechat.mode === 'sandbox',
    miniprogramState: config.miniprogramState,
  }))

  app.get('/api/health', { onRequest: auth.admin, schema: { response: responses({ 200: ServiceHealth }) } }, async () => health.health())
}
