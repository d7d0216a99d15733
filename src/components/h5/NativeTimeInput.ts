/**
 * H5's time field for quiet hours: the browser's own `<input type="time">` (the phone's time wheel),
 * in place of uni's `<picker mode="time">`, whose H5 emulation of WeChat's wheel (picker-view, its
 * scroller and spring physics) weighs about 30 KB of uni-h5 for two fields. The mini-program keeps
 * WeChat's own picker.
 *
 * Laid over the field the page draws (transparent, the same size), so a tap anywhere on it opens the
 * browser's picker. A choice is passed on as uni's picker reports one, a bubbling `change` event with
 * `detail.value` ("23:30"), so the page's handler reads both the same way (src/components/events.ts).
 * A render function, not a template: uni compiles a template's `<input>` into its own input component.
 */
import { defineComponent, h } from 'vue'

export default defineComponent({
  name: 'NativeTimeInput',
  props: {
    value: { type: String, required: true },
    /** What a screen reader says the field is (免打扰开始时间). */
    label: { type: String, required: true },
  },
  setup(props) {
    function onChange(event: Event): void {
      // The one this dispatches below passes by on its way up.
      if (event instanceof CustomEvent) return
      const input = event.target
      if (!(input instanceof HTMLInputElement)) return
      // The browser's own event goes no further: the page hears uni's shape of it, once.
      event.stopPropagation()
      if (input.value === '') return
      input.dispatchEvent(new CustomEvent('change', { bubbles: true, detail: { value: input.value } }))
    }
    function onClick(event: MouseEvent): void {
      const input = event.currentTarget
      if (!(input instanceof HTMLInputElement) || typeof input.showPicker !== 'function') return
      try {
        // A desktop browser only focuses the field on a click; a phone opens its wheel anyway.
        input.showPicker()
      } catch {
        // Not allowed here (no user gesture): the field still takes typing.
      }
    }
    return () =>
      h('input', {
        class: 'native-time-input',
        type: 'time',
        value: props.value,
        'aria-label': props.label,
        onChange,
        onClick,
      })
  },
})
