/**
 * Rows as JSONCompactEachRow text, encoded when a batch arrives rather than when its block is
 * inserted. A batch waits for its insert (group commit, the engine's acknowledgement) for about a
 * tenth of a second under load: held as value arrays, its rows and the records they came from
 * outlived young-generation collections and were copied and promoted; as bytes outside V8's heap
 * they cost the collector nothing.
 */
export interface EncodedRows {
  /** The rows as one JSON array without its brackets: rows separated by commas, which the format reads as it reads newlines. */
  readonly text: Buffer
  readonly count: number
}

/** One stringify for the whole batch, not one per row and a join: 0.75 instead of 1.3 µs per log row. */
export function encodeRows(rows: readonly unknown[][]): EncodedRows {
  const json = Buffer.from(JSON.stringify(rows))
  return { text: json.subarray(1, json.length - 1), count: rows.length }
}

const NEWLINE = Buffer.from('\n')

/** The JSONCompactEachRow text of several batches, one block. */
export function joinEncodedRows(batches: readonly EncodedRows[]): Buffer {
  if (batches.length === 1) return (batches[0] as EncodedRows).text
  const parts: Buffer[] = []
  for (const batch of batches) {
    if (batch.count === 0) continue
    if (parts.length > 0) parts.push(NEWLINE)
    parts.push(batch.text)
  }
  return Buffer.concat(parts)
}
