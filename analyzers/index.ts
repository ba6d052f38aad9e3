export { LogTemplateMiner, maskVariables, tokenize } from './log-template-miner.js'
export type { LogTemplateMinerOptions, MinedTemplate } from './log-template-miner.js'
export { StreamingDetector } from './metric-detector.js'
export type { AnomalyKind, DetectorOptions, DetectorResult, Direction } from './metric-detector.js'
export { eventAnomaly, stateAnomalies } from './kube-rules.js'
export { createKubeAnalyzer } from './kube-analyzer.js'
export type { KubeAnalyzerOptions } from './kube-analyzer.js'
export { LogPatternTracker } from './log-pattern-tracker.js'
export type { LogPatternTrackerOptions } from './log-pattern-tracker.js'
export { createLogAnalyzer } from './log-analyzer.js'
export type { LogAnalyzerOptions } from './log-analyzer.js'
export { FlowTracker } from './flow-tracker.js'
export type { FlowTrackerOptions } from './flow-tracker.js'
export { createFlowAnalyzer } from './flow-analyzer.js'
export type { FlowAnalyzerOptions } from './flow-analyzer.js'
export { createStreamAnalyzer } from './stream-analyzer.js'
export type { StreamAnalyzerOptions } from './stream-analyzer.js'
export { MetricIndicators, INDICATORS } from './metric-indicators.js'
export type {
  IndicatorName,
  IndicatorPoint,
  IndicatorSpec,
  MetricIndicatorsOptions,
} from './metric-indicators.js'
export { MetricSeriesTracker } from './metric-series-tracker.js'
export type { MetricSeriesTrackerOptions } from './metric-series-tracker.js'
export { createMetricAnalyzer } from './metric-analyzer.js'
export type { MetricAnalyzerOptions } from './metric-analyzer.js'
