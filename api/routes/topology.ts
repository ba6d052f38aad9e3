import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import type { TopologyRepository } from '../../storage/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

const FlowGraphQuery = Type.Object(
  {
    ...timeRangeProperties,
    cluster: Type.Optional(Type.String({ maxLength: 253 })),
    namespace: Type.Optional(Type.String({ maxLength: 253, description: 'edges from or to this namespace' })),
  },
  { additionalProperties: false },
)
type FlowGraphQuery = Static<typeof FlowGraphQuery>

const Endpoint = Type.Object({ namespace: Type.String(), name: Type.String() })
const FlowEdge = Type.Object({
  source: Endpoint,
  destination: Type.Object({
    namespace: Type.String(),
    name: Type.String(),
    service: Type.String(),
    port: Type.Integer(),
    protocol: Type.String(),
  }),
  flows: Type.Integer(),
  deniedFlows: Type.Integer(),
  bytes: Type.Integer(),
  packets: Type.Integer(),
  activeMinutes: Type.Integer(),
  firstMinute: Type.Integer(),
  lastMinute: Type.Integer(),
  perMinute: Type.Array(
    Type.Object({ minute: Type.Integer(), flows: Type.Integer(), deniedFlows: Type.Integer() }),
  ),
})
const FlowGraphResponse = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  nodes: Type.Array(Endpoint),
  edges: Type.Array(FlowEdge),
})

export function topologyRoutes(options: { topology: () => TopologyRepository }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: FlowGraphQuery }>(
      '/api/v1/topology/flows',
      {
        schema: {
          tags: ['topology'],
          summary:
            'The service dependency graph from Calico flows: edges with traffic and denied flows per minute',
          querystring: FlowGraphQuery,
          response: { 200: FlowGraphResponse },
        },
      },
      async (request) => {
        const { fromTs, toTs } = parseTimeRange(request.query, 3_600_000)
        const edges = await options.topology().flowGraph({
          fromTs,
          toTs,
          cluster: request.query.cluster,
          namespace: request.query.namespace,
        })
        const nodes = new Map<string, { namespace: string; name: string }>()
        for (const edge of edges)
          for (const end of [edge.source, edge.destination])
            nodes.set(`${end.namespace}/${end.name}`, { namespace: end.namespace, name: end.name })
        return { from: fromTs, to: toTs, nodes: [...nodes.values()], edges }
      },
    )
  }
}
