import type { Bus } from '../bus/index.js'
import { TOPICS, type Component, type Logger, type NetworkFlow, type Registry } from '../core/index.js'
import { FlowTracker, type FlowTrackerOptions } from './flow-tracker.js'
import { createStreamAnalyzer } from './stream-analyzer.js'

export interface FlowAnalyzerOptions extends FlowTrackerOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  group?: string
}

/** Flow anomalies on the service graph: denied surges, new edges, dependencies gone quiet. */
export function createFlowAnalyzer(options: FlowAnalyzerOptions): Component {
  const tracker = new FlowTracker(options)
  return createStreamAnalyzer<NetworkFlow>({
    ...options,
    name: 'flows',
    group: options.group ?? 'argus-analyzer-flows',
    topics: [TOPICS.flows],
    observe: (flow) => tracker.observe(flow),
  })
}
