import { loadAlertConfig } from '../alerts/alert-config.js'
import { matchRoutes, type Route } from '../alerts/route-tree.js'
import { ArgusError } from '../core/index.js'

/** `argus alerts check-config FILE`: validates alerting YAML as the service would at start. */
export function runAlertsCheckConfig(file: string): void {
  const config = loadAlertConfig(file)
  const count = (r: Route): number => 1 + r.routes.reduce((n, c) => n + count(c), 0)
  process.stdout.write(
    `${file}: ok: ${config.receivers.size} receivers (${[...config.receivers.values()].map((r) => `${r.name}: ${r.platform}`).join(', ')}), ` +
      `${count(config.route)} routes, ${config.inhibitRules.length} inhibit rules\n`,
  )
}

/**
 * `argus alerts route-test FILE name=value ...`: which receivers an alert with these labels goes
 * to, through which routes and with which grouping (as `amtool config routes test` answers).
 */
export function runAlertsRouteTest(file: string, labelArgs: string[]): void {
  const labels: Record<string, string> = {}
  for (const arg of labelArgs) {
    const at = arg.indexOf('=')
    if (at <= 0) throw new ArgusError('ARGUS_ERR_BAD_INPUT', `label ${JSON.stringify(arg)} is not name=value`)
    labels[arg.slice(0, at)] = arg.slice(at + 1)
  }
  const config = loadAlertConfig(file)
  for (const route of matchRoutes(config.route, labels))
    process.stdout.write(
      `${route.receiver}\troute ${route.id}\tgroup_by [${route.groupBy.join(', ')}]\tgroup_wait ${route.groupWaitMs / 1000}s\n`,
    )
}
