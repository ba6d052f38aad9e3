import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { DecodeError, Decoder, encode } from '@msgpack/msgpack'
import { counter, errorMessage, gauge, type Component, type Logger, type Registry } from '../core/index.js'
import {
  FORWARD_CODEC,
  FORWARD_DECODE_LIMITS,
  ForwardProtocolError,
  readForwardMessage,
} from './forward-message.js'
import type { RawIntake } from './raw-intake.js'

export interface FluentForwardServerOptions {
  intake: RawIntake
  logger: Logger
  metrics: Registry
  host: string
  /** 24224 is fluentd's; 0 picks a free port (see `port` after start). */
  port: number
  /** When set, clients must pass fluentd's shared-key handshake (HELO, PING, PONG) first. */
  sharedKey?: string
  /** Our name in the handshake. */
  hostname?: string
  /** Connections beyond this are refused (closed at once), so a flood cannot exhaust memory. */
  maxConnections?: number
  /** A connection that sends nothing for this long is closed. */
  idleTimeoutMs?: number
}

/** A message handed to the intake: its answer to wait for, and the chunk id to acknowledge after. */
interface Handed {
  taken: Promise<unknown> | undefined
  chunk: string | undefined
}

export interface FluentForwardServer extends Component {
  /** The bound port, once started. */
  readonly port: number
}

const SOURCE = 'fluent-forward'
const sha512 = (...parts: string[]): string => {
  const hash = createHash('sha512')
  for (const part of parts) hash.update(part)
  return hash.digest('hex')
}

/**
 * Fluentd's Forward protocol over TCP, what `out_forward` (fluentd) and the `forward` output
 * (fluent-bit) speak: Message, Forward, PackedForward and CompressedPackedForward modes, `chunk`
 * acknowledgements sent only after the records are on the bus (at-least-once, as the shippers
 * expect: no ack, they resend), and the optional shared-key handshake.
 *
 * Each connection is read one message at a time; while a message waits for the bus, nothing
 * more is read from that socket, so TCP itself pushes back on the shipper. A malformed or
 * truncated stream closes its connection and is counted; other connections go on.
 */
export function createFluentForwardServer(options: FluentForwardServerOptions): FluentForwardServer {
  const logger = options.logger.child({ component: 'fluent-forward' })
  const received = counter(
    options.metrics,
    'argus_forward_messages_total',
    'Forward protocol messages, by mode',
    ['mode'],
  )
  const dropped = counter(
    options.metrics,
    'argus_forward_dropped_connections_total',
    'Forward connections closed for a protocol violation or failed handshake, by reason',
    ['reason'],
  )
  const open = gauge(options.metrics, 'argus_forward_connections', 'Open Forward protocol connections')
  const hostname = options.hostname ?? 'argus'
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0

  function drop(socket: Socket, reason: string, detail: string): void {
    dropped.inc({ reason })
    logger.warn({ remote: socket.remoteAddress, reason, detail }, 'forward connection closed')
    socket.destroy()
  }

  /** Fluentd's handshake: HELO with a nonce, the client's PING proves the key, our PONG proves ours. */
  async function handshake(
    socket: Socket,
    messages: AsyncIterator<unknown>,
    sharedKey: string,
  ): Promise<boolean> {
    const nonce = randomBytes(16).toString('hex')
    socket.write(encode(['HELO', { nonce, auth: '', keepalive: true }]))
    const next = await messages.next()
    const ping = next.value as unknown[]
    if (next.done || !Array.isArray(ping) || ping[0] !== 'PING' || ping.length < 4) {
      drop(socket, 'handshake', 'expected PING')
      return false
    }
    const [, clientHostname, salt, digest] = ping.map((v) => (typeof v === 'string' ? v : String(v)))
    if (digest !== sha512(salt ?? '', clientHostname ?? '', nonce, sharedKey)) {
      socket.end(encode(['PONG', false, 'shared key mismatch', hostname, '']))
      dropped.inc({ reason: 'handshake' })
      logger.warn(
        { remote: socket.remoteAddress, client: clientHostname },
        'forward client failed the shared key',
      )
      return false
    }
    socket.write(encode(['PONG', true, '', hostname, sha512(salt ?? '', hostname, nonce, sharedKey)]))
    return true
  }

  /**
   * Reads the next message and hands its entries to the intake; undefined at the end of the stream.
   * What is left to wait for (the intake's answer, the chunk to acknowledge) holds no entry: a
   * suspended async function keeps all its locals, and entries kept while the bus confirms them
   * would outlive young-generation collections and be copied and promoted.
   */
  async function receive(messages: AsyncIterator<unknown>): Promise<Handed | undefined> {
    const next = await messages.next()
    return next.done ? undefined : handOver(next.value)
  }

  function handOver(value: unknown): Handed {
    const message = readForwardMessage(value)
    received.inc({ mode: message.mode })
    const taken =
      message.entries.length > 0
        ? options.intake.fluentRecords(
            message.entries.map((e) => e.record),
            SOURCE,
            { 'fluent.tag': message.tag },
            message.entries.map((e) => e.time),
          )
        : undefined
    return { taken, chunk: message.chunk }
  }

  async function serve(socket: Socket): Promise<void> {
    const decoder = new Decoder({ extensionCodec: FORWARD_CODEC, ...FORWARD_DECODE_LIMITS })
    const messages = decoder.decodeStream(socket)[Symbol.asyncIterator]()
    try {
      if (options.sharedKey && !(await handshake(socket, messages, options.sharedKey))) return
      for (;;) {
        const handed = await receive(messages)
        if (handed === undefined) {
          // The decoder ends quietly on a stream cut mid-message; that is a broken stream too.
          if (endedMidMessage(decoder)) drop(socket, 'truncated', 'the connection ended inside a message')
          break
        }
        await handed.taken
        // Acknowledged once on the bus; records the intake rejected are counted there, not resent.
        if (handed.chunk !== undefined && !socket.destroyed) socket.write(encode({ ack: handed.chunk }))
      }
    } catch (error) {
      if (error instanceof ForwardProtocolError) drop(socket, 'protocol', error.message)
      else if (error instanceof DecodeError || error instanceof RangeError || error instanceof TypeError)
        drop(socket, 'malformed', errorMessage(error))
      else if (socket.destroyed)
        return // the peer went away mid-message; nothing to answer
      else {
        // The bus refused (overloaded, unconfirmed): no ack, so the shipper resends the chunk.
        dropped.inc({ reason: 'bus' })
        logger.warn(
          { remote: socket.remoteAddress, err: errorMessage(error) },
          'forward chunk not taken; closing so it is resent',
        )
        socket.destroy()
      }
    }
  }

  return {
    name: 'fluent-forward',
    get port() {
      return port
    },
    async start() {
      server = createServer((socket) => {
        if (sockets.size >= (options.maxConnections ?? 1024)) {
          dropped.inc({ reason: 'too_many_connections' })
          socket.destroy()
          return
        }
        sockets.add(socket)
        open.set(sockets.size)
        socket.setTimeout(options.idleTimeoutMs ?? 5 * 60_000, () => socket.destroy())
        socket.on('error', () => undefined) // resets by peers; the read loop sees the end
        socket.on('close', () => {
          sockets.delete(socket)
          open.set(sockets.size)
        })
        void serve(socket).finally(() => {
          if (!socket.destroyed) socket.end()
        })
      })
      await new Promise<void>((resolve, reject) => {
        server?.once('error', reject)
        server?.listen(options.port, options.host, () => resolve())
      })
      port = (server.address() as { port: number }).port
      logger.info(
        { host: options.host, port, sharedKey: options.sharedKey !== undefined },
        'forward protocol listening',
      )
    },
    async stop() {
      const closing = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
      for (const socket of sockets) socket.end()
      const forced = setTimeout(() => {
        for (const socket of sockets) socket.destroy()
      }, 2_000)
      await closing
      clearTimeout(forced)
    },
  }
}

/**
 * Whether the decoder holds part of a message: unread bytes, a head byte without its body, or an
 * open array or map. @msgpack/msgpack keeps this state in fields its typings mark private; the
 * Forward tests catch a library change here.
 */
function endedMidMessage(decoder: Decoder): boolean {
  const state = decoder as unknown as {
    hasRemaining(size: number): boolean
    headByte: number
    stack: { length: number }
  }
  return state.hasRemaining(1) || state.headByte !== -1 || state.stack.length > 0
}
