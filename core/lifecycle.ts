/**
 * The one component lifecycle (OpenTelemetry Collector `component.Component`):
 * `start()` returns once the component is ready and runs long work in the background;
 * `stop()` is safe without `start()` and safe twice; it stops intake, finishes in-flight work, flushes.
 */
export interface Component {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
}

/** Starts components in order and stops them in reverse; a failed start stops what had started. */
export async function startAll(components: readonly Component[]): Promise<() => Promise<void>> {
  const started: Component[] = []
  const stopStarted = async (): Promise<void> => {
    for (const component of started.reverse()) await component.stop()
    started.length = 0
  }
  try {
    for (const component of components) {
      await component.start()
      started.push(component)
    }
  } catch (error) {
    await stopStarted()
    throw error
  }
  return stopStarted
}
