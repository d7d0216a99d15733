import { createSSRApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { sandboxLinkFrom } from './api/client'
import { createClientContext, installClientContext, useApi } from './context'
import { createPlatform } from './platform'
import { useSessionStore } from './stores/session'
import { useSubscriptionsStore } from './stores/subscriptions'

export function createApp() {
  const app = createSSRApp(App)
  const pinia = createPinia()
  app.use(pinia)
  const platform = createPlatform({ sandbox: () => sandboxLinkFrom(useApi()), owner: () => useSessionStore(pinia).openid })
  installClientContext(
    createClientContext({
      platform,
      getToken: () => useSessionStore(pinia).validToken(),
      currentOpenid: () => useSessionStore(pinia).openid,
    }),
  )
  // Made now, so it takes the credits of every consent the outbox delivers, from the first flush
  // (App.vue's onShow) on, whichever page is open.
  useSubscriptionsStore(pinia)
  return { app, pinia }
}
