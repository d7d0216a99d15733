/**
 * The operator's session in the console: the token the admin key was exchanged for, and when it
 * expires. Only the token is kept (in storage, so a reload stays signed in); the key itself passes
 * through `signIn` and is never stored. When the session ends without 退出 (it expired, the service
 * refused it), `endedBecause` says why, for the sign-in page.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { OperatorSession } from '@/domain/console-contract'
import { hasShape } from '@/rules/shape'
import { useConsole } from '../context'

const STORAGE_KEY = 'uni-subscribe:console-session'
export const EXPIRED_MESSAGE = '登录已过期，请重新输入管理密钥登录'

export const useOperatorSessionStore = defineStore('console-operator-session', () => {
  const token = ref<string | null>(null)
  const expiresAt = ref<string | null>(null)
  const endedBecause = ref<string | null>(null)

  function restore(): void {
    const text = useConsole().platform.storage.get(STORAGE_KEY)
    if (text === null) return
    let stored: unknown = null
    try {
      stored = JSON.parse(text)
    } catch {
      stored = null
    }
    if (hasShape(OperatorSession, stored)) {
      token.value = stored.token
      expiresAt.value = stored.expiresAt
    } else useConsole().platform.storage.remove(STORAGE_KEY)
  }

  function forget(): void {
    token.value = null
    expiresAt.value = null
    useConsole().platform.storage.remove(STORAGE_KEY)
  }

  /** Ends the session here (not on the service), saying why. */
  function end(reason: string): void {
    forget()
    endedBecause.value = reason
  }

  /** The token while the session lasts (by the device's clock); null otherwise, and an expired one is ended. */
  function validToken(): string | null {
    if (token.value === null || expiresAt.value === null) return null
    if (Date.parse(expiresAt.value) <= useConsole().clock.now()) {
      end(EXPIRED_MESSAGE)
      return null
    }
    return token.value
  }

  /** Exchanges the admin key for a session; rejects with the service's ApiError (a wrong key: 403). */
  async function signIn(key: string): Promise<void> {
    const session = await useConsole().api.signIn(key)
    token.value = session.token
    expiresAt.value = session.expiresAt
    endedBecause.value = null
    useConsole().platform.storage.set(STORAGE_KEY, JSON.stringify(session))
  }

  /** 退出: the service ends the session; it is forgotten here whatever the service answered. */
  async function signOut(): Promise<void> {
    try {
      if (validToken() !== null) await useConsole().api.signOut()
    } finally {
      forget()
      endedBecause.value = null
    }
  }

  restore()
  return { token, expiresAt, endedBecause, validToken, signIn, signOut, end }
})
