import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SegmentPreview, SegmentPreviewRequest } from '../../src/domain/console-contract'
import { ReachQuery, Segment, SegmentList, SegmentParams, SegmentReach, SegmentRequest } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** Operators (admin key): saved user filters, and what a send of a template to one would reach. */
export const segmentRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { segments, auth }) => {
  app.addHook('onRequest', auth.admin)

  app.post(
    '/api/segments',
    { schema: { body: SegmentRequest, response: responses({ 201: Segment }) } },
    async (request, reply) => reply.status(201).send(await segments.create(request.body)),
  )

  app.get('/api/segments', { schema: { response: responses({ 200: SegmentList }) } }, async () => segments.list())

  /** A filter's count and first users before it is saved (the console's filter builder). */
  app.post(
    '/api/segments/preview',
    { schema: { body: SegmentPreviewRequest, response: responses({ 200: SegmentPreview }) } },
    async (request) => segments.preview(request.body.filter),
  )

  app.get('/api/segments/:id', { schema: { params: SegmentParams, response: responses({ 200: Segment }) } }, async (request) =>
    segments.get(request.params.id),
  )

  app.delete('/api/segments/:id', { schema: { params: SegmentParams, response: responses({}) } }, async (request, reply) => {
    await segments.delete(request.params.id)
    return reply.status(204).send()
  })

  app.get(
    '/api/segments/:id/reach',
    { schema: { params: SegmentParams, querystring: ReachQuery, response: responses({ 200: SegmentReach }) } },
    async (request) => segments.reach(request.params.id, request.query.template),
  )
}
