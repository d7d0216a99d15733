/** Before the mp tests: dist/build/mp-weixin must be a build of the current sources. */
import { join } from 'node:path'
import { ensureUniBuild, ROOT } from '../../support/uni-build'

export default function setup(): void {
  ensureUniBuild({ platform: 'mp-weixin', marker: join(ROOT, 'dist/build/mp-weixin/app.json') })
}
