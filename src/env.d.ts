/// <reference types="vite/client" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

interface ImportMetaEnv {
  /** Base URL of the send service, e.g. http://127.0.0.1:8080. Empty means same origin (H5 served by the service). */
  readonly VITE_API_BASE?: string
  /** "sandbox" when the service runs its sandbox WeChat (H5 stand-in dialog talks to it). */
  readonly VITE_WECHAT_MODE?: 'sandbox' | 'wechat'
}
interface ImportMeta {
  readonly env: ImportMetaEnv
}
