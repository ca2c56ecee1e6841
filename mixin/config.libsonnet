// Everything a user may want to change lives here: override it with
//   (import 'mailtrail-mixin/mixin.libsonnet') + { _config+:: { ... } }
// Windows are Prometheus durations; ratios are fractions (0.05 = 5%).
{
  _config+:: {
    // Selects the exporters' series; every expression starts with it.
    mailtrailSelector: 'job="mailtrail"',
    // Labels that tell one exporter (one Postfix host) from another; every
    // aggregation keeps them, so alerts name the instance.
    groupLabels: 'job, instance',

    // The exporter labels non-tenant senders "other"; alerts per sender
    // domain look at these domains only (empty: every value but "other").
    tenantDomains: [],

    // Routing: the label names Alertmanager routes on and their values.
    severityLabel: 'severity',
    teamLabel: 'team',
    team: 'mail',
    severities: {
      security: 'critical',  // brute force, compromised account, journal tampering
      delivery: 'warning',  // bounces, deferrals, queues, volume, authentication results
      monitor: 'warning',  // the exporter itself
    },
    // Where the runbook lives; each alert links to its section.
    runbookURL: 'https://github.com/mailtrail/mailtrail/blob/main/mixin/runbook.md',

    // Rule evaluation interval of every group; null keeps Prometheus's global one.
    ruleInterval: null,

    // Brute force: the exporter counts IPs and users with more than
    // --auth.threshold failures within --auth.window (default 10 in 5m);
    // alert when more than this many are offenders for authFor.
    authOffendersThreshold: 0,
    authFor: '1m',

    // A possibly compromised account: a send offender (--auth.send-threshold
    // recipients within --auth.send-window) on an instance that saw
    // authentication failures within compromisedAuthWindow.
    compromisedAuthWindow: '1h',
    compromisedFor: '0m',

    // Outbound volume spike: the last outboundWindow's delivery rate per
    // sender domain above outboundSpikePercent of the same hour's average
    // over the previous outboundBaselineDays days.
    outboundSelector: 'transport="smtp", status!="deferred"',
    outboundWindow: '1h',
    outboundBaselineDays: 7,
    outboundSpikePercent: 300,
    outboundMinPerHour: 100,  // ignore domains that send less than this
    outboundFor: '15m',

    // Queues (from postqueue -j at scrape time).
    queueActiveThreshold: 1000,
    queueDeferredThreshold: 500,
    queueFor: '15m',
    queueOldestHours: 24,
    queueOldestSelector: 'queue=~"active|deferred|incoming"',

    // Bounce and deferral ratios per sender domain.
    deliveryWindow: '1h',
    bounceRatioThreshold: 0.05,
    deferralRatioThreshold: 0.05,
    deliveryMinPerWindow: 50,  // attempts within deliveryWindow before a ratio counts
    deliveryFor: '15m',

    // DKIM/SPF/DMARC: failed verifications over every verification (DKIM's
    // "signed" is signing, not a verification).
    policyWindow: '1h',
    policyFailResults: 'fail|permerror',
    policyFailRatioThreshold: 0.2,
    policyMinPerWindow: 50,
    policyFor: '30m',

    // The monitor itself.
    exporterDownFor: '5m',
    noLogLinesWindow: '15m',
    noLogLinesFor: '5m',
    unparsedWindow: '1h',
    unparsedRatioThreshold: 0.01,
    unparsedFor: '30m',
    ingestLagSeconds: 300,
    ingestLagFor: '10m',
    journalErrorsWindow: '10m',
    journalErrorsFor: '5m',
    // Longer than --journal.verify-interval (1h) so one failure is seen.
    journalVerifyWindow: '3h',
    queueCollectorFor: '10m',

    // Shipping to the fleet store: the oldest unshipped event older than
    // shipLagSeconds while the backlog grew over shipLagWindow; send errors
    // within shipErrorsWindow for shipErrorsFor; any refused row.
    shipLagSeconds: 600,
    shipLagWindow: '15m',
    shipLagFor: '10m',
    shipErrorsWindow: '10m',
    shipErrorsFor: '10m',
    shipRejectedWindow: '1h',

    // Dashboards.
    dashboardTags: ['mailtrail', 'postfix'],
    dashboardPrefix: 'Mailtrail / ',
    dashboardRefresh: '30s',
    dashboardTimezone: 'utc',
    dashboardUIDPrefix: 'mailtrail-',
    // The datasource plugin (contract B) and the exporters' Prometheus job.
    pluginID: 'mailtrail-postfix-datasource',
  },
}
