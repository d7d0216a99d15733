/**
 * The operator console's client of the service: every answer checked against the console's contract
 * (src/domain/console-contract.ts) by the same caller as the app's (src/api/call.ts). Requests carry
 * the operator session token, never the admin key: the key goes out once, in `signIn`'s body.
 */
import { createJsonCaller, type JsonCallerOptions } from '@/api/call'
import {
  Campaign,
  CampaignList,
  CatalogueSyncReport,
  FaultsState,
  LibraryKeywordList,
  LibraryPage,
  MessageDetail,
  MessageOutcome,
  MessageSearchResult,
  OperatorSession,
  ReceivedList,
  RetryCount,
  SandboxStats,
  Segment,
  SegmentList,
  SegmentPreview,
  SegmentReach,
  ServiceHealth,
  ServiceInfo,
  Stats,
  Template,
  TemplateList,
  Timeline,
  User,
  UserDetail,
  UserList,
  WeChatCategoryList,
  type FaultsRequest,
  type TimelineRange,
} from '@/domain/console-contract'
import type { AddTemplateRequest, CampaignRequest, LibraryQuery, MessageSearchQuery, SegmentFilter, SegmentRequest, UserChanges, UserListQuery } from '@/domain/contract'

export type CampaignAction = 'pause' | 'resume' | 'cancel'

export interface ConsoleApi {
  /** POST /api/admin/session { key } (no token). */
  signIn(key: string): Promise<OperatorSession>
  /** DELETE /api/admin/session. */
  signOut(): Promise<void>
  info(): Promise<ServiceInfo>
  health(): Promise<ServiceHealth>
  stats(): Promise<Stats>
  timeline(range: TimelineRange): Promise<Timeline>
  templates(): Promise<TemplateList>
  /** Template management: WeChat's public library, and the catalogue it feeds. */
  wechatCategories(): Promise<WeChatCategoryList>
  library(query: LibraryQuery): Promise<LibraryPage>
  libraryKeywords(tid: number): Promise<LibraryKeywordList>
  addTemplate(request: AddTemplateRequest): Promise<Template>
  removeTemplate(idOrKey: string): Promise<Template>
  syncTemplates(): Promise<CatalogueSyncReport>
  segments(): Promise<SegmentList>
  createSegment(request: SegmentRequest): Promise<Segment>
  deleteSegment(id: string): Promise<void>
  previewSegment(filter: SegmentFilter): Promise<SegmentPreview>
  reach(segmentId: string, template: string): Promise<SegmentReach>
  users(query: UserListQuery): Promise<UserList>
  user(openid: string): Promise<UserDetail>
  putUser(openid: string, changes: UserChanges): Promise<User>
  campaigns(): Promise<CampaignList>
  campaign(id: string): Promise<Campaign>
  createCampaign(request: CampaignRequest): Promise<Campaign>
  campaignAction(id: string, action: CampaignAction): Promise<Campaign>
  retryCampaign(id: string): Promise<{ retried: number }>
  messages(query: MessageSearchQuery): Promise<MessageSearchResult>
  message(id: string): Promise<MessageDetail>
  retryMessage(id: string): Promise<MessageOutcome>
  /** Sandbox mode only. */
  received(limit: number): Promise<ReceivedList>
  faults(): Promise<FaultsState>
  setFaults(faults: FaultsRequest): Promise<SandboxStats>
}

/** `?a=1&b=x` of the values given (none: ''). */
export function queryString(query: Readonly<Record<string, string | number | undefined>>): string {
  const pairs = Object.entries(query).filter((pair): pair is [string, string | number] => pair[1] !== undefined && pair[1] !== '')
  return pairs.length === 0 ? '' : `?${pairs.map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`).join('&')}`
}

const id = (value: string): string => encodeURIComponent(value)
/** The body of a POST or DELETE that needs none: the service reads every body as JSON, and an empty one is not. */
const NO_FIELDS = {}

export function createConsoleApi(options: JsonCallerOptions): ConsoleApi {
  const call = createJsonCaller(options)
  return {
    signIn: (key) => call(OperatorSession, 'POST', '/api/admin/session', { key }, false),
    signOut: () => call(null, 'DELETE', '/api/admin/session', NO_FIELDS),
    info: () => call(ServiceInfo, 'GET', '/api/info', undefined, false),
    health: () => call(ServiceHealth, 'GET', '/api/health'),
    stats: () => call(Stats, 'GET', '/api/stats'),
    timeline: (range) => call(Timeline, 'GET', `/api/stats/timeline${queryString({ range })}`),
    templates: () => call(TemplateList, 'GET', '/api/templates'),
    wechatCategories: () => call(WeChatCategoryList, 'GET', '/api/wechat/categories'),
    library: (query) => call(LibraryPage, 'GET', `/api/wechat/library${queryString({ ...query })}`),
    libraryKeywords: (tid) => call(LibraryKeywordList, 'GET', `/api/wechat/library/${tid}/keywords`),
    addTemplate: (request) => call(Template, 'POST', '/api/templates', request),
    removeTemplate: (idOrKey) => call(Template, 'DELETE', `/api/templates/${id(idOrKey)}`, NO_FIELDS),
    syncTemplates: () => call(CatalogueSyncReport, 'POST', '/api/templates/sync', NO_FIELDS),
    segments: () => call(SegmentList, 'GET', '/api/segments'),
    createSegment: (request) => call(Segment, 'POST', '/api/segments', request),
    deleteSegment: (segmentId) => call(null, 'DELETE', `/api/segments/${id(segmentId)}`, NO_FIELDS),
    previewSegment: (filter) => call(SegmentPreview, 'POST', '/api/segments/preview', { filter }),
    reach: (segmentId, template) => call(SegmentReach, 'GET', `/api/segments/${id(segmentId)}/reach${queryString({ template })}`),
    users: (query) => call(UserList, 'GET', `/api/users${queryString({ ...query })}`),
    user: (openid) => call(UserDetail, 'GET', `/api/users/${id(openid)}`),
    putUser: (openid, changes) => call(User, 'PUT', `/api/users/${id(openid)}`, changes),
    campaigns: () => call(CampaignList, 'GET', '/api/campaigns'),
    campaign: (campaignId) => call(Campaign, 'GET', `/api/campaigns/${id(campaignId)}`),
    createCampaign: (request) => call(Campaign, 'POST', '/api/campaigns', request),
    campaignAction: (campaignId, action) => call(Campaign, 'POST', `/api/campaigns/${id(campaignId)}/${action}`, NO_FIELDS),
    retryCampaign: (campaignId) => call(RetryCount, 'POST', `/api/campaigns/${id(campaignId)}/retry`, NO_FIELDS),
    messages: (query) => call(MessageSearchResult, 'GET', `/api/messages${queryString({ ...query })}`),
    message: (messageId) => call(MessageDetail, 'GET', `/api/messages/${id(messageId)}`),
    retryMessage: (messageId) => call(MessageOutcome, 'POST', `/api/messages/${id(messageId)}/retry`, NO_FIELDS),
    received: (limit) => call(ReceivedList, 'GET', `/sandbox/received${queryString({ limit })}`, undefined, false),
    faults: () => call(FaultsState, 'GET', '/sandbox/faults', undefined, false),
    setFaults: (faults) => call(SandboxStats, 'PUT', '/sandbox/faults', faults, false),
  }
}
