// The Cairn dashboard: polls monitoring's GET /api/dashboard with an operator token and draws it.
// The token comes from the URL fragment (#token=…, which browsers never send to a server) or the
// sign-in form, and is kept in this tab's sessionStorage only.
(function () {
  'use strict';

  const POLL_INTERVAL_MS = 1500;
  const CHART_WINDOW_MS = 10 * 60 * 1000;
  const CHART_MIN_WINDOW_MS = 30 * 1000;
  /** While the tab is hidden the page polls this slowly; it catches up at once when shown. */
  const HIDDEN_POLL_INTERVAL_MS = 15 * 1000;
  const TOKEN_KEY = 'cairn.dashboard.token';
  const JOB_ORDER = { running: 0, surveying: 1, paced: 2, failed: 3, done: 4 };
  const $ = (id) => document.getElementById(id);

  let token = null;
  let timer = null;
  /** Bumped on sign-out, so an answer to an older poll is dropped. */
  let generation = 0;
  let points = [];
  let lastPointAtMs;

  // ---------------------------------------------------------------------------------------------
  // formatting

  function bytes(n) {
    if (n === null || n === undefined) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let value = n;
    let unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
  }

  function count(n) {
    return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  function ago(iso, nowMs) {
    if (!iso) return 'never';
    const ms = Math.max(0, nowMs - Date.parse(iso));
    return ms < 10000 ? `${(ms / 1000).toFixed(1)} s ago` : `${duration(ms / 1000)} ago`;
  }

  function rate(job) {
    if (job.ratePerSecond === null) return '—';
    return job.rateUnit === 'bytes' ? `${bytes(job.ratePerSecond)}/s` : `${job.ratePerSecond.toFixed(1)} items/s`;
  }

  function eta(job) {
    if (job.state === 'done' || job.etaSeconds === 0) return 'done';
    return duration(job.etaSeconds);
  }

  /** Seconds with a decimal under a minute (drill and lag figures are often sub-second). */
  function seconds(value) {
    if (value === null || value === undefined) return '—';
    return value < 60 ? `${value.toFixed(value < 10 ? 1 : 0)} s` : duration(value);
  }

  function percent(fraction) {
    return `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.1 ? 1 : 0)}%`;
  }

  // ---------------------------------------------------------------------------------------------
  // DOM helpers (text only: nothing from the API is ever parsed as HTML)

  function el(name, className, text) {
    const node = document.createElement(name);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function badge(word, extraClass) {
    return el('span', `badge ${extraClass || word}`, word);
  }

  function cell(row, content, className) {
    const td = el('td', className);
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content === null || content === undefined ? '—' : String(content);
    row.appendChild(td);
    return td;
  }

  function bar(fraction, text, level) {
    const outer = el('div', 'bar');
    const fill = el('div', `fill${level ? ` ${level}` : ''}`);
    fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
    outer.appendChild(fill);
    outer.appendChild(el('span', 'text', text));
    return outer;
  }

  function fillBody(table, rows, columns, emptyText) {
    const body = table.tBodies[0];
    body.textContent = '';
    if (rows.length === 0) {
      const tr = el('tr', 'empty');
      const td = cell(tr, emptyText);
      td.colSpan = columns;
      body.appendChild(tr);
      return;
    }
    for (const row of rows) body.appendChild(row);
  }

  function noData(text) {
    return el('div', 'nodata', text);
  }

  function setCard(id, value, sub, level) {
    $(id).textContent = value;
    $(`${id}-sub`).textContent = sub || '';
    const card = $(id).parentElement;
    card.classList.remove('good', 'warn', 'bad');
    if (level) card.classList.add(level);
  }

  // ---------------------------------------------------------------------------------------------
  // sections

  function renderRegions(view) {
    const box = $('regions');
    box.textContent = '';
    for (const r of view.regions) {
      const chip = el('span', `region${r.local ? ' local' : ''}`);
      chip.dataset.region = r.region;
      chip.appendChild(el('strong', '', r.region));
      if (r.monitored || r.local) chip.appendChild(el('span', 'counts', `${r.instances.up} up · ${r.instances.suspected} suspected · ${r.instances.down} down`));
      if (!r.local) chip.appendChild(el('span', 'counts', r.down ? 'down (majority)' : r.replicationLagMs === null ? 'lag —' : `lag ${seconds(r.replicationLagMs / 1000)}`));
      box.appendChild(chip);
    }
  }

  function renderFailover(view, nowMs) {
    const control = view.control;
    const rows = view.regions.map((r) => {
      const tr = el('tr', r.down ? 'down' : '');
      tr.dataset.region = r.region;
      tr.dataset.lagMs = r.replicationLagMs === null ? '' : String(r.replicationLagMs);
      const name = cell(tr, r.region);
      if (r.local) name.append(' ', badge('this region', 'info'));
      cell(tr, r.monitored ? `${r.instances.up} up · ${r.instances.suspected} suspected · ${r.instances.down} down` : r.local ? 'none yet' : 'not monitored here');
      cell(tr, r.local ? '—' : seconds(r.replicationLagMs === null ? null : r.replicationLagMs / 1000), 'num');
      cell(tr, r.local ? '—' : count(r.pendingEvents), 'num');
      cell(tr, r.local || r.linkUp === null ? '—' : badge(r.linkUp ? 'up' : 'down'));
      if (r.down === null) cell(tr, '—');
      else {
        const td = cell(tr, badge(r.down ? 'down' : 'up'));
        const notes = [];
        if (r.down) notes.push('by majority');
        if (r.reportedDownBy && r.reportedDownBy.length > 0) notes.push(`reported by ${r.reportedDownBy.join(', ')}`);
        if (notes.length) td.append(' ', el('small', 'muted', notes.join(' · ')));
      }
      return tr;
    });
    fillBody($('region-table'), rows, 6, 'no regions');
    if (!control.available) {
      $('control-note').textContent = `control group: ${control.reason}`;
      $('homes-note').textContent = '';
      fillBody($('homes'), [], 6, 'no data');
      return;
    }
    const parts = [`from ${control.instance}`];
    if (!control.federated) parts.push('this region is alone: no control group, no lease needed');
    else {
      if (control.leading !== null) parts.push(control.leading ? 'this region leads the group' : `leader ${control.groupLeader || 'unknown'}`);
      if (control.term !== null) parts.push(`term ${control.term}`);
      parts.push(`lease ${control.leaseSeconds === null ? '—' : seconds(control.leaseSeconds)}`);
      parts.push(control.regionsDown.length ? `down by majority: ${control.regionsDown.join(', ')}` : 'no region down');
      if (control.failovers) parts.push(`${control.failovers} failover(s) proposed here`);
    }
    $('control-note').textContent = parts.join(' · ');
    $('homes-note').textContent = control.bucketsNote || '';
    if (control.buckets === null) {
      fillBody($('homes'), [], 6, control.bucketsNote || 'bucket homes not read yet');
      return;
    }
    const homes = control.buckets.map((b) => {
      const tr = el('tr');
      tr.dataset.bucket = b.bucket;
      tr.dataset.home = b.home;
      tr.dataset.epoch = String(b.epoch);
      cell(tr, b.bucket);
      cell(tr, b.home);
      cell(tr, b.epoch, 'num');
      const state = cell(tr, badge(b.state, b.state === 'draining' ? 'draining' : 'serving'));
      if (b.switchingTo) state.append(' ', el('small', 'muted', `→ ${b.switchingTo}`));
      cell(tr, b.reason);
      cell(tr, ago(b.since, nowMs), 'num');
      return tr;
    });
    fillBody($('homes'), homes, 6, 'no active-passive bucket');
  }

  function renderDrills(view, nowMs) {
    const drills = view.drills;
    if (!drills.available) {
      fillBody($('drills'), [], 10, `no data: ${drills.reason}`);
      $('drills-note').textContent = '';
      setCard('sum-drill', '—', 'no data');
      return;
    }
    const rows = drills.items.map((d) => {
      const tr = el('tr', d.result === 'FAIL' ? 'down' : '');
      tr.dataset.drill = d.id;
      tr.dataset.result = d.result;
      const result = cell(tr, badge(d.result, d.result.toLowerCase()));
      if (d.problems.length) result.appendChild(el('small', 'problems', d.problems.join('; ')));
      const region = cell(tr, d.region);
      if (d.trigger === 'schedule') region.appendChild(el('small', 'muted', ' scheduled'));
      cell(tr, d.bucket);
      cell(tr, d.newHome === null ? 'none' : `${d.newHome}${d.epoch === null ? '' : ` (epoch ${d.epoch})`}`);
      cell(tr, seconds(d.failoverSeconds), 'num');
      cell(tr, seconds(d.rtoSeconds), 'num');
      const rpo = d.rpoObjects === null ? '—' : `${count(d.rpoObjects)} object${d.rpoObjects === 1 ? '' : 's'} / ${seconds(d.rpoSeconds)}`;
      const rpoCell = cell(tr, rpo, 'num');
      if (d.acknowledgedByOldHomeAfterFailure) rpoCell.appendChild(el('small', 'muted', ` + ${count(d.acknowledgedByOldHomeAfterFailure)} in the old home's lease`));
      cell(tr, d.splitBrain ? badge('yes', 'fail') : badge('no', 'pass'));
      cell(tr, count(d.lostAcknowledged), 'num');
      cell(tr, ago(d.finishedAt, nowMs), 'num');
      return tr;
    });
    fillBody($('drills'), rows, 10, 'no drill yet: run one with cairn drill run --region <region>');
    $('drills-note').textContent = drills.total > drills.items.length ? `latest ${drills.items.length} of ${drills.total}` : drills.total ? `${drills.total} kept on CLUSTER` : '';
    const last = drills.items[0];
    if (!last) setCard('sum-drill', '—', 'no drill yet');
    else setCard('sum-drill', last.result, `${last.region} out · RTO ${seconds(last.rtoSeconds)} · ${ago(last.finishedAt, nowMs)}`, last.result === 'PASS' ? 'good' : 'bad');
  }

  function renderNodes(view, nowMs) {
    const nodes = view.nodes.items;
    const rows = nodes.map((n) => {
      const tr = el('tr', n.health);
      tr.dataset.node = n.nodeId;
      tr.dataset.health = n.health;
      const name = el('span', '', n.nodeId);
      const nameCell = cell(tr, name);
      if (n.draining) nameCell.append(' ', badge('draining'));
      if (!n.member) nameCell.append(' ', badge('not in ring', 'unknown'));
      cell(tr, n.zone);
      cell(tr, n.host);
      cell(tr, badge(n.health));
      if (n.usedFraction !== null) {
        const level = n.usedFraction >= 0.9 ? 'bad' : n.usedFraction >= 0.75 ? 'warn' : '';
        cell(tr, bar(n.usedFraction, `${bytes(n.capacityBytes - n.freeBytes)} of ${bytes(n.capacityBytes)} (${percent(n.usedFraction)})`, level));
      } else cell(tr, n.capacityBytes ? `${bytes(n.capacityBytes)}` : '—');
      cell(tr, count(n.chunkCount), 'num');
      cell(tr, n.weight, 'num');
      cell(tr, ago(n.lastHeartbeatAt, nowMs), 'num');
      return tr;
    });
    fillBody($('nodes'), rows, 8, 'no storage nodes known yet');
    $('nodes-note').textContent = view.nodes.available ? `ring epoch ${view.nodes.ringEpoch}` : `membership unavailable: ${view.nodes.reason}`;
    const down = nodes.filter((n) => n.health === 'down').length;
    const suspected = nodes.filter((n) => n.health === 'suspected').length;
    const up = nodes.filter((n) => n.health === 'up').length;
    const capacity = nodes.reduce((a, n) => a + (n.health !== 'down' && n.capacityBytes ? n.capacityBytes : 0), 0);
    const free = nodes.reduce((a, n) => a + (n.health !== 'down' && n.freeBytes ? n.freeBytes : 0), 0);
    setCard('sum-nodes', `${up} / ${nodes.length} up`, `${down} down · ${suspected} suspected${capacity ? ` · ${bytes(capacity - free)} of ${bytes(capacity)} used` : ''}`, down > 0 ? 'bad' : suspected > 0 ? 'warn' : nodes.length > 0 ? 'good' : '');
  }

  function renderInstances(view, nowMs) {
    const rows = view.instances.map((i) => {
      const tr = el('tr', i.status);
      tr.dataset.instance = `${i.service}/${i.instance}`;
      tr.dataset.health = i.status;
      cell(tr, i.service);
      cell(tr, i.instance);
      cell(tr, i.region);
      cell(tr, badge(i.status));
      cell(tr, i.phi === null ? '∞' : i.phi.toFixed(1), 'num');
      cell(tr, i.uptimeSeconds === null ? '—' : duration(i.uptimeSeconds), 'num');
      cell(tr, bytes(i.rssBytes), 'num');
      cell(tr, i.inFlightRequests, 'num');
      cell(tr, i.eventLoopLagMs === null ? '—' : `${i.eventLoopLagMs.toFixed(1)} ms`, 'num');
      cell(tr, ago(i.lastHeartbeatAt, nowMs), 'num');
      return tr;
    });
    fillBody($('instances'), rows, 10, 'no heartbeats heard yet');
    const m = view.monitoring;
    $('instances-note').textContent = `heard by ${m.instance}${m.leader ? ' (leader: announces NodeDown/NodeRecovered)' : ' (standby)'}; suspected after ${m.suspectAfterMs / 1000} s of silence, down after ${m.downAfterMs / 1000} s`;
    const down = view.instances.filter((i) => i.status === 'down').length;
    const suspected = view.instances.filter((i) => i.status === 'suspected').length;
    setCard('sum-instances', `${view.instances.length - down - suspected} / ${view.instances.length} up`, `${new Set(view.instances.map((i) => i.service)).size} services`, down > 0 ? 'bad' : suspected > 0 ? 'warn' : 'good');
  }

  function renderAlerts(view, nowMs) {
    const box = $('alerts');
    box.textContent = '';
    const alerts = view.alerts;
    if (!alerts.available) {
      box.appendChild(noData(`no data: ${alerts.reason}`));
      setCard('sum-alerts', '—', 'no data');
      return;
    }
    const firing = alerts.active.filter((a) => a.state === 'firing');
    if (alerts.active.length === 0) box.appendChild(noData('no alerts firing'));
    for (const a of alerts.active) {
      const row = el('div', 'alert');
      row.dataset.alert = a.id;
      row.dataset.state = a.state;
      row.appendChild(badge(a.severity));
      row.appendChild(badge(a.state));
      row.appendChild(el('span', 'summary', a.summary || a.rule));
      row.appendChild(el('span', 'muted', `since ${ago(new Date(a.firingSinceMs || a.activeSinceMs).toISOString(), nowMs)}`));
      box.appendChild(row);
    }
    const recent = alerts.resolved.slice(-5).reverse();
    for (const a of recent) {
      const row = el('div', 'alert');
      row.dataset.alert = a.id;
      row.dataset.state = a.state;
      row.appendChild(badge('resolved'));
      row.appendChild(el('span', 'summary', a.summary || a.rule));
      row.appendChild(el('span', 'muted', a.resolvedAtMs ? ago(new Date(a.resolvedAtMs).toISOString(), nowMs) : ''));
      box.appendChild(row);
    }
    setCard('sum-alerts', String(firing.length), `${alerts.active.length - firing.length} pending · ${alerts.resolved.length} resolved recently`, firing.length > 0 ? 'bad' : 'good');
  }

  function renderJobs(view) {
    const jobs = view.jobs;
    if (!jobs.available) {
      fillBody($('jobs'), [], 6, `no data: ${jobs.reason}`);
      $('jobs-note').textContent = '';
      $('repair-queue').textContent = '';
      setCard('sum-jobs', '—', 'no data');
      return;
    }
    const items = [...jobs.items].sort((a, b) => (JOB_ORDER[a.state] ?? 9) - (JOB_ORDER[b.state] ?? 9));
    const rows = items.map((j) => {
      const tr = el('tr');
      tr.dataset.job = j.id;
      tr.dataset.kind = j.kind;
      tr.dataset.state = j.state;
      tr.dataset.fraction = String(j.fractionDone);
      tr.dataset.doneBytes = String(j.doneBytes);
      tr.dataset.doneItems = String(j.doneItems);
      const title = cell(tr, j.title);
      if (j.detail) {
        title.appendChild(el('br'));
        title.appendChild(el('small', 'muted', j.detail));
      }
      cell(tr, badge(j.state));
      cell(tr, bar(j.fractionDone, percent(j.fractionDone), j.state === 'failed' ? 'bad' : ''));
      cell(tr, j.rateUnit === 'bytes' ? `${bytes(j.doneBytes)} of ${bytes(j.totalBytes)}` : `${count(j.doneItems)} of ${count(j.totalItems)}`, 'num');
      cell(tr, rate(j), 'num');
      cell(tr, eta(j), 'num');
      return tr;
    });
    fillBody($('jobs'), rows, 6, 'no jobs yet: no sweep has run and no node is known to scrub');
    $('jobs-note').textContent = `from ${jobs.instance}`;
    const q = jobs.repairQueue;
    $('repair-queue').textContent = `Repair queue (event-driven, one job per chunk and node): ${q.waiting} waiting · ${q.active} active · ${q.delayed} delayed · ${q.failed} failed`;
    const running = items.filter((j) => j.state === 'running' || j.state === 'surveying');
    const longest = running.reduce((a, j) => (j.etaSeconds !== null && j.etaSeconds > a ? j.etaSeconds : a), 0);
    setCard('sum-jobs', String(running.length), running.length ? `longest ETA ${duration(longest)}` : `${q.waiting + q.active} repairs queued`, running.length ? 'warn' : 'good');
  }

  function renderLag(view) {
    const box = $('lag');
    box.textContent = '';
    const projection = view.lag.projection;
    box.appendChild(el('h3', 'muted', 'Projection lag (metadata: events not yet in Postgres)'));
    if (projection.available) {
      const list = el('dl', 'kv');
      for (const s of projection.streams) {
        list.appendChild(el('dt', '', `${s.instance} · ${s.stream}`));
        list.appendChild(el('dd', '', `${count(s.events)} events`));
      }
      if (projection.streams.length === 0) box.appendChild(noData('no metadata instance reports a projection'));
      box.appendChild(list);
      const worst = projection.streams.reduce((a, s) => Math.max(a, s.events), 0);
      setCard('sum-projection', `${count(worst)}`, 'events behind (worst stream)', worst > 1000 ? 'bad' : worst > 0 ? 'warn' : 'good');
    } else {
      box.appendChild(noData(`no data: ${projection.reason}`));
      setCard('sum-projection', '—', 'no data');
    }
    const replication = view.lag.replication;
    box.appendChild(el('h3', 'muted', 'Replication lag (between regions)'));
    if (replication.available) {
      const list = el('dl', 'kv');
      for (const r of replication.regions) {
        list.appendChild(el('dt', '', `from ${r.region}`));
        list.appendChild(el('dd', '', `${seconds(r.lagMs / 1000)}${r.pendingEvents ? ` · ${count(r.pendingEvents)} changes pending` : ''}${r.linkUp === false ? ' · link down' : ''}`));
      }
      box.appendChild(list);
      const worst = replication.regions.reduce((a, r) => Math.max(a, r.lagMs), 0);
      // A link that is down holds the lag at what was last known: the card says so rather than look healthy.
      const cut = replication.regions.filter((r) => r.linkUp === false).map((r) => r.region);
      const sub = cut.length ? `worst region · link down from ${cut.join(', ')}` : 'worst region';
      setCard('sum-replication', seconds(worst / 1000), sub, worst >= 60000 ? 'bad' : worst >= 5000 || cut.length ? 'warn' : 'good');
    } else {
      box.appendChild(noData(replication.reason));
      setCard('sum-replication', '—', 'no regions yet');
    }
  }

  function seriesOf(field) {
    const byName = new Map();
    for (const p of points) {
      for (const [name, value] of Object.entries(p[field])) {
        if (!byName.has(name)) byName.set(name, []);
        byName.get(name).push([p.atMs, value]);
      }
    }
    return [...byName.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, pts]) => ({ name, points: pts }));
  }

  function renderCharts(view) {
    const nowMs = Date.parse(view.generatedAt);
    // The window grows with the history this page has, from a minute up to CHART_WINDOW_MS.
    const span = points.length > 0 ? nowMs - points[0].atMs : 0;
    const windowMs = Math.min(CHART_WINDOW_MS, Math.max(CHART_MIN_WINDOW_MS, span));
    const common = { nowMs, windowMs, intervalMs: view.history.intervalMs };
    const trafficEmpty = view.traffic.available ? 'no requests yet' : `no data: ${view.traffic.reason}`;
    window.CairnCharts.draw($('chart-rps'), { ...common, label: 'requests per second', series: seriesOf('requestsPerSecond'), format: (v) => `${v.toFixed(v >= 100 ? 0 : v >= 1 || v === 0 ? 1 : 2)}/s`, empty: trafficEmpty });
    window.CairnCharts.draw($('chart-p99'), { ...common, label: 'p99 latency', series: seriesOf('p99Ms'), format: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(v >= 10 ? 0 : 1)} ms`), empty: trafficEmpty });
    window.CairnCharts.draw($('chart-jobs'), { ...common, label: 'bytes per second moved or verified', series: seriesOf('jobBytesPerSecond'), format: (v) => `${bytes(v)}/s`, empty: view.jobs.available ? 'no job is moving bytes' : `no data: ${view.jobs.reason}` });
    window.CairnCharts.draw($('chart-loop'), { ...common, label: 'event-loop lag', series: seriesOf('eventLoopLagMs'), format: (v) => `${v.toFixed(v >= 10 ? 0 : 1)} ms`, empty: 'no heartbeats yet' });
  }

  function render(view) {
    for (const p of view.history.points) if (lastPointAtMs === undefined || p.atMs > lastPointAtMs) points.push(p);
    if (points.length > 0) lastPointAtMs = points[points.length - 1].atMs;
    const nowMs = Date.parse(view.generatedAt);
    points = points.filter((p) => p.atMs >= nowMs - CHART_WINDOW_MS);
    renderRegions(view);
    renderNodes(view, nowMs);
    renderInstances(view, nowMs);
    renderAlerts(view, nowMs);
    renderJobs(view);
    renderLag(view);
    renderFailover(view, nowMs);
    renderDrills(view, nowMs);
    renderCharts(view);
    $('updated').textContent = `updated ${new Date(nowMs).toLocaleTimeString('en-GB')}`;
    document.body.dataset.generatedAt = view.generatedAt;
  }

  // ---------------------------------------------------------------------------------------------
  // connection

  function setConnection(state, text) {
    const node = $('connection');
    node.className = `badge ${state}`;
    node.dataset.state = state;
    node.textContent = text;
  }

  async function poll() {
    const mine = generation;
    let next = POLL_INTERVAL_MS;
    try {
      const url = `/api/dashboard${lastPointAtMs === undefined ? '' : `?since=${lastPointAtMs}`}`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
      if (mine !== generation) return;
      if (res.status === 401 || res.status === 403) {
        const body = await res.json().catch(() => ({}));
        signOut(`The token was refused (${body.message || res.status}).`);
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const view = await res.json();
      if (mine !== generation) return;
      render(view);
      setConnection('connected', 'live');
    } catch (error) {
      if (mine !== generation) return;
      setConnection('disconnected', `disconnected: ${error instanceof Error ? error.message : String(error)}; retrying`);
      next = POLL_INTERVAL_MS * 2;
    }
    timer = setTimeout(poll, document.hidden ? Math.max(next, HIDDEN_POLL_INTERVAL_MS) : next);
  }

  function showDashboard() {
    $('sign-in').hidden = true;
    $('dashboard').hidden = false;
    $('sign-out').hidden = false;
  }

  function signOut(message) {
    generation++;
    clearTimeout(timer);
    token = null;
    points = [];
    lastPointAtMs = undefined;
    sessionStorage.removeItem(TOKEN_KEY);
    $('dashboard').hidden = true;
    $('sign-out').hidden = true;
    $('sign-in').hidden = false;
    $('sign-in-error').textContent = message || '';
    setConnection('unknown', 'not connected');
  }

  function start() {
    token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      signOut('');
      return;
    }
    showDashboard();
    setConnection('stale', 'connecting…');
    poll();
  }

  /** #token=… is taken into sessionStorage and removed from the address bar (and so from history). */
  function takeTokenFromFragment() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const fromUrl = fragment.get('token');
    if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  }

  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    $('token-input').value = '';
    sessionStorage.setItem(TOKEN_KEY, value);
    start();
  });
  $('sign-out').addEventListener('click', () => signOut('Signed out.'));
  document.addEventListener('visibilitychange', () => {
    if (document.hidden || !token) return;
    generation++;
    clearTimeout(timer);
    poll();
  });
  window.addEventListener('hashchange', () => {
    takeTokenFromFragment();
    generation++;
    clearTimeout(timer);
    start();
  });

  takeTokenFromFragment();
  start();
})();
