import { ArgusError } from '../core/index.js'
import type { IntakeResult } from './raw-intake.js'

/**
 * The intake answered before the bus confirmed its publish (see `UnconfirmedPublish`). `outcome`
 * settles with what the request achieved if the publish landed after all, or undefined if it did
 * not, so a receiver can answer a resend of the same request without publishing it twice.
 */
export class UnconfirmedIntake extends ArgusError {
  constructor(
    message: string,
    readonly outcome: Promise<IntakeResult | undefined>,
  ) {
    super('ARGUS_ERR_PUBLISH_UNCONFIRMED', message, { retriable: true })
    this.name = 'UnconfirmedIntake'
  }
}
