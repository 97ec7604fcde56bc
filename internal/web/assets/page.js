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

  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });

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
