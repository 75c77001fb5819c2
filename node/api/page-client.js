// The operator page's browser script: asks for the API token once, then polls this daemon's API and draws its
// state. Every value from the API is written with textContent (never as HTML). Plain ES2020, no imports.
(function () {
  'use strict'
  var KEY = 'murmur-api-token'
  var POLL_MS = 2000
  var $ = function (id) { return document.getElementById(id) }
  var C = ['#1a73e8', '#d93025', '#f9ab00', '#188038', '#9334e6', '#e8710a', '#12b5cb', '#5f6368']
  var samples = [] // { at, round, neighbours, connections }
  var charts = {}
  var timer = null

  function token () {
    var m = /(?:^#|&)token=([^&]+)/.exec(location.hash)
    if (m) {
      localStorage.setItem(KEY, decodeURIComponent(m[1]))
      history.replaceState(null, '', location.pathname)
    }
    return localStorage.getItem(KEY)
  }

  function askToken (why) {
    if (timer != null) { clearTimeout(timer); timer = null }
    localStorage.removeItem(KEY)
    $('main').classList.add('hidden')
    $('login').classList.remove('hidden')
    $('error').textContent = why || ''
    $('token').focus()
  }

  function Unauthorized () {}

  function get (path, optional) {
    return fetch(path, { headers: { authorization: 'Bearer ' + token() }, cache: 'no-store' }).then(function (res) {
      if (res.status === 401) throw new Unauthorized()
      if (!res.ok) {
        if (optional) return null
        throw new Error(path + ': HTTP ' + res.status)
      }
      return res.json()
    })
  }

  var base = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false } }
  function chart (id, config) {
    if (charts[id] == null) { charts[id] = new Chart($(id), config); return }
    charts[id].data = config.data
    charts[id].update('none')
  }
  function lineConfig (labels, sets, xTitle, yTitle) {
    return { type: 'line', data: { labels: labels, datasets: sets }, options: Object.assign({}, base, { scales: { x: { title: { display: true, text: xTitle } }, y: { beginAtZero: yTitle !== 'metric', title: { display: true, text: yTitle } } } }) }
  }
  var clock = function (t) { return new Date(t).toLocaleTimeString() }
  function bytes (n) {
    if (n == null) return '-'
    var u = ['B', 'KiB', 'MiB', 'GiB']; var i = 0
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++ }
    return n.toFixed(i === 0 ? 0 : 1) + ' ' + u[i]
  }

  // Rounds per minute over the last minute of samples (at least two samples 5 s apart).
  function roundsPerMinute (end) {
    var last = samples[end]; var first = null
    for (var i = end; i >= 0 && last.at - samples[i].at <= 60000; i--) first = samples[i]
    if (first == null || last.at - first.at < 5000) return null
    return (last.round - first.round) / ((last.at - first.at) / 60000)
  }

  // Healthy unless one of these holds; each reason says what is wrong.
  function health (s) {
    var reasons = []
    if (s.running !== true) reasons.push('the round loop is not running')
    if (s.network && s.network.member === false) reasons.push('this peer was removed from the network')
    if (s.network && s.network.epochKey === false) reasons.push('no key for the current key epoch ' + s.network.epoch)
    if (!s.neighbours || s.neighbours.length === 0) reasons.push('no neighbours on the network\'s topic')
    var old = samples.filter(function (x) { return samples[samples.length - 1].at - x.at >= 60000 })
    if (old.length > 0 && old[old.length - 1].round === s.round) reasons.push('no round in the last minute')
    return reasons
  }

  function render (s, p, history, db) {
    $('login').classList.add('hidden')
    $('main').classList.remove('hidden')
    $('error').textContent = ''
    $('peer').textContent = s.peerId
    $('network').textContent = 'network ' + s.network.name + ', rule ' + s.rule + ', key epoch ' + s.network.epoch + (s.network.open ? ' (OPEN)' : '') + ', ' + s.examples + ' local examples, up ' + s.uptimeSeconds + ' s'
    samples.push({ at: Date.now(), round: s.round, neighbours: s.neighbours.length, connections: s.connections })
    if (samples.length > 600) samples.shift()
    var reasons = health(s)
    $('health').textContent = reasons.length === 0 ? 'ok' : 'degraded'
    $('health').className = 'v ' + (reasons.length === 0 ? 'ok' : 'bad')
    $('reasons').replaceChildren.apply($('reasons'), reasons.map(function (r) { var li = document.createElement('li'); li.textContent = r; return li }))
    $('round').textContent = String(s.round)
    var rpm = roundsPerMinute(samples.length - 1)
    $('rpm').textContent = rpm == null ? '…' : rpm.toFixed(1)
    var primary = s.primaryMetric
    var metricName = primary && primary.name ? primary.name : (s.localMetric ? Object.keys(s.localMetric)[0] : null)
    $('metric').textContent = metricName != null && s.localMetric && s.localMetric[metricName] != null ? metricName + ' ' + Number(s.localMetric[metricName]).toFixed(4) : '(not evaluated yet)'
    $('neighbours').textContent = s.neighbours.length + ' / ' + s.connections
    var refused = s.refusedByReason || {}
    var reasonsOf = Object.keys(refused).filter(function (k) { return refused[k] > 0 })
    $('refused').textContent = reasonsOf.length === 0 ? 'none' : String(reasonsOf.reduce(function (a, k) { return a + refused[k] }, 0))
    $('database').textContent = db ? bytes(db.bytes) : '-'
    $('manifest').textContent = 'v' + s.network.version + ' / ' + (s.network.members == null ? 'open' : s.network.members)

    // the engine stores each round's evaluation as eval.<metric>, beside the training loss
    var h = (history || []).filter(function (x) { return x.values != null })
    var evalOf = function (x) { var v = metricName == null ? undefined : x.values['eval.' + metricName]; return typeof v === 'number' ? v : null }
    var metricConfig = lineConfig(h.map(function (x) { return x.round }), [
      { label: (metricName || 'metric') + ' (local validation rows)', data: h.map(evalOf), borderColor: C[0], backgroundColor: C[0], spanGaps: true, yAxisID: 'y' },
      { label: 'training loss', data: h.map(function (x) { return typeof x.values.loss === 'number' && isFinite(x.values.loss) ? x.values.loss : null }), borderColor: C[7], backgroundColor: C[7], spanGaps: true, yAxisID: 'y1' }], 'round', 'metric')
    metricConfig.options.scales.y1 = { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'loss' } }
    chart('chart-metric', metricConfig)
    var labels = samples.map(function (x) { return clock(x.at) })
    chart('chart-rpm', lineConfig(labels, [{ label: 'rounds per minute', data: samples.map(function (_, i) { return roundsPerMinute(i) }), borderColor: C[3], backgroundColor: C[3], spanGaps: true }], 'time', 'rounds / min'))
    chart('chart-peers', lineConfig(labels, [
      { label: 'neighbours', data: samples.map(function (x) { return x.neighbours }), borderColor: C[0], backgroundColor: C[0] },
      { label: 'connections', data: samples.map(function (x) { return x.connections }), borderColor: C[7], backgroundColor: C[7] }], 'time', 'peers'))
    chart('chart-refused', { type: 'bar', data: { labels: reasonsOf.length > 0 ? reasonsOf : ['none'], datasets: [{ label: 'refused updates', data: reasonsOf.length > 0 ? reasonsOf.map(function (k) { return refused[k] }) : [0], backgroundColor: C[1] }] }, options: Object.assign({}, base, { indexAxis: 'y', scales: { x: { beginAtZero: true } } }) })

    $('connections').replaceChildren.apply($('connections'), (p.connections || []).map(function (c) {
      var tr = document.createElement('tr')
      ;[c.neighbour ? 'neighbour' : '', c.peerId, c.direction, c.address].forEach(function (v) { var td = document.createElement('td'); td.textContent = String(v == null ? '' : v); tr.appendChild(td) })
      return tr
    }))
    $('updated').textContent = 'updated ' + clock(Date.now()) + ', every ' + (POLL_MS / 1000) + ' s'
  }

  function poll () {
    timer = null
    Promise.all([get('/status'), get('/peers'), get('/metrics/history?limit=500', true), get('/database', true)]).then(function (r) {
      render(r[0], r[1], r[2], r[3])
    }).catch(function (err) {
      if (err instanceof Unauthorized) { askToken('the token was refused: enter it again'); return }
      $('error').textContent = 'cannot reach the daemon: ' + err.message
    }).then(function () {
      if ($('login').classList.contains('hidden') && timer == null) timer = setTimeout(poll, POLL_MS)
    })
  }

  $('login').addEventListener('submit', function (e) {
    e.preventDefault()
    var t = $('token').value.trim()
    if (t === '') return
    localStorage.setItem(KEY, t)
    $('login').classList.add('hidden')
    poll()
  })
  if (token() == null) askToken(); else poll()
})()
