import { Command, InvalidArgumentError } from 'commander'
import {
  redactConfig,
  createLogger,
  isArgusError,
  loadConfig,
  errorMessage,
  type ArgusConfig,
} from '../core/index.js'
import type { SimFlags } from './sim-command.js'

// Commands load their code when run: `argus detect` or `argus logs mine` in a loop over many files
// should not pay for the service's storage, bus and Kubernetes clients each time.

/** Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage. */
const EXIT_FAILURE = 1
const EXIT_USAGE = 2

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number')
  return Number(value)
}

interface StartFlags {
  config?: string
  roles?: string
  port?: number
  host?: string
  dataDir?: string
}

function configFrom(flags: StartFlags): ArgusConfig {
  const overrides: Record<string, unknown> = {}
  if (flags.dataDir) overrides.dataDir = flags.dataDir
  if (flags.roles) overrides.roles = flags.roles.split(',').map((role) => role.trim())
  if (flags.port !== undefined || flags.host)
    overrides.http = {
      ...(flags.port !== undefined && { port: flags.port }),
      ...(flags.host && { host: flags.host }),
    }
  return loadConfig({ ...(flags.config && { file: flags.config }), overrides })
}

async function start(flags: StartFlags): Promise<void> {
  const config = configFrom(flags)
  const logger = createLogger({ level: config.log.level })
  const { createRuntime } = await import('./runtime.js')
  const runtime = createRuntime(config, logger)
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without a clean shutdown')
      process.exit(EXIT_FAILURE)
    }
    stopping = true
    logger.info({ signal }, 'shutting down: closing intake, flushing buffers, closing storage')
    runtime.stop().then(
      () => {
        logger.info('stopped cleanly')
        process.exit(0)
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exit(EXIT_FAILURE)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  await runtime.start()
  const storage = config.clickhouse.url
    ? `ClickHouse at ${config.clickhouse.url}`
    : `embedded ClickHouse in ${config.dataDir}/clickhouse`
  const bus =
    config.kafka.brokers.length > 0 ? `Kafka at ${config.kafka.brokers.join(',')}` : 'in-process bus'
  const roles = config.roles.join(', ')
  logger.info(
    { url: runtime.url, forwardPort: runtime.forwardPort, roles, storage, bus, config: redactConfig(config) },
    `Argus is up on ${runtime.url} (roles: ${roles}; ${storage}; ${bus})`,
  )
}

export function buildCli(): Command {
  const program = new Command('argus')
    .description('Argus: event-driven AIOps for Kubernetes')
    .showHelpAfterError()
    .exitOverride()
  program
    .command('start')
    .description(
      'run the whole service in one process (embedded ClickHouse and in-process bus unless configured otherwise)',
    )
    .option('-c, --config <file>', 'YAML config file (also ARGUS_CONFIG)')
    .option('-p, --port <port>', 'HTTP port (also ARGUS_HTTP_PORT)', integer)
    .option('--host <host>', 'HTTP listen address (also ARGUS_HTTP_HOST)')
    .option('-d, --data-dir <dir>', 'data directory (also ARGUS_DATA_DIR)')
    .option(
      '-r, --roles <list>',
      'comma-separated: collector (ingest), writer (bus to storage), analyzer (anomalies, incidents, alerts), remediator (actions on the cluster), api (queries); default all. A subset needs Kafka (also ARGUS_ROLES)',
    )
    .action(start)
  program
    .command('sim')
    .description(
      'replay the simulated cluster as raw telemetry (NDJSON), faster than real time; ground truth and timing on stderr',
    )
    .option(
      '-s, --scenario <name>',
      'none, or a fault: cpu_hog, memory_leak, bad_release, slow_database, network_policy_deny, node_pressure, crashloop_after_config, traffic_surge',
      'none',
    )
    .option('--speed <n>', 'times real time, or "max"', 'max')
    .option('--seed <n>', 'random seed: the same seed gives the same telemetry', '1')
    .option('--duration <d>', 'simulated time, e.g. 30m, 1h', '1h')
    .option('--start <time>', 'simulated start, RFC 3339 or "now"', '2026-01-01T00:00:00Z')
    .option('--fault-after <d>', 'when the fault starts (default: a third of the way in)')
    .option('--fault-duration <d>', 'how long it lasts (default: a third of the duration)')
    .option('--target <name>', 'service or node the fault hits (default: per scenario)')
    .option('-o, --output <file>', 'where to write the NDJSON, "-" for stdout', '-')
    .action(async (flags: SimFlags) => (await import('./sim-command.js')).runSimCommand(flags))
  program
    .command('detect')
    .description(
      'score metric series for anomalies: reads timestamp,value CSV, writes timestamp,value,anomaly_score (online, one row per input row); a directory scores every .csv under it',
    )
    .requiredOption('-i, --input <file>', 'CSV with timestamp and value columns, or a directory of them')
    .requiredOption(
      '-o, --output <file>',
      'where to write the scored CSV (a directory for a directory input)',
    )
    .option('--direction <d>', 'which way is bad: up, down or both', 'both')
    .option('--no-model', 'score without the learned forecaster (tfjs): faster, statistics only')
    .action((flags: { input: string; output: string; direction?: string; model?: boolean }) =>
      import('./detect-command.js').then(({ runDetect }) => runDetect(flags)),
    )
  const alerts = program.command('alerts').description('alerting configuration tools')
  alerts
    .command('check-config <file>')
    .description(
      'validate alerting YAML (routes, receivers, inhibit rules); exit 2 with the place of the first error',
    )
    .action(async (file: string) => (await import('./alerts-command.js')).runAlertsCheckConfig(file))
  alerts
    .command('route-test <file> [labels...]')
    .description(
      'which receivers an alert with these labels (name=value ...) is sent to, and how it is grouped',
    )
    .action(async (file: string, labels: string[]) =>
      (await import('./alerts-command.js')).runAlertsRouteTest(file, labels),
    )
  program
    .command('remediation')
    .description('remediation policy tools')
    .command('check-config <file>')
    .description(
      'validate remediation policies; say which would act, wait for approval or stay dry-run; exit 2 with the place of the first error',
    )
    .action(async (file: string) =>
      (await import('./remediation-command.js')).runRemediationCheckConfig(file),
    )
  const rca = program.command('rca').description('root-cause analysis')
  rca
    .command('offline')
    .description(
      'rank root causes for one exported case: JSON on stdin (call graph, target, normal and abnormal windows), {"rootCauses":[...]} on stdout',
    )
    .action(async () => (await import('./rca-offline-command.js')).runRcaOffline())
  program
    .command('logs')
    .description('log tools')
    .command('mine')
    .description(
      'mine log templates online: one message per line on stdin, "groupId<TAB>template" per line on stdout',
    )
    .option('--similarity <x>', 'share of tokens that must agree to join a template (0 to 1)')
    .option(
      '--streaming',
      "write each line at once with its group as of that line (default: at the end, each line's final group)",
    )
    .action(async (flags: { similarity?: string; streaming?: boolean }) =>
      (await import('./logs-mine-command.js')).runLogsMine(flags),
    )
  program
    .command('config')
    .description('print the effective configuration (secrets redacted) and exit; fails on an invalid one')
    .option('-c, --config <file>', 'YAML config file (also ARGUS_CONFIG)')
    .action((flags: StartFlags) => {
      process.stdout.write(`${JSON.stringify(redactConfig(configFrom(flags)), null, 2)}\n`)
    })
  return program
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0)
    if (typeof code === 'string' && code.startsWith('commander.')) process.exit(EXIT_USAGE)
    if (isArgusError(error) && (error.code === 'ARGUS_ERR_CONFIG' || error.code === 'ARGUS_ERR_BAD_INPUT')) {
      process.stderr.write(`argus: ${error.message}\n`)
      process.exit(EXIT_USAGE)
    }
    process.stderr.write(`argus: ${errorMessage(error)}\n`)
    process.exit(EXIT_FAILURE)
  }
}
