import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import OrdersPage from '@/pages/orders/index.vue'

describe('toolchain', () => {
  it('mounts a page under jsdom', () => {
    const wrapper = mount(OrdersPage)
    expect(wrapper.text()).toContain('orders')
  })
})
