import { text } from 'node:stream/consumers'
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { rankWindowRootCauses, type Symptom, type WindowSeries } from '../analyzers/window-root-cause.js'
import { ArgusError } from '../core/index.js'

const Window = Type.Object({
  timestamps: Type.Array(Type.Number()),
  series: Type.Array(
    Type.Object({
      service: Type.String(),
      metric: Type.String(),
      stat: Type.String(),
      values: Type.Array(Type.Union([Type.Number(), Type.Null()])),
    }),
  ),
})

/** One exported case: a call graph, the symptom to explain, and normal and abnormal windows. */
const Case = Type.Object({
  calls: Type.Array(Type.Tuple([Type.String(), Type.String()])),
  target: Type.Object({
    service: Type.String({ minLength: 1 }),
    metric: Type.Union([Type.Literal('latency'), Type.Literal('availability'), Type.Literal('requests')]),
    stat: Type.Optional(Type.String()),
  }),
  normal: Window,
  abnormal: Window,
})
type Case = Static<typeof Case>
const checkCase = Compile(Case)

const SYMPTOM: Record<Case['target']['metric'], Symptom> = {
  latency: 'latency',
  availability: 'errors',
  requests: 'traffic',
}

/**
 * `argus rca offline`: one case as JSON on stdin, `{"rootCauses":[{"service","score",...}]}` on
 * stdout, best first, empty when nothing stands out. Availability (percent of requests served) is
 * turned into failed requests per interval, so a service failing 5% of 1,000 requests outweighs
 * one failing 50% of 2.
 */
export async function runRcaOffline(): Promise<void> {
  const input = await text(process.stdin)
  let parsed: unknown
  try {
    parsed = JSON.parse(input)
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `stdin is not JSON: ${(error as Error).message}`)
  }
  if (!checkCase.Check(parsed)) {
    const [first] = checkCase.Errors(parsed)
    throw new ArgusError(
      'ARGUS_ERR_BAD_INPUT',
      `the case does not match the expected shape: ${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'}`,
    )
  }
  const causes = rankWindowRootCauses({
    target: { service: parsed.target.service, symptom: SYMPTOM[parsed.target.metric] },
    calls: parsed.calls,
    series: windowSeries(parsed),
    volume: usualVolume(parsed.normal),
  })
  process.stdout.write(
    `${JSON.stringify({
      rootCauses: causes.map((c) => ({
        service: c.service,
        score: Number(c.score.toFixed(4)),
        explanation: c.explanation,
      })),
    })}\n`,
  )
}

type Window = Case['normal']

function seriesIndex(window: Window): Map<string, Window['series'][number]> {
  return new Map(window.series.map((s) => [`${s.service}\u0000${s.metric}\u0000${s.stat}`, s]))
}

/** Latency series as they are; availability as failed requests (it needs the request counts); requests as they are. */
function windowSeries(input: Case): WindowSeries[] {
  const normal = seriesIndex(input.normal)
  const abnormal = seriesIndex(input.abnormal)
  const requestsOf = (index: Map<string, Window['series'][number]>, service: string) =>
    [...index.values()].find((s) => s.service === service && s.metric === 'requests')?.values
  const out: WindowSeries[] = []
  for (const [key, series] of abnormal) {
    const before = normal.get(key)
    if (!before) continue
    if (series.metric === 'latency' || series.metric === 'requests') {
      out.push({
        service: series.service,
        symptom: series.metric === 'latency' ? 'latency' : 'traffic',
        stat: series.stat,
        normal: before.values,
        abnormal: series.values,
      })
    } else if (series.metric === 'availability') {
      const normalRequests = requestsOf(normal, series.service)
      const abnormalRequests = requestsOf(abnormal, series.service)
      if (!normalRequests || !abnormalRequests) continue
      out.push({
        service: series.service,
        symptom: 'errors',
        stat: `failed requests (from ${series.stat} availability)`,
        normal: failures(before.values, normalRequests),
        abnormal: failures(series.values, abnormalRequests),
      })
    }
  }
  return out
}

function failures(
  availability: ReadonlyArray<number | null>,
  requests: ReadonlyArray<number | null>,
): Array<number | null> {
  return availability.map((a, i) => {
    const r = requests[i]
    return a === null || r === null || r === undefined ? null : ((100 - a) / 100) * r
  })
}

/** Median requests per interval in the normal window, per service. */
function usualVolume(window: Window): Map<string, number> {
  const volume = new Map<string, number>()
  for (const s of window.series) {
    if (s.metric !== 'requests') continue
    const values = s.values.filter((v): v is number => v !== null).sort((a, b) => a - b)
    if (values.length > 0)
      volume.set(
        s.service,
        Math.max(volume.get(s.service) ?? 0, values[Math.floor(values.length / 2)] as number),
      )
  }
  return volume
}
