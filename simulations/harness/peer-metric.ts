/**
 * The goal metric of a scenario, from its dataset's label kind (without loading the data when the spec says it):
 * the scenario's `metric` when set (checked against the task: UnknownMetricError), else AUC for binary labels
 * (accuracy hides an imbalanced label: it sits at the majority rate for every model), else the task's primary
 * metric (accuracy, poissonDeviance, mse).
 */
import { loadDataset, BUILTIN_DATASETS } from '../../learning/builtin.js'
import { goalMetric, type PrimaryMetric, type Task } from '../../learning/metrics.js'
import type { Scenario } from '../scenario.js'

export function labelTask (dataset: Scenario['dataset']): Task | null {
  const spec = typeof dataset === 'string' ? (dataset === 'mnist' ? { columns: [{ role: 'label', kind: 'classes' }] } : BUILTIN_DATASETS[dataset]) : dataset
  const label = (spec as { columns?: Array<{ role: string, kind?: string }> } | undefined)?.columns?.find((c) => c.role === 'label')
  switch (label?.kind) {
    case 'classes': return 'multiclass'
    case 'binary': return 'binary'
    case 'count': return 'count'
    case 'numeric': return 'regression'
    default: return null
  }
}

/** The goal metric of a task under a scenario's choice (see the module comment). */
export function scenarioMetric (task: Task, chosen: string | undefined): PrimaryMetric {
  return goalMetric(task, chosen ?? (task === 'binary' ? 'auc' : null))
}

/** The scenario's goal metric and its task. */
export async function describeMetric (scenario: Scenario): Promise<PrimaryMetric & { task: Task }> {
  const task = labelTask(scenario.dataset) ?? (await loadDataset(scenario.dataset as never)).task
  return { ...scenarioMetric(task, scenario.metric), task }
}
