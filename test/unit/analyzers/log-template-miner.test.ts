import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { LogTemplateMiner, maskVariables, tokenize } from '../../../analyzers/log-template-miner.js'

describe('log template miner', () => {
  it('masks generic variables: numbers, IPs with ports, hex, UUIDs, words with digits', () => {
    expect(maskVariables('took 15ms? no: took 15 ms from 10.0.3.7:8080 id 0x1f2e')).toBe(
      'took 15ms? no: took <*> ms from <*> id <*>',
    )
    expect(tokenize('user=alice blk_-1608999687919862906 host an123 served 3 requests')).toEqual([
      'user',
      '=',
      'alice',
      '<*>',
      'host',
      '<*>',
      'served',
      '<*>',
      'requests',
    ])
    expect(maskVariables('trace 3f2a9c1e-77b2-4c0d-9a55-0e1f2d3c4b5a done')).toBe('trace <*> done')
  })

  it('groups messages of one event, keeps events apart, and keeps a group id as its template generalises', () => {
    const miner = new LogTemplateMiner()
    const a1 = miner.add('Connection from 10.1.2.3 closed after 120 ms')
    const a2 = miner.add('Connection from 10.9.8.7 closed after 5 ms')
    const b = miner.add('Disk /dev/sda1 is 91% full')
    const a3 = miner.add('Connection from 10.1.2.3 reset after 7 ms')
    const c1 = miner.add('removing echo')
    const c2 = miner.add('removing chargen')
    expect(a1.isNew).toBe(true)
    expect(a2).toMatchObject({ id: a1.id, isNew: false, count: 2 })
    expect(a3.id).toBe(a1.id)
    expect(a3.template).toBe('Connection from <*> <*> after <*> ms')
    expect(b.id).not.toBe(a1.id)
    expect(c2.id).toBe(c1.id)
    expect(c2.template).toBe('removing <*>')
  })

  it('keeps messages that differ in an upper-case state name apart, and lower-case words variable', () => {
    const miner = new LogTemplateMiner()
    const started = miner.add('task_1 Task Transitioned from NEW to SCHEDULED')
    const running = miner.add('task_2 Task Transitioned from SCHEDULED to RUNNING')
    const again = miner.add('task_3 Task Transitioned from NEW to SCHEDULED')
    expect(running.id).not.toBe(started.id)
    expect(again).toMatchObject({ id: started.id, template: '<*> Task Transitioned from NEW to SCHEDULED' })
    const alice = miner.add('Invalid user alice from 10.0.0.1')
    const bob = miner.add('Invalid user bob from 10.0.0.2')
    expect(bob).toMatchObject({ id: alice.id, template: 'Invalid user <*> from <*>' })
  })

  it('holds at most maxTemplates, forgetting the least recently seen', () => {
    const miner = new LogTemplateMiner({ maxTemplates: 3 })
    const keep = miner.add('heartbeat ok')
    for (const word of ['alpha', 'beta', 'gamma', 'delta']) {
      miner.add(`unique event ${word} happened here now`.replace('unique', word))
      miner.add('heartbeat ok')
    }
    expect(miner.size).toBe(3)
    expect(miner.add('heartbeat ok').id).toBe(keep.id)
  })

  it('argus logs mine prints one "id<TAB>template" line per input line, in order', () => {
    const input = ['GET /a took 5 ms', '', 'GET /a took 9 ms', 'worker 3 started', ''].join('\n')
    const out = execFileSync(process.execPath, ['bin/argus.js', 'logs', 'mine'], { input, encoding: 'utf8' })
    const lines = out.trimEnd().split('\n')
    expect(lines).toHaveLength(4) // the empty line too
    const [first, , second, third] = lines.map((l) => l.split('\t'))
    expect(first?.[0]).toBe(second?.[0])
    expect(second?.[1]).toBe('GET /a took <*> ms')
    expect(third?.[0]).not.toBe(first?.[0])
  })
})
