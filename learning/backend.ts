/**
 * TF.js backend selection. Default `wasm` (XNNPACK, SIMD), falling back to `cpu` with a warning.
 * `tensorflow` and `tensorflow-gpu` load `@tensorflow/tfjs-node` / `@tensorflow/tfjs-node-gpu` dynamically
 * (optional dependencies; their install downloads libtensorflow).
 *
 * @example
 * ```ts
 * import { setBackend } from './backend.js'
 * await setBackend('wasm')        // or 'cpu', 'tensorflow', 'tensorflow-gpu'
 * ```
 */
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { tf } from './tf.js'
import { BackendUnavailableError } from './errors.js'

export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu'
export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']

export interface SetBackendOptions {
  /** Called with a warning text (default: process.emitWarning). */
  onWarning?: (message: string) => void
  /** When wasm fails to start, fall back to cpu (default true). */
  fallback?: boolean
}

const NODE_PACKAGES: Record<'tensorflow' | 'tensorflow-gpu', string> = {
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu'
}

let wasmLoaded: Promise<void> | null = null

async function loadWasm (): Promise<void> {
  wasmLoaded ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    try {
      // In Node the .wasm binaries are read from the package's dist directory.
      const require = createRequire(import.meta.url)
      const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))
      wasm.setWasmPaths(dist.endsWith('/') ? dist : dist + '/')
    } catch {
      // The default lookup next to the module works as well.
    }
  })()
  await wasmLoaded
}

/** The backend now active ('' before any is set). */
export function currentBackend (): string {
  try { return tf.getBackend() ?? '' } catch { return '' }
}

/**
 * Activates a backend and resolves with the name actually active (`cpu` after a wasm fallback).
 * Throws `BackendUnavailableError` for tensorflow / tensorflow-gpu when the package is missing.
 */
export async function setBackend (name: BackendName = 'wasm', options: SetBackendOptions = {}): Promise<string> {
  const p = activate(name, options)
  selected = p
  p.catch(() => { if (selected === p) selected = null })
  return await p
}

async function activate (name: BackendName, options: SetBackendOptions): Promise<string> {
  const warn = options.onWarning ?? ((m: string) => { process.emitWarning(m, { code: 'MURMUR_BACKEND' }) })
  if (!BACKEND_NAMES.includes(name)) {
    throw new BackendUnavailableError(`unknown backend '${String(name)}': choose one of ${BACKEND_NAMES.join(', ')}`)
  }
  if (name === 'tensorflow' || name === 'tensorflow-gpu') {
    const pkg = NODE_PACKAGES[name]
    try {
      await import(pkg)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const missing = e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND'
      throw new BackendUnavailableError(missing
        ? `backend '${name}' needs ${pkg}, which is not installed. Install it with ` +
          `\`npm install ${pkg}@4.22.0\` (it downloads libtensorflow${name === 'tensorflow-gpu' ? ' with CUDA support' : ''}), ` +
          'or use --backend wasm or cpu'
        : `backend '${name}': ${pkg} failed to load: ${e.message}`)
    }
    const ok = await tf.setBackend('tensorflow')
    if (!ok) throw new BackendUnavailableError(`backend '${name}': ${pkg} loaded but the 'tensorflow' backend did not start`)
    await tf.ready()
    return tf.getBackend()
  }
  if (name === 'wasm') {
    try {
      await loadWasm()
      const ok = await tf.setBackend('wasm')
      if (!ok) throw new Error('tf.setBackend(wasm) returned false')
      await tf.ready()
      return 'wasm'
    } catch (err) {
      if (options.fallback === false) {
        throw new BackendUnavailableError(`backend 'wasm' failed to start: ${(err as Error).message}`)
      }
      warn(`wasm backend failed to start (${(err as Error).message}); falling back to cpu (much slower)`)
    }
  }
  const ok = await tf.setBackend('cpu')
  if (!ok) throw new BackendUnavailableError('backend cpu failed to start')
  await tf.ready()
  return 'cpu'
}

let selected: Promise<string> | null = null

/**
 * Makes sure a backend is active: the one chosen by the last `setBackend`, else `MURMUR_BACKEND`, else wasm
 * (cpu fallback). Idempotent; every model builder awaits it.
 */
export async function ensureBackend (): Promise<string> {
  selected ??= setBackend((process.env.MURMUR_BACKEND as BackendName | undefined) ?? 'wasm')
  return await selected
}

/** Backends that can compute Conv2D gradients (wasm has none). */
export const CONV_TRAINING_BACKENDS: readonly BackendName[] = ['cpu', 'tensorflow', 'tensorflow-gpu']
