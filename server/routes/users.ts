import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  User,
  UserChanges,
  UserDetail,
  UserImportRequest,
  UserImportResponse,
  UserList,
  UserListQuery,
  UserParams,
} from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** An import of 10,000 users with a few tags and attributes each is a few MiB; the service's usual limit is 64 KiB. */
export const IMPORT_BODY_LIMIT_BYTES = 16 * 1024 * 1024

/** Operators (admin key): users, their tags and attributes, and one user with credits and preferences. */
export const userRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { users, auth }) => {
  app.addHook('onRequest', auth.admin)

  app.post(
    '/api/users/import',
    { bodyLimit: IMPORT_BODY_LIMIT_BYTES, schema: { body: UserImportRequest, response: responses({ 200: UserImportResponse }) } },
    async (request) => users.import(request.body),
  )

  app.get('/api/users', { schema: { querystring: UserListQuery, response: responses({ 200: UserList }) } }, async (request) =>
    users.list(request.query),
  )

  app.get('/api/users/:openid', { schema: { params: UserParams, response: responses({ 200: UserDetail }) } }, async (request) =>
    users.detail(request.params.openid),
  )

  app.put(
    '/api/users/:openid',
    { schema: { params: UserParams, body: UserChanges, response: responses({ 200: User }) } },
    async (request) => users.put(request.params.openid, request.body),
  )
}
