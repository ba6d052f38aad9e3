import type { Bus, Subscription } from '../bus/index.js'
import {
  TOPICS,
  counter,
  errorMessage,
  type Alert,
  type Component,
  type Incident,
  type Logger,
  type Registry,
  type RootCause,
} from '../core/index.js'
import type { AlertConfig } from './alert-config.js'
import { AlertDispatcher } from './alert-dispatcher.js'
import { alertFingerprint } from './alert-fingerprint.js'
import { Inhibitor } from './inhibitor.js'
import { NotificationSender, type DeliveryRecord } from './notification-sender.js'
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
}

/** Root causes shown per message. */
const TOP_CAUSES = 3

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
  const firing = new Map<string, Alert>()
  const dispatcher = new AlertDispatcher(options.config.route, {
    isMuted: (alert, _route, now) =>
      silences.muting(alert.labels, now).length > 0 ||
      inhibitor.inhibited(alert.labels, alert.fingerprint, [...firing.values()]),
    // A new top cause or severity is news; a score moving is not.
    contentKey: (alert) =>
      [
        alert.labels.severity,
        ...(alert.annotations.rootCauses ?? '').split('\n').map((l) => l.split(' (')[0]),
      ].join('|'),
  })
  const deliveries = counter(
    options.metrics,
    'argus_alert_deliveries_total',
    'Chat deliveries, by receiver and outcome',
    ['receiver', 'status'],
  )
  const sender = new NotificationSender({
    externalUrl: options.externalUrl,
    record: (entry: DeliveryRecord) => {
      deliveries.inc({ receiver: entry.receiver, status: entry.status })
      const log = entry.status === 'dead_letter' ? logger.warn.bind(logger) : logger.info.bind(logger)
      log(
        { ...entry },
        entry.status === 'dead_letter' ? 'alert not delivered: dead letter' : `alert ${entry.status}`,
      )
    },
  })
  const incidents = new Map<string, Incident>()
  const causes = new Map<string, RootCause[]>()
  let subscription: Subscription | undefined
  let timer: NodeJS.Timeout | undefined
  let sending: Promise<void> = Promise.resolve()

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
  }

  function tick(): void {
    sending = sending.then(async () => {
      for (const notification of dispatcher.due(Date.now())) {
        const receiver = options.config.receivers.get(notification.receiver)
        if (!receiver) continue // validated at load: every route names a receiver
        await sender.send(notification, receiver)
      }
    })
    sending.catch((error: unknown) =>
      logger.warn({ err: error, reason: errorMessage(error) }, 'alert round failed'),
    )
  }

  return {
    name: 'alerter',
    silences,
    async start() {
      subscription = await options.bus.subscribe<Incident | RootCause>({
        group: options.group ?? 'argus-alerter',
        topics: [TOPICS.incidents, TOPICS.rootCauses],
        fromBeginning: false,
        handler: async (batch) => {
          const touched = new Set<string>()
          for (const { value } of batch.messages) {
            if (batch.topic === TOPICS.rootCauses) {
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
            }
          }
          for (const id of touched) {
            const incident = incidents.get(id)
            if (incident) update(incident)
            if (incident?.status === 'resolved') incidents.delete(id)
          }
        },
      })
      timer = setInterval(tick, options.tickMs ?? 1_000)
      timer.unref()
      logger.info({ receivers: [...options.config.receivers.keys()] }, 'sending incidents to chat')
    },
    async stop() {
      if (timer) clearInterval(timer)
      await subscription?.stop()
      await sending.catch(() => undefined)
    },
  }
}
