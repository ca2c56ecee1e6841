// A small stand-in for grafonnet (which cannot be vendored here): just what
// the mixin's dashboards use, producing Grafana's dashboard JSON (schema 39).
{
  local prom = { type: 'prometheus', uid: '${datasource}' },

  // The plugin's datasource reference; panels querying the exporters' API.
  mailtrail(cfg):: { type: cfg.pluginID, uid: '${mailtrail}' },

  // Prometheus target.
  target(expr, legend='', instant=false):: {
    datasource: prom,
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
  },

  // A query of the mailtrail plugin (contract B); instance follows the
  // dashboard's $instance variable, the time range Grafana's.
  pluginTarget(cfg, queryType, fields={}):: {
    datasource: $.mailtrail(cfg),
    queryType: queryType,
    instance: '${instance:raw}',
    limit: 100,
  } + fields,

  // Panels. w and h are grid units (24 columns); the dashboard lays them
  // out left to right, wrapping.
  local panel(type, title, targets, w, h, extra={}) = {
    type: type,
    title: title,
    targets: [t { refId: std.char(65 + i) } for i in std.range(0, std.length(targets) - 1) for t in [targets[i]]],
    w:: w,
    h:: h,
  } + extra,

  timeseries(title, targets, unit='short', w=12, h=8, stack=false, description=''):: panel('timeseries', title, targets, w, h, {
    datasource: prom,
    description: description,
    fieldConfig: {
      defaults: {
        unit: unit,
        custom: { fillOpacity: if stack then 60 else 10, stacking: { mode: if stack then 'normal' else 'none' } },
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
  }),

  stat(title, targets, unit='short', w=6, h=4, thresholds=null, description=''):: panel('stat', title, targets, w, h, {
    datasource: prom,
    description: description,
    fieldConfig: {
      defaults: {
        unit: unit,
        thresholds: {
          mode: 'absolute',
          steps: if thresholds == null then [{ color: 'green', value: null }] else thresholds,
        },
      },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area' },
  }),

  // A Prometheus table of instant values, one row per series.
  promTable(title, targets, w=12, h=8, description=''):: panel('table', title, [t { instant: true, range: false, format: 'table' } for t in targets], w, h, {
    datasource: prom,
    description: description,
    transformations: [{ id: 'organize', options: { excludeByName: { Time: true, __name__: true } } }],
  }),

  // A table of plugin rows (logins, offenders, instances).
  pluginTable(cfg, title, target, w=24, h=10, description=''):: panel('table', title, [target], w, h, {
    datasource: $.mailtrail(cfg),
    description: description,
  }),

  logs(cfg, title, target, w=24, h=14, description=''):: panel('logs', title, [target], w, h, {
    datasource: $.mailtrail(cfg),
    description: description,
    options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true },
  }),

  trace(cfg, title, target, w=24, h=16, description=''):: panel('traces', title, [target], w, h, {
    datasource: $.mailtrail(cfg),
    description: description,
  }),

  text(title, content, w=24, h=3):: panel('text', title, [], w, h, {
    options: { mode: 'markdown', content: content },
  }) + { targets:: [] },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [], w:: 24, h:: 1 },

  // Variables.
  datasourceVar:: {
    name: 'datasource',
    label: 'Prometheus',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
  },
  pluginVar(cfg):: {
    name: 'mailtrail',
    label: 'Mailtrail',
    type: 'datasource',
    query: cfg.pluginID,
    current: {},
    hide: 0,
  },
  queryVar(name, label, query, multi=true):: {
    name: name,
    label: label,
    type: 'query',
    datasource: prom,
    query: { query: query, refId: name },
    definition: query,
    refresh: 2,
    sort: 1,
    multi: multi,
    includeAll: multi,
    allValue: '.+',
    current: {},
    hide: 0,
  },
  textVar(name, label):: {
    name: name,
    label: label,
    type: 'textbox',
    query: '',
    current: { text: '', value: '' },
    hide: 0,
  },

  // The dashboard, with panels laid out and given ids.
  dashboard(cfg, key, title, description, panels, variables):: {
    local layout = std.foldl(
      function(acc, p)
        local wrap = p.type == 'row' || acc.x + p.w > 24;
        local x = if wrap then 0 else acc.x;
        local y = if wrap then acc.y + acc.rowH else acc.y;
        {
          x: x + p.w,
          y: y,
          rowH: if wrap then p.h else std.max(acc.rowH, p.h),
          out: acc.out + [p { id: std.length(acc.out) + 1, gridPos: { x: x, y: y, w: p.w, h: p.h } }],
        },
      panels,
      { x: 0, y: 0, rowH: 0, out: [] },
    ),
    uid: cfg.dashboardUIDPrefix + key,
    title: cfg.dashboardPrefix + title,
    description: description,
    tags: cfg.dashboardTags,
    timezone: cfg.dashboardTimezone,
    refresh: cfg.dashboardRefresh,
    schemaVersion: 39,
    editable: true,
    graphTooltip: 1,
    time: { from: 'now-6h', to: 'now' },
    links: [{ title: 'Mailtrail', type: 'dashboards', tags: ['mailtrail'], asDropdown: true, includeVars: true, keepTime: true }],
    annotations: { list: [] },
    templating: { list: variables },
    panels: layout.out,
  },
}
