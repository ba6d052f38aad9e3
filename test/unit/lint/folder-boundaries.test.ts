import { randomUUID } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

// Lints probe files placed in a stage folder with the project's real ESLint config. Type-aware
// rules need the files on disk, so each probe is written, linted, and removed.
const eslint = new ESLint({ cwd: process.cwd() })

async function messagesFor(folder: string, code: string): Promise<string[]> {
  const file = `${folder}/lint-probe-${randomUUID().slice(0, 8)}.ts`
  writeFileSync(file, code)
  try {
    const [result] = await eslint.lintFiles([file])
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`)
  } finally {
    rmSync(file, { force: true })
  }
}

describe('folder import rules (STYLE.md)', () => {
  it('fails an import between stage folders', async () => {
    const messages = await messagesFor(
      'ingest',
      "import { createStorage } from '../storage/index.js'\nexport const x = createStorage\n",
    )
    expect(messages).toContainEqual(
      expect.stringContaining('boundaries/element-types: ingest/ may not import storage/'),
    )
  })

  it('fails core importing anything internal', async () => {
    const messages = await messagesFor(
      'core',
      "import { createInProcessBus } from '../bus/index.js'\nexport const x = createInProcessBus\n",
    )
    expect(messages).toContainEqual(expect.stringContaining('core/ may not import bus/'))
  })

  it('fails an engine client imported outside its owning folder', async () => {
    const messages = await messagesFor(
      'api',
      "import { createClient } from '@clickhouse/client'\nexport const x = createClient\n",
    )
    expect(messages).toContainEqual(expect.stringContaining('only storage/ may import @clickhouse/client'))
  })

  it('allows the imports the table permits', async () => {
    const messages = await messagesFor(
      'api',
      "import { TOPICS } from '../core/index.js'\nimport type { Bus } from '../bus/index.js'\nimport type { Storage } from '../storage/index.js'\nexport const x = TOPICS\nexport type Y = Bus | Storage\n",
    )
    expect(messages).toEqual([])
  })
})
