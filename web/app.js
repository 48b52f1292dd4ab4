// The entity graph page of causeway serve. It reads everything through the service's API
// (Vitrage's topology, RCA and causeway's executions, workflows and explanations), redraws when
// the event stream says something changed, and keeps the user's selection, zoom and filters
// across redraws. No build step: this file is served as written.
'use strict';

(() => {
  // Above this many elements, resources that are healthy and out of focus are collapsed into a
  // count on the vertex that contains them, so a large cloud stays readable.
  const COLLAPSE_AT = 400;
  const SEVERITY_ORDER = ['CRITICAL', 'SEVERE', 'MAJOR', 'WARNING', 'MINOR', 'INFO', 'OK', 'N/A'];
  const FINAL = ['SUCCESS', 'ERROR', 'CANCELLED', 'REFUSED'];
  // What stays drawn in a collapsed graph, in the order a large graph's grid lists it.
  const STRUCTURE = ['openstack.cluster', 'nova.zone', 'nova.host'];

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, props = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k in e) e[k] = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  };

  const state = {
    nodes: new Map(), // vitrage_id -> vertex properties
    edges: [], // {source, target, type}
    executions: [],
    mistralConfigured: null,
    selected: null, // vitrage_id
    focus: null, // vitrage_id whose neighbourhood is shown
    hiddenTypes: new Set(),
    rca: null, // {alarms: Set, edges: Set}
    laidOut: false,
    userMoved: false, // the user zoomed or panned: a redraw must not move the viewport
  };

  // ---- connection settings, kept for this browser tab only ----
  const settings = () => JSON.parse(sessionStorage.getItem('causeway') || '{}');
  function loadSettings() {
    const s = settings();
    for (const k of ['token', 'project', 'user', 'roles']) if (s[k] != null) $('#' + k).value = s[k];
    if (s.allTenants != null) $('#all-tenants').checked = s.allTenants;
  }
  function saveSettings() {
    sessionStorage.setItem('causeway', JSON.stringify({
      token: $('#token').value, project: $('#project').value, user: $('#user').value,
      roles: $('#roles').value, allTenants: $('#all-tenants').checked,
    }));
  }
  const allTenants = () => $('#all-tenants').checked;
  const tenantQuery = () => (allTenants() ? 'all_tenants=true' : '');

  // ---- the API: every failure becomes a sentence ----
  class ApiFailure extends Error {}
  async function api(path, options = {}) {
    const s = settings();
    const headers = { Accept: 'application/json', 'X-Project-Id': s.project ?? 'admin',
      'X-User-Id': s.user ?? 'operator', 'X-Roles': s.roles ?? 'admin' };
    if (s.token) headers['X-Auth-Token'] = s.token;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method: options.method || 'GET', headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    } catch (e) {
      throw new ApiFailure(`causeway is unreachable (${e.message}).`);
    }
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (!response.ok) {
      const why = (body && (body.description || body.title)) || text || response.statusText;
      const hint = response.status === 401 ? ' Enter the auth token under Connection.' : '';
      throw new ApiFailure(`${options.what || path}: ${response.status} ${why}${hint}`);
    }
    return body;
  }

  function showError(message) {
    const box = $('#error');
    box.textContent = message;
    box.hidden = !message;
  }
  function showNotice(message) {
    const box = $('#notice');
    box.textContent = message || '';
    box.hidden = !message;
  }

  // ---- the graph ----
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  function graphStyle() {
    const sev = (s) => ({ CRITICAL: css('--critical'), SEVERE: css('--critical'),
      MAJOR: css('--major'), WARNING: css('--warning'), MINOR: css('--warning'),
      INFO: css('--info'), OK: css('--ok') }[s] || css('--info'));
    const styles = [
      { selector: 'node', style: { label: 'data(label)', 'font-size': 11, color: css('--fg'),
        'text-valign': 'bottom', 'text-margin-y': 4, 'background-color': css('--node'),
        'border-width': 1.5, 'border-color': css('--node-line'), width: 26, height: 26,
        'text-wrap': 'wrap', 'text-max-width': 120 } },
      { selector: 'node[type = "nova.host"]', style: { shape: 'round-rectangle', width: 40 } },
      { selector: 'node[type = "nova.instance"]', style: { shape: 'ellipse' } },
      { selector: 'node[type = "heat.stack"]', style: { shape: 'hexagon' } },
      { selector: 'node[type ^= "neutron"]', style: { shape: 'diamond', width: 18, height: 18 } },
      // Ports are many and their names repeat their instance's: named only when looked at.
      { selector: 'node[type = "neutron.port"]', style: { label: '' } },
      { selector: 'node[type = "neutron.port"]:selected, node[type = "neutron.port"].match', style: { label: 'data(label)' } },
      { selector: 'node.alarm', style: { shape: 'triangle', width: 20, height: 18, 'font-size': 10 } },
      { selector: 'node[state = "ERROR"]', style: { 'border-color': css('--critical'), 'border-width': 4 } },
      { selector: 'node[state = "SUBOPTIMAL"]', style: { 'border-color': css('--warning'), 'border-width': 4 } },
      { selector: 'node.down', style: { 'border-style': 'dashed' } },
      { selector: 'node.exec-running', style: { 'outline-width': 3, 'outline-color': css('--info') } },
      { selector: 'node.exec-success', style: { 'outline-width': 3, 'outline-color': css('--ok') } },
      { selector: 'node.exec-error', style: { 'outline-width': 3, 'outline-color': css('--critical') } },
      { selector: 'edge', style: { width: 1.2, 'line-color': css('--edge'), 'curve-style': 'bezier',
        'target-arrow-shape': 'triangle', 'target-arrow-color': css('--edge'), 'arrow-scale': 0.7 } },
      { selector: 'edge[type = "on"]', style: { 'line-style': 'dotted' } },
      { selector: 'edge[type = "causes"]', style: { 'line-style': 'dashed', 'line-color': css('--critical'),
        'target-arrow-color': css('--critical') } },
      { selector: '.match', style: { 'underlay-color': css('--accent'), 'underlay-opacity': 0.35, 'underlay-padding': 6 } },
      { selector: 'node.rca', style: { 'underlay-color': css('--focus'), 'underlay-opacity': 0.5, 'underlay-padding': 7 } },
      { selector: 'edge.rca', style: { 'line-color': css('--focus'), 'target-arrow-color': css('--focus'), width: 3, 'z-index': 9 } },
      { selector: ':selected', style: { 'border-color': css('--accent'), 'border-width': 5 } },
      { selector: '.dim', style: { opacity: 0.25 } },
    ];
    for (const s of SEVERITY_ORDER) {
      styles.push({ selector: `node.alarm[severity = "${s}"]`, style: { 'background-color': sev(s) } });
    }
    return styles;
  }

  const cy = cytoscape({ container: $('#graph'), style: graphStyle(), wheelSensitivity: 0.3,
    minZoom: 0.05, maxZoom: 4 });
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => cy.style(graphStyle()));

  const props = (id) => state.nodes.get(id) || {};
  const isAlarm = (p) => p.vitrage_category === 'ALARM';
  const nameOf = (p) => p.name || p.id || p.vitrage_id;
  const stateOf = (p) => p.vitrage_aggregated_state || p.state || '';
  // Vitrage's operational state is OK, SUBOPTIMAL or ERROR whatever the datasource's words.
  const troubleOf = (p) => (['ERROR', 'SUBOPTIMAL'].includes(p.vitrage_operational_state) ? p.vitrage_operational_state : '');
  const severityOf = (p) => p.vitrage_operational_severity || p.severity || 'N/A';

  // The host an instance runs on: the nova.host that contains it.
  function hostOf(id) {
    const e = state.edges.find((x) => x.type === 'contains' && x.target === id &&
      props(x.source).vitrage_type === 'nova.host');
    return e ? props(e.source) : null;
  }

  function latestExecution(resourceId) {
    let last = null;
    for (const x of state.executions) if ((x.resource_ids || []).includes(resourceId)) last = x;
    return last;
  }

  // What is drawn: everything, less hidden types, less (in a large graph) the healthy leaves out
  // of focus, each counted on the vertex that contains it.
  function visibleIds() {
    let ids = [...state.nodes.keys()].filter((id) => !state.hiddenTypes.has(props(id).vitrage_type));
    if (state.focus && state.nodes.has(state.focus)) {
      const near = neighbourhood(state.focus, 2);
      return { shown: new Set(ids.filter((id) => near.has(id))), collapsed: new Map() };
    }
    const collapsed = new Map();
    state.large = ids.length + state.edges.length > COLLAPSE_AT;
    let elsewhere = 0;
    if (state.large) {
      const withAlarm = new Set([...state.nodes.values()].filter(isAlarm).map((a) => a.vitrage_resource_id));
      const parent = new Map(state.edges.filter((e) => e.type === 'contains').map((e) => [e.target, e.source]));
      ids = ids.filter((id) => {
        const p = props(id);
        const quiet = !isAlarm(p) && !withAlarm.has(id) && !troubleOf(p) && !p.is_marked_down &&
          id !== state.selected && !STRUCTURE.includes(p.vitrage_type);
        if (quiet && parent.has(id)) collapsed.set(parent.get(id), (collapsed.get(parent.get(id)) || 0) + 1);
        else if (quiet) elsewhere++;
        return !quiet;
      });
    }
    const hidden = [...collapsed.values()].reduce((a, b) => a + b, 0) + elsewhere;
    $('#collapsed-note').textContent = hidden
      ? `${hidden} healthy resources are collapsed (counted on their host). Search, or focus on a resource, to see them.` : '';
    return { shown: new Set(ids), collapsed };
  }
  function neighbourhood(id, hops) {
    const near = new Set([id]);
    let frontier = [id];
    for (let i = 0; i < hops; i++) {
      const next = [];
      for (const e of state.edges) {
        for (const [a, b] of [[e.source, e.target], [e.target, e.source]]) {
          if (frontier.includes(a) && !near.has(b)) { near.add(b); next.push(b); }
        }
      }
      frontier = next;
    }
    // A resource's alarms always come with it.
    for (const p of state.nodes.values()) if (isAlarm(p) && near.has(p.vitrage_resource_id)) near.add(p.vitrage_id);
    return near;
  }

  function nodeData(id, collapsed) {
    const p = props(id);
    let label = nameOf(p);
    if (isAlarm(p)) label = `${p.name} (${severityOf(p)})`;
    else {
      if (troubleOf(p)) label += `\n${stateOf(p)}`;
      if (p.is_marked_down) label += ' · down';
      const x = latestExecution(id);
      if (x) label += `\n${x.workflow}: ${x.state}`;
      if (collapsed.get(id)) label += `\n(+${collapsed.get(id)} more)`;
    }
    return { id, label, type: p.vitrage_type, state: troubleOf(p), severity: severityOf(p) };
  }
  function nodeClasses(id) {
    const p = props(id);
    const classes = [];
    if (isAlarm(p)) classes.push('alarm');
    if (p.is_marked_down) classes.push('down');
    const x = latestExecution(id);
    if (x) {
      if (x.state === 'SUCCESS') classes.push('exec-success');
      else if (FINAL.includes(x.state)) classes.push('exec-error');
      else classes.push('exec-running');
    }
    if (state.rca && (state.rca.alarms.has(id) || state.rca.resources.has(id))) classes.push('rca');
    return classes.join(' ');
  }

  // Brings the drawing up to date in place: the elements that stay keep their position and
  // selection, new alarms appear beside their resource, and the zoom is never touched.
  function draw() {
    const { shown, collapsed } = visibleIds();
    const edgeId = (e) => `${e.source}|${e.type}|${e.target}`;
    const edges = state.edges.filter((e) => shown.has(e.source) && shown.has(e.target));
    const edgeIds = new Set(edges.map(edgeId));
    let added = 0;
    cy.batch(() => {
      cy.elements().forEach((x) => {
        if (x.isNode() ? !shown.has(x.id()) : !edgeIds.has(x.id())) cy.remove(x);
      });
      for (const id of shown) {
        const data = nodeData(id, collapsed);
        const existing = cy.getElementById(id);
        if (existing.nonempty()) {
          existing.data(data);
          existing.classes(nodeClasses(id));
        } else {
          const p = props(id);
          const anchor = cy.getElementById(p.vitrage_resource_id || '');
          const position = anchor.nonempty()
            ? { x: anchor.position('x') + 40 + Math.random() * 20, y: anchor.position('y') - 40 }
            : undefined;
          cy.add({ group: 'nodes', data, classes: nodeClasses(id), position });
          added++;
        }
      }
      for (const e of edges) {
        if (cy.getElementById(edgeId(e)).empty()) {
          cy.add({ group: 'edges', data: { id: edgeId(e), source: e.source, target: e.target, type: e.type } });
        }
      }
    });
    if (!state.laidOut || added > 0) layout(!state.laidOut || !state.userMoved);
    state.laidOut = true;
    const inChain = (e) => state.rca && e.data('type') === 'causes' &&
      state.rca.alarms.has(e.data('source')) && state.rca.alarms.has(e.data('target'));
    cy.edges().forEach((e) => e.toggleClass('rca', inChain(e)));
    document.body.dataset.nodes = String(cy.nodes().length);
    markMatches();
  }

  // A layered drawing (dagre) shows containment and causes; a collapsed large graph is a
  // hundred hosts wide, so it is laid out as a grid in structural order instead.
  function layout(fit) {
    const rank = (n) => {
      const p = props(n.id());
      const i = STRUCTURE.indexOf(p.vitrage_type);
      return i >= 0 ? i : isAlarm(p) ? STRUCTURE.length + 1 : STRUCTURE.length;
    };
    const byStructure = (a, b) => rank(a) - rank(b) || String(a.data('label')).localeCompare(String(b.data('label')), undefined, { numeric: true });
    const options = state.large && !state.focus
      ? { name: 'grid', sort: byStructure, fit, padding: 20, avoidOverlap: true, animate: false }
      : { name: 'dagre', rankDir: 'TB', nodeSep: 18, rankSep: 60, fit, padding: 20, animate: false };
    cy.layout(options).run();
  }

  function refit() {
    state.laidOut = false;
    state.userMoved = false;
    draw();
  }

  // ---- reading the service ----
  async function loadGraph() {
    const topology = await api('/v1/topology', { method: 'POST', body: { all_tenants: allTenants() },
      what: 'Reading the topology' });
    const nodes = topology.nodes || [];
    state.nodes = new Map(nodes.map((n) => [n.vitrage_id, n]));
    state.edges = (topology.links || topology.edges || [])
      .filter((l) => !l.vitrage_is_deleted && nodes[l.source] && nodes[l.target])
      .map((l) => ({ source: nodes[l.source].vitrage_id, target: nodes[l.target].vitrage_id, type: l.relationship_type }));
    updateTypes();
    draw();
    renderAlarmList();
    renderSelection(false);
  }

  async function loadExecutions() {
    const answer = await api('/v1/causeway/executions', { what: 'Reading the executions' });
    state.executions = answer.executions || [];
    state.mistralConfigured = answer.mistral ? answer.mistral.configured : null;
    showNotice(state.mistralConfigured === false
      ? 'No Mistral is configured (causeway serve --mistral-url): workflow runs stay PENDING.' : '');
    renderExecutions();
    draw();
    renderSelection(false);
  }

  // Reads are coalesced: whatever the stream announces while one read is waiting or running
  // is fetched by the next, which waits at least twice as long as the last read took, so a
  // busy cloud never keeps the page busier than half the time.
  let pending = { graph: false, executions: false };
  let timer = null;
  let running = false;
  let lastRead = 0;
  function refresh(what) {
    pending[what] = true;
    if (timer || running) return;
    timer = setTimeout(async () => {
      const todo = pending;
      pending = { graph: false, executions: false };
      timer = null;
      running = true;
      const began = performance.now();
      try {
        if (todo.graph) await loadGraph();
        if (todo.executions) await loadExecutions();
        showError('');
        document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      } catch (e) {
        showError(e.message);
      }
      lastRead = performance.now() - began;
      running = false;
      if (pending.graph) refresh('graph');
      if (pending.executions) refresh('executions');
    }, Math.max(80, 2 * lastRead));
  }

  function listen() {
    const token = settings().token;
    const url = '/v1/causeway/stream' + (token ? `?token=${encodeURIComponent(token)}` : '');
    const source = new EventSource(url);
    const live = $('#live');
    source.addEventListener('hello', () => {
      live.textContent = 'live'; live.className = 'live on';
      refresh('graph'); refresh('executions');
    });
    source.addEventListener('graph', () => { refresh('graph'); refresh('executions'); });
    source.addEventListener('alarm', () => refresh('graph'));
    source.addEventListener('execution', () => refresh('executions'));
    source.addEventListener('resync', () => { refresh('graph'); refresh('executions'); });
    source.onerror = () => {
      live.textContent = 'disconnected: retrying'; live.className = 'live off';
      refresh('graph'); // its answer says why, if the service refuses
    };
    return source;
  }

  // ---- side lists ----
  function updateTypes() {
    const types = [...new Set([...state.nodes.values()].map((p) => p.vitrage_type))].sort();
    const box = $('#types');
    const have = new Set([...box.querySelectorAll('input')].map((i) => i.value));
    for (const t of types) {
      if (have.has(t)) continue;
      const input = el('input', { type: 'checkbox', value: t, checked: !state.hiddenTypes.has(t) });
      input.addEventListener('change', () => {
        if (input.checked) state.hiddenTypes.delete(t); else state.hiddenTypes.add(t);
        draw();
      });
      box.append(el('label', {}, input, ' ', t));
    }
  }

  function pickButton(id, text) {
    const b = el('button', { type: 'button', dataset: { id } }, text);
    b.addEventListener('click', () => select(id, true));
    return b;
  }

  function renderAlarmList() {
    const alarms = [...state.nodes.values()].filter(isAlarm)
      .sort((a, b) => SEVERITY_ORDER.indexOf(severityOf(a)) - SEVERITY_ORDER.indexOf(severityOf(b)) || nameOf(a).localeCompare(nameOf(b)));
    const list = $('#alarm-list');
    list.replaceChildren(...alarms.map((a) => {
      const resource = props(a.vitrage_resource_id);
      const b = pickButton(a.vitrage_id, '');
      b.append(el('span', { className: `sev sev-${severityOf(a)}` }, severityOf(a)), ` ${a.name} on ${nameOf(resource)}`);
      Object.assign(b.dataset, { name: a.name, resource: resource.id || '' });
      return el('li', {}, b);
    }));
    if (!alarms.length) list.append(el('li', { className: 'hint' }, 'none'));
  }

  function matches(text) {
    const t = text.trim().toLowerCase();
    if (!t) return [];
    return [...state.nodes.values()].filter((p) => [p.name, p.id, p.vitrage_id]
      .some((v) => typeof v === 'string' && v.toLowerCase().includes(t)));
  }
  function markMatches() {
    const found = new Set(matches($('#search').value).map((p) => p.vitrage_id));
    cy.nodes().forEach((n) => n.toggleClass('match', found.has(n.id())));
  }
  function renderResults() {
    const found = matches($('#search').value).slice(0, 30);
    $('#results').replaceChildren(...found.map((p) => el('li', {}, pickButton(p.vitrage_id,
      `${nameOf(p)} · ${p.vitrage_type}`))));
    markMatches();
  }

  // ---- selection and details ----
  function select(id, center) {
    state.selected = id;
    if (state.focus && id && !visibleIds().shown.has(id)) state.focus = null;
    draw();
    cy.elements(':selected').unselect();
    const node = cy.getElementById(id || '');
    if (node.nonempty()) {
      node.select();
      const box = cy.extent();
      const at = node.position();
      const outside = at.x < box.x1 || at.x > box.x2 || at.y < box.y1 || at.y > box.y2;
      if (center && outside) cy.center(node);
    }
    renderSelection(true);
    renderExecutions();
  }

  function renderSelection(fresh) {
    const box = $('#details');
    const p = state.selected && state.nodes.get(state.selected);
    if (!p) {
      if (state.selected) box.replaceChildren(el('p', { className: 'hint' }, 'The selected element is gone.'));
      if (state.rca) { state.rca = null; draw(); }
      return;
    }
    if (isAlarm(p)) {
      if (fresh) showAlarm(p);
      return;
    }
    if (state.rca) { state.rca = null; draw(); }
    showResource(p);
  }

  function facts(pairs) {
    const dl = el('dl');
    for (const [k, v] of pairs) if (v != null && v !== '') dl.append(el('dt', {}, k), el('dd', {}, String(v)));
    return dl;
  }

  function showResource(p) {
    const host = hostOf(p.vitrage_id);
    const run = el('button', { id: 'run-workflow', type: 'button' }, 'Run workflow…');
    run.addEventListener('click', () => openRunDialog(p));
    const focus = el('button', { id: 'focus', type: 'button' }, 'Focus on its neighbourhood');
    focus.addEventListener('click', () => { state.focus = p.vitrage_id; refit(); });
    const st = stateOf(p);
    const stateLine = el('span', { className: `state-${troubleOf(p)}` }, st);
    const mine = state.executions.filter((x) => (x.resource_ids || []).includes(p.vitrage_id));
    $('#details').replaceChildren(
      el('h2', {}, nameOf(p)),
      facts([['type', p.vitrage_type], ['id', p.id], ['vitrage_id', p.vitrage_id], ['project', p.project_id],
        ['host', host && nameOf(host)], ['marked down', p.is_marked_down ? 'yes' : null]]),
      el('p', { id: 'resource-state' }, 'state: ', stateLine),
      el('div', { className: 'buttons' }, focus, run),
      el('h2', {}, 'Executions on this resource'),
      mine.length ? el('ul', { id: 'resource-executions' }, ...mine.map((x) => el('li', {},
        `${x.workflow} (${x.origin}): `, el('span', { className: `state-${x.state}` }, x.state),
        x.state_info ? ` — ${x.state_info}` : ''))) : el('p', { className: 'hint' }, 'none'),
    );
  }

  async function showAlarm(p) {
    const resource = props(p.vitrage_resource_id);
    const box = $('#details');
    box.replaceChildren(
      el('h2', {}, p.name),
      facts([['severity', severityOf(p)], ['on', `${nameOf(resource)} (${resource.vitrage_type || '?'})`],
        ['type', p.vitrage_type], ['since', p.start_timestamp], ['vitrage_id', p.vitrage_id]]),
      el('h2', {}, 'Root cause chain (root first)'),
      el('ol', { id: 'rca-list' }, el('li', { className: 'hint' }, 'reading…')),
      el('h2', {}, 'Why it exists'),
      el('div', { id: 'why' }, el('p', { className: 'hint' }, 'reading…')),
    );
    const id = p.vitrage_id;
    try {
      const rca = await api(`/v1/rca/${encodeURIComponent(id)}?${tenantQuery()}`, { what: 'Reading the root cause' });
      if (state.selected !== id) return;
      renderRca(rca, id);
    } catch (e) {
      $('#rca-list').replaceChildren(el('li', { role: 'alert' }, e.message));
    }
    try {
      const why = await api(`/v1/causeway/explain/${encodeURIComponent(id)}?${tenantQuery()}`, { what: 'Reading the explanation' });
      if (state.selected !== id) return;
      renderWhy(why);
    } catch (e) {
      $('#why').replaceChildren(el('p', { role: 'alert' }, e.message));
    }
  }

  // The chain listed root first: the alarms no other alarm of the answer causes, then what
  // they cause, breadth first.
  function renderRca(rca, asked) {
    const nodes = rca.nodes || [];
    const links = (rca.links || rca.edges || []).filter((l) => nodes[l.source] && nodes[l.target]);
    const caused = new Set(links.map((l) => l.target));
    const order = [];
    const seen = new Set();
    let frontier = nodes.map((_, i) => i).filter((i) => !caused.has(i));
    while (frontier.length) {
      const next = [];
      for (const i of frontier) {
        if (seen.has(i)) continue;
        seen.add(i); order.push(i);
        for (const l of links) if (l.source === i && !seen.has(l.target)) next.push(l.target);
      }
      frontier = next;
    }
    nodes.forEach((_, i) => { if (!seen.has(i)) order.push(i); });
    const ids = nodes.map((n) => n.vitrage_id);
    state.rca = { alarms: new Set(ids), resources: new Set(nodes.map((n) => n.vitrage_resource_id)) };
    draw();
    $('#rca-list').replaceChildren(...order.map((i, rank) => {
      const n = nodes[i];
      const resource = props(n.vitrage_resource_id);
      const b = pickButton(n.vitrage_id, '');
      b.append(el('span', { className: `sev sev-${severityOf(n)}` }, severityOf(n)),
        ` ${n.name} on ${nameOf(resource)}${rank === 0 ? ' — root cause' : ''}`);
      return el('li', { className: n.vitrage_id === asked ? 'asked' : '', dataset: { name: n.name } }, b);
    }));
  }

  function renderWhy(why) {
    const box = $('#why');
    const parts = [el('p', {}, why.why)];
    if (why.caused_by && why.caused_by.length) {
      parts.push(el('p', {}, 'Caused by: ', why.caused_by.map((c) => `${c.name} on ${c.resource ? nameOf(c.resource) : '?'}`).join('; ')));
    }
    for (const s of why.scenarios || []) {
      const matched = (s.matched || []).map((m) => `${m.name || m.id} (${m.vitrage_type})`).join(', ');
      parts.push(facts([['template', s.template], ['scenario', s.scenario], ['condition', s.condition],
        ['action', s.action], ['matched', matched || null],
        ['in effect', s.in_effect === false ? 'no: another activation of the same alarm wins' : null],
        ['target entity', s.target_entity],
        ['bound to', why.alarm.resource ? `${s.target_entity} = ${nameOf(why.alarm.resource)}` : null],
        ['causing entity', s.causing_entity && `${s.causing_entity}${why.caused_by[0] ? ` = ${why.caused_by[0].name}` : ''}`],
        ['severity', s.severity]]));
    }
    if (why.deduced && !(why.scenarios || []).length) parts.push(el('p', { className: 'hint' }, 'No active template raises an alarm of this name any more.'));
    box.replaceChildren(...parts);
  }

  // ---- executions ----
  function renderExecutions() {
    const wanted = $('#exec-state').value;
    const origin = $('#exec-origin').value;
    const text = $('#exec-text').value.trim().toLowerCase();
    const only = $('#exec-selected').checked ? state.selected : null;
    const rows = state.executions.filter((x) => {
      const names = (x.resource_ids || []).map((r) => nameOf(props(r)) || r);
      return (!wanted || x.state === wanted) && (!origin || x.origin === origin) &&
        (!only || (x.resource_ids || []).includes(only)) &&
        (!text || x.workflow.toLowerCase().includes(text) || names.some((n) => String(n).toLowerCase().includes(text)));
    }).reverse();
    $('#executions').replaceChildren(...rows.map((x) => {
      const resources = (x.resource_ids || []).map((r) => nameOf(props(r)) || r).join(', ');
      return el('tr', { dataset: { execution: x.execution_id, workflow: x.workflow, origin: x.origin, state: x.state, resource: resources } },
        el('td', {}, (x.created_at || '').replace('T', ' ').slice(0, 19)),
        el('td', {}, x.workflow), el('td', {}, resources), el('td', {}, x.origin),
        el('td', { className: `state state-${x.state}` }, x.state),
        el('td', { className: 'info' }, x.state_info || ''));
    }));
  }

  // ---- the run dialog ----
  let workflows = [];
  let runTarget = null;

  // Mistral's `input` is text like `instance_id, force=false, host=null`.
  function parseInputs(text) {
    const out = [];
    let depth = 0, cur = '';
    for (const ch of text || '') {
      if ('[{('.includes(ch)) depth++;
      if (']})'.includes(ch)) depth--;
      if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
    }
    if (cur.trim()) out.push(cur);
    return out.map((s) => {
      const [name, ...rest] = s.split('=');
      return { name: name.trim(), default: rest.length ? rest.join('=').trim() : null };
    }).filter((x) => x.name);
  }

  // A value taken from the resource for an input name: its id, its name, or its host.
  function prefill(name, p) {
    const n = name.toLowerCase();
    const host = hostOf(p.vitrage_id);
    if (n.includes('host')) return host ? nameOf(host) : '';
    if (n === 'id' || n.endsWith('_id') || n.endsWith('id')) return p.id || p.vitrage_id;
    if (n.endsWith('name')) return nameOf(p);
    return null;
  }

  function inputRow(name, value) {
    const input = el('input', { name, value: value ?? '' });
    return el('label', {}, el('span', {}, name), input);
  }

  function fillInputs() {
    const name = $('#workflow').value.trim();
    const wf = workflows.find((w) => w.name === name);
    const box = $('#inputs');
    box.querySelectorAll('label').forEach((l) => l.remove());
    const p = runTarget;
    const specs = wf ? parseInputs(wf.input) : [{ name: 'instance_id', default: null }];
    for (const s of specs) {
      const given = prefill(s.name, p);
      const fallback = s.default && s.default !== 'null' ? s.default : '';
      box.append(inputRow(s.name, given ?? fallback));
    }
    const listed = workflows.length ? `${workflows.length} workflows in Mistral. ` : '';
    $('#workflow-note').textContent = listed + (wf ? (wf.description || '') :
      (name ? `Mistral does not list ${name}; it will answer when the run is sent.` : ''));
  }

  async function openRunDialog(p) {
    runTarget = p;
    const dialog = $('#run-dialog');
    const host = hostOf(p.vitrage_id);
    $('#run-target').textContent = `On ${nameOf(p)} (${p.vitrage_type}${host ? `, on ${nameOf(host)}` : ''})`;
    $('#run-error').hidden = true;
    $('#workflow').value = '';
    $('#workflow-note').textContent = 'Reading Mistral\'s workflows…';
    dialog.showModal();
    $('#workflow').focus();
    try {
      const answer = await api('/v1/causeway/workflows', { what: 'Reading Mistral\'s workflows' });
      workflows = (answer.workflows || []).sort((a, b) => a.name.localeCompare(b.name));
      $('#workflow-names').replaceChildren(...workflows.map((w) => el('option', { value: w.name })));
      const preferred = workflows.find((w) => /migrat/.test(w.name)) || workflows.find((w) => !w.name.startsWith('std.'));
      if (!$('#workflow').value && preferred) $('#workflow').value = preferred.name;
    } catch (e) {
      workflows = [];
      runError(e.message);
    }
    fillInputs();
  }

  // What a form field sends: JSON for true, false, null, an object or a list (Mistral's own
  // defaults are written so), text for everything else, numbers and ids included.
  function inputValue(text) {
    const t = text.trim();
    if (['true', 'false', 'null'].includes(t) || /^[[{]/.test(t)) {
      try { return JSON.parse(t); } catch (_) { return text; }
    }
    return text;
  }

  function runError(message) {
    const box = $('#run-error');
    box.textContent = message;
    box.hidden = !message;
  }

  async function confirmRun(event) {
    event.preventDefault();
    const workflow = $('#workflow').value.trim();
    if (!workflow) { runError('Choose a workflow.'); return; }
    const input = {};
    for (const i of $('#inputs').querySelectorAll('input')) {
      if (!i.name) continue;
      input[i.name] = inputValue(i.value);
    }
    const body = { resource_id: runTarget.vitrage_id, workflow, input,
      request_id: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()) };
    try {
      await api('/v1/causeway/executions', { method: 'POST', body, what: 'Starting the workflow' });
      $('#run-dialog').close();
      refresh('executions');
    } catch (e) {
      runError(e.message);
    }
  }

  // ---- wiring ----
  // The viewport as the page's state (tests read it to see that redraws keep it).
  cy.on('viewport', () => { document.body.dataset.zoom = cy.zoom().toFixed(4); });
  cy.on('tap', 'node', (e) => select(e.target.id(), false));
  for (const type of ['wheel', 'pointerdown']) $('#graph').addEventListener(type, () => { state.userMoved = true; }, { passive: true });
  cy.on('tap', (e) => { if (e.target === cy) select(null, false); });
  $('#search').addEventListener('input', renderResults);
  $('#search').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      const first = matches($('#search').value)[0];
      if (first) select(first.vitrage_id, true);
    }
  });
  $('#show-all').addEventListener('click', () => { state.focus = null; refit(); });
  for (const id of ['#exec-state', '#exec-origin', '#exec-text', '#exec-selected']) {
    $(id).addEventListener('input', renderExecutions);
  }
  $('#workflow').addEventListener('input', fillInputs);
  $('#add-input').addEventListener('click', () => {
    const name = prompt('Input name');
    if (name) $('#inputs').append(inputRow(name, ''));
  });
  $('#run-form').addEventListener('submit', confirmRun);
  $('#run-cancel').addEventListener('click', () => $('#run-dialog').close());
  let stream = null;
  $('#login').addEventListener('submit', (e) => {
    e.preventDefault();
    saveSettings();
    if (stream) stream.close();
    stream = listen();
    refresh('graph');
    refresh('executions');
  });
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, select, textarea, dialog')) return;
    if (e.key === '/') { e.preventDefault(); $('#search').focus(); }
    else if (e.key === 'Escape') { state.focus = null; refit(); }
    else if (e.key === 'f' && state.selected) { state.focus = state.selected; refit(); }
    else if (e.key === 'r' && state.selected && !isAlarm(props(state.selected))) openRunDialog(props(state.selected));
  });

  loadSettings();
  if (!sessionStorage.getItem('causeway')) saveSettings();
  stream = listen();
  // Read at once too: a stream the service refuses (a missing token) says nothing about why,
  // the API's answer does.
  refresh('graph');
  refresh('executions');
})();
