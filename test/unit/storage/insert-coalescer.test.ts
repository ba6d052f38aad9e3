import { describe, expect, it } from 'vitest'
import { createInsertCoalescer, type CoalescedBlock } from '../../../storage/insert-coalescer.js'
import { encodeRows, joinEncodedRows } from '../../../storage/encoded-rows.js'
import { eventLoopTurns } from '../../helpers/event-loop.js'

/** An insert that holds each block until the test lets it finish (or fail). */
function heldInserts() {
  const blocks: CoalescedBlock[] = []
  const finish: Array<(error?: Error) => void> = []
  const insert = (block: CoalescedBlock) =>
    new Promise<void>((resolve, reject) => {
      blocks.push(block)
      finish.push((error) => (error ? reject(error) : resolve()))
    })
  return { blocks, finish, insert }
}
/** Two turns of the event loop: the coalescer waits one before it takes a block. */
const tick = () => eventLoopTurns(2)

describe('insert coalescer (group commit)', () => {
  it('inserts batches submitted together as one block, and those that arrive meanwhile as the next', async () => {
    const { blocks, finish, insert } = heldInserts()
    const coalescer = createInsertCoalescer({ insert, maxRows: 1_000 })
    const done: string[] = []
    const submit = (token: string, rows: number) =>
      coalescer
        .submit('db.logs', ['a'], encodeRows(Array.from({ length: rows }, (_, i) => [`${token}${i}`])), token)
        .then(() => {
          done.push(token)
        })
    // A Kafka fetch hands over each partition's batch in turn, within one turn of the event loop.
    const together = [submit('p0', 2), Promise.resolve().then(() => submit('p1', 1))]
    await tick()
    expect(blocks).toHaveLength(1)
    expect(blocks[0]).toMatchObject({ batches: 2 })
    const later = [submit('p2', 3), submit('p3', 1), submit('p4', 1)]
    await tick()
    expect(blocks).toHaveLength(1) // they wait for the running insert
    finish[0]!()
    await Promise.all(together)
    await tick()
    expect(blocks).toHaveLength(2)
    expect(blocks[1]!.batches).toBe(3)
    // The block's text is the batches' rows in order, as JSONCompactEachRow reads them.
    const text = joinEncodedRows(blocks[1]!.rows).bytes.toString()
    expect(JSON.parse(`[${text.replaceAll('\n', ',')}]`)).toEqual([
      ['p20'],
      ['p21'],
      ['p22'],
      ['p30'],
      ['p40'],
    ])
    expect(done).toEqual(['p0', 'p1']) // the others wait for their block's acknowledgement
    finish[1]!()
    await Promise.all(later)
    expect(done).toEqual(['p0', 'p1', 'p2', 'p3', 'p4'])

    // The same batches in the same order make the same token: a retried block stays a no-op.
    const again = heldInserts()
    const replay = createInsertCoalescer({ insert: again.insert, maxRows: 1_000 })
    const first = replay.submit('db.logs', ['a'], encodeRows([[0]]), 'p0')
    await tick()
    const rest = ['p2', 'p3', 'p4'].map((t) => replay.submit('db.logs', ['a'], encodeRows([[0]]), t))
    again.finish[0]!()
    await first
    await tick()
    expect(again.blocks[1]!.token).toBe(blocks[1]!.token)
    again.finish[1]!()
    await Promise.all(rest)
  })

  it('fails every batch of a failed block, keeps blocks under maxRows and tables apart', async () => {
    const { blocks, finish, insert } = heldInserts()
    const coalescer = createInsertCoalescer({ insert, maxRows: 4 })
    const first = coalescer.submit('db.logs', ['a'], encodeRows([[1], [2]]), 'a')
    const b = coalescer.submit('db.logs', ['a'], encodeRows([[3], [4], [5]]), 'b')
    const c = coalescer.submit('db.logs', ['a'], encodeRows([[6]]), 'c')
    const metrics = coalescer.submit('db.metrics', ['v'], encodeRows([[7]]), 'm')
    await tick()
    // Another table does not wait for this one's insert.
    expect(blocks.map((x) => x.table)).toEqual(['db.logs', 'db.metrics'])
    finish[0]!()
    finish[1]!()
    await Promise.all([first, metrics])
    await tick()
    // 3 + 1 rows fit in 4.
    expect(blocks[2]).toMatchObject({ batches: 2 })
    finish[2]!(new Error('engine refused'))
    await expect(b).rejects.toThrow('engine refused')
    await expect(c).rejects.toThrow('engine refused')
    // A later batch gets a fresh block.
    const d = coalescer.submit('db.logs', ['a'], encodeRows([[8], [9], [10], [11], [12]]), 'd')
    await tick()
    expect(blocks[3]).toMatchObject({ token: 'd', batches: 1 })
    finish[3]!()
    await d
  })
})
