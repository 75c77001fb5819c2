export * from './server.js'
export { ensureApiToken, readApiToken, clientApiToken, apiTokenPath, allowedHosts, checkAccess, ApiTokenError, API_TOKEN_FILE, OPEN_PATHS } from './auth.js'
export { operatorPage, directoryBytes } from './page.js'
