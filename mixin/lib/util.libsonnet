// Small helpers the rules and alerts share.
{
  // seconds('90s') == 90, seconds('1h') == 3600: single-unit Prometheus
  // durations, so thresholds given per window can be turned into rates.
  seconds(d)::
    local units = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
    local unit = std.substr(d, std.length(d) - 1, 1);
    assert std.objectHas(units, unit) : 'duration %s: want a number and one of s, m, h, d, w' % d;
    std.parseInt(std.substr(d, 0, std.length(d) - 1)) * units[unit],

  // The matcher that restricts per-domain alerts to the tenant domains.
  domainSelector(cfg)::
    if std.length(cfg.tenantDomains) == 0
    then 'sender_domain!="other"'
    else 'sender_domain=~"%s"' % std.join('|', [std.strReplace(d, '.', '\\\\.') for d in cfg.tenantDomains]),

  // A group with the configured evaluation interval, if any.
  group(cfg, name, rules)::
    { name: name, rules: rules }
    + (if cfg.ruleInterval != null then { interval: cfg.ruleInterval } else {}),

  // An alerting rule with the routing labels and a runbook link; `for` is
  // left out when zero so the rule fires on the first evaluation.
  alert(cfg, name, kind, expr, forDuration, summary, description)::
    {
      alert: name,
      expr: expr,
    }
    + (if forDuration == '0s' || forDuration == '0m' then {} else { 'for': forDuration })
    + {
      labels: {
        [cfg.severityLabel]: cfg.severities[kind],
        [cfg.teamLabel]: cfg.team,
      },
      annotations: {
        summary: summary,
        description: description,
        runbook_url: '%s#%s' % [cfg.runbookURL, std.asciiLower(name)],
      },
    },
}
