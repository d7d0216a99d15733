/** WeChat's answer shape, as every sandbox endpoint gives it: HTTP 200 with `{ errcode, errmsg, … }`. */

export type WeChatAnswer = { errcode: number; errmsg: string } & Record<string, unknown>

export const ok = (fields: Record<string, unknown> = {}): WeChatAnswer => ({ errcode: 0, errmsg: 'ok', ...fields })
export const fail = (errcode: number, errmsg: string): WeChatAnswer => ({ errcode, errmsg })
