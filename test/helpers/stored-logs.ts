/** Messages of the stored log records containing `text`, from a running Argus's log search API (at most 10,000). */
export async function storedLogMessages(apiUrl: string, text: string): Promise<string[]> {
  const query = `from=-1h&to=${Date.now() + 3_600_000}&limit=10000&q=${encodeURIComponent(text)}`
  const response = await fetch(`${apiUrl}/api/v1/logs?${query}`)
  return ((await response.json()) as { logs: Array<{ message: string }> }).logs.map((l) => l.message)
}
