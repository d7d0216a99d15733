/**
 * Refreshes the catalogue file from WeChat's `gettemplate` list (the work of `npm run templates:sync`).
 */
import { existsSync, readFileSync } from 'node:fs'
import type { WeChatClient } from '../wechat/types'
import { CatalogueError, loadCatalogue, mergeCatalogue, writeCatalogue } from './catalogue'

export { CatalogueError }

/** Reads WeChat's templates, merges them into the catalogue at `path`, writes it; returns the report lines. */
export async function syncCatalogue(path: string, wechat: Pick<WeChatClient, 'getTemplateList'>): Promise<string[]> {
  const exists = existsSync(path)
  const existing = exists ? loadCatalogue(path) : []
  const comment = exists ? (JSON.parse(readFileSync(path, 'utf8')) as { $comment?: string }).$comment : undefined
  const merge = mergeCatalogue(existing, await wechat.getTemplateList())
  writeCatalogue(path, merge.templates, comment)

  const lines = [`已写入 ${path}：${merge.templates.length} 个模板`]
  for (const template of merge.templates.filter((t) => merge.added.includes(t.id))) {
    lines.push(`  新增 ${template.id}「${template.title}」→ key ${template.key}，category other：请改成代码使用的 key 和分类`)
  }
  for (const id of merge.changed) lines.push(`  更新 ${id}（标题、类型或关键词有变化）`)
  for (const id of merge.removed) lines.push(`  移除 ${id}（微信的模板列表里已没有它）`)
  return lines
}
