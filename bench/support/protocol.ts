/**
 * The IPC conversation between the benchmark (parent) and the process that runs the sandbox WeChat,
 * alone or behind the service. The parent drives setup and faults through it; all measured traffic
 * goes over HTTP on loopback.
 */
import type { SandboxFaults, SandboxStats } from '../../server/wechat/sandbox'

/** `sandbox`: the sandbox WeChat alone. `service`: the service (SQLite file) in front of it, as `npm run server` runs it. */
export type ServerRole = 'sandbox' | 'service'

export interface ServerReady {
  type: 'ready'
  sandboxUrl: string
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

/** Each call: what the parent sends, what the server process answers. */
export interface ControlCalls {
  /** Changes the sandbox's fault switches (latency, token expiry…). */
  faults: { request: { faults: SandboxFaults }; result: null }
  stats: { request: Record<string, never>; result: SandboxStats }
  /** Test users accept `templateId` `times` times in WeChat's dialog (the sandbox's quota); returns their openids. */
  grant: { request: { users: string[]; templateId: string; times: number }; result: { openids: string[] } }
}
export type ControlType = keyof ControlCalls

export type ControlRequest = { [K in ControlType]: { type: 'control'; id: number; call: K } & ControlCalls[K]['request'] }[ControlType]

export type ControlReply =
  | { type: 'reply'; id: number; result: ControlCalls[ControlType]['result'] }
  | { type: 'error'; id: number; message: string }

export type ServerMessage = ServerReady | ServerFailed | ControlReply
