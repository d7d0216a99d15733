/**
 * The H5 stand-in's UI: each dialog is its own small Vue app mounted on document.body (uni's H5
 * App.vue renders no template of ours) and unmounted when the person closes it. Each is a chunk of
 * its own, fetched the first time it opens: the app's first load does not carry them.
 */
import { createApp, type Component } from 'vue'
import type { H5SubscribeUi, SettingsSheetAnswer, SubscribeDialogAnswer } from './h5'

/** Marks the host element of a mounted stand-in. */
const H5_UI_HOST_CLASS = 'uni-subscribe-h5-host'

async function mountOnce<T>(load: () => Promise<{ default: Component }>, props: Record<string, unknown>, parent: () => HTMLElement): Promise<T> {
  const component = (await load()).default
  return new Promise((resolve) => {
    const host = document.createElement('div')
    host.className = H5_UI_HOST_CLASS
    parent().appendChild(host)
    const app = createApp(component, {
      ...props,
      onDone: (answer: T) => {
        app.unmount()
        host.remove()
        resolve(answer)
      },
    })
    app.mount(host)
  })
}

export function createDomSubscribeUi(parent: () => HTMLElement = () => document.body): H5SubscribeUi {
  return {
    showSubscribeDialog: (request) => mountOnce<SubscribeDialogAnswer>(() => import('@/components/h5/SubscribeDialog.vue'), { templates: request.templates }, parent),
    showSettingsSheet: (request) =>
      mountOnce<SettingsSheetAnswer>(() => import('@/components/h5/SettingsSheet.vue'), { mainSwitch: request.mainSwitch, items: request.items }, parent),
  }
}
