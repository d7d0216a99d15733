/**
 * Chooses this build's platform with uni's conditional compilation: the mp-weixin build ships only
 * the branch that calls uni (→ wx), the H5 build only the stand-in dialog. (Under vitest the `client`
 * project applies the H5 branch, like `uni build`.)
 */
import type { Platform, SandboxLink } from './types'
// #ifdef MP-WEIXIN
import { createMpWeixinPlatform } from './mp-weixin'
// #endif
// #ifdef H5
import { createH5Platform } from './h5'
import { createDomSubscribeUi } from './h5-ui'
import { uniModal, uniOpenPage, uniRequest, uniStopPullDownRefresh, uniStorage, uniToast } from './uni-common'
// #endif

interface CreatePlatformOptions {
  /** H5: the service, for the stand-in dialog (sandbox mode, titles, grants). Read lazily. */
  sandbox: () => SandboxLink
  /** H5: the openid of the person signed in, whose stand-in WeChat settings are kept. */
  owner: () => string | null
}

export function createPlatform(options: CreatePlatformOptions): Platform {
  // #ifdef MP-WEIXIN
  void options
  return createMpWeixinPlatform()
  // #endif
  // #ifdef H5
  return createH5Platform({
    sandbox: options.sandbox,
    owner: options.owner,
    ui: createDomSubscribeUi(),
    storage: uniStorage,
    base: { request: uniRequest, toast: uniToast, modal: uniModal, stopPullDownRefresh: uniStopPullDownRefresh, openPage: uniOpenPage },
  })
  // #endif
}
