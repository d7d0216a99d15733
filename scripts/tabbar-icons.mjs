// `node scripts/tabbar-icons.mjs` (from the repository root) draws the four tab bar icons (81×81, WeChat's size, well under its 40 KB limit) as PNGs.
import { deflateSync } from 'node:zlib'
import { writeFileSync } from 'node:fs'
const N = 81
function crc32(buf) { let c, crc = 0xffffffff; for (const b of buf) { c = (crc ^ b) & 0xff; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; crc = (crc >>> 8) ^ c } return (crc ^ 0xffffffff) >>> 0 }
function chunk(type, data) { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td)); return Buffer.concat([len, td, crc]) }
function png(alpha, [r, g, b]) {
  const raw = Buffer.alloc((N * 4 + 1) * N)
  for (let y = 0; y < N; y++) { raw[y * (N * 4 + 1)] = 0; for (let x = 0; x < N; x++) { const o = y * (N * 4 + 1) + 1 + x * 4; raw[o] = r; raw[o + 1] = g; raw[o + 2] = b; raw[o + 3] = Math.round(255 * alpha(x + 0.5, y + 0.5)) } }
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(N, 0); ihdr.writeUInt32BE(N, 4); ihdr[8] = 8; ihdr[9] = 6
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}
// Shapes as signed distances (negative inside), drawn as 5 px strokes with 1 px antialiasing.
const box = (x, y, cx, cy, hw, hh, r) => { const qx = Math.abs(x - cx) - hw + r, qy = Math.abs(y - cy) - hh + r; return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r }
const circle = (x, y, cx, cy, r) => Math.hypot(x - cx, y - cy) - r
const stroke = (d, w = 2.5) => Math.max(0, Math.min(1, w + 0.5 - Math.abs(d)))
const fill = (d) => Math.max(0, Math.min(1, 0.5 - d))
const seg = (x, y, x1, y1, x2, y2) => { const dx = x2 - x1, dy = y2 - y1; const t = Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy))); return Math.hypot(x - x1 - t * dx, y - y1 - t * dy) }
const icons = {
  // 订单: a receipt with three lines
  orders: (x, y) => Math.max(stroke(box(x, y, 40.5, 40.5, 22, 28, 5)), ...[28, 40, 52].map((ly) => stroke(seg(x, y, 29, ly, 52, ly)))),
  // 订阅中心: a bell
  subscriptions: (x, y) => Math.max(y < 57 ? stroke(box(x, y, 40.5, 44, 19, 24, 17)) : 0, stroke(seg(x, y, 14, 58, 67, 58)), fill(circle(x, y, 40.5, 67, 5)), fill(circle(x, y, 40.5, 16, 4))),
  // 消息记录: a speech bubble
  messages: (x, y) => Math.max(stroke(box(x, y, 40.5, 36, 28, 20, 8)), stroke(seg(x, y, 26, 56, 22, 68)), stroke(seg(x, y, 22, 68, 38, 56)), ...[30, 42].map((ly) => stroke(seg(x, y, 26, ly, 55, ly)))),
  // 通知设置: a gear
  preferences: (x, y) => { const a = Math.atan2(y - 40.5, x - 40.5); const r = 24 + 5 * Math.max(0, Math.min(1, 2.2 * Math.cos(8 * a))); return Math.max(stroke(circle(x, y, 40.5, 40.5, r)), stroke(circle(x, y, 40.5, 40.5, 9))) },
}
for (const [name, alpha] of Object.entries(icons)) {
  writeFileSync(`src/static/tabbar/${name}.png`, png(alpha, [0x7a, 0x7e, 0x83]))
  writeFileSync(`src/static/tabbar/${name}-active.png`, png(alpha, [0x07, 0xc1, 0x60]))
}
