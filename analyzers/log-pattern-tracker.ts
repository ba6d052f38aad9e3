import type { Anomaly, LogRecord } from '../core/index.js'
import { StreamingDetector } from './metric-detector.js'

export interface LogPatternTrackerOptions {
  /** Records a workload must have sent before a template it has not used counts as new. */
  warmupRecords?: number
  /** Workloads tracked at most (least recently active forgotten first), and templates per workload. */
  maxWorkloads?: number
  maxTemplatesPerWorkload?: number
}

interface WorkloadState {
  key: string
  /** Where the state sits in `workloads`: cluster, namespace, name. */
  path: [string, string, string]
  /** The tracker's clock at this workload's latest record: the least recently active go first. */
  lastActive: number
  entity: Anomaly['entity']
  envelope: Pick<LogRecord, 'cluster' | 'namespace' | 'workload' | 'service'>
  records: number
  templates: Map<string, { count: number; lastMinute: number; minuteCount: number; before: number }>
  minute: number
  errorsThisMinute: number
  errorRate: StreamingDetector
}

const MINUTE = 60_000
const ERROR_LEVELS = new Set(['error', 'fatal'])
/** A template seen fewer times than this before a minute in which it appears this often is bursting. */
const RARE_BELOW = 10
const BURST_PER_MINUTE = 50

/**
 * Log patterns per workload, from records that carry a template id: a template the workload has
 * never used (after it has shown what it usually logs), a rare template suddenly bursting, and a
 * surge of error-level records per minute, judged by the streaming detector against the
 * workload's own error rate. Time is the records' own, so replays and delays give the same answer.
 */
export class LogPatternTracker {
  /**
   * By cluster, namespace and name: three lookups of strings the record already holds, where one
   * key would be a string built per record (a measurable share of the log path's per-record work).
   */
  private readonly workloads = new Map<string, Map<string, Map<string, WorkloadState>>>()
  private workloadCount = 0
  private clock = 0
  private readonly warmup: number
  private readonly maxWorkloads: number
  private readonly maxTemplates: number

  constructor(options: LogPatternTrackerOptions = {}) {
    this.warmup = options.warmupRecords ?? 1_000
    this.maxWorkloads = options.maxWorkloads ?? 10_000
    this.maxTemplates = options.maxTemplatesPerWorkload ?? 5_000
  }

  observe(record: LogRecord): Anomaly[] {
    if (!record.templateId) return []
    const state = this.stateOf(record)
    const found: Anomaly[] = []
    const minute = Math.floor(record.ts / MINUTE)

    // Error surge: close the minutes that have passed, scoring each minute's error count.
    if (minute > state.minute) {
      for (let m = state.minute; m < minute && m < state.minute + 60; m++) {
        const count = m === state.minute ? state.errorsThisMinute : 0
        const result = state.errorRate.update(count)
        if (result.score > 0.99 && count > result.expected + 5)
          found.push(
            this.anomaly(
              state,
              record,
              `error-surge:${state.key}:${m}`,
              'error_surge',
              'warning',
              result.score,
              {
                summary: `${count} error logs in a minute (usually ${result.expected.toFixed(1)})`,
                ts: m * MINUTE,
                observed: count,
                expected: result.expected,
              },
            ),
          )
      }
      state.minute = minute
      state.errorsThisMinute = 0
    }
    if (ERROR_LEVELS.has(record.level)) state.errorsThisMinute++

    let template = state.templates.get(record.templateId)
    if (!template) {
      if (state.records >= this.warmup)
        found.push(
          this.anomaly(
            state,
            record,
            `new-template:${state.key}:${record.templateId}`,
            'new_template',
            ERROR_LEVELS.has(record.level) ? 'warning' : 'info',
            ERROR_LEVELS.has(record.level) ? 0.8 : 0.5,
            {
              summary: `logs a message it never logged before: ${record.message.slice(0, 160)}`,
              ts: record.ts,
            },
          ),
        )
      if (state.templates.size >= this.maxTemplates)
        state.templates.delete(state.templates.keys().next().value as string)
      template = { count: 0, lastMinute: minute, minuteCount: 0, before: 0 }
      state.templates.set(record.templateId, template)
    }
    // A template rare so far (a handful of lines) that now fills a minute.
    if (template.lastMinute !== minute) {
      template.lastMinute = minute
      template.minuteCount = 0
      template.before = template.count
    }
    template.minuteCount++
    if (
      state.records >= this.warmup &&
      template.minuteCount === BURST_PER_MINUTE &&
      template.before < RARE_BELOW
    )
      found.push(
        this.anomaly(
          state,
          record,
          `rare-burst:${state.key}:${record.templateId}:${minute}`,
          'rare_template_burst',
          'warning',
          0.8,
          {
            summary: `a rare log line is suddenly frequent (${BURST_PER_MINUTE} in a minute, ${template.before} before): ${record.message.slice(0, 120)}`,
            ts: record.ts,
          },
        ),
      )
    template.count++
    state.records++
    return found
  }

  private stateOf(record: LogRecord): WorkloadState {
    const name = record.workload?.name ?? record.service ?? record.pod ?? 'unknown'
    const namespace = record.namespace ?? ''
    let namespaces = this.workloads.get(record.cluster)
    let names = namespaces?.get(namespace)
    let state = names?.get(name)
    if (state) {
      state.lastActive = ++this.clock
      return state
    }
    if (this.workloadCount >= this.maxWorkloads) {
      this.forgetLeastActive()
      namespaces = this.workloads.get(record.cluster)
      names = namespaces?.get(namespace)
    }
    if (!namespaces)
      this.workloads.set(record.cluster, (namespaces = new Map<string, Map<string, WorkloadState>>()))
    if (!names) namespaces.set(namespace, (names = new Map<string, WorkloadState>()))
    const key = `${record.cluster}/${namespace}/${name}`
    const entity: Anomaly['entity'] = {
      kind: record.workload?.kind ?? (record.service ? 'Service' : 'Pod'),
      name,
      cluster: record.cluster,
    }
    if (record.namespace) entity.namespace = record.namespace
    state = {
      key,
      path: [record.cluster, namespace, name],
      lastActive: ++this.clock,
      entity,
      envelope: { cluster: record.cluster },
      records: 0,
      templates: new Map(),
      minute: Math.floor(record.ts / MINUTE),
      errorsThisMinute: 0,
      errorRate: new StreamingDetector({ direction: 'up', warmup: 30, refractory: 30 }),
    }
    if (record.namespace) state.envelope.namespace = record.namespace
    if (record.workload) state.envelope.workload = record.workload
    if (record.service) state.envelope.service = record.service
    names.set(name, state)
    this.workloadCount++
    return state
  }

  /**
   * Forgets the least recently active tenth of the workloads at once, so that a stream of new
   * workloads at the cap costs one sort per tenth, not a scan per workload.
   */
  private forgetLeastActive(): void {
    const states: WorkloadState[] = []
    for (const namespaces of this.workloads.values())
      for (const names of namespaces.values()) for (const state of names.values()) states.push(state)
    states.sort((a, b) => a.lastActive - b.lastActive)
    for (const state of states.slice(0, Math.max(1, Math.ceil(states.length / 10)))) {
      const [cluster, namespace, name] = state.path
      const namespaces = this.workloads.get(cluster)
      const names = namespaces?.get(namespace)
      names?.delete(name)
      if (names?.size === 0) namespaces?.delete(namespace)
      if (namespaces?.size === 0) this.workloads.delete(cluster)
      this.workloadCount--
    }
  }

  private anomaly(
    state: WorkloadState,
    record: LogRecord,
    id: string,
    kind: string,
    severity: Anomaly['severity'],
    score: number,
    detail: { summary: string; ts: number; observed?: number; expected?: number },
  ): Anomaly {
    const anomaly: Anomaly = {
      ...state.envelope,
      ts: detail.ts,
      id,
      entity: state.entity,
      signal: 'log',
      kind,
      score,
      severity,
      summary: `${state.entity.kind} ${state.entity.name}: ${detail.summary}`,
      evidence: [
        {
          signal: 'log',
          ts: detail.ts,
          description: record.message.slice(0, 500),
          refId: record.templateId,
          ...(detail.observed !== undefined && { observed: detail.observed }),
          ...(detail.expected !== undefined && { expected: detail.expected }),
        },
      ],
    }
    return anomaly
  }
}
