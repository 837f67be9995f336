/* global window, document, fetch, uPlot */
/* Operations dashboard. Every value from the server is put on the page with textContent or drawn
 * on a canvas — never parsed as HTML. */
(function () {
  'use strict';

  var COLORS = ['#6264a7', '#e3008c', '#00b7c3', '#ff8c00', '#107c10', '#8764b8', '#c239b3', '#498205', '#ca5010', '#0078d4', '#986f0b', '#4f6bed'];
  var PCT_COLORS = { p50: '#107c10', p95: '#ff8c00', p99: '#a4262c' };
  var charts = [];
  var last = null;
  /** The window that fits the data (from /api/dashboard/context), used while "fit the data" is selected. */
  var fitted = '1h';
  /** Start of the oldest trace (epoch seconds) or null: charts start at its bucket, not at an empty window start. */
  var dataStart = null;

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function windowParam() {
    var chosen = $('window').value;
    return chosen === 'auto' ? fitted : chosen;
  }

  async function getJson(path) {
    var res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.status === 401 || res.status === 403) {
      window.location.reload();
      throw new Error('signed out');
    }
    if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
    return res.json();
  }

  // ------------------------------------------------------------------ formatting

  var numberFormat = new Intl.NumberFormat('en-US');

  function fmtMs(v) {
    if (v === null || v === undefined) return '–';
    if (v >= 1000) return (v / 1000).toFixed(2) + ' s';
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ms';
  }

  function fmtCount(v) {
    return v === null || v === undefined ? '–' : numberFormat.format(v);
  }

  function fmtTime(iso) {
    var d = new Date(iso);
    return d.toLocaleString('en-GB', { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  /** "▲ 12% vs previous 24h"; `lowerIsBetter` picks the colour. */
  function change(cur, prev, lowerIsBetter) {
    if (cur === null || cur === undefined || prev === null || prev === undefined) return { text: 'no previous data', cls: '' };
    if (prev === 0) return cur === 0 ? { text: 'no change', cls: '' } : { text: 'new (was 0)', cls: '' };
    var pct = ((cur - prev) / prev) * 100;
    if (Math.abs(pct) < 0.5) return { text: '≈ same as previous', cls: '' };
    var up = pct > 0;
    var better = lowerIsBetter ? !up : up;
    return { text: (up ? '▲ ' : '▼ ') + Math.abs(pct).toFixed(0) + '% vs previous ' + windowParam(), cls: better ? 'better' : 'worse' };
  }

  // ------------------------------------------------------------------ panels

  function renderTiles(o) {
    var tiles = $('tiles');
    clear(tiles);
    var c = o.current;
    var p = o.previous;
    var defs = [
      ['Turns', fmtCount(c.turns), change(c.turns, p.turns, false), 'turns'],
      ['p50 turn time', fmtMs(c.p50), change(c.p50, p.p50, true), 'p50'],
      ['p99 turn time', fmtMs(c.p99), change(c.p99, p.p99, true), 'p99'],
      ['Errors', fmtCount(c.errors), change(c.errors, p.errors, true), 'errors'],
    ];
    if (o.jobsAvailable) {
      defs.push(['Jobs succeeded', fmtCount(c.jobsSucceeded), change(c.jobsSucceeded, p.jobsSucceeded, false), 'jobs-succeeded']);
      defs.push(['Jobs failed', fmtCount(c.jobsFailed), change(c.jobsFailed, p.jobsFailed, true), 'jobs-failed']);
    }
    defs.forEach(function (d) {
      var tile = el('div', 'tile');
      tile.dataset.kpi = d[3];
      tile.appendChild(el('div', 'label', d[0]));
      tile.appendChild(el('div', 'value', d[1]));
      tile.appendChild(el('div', 'change ' + d[2].cls, d[2].text));
      tiles.appendChild(tile);
    });
  }

  /** Admitted / shed / in flight / limit of this process's turn admission (http/admission.ts). */
  function renderAdmission(a) {
    var panel = $('admission-panel');
    var root = $('admission');
    clear(root);
    panel.hidden = !a;
    if (!a) return;
    var shed = a.shed.full + a.shed.queue_timeout;
    [
      ['Admitted', fmtCount(a.admitted), 'admitted'],
      ['Shed (503)', fmtCount(shed), 'shed', 'queue full ' + fmtCount(a.shed.full) + ' · waited too long ' + fmtCount(a.shed.queue_timeout)],
      ['In flight', fmtCount(a.inFlight), 'in-flight', fmtCount(a.queued) + ' queued'],
      ['Current limit', fmtCount(a.limit), 'limit', 'turns at once'],
      ['Answered at deadline (202)', fmtCount(a.deadline), 'deadline'],
    ].forEach(function (d) {
      var tile = el('div', 'tile');
      tile.dataset.kpi = d[2];
      tile.appendChild(el('div', 'label', d[0]));
      tile.appendChild(el('div', 'value', d[1]));
      tile.appendChild(el('div', 'change', d[3] || ''));
      root.appendChild(tile);
    });
  }

  /** Sign-out only where a sign-in is in use; the "fit the data" option names the window it picked. */
  function applyContext(ctx) {
    fitted = ctx.window;
    dataStart = ctx.oldestTurnAt ? new Date(ctx.oldestTurnAt).getTime() / 1000 : null;
    $('logout').hidden = !ctx.signedIn;
    $('window').options[0].textContent = 'fit the data (' + ctx.window + ')';
    renderAdmission(ctx.admission);
  }

  function xs(buckets) {
    return buckets.map(function (b) {
      return new Date(b).getTime() / 1000;
    });
  }

  /** The x range from the bucket that holds the oldest trace (when the window starts earlier) to the end. */
  function zoomToData(times) {
    var start = times[0];
    if (dataStart !== null) {
      times.forEach(function (t) {
        if (t <= dataStart) start = t;
      });
    }
    var end = times[times.length - 1];
    return function () {
      return start < end ? [start, end] : [times[0], end];
    };
  }

  function plot(container, title, buckets, series, opts) {
    opts = opts || {};
    var width = Math.max(280, container.clientWidth || 600);
    var data = [xs(buckets)];
    var defs = [{}];
    series.forEach(function (s, i) {
      data.push(s.values);
      defs.push({ label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 1.5, spanGaps: false, points: { show: true, size: 4 } });
    });
    var chart = new uPlot(
      {
        title: title || undefined,
        width: width,
        height: opts.height || 200,
        series: defs,
        scales: { x: { time: true, range: zoomToData(data[0]) } },
        axes: [{}, { size: 56, values: opts.yValues }],
        legend: { show: true },
      },
      data,
      container,
    );
    charts.push(chart);
    return chart;
  }

  function empty(container, text) {
    container.appendChild(el('p', 'empty', text));
  }

  function renderLatency(l) {
    var root = $('latency');
    clear(root);
    var names = ['(total)'].concat(Object.keys(l.stages));
    var any = false;
    names.forEach(function (name) {
      var s = name === '(total)' ? l.total : l.stages[name];
      var hasData = s.count.some(function (n) {
        return n > 0;
      });
      if (!hasData) return;
      any = true;
      var fig = el('figure');
      fig.dataset.stage = name;
      fig.appendChild(el('figcaption', '', name === '(total)' ? 'total turn time' : name));
      var holder = el('div', 'chart');
      fig.appendChild(holder);
      root.appendChild(fig);
      plot(
        holder,
        null,
        l.buckets,
        ['p50', 'p95', 'p99'].map(function (k) {
          return { label: k, values: s[k], color: PCT_COLORS[k] };
        }),
        {
          height: 170,
          yValues: function (_u, vals) {
            return vals.map(function (v) {
              return v >= 1000 ? v / 1000 + 's' : v + 'ms';
            });
          },
        },
      );
    });
    if (!any) empty(root, 'No turns in this window.');
  }

  function renderCountChart(containerId, data, emptyText) {
    var root = $(containerId);
    clear(root);
    var keys = Object.keys(data.series);
    if (keys.length === 0) {
      empty(root, emptyText);
      return;
    }
    plot(
      root,
      null,
      data.buckets,
      keys.map(function (k) {
        return { label: k, values: data.series[k] };
      }),
    );
  }

  function renderBars(containerId, rows, emptyText) {
    var root = $(containerId);
    clear(root);
    if (rows.length === 0) {
      empty(root, emptyText);
      return;
    }
    var max = Math.max.apply(
      null,
      rows.map(function (r) {
        return r.count;
      }).concat([1]),
    );
    rows.forEach(function (r) {
      var row = el('div', 'bar-row');
      var label = el('span', 'bar-label', r.label);
      label.title = r.label;
      var track = el('span', 'bar-track');
      var fill = el('span', 'bar-fill');
      fill.style.display = 'block';
      fill.style.width = ((r.count / max) * 100).toFixed(1) + '%';
      track.appendChild(fill);
      row.appendChild(label);
      row.appendChild(track);
      row.appendChild(el('span', 'bar-value', fmtCount(r.count)));
      root.appendChild(row);
    });
  }

  function renderJobs(j) {
    var note = $('jobs-note');
    if (!j.available) {
      note.hidden = false;
      note.textContent = 'The automation job tables are not in this database yet: nothing to show.';
    } else {
      note.hidden = true;
    }
    renderCountChart('jobs-status', j.statusOverTime, 'No jobs created in this window.');
    var anyFunnel = j.funnel.some(function (f) {
      return f.count > 0;
    });
    renderBars(
      'funnel',
      anyFunnel
        ? j.funnel.map(function (f) {
            return { label: f.stage, count: f.count };
          })
        : [],
      'No proposals or jobs in this window.',
    );
    var body = $('failures');
    clear(body);
    if (j.failureReasons.length === 0) {
      var tr = el('tr');
      var td = el('td', 'empty', 'No failed jobs in this window.');
      td.colSpan = 3;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    j.failureReasons.forEach(function (f) {
      var tr = el('tr');
      tr.appendChild(el('td', 'reason', f.reason));
      tr.appendChild(el('td', 'num', fmtCount(f.count)));
      tr.appendChild(el('td', '', fmtTime(f.lastAt)));
      body.appendChild(tr);
    });
  }

  function renderRecent(r) {
    var body = $('recent');
    clear(body);
    if (r.turns.length === 0) {
      var tr0 = el('tr');
      var td0 = el('td', 'empty', 'No turns yet.');
      td0.colSpan = 8;
      tr0.appendChild(td0);
      body.appendChild(tr0);
    }
    r.turns.forEach(function (t) {
      var tr = el('tr');
      [fmtTime(t.startedAt), t.channelId || '', t.userId || '', t.conversationId || '', t.intent || '', t.outcome].forEach(function (v) {
        tr.appendChild(el('td', '', v));
      });
      tr.appendChild(el('td', 'num', t.totalMs.toFixed(1)));
      tr.appendChild(el('td', 'error-text', t.error || ''));
      body.appendChild(tr);
    });
  }

  // ------------------------------------------------------------------ loading

  async function load() {
    var errorBox = $('error');
    try {
      applyContext(await getJson('/api/dashboard/context'));
      var w = encodeURIComponent(windowParam());
      var results = await Promise.all([
        getJson('/api/dashboard/overview?window=' + w),
        getJson('/api/dashboard/latency?window=' + w),
        getJson('/api/dashboard/channels?window=' + w),
        getJson('/api/dashboard/intents?window=' + w),
        getJson('/api/dashboard/jobs?window=' + w),
        getJson('/api/dashboard/recent?limit=25'),
      ]);
      last = results;
      draw();
      errorBox.hidden = true;
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString('en-GB');
      document.body.dataset.loaded = 'true';
    } catch (err) {
      errorBox.hidden = false;
      errorBox.textContent = 'Could not load the dashboard data: ' + err.message;
    }
  }

  function draw() {
    if (!last) return;
    charts.forEach(function (c) {
      c.destroy();
    });
    charts = [];
    renderTiles(last[0]);
    renderLatency(last[1]);
    renderCountChart('channels', last[2], 'No turns in this window.');
    renderBars(
      'intents',
      last[3].intents.map(function (i) {
        return { label: i.intent === null ? '(no intent)' : i.intent, count: i.count };
      }),
      'No turns in this window.',
    );
    renderJobs(last[4]);
    renderRecent(last[5]);
  }

  $('window').addEventListener('change', load);
  $('refresh').addEventListener('click', load);
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(draw, 200);
  });
  window.setInterval(load, 30000);
  load();
})();
