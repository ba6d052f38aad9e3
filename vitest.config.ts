import { defineConfig } from 'vitest/config'

// Each test file runs in its own process: embedded ClickHouse allows one data directory per process.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['test/integration/kafka/**', 'test/integration/kube/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'kafka',
          include: ['test/integration/kafka/**/*.test.ts'],
          // A real broker started from scripts/ (Maven Central jars, KRaft, loopback).
          globalSetup: ['test/integration/kafka/global-setup.ts'],
          // One broker for the project: files take turns so group and partition tests do not interfere.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'kube',
          include: ['test/integration/kube/**/*.test.ts'],
          // A real control plane built from Go modules (etcd, kube-apiserver, controller-manager, scheduler, kwok).
          globalSetup: ['test/integration/kube/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
})
