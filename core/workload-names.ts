/** The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alike digits). */
export const GENERATED_SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789'

const REPLICA_SET_AGGREGATE = new RegExp(`^(.+)-[${GENERATED_SUFFIX_CHARS}]{6,10}-\\*$`)
const PLAIN_AGGREGATE = /^(.+)-\*$/

/**
 * The workload behind a Calico aggregated endpoint name: `checkout-7d9f8c6b5-*` (a ReplicaSet's
 * pods) is `checkout`, `database-*` (a StatefulSet's) is `database`. A rollout changes the
 * ReplicaSet but not the workload, so edges keyed by it survive releases.
 */
export function workloadOfAggregatedName(name: string): string {
  return REPLICA_SET_AGGREGATE.exec(name)?.[1] ?? PLAIN_AGGREGATE.exec(name)?.[1] ?? name
}
