// Page helpers installed as window.__lstmviz by tests/lab/driver.py (page.evaluate of this
// arrow function; idempotent; lost on navigation). Cells are edited through the notebook
// model and run with the app's own commands, as JupyterLab's galata does.
() => {
  if (window.__lstmviz) return true;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const withTimeout = (p, ms) =>
    Promise.race([p, sleep(ms).then(() => { throw new Error(`timed out after ${ms} ms`); })]);
  const H = { path: null };
  H.isNotebookPanel = (w) =>
    !!(w && w.content && w.context && w.sessionContext && w.content.model &&
       typeof w.content.activeCellIndex === 'number');
  H.panel = () => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    const ok = (w) => H.isNotebookPanel(w) && (!H.path || w.context.path === H.path);
    if (ok(app.shell.currentWidget)) return app.shell.currentWidget;
    if (typeof app.shell.widgets === 'function') {
      for (const w of app.shell.widgets('main')) if (ok(w)) return w;
    }
    return null;
  };
  H.mustPanel = () => {
    const p = H.panel();
    if (!p) throw new Error(`no notebook panel for ${H.path}`);
    const app = window.jupyterapp;
    if (app.shell.currentWidget !== p && app.shell.activateById) app.shell.activateById(p.id);
    return p;
  };
  H.loaded = () => {
    const p = H.panel();
    return !!(p && p.context.isReady && p.content.model);
  };
  H.kernelReady = async (timeoutMs) => {
    const t0 = Date.now();
    const p = H.mustPanel();
    await withTimeout(p.sessionContext.ready, timeoutMs);
    let last = 'no kernel';
    while (Date.now() - t0 < timeoutMs) {
      const k = p.sessionContext.session && p.sessionContext.session.kernel;
      if (k) {
        last = `connection ${k.connectionStatus}, status ${k.status}`;
        if (k.connectionStatus === 'connected' && k.status !== 'starting' &&
            k.status !== 'unknown' && k.status !== 'dead') {
          try { await withTimeout(k.requestKernelInfo(), 5000); return 'ok'; }
          catch (e) { last = `kernel_info: ${e}`; }
        }
      }
      await sleep(200);
    }
    return last;
  };
  H.summary = (cell) => ({
    index: H.mustPanel().content.widgets.indexOf(cell),
    executionCount: cell.model.executionCount,
    outputs: cell.model.type === 'code' ? cell.model.outputs.toJSON() : [],
  });
  H.runCell = async (code, newCell, timeoutMs) => {
    const p = H.mustPanel();
    const nb = p.content;
    const n = nb.widgets.length;
    const last = n ? nb.widgets[n - 1] : null;
    let index = n - 1;
    if (newCell || !last || last.model.type !== 'code') {
      index = n;
      nb.model.sharedModel.insertCell(index, { cell_type: 'code', source: code, metadata: {} });
    } else {
      last.model.sharedModel.setSource(code);
    }
    return H.runIndex(index, timeoutMs);
  };
  H.runIndex = async (index, timeoutMs) => {
    const p = H.mustPanel();
    const nb = p.content;
    nb.activeCellIndex = index;
    nb.deselectAll();
    nb.mode = 'command';
    const cell = nb.widgets[index];
    let result;
    try {
      const run = window.jupyterapp.commands.execute('notebook:run-cell');
      result = await withTimeout(run, timeoutMs);
    } catch (e) {
      return { timedOut: true, error: String(e), ...H.summary(cell) };
    }
    return { timedOut: false, ok: result !== false, ...H.summary(cell) };
  };
  H.runAll = async (timeoutMs) => {
    const p = H.mustPanel();
    try {
      await withTimeout(window.jupyterapp.commands.execute('notebook:run-all-cells'), timeoutMs);
    } catch (e) {
      return { timedOut: true, error: String(e) };
    }
    return { timedOut: false, cells: p.content.widgets.map((c) => H.summary(c)) };
  };
  H.deleteCell = (index) => { H.mustPanel().content.model.sharedModel.deleteCell(index); };
  H.cellCount = () => H.mustPanel().content.widgets.length;
  window.__lstmviz = H;
  return true;
}
