export { LogTemplateMiner } from './log-template-miner.js'
export { maskVariables, tokenize } from './log-tokenizer.js'
export { createTemplateMiningThread, type TemplateMining } from './template-mining-thread.js'
export type { LogTemplateMinerOptions, MinedTemplate } from './log-template-miner.js'
export { StreamingDetector } from './metric-detector.js'
export type { AnomalyKind, DetectorOptions, DetectorResult, Direction } from './metric-detector.js'
export { eventAnomaly, stateAnomalies } from './kube-rules.js'
export { WarningEscalation } from './warning-escalation.js'
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
export { MODEL_FEATURES, WorkloadFeatureRows, modelNameOf, workloadKeyOf } from './workload-features.js'
export type { FeatureRow, WorkloadIdentity } from './workload-features.js'
export { WorkloadModelScorer } from './workload-model-scorer.js'
export { DEFAULT_FORECAST_OPTIONS, risingForecasts, type ForecastOptions } from './workload-forecasts.js'
export type { WorkloadModelScorerOptions } from './workload-model-scorer.js'
export { createWorkloadModelTrainer } from './workload-model-trainer.js'
export type { WorkloadModelTrainer, WorkloadModelTrainerOptions } from './workload-model-trainer.js'
export { ServiceGraph, serviceNode, serviceNodesOf } from './service-graph.js'
export type { ServiceGraphOptions, ServiceNode } from './service-graph.js'
export { rankIncidentRootCauses } from './incident-root-cause.js'
export type { IncidentRankingInput, IncidentRankingOptions, RankedRootCause } from './incident-root-cause.js'
export { IncidentCorrelator } from './incident-correlator.js'
export type { CorrelationOutput, IncidentCorrelatorOptions } from './incident-correlator.js'
export { createIncidentAnalyzer } from './incident-analyzer.js'
export type { IncidentAnalyzerOptions } from './incident-analyzer.js'
export { rankWindowRootCauses } from './window-root-cause.js'
export type {
  Symptom,
  WindowCause,
  WindowRankInput,
  WindowRankOptions,
  WindowSeries,
} from './window-root-cause.js'
