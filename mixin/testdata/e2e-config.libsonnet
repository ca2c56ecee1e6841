// The end-to-end alert test's override: the same rules with windows short
// enough for a test that runs in about a minute (the exporter runs with
// --auth.window=20s, Prometheus scrapes and evaluates every second).
{
  _config+:: {
    ruleInterval: '1s',
    authFor: '2s',
    deliveryWindow: '30s',
    deliveryMinPerWindow: 5,
    deliveryFor: '2s',
  },
}
