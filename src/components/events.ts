/**
 * The `detail.value` of uni's form events (input, switch, picker), read without trusting its shape:
 * in H5 and in the mini-program they arrive as `{ detail: { value } }`, typed as a plain `Event`.
 */
function detailValue(event: Event): unknown {
  if (!('detail' in event)) return undefined
  const detail: unknown = event.detail
  return typeof detail === 'object' && detail !== null && 'value' in detail ? detail.value : undefined
}

/** `input` / `picker mode="time"`: the text, or null when the event carried none. */
export function textValue(event: Event): string | null {
  const value = detailValue(event)
  return typeof value === 'string' ? value : null
}

/** `switch`: whether it is on now, or null when the event carried no boolean. */
export function switchValue(event: Event): boolean | null {
  const value = detailValue(event)
  return typeof value === 'boolean' ? value : null
}
