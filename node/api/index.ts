export * from './server.js'
export * from './route.js'
export * from './routes/index.js'
