// The mailtrail mixin: configuration, alerts, recording rules and
// dashboards, in the layout of the node-mixin.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'alerts/shipping.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
