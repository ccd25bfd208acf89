// The dashboard's own stylesheet and script. uPlot (assets/uPlot.iife.min.js, MIT) is copied from
// its npm package next to them, so the site makes no request outside itself.

export const DASHBOARD_CSS = `:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa;
  --accent: #0969da; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --purple: #8250df;
  --grid: rgba(0, 0, 0, 0.08); --fill: rgba(9, 105, 218, 0.12);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --panel: #151b23;
    --accent: #4493f8; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --purple: #ab7df8;
    --grid: rgba(255, 255, 255, 0.1); --fill: rgba(68, 147, 248, 0.18);
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); }
.top { display: flex; gap: 1em; align-items: baseline; padding: 0.6em 1.5em; border-bottom: 1px solid var(--line); background: var(--panel); }
.top .brand { font-weight: 700; text-decoration: none; }
.top span { color: var(--muted); }
main { max-width: 1100px; margin: 0 auto; padding: 1em 1.5em 3em; }
h1 { font-size: 1.6em; margin: 0.4em 0; }
h2 { font-size: 1.3em; margin: 0 0 0.6em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.5em; }
h4 { margin: 1em 0 0.2em; font-size: 1em; }
.lede, .note, .summary, footer, .crumbs { color: var(--muted); }
.summary { font-size: 0.9em; margin: 0.3em 0; }
nav.panels { margin: 0.5em 0 1em; }
.panel { border: 1px solid var(--line); border-radius: 8px; padding: 1em 1.2em; margin: 1.2em 0; background: var(--bg); }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; font-size: 0.92em; }
caption { text-align: left; color: var(--muted); padding: 0.3em 0; }
th, td { text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--panel); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 0.6em; margin: 0.5em 0; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: 0.5em 0.7em; background: var(--panel); }
.stat dt { color: var(--muted); font-size: 0.85em; }
.stat dd { margin: 0; font-size: 1.25em; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat dd small { font-size: 0.6em; font-weight: 400; color: var(--muted); }
.badge, .sev, .result { display: inline-block; padding: 0.05em 0.55em; border-radius: 1em; font-size: 0.8em; font-weight: 600; border: 1px solid currentColor; vertical-align: middle; }
.badge.healthy, .result.pass, .result.ok { color: var(--ok); }
.badge.warning, .badge.off, .sev.low, .sev.medium, .sev.trend, .result.pending, .result.breached, .result.no_data { color: var(--warn); }
.badge.critical, .badge.rollback, .badge.stale, .sev.high, .sev.critical, .result.fail, .result.fired { color: var(--bad); }
.badge.not-started { color: var(--muted); }
.badge.level-bad { color: var(--bad); }
.badge.level-warn { color: var(--warn); }
.health-flags { margin: 0.3em 0 0; padding-left: 1.1em; font-size: 0.85em; }
.flag-word { font-weight: 600; }
.card.error { border: 2px solid var(--bad); border-radius: 8px; padding: 0.6em 1em; margin: 0.8em 0; }
.card.error h3 { margin-top: 0.2em; color: var(--bad); }
.hint { color: var(--muted); }
ol.ladder { display: flex; flex-wrap: wrap; gap: 0.4em; list-style: none; padding: 0; margin: 0.8em 0; }
ol.ladder li { border: 1px solid var(--line); border-radius: 4px; padding: 0.2em 0.6em; }
ol.ladder li.current { border-color: var(--accent); background: var(--fill); font-weight: 600; }
.chart-figure { margin: 0.6em 0 1em; }
.chart-figure figcaption { font-size: 0.9em; margin-bottom: 0.3em; }
.chart { min-height: 40px; }
.sha { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
tr.kind-emergency td:nth-child(2) { color: var(--bad); font-weight: 600; }
tr.kind-rollback td:nth-child(2) { color: var(--warn); font-weight: 600; }
details summary { cursor: pointer; color: var(--muted); font-size: 0.9em; }
.uplot, .u-legend { color: var(--fg); font-family: inherit; }
.u-legend th, .u-legend td { border: 0; }
footer { margin-top: 2em; font-size: 0.85em; }
`

export const DASHBOARD_JS = `(function () {
  'use strict';
  var data = document.getElementById('phasegate-charts');
  if (!data || typeof uPlot === 'undefined') return;
  var specs = JSON.parse(data.textContent);
  var css = getComputedStyle(document.documentElement);
  function c(name) { return css.getPropertyValue('--' + name).trim(); }
  function axis(extra) {
    var a = { stroke: c('fg'), grid: { stroke: c('grid') }, ticks: { stroke: c('grid') } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }
  // Tables print times in UTC; the charts do too, wherever the reader is (uPlot's default is the
  // browser's zone), and say so on the axis and in the legend.
  function utc(ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); }
  function timeSeries() { return { label: 'time (UTC)', value: '{YYYY}-{MM}-{DD} {HH}:{mm} UTC' }; }
  function timeAxis() { return axis({ label: 'UTC', labelSize: 20 }); }
  function width(el) { return Math.max(300, el.clientWidth || el.parentNode.clientWidth || 600); }
  var KIND = { advance: 'ok', rollback: 'warn', emergency: 'bad', resume: 'accent', init: 'muted' };
  function marker(kind, label) {
    return { label: label, scale: 'phase', stroke: c(KIND[kind]), fill: c(KIND[kind]), width: 0,
      paths: function () { return null; }, points: { show: true, size: 11, fill: c(KIND[kind]) } };
  }
  var build = {
    timeline: function (s, el) {
      var kinds = ['advance', 'rollback', 'emergency', 'resume', 'init'];
      var marks = kinds.map(function (k) {
        var n = s.kinds.indexOf(k);
        return s.kind.map(function (m, i) { return m === n ? s.phase[i] : null; });
      });
      var u = new uPlot({
        width: width(el), height: 280, tzDate: utc,
        scales: { x: { time: true }, phase: { range: [-0.5, s.phases.length - 0.5] }, pct: { range: [0, 100] } },
        axes: [timeAxis(),
          axis({ scale: 'phase', size: 140, splits: function () { return s.phases.map(function (_, i) { return i; }); },
            values: function (u, t) { return t.map(function (v) { return s.phases[v] || ''; }); } }),
          axis({ scale: 'pct', side: 1, grid: { show: false }, values: function (u, t) { return t.map(function (v) { return v + '%'; }); } })],
        series: [timeSeries(), { label: 'phase', scale: 'phase', stroke: c('accent'), width: 2, paths: uPlot.paths.stepped({ align: 1 }),
            value: function (u, v) { return v == null ? '-' : s.phases[v]; } },
          { label: 'users', scale: 'pct', stroke: c('purple'), fill: c('fill'), width: 1, paths: uPlot.paths.stepped({ align: 1 }),
            value: function (u, v) { return v == null ? '-' : v + '%'; } }]
          .concat(kinds.map(function (k) { return marker(k, k); })),
      }, [s.x, s.phase, s.percent].concat(marks), el);
      u.over.style.cursor = 'pointer';
      u.over.addEventListener('click', function () {
        var i = u.cursor.idx;
        var sha = i == null ? null : s.sha[i];
        if (s.commitBase && sha) window.location.href = s.commitBase + sha;
      });
      return u;
    },
    series: function (s, el) {
      var level = { warning: 'warn', critical: 'bad', trigger: 'purple' };
      return new uPlot({
        width: width(el), height: 220, tzDate: utc,
        scales: { x: { time: true } },
        axes: [timeAxis(), axis({ size: 70 })],
        series: [timeSeries(), { label: s.metric, stroke: c('accent'), width: 2 }].concat(s.lines.map(function (l) {
          return { label: l.label, stroke: c(level[l.level]), width: 1.5, dash: [6, 4], points: { show: false } };
        })),
      }, [s.x, s.y].concat(s.lines.map(function (l) { return s.x.map(function () { return l.value; }); })), el);
    },
    intervals: function (s, el) {
      var lo = Math.min(0, Math.min.apply(null, s.lower)), hi = Math.max(0, Math.max.apply(null, s.upper));
      var pad = (hi - lo) * 0.1 || 1;
      var xs = s.labels.map(function (_, i) { return i; });
      return new uPlot({
        width: width(el), height: 60 + 50 * s.labels.length,
        scales: { x: { time: false, range: [-0.5, s.labels.length - 0.5] }, y: { range: [lo - pad, hi + pad] } },
        axes: [axis({ splits: function () { return xs; }, values: function (u, t) { return t.map(function (v) { return s.ticks[v] || ''; }); }, size: 50 }),
          axis({ size: 70, values: function (u, t) { return t.map(function (v) { return v + '%'; }); } })],
        series: [{}, { label: 'relative change', stroke: c('accent'), paths: function () { return null; }, points: { show: true, size: 10, fill: c('accent') },
          value: function (u, v) { return v == null ? '-' : v + '%'; } }],
        hooks: { draw: [function (u) {
          var ctx = u.ctx, r = devicePixelRatio || 1;
          ctx.save();
          ctx.strokeStyle = c('muted'); ctx.setLineDash([4 * r, 4 * r]); ctx.lineWidth = r;
          var y0 = u.valToPos(0, 'y', true);
          ctx.beginPath(); ctx.moveTo(u.bbox.left, y0); ctx.lineTo(u.bbox.left + u.bbox.width, y0); ctx.stroke();
          ctx.setLineDash([]); ctx.strokeStyle = c('accent'); ctx.lineWidth = 2 * r;
          xs.forEach(function (i) {
            var x = u.valToPos(i, 'x', true), a = u.valToPos(s.lower[i], 'y', true), b = u.valToPos(s.upper[i], 'y', true);
            ctx.beginPath(); ctx.moveTo(x, a); ctx.lineTo(x, b);
            ctx.moveTo(x - 8 * r, a); ctx.lineTo(x + 8 * r, a); ctx.moveTo(x - 8 * r, b); ctx.lineTo(x + 8 * r, b);
            ctx.stroke();
          });
          ctx.restore();
        }] },
      }, [xs, s.estimate], el);
    },
    alerts: function (s, el) {
      // Pad by a bucket each side so the first and last bars are inside the plot.
      var step = s.bucket === 'day' ? 86400 : 3600;
      var top = Math.max(1, Math.max.apply(null, s.warning.concat(s.critical)));
      return new uPlot({
        width: width(el), height: 200, tzDate: utc,
        scales: { x: { time: true, range: [s.x[0] - step, s.x[s.x.length - 1] + step] }, y: { range: [0, top * 1.15] } },
        axes: [timeAxis(), axis({ size: 50, values: function (u, t) { return t.map(function (v) { return v % 1 ? '' : v; }); } })],
        series: [timeSeries(),
          { label: 'warning', stroke: c('warn'), fill: c('warn'), paths: uPlot.paths.bars({ size: [0.4, 40], align: -1 }), points: { show: false } },
          { label: 'critical', stroke: c('bad'), fill: c('bad'), paths: uPlot.paths.bars({ size: [0.4, 40], align: 1 }), points: { show: false } }],
      }, [s.x, s.warning, s.critical], el);
    }
  };
  var drawn = [];
  specs.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (!el || !build[spec.type]) return;
    el.setAttribute('data-drawn', 'true');
    drawn.push({ el: el, chart: build[spec.type](spec, el) });
  });
  window.addEventListener('resize', function () {
    drawn.forEach(function (d) { d.chart.setSize({ width: width(d.el), height: d.chart.height }); });
  });
})();
`
