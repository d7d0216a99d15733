/** Ids made on the device (consent ids, demo order ids): URL-safe, `^[A-Za-z0-9_-]+$`. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** `length` characters of 6 random bits each (22 characters ≈ 132 bits). */
export function randomId(length = 22): string {
  const bytes = new Uint8Array(length)
  const crypto = globalThis.crypto
  if (crypto !== undefined && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes)
  } else {
    // The mini-program runtime has no Web Crypto; the id only has to be unique per device.
    for (let i = 0; i < length; i++) bytes[i] = Math.floor(Math.random() * 256)
  }
  let id = ''
  for (const byte of bytes) id += ALPHABET[byte & 63]
  return id
}
