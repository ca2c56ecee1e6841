// One file per dashboard: jsonnet -m provisioning/dashboards dashboards.jsonnet
(import 'mixin.libsonnet').grafanaDashboards
