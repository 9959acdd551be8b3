/**
 * Node-only helpers: serving fetch-style handlers over real HTTP on 127.0.0.1.
 *
 * @module
 */
export { startTestServer, type TestServer } from './http.js';
