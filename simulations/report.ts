/** `report.html`: see simulations/report/index.ts. */
export { renderReport, reportCharts, CHARTS, runDescription, type ChartDef, type ChartConfig } from './report/index.js'
