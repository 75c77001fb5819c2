/**
 * The one TF.js namespace used throughout Murmur: `@tensorflow/tfjs` (core + layers + cpu backend), 4.22.0.
 * Backends are chosen with `setBackend` in ./backend.ts.
 */
import * as tf from '@tensorflow/tfjs'

// The cpu backend prints a "install tfjs-node" banner in Node; PROD silences backend_util.warn only.
tf.env().set('PROD', true)

export { tf }
