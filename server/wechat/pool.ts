/**
 * How many connections the undici Pool to WeChat opens. Every send the dispatcher has in flight needs
 * one: with fewer, sends wait for a connection, and with WeChat 50 ms away the dispatcher reaches only
 * connections ÷ latency, not DISPATCH_CONCURRENCY ÷ latency. Never fewer than 32, which sign-ins
 * and token refreshes share with the sends.
 */
export const MIN_WECHAT_CONNECTIONS = 32

export function wechatPoolConnections(dispatchConcurrency: number): number {
  return Math.max(MIN_WECHAT_CONNECTIONS, dispatchConcurrency)
}
