import { createHash } from 'node:crypto'
import type { EncodedRows } from './encoded-rows.js'

/** One block for the engine: the rows of one or more bus batches, with one deduplication token. */
export interface CoalescedBlock {
  table: string
  columns: readonly string[]
  /** The batches' rows, in the order they were submitted. */
  rows: EncodedRows[]
  /** A batch's own token when alone; a hash of the batches' tokens, in order, when several. */
  token: string
  /** Bus batches in the block. */
  batches: number
}

export interface InsertCoalescer {
  /** Resolves once a block holding these rows is acknowledged; rejects if that block failed. */
  submit(table: string, columns: readonly string[], rows: EncodedRows, token: string): Promise<void>
}

interface Waiting {
  columns: readonly string[]
  rows: EncodedRows
  token: string
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Group commit per table: while a table's insert runs, batches for it wait, and the next insert
 * takes all of them as one block. Every insert makes a part that ClickHouse later merges, and
 * both the insert and the merges cost less per row in bigger blocks (embedded ClickHouse: about
 * 24 us per log row in 5,000-row blocks, 14 us in 20,000-row blocks). Batches from several bus
 * partitions then share one part instead of each making its own, with no timer added to latency
 * (an idle table waits one event-loop turn, so batches delivered together make one block).
 */
export function createInsertCoalescer(options: {
  /** Inserts one block (retries included); resolves when ClickHouse acknowledged it. */
  insert: (block: CoalescedBlock) => Promise<void>
  /** Rows per block at most (one batch larger than this still goes alone). */
  maxRows: number
}): InsertCoalescer {
  const tables = new Map<string, { running: boolean; waiting: Waiting[] }>()

  async function drain(table: string, state: { running: boolean; waiting: Waiting[] }): Promise<void> {
    state.running = true
    // A Kafka fetch hands over each partition's batch in turn: one turn lets them share the first block.
    await new Promise<void>((resolve) => setImmediate(resolve))
    try {
      while (state.waiting.length > 0) {
        const taken: Waiting[] = []
        let rows = 0
        while (state.waiting.length > 0) {
          const next = state.waiting[0] as Waiting
          if (taken.length > 0 && rows + next.rows.count > options.maxRows) break
          taken.push(state.waiting.shift() as Waiting)
          rows += next.rows.count
        }
        const first = taken[0] as Waiting
        const block: CoalescedBlock = {
          table,
          columns: first.columns,
          rows: taken.map((w) => w.rows),
          token:
            taken.length === 1
              ? first.token
              : createHash('sha256')
                  .update(taken.map((w) => w.token).join('\n'))
                  .digest('hex')
                  .slice(0, 32),
          batches: taken.length,
        }
        try {
          await options.insert(block)
          for (const w of taken) w.resolve()
        } catch (error) {
          for (const w of taken) w.reject(error)
        }
      }
    } finally {
      state.running = false
    }
  }

  return {
    submit(table, columns, rows, token) {
      let state = tables.get(table)
      if (!state) {
        state = { running: false, waiting: [] }
        tables.set(table, state)
      }
      const submitted = new Promise<void>((resolve, reject) =>
        state.waiting.push({ columns, rows, token, resolve, reject }),
      )
      if (!state.running) void drain(table, state)
      return submitted
    },
  }
}
