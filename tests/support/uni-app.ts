/**
 * Test double for `@dcloudio/uni-app` under vitest (the real package needs uni's patched Vue).
 *
 * It behaves like uni's page lifecycle for a page mounted on its own: `onLoad(query)`, then `onShow`,
 * then `onReady`, all on mount, in that order. Every other hook (pull-down refresh, hide, unload…)
 * is recorded on the component instance and fired with `triggerPageHook(wrapper.vm, 'onPullDownRefresh')`.
 */
import { getCurrentInstance, onMounted, type ComponentInternalInstance, type ComponentPublicInstance } from 'vue'

type Hook = (arg?: unknown) => unknown
const hooks = new WeakMap<ComponentInternalInstance, Map<string, Hook[]>>()

/** The query the next mounted page receives in `onLoad`. */
let nextQuery: Record<string, string> = {}
export function setPageQuery(query: Record<string, string>): void {
  nextQuery = query
}

function register(name: string, hook: Hook, target?: ComponentInternalInstance | null): void {
  const instance = target ?? getCurrentInstance()
  if (!instance) throw new Error(`${name}() called outside of setup()`)
  let byName = hooks.get(instance)
  if (!byName) hooks.set(instance, (byName = new Map()))
  const list = byName.get(name) ?? []
  list.push(hook)
  byName.set(name, list)
}

async function runHooks(instance: ComponentInternalInstance, name: string, arg?: unknown): Promise<void> {
  const list = hooks.get(instance)?.get(name) ?? []
  for (const hook of list) await hook(arg)
}

// Mount order as in uni: onLoad → onShow → onReady, each on mount.
function mountHook(name: 'onLoad' | 'onShow' | 'onReady') {
  return (hook: Hook, target?: ComponentInternalInstance | null): void => {
    const instance = target ?? getCurrentInstance()
    register(name, hook, instance)
    onMounted(() => {
      void hook(name === 'onLoad' ? { ...nextQuery } : undefined)
    }, instance)
  }
}

export const onLoad = mountHook('onLoad')
export const onShow = mountHook('onShow')
export const onReady = mountHook('onReady')

function recordedHook(name: string) {
  return (hook: Hook, target?: ComponentInternalInstance | null): void => register(name, hook, target)
}

export const onLaunch = recordedHook('onLaunch')
export const onHide = recordedHook('onHide')
export const onUnload = recordedHook('onUnload')
export const onPullDownRefresh = recordedHook('onPullDownRefresh')
export const onReachBottom = recordedHook('onReachBottom')
export const onTabItemTap = recordedHook('onTabItemTap')
export const onPageScroll = recordedHook('onPageScroll')
export const onBackPress = recordedHook('onBackPress')
export const onAppShow = recordedHook('onAppShow')
export const onAppHide = recordedHook('onAppHide')

/** Fires a recorded page hook (e.g. `onPullDownRefresh`, `onShow` again after returning from settings). */
export async function triggerPageHook(vm: ComponentPublicInstance, name: string, arg?: unknown): Promise<void> {
  await runHooks(vm.$, name, arg)
}
