import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import { Action, ActionStatus, ArgusError, type RemediationCommand } from '../../core/index.js'
import type { ActionRepository } from '../../storage/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

const AuditQuery = Type.Object(
  {
    ...timeRangeProperties,
    incident: Type.Optional(Type.String({ maxLength: 100 })),
    policy: Type.Optional(Type.String({ maxLength: 253 })),
    status: Type.Optional(ActionStatus),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  },
  { additionalProperties: false },
)
const ActionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })
const Who = Type.Object(
  {
    by: Type.String({ minLength: 1, maxLength: 200, description: 'who decides: recorded in the audit log' }),
  },
  { additionalProperties: false },
)
const KillSwitch = Type.Object(
  { on: Type.Boolean(), by: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
)
const Accepted = Type.Object({ accepted: Type.Boolean(), message: Type.String() })

/**
 * The remediation audit log, approvals and the kill switch. Decisions reach every remediator
 * through the bus (`send`); the audit log then shows what they did.
 */
export function remediationRoutes(options: {
  actions: () => ActionRepository
  send: (command: RemediationCommand) => Promise<void>
}): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: Static<typeof AuditQuery> }>(
      '/api/v1/actions',
      {
        schema: {
          tags: ['remediation'],
          summary:
            'The remediation audit log (default: the last 24 hours): every decision, executed, dry-run, skipped with the reason, waiting, approved or rejected by whom, verified; newest first',
          querystring: AuditQuery,
          response: {
            200: Type.Object({ from: Type.Integer(), to: Type.Integer(), actions: Type.Array(Action) }),
          },
        },
      },
      async (request) => {
        const q = request.query
        const { fromTs, toTs } = parseTimeRange(q, 24 * 3_600_000)
        const actions = await options
          .actions()
          .log({ fromTs, toTs, incidentId: q.incident, policy: q.policy, status: q.status, limit: q.limit })
        return { from: fromTs, to: toTs, actions }
      },
    )

    for (const verdict of ['approve', 'reject'] as const)
      app.post<{ Params: Static<typeof ActionParams>; Body: Static<typeof Who> }>(
        `/api/v1/actions/:id/${verdict}`,
        {
          schema: {
            tags: ['remediation'],
            summary: `${verdict === 'approve' ? 'Approves' : 'Rejects'} an action waiting for approval`,
            params: ActionParams,
            body: Who,
            response: { 202: Accepted },
          },
        },
        async (request, reply) => {
          const id = request.params.id
          const [latest] = await options.actions().log({ fromTs: 0, toTs: Date.now() + 60_000, id, limit: 1 })
          if (!latest) throw new ArgusError('ARGUS_ERR_NOT_FOUND', `no action ${id}`)
          if (latest.status !== 'pending_approval')
            throw new ArgusError(
              'ARGUS_ERR_CONFLICT',
              `action ${id} is ${latest.status}, not waiting for approval`,
            )
          await options.send({ type: verdict, actionId: id, by: request.body.by })
          return reply.code(202).send({
            accepted: true,
            message: `${verdict === 'approve' ? 'approval' : 'rejection'} of ${id} sent; the audit log shows the outcome`,
          })
        },
      )

    app.post<{ Body: Static<typeof KillSwitch> }>(
      '/api/v1/remediation/kill-switch',
      {
        schema: {
          tags: ['remediation'],
          summary: 'Turns the kill switch on (every action stops at once) or off',
          body: KillSwitch,
          response: { 202: Accepted },
        },
      },
      async (request, reply) => {
        await options.send({ type: 'kill_switch', on: request.body.on, by: request.body.by })
        return reply.code(202).send({
          accepted: true,
          message: `kill switch ${request.body.on ? 'on' : 'off'}, sent to every remediator`,
        })
      },
    )
  }
}
