#!/usr/bin/env node
/**
 * The `stipend` executable.
 *
 * @module
 */
import { processIo } from './io.js';
import { main } from './main.js';

const code = await main(process.argv.slice(2), processIo());
process.exitCode = code;
// Commands return when their work is done (`mcp` and `testkit serve` when they are stopped).
// Exit once the event loop is idle; if a stray handle (a keep-alive socket) lingers, exit anyway.
setTimeout(() => process.exit(code), 500).unref();
