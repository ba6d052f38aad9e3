import { loadRemediationConfig } from '../remediation/policy-config.js'

/**
 * `argus remediation check-config FILE`: validates remediation policies as the service would at
 * start, and says what would really act: a policy changes the cluster only when the file enforces
 * and the policy is not in dry-run.
 */
export function runRemediationCheckConfig(file: string): void {
  const config = loadRemediationConfig(file)
  const { guardrails } = config
  const enforced = guardrails.mode === 'enforce' && !guardrails.killSwitch
  const effect = (dryRun: boolean, approval = false): string =>
    !enforced || dryRun ? 'dry-run' : approval ? 'acts after approval' : 'acts'
  const lines = [
    `${file}: ok: mode ${guardrails.mode}${guardrails.killSwitch ? ', kill switch ON' : ''}, ` +
      `${config.policies.length} policies, ${config.autoscaling.length} autoscaling policies`,
    ...config.policies.map(
      (p) =>
        `policy ${p.name}: ${p.steps.map((s) => s.kind).join(' then ')}: ${effect(p.guardrails.dryRun, p.guardrails.requireApproval)}`,
    ),
    ...config.autoscaling.map(
      (a) =>
        `autoscaling ${a.name}: ${a.guardrails.minReplicas}..${a.guardrails.maxReplicas} replicas: ${effect(a.guardrails.dryRun)}`,
    ),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
