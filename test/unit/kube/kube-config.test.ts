import { describe, expect, it } from 'vitest'
import { findKubeConfig, loadKubeConfig } from '../../../kube/index.js'
import { argusErrorOf } from '../../helpers/argus-error-of.js'

describe('finding the cluster', () => {
  it('prefers KUBECONFIG over the in-cluster service account, as kubectl does', () => {
    expect(findKubeConfig({ KUBECONFIG: '/etc/k.yaml', KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toEqual({
      kind: 'file',
      path: '/etc/k.yaml',
    })
    expect(findKubeConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toEqual({ kind: 'in-cluster' })
  })

  it('refuses a kubeconfig that does not exist with a config error naming it', () => {
    const error = argusErrorOf(() => loadKubeConfig({ kind: 'file', path: '/nonexistent/kubeconfig' }))
    expect(error.code).toBe('ARGUS_ERR_CONFIG')
    expect(error.message).toContain('/nonexistent/kubeconfig')
  })
})
