import { describe, expect, it } from 'vitest'
import { createApiServer } from '../../../api/index.js'
import { createMetricsRegistry } from '../../../core/index.js'
import { fluentHttpSource, type IntakeResult, type RawIntake } from '../../../ingest/index.js'
import { UnconfirmedPublish } from '../../../bus/index.js'
import { stillReachable } from '../../helpers/collect-garbage.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { until } from '../../helpers/until.js'

type FluentRecords = RawIntake['fluentRecords']

/** An intake whose fluentRecords answers from a script, one entry per call. */
function scriptedIntake(script: Array<(records: readonly unknown[]) => Promise<IntakeResult>>): {
  intake: RawIntake
  calls: () => number
} {
  let calls = 0
  const fluentRecords: FluentRecords = (records) => {
    const step = script[calls++]
    if (!step) throw new Error(`unexpected intake call ${calls}`)
    return step(records)
  }
  const unused = (): never => {
    throw new Error('not used here')
  }
  return {
    intake: {
      fluentRecords,
      kubeEvents: unused,
      objectUpdates: unused,
      objectStates: unused,
      prometheusText: unused,
      remoteWrite: unused,
      calicoFlows: unused,
      alertmanagerAlerts: unused,
    },
    calls: () => calls,
  }
}

async function server(intake: RawIntake, resendWaitMs = 200) {
  const metrics = createMetricsRegistry({ defaultMetrics: false })
  const app = await createApiServer({
    logger: quietLogger(),
    metrics,
    bodyLimitBytes: 1 << 20,
    readiness: [],
    isShuttingDown: () => false,
    plugins: [fluentHttpSource({ intake, metrics, bodyLimitBytes: 1 << 20, resendWaitMs })],
  })
  const post = (payload: string) =>
    app.inject({
      method: 'POST',
      url: '/ingest/logs',
      payload,
      headers: { 'content-type': 'application/x-ndjson' },
    })
  return { app, post, metrics }
}

const body = ['{"log":"a"}', '{"log":"b"}'].join('\n')
const stored: IntakeResult = { accepted: 2, rejected: [] }

describe('a resend after an unconfirmed publish', () => {
  it('is answered from the first attempt, not published again, when that attempt landed late', async () => {
    let land!: (result: IntakeResult | undefined) => void
    const outcome = new Promise<IntakeResult | undefined>((resolve) => (land = resolve))
    const { intake, calls } = scriptedIntake([
      () =>
        Promise.reject(new UnconfirmedPublish<IntakeResult>('kafka did not acknowledge in time', outcome)),
    ])
    const { app, post } = await server(intake)

    const first = await post(body)
    expect(first.statusCode).toBe(503)
    expect(first.json()).toMatchObject({ error: { code: 'ARGUS_ERR_PUBLISH_UNCONFIRMED' } })
    expect(first.headers['retry-after']).toBe('5')

    land(stored)
    const resend = await post(body)
    expect(resend.statusCode).toBe(202)
    expect(resend.json()).toEqual({ accepted: 2 })
    expect(calls()).toBe(1)
    await app.close()
  })

  it('is published again when the first attempt did not land', async () => {
    const { intake, calls } = scriptedIntake([
      () =>
        Promise.reject(new UnconfirmedPublish<IntakeResult>('not acknowledged', Promise.resolve(undefined))),
      () => Promise.resolve(stored),
    ])
    const { app, post } = await server(intake)
    expect((await post(body)).statusCode).toBe(503)
    const resend = await post(body)
    expect(resend.statusCode).toBe(202)
    expect(calls()).toBe(2)
    await app.close()
  })

  it('gets another 503 while the first attempt is still unsettled, and is not published meanwhile', async () => {
    const { intake, calls } = scriptedIntake([
      () => Promise.reject(new UnconfirmedPublish<IntakeResult>('not acknowledged', new Promise(() => {}))),
    ])
    const { app, post } = await server(intake, 50)
    expect((await post(body)).statusCode).toBe(503)
    const resend = await post(body)
    expect(resend.statusCode).toBe(503)
    expect(resend.json()).toMatchObject({ error: { code: 'ARGUS_ERR_PUBLISH_UNCONFIRMED' } })
    expect(calls()).toBe(1)
    await app.close()
  })

  it('does not affect a different body', async () => {
    const { intake, calls } = scriptedIntake([
      () => Promise.reject(new UnconfirmedPublish<IntakeResult>('not acknowledged', new Promise(() => {}))),
      () => Promise.resolve({ accepted: 1, rejected: [] }),
    ])
    const { app, post } = await server(intake)
    expect((await post(body)).statusCode).toBe(503)
    expect((await post('{"log":"other"}')).statusCode).toBe(202)
    expect(calls()).toBe(2)
    await app.close()
  })
})

describe('while the intake publishes', () => {
  it('keeps no parsed record, and still places rejected records by their line', async () => {
    const refs: Array<WeakRef<object>> = []
    let publish: (result: IntakeResult) => void = () => undefined
    const { intake } = scriptedIntake([
      (records) => {
        for (const record of records) refs.push(new WeakRef(record as object))
        // The intake refuses the third record: line 4 of the body, as line 2 is not JSON.
        return new Promise((resolve) => (publish = resolve))
      },
    ])
    const { app, post } = await server(intake)
    const lines = ['{"log":"a"}', 'not json', '{"log":"b"}', '{"log":"c"}', '{"log":"d"}']
    const answered = post(lines.join('\n'))
    try {
      await until(() => (refs.length === 4 ? true : undefined), 'the intake called')
      // Had the receiver kept the body's records while the publish waited, they would be reachable.
      expect(await stillReachable(refs)).toBe(0)
    } finally {
      publish({ accepted: 3, rejected: [{ index: 2, reason: 'no message' }] })
    }
    const response = await answered
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({
      accepted: 3,
      rejected: [
        { index: 2, reason: expect.stringContaining('not valid JSON') },
        { index: 4, reason: 'no message' },
      ],
    })
    await app.close()
  })
})
