import { randomUUID } from 'node:crypto'
import type { Bus, Subscription } from '../bus/index.js'
import {
  TOPICS,
  counter,
  errorMessage,
  gauge,
  type Action,
  type Alert,
  type AlertDelivery,
  type Component,
  type Incident,
  type Logger,
  type Registry,
  type RootCause,
  type Silence,
} from '../core/index.js'
import type { AlertConfig } from './alert-config.js'
import { AlertDispatcher } from './alert-dispatcher.js'
import { alertFingerprint } from './alert-fingerprint.js'
import { Inhibitor } from './inhibitor.js'
import {
  NotificationSender,
  deliveryBase,
  idempotencyKeyOf,
  type DeliveryRecord,
} from './notification-sender.js'
import { ReceiverQueue } from './receiver-queues.js'
import { Silences } from './silences.js'

export interface IncidentAlerterOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  config: AlertConfig
  /** Argus's URL as people reach it: the incident links in messages. */
  externalUrl: string
  /** How often groups are checked for notifications due (default 1 s). */
  tickMs?: number
  group?: string
  /** Names this process: each alerter instance gets every silence. */
  instanceId?: string
  /** The silences already made, read at start (from storage in the service). */
  loadSilences?: () => Promise<Silence[]>
  /** Notifications waiting for a receiver's rate limit, per receiver (default 1,000). */
  maxQueuedPerReceiver?: number
}

/** Root causes shown per message. */
const TOP_CAUSES = 3
/** Remediation actions shown per message (the latest). */
const TOP_ACTIONS = 5
const ACTION_WORDS: Record<Action['status'], string> = {
  proposed: 'Proposed',
  pending_approval: 'Waiting for approval',
  dry_run: 'Dry run (not applied)',
  executed: 'Done',
  skipped: 'Skipped',
  failed: 'Failed',
  rejected: 'Rejected',
}

/**
 * Incidents become alerts (labels: alertname, incident, cluster, namespace, severity; the title and
 * top root causes as annotations), routed, grouped, silenced and inhibited as configured, and
 * delivered to chat. Each incident version updates its alert; a resolved incident resolves it.
 */
export function createIncidentAlerter(
  options: IncidentAlerterOptions,
): Component & { readonly silences: Silences } {
  const logger = options.logger.child({ component: 'alerter' })
  const silences = new Silences()
  const inhibitor = new Inhibitor(options.config.inhibitRules)
  const intervals = options.config.timeIntervals
  const firing = new Map<string, Alert>()
  const dispatcher = new AlertDispatcher(options.config.route, {
    isMuted: (alert, route, now) =>
      route.muteTimeIntervals.some((name) => intervals.inEffect(name, now)) ||
      (route.activeTimeIntervals.length > 0 &&
        !route.activeTimeIntervals.some((name) => intervals.inEffect(name, now))) ||
      silences.muting(alert.labels, now).length > 0 ||
      inhibitor.inhibited(alert.labels, alert.fingerprint, [...firing.values()]),
    // A new top cause or severity is news; a score moving is not.
    contentKey: (alert) =>
      [
        alert.labels.severity,
        alert.annotations.actions ?? '',
        ...(alert.annotations.rootCauses ?? '').split('\n').map((l) => l.split(' (')[0]),
      ].join('|'),
  })
  const deliveries = counter(
    options.metrics,
    'argus_alert_deliveries_total',
    'Chat deliveries, by receiver and outcome',
    ['receiver', 'status'],
  )
  const delayed = counter(
    options.metrics,
    'argus_alert_rate_limited_total',
    'Notifications that waited for a receiver rate limit',
    ['receiver'],
  )
  const queues = new Map(
    [...options.config.receivers.values()].map((r) => [
      r.name,
      { queue: new ReceiverQueue(r.rateLimit, options.maxQueuedPerReceiver), busy: false, throttled: false },
    ]),
  )
  gauge(
    options.metrics,
    'argus_alert_queue_length',
    'Notifications waiting for their receiver (rate limit or a delivery in progress)',
    ['receiver'],
    function () {
      for (const [receiver, { queue }] of queues) this.set({ receiver }, queue.length)
    },
  )
  const inFlight = new Set<Promise<void>>()

  async function record(entry: DeliveryRecord): Promise<void> {
    deliveries.inc({ receiver: entry.receiver, status: entry.status })
    const bad = entry.status === 'dead_letter' || entry.status === 'dropped'
    const log = bad ? logger.warn.bind(logger) : logger.info.bind(logger)
    log({ ...entry }, bad ? `alert not delivered: ${entry.status}` : `alert ${entry.status}`)
    const cluster = [...firing.values()][0]?.cluster ?? 'default'
    const delivery: AlertDelivery = { ...entry, cluster }
    try {
      await options.bus.publish(TOPICS.alertDeliveries, [{ key: entry.receiver, value: delivery }])
    } catch (error) {
      // The outcome is logged above with every field: the log keeps it when the bus does not.
      logger.warn({ err: error, reason: errorMessage(error) }, 'delivery log entry not published')
    }
  }
  const sender = new NotificationSender({ externalUrl: options.externalUrl, record })
  const incidents = new Map<string, Incident>()
  const causes = new Map<string, RootCause[]>()
  /** Per incident, the latest line of each remediation action (by action id). */
  const actions = new Map<string, Array<{ id: string; line: string }>>()
  let subscription: Subscription | undefined
  let silenceSubscription: Subscription | undefined
  let timer: NodeJS.Timeout | undefined
  const published: Alert[] = []

  function alertOf(incident: Incident): Alert {
    const labels: Record<string, string> = {
      alertname: 'ArgusIncident',
      incident: incident.id,
      cluster: incident.cluster,
      namespace: incident.namespace ?? '',
      severity: incident.severity,
    }
    const ranking = (causes.get(incident.id) ?? []).slice(0, TOP_CAUSES)
    return {
      ts: incident.ts,
      cluster: incident.cluster,
      fingerprint: alertFingerprint(labels),
      status: incident.status === 'open' ? 'firing' : 'resolved',
      labels,
      annotations: {
        summary: incident.title,
        rootCauses: ranking
          .map((c) => `${c.entity.kind}/${c.entity.name} (${c.score.toFixed(2)}): ${c.explanation}`)
          .join('\n'),
        incidentUrl: `${options.externalUrl.replace(/\/$/, '')}/api/v1/incidents/${incident.id}`,
        // Flapping: the incident came back after it was resolved; say how often.
        ...(incident.attributes?.reopened !== undefined && { reopened: incident.attributes.reopened }),
        ...(actions.has(incident.id) && {
          actions: (actions.get(incident.id) ?? []).map((a) => a.line).join('\n'),
        }),
      },
      startsAt: incident.openedAt,
      ...(incident.resolvedAt !== undefined && { endsAt: incident.resolvedAt }),
      incidentId: incident.id,
    }
  }

  function update(incident: Incident): void {
    const alert = alertOf(incident)
    if (alert.status === 'firing') firing.set(alert.fingerprint, alert)
    else firing.delete(alert.fingerprint)
    dispatcher.receive(alert, Date.now())
    published.push(alert)
  }

  /**
   * Due notifications join their receiver's queue; each receiver sends one at a time, in order, as
   * its rate limit allows, so a slow or failing receiver (retrying for minutes) delays only itself.
   */
  function tick(): void {
    const now = Date.now()
    for (const notification of dispatcher.due(now)) {
      const outcome = queues.get(notification.receiver)?.queue.push(notification)
      if (outcome)
        void record({
          ts: now,
          ...deliveryBase(outcome.notification, notification.receiver),
          idempotencyKey: idempotencyKeyOf(outcome.notification, notification.receiver),
          status: outcome.status,
          attempts: 0,
          reason: outcome.reason,
        })
    }
    for (const [name, state] of queues) {
      if (state.busy) continue
      const throttled = state.queue.throttled(now)
      if (throttled && !state.throttled) delayed.inc({ receiver: name })
      state.throttled = throttled
      const notification = state.queue.take(now)
      const receiver = options.config.receivers.get(name)
      if (!notification || !receiver) continue
      state.busy = true
      const sending = sender
        .send(notification, receiver)
        .then(
          () => undefined,
          (error: unknown) =>
            logger.warn({ err: error, reason: errorMessage(error) }, 'alert delivery failed'),
        )
        .finally(() => {
          state.busy = false
          inFlight.delete(sending)
        })
      inFlight.add(sending)
    }
    if (published.length > 0) {
      const alerts = published.splice(0)
      options.bus
        .publish(
          TOPICS.alerts,
          alerts.map((a) => ({ key: `${a.cluster}/${a.fingerprint}`, value: a })),
        )
        .catch((error: unknown) =>
          logger.warn(
            { err: error, reason: errorMessage(error), alerts: alerts.length },
            'alert states not stored',
          ),
        )
    }
  }

  return {
    name: 'alerter',
    silences,
    async start() {
      subscription = await options.bus.subscribe<Incident | RootCause | Action>({
        group: options.group ?? 'argus-alerter',
        // Remediation publishes its actions keyed like incidents (cluster/incident id), so an
        // incident, its ranking and its actions reach the same alerter instance.
        topics: [TOPICS.incidents, TOPICS.rootCauses, TOPICS.actions],
        fromBeginning: false,
        handler: async (batch) => {
          const touched = new Set<string>()
          for (const { value } of batch.messages) {
            if (batch.topic === TOPICS.actions) {
              const action = value as Action
              if (!action.incidentId) continue
              const approve =
                action.status === 'pending_approval'
                  ? `; approve: POST ${options.externalUrl.replace(/\/$/, '')}/api/v1/actions/${action.id}/approve`
                  : ''
              const line = `${ACTION_WORDS[action.status]}: ${action.kind} ${action.target.kind}/${action.target.name}${action.reason ? ` (${action.reason})` : ''}${approve}`
              const known = (actions.get(action.incidentId) ?? []).filter((a) => a.id !== action.id)
              actions.set(action.incidentId, [...known, { id: action.id, line }].slice(-TOP_ACTIONS))
              touched.add(action.incidentId)
            } else if (batch.topic === TOPICS.rootCauses) {
              const cause = value as RootCause
              const known = (causes.get(cause.incidentId) ?? []).filter(
                (c) => c.ts === cause.ts && c.rank !== cause.rank,
              )
              causes.set(
                cause.incidentId,
                [...known, cause].sort((a, b) => a.rank - b.rank),
              )
              touched.add(cause.incidentId)
            } else {
              const incident = value as Incident
              if ((incidents.get(incident.id)?.version ?? 0) > incident.version) continue
              incidents.set(incident.id, incident)
              touched.add(incident.id)
              if (incident.status === 'resolved') causes.delete(incident.id)
              if (incident.status === 'resolved') actions.delete(incident.id)
            }
          }
          for (const id of touched) {
            const incident = incidents.get(id)
            if (incident) update(incident)
            if (incident?.status === 'resolved') incidents.delete(id)
          }
        },
      })
      for (const silence of (await options.loadSilences?.()) ?? []) silences.apply(silence)
      silenceSubscription = await options.bus.subscribe<Silence>({
        group: `argus-alerter-silences-${options.instanceId ?? randomUUID()}`,
        topics: [TOPICS.silences],
        fromBeginning: false,
        handler: async (batch) => {
          for (const { value } of batch.messages) silences.apply(value)
        },
      })
      timer = setInterval(tick, options.tickMs ?? 1_000)
      timer.unref()
      logger.info({ receivers: [...options.config.receivers.keys()] }, 'sending incidents to chat')
    },
    async stop() {
      if (timer) clearInterval(timer)
      await subscription?.stop()
      await silenceSubscription?.stop()
      await Promise.all(inFlight)
    },
  }
}
