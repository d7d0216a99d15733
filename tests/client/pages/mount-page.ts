/**
 * Mounts a page the way uni opens it (onLoad → onShow on mount, from the uni-app test double) against
 * the test client (FakePlatform + FakeService), and waits until what it started has settled.
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { Component } from 'vue'
import type { TestClient } from '../support/client'

export async function mountPage(page: Component): Promise<VueWrapper> {
  const wrapper = mount(page)
  await flushPromises()
  return wrapper
}

/** The person taps the element: its handler runs inside the platform's tap, as in WeChat. */
export async function tap(client: TestClient, wrapper: VueWrapper, selector: string): Promise<void> {
  const element = wrapper.find(selector)
  if (!element.exists()) throw new Error(`nothing matches ${selector}`)
  client.platform.tap(() => {
    element.element.dispatchEvent(new Event('tap'))
  })
  await flushPromises()
}

/** A uni form event (`input`, `change` of switch / picker) carrying `detail.value`. */
export async function sendValue(wrapper: VueWrapper, selector: string, type: 'input' | 'change', value: string | boolean): Promise<void> {
  const element = wrapper.find(selector)
  if (!element.exists()) throw new Error(`nothing matches ${selector}`)
  element.element.dispatchEvent(new CustomEvent(type, { detail: { value } }))
  await flushPromises()
}

/** The page's text with white space collapsed. */
export function textOf(wrapper: VueWrapper): string {
  return wrapper.text().replace(/\s+/g, ' ')
}
