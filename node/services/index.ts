/** The node's services (js-libp2p shape: `service(init)(components)`, Startable) and their seams. */
export * from './types.js'
export * from './close-stack.js'
export * from './manifest-sync/index.js'
export * from './connection-keeper/index.js'
export * from './instance-check/index.js'
