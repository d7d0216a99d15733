/**
 * The IPC conversation between the benchmark (parent) and the process that runs the sandbox WeChat,
 * alone or behind the service. The parent drives setup and faults through it and reads the process's
 * memory and CPU; all measured traffic goes over HTTP on loopback.
 */
import type { SandboxFaults, SandboxStats } from '../../server/wechat/sandbox'

/** `sandbox`: the sandbox WeChat alone. `service`: the service (SQLite file) in front of a sandbox, as `npm run server` runs it. */
export type ServerRole = 'sandbox' | 'service'

/** How a `service` process is set up (the defaults are `npm run server`'s sandbox mode). */
export interface ServiceSetup {
  /**
   * A sandbox WeChat in another process (a `sandbox` process's address and credentials): the service
   * calls it as it would call WeChat (WECHAT_APPID, WECHAT_API_BASE), and has no sandbox of its own,
   * so the sandbox's work is not counted in this process. Default: an in-process sandbox.
   */
  wechat?: { url: string; appId: string; secret: string }
  /** A database prepared before the start (removed when the process ends); default a new one. */
  database?: string
  /** More of the service's environment (DISPATCH_CONCURRENCY…). */
  env?: Record<string, string>
}

export interface ServerReady {
  type: 'ready'
  /** The sandbox WeChat this process runs; null for a `service` calling another process's sandbox. */
  sandboxUrl: string | null
  /** `http://127.0.0.1:<port>` of the service; null for the `sandbox` role. */
  serviceUrl: string | null
  /** The sandbox's made-up credentials, for a WeChat client in the parent. */
  appId: string
  secret: string
  /** The service's admin key (made up at start); null for the `sandbox` role. */
  adminKey: string | null
}

export interface ServerFailed {
  type: 'failed'
  message: string
}

/** The process's own resources (process.memoryUsage, process.cpuUsage). */
export interface ProcessUsage {
  rssBytes: number
  /** The highest RSS sampled (every 250 ms) since the process started or the last `resetPeak`. */
  peakRssBytes: number
  /** The highest RSS of the process's whole life, as the kernel counts it (getrusage). */
  maxRssBytes: number
  /** CPU time, user + system, since the process started. */
  cpuMicros: number
}

/** Each call: what the parent sends, what the server process answers. */
export interface ControlCalls {
  /** Changes the sandbox's fault switches (latency, token expiry…). */
  faults: { request: { faults: SandboxFaults }; result: null }
  stats: { request: Record<string, never>; result: SandboxStats }
  /** Test users accept `templateId` `times` times in WeChat's dialog (the sandbox's quota); returns their openids. */
  grant: { request: { users: string[]; templateId: string; times: number }; result: { openids: string[] } }
  /**
   * Test users `<prefix>000001`… (`count` of them) become the sandbox's users holding `quota` per
   * template id, as a restarted sandbox is told them (`remember`); returns their openids in order.
   */
  audience: { request: { prefix: string; count: number; quota: Record<string, number> }; result: { openids: string[] } }
  usage: { request: { resetPeak?: boolean }; result: ProcessUsage }
  /** A `js_code` for each test user, as `wx.login` would give the mini-program (for POST /api/session). */
  codes: { request: { users: string[] }; result: { codes: string[] } }
  /** The sandbox pushes to `url` as WeChat's message push would (secure mode with this Token and EncodingAESKey). */
  push: { request: { url: string; token: string; aesKey: string }; result: null }
  /** Resolves once every push the sandbox has started is answered or given up. */
  pushesSettled: { request: Record<string, never>; result: null }
}
export type ControlType = keyof ControlCalls

export type ControlRequest = { [K in ControlType]: { type: 'control'; id: number; call: K } & ControlCalls[K]['request'] }[ControlType]

export type ControlReply =
  | { type: 'reply'; id: number; result: ControlCalls[ControlType]['result'] }
  | { type: 'error'; id: number; message: string }

export type ServerMessage = ServerReady | ServerFailed | ControlReply
