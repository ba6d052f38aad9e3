#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so `npx argus` works right after `npm install`
// with no build step and no stale output.
import { register } from 'tsx/esm/api'

register()
await import('../app/main.ts')
