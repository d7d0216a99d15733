import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LibraryKeywordList, LibraryPage, LibraryQuery, WeChatCategoryList } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

const TidParams = Type.Object({ tid: Type.Integer({ minimum: 1 }) })

/**
 * WeChat's public template library, for operators (admin key): the mini-program's categories, the
 * public titles of categories (30 at most per page), a title's keywords. What POST /api/templates takes.
 */
export const wechatLibraryRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { templateAdmin, auth }) => {
  app.addHook('onRequest', auth.admin)

  app.get('/api/wechat/categories', { schema: { response: responses({ 200: WeChatCategoryList }) } }, async () => templateAdmin.categories())

  app.get('/api/wechat/library', { schema: { querystring: LibraryQuery, response: responses({ 200: LibraryPage }) } }, async (request) =>
    templateAdmin.library(request.query),
  )

  app.get(
    '/api/wechat/library/:tid/keywords',
    { schema: { params: TidParams, response: responses({ 200: LibraryKeywordList }) } },
    async (request) => templateAdmin.keywords(request.params.tid),
  )
}
