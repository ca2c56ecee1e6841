// Alerting rules. Every threshold, window and `for` comes from _config; each
// alert has a section in runbook.md named after it.
local util = import '../lib/util.libsonnet';

{
  prometheusAlerts+:: {
    local cfg = $._config,
    local g = cfg.groupLabels,
    local sel = cfg.mailtrailSelector,
    local dom = util.domainSelector(cfg),
    local alert(name, kind, expr, forDuration, summary, description) =
      util.alert(cfg, name, kind, expr, forDuration, summary, description),

    groups+: [
      util.group(cfg, 'mailtrail-security', [
        alert(
          'MailtrailAuthBruteForce',
          'security',
          'sum by (%s, scope) (mailtrail_auth_offenders{%s}) > %d' % [g, sel, cfg.authOffendersThreshold],
          cfg.authFor,
          'Authentication brute force on {{ $labels.instance }}.',
          '{{ $value }} client {{ $labels.scope }}(s) on {{ $labels.instance }} failed to authenticate more often than the exporter allows (--auth.threshold within --auth.window). The offenders API (or the Compliance dashboard) names them.',
        ),
        alert(
          'MailtrailCompromisedAccount',
          'security',
          |||
            sum by (%(g)s) (mailtrail_send_offenders{%(sel)s}) > 0
            and on (%(g)s)
            sum by (%(g)s) (max_over_time(mailtrail_auth_offenders{%(sel)s, scope="user"}[%(w)s])) > 0
          ||| % { g: g, sel: sel, w: cfg.compromisedAuthWindow },
          cfg.compromisedFor,
          'Possibly compromised account on {{ $labels.instance }}.',
          'A SASL user on {{ $labels.instance }} sends to more recipients than --auth.send-threshold, and a user name was under a password attack within the last %s: an account may have been taken over and used for spam.' % cfg.compromisedAuthWindow,
        ),
        alert(
          'MailtrailSendOffender',
          'delivery',
          'sum by (%s) (mailtrail_send_offenders{%s}) > 0' % [g, sel],
          cfg.authFor,
          'A SASL user sends unusually much on {{ $labels.instance }}.',
          '{{ $value }} SASL user(s) on {{ $labels.instance }} sent to more recipients than --auth.send-threshold within --auth.send-window.',
        ),
        alert(
          'MailtrailJournalVerificationFailed',
          'security',
          'sum by (%s) (increase(mailtrail_journal_verify_failures_total{%s}[%s])) > 0' % [g, sel, cfg.journalVerifyWindow],
          '0s',
          'The event journal of {{ $labels.instance }} failed verification.',
          'The background verification of the journal on {{ $labels.instance }} found it tampered with or unreadable within the last %s. Run exporter verify with the public key kept off the host.' % cfg.journalVerifyWindow,
        ),
      ]),
      util.group(cfg, 'mailtrail-delivery', [
        alert(
          'MailtrailOutboundVolumeSpike',
          'delivery',
          |||
            mailtrail:postfix_outbound_deliveries:rate{%(dom)s}
            > %(factor)g * mailtrail:postfix_outbound_deliveries:rate_baseline:avg{%(dom)s}
            and
            mailtrail:postfix_outbound_deliveries:rate{%(dom)s} * 3600 >= %(min)d
          ||| % { dom: dom, factor: cfg.outboundSpikePercent / 100, min: cfg.outboundMinPerHour },
          cfg.outboundFor,
          'Outbound mail from {{ $labels.sender_domain }} spikes on {{ $labels.instance }}.',
          '{{ $labels.sender_domain }} on {{ $labels.instance }} delivers {{ $value | humanize }} recipients/s outbound, over %d%% of the same hour over the last %d days.' % [cfg.outboundSpikePercent, cfg.outboundBaselineDays],
        ),
        alert(
          'MailtrailQueueGrowing',
          'delivery',
          |||
            postfix_queue_messages{%(sel)s, queue="active"} > %(active)d
            or
            postfix_queue_messages{%(sel)s, queue="deferred"} > %(deferred)d
          ||| % { sel: sel, active: cfg.queueActiveThreshold, deferred: cfg.queueDeferredThreshold },
          cfg.queueFor,
          'The {{ $labels.queue }} queue of {{ $labels.instance }} is growing.',
          '{{ $value }} messages in the {{ $labels.queue }} queue of {{ $labels.instance }} for %s (thresholds: active %d, deferred %d).' % [cfg.queueFor, cfg.queueActiveThreshold, cfg.queueDeferredThreshold],
        ),
        alert(
          'MailtrailQueueOldMessage',
          'delivery',
          'postfix_queue_oldest_message_age_seconds{%s, %s} > %d' % [sel, cfg.queueOldestSelector, cfg.queueOldestHours * 3600],
          '5m',
          'Old message in the {{ $labels.queue }} queue of {{ $labels.instance }}.',
          'The oldest message in the {{ $labels.queue }} queue of {{ $labels.instance }} has waited {{ $value | humanizeDuration }} (threshold %d hours).' % cfg.queueOldestHours,
        ),
        alert(
          'MailtrailBounceRatioHigh',
          'delivery',
          |||
            mailtrail:postfix_deliveries_bounced:ratio{%(dom)s} > %(t)g
            and on (%(g)s, sender_domain)
            sum by (%(g)s, sender_domain) (mailtrail:postfix_deliveries:rate{status=~"sent|bounced|expired"}) * %(sec)d >= %(min)d
          ||| % { dom: dom, g: g, t: cfg.bounceRatioThreshold, sec: util.seconds(cfg.deliveryWindow), min: cfg.deliveryMinPerWindow },
          cfg.deliveryFor,
          'Many bounces for {{ $labels.sender_domain }} on {{ $labels.instance }}.',
          '{{ $value | humanizePercentage }} of the deliveries from {{ $labels.sender_domain }} on {{ $labels.instance }} bounced within %s (threshold %g%%).' % [cfg.deliveryWindow, cfg.bounceRatioThreshold * 100],
        ),
        alert(
          'MailtrailDeferralRatioHigh',
          'delivery',
          |||
            mailtrail:postfix_deliveries_deferred:ratio{%(dom)s} > %(t)g
            and on (%(g)s, sender_domain)
            sum by (%(g)s, sender_domain) (mailtrail:postfix_deliveries:rate) * %(sec)d >= %(min)d
          ||| % { dom: dom, g: g, t: cfg.deferralRatioThreshold, sec: util.seconds(cfg.deliveryWindow), min: cfg.deliveryMinPerWindow },
          cfg.deliveryFor,
          'Many deferrals for {{ $labels.sender_domain }} on {{ $labels.instance }}.',
          '{{ $value | humanizePercentage }} of the delivery attempts from {{ $labels.sender_domain }} on {{ $labels.instance }} were deferred within %s (threshold %g%%).' % [cfg.deliveryWindow, cfg.deferralRatioThreshold * 100],
        ),
        alert(
          'MailtrailPolicyFailureRatioHigh',
          'delivery',
          |||
            mailtrail:postfix_policy_failures:ratio > %(t)g
            and on (%(g)s, check)
            sum by (%(g)s, check) (mailtrail:postfix_policy_results:rate{result!="signed"}) * %(sec)d >= %(min)d
          ||| % { g: g, t: cfg.policyFailRatioThreshold, sec: util.seconds(cfg.policyWindow), min: cfg.policyMinPerWindow },
          cfg.policyFor,
          'Many {{ $labels.check }} failures on {{ $labels.instance }}.',
          '{{ $value | humanizePercentage }} of the {{ $labels.check }} verdicts on {{ $labels.instance }} failed within %s (threshold %g%%).' % [cfg.policyWindow, cfg.policyFailRatioThreshold * 100],
        ),
      ]),
      util.group(cfg, 'mailtrail-monitor', [
        alert(
          'MailtrailExporterDown',
          'monitor',
          'up{%s} == 0' % sel,
          cfg.exporterDownFor,
          'The mailtrail exporter {{ $labels.instance }} is down.',
          'Prometheus has not scraped {{ $labels.instance }} for %s: no mail metrics, and nothing is journaled while it is down.' % cfg.exporterDownFor,
        ),
        alert(
          'MailtrailNoLogLines',
          'monitor',
          |||
            mailtrail:log_lines:rate == 0
            and on (%(g)s)
            postfix_queue_up{%(sel)s} == 1
          ||| % { g: g, sel: sel },
          cfg.noLogLinesFor,
          'No mail log lines on {{ $labels.instance }}.',
          'The exporter on {{ $labels.instance }} read no log line within %s while Postfix answers postqueue: the log moved, syslog stopped, or the exporter cannot read it.' % cfg.noLogLinesWindow,
        ),
        alert(
          'MailtrailUnparsedLinesHigh',
          'monitor',
          'mailtrail:log_lines_unparsed:ratio > %g' % cfg.unparsedRatioThreshold,
          cfg.unparsedFor,
          'Many unparsed log lines on {{ $labels.instance }}.',
          '{{ $value | humanizePercentage }} of the log lines on {{ $labels.instance }} parse to kind unknown (threshold %g%%): a new Postfix or Dovecot version or a milter writes lines mailtrail does not know.' % (cfg.unparsedRatioThreshold * 100),
        ),
        alert(
          'MailtrailIngestLag',
          'monitor',
          |||
            mailtrail_ingest_lag_seconds{%(sel)s} > %(lag)d
            and on (%(g)s)
            mailtrail:log_lines:rate > 0
          ||| % { g: g, sel: sel, lag: cfg.ingestLagSeconds },
          cfg.ingestLagFor,
          'The exporter on {{ $labels.instance }} falls behind the log.',
          'The newest event journaled on {{ $labels.instance }} is {{ $value | humanizeDuration }} old while lines keep coming (threshold %ds).' % cfg.ingestLagSeconds,
        ),
        alert(
          'MailtrailJournalErrors',
          'monitor',
          'sum by (%s) (increase(mailtrail_journal_errors_total{%s}[%s])) > 0' % [g, sel, cfg.journalErrorsWindow],
          cfg.journalErrorsFor,
          'The journal of {{ $labels.instance }} fails to commit.',
          'Journal commits on {{ $labels.instance }} keep failing (disk full or I/O errors); reading pauses until they succeed, so events and metrics fall behind.',
        ),
        alert(
          'MailtrailQueueCollectorDown',
          'monitor',
          'postfix_queue_up{%s} == 0' % sel,
          cfg.queueCollectorFor,
          'postqueue fails on {{ $labels.instance }}.',
          'The exporter on {{ $labels.instance }} cannot run postqueue -j: the queue metrics are missing and the queue alerts cannot fire.',
        ),
      ]),
    ],
  },
}
