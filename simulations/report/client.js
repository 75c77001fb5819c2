// The report's browser script: reads the charts' configurations from the JSON block #murmur-data (data never
// enters code) and draws each one on the canvas of the same id. Plain ES2020, no imports: inlined as it is.
(function () {
  'use strict'
  // Shades the x ranges listed in options.plugins.shade.indices (e.g. partitioned rounds).
  Chart.register({
    id: 'shade',
    defaults: { indices: [] },
    beforeDraw: function (chart, _args, opts) {
      var indices = (opts && opts.indices) || []
      var x = chart.scales.x
      if (indices.length === 0 || x == null) return
      var a = chart.chartArea
      var ctx = chart.ctx
      ctx.save()
      ctx.fillStyle = 'rgba(217,48,37,0.08)'
      indices.forEach(function (i) {
        var x0 = x.getPixelForValue(i - 0.5)
        var x1 = x.getPixelForValue(i + 0.5)
        ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top)
      })
      ctx.restore()
    }
  })
  var block = document.getElementById('murmur-data')
  var data = JSON.parse(block.textContent)
  data.charts.forEach(function (c) {
    var canvas = document.getElementById(c.id)
    if (canvas == null) throw new Error('report: no canvas for chart ' + c.id)
    new Chart(canvas, c.config) // eslint-disable-line no-new
  })
})()
