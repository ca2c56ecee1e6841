// The dashboards, one file each under provisioning/dashboards/.
local d = import '../lib/dashboard.libsonnet';

{
  grafanaDashboards+:: {
    local cfg = $._config,
    local sel = cfg.mailtrailSelector,
    local g = cfg.groupLabels,
    // Matchers every panel applies: the exporters, then the variables.
    local f = '%s, instance=~"$instance"' % sel,
    local fs = f + ', service=~"$service"',
    local fd = f + ', sender_domain=~"$domain"',

    local variables = [
      d.datasourceVar,
      d.pluginVar(cfg),
      d.queryVar('instance', 'Instance', 'label_values(up{%s}, instance)' % sel),
      d.queryVar('service', 'Service', 'label_values(postfix_smtpd_connects_total{%s}, service)' % f),
      d.queryVar('domain', 'Sender domain', 'label_values(postfix_deliveries_total{%s}, sender_domain)' % f),
    ],
    local dash(key, title, description, panels, extraVars=[]) =
      d.dashboard(cfg, key, title, description, panels, variables + extraVars),

    'mailtrail-overview.json': dash('overview', 'Overview', 'Ingest, mail flow, queues and the alerts firing now.', [
      d.stat('Exporters up', [d.target('sum(up{%s})' % f, instant=true)], w=4, thresholds=[{ color: 'red', value: null }, { color: 'green', value: 1 }]),
      d.stat('Log lines/s', [d.target('sum(mailtrail:log_lines:rate{%s})' % f, instant=true)], unit='ops', w=4),
      d.stat('Unparsed', [d.target('max(mailtrail:log_lines_unparsed:ratio{%s})' % f, instant=true)], unit='percentunit', w=4, thresholds=[{ color: 'green', value: null }, { color: 'orange', value: cfg.unparsedRatioThreshold }]),
      d.stat('Ingest lag', [d.target('max(mailtrail_ingest_lag_seconds{%s})' % f, instant=true)], unit='s', w=4, thresholds=[{ color: 'green', value: null }, { color: 'orange', value: cfg.ingestLagSeconds }]),
      d.stat('Messages in queues', [d.target('sum(postfix_queue_messages{%s})' % f, instant=true)], w=4),
      d.stat('Auth offenders', [d.target('sum(mailtrail_auth_offenders{%s})' % f, instant=true)], w=4, thresholds=[{ color: 'green', value: null }, { color: 'red', value: 1 }]),
      d.promTable('Active alerts', [d.target('ALERTS{alertstate="firing", alertname=~"Mailtrail.*", instance=~"$instance"}')], w=24, h=6, description='Firing alerts of the mailtrail mixin.'),
      d.row('Ingest'),
      d.timeseries('Log lines read', [d.target('sum by (instance, source) (rate(mailtrail_log_lines_total{%s}[$__rate_interval]))' % f, '{{instance}} {{source}}')], unit='ops'),
      d.timeseries('Events journaled', [d.target('sum by (instance) (rate(mailtrail_journal_events_total{%s}[$__rate_interval]))' % f, '{{instance}}')], unit='ops'),
      d.row('Mail flow'),
      d.timeseries('Messages received by origin', [d.target('sum by (origin) (rate(postfix_messages_received_total{%s}[$__rate_interval]))' % fs, '{{origin}}')], unit='ops', stack=true),
      d.timeseries('Deliveries by status', [d.target('sum by (status) (rate(postfix_deliveries_total{%s}[$__rate_interval]))' % fs, '{{status}}')], unit='ops', stack=true),
      d.timeseries('Queues', [d.target('sum by (instance, queue) (postfix_queue_messages{%s})' % f, '{{instance}} {{queue}}')]),
      d.timeseries('SMTP connections', [d.target('sum by (service) (rate(postfix_smtpd_connects_total{%s}[$__rate_interval]))' % fs, '{{service}}')], unit='ops'),
    ]),

    'mailtrail-authentication.json': dash('authentication', 'Authentication & access', 'Logins, failures, offenders, TLS and what smtpd and postscreen refused.', [
      d.stat('IP offenders', [d.target('sum(mailtrail_auth_offenders{%s, scope="ip"})' % f, instant=true)], w=6, thresholds=[{ color: 'green', value: null }, { color: 'red', value: 1 }]),
      d.stat('User offenders', [d.target('sum(mailtrail_auth_offenders{%s, scope="user"})' % f, instant=true)], w=6, thresholds=[{ color: 'green', value: null }, { color: 'red', value: 1 }]),
      d.stat('Send offenders', [d.target('sum(mailtrail_send_offenders{%s})' % f, instant=true)], w=6, thresholds=[{ color: 'green', value: null }, { color: 'red', value: 1 }]),
      d.stat('Failed logins', [d.target('avg(mailtrail:postfix_auth_failures:ratio{%s})' % fs, instant=true)], unit='percentunit', w=6),
      d.timeseries('Authentication failures', [d.target('sum by (service, program, method) (rate(postfix_auth_failures_total{%s}[$__rate_interval]))' % fs, '{{service}} {{program}} {{method}}')], unit='ops'),
      d.timeseries('Logins', [d.target('sum by (service, program, method) (rate(postfix_logins_total{%s}[$__rate_interval]))' % fs, '{{service}} {{program}} {{method}}')], unit='ops'),
      d.timeseries('Failure ratio', [d.target('mailtrail:postfix_auth_failures:ratio{%s}' % fs, '{{instance}} {{service}}')], unit='percentunit'),
      d.timeseries('Offenders', [
        d.target('sum by (instance, scope) (mailtrail_auth_offenders{%s})' % f, '{{instance}} auth {{scope}}'),
        d.target('sum by (instance) (mailtrail_send_offenders{%s})' % f, '{{instance}} send'),
      ]),
      d.pluginTable(cfg, 'Offenders now and recently', d.pluginTarget(cfg, 'offenders'), description="From the exporters' offender trackers, through the mailtrail datasource."),
      d.row('Connections'),
      d.timeseries('Inbound TLS by protocol', [d.target('sum by (protocol) (rate(postfix_tls_connections_total{%s, direction="inbound"}[$__rate_interval]))' % fs, '{{protocol}}')], unit='ops', stack=true),
      d.timeseries('postscreen verdicts', [d.target('sum by (verdict) (rate(postfix_postscreen_verdicts_total{%s}[$__rate_interval]))' % fs, '{{verdict}}')], unit='ops', stack=true),
      d.timeseries('Rejects by stage', [d.target('sum by (stage, class) (rate(postfix_rejects_total{%s}[$__rate_interval]))' % fs, '{{stage}} {{class}}')], unit='ops', stack=true),
      d.timeseries('Lost connections', [d.target('sum by (after) (rate(postfix_smtpd_lost_connections_total{%s}[$__rate_interval]))' % fs, 'after {{after}}')], unit='ops', stack=true),
    ]),

    'mailtrail-delivery.json': dash('delivery', 'Delivery & deliverability', 'Bounces, deferrals, volume against its baseline, delays, queues and DKIM/SPF/DMARC.', [
      d.timeseries('Bounce ratio by sender domain', [d.target('mailtrail:postfix_deliveries_bounced:ratio{%s}' % fd, '{{instance}} {{sender_domain}}')], unit='percentunit', description='Bounced and expired over every delivery that ended, over %s.' % cfg.deliveryWindow),
      d.timeseries('Deferral ratio by sender domain', [d.target('mailtrail:postfix_deliveries_deferred:ratio{%s}' % fd, '{{instance}} {{sender_domain}}')], unit='percentunit', description='Deferred over every attempt, over %s.' % cfg.deliveryWindow),
      d.timeseries('Outbound vs baseline', [
        d.target('mailtrail:postfix_outbound_deliveries:rate{%s}' % fd, '{{instance}} {{sender_domain}}'),
        d.target('mailtrail:postfix_outbound_deliveries:rate_baseline:avg{%s}' % fd, '{{instance}} {{sender_domain}} baseline'),
      ], unit='ops', description='Outbound recipients per second over %s, and the same hour averaged over the last %d days.' % [cfg.outboundWindow, cfg.outboundBaselineDays]),
      d.timeseries('Deliveries by transport and status', [d.target('sum by (transport, status) (rate(postfix_deliveries_total{%s, service=~"$service"}[$__rate_interval]))' % fd, '{{transport}} {{status}}')], unit='ops', stack=true),
      d.timeseries('Delivery delay p95', [d.target('histogram_quantile(0.95, sum by (transport, le) (rate(postfix_delivery_delay_seconds_bucket{%s, stage="total"}[$__rate_interval])))' % fs, '{{transport}}')], unit='s'),
      d.timeseries('Delay by stage p95', [d.target('histogram_quantile(0.95, sum by (stage, le) (rate(postfix_delivery_delay_seconds_bucket{%s, stage!="total"}[$__rate_interval])))' % fs, '{{stage}}')], unit='s'),
      d.row('Queues'),
      d.timeseries('Messages per queue', [d.target('postfix_queue_messages{%s}' % f, '{{instance}} {{queue}}')]),
      d.timeseries('Oldest message per queue', [d.target('postfix_queue_oldest_message_age_seconds{%s}' % f, '{{instance}} {{queue}}')], unit='s'),
      d.row('Authentication results'),
      d.timeseries('DKIM/SPF/DMARC failure ratio', [d.target('mailtrail:postfix_policy_failures:ratio{%s}' % f, '{{instance}} {{check}}')], unit='percentunit'),
      d.timeseries('Verdicts', [d.target('sum by (check, result) (mailtrail:postfix_policy_results:rate{%s})' % f, '{{check}} {{result}}')], unit='ops', stack=true),
    ]),

    'mailtrail-compliance.json': dash('compliance', 'Compliance & audit', 'Who logged in from where, and whether the journals are intact.', [
      d.stat('Journal verify failures (24h)', [d.target('sum(increase(mailtrail_journal_verify_failures_total{%s}[24h]))' % f, instant=true)], w=6, thresholds=[{ color: 'green', value: null }, { color: 'red', value: 1 }]),
      d.stat('Events verified', [d.target('sum(mailtrail_journal_verified_events{%s})' % f, instant=true)], w=6),
      d.stat('Journal size', [d.target('sum(mailtrail_journal_size_bytes{%s})' % f, instant=true)], unit='bytes', w=6),
      d.stat('Journal errors (24h)', [d.target('sum(increase(mailtrail_journal_errors_total{%s}[24h]))' % f, instant=true)], w=6, thresholds=[{ color: 'green', value: null }, { color: 'orange', value: 1 }]),
      d.pluginTable(cfg, 'Logins', d.pluginTarget(cfg, 'logins', { user: '${user}', outcome: '' }), h=12, description='One row per user, address, service and outcome, from the journals.'),
      d.pluginTable(cfg, 'Exporters and their journals', d.pluginTarget(cfg, 'instances'), h=6),
      d.timeseries('Events verified', [d.target('mailtrail_journal_verified_events{%s}' % f, '{{instance}}')]),
      d.timeseries('Journal size', [d.target('mailtrail_journal_size_bytes{%s}' % f, '{{instance}}')], unit='bytes'),
    ], [d.textVar('user', 'User')]),

    'mailtrail-forensics.json': dash('forensics', 'Forensics', 'Follow one message across the hosts and read the events around it.', [
      d.text('How to', "Enter a **queue id** or a **message id** to trace the message across every exporter; the events below follow the same filters. Both come from the exporters' journals through the mailtrail datasource."),
      d.trace(cfg, 'Message trace', d.pluginTarget(cfg, 'trace', { queueId: '${queue_id}', messageId: '${message_id}' })),
      d.timeseries('Matching events', [], w=24, h=6) + {
        datasource: d.mailtrail(cfg),
        targets: [d.pluginTarget(cfg, 'stats', { sender: '${sender}', saslUsername: '${user}', clientIp: '${client_ip}', kind: '${kind}' }) { refId: 'A' }],
      },
      d.logs(cfg, 'Events', d.pluginTarget(cfg, 'events', { queueId: '${queue_id}', messageId: '${message_id}', sender: '${sender}', saslUsername: '${user}', clientIp: '${client_ip}', kind: '${kind}' })),
    ], [
      d.textVar('queue_id', 'Queue id'),
      d.textVar('message_id', 'Message id'),
      d.textVar('sender', 'Sender'),
      d.textVar('user', 'SASL user'),
      d.textVar('client_ip', 'Client IP'),
      d.textVar('kind', 'Kinds (comma list)'),
    ]),
  },
}
