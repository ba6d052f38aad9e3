#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MiB young generation: the ingest path's short-lived records then die young instead of being
// promoted while a batch waits for storage (10 % less CPU per event in bench:forward). V8 reads it
// only at start-up, so it is a flag here, in `npm start`, the Dockerfile and the test helper.
// Runs the TypeScript sources through tsx's loader, so `npx argus` works right after `npm install`
// with no build step and no stale output.
import { register } from 'tsx/esm/api'

register()
await import('../app/main.ts')
