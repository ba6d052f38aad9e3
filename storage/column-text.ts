/** A column value from a JSON row as text: strings as they are, numbers printed, anything else empty. */
export function columnText(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : ''
}
