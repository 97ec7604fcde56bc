// kycetl statistics page: draws the four charts from the numbers the
// warehouse views gave (the JSON in #kycetl-data) and makes the filter bar
// submit itself. It computes no indicator: it only places and formats the
// views' numbers.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('kycetl-data').textContent);
  var statuses = ['approved', 'rejected', 'incomplete', 'pending'];
  var colors = { approved: '#12b76a', rejected: '#f04438', incomplete: '#98a2b3', pending: '#f79009', other: '#475467' };
  var credits = '#2e90fa';

  // The table may be sorted by credits; the charts run by day.
  var days = data.daily.slice().sort(function (a, b) { return a.day < b.day ? -1 : a.day > b.day ? 1 : 0; });
  var x = days.map(function (d) { return d.day; });
  var column = function (name) { return days.map(function (d) { return d[name]; }); };
  var percent = function (v) { return v === null || v === undefined ? 'n/a' : (v * 100).toFixed(1) + '%'; };
  // On a phone the pie's labels would leave the chart: its legend names the slices.
  var narrow = window.innerWidth < 600;
  var shown = statuses.filter(function (s) { return !data.status || data.status === s; });

  var base = {
    animation: false,
    textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', color: '#344054' },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', confine: true }
  };
  var dayAxis = { type: 'category', data: x, axisTick: { alignWithLabel: true }, axisLabel: { hideOverlap: true } };
  var charts = [];

  function draw(name, option) {
    var el = document.querySelector('[data-chart="' + name + '"]');
    if (!el) return;
    if (typeof echarts === 'undefined') {
      el.textContent = 'The chart library did not load.';
      return;
    }
    var c = echarts.init(el, null, { renderer: 'svg' });
    var o = {};
    Object.keys(base).forEach(function (k) { o[k] = base[k]; });
    Object.keys(option).forEach(function (k) { o[k] = option[k]; });
    c.setOption(o);
    charts.push(c);
  }

  draw('daily-volume', {
    legend: { top: 0, data: shown },
    xAxis: dayAxis,
    yAxis: { type: 'value', minInterval: 1 },
    series: shown.map(function (s) {
      return { name: s, type: 'bar', stack: 'volume', data: column(s), itemStyle: { color: colors[s] }, barMaxWidth: 28, emphasis: { focus: 'series' } };
    })
  });

  draw('status-distribution', {
    tooltip: {
      trigger: 'item', confine: true,
      formatter: function (p) { return p.name + ': ' + p.value + ' (' + percent(p.data.share) + ')'; }
    },
    grid: undefined,
    legend: { bottom: 0, type: 'scroll' },
    series: [{
      type: 'pie', radius: ['45%', '70%'], center: ['50%', '45%'], avoidLabelOverlap: true,
      label: { show: !narrow, formatter: function (p) { return p.name + '\n' + percent(p.data.share); } },
      data: data.distribution.map(function (d) {
        return { name: d.status, value: d.submissions, share: d.share, itemStyle: { color: colors[d.status] || colors.other } };
      })
    }]
  });

  draw('approval-rate', {
    xAxis: dayAxis,
    yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: percent } },
    tooltip: { trigger: 'axis', confine: true, valueFormatter: percent },
    series: [{
      name: 'approval rate', type: 'line', data: column('approval_rate'), connectNulls: false, smooth: false,
      symbolSize: 5, itemStyle: { color: colors.approved }, areaStyle: { opacity: 0.08 }
    }]
  });

  draw('credit-usage', {
    xAxis: dayAxis,
    yAxis: { type: 'value' },
    series: [{
      name: 'credits', type: 'line', data: column('credits'), symbolSize: 5,
      itemStyle: { color: credits }, areaStyle: { opacity: 0.12 }
    }]
  });

  // The sections beyond the vendor's page and Fractal's snapshots: the
  // readers' rows, placed on axes.
  var ins = data.insights || {};
  var list = function (v) { return v || []; };
  var uniq = function (rows, key) {
    var seen = {}, out = [];
    rows.forEach(function (r) { var k = key(r); if (!seen[k]) { seen[k] = true; out.push(k); } });
    return out;
  };
  var byDay = function (rows, day, value) {
    var m = {};
    rows.forEach(function (r) { m[r.day] = value(r); });
    return day.map(function (d) { return d in m ? m[d] : null; });
  };
  // A chart's series of one legend entry (a band's low and high, a
  // reviewer's median and p90) are told apart by their id in the tooltip.
  var palette = ['#2e90fa', '#7a5af8', '#12b76a', '#f79009', '#f04438', '#475467'];
  var byId = function (format) {
    return function (ps) {
      return [echarts.format.encodeHTML(ps[0].axisValueLabel)].concat(ps.map(function (p) {
        return p.marker + echarts.format.encodeHTML(p.seriesId) + ': ' + format(p.value);
      })).join('<br>');
    };
  };
  var minutes = function (v) { return v === null || v === undefined ? 'n/a' : v.toFixed(1) + ' min'; };
  var weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  var hours = []; for (var h = 0; h < 24; h++) hours.push(String(h).padStart(2, '0'));

  var peak = list(ins.peak_times);
  var peakMax = peak.reduce(function (m, c) { return Math.max(m, c.submissions); }, 1); // the colour scale's top
  draw('peak-times', {
    tooltip: {
      trigger: 'item', confine: true,
      formatter: function (p) { return weekdays[p.value[1]] + ' ' + hours[p.value[0]] + ':00 ' + ins.tz + ': ' + p.value[2]; }
    },
    grid: { left: 8, right: 16, top: 8, bottom: 40, containLabel: true },
    xAxis: { type: 'category', data: hours, splitArea: { show: true } },
    yAxis: { type: 'category', data: weekdays, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: peakMax, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120,
      inRange: { color: ['#eef4ff', '#84adff', '#1d4ed8'] }, textStyle: { fontSize: 11 } },
    series: [{ name: ins.peak_column, type: 'heatmap', data: peak.map(function (c) { return [c.hour, c.weekday - 1, c.submissions]; }),
      label: { show: !narrow, fontSize: 10 }, emphasis: { itemStyle: { borderColor: '#1c2433', borderWidth: 1 } } }]
  });

  var fc = list(ins.forecast);
  var fcDays = uniq(fc, function (r) { return r.day; }).sort();
  var fcProjects = uniq(fc, function (r) { return r.project; });
  var named = function (p, what, many) { return many ? p + ' · ' + what : what; };
  draw('credit-forecast', {
    legend: { top: 0, type: 'scroll' },
    tooltip: { trigger: 'axis', confine: true, formatter: byId(function (v) { return v === null || v === undefined ? 'n/a' : v.toFixed(1); }) },
    xAxis: { type: 'category', data: fcDays, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value' },
    series: [].concat.apply([], fcProjects.map(function (p) {
      var rows = fc.filter(function (r) { return r.project === p; });
      var many = fcProjects.length > 1;
      var color = palette[fcProjects.indexOf(p) % palette.length];
      var band = named(p, 'low – high', many);
      return [
        { name: named(p, 'forecast', many), type: 'line', data: byDay(rows, fcDays, function (r) { return r.credits; }), symbolSize: 4, itemStyle: { color: color } },
        { name: band, id: band + ' low', type: 'line', data: byDay(rows, fcDays, function (r) { return r.low; }), symbol: 'none', lineStyle: { type: 'dashed', width: 1, opacity: 0.7 }, itemStyle: { color: color } },
        { name: band, id: band + ' high', type: 'line', data: byDay(rows, fcDays, function (r) { return r.high; }), symbol: 'none', lineStyle: { type: 'dashed', width: 1, opacity: 0.7 }, itemStyle: { color: color } }
      ];
    }))
  });

  var td = list(ins.time_to_decision);
  var tdDays = uniq(td, function (r) { return r.day; }).sort();
  var tdProjects = uniq(td, function (r) { return r.project; });
  var tdKeys = uniq(td, function (r) { return r.project + '\u0000' + r.reviewer; }).sort();
  draw('time-to-decision', {
    legend: { top: 0, type: 'scroll' },
    tooltip: { trigger: 'axis', confine: true, formatter: byId(minutes) },
    xAxis: { type: 'category', data: tdDays, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value' },
    series: [].concat.apply([], tdKeys.map(function (k, i) {
      var pr = k.split('\u0000');
      var rows = td.filter(function (r) { return r.project === pr[0] && r.reviewer === pr[1]; });
      var name = tdProjects.length > 1 ? pr[0] + ' · ' + pr[1] : pr[1];
      var color = palette[i % palette.length];
      return [
        { name: name, id: name + ' median', type: 'line', data: byDay(rows, tdDays, function (r) { return r.median_minutes; }), symbolSize: 4, itemStyle: { color: color } },
        { name: name, id: name + ' p90', type: 'line', data: byDay(rows, tdDays, function (r) { return r.p90_minutes; }), symbol: 'none', lineStyle: { type: 'dashed' }, itemStyle: { color: color } }
      ];
    }))
  });

  var backlog = list(ins.backlog);
  draw('pending-backlog', {
    xAxis: { type: 'category', data: backlog.map(function (b) { return b.age_bucket; }), axisLabel: { interval: 0, fontSize: 11 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ name: 'pending', type: 'bar', data: backlog.map(function (b) { return b.pending; }), itemStyle: { color: colors.pending }, barMaxWidth: 36 }]
  });

  var steps = list(ins.abandonment).slice().reverse(); // the most reached at the top
  var stepName = function (s) { return s === null ? '(no camera process)' : s; };
  // Category labels on the left: room for their full width (ECharts
  // measures a truncated label a little short).
  var labelGrid = { left: 20, right: 16, top: 40, bottom: 8, containLabel: true };
  draw('abandonment', {
    legend: { top: 0 },
    grid: labelGrid,
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: steps.map(function (s) { return stepName(s.step); }), axisLabel: { width: narrow ? 110 : 160, overflow: 'truncate' } },
    series: [
      { name: 'reached', type: 'bar', data: steps.map(function (s) { return s.reached; }), itemStyle: { color: '#98a2b3' } },
      { name: 'abandoned', type: 'bar', data: steps.map(function (s) { return s.abandoned; }), itemStyle: { color: colors.rejected } },
      { name: 'errors', type: 'bar', data: steps.map(function (s) { return s.errors; }), itemStyle: { color: colors.pending } }
    ]
  });

  var reasons = list(ins.reject_reasons).slice(0, 10).reverse(); // the ten first ranks, the first at the top
  var reasonName = function (r) { return r === null ? '(no code)' : r; };
  draw('reject-reasons', {
    grid: { left: 20, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: reasons.map(function (r) { return reasonName(r.reason); }), axisLabel: { width: narrow ? 120 : 170, overflow: 'truncate' } },
    series: [{ name: 'rejected', type: 'bar', data: reasons.map(function (r) { return r.submissions; }), itemStyle: { color: colors.rejected }, barMaxWidth: 22 }]
  });

  var fr = ins.fractal;
  if (fr) {
    var frStatuses = ['approved', 'rejected', 'pending', 'contacted', 'expired', 'other'];
    var frColors = { approved: colors.approved, rejected: colors.rejected, pending: colors.pending, contacted: '#2e90fa', expired: '#98a2b3', other: '#475467' };
    var st = list(fr.status_daily);
    var stMany = uniq(st, function (r) { return r.project; }).length > 1;
    var stLabel = function (r) { return stMany ? r.day + ' · ' + r.project : r.day; };
    draw('fractal-status', {
      legend: { top: 0, type: 'scroll' },
      xAxis: { type: 'category', data: st.map(stLabel), axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', minInterval: 1 },
      series: frStatuses.map(function (s) {
        return { name: s, type: 'bar', stack: 'status', data: st.map(function (r) { return r[s]; }), itemStyle: { color: frColors[s] }, barMaxWidth: 28 };
      })
    });
    var co = list(fr.country_latest);
    var coMany = uniq(co, function (r) { return r.project; }).length > 1;
    var coKeys = uniq(co, function (r) { return (coMany ? r.project + ' · ' : '') + r.country; }).reverse();
    var coStatuses = uniq(co, function (r) { return r.status; });
    draw('fractal-countries', {
      legend: { top: 0, type: 'scroll' },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: coKeys },
      series: coStatuses.map(function (s) {
        var m = {};
        co.forEach(function (r) { if (r.status === s) m[(coMany ? r.project + ' · ' : '') + r.country] = r.verifications; });
        return { name: s, type: 'bar', stack: 'country', data: coKeys.map(function (k) { return k in m ? m[k] : null; }), itemStyle: { color: frColors[s] || frColors.other } };
      })
    });
    var ch = list(fr.credential_changes);
    var chDays = uniq(ch, function (r) { return r.day; }).sort();
    draw('fractal-changes', {
      legend: { top: 0, type: 'scroll' },
      xAxis: { type: 'category', data: chDays, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', minInterval: 1 },
      series: uniq(ch, function (r) { return r.project; }).map(function (p) {
        return { name: p, type: 'bar', data: byDay(ch.filter(function (r) { return r.project === p; }), chDays, function (r) { return r.changes; }), itemStyle: { color: '#7a5af8' }, barMaxWidth: 28 };
      })
    });
  }

  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });

  // The heat map's zone: UTC, the default, is left out of the address.
  var zone = document.querySelector('form[data-zone]');
  if (zone) {
    zone.addEventListener('submit', function () {
      if (!zone.elements.tz.value || zone.elements.tz.value === 'UTC') zone.elements.tz.disabled = true;
    });
  }

  // The filter bar: a preset sends period, a custom range from and to;
  // empty filters are left out, so that the address stays short.
  var form = document.querySelector('form[data-filters]');
  var fieldset = form && form.querySelector('fieldset');
  if (!form || fieldset.disabled) return;
  var el = form.elements;
  var enable = function () { Array.prototype.forEach.call(el, function (e) { if (e.name) e.disabled = false; }); };
  window.addEventListener('pageshow', enable);
  [el.from, el.to].forEach(function (e) { e.addEventListener('change', function () { el.period.value = 'custom'; }); });
  form.addEventListener('submit', function () {
    if (el.period.value === 'custom') {
      el.period.disabled = true;
    } else {
      el.from.disabled = true;
      el.to.disabled = true;
    }
    ['status', 'project'].forEach(function (n) { if (!el[n].value) el[n].disabled = true; });
    if (el.sort.value === 'day') el.sort.disabled = true;
  });
  ['period', 'status', 'project', 'sort'].forEach(function (n) {
    el[n].addEventListener('change', function () {
      if (n === 'period' && el.period.value === 'custom') return;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    });
  });
})();
