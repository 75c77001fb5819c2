/**
 * Structured logs (pino). Level from `MURMUR_LOG_LEVEL` (default `info`; tests run `silent`).
 * Never log payloads or keys above `debug`.
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger (name = 'murmur', level = process.env.MURMUR_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2))
}
