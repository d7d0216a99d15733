/**
 * What every route plugin receives: the services it calls and the auth guards. Routes are thin:
 * parse (schemas), authorise (guards), call one service, answer (schemas).
 */
import type { TSchema } from 'typebox'
import { ErrorBody } from '../../src/domain/contract'
import type { SegmentService } from '../audience/segments'
import type { UserService } from '../audience/users'
import type { AuthGuards } from '../auth'
import type { AdjustableClock } from '../clock'
import type { Config } from '../config'
import type { Dispatcher } from '../dispatch/dispatcher'
import type { Ledger } from '../ledger/ledger'
import type { OrderEvents } from '../messages/order-events'
import type { Pipeline } from '../messages/pipeline'
import type { MessageQueries } from '../messages/queries'
import type { MessageRetry } from '../messages/retry'
import type { CampaignService } from '../campaigns/campaigns'
import type { Scheduler } from '../messages/scheduler'
import type { HealthReport } from '../operators/health'
import type { OutcomeTimeline } from '../operators/outcomes'
import type { OperatorSessionService } from '../operators/sessions'
import type { TemplateDirectory } from '../messages/templates'
import type { PreferencesService } from '../preferences/preferences'
import type { SessionService } from '../sessions/sessions'
import type { SandboxWeChat } from '../wechat/sandbox'

export interface RouteContext {
  config: Config
  templates: TemplateDirectory
  sessions: SessionService
  /** The console's operator sessions. */
  operators: OperatorSessionService
  health: HealthReport
  timeline: OutcomeTimeline
  ledger: Ledger
  preferences: PreferencesService
  pipeline: Pipeline
  dispatcher: Dispatcher
  orderEvents: OrderEvents
  messages: MessageQueries
  retries: MessageRetry
  campaigns: CampaignService
  scheduler: Scheduler
  users: UserService
  segments: SegmentService
  clock: AdjustableClock
  auth: AuthGuards
  /** Present only in sandbox mode. */
  sandbox?: SandboxWeChat
}

/** A route's responses: its own plus the contract's error body for every 4xx and 5xx. */
export function responses<R extends Record<number, TSchema>>(own: R): R & { '4xx': typeof ErrorBody; '5xx': typeof ErrorBody } {
  return { ...own, '4xx': ErrorBody, '5xx': ErrorBody }
}
