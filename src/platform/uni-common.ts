/**
 * The uni calls both real platforms share (request, storage, toast, modal). Only src/platform touches
 * `uni.*`.
 */
import type { ModalOptions, PlatformRequest, PlatformResponse, PlatformStorage, ToastOptions } from './types'
import { PlatformError, requestFailure } from './errors'

function errMsgOf(failure: unknown): string {
  if (typeof failure === 'object' && failure !== null && 'errMsg' in failure && typeof failure.errMsg === 'string') {
    return failure.errMsg
  }
  return String(failure)
}

export { errMsgOf }

export function uniRequest(options: PlatformRequest): Promise<PlatformResponse> {
  return new Promise((resolve, reject) => {
    const request: UniNamespace.RequestOptions = {
      url: options.url,
      method: options.method,
      header: options.header ?? {},
      dataType: 'json',
      success: (response) => resolve({ statusCode: response.statusCode, data: response.data }),
      fail: (failure) => reject(requestFailure(errMsgOf(failure))),
    }
    if (options.data !== undefined) request.data = options.data as UniNamespace.RequestOptions['data']
    if (options.timeout !== undefined) request.timeout = options.timeout
    uni.request(request)
  })
}

export const uniStorage: PlatformStorage = {
  get(key) {
    const value: unknown = uni.getStorageSync(key)
    // uni answers '' for a key it does not have.
    return typeof value === 'string' && value !== '' ? value : null
  },
  set(key, value) {
    uni.setStorageSync(key, value)
  },
  remove(key) {
    uni.removeStorageSync(key)
  },
}

export function uniToast(options: ToastOptions): void {
  uni.showToast({ title: options.title, icon: options.icon ?? 'none', duration: options.duration ?? 2000 })
}

export function uniStopPullDownRefresh(): void {
  uni.stopPullDownRefresh()
}

export function uniOpenPage(url: string, options: { tab?: boolean } = {}): void {
  if (options.tab === true) uni.reLaunch({ url })
  else uni.navigateTo({ url })
}

export function uniModal(options: ModalOptions): Promise<boolean> {
  return new Promise((resolve, reject) => {
    uni.showModal({
      title: options.title,
      content: options.content,
      confirmText: options.confirmText ?? '确定',
      cancelText: options.cancelText ?? '取消',
      showCancel: options.showCancel ?? true,
      success: (result) => {
        // Synchronously inside the confirm callback, so a subscribe call there keeps the tap.
        if (result.confirm) options.onConfirm?.()
        resolve(result.confirm)
      },
      fail: (failure) => reject(new PlatformError('MODAL_FAILED', errMsgOf(failure))),
    })
  })
}
