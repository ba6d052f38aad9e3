export type {
  BatchHandler,
  Bus,
  DeliveredMessage,
  MessageBatch,
  OutgoingMessage,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from './bus.js'
export { UnconfirmedPublish } from './bus.js'
export { createInProcessBus } from './in-process-bus.js'
export type { InProcessBusOptions } from './in-process-bus.js'
export { hashKey, partitionFor } from './partitioner.js'
export { createKafkaBus } from './kafka-bus.js'
export type { KafkaBusOptions } from './kafka-bus.js'
