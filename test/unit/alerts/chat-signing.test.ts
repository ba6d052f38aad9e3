import { describe, expect, it } from 'vitest'
import { dingTalkSignedUrl, feishuSignature } from '../../../alerts/chat-signing.js'

// Expected values were computed with the Python samples in each platform's documentation
// (DingTalk: hmac over timestamp + "\n" + secret keyed by the secret, base64, quote_plus; Feishu:
// hmac over the empty string keyed by timestamp + "\n" + secret, base64), not with this code.
const SECRET = 'SEC0123456789abcdef'

describe('chat signatures', () => {
  it('signs DingTalk robot URLs as its documentation does', () => {
    const signed = new URL(
      dingTalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', SECRET, 1_795_560_000_000),
    )
    expect(signed.searchParams.get('access_token')).toBe('abc')
    expect(signed.searchParams.get('timestamp')).toBe('1795560000000')
    expect(signed.toString()).toContain('sign=PIpnA1hXa3phVp2xJkszWoOtVSN7H12jfSq%2Fafs0T%2BE%3D')
  })

  it('signs Feishu bot messages as its documentation does, with the timestamp in seconds', () => {
    expect(feishuSignature(SECRET, 1_795_560_000_999)).toEqual({
      timestamp: '1795560000',
      sign: '4VSY5ilacPGB8KFeTaoRvrmWz1ZGxlqg61KpHtvgxqI=',
    })
  })
})
