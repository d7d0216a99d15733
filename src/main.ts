import { createSSRApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { sandboxLinkFrom } from './api/client'
import { createClientContext, installClientContext, useApi } from './context'
import { createPlatform } from './platform'
import { useSessionStore } from './stores/session'

export function createApp() {
  const app = createSSRApp(App)
  const pinia = createPinia()
  app.use(pinia)
  const platform = createPlatform({ sandbox: () => sandboxLinkFrom(useApi()) })
  installClientContext(
    createClientContext({
      platform,
      getToken: () => useSessionStore(pinia).validToken(),
      currentOpenid: () => useSessionStore(pinia).openid,
    }),
  )
  return { app, pinia }
}
