import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { LogTemplateMiner } from '../../../analyzers/log-template-miner.js'
import { maskVariables, tokenize } from '../../../analyzers/log-tokenizer.js'

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
    const a3 = miner.add('Connection from 10.1.2.3 after 7 ms')
    expect(a1.isNew).toBe(true)
    expect(a2).toMatchObject({
      id: a1.id,
      isNew: false,
      count: 2,
      template: 'Connection from <*> closed after <*>',
    })
    expect(a3.id).not.toBe(a1.id)
    expect(b.id).not.toBe(a1.id)
  })

  it('keeps events that differ in a word apart until the place has shown several words', () => {
    const miner = new LogTemplateMiner({ variableAfter: 4 })
    const bytes = miner.add(
      'Block broadcast_1 stored as bytes in memory (estimated size 93.0 B, free 317.1 KB)',
    )
    const values = miner.add(
      'Block broadcast_2 stored as values in memory (estimated size 5.4 KB, free 310.0 KB)',
    )
    expect(values.id).not.toBe(bytes.id)
    // The unit is part of the size: bytes in B and in KB are one event.
    expect(
      miner.add('Block broadcast_3 stored as bytes in memory (estimated size 9.2 KB, free 300 KB)').id,
    ).toBe(bytes.id)
    expect(miner.add('Link ok').id).not.toBe(miner.add('Link error').id)

    const users = ['alice', 'bob', 'carol'].map((user) => miner.add(`Invalid user ${user} from 10.0.0.1`))
    expect(new Set(users.map((u) => u.id)).size).toBe(3)
    const dave = miner.add('Invalid user dave from 10.0.0.9')
    expect(dave.template).toBe('Invalid user <*> from <*>')
    // The fourth user proves the place variable: the earlier groups now resolve to one.
    expect(dave.absorbed?.length).toBe(2)
    expect(new Set(users.map((u) => miner.resolve(u.id)))).toEqual(new Set([dave.id]))
    expect(miner.template(users[1]!.id)).toBe('Invalid user <*> from <*>')
    expect(miner.add('Invalid user eve from 10.0.0.3').id).toBe(dave.id)
  })

  it('masks dates, times, dot leaders and lists of values as one variable each', () => {
    expect(tokenize('status=M Thu Aug 04 15:29:45 PDT 2005')).toEqual(['status', '=', 'M', '<*>'])
    expect(tokenize('program interrupt: illegal instruction......1')).toEqual([
      'program',
      'interrupt:',
      'illegal',
      'instruction',
      '<*>',
    ])
    const miner = new LogTemplateMiner()
    const few = miner.add('ask 10.0.0.1:50010 to delete blk_1 blk_2')
    const many = miner.add('ask 10.0.0.2:50010 to delete blk_3 blk_4 blk_5 blk_6')
    expect(many).toMatchObject({ id: few.id, template: 'ask <*> to delete <*>' })
  })

  it('splits on every kind of white space, as /\\s+/ does, and on glue characters', () => {
    const spaces = ' \t\n\v\f\r\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff'
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa']
    const joined = words
      .map((w, i) => `${w}${spaces[i % spaces.length]}${spaces[(i + 5) % spaces.length]}`)
      .join('')
    expect(tokenize(`${spaces}${joined}`)).toEqual(words)
    // Not white space: zero-width space and the next-line control stay inside their words.
    expect(tokenize('a\u200bb c\u0085d')).toEqual(['a\u200bb', 'c\u0085d'])
    expect(tokenize('k=v;x,y  done....ok')).toEqual(['k', '=', 'v', ';', 'x', ',', 'y', 'done', 'ok'])
  })

  it('treats a short device name (eth0, ee0) as a word, while longer names with digits stay values', () => {
    const miner = new LogTemplateMiner()
    const ee0 = miner.add('node node-129 detected network 10.128.0.0 via interface ee0')
    const alt0 = miner.add('node node-148 detected network 5.5.226.0 via interface alt0')
    expect(alt0.id).not.toBe(ee0.id)
    expect(miner.add('node node-7 detected network 10.96.0.0 via interface ee0').id).toBe(ee0.id)
    // Host names such as dadmin2 or an123 name instances: they are masked as before.
    expect(tokenize('resolve dadmin2 dadmin3 via an123')).toEqual(['resolve', '<*>', 'via', '<*>'])
  })

  it('keeps messages that differ in an upper-case state name apart', () => {
    const miner = new LogTemplateMiner()
    const started = miner.add('task_1 Task Transitioned from NEW to SCHEDULED')
    const running = miner.add('task_2 Task Transitioned from SCHEDULED to RUNNING')
    const again = miner.add('task_3 Task Transitioned from NEW to SCHEDULED')
    expect(running.id).not.toBe(started.id)
    expect(again).toMatchObject({ id: started.id, template: '<*> Task Transitioned from NEW to SCHEDULED' })
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

  it('argus logs mine prints one "id<TAB>template" line per input line, in order, with final groups', () => {
    const input = [
      'GET /a took 5 ms',
      '',
      'GET /a took 9 ms',
      'worker 3 started',
      ...['alice', 'bob', 'carol', 'dave'].map((user) => `login by ${user} refused`),
      '',
    ].join('\n')
    const run = (...flags: string[]) =>
      execFileSync(process.execPath, ['bin/argus.js', 'logs', 'mine', ...flags], { input, encoding: 'utf8' })
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t'))
    const lines = run()
    expect(lines).toHaveLength(8) // the empty line too
    const [first, , second, third, alice, bob, , dave] = lines
    expect(first?.[0]).toBe(second?.[0])
    expect(first?.[1]).toBe('GET /a took <*>')
    expect(third?.[0]).not.toBe(first?.[0])
    // The fourth user merged the groups: every line names the final one.
    expect(alice).toEqual(dave)
    expect(dave?.[1]).toBe('login by <*> refused')
    // --streaming writes each line's group as of that line.
    const streamed = run('--streaming')
    expect(streamed).toHaveLength(8)
    expect(streamed[4]?.[0]).not.toBe(streamed[5]?.[0])
    expect(streamed[4]?.[1]).toBe('login by alice refused')
    expect(bob?.[0]).toBe(dave?.[0])
  })
})
