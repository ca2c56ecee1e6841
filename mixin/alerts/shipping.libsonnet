// Alerts on the shipper that copies each journal to the fleet store
// (VictoriaLogs or an OTLP endpoint; docs/shipping.md, docs/fleet.md). The
// journal is the buffer: while these fire nothing is lost, but central
// queries (the plugin's central mode) miss the newest events. Each alert
// keeps the sink label (victorialogs, otlp).
local util = import '../lib/util.libsonnet';

{
  prometheusAlerts+:: {
    local cfg = $._config,
    local g = cfg.groupLabels,
    local sel = cfg.mailtrailSelector,
    local alert(name, kind, expr, forDuration, summary, description) =
      util.alert(cfg, name, kind, expr, forDuration, summary, description),

    groups+: [
      util.group(cfg, 'mailtrail-shipping', [
        alert(
          'MailtrailShipLagGrowing',
          'monitor',
          |||
            max by (%(g)s, sink) (mailtrail_ship_lag_seconds{%(sel)s}) > %(lag)d
            and on (%(g)s, sink)
            max by (%(g)s, sink) (delta(mailtrail_ship_lag_events{%(sel)s}[%(w)s])) > 0
          ||| % { g: g, sel: sel, lag: cfg.shipLagSeconds, w: cfg.shipLagWindow },
          cfg.shipLagFor,
          'Shipping from {{ $labels.instance }} to {{ $labels.sink }} falls behind.',
          'The oldest event {{ $labels.instance }} has not shipped to {{ $labels.sink }} is {{ $value | humanizeDuration }} old and the backlog grew over the last %s. Nothing is lost (the journal keeps it), but central queries miss it. Runbook: check mailtrail_ship_errors_total for the reason; a store that is up but slow needs more insert capacity or a larger --ship.victorialogs.batch-size.' % cfg.shipLagWindow,
        ),
        alert(
          'MailtrailShipErrors',
          'monitor',
          'sum by (%s, sink, reason) (increase(mailtrail_ship_errors_total{%s}[%s])) > 0' % [g, sel, cfg.shipErrorsWindow],
          cfg.shipErrorsFor,
          'Shipping from {{ $labels.instance }} to {{ $labels.sink }} fails ({{ $labels.reason }}).',
          'Sends from {{ $labels.instance }} to {{ $labels.sink }} kept failing with {{ $labels.reason }} for %s; the shipper retries with growing pauses and catches up in order. Runbook: connect or timeout: is the store up and reachable from the host (--ship.victorialogs.url)? http_4xx: a proxy or credentials refuse the rows; http_5xx: the store (its storage nodes) is failing; encode: a bug, report it.' % cfg.shipErrorsFor,
        ),
        alert(
          'MailtrailShipRejectedRows',
          'monitor',
          'sum by (%s, sink) (increase(mailtrail_ship_rejected_events_total{%s}[%s])) > 0' % [g, sel, cfg.shipRejectedWindow],
          '0m',
          'The fleet store {{ $labels.sink }} refuses rows from {{ $labels.instance }}.',
          '{{ $value | printf "%%.0f" }} events of {{ $labels.instance }} were refused by {{ $labels.sink }} or older than the sink\'s max_age within the last %s: they are counted and passed over, so the store lacks them (the journal keeps them). Runbook: VictoriaLogs drops rows older than its -retentionPeriod; set --ship.victorialogs.max-age to the same, and replay old logs only into a store with a long enough retention.' % cfg.shipRejectedWindow,
        ),
      ]),
    ],
  },
}
