// Recording rules: every ratio the alerts and dashboards use, and the
// outbound baseline. Rules of a group run in order, so a ratio can read the
// rates recorded just above it in the same evaluation.
local util = import '../lib/util.libsonnet';

{
  prometheusRules+:: {
    local cfg = $._config,
    local g = cfg.groupLabels,
    local sel = cfg.mailtrailSelector,
    local outbound = 'mailtrail:postfix_outbound_deliveries:rate',

    groups+: [
      util.group(cfg, 'mailtrail-delivery.rules', [
        {
          record: 'mailtrail:postfix_deliveries:rate',
          expr: 'sum by (%s, sender_domain, status) (rate(postfix_deliveries_total{%s}[%s]))' % [g, sel, cfg.deliveryWindow],
        },
        {
          // Of the deliveries that reached an end (sent, bounced, expired),
          // the share returned to the sender.
          record: 'mailtrail:postfix_deliveries_bounced:ratio',
          expr: |||
            sum by (%(g)s, sender_domain) (mailtrail:postfix_deliveries:rate{status=~"bounced|expired"})
            /
            sum by (%(g)s, sender_domain) (mailtrail:postfix_deliveries:rate{status=~"sent|bounced|expired"})
          ||| % { g: g },
        },
        {
          // Of every delivery attempt, the share that was deferred.
          record: 'mailtrail:postfix_deliveries_deferred:ratio',
          expr: |||
            sum by (%(g)s, sender_domain) (mailtrail:postfix_deliveries:rate{status="deferred"})
            /
            sum by (%(g)s, sender_domain) (mailtrail:postfix_deliveries:rate)
          ||| % { g: g },
        },
      ]),
      util.group(cfg, 'mailtrail-outbound.rules', [
        {
          record: outbound,
          expr: 'sum by (%s, sender_domain) (rate(postfix_deliveries_total{%s, %s}[%s]))' % [g, sel, cfg.outboundSelector, cfg.outboundWindow],
        },
        {
          // The same hour of each of the previous days, averaged over the
          // days that have data (a new domain has fewer than the full set).
          record: outbound + '_baseline:avg',
          expr: 'avg by (%s, sender_domain) (\n%s\n)\n' % [
            g,
            std.join('\nor\n', [
              '  label_replace(%s offset %dd, "baseline_day", "%d", "", "")' % [outbound, d, d]
              for d in std.range(1, cfg.outboundBaselineDays)
            ]),
          ],
        },
      ]),
      util.group(cfg, 'mailtrail-authentication.rules', [
        {
          record: 'mailtrail:postfix_policy_results:rate',
          expr: 'sum by (%s, check, result) (rate(postfix_policy_results_total{%s}[%s]))' % [g, sel, cfg.policyWindow],
        },
        {
          // DKIM "signed" is this host signing outbound mail, not a verdict.
          record: 'mailtrail:postfix_policy_failures:ratio',
          expr: |||
            sum by (%(g)s, check) (mailtrail:postfix_policy_results:rate{result=~"%(fail)s"})
            /
            sum by (%(g)s, check) (mailtrail:postfix_policy_results:rate{result!="signed"})
          ||| % { g: g, fail: cfg.policyFailResults },
        },
        {
          // Failures over attempts; a service nobody logs in to (port 25)
          // still gets a ratio, 1.
          record: 'mailtrail:postfix_auth_failures:ratio',
          expr: |||
            sum by (%(g)s, service) (rate(postfix_auth_failures_total{%(sel)s}[5m]))
            /
            (
              sum by (%(g)s, service) (rate(postfix_auth_failures_total{%(sel)s}[5m]))
              +
              (
                sum by (%(g)s, service) (rate(postfix_logins_total{%(sel)s}[5m]))
                or
                sum by (%(g)s, service) (rate(postfix_auth_failures_total{%(sel)s}[5m])) * 0
              )
            )
          ||| % { g: g, sel: sel },
        },
      ]),
      util.group(cfg, 'mailtrail-monitor.rules', [
        {
          record: 'mailtrail:log_lines:rate',
          expr: 'sum by (%s) (rate(mailtrail_log_lines_total{%s}[%s]))' % [g, sel, cfg.noLogLinesWindow],
        },
        {
          record: 'mailtrail:log_lines_unparsed:ratio',
          expr: |||
            sum by (%(g)s) (rate(mailtrail_log_lines_unparsed_total{%(sel)s}[%(w)s]))
            /
            sum by (%(g)s) (rate(mailtrail_log_lines_total{%(sel)s}[%(w)s]))
          ||| % { g: g, sel: sel, w: cfg.unparsedWindow },
        },
      ]),
    ],
  },
}
