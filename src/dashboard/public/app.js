// The Keepwire dashboard: four views over the admin API, live through /v1/events.
import { api, streamEvents, token } from './api.js';
import { drawLines } from './charts.js';
import { $, age, bytes, fillTable, setStatus } from './dom.js';

const STATES = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'FIN_WAIT2', 'SYN_RECV', 'LISTEN'];
const state = { history: [], view: 'connections', stream: undefined };

// --- Connections -----------------------------------------------------------

function drawStates() {
  const series = {};
  for (const name of STATES) series[name] = state.history.map((s) => [s.at, s.states[name] ?? 0]);
  drawLines($('#states-chart'), series, $('#states-legend'));
  // CLOSE-WAIT on its own scale: a leak of a few sockets is flat next to thousands in TIME-WAIT.
  drawLines($('#close-wait-chart'), { CLOSE_WAIT: series.CLOSE_WAIT }, undefined, {
    height: 140,
    firstColour: STATES.indexOf('CLOSE_WAIT'),
  });
}

// close-wait-leak findings come per process and peer; the table shows one row per process.
function holders(findings) {
  const byPid = new Map();
  for (const f of findings) {
    if (f.kind !== 'close-wait-leak') continue;
    const key = f.pid ?? `? ${f.process}`;
    const row = byPid.get(key) ?? {
      pid: f.pid,
      process: f.process,
      count: 0,
      ageMs: 0,
      peers: [],
      severity: 'warn',
    };
    row.count += f.count;
    row.ageMs = Math.max(row.ageMs, f.oldestAgeMs, f.oldestHeldMs ?? 0);
    row.peers.push(f.remote);
    if (f.severity === 'critical') row.severity = 'critical';
    byPid.set(key, row);
  }
  return [...byPid.values()]
    .sort((a, b) => b.count - a.count)
    .map((r) => ({
      cells: [
        r.process ?? '?',
        r.pid ?? '-',
        r.count,
        age(r.ageMs),
        r.peers.length > 3
          ? `${r.peers.slice(0, 3).join(', ')} and ${r.peers.length - 3} more`
          : r.peers.join(', '),
      ],
      className: r.severity,
      data: { pid: String(r.pid ?? '') },
    }));
}

// The destinations with the most TIME-WAIT sockets against the ephemeral port range
// (each destination can take at most that many connections at once from this host).
function timeWaitRows(groups, findings, sysctl) {
  const range = sysctl.checks.find((c) => c.name === 'net.ipv4.ip_local_port_range')?.value;
  const size = Array.isArray(range) ? range[1] - range[0] + 1 : undefined;
  const flagged = new Map();
  for (const f of findings)
    if (f.kind === 'time-wait-pressure') flagged.set(f.remote ?? `local port ${f.localPort}`, f);
  const rows = groups.map((g) => ({
    remote: g.remote,
    count: g.count,
    finding: flagged.get(g.remote),
  }));
  for (const [remote, f] of flagged)
    if (!rows.some((r) => r.remote === remote)) rows.push({ remote, count: f.count, finding: f });
  return rows.map((r) => ({
    cells: [
      r.remote,
      r.count,
      size ?? '?',
      size ? `${((r.count / size) * 100).toFixed(1)} %` : '-',
    ],
    className: r.finding?.severity ?? '',
  }));
}

async function loadConnections() {
  const noSamples = (fallback) => (e) =>
    e.code === 'WATCH_NO_SAMPLES' || e.status === 404 ? fallback : Promise.reject(e);
  const [findings, sysctl, ledger, timeWait] = await Promise.all([
    api('/v1/sockets/findings').catch(noSamples({ findings: [] })),
    api('/v1/sysctl'),
    api('/v1/ledger'),
    api('/v1/sockets?by=remote&state=time-wait&top=10').catch(noSamples({ groups: [] })),
  ]);
  fillTable('holders', holders(findings.findings), 'no process holds CLOSE-WAIT sockets');
  fillTable(
    'time-wait',
    timeWaitRows(timeWait.groups ?? [], findings.findings, sysctl),
    'no TIME-WAIT socket',
  );
  const others = findings.findings.filter(
    (f) => f.kind !== 'close-wait-leak' && f.kind !== 'time-wait-pressure',
  );
  const list = $('#findings');
  list.replaceChildren(
    ...(others.length
      ? others
      : [{ kind: 'none', severity: 'info', evidence: 'no other finding' }]
    ).map((f) => {
      const li = document.createElement('li');
      li.className = f.severity;
      li.textContent = `${f.kind}: ${f.evidence}${f.advice ? ` — ${f.advice}` : ''}`;
      return li;
    }),
  );
  fillTable(
    'sysctl',
    sysctl.checks.map((c) => ({
      cells: [
        c.name,
        Array.isArray(c.value) ? c.value.join('-') : (c.value ?? 'unreadable'),
        c.status,
        c.status === 'ok' || c.status === 'absent' ? '' : c.advice,
      ],
      className: c.status,
    })),
    'no settings read',
  );
  fillTable(
    'ledger',
    ledger.sinks.map((s) => ({
      cells: [
        s.sink,
        s.opened,
        s.open,
        `${s.reused} of ${s.requests}`,
        Object.entries(s.closed)
          .filter(([, n]) => n > 0)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ') || 'none',
      ],
    })),
    'no sink keeps a connection pool',
  );
}

// --- Shipping --------------------------------------------------------------

async function loadShipping() {
  // The rates come from the server's history (the last hour on the watcher's
  // cadence), so the chart is full as soon as the page opens.
  const [pipeline, history] = await Promise.all([api('/v1/pipeline'), api('/v1/pipeline/history')]);
  const samples = history.samples.map((sample) => ({ at: Date.parse(sample.takenAt), sample }));
  const rate = (pick) => {
    const out = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1];
      const b = samples[i];
      out.push([b.at, Math.max(0, (pick(b.sample) - pick(a.sample)) / ((b.at - a.at) / 1000))]);
    }
    return out;
  };
  const lastRate = (series) => (series.at(-1)?.[1] ?? 0).toFixed(1);
  const series = {};
  for (const s of pipeline.sources)
    series[`in ${s.source}`] = rate((h) => h.sources[s.source]?.received ?? 0);
  for (const s of pipeline.sinks) series[`out ${s.sink}`] = rate((h) => h.sinks[s.sink]?.sent ?? 0);
  drawLines($('#rate-chart'), series, $('#rate-legend'));
  fillTable(
    'sources',
    pipeline.sources.map((s) => ({
      cells: [
        s.source,
        s.received,
        bytes(s.receivedBytes),
        s.rejected,
        lastRate(series[`in ${s.source}`]),
      ],
    })),
    'no source',
  );
  fillTable(
    'sinks',
    pipeline.sinks.map((s) => {
      const down = pipeline.endpoints.filter((e) => e.sink === s.sink && !e.healthy).length;
      const health = down
        ? `${down} endpoint(s) down`
        : s.retries > 0 && s.bufferEvents > 0
          ? 'retrying'
          : 'ok';
      return {
        cells: [
          s.sink,
          s.sent,
          lastRate(series[`out ${s.sink}`]),
          s.bufferEvents,
          bytes(s.bufferBytes),
          s.retries,
          s.deadLettered,
          s.dropped,
          health,
        ],
        className: health === 'ok' ? 'ok' : 'warn',
      };
    }),
    'no sink',
  );
  fillTable(
    'endpoints',
    pipeline.endpoints.map((e) => ({
      cells: [e.sink, e.endpoint, e.healthy ? 'healthy' : 'down'],
      className: e.healthy ? 'ok' : 'critical',
    })),
    'no sink reports endpoints',
  );
}

// --- Commands and agents ---------------------------------------------------

function parseTarget(text) {
  const match = /^(agent|group|component):(.+)$/.exec(text.trim());
  if (!match) throw new Error('target is agent:ID, group:NAME or component:NAME');
  return { type: match[1], id: match[2] };
}

async function loadCommands() {
  const status = $('#status-filter').value;
  const [commands, agents] = await Promise.all([
    api(`/v1/commands?limit=50${status ? `&status=${encodeURIComponent(status)}` : ''}`),
    api('/v1/agents'),
  ]);
  const names = new Map(agents.agents.map((a) => [a.id, a.name]));
  fillTable(
    'commands',
    commands.commands.map((c) => ({
      cells: [
        new Date(c.createdAt).toLocaleTimeString(),
        c.target.type === 'agent'
          ? `agent:${names.get(c.target.id) ?? c.target.id}`
          : `${c.target.type}:${c.target.id}`,
        c.action.name,
        c.status,
        c.result ? (c.result.message ?? `code ${c.result.code}`) : '',
      ],
      className: `status-${c.status}`,
      data: { id: c.id, status: c.status },
    })),
    status ? `no ${status} command` : 'no command yet',
  );
  fillTable(
    'agents',
    agents.agents.map((a) => ({
      cells: [
        a.name,
        a.id,
        a.connected ? 'connected' : 'away',
        a.lastSeenAt ? new Date(a.lastSeenAt).toLocaleString() : 'never',
        (a.groups ?? []).join(', '),
      ],
      className: a.connected ? 'ok' : 'away',
      data: { target: `agent:${a.id}` },
    })),
    'no agent enrolled (keepwire agents enroll NAME)',
  );
  return agents;
}

async function createCommand(event) {
  event.preventDefault();
  const output = $('#cmd-result');
  try {
    const args = JSON.parse($('#cmd-args').value || '{}');
    const body = {
      target: parseTarget($('#cmd-target').value),
      action: { name: $('#cmd-action').value.trim(), args },
      timeoutS: Number($('#cmd-timeout').value),
    };
    const created = await api('/v1/commands', { method: 'POST', body });
    output.textContent = `created ${created.commands.length} command(s)`;
    output.className = 'ok';
    await loadCommands();
  } catch (error) {
    output.textContent = error.message;
    output.className = 'critical';
  }
}

// --- Fleet -----------------------------------------------------------------

async function loadFleet() {
  const [commands, agents] = await Promise.all([
    api('/v1/commands?action=sockets.diagnose&status=success&limit=1000'),
    api('/v1/agents'),
  ]);
  const latest = new Map();
  for (const c of commands.commands)
    if (c.target.type === 'agent' && !latest.has(c.target.id)) latest.set(c.target.id, c);
  fillTable(
    'fleet',
    agents.agents.map((a) => {
      const c = latest.get(a.id);
      const findings = c?.result?.data?.findings ?? [];
      const closeWait = findings
        .filter((f) => f.kind === 'close-wait-leak')
        .reduce((n, f) => n + f.count, 0);
      return {
        cells: [
          a.name,
          c ? new Date(c.finishedAt).toLocaleString() : 'never',
          c ? closeWait : '-',
          c
            ? findings.map((f) => `${f.kind} (${f.count})`).join(', ') || 'none'
            : 'send it a sockets.diagnose command',
        ],
        className: closeWait > 0 ? 'warn' : c ? 'ok' : 'away',
      };
    }),
    'no agent enrolled',
  );
}

// --- Wiring ----------------------------------------------------------------

const LOADERS = {
  connections: loadConnections,
  shipping: loadShipping,
  commands: loadCommands,
  fleet: loadFleet,
};

async function refresh(view = state.view) {
  try {
    await LOADERS[view]();
  } catch (error) {
    setStatus(error.status === 401 ? 'admin token refused' : error.message, true);
  }
}

function show(view) {
  state.view = view;
  for (const button of document.querySelectorAll('nav button'))
    button.toggleAttribute('aria-current', button.dataset.view === view);
  for (const section of document.querySelectorAll('.view'))
    section.hidden = section.id !== `view-${view}`;
  if (view === 'connections') drawStates();
  refresh(view);
}

async function connect() {
  state.stream?.abort();
  if (!token.get()) return setStatus('not connected');
  try {
    // With the watcher disabled there is no history: the chart stays empty.
    const history = await api('/v1/sockets/history').catch((e) =>
      e.status === 404 ? { samples: [] } : Promise.reject(e),
    );
    state.history = history.samples.map((s) => ({ at: Date.parse(s.takenAt), states: s.states }));
  } catch (error) {
    return setStatus(error.status === 401 ? 'admin token refused' : error.message, true);
  }
  drawStates();
  setStatus('live');
  const controller = new AbortController();
  state.stream = controller;
  refresh();
  streamEvents((name, data) => {
    if (name === 'sample') {
      state.history.push({ at: data.takenAt, states: data.states });
      while (state.history.length > 720) state.history.shift();
      if (state.view === 'connections') drawStates();
      // Agents connect and leave without a command changing, and the shipping
      // history gains a point per sample: each sample refreshes the view shown.
      refresh();
    } else if (name === 'commands' && (state.view === 'commands' || state.view === 'fleet'))
      refresh();
  }, controller.signal)
    .then(() => setStatus('stream ended; reconnect with the token', true))
    .catch((error) => {
      if (!controller.signal.aborted) setStatus(`stream: ${error.message}`, true);
    });
}

$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token.set($('#token').value.trim());
  $('#token').value = '';
  connect();
});
for (const button of document.querySelectorAll('nav button'))
  button.addEventListener('click', () => show(button.dataset.view));
$('#command-form').addEventListener('submit', createCommand);
$('#status-filter').addEventListener('change', () => refresh('commands'));
$('#agents tbody').addEventListener('click', (event) => {
  const row = event.target.closest('tr');
  if (row?.dataset.target) $('#cmd-target').value = row.dataset.target;
});
window.addEventListener('resize', () => state.view === 'connections' && drawStates());
connect();
