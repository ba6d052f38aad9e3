import { createHmac } from 'node:crypto'

/**
 * DingTalk robot "加签" (signed) security: `sign = urlencode(base64(HmacSHA256(secret, timestamp + "\n" + secret)))`,
 * with the timestamp in milliseconds; both go on the webhook URL.
 */
export function dingTalkSignedUrl(webhookUrl: string, secret: string, nowMs: number): string {
  const timestamp = String(nowMs)
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64')
  const url = new URL(webhookUrl)
  url.searchParams.set('timestamp', timestamp)
  url.searchParams.set('sign', sign)
  return url.toString()
}

/**
 * Feishu / Lark custom bot signature: `base64(HmacSHA256(key = timestamp + "\n" + secret, message = ""))`,
 * with the timestamp in seconds; both go in the JSON body as `timestamp` and `sign`.
 */
export function feishuSignature(secret: string, nowMs: number): { timestamp: string; sign: string } {
  const timestamp = String(Math.floor(nowMs / 1000))
  const sign = createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64')
  return { timestamp, sign }
}
