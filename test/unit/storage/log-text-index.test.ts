import { describe, expect, it } from 'vitest'
import type { ClickHouseClient } from '../../../storage/clickhouse-client.js'
import { logInsertSettings } from '../../../storage/log-text-index.js'

/** A client whose system.settings holds the named settings; it records the names asked about. */
function clientKnowing(settings: readonly string[], asked: string[]): ClickHouseClient {
  return {
    query: async ({ query_params }: { query_params: { name: string } }) => {
      asked.push(query_params.name)
      return { json: async () => [{ n: settings.includes(query_params.name) ? '1' : '0' }] }
    },
  } as unknown as ClickHouseClient
}

describe('log insert settings', () => {
  it('leave the text index to merges where ClickHouse can', async () => {
    const asked: string[] = []
    const client = clientKnowing(['exclude_materialize_skip_indexes_on_insert'], asked)
    expect(await logInsertSettings(client, 'ngram')).toEqual({
      exclude_materialize_skip_indexes_on_insert: 'idx_message',
    })
    expect(asked).toEqual(['exclude_materialize_skip_indexes_on_insert'])
  })

  it('add nothing on a ClickHouse without the setting, which builds the index at insert', async () => {
    expect(await logInsertSettings(clientKnowing([], []), 'ngram')).toEqual({})
  })

  it('add nothing, and ask nothing, without a text index', async () => {
    const asked: string[] = []
    expect(
      await logInsertSettings(clientKnowing(['exclude_materialize_skip_indexes_on_insert'], asked), 'none'),
    ).toEqual({})
    expect(asked).toEqual([])
  })

  it('report a failed lookup as a storage error', async () => {
    const failing = {
      query: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
      },
    } as unknown as ClickHouseClient
    await expect(logInsertSettings(failing, 'ngram')).rejects.toMatchObject({
      code: 'ARGUS_ERR_STORAGE_UNAVAILABLE',
      retriable: true,
    })
  })
})
