import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import { EntityRef, Evidence } from '../../core/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

export const AnalysisRequest = Type.Object(
  {
    service: Type.String({
      minLength: 1,
      maxLength: 253,
      description: 'the service or workload that shows the symptom',
    }),
    namespace: Type.Optional(Type.String({ maxLength: 253 })),
    cluster: Type.Optional(Type.String({ maxLength: 253 })),
    ...timeRangeProperties,
  },
  { additionalProperties: false },
)
export type AnalysisRequest = Static<typeof AnalysisRequest>

export const AnalysisResult = Type.Object({
  service: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  /** Anomalies in the range related to the service (itself, or within a few calls of it). */
  anomalies: Type.Integer(),
  rootCauses: Type.Array(
    Type.Object({
      rank: Type.Integer({ minimum: 1 }),
      entity: EntityRef,
      score: Type.Number(),
      explanation: Type.String(),
      evidence: Type.Array(Evidence),
    }),
  ),
  /** Why the ranking is empty, when it is. */
  note: Type.Optional(Type.String()),
})
export type AnalysisResult = Static<typeof AnalysisResult>

export type Analyze = (request: {
  service: string
  namespace?: string | undefined
  cluster?: string | undefined
  fromTs: number
  toTs: number
}) => Promise<AnalysisResult>

/** Ad-hoc root-cause analysis of stored findings, for a symptom someone noticed before Argus opened an incident. */
export function analysisRoutes(options: { analyze: Analyze }): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: AnalysisRequest }>(
      '/api/v1/analysis',
      {
        schema: {
          tags: ['incidents'],
          summary:
            'Rank root causes for a service over a time range (default: the last hour) from stored anomalies, changes and flows',
          body: AnalysisRequest,
          response: { 200: AnalysisResult },
        },
      },
      async (request) => {
        const { fromTs, toTs } = parseTimeRange(request.body, 3_600_000)
        return options.analyze({
          service: request.body.service,
          namespace: request.body.namespace,
          cluster: request.body.cluster,
          fromTs,
          toTs,
        })
      },
    )
  }
}
