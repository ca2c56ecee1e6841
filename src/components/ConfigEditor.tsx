import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Alert, Button, Field, FieldSet, IconButton, Input, SecretInput, SecretTextArea, Stack } from '@grafana/ui';

import {
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_TIMEOUT,
  DiscoverySettings,
  ExporterEntry,
  MailtrailOptions,
  MailtrailSecureJsonData,
} from '../types';

type Props = DataSourcePluginOptionsEditorProps<MailtrailOptions, MailtrailSecureJsonData>;
type SecretKey = keyof MailtrailSecureJsonData;

/** Go's time.ParseDuration syntax, which the backend reads the timeout with. */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const MAX_CONCURRENCY = 100;

export function validateUrl(url: string): string | undefined {
  if (url.trim() === '') {
    return 'A URL is needed';
  }
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return 'Use an http:// or https:// URL';
    }
  } catch {
    return 'Not a URL (e.g. https://mx1.example.org:9744)';
  }
  return undefined;
}

export function validateDuration(d: string | undefined): string | undefined {
  if (d === undefined || d === '' || GO_DURATION.test(d)) {
    return undefined;
  }
  return 'A duration such as 5s, 1m or 1m30s';
}

export function validateConcurrency(n: number | undefined): string | undefined {
  if (n === undefined || (Number.isInteger(n) && n >= 1 && n <= MAX_CONCURRENCY)) {
    return undefined;
  }
  return `A whole number from 1 to ${MAX_CONCURRENCY}`;
}

/** Per-row problems of the exporter list: names must be set and unique, URLs valid. */
export function validateExporters(rows: ExporterEntry[]): Array<{ name?: string; url?: string }> {
  const seen = new Map<string, number>();
  rows.forEach((r) => seen.set(r.name.trim(), (seen.get(r.name.trim()) ?? 0) + 1));
  return rows.map((r) => {
    const untouched = r.name === '' && r.url === '';
    if (untouched) {
      return {};
    }
    const name = r.name.trim();
    return {
      name: name === '' ? 'A name is needed' : (seen.get(name) ?? 0) > 1 ? 'Names must be unique' : undefined,
      url: validateUrl(r.url),
    };
  });
}

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData ?? {};
  const exporters = jsonData.exporters ?? [];
  const discovery = jsonData.discovery ?? {};
  const secureJsonFields = options.secureJsonFields ?? {};
  const secureJsonData = options.secureJsonData ?? {};
  const problems = validateExporters(exporters);

  const setJson = (patch: Partial<MailtrailOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });
  const setExporters = (rows: ExporterEntry[]) => setJson({ exporters: rows });
  const setExporter = (i: number, patch: Partial<ExporterEntry>) =>
    setExporters(exporters.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const setDiscovery = (patch: Partial<DiscoverySettings>) => setJson({ discovery: { ...discovery, ...patch } });

  const setSecret = (key: SecretKey, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, [key]: value } });
  // Resetting forgets the stored secret: Grafana deletes a key whose field is
  // marked unset and whose new value is empty.
  const resetSecret = (key: SecretKey) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, [key]: false },
      secureJsonData: { ...secureJsonData, [key]: '' },
    });
  const secretProps = (key: SecretKey) => ({
    isConfigured: Boolean(secureJsonFields[key]),
    value: secureJsonData[key] ?? '',
    onReset: () => resetSecret(key),
  });

  const storeUrl = jsonData.victoriaLogsUrl ?? '';
  const storeError = storeUrl.trim() === '' ? undefined : validateUrl(storeUrl);
  const nothingToAsk =
    exporters.every((r) => r.url.trim() === '') && !discovery.prometheusUrl?.trim() && storeUrl.trim() === '';
  const timeoutError = validateDuration(jsonData.timeout);
  const refreshError = validateDuration(discovery.refreshInterval);
  const concurrencyError = validateConcurrency(jsonData.maxConcurrency);

  return (
    <>
      {nothingToAsk && (
        <Alert severity="info" title="Where are your exporters?">
          List the mailtrail exporters below, or let a Prometheus server that scrapes them tell the plugin where they
          are.
        </Alert>
      )}

      <FieldSet label="Exporters">
        {exporters.map((row, i) => (
          <Stack key={i} direction="row" gap={1} alignItems="flex-start">
            <Field label={i === 0 ? 'Name' : undefined} invalid={Boolean(problems[i].name)} error={problems[i].name}>
              <Input
                aria-label={`Exporter ${i + 1} name`}
                placeholder="mx1"
                width={20}
                value={row.name}
                onChange={(e: ChangeEvent<HTMLInputElement>) => setExporter(i, { name: e.currentTarget.value })}
              />
            </Field>
            <Field label={i === 0 ? 'URL' : undefined} invalid={Boolean(problems[i].url)} error={problems[i].url}>
              <Input
                aria-label={`Exporter ${i + 1} URL`}
                placeholder="https://mx1.example.org:9744"
                width={48}
                value={row.url}
                onChange={(e: ChangeEvent<HTMLInputElement>) => setExporter(i, { url: e.currentTarget.value })}
              />
            </Field>
            <Field label={i === 0 ? '\u00a0' : undefined}>
              <IconButton
                name="trash-alt"
                tooltip={`Remove exporter ${i + 1}`}
                onClick={() => setExporters(exporters.filter((_, j) => j !== i))}
              />
            </Field>
          </Stack>
        ))}
        <Button variant="secondary" icon="plus" onClick={() => setExporters([...exporters, { name: '', url: '' }])}>
          Add exporter
        </Button>
      </FieldSet>

      <FieldSet label="Discovery">
        <Field
          label="Prometheus URL"
          description="A Prometheus server that scrapes the exporters; its targets become exporters, named by their instance label."
          invalid={Boolean(discovery.prometheusUrl) && Boolean(validateUrl(discovery.prometheusUrl ?? ''))}
          error={discovery.prometheusUrl ? validateUrl(discovery.prometheusUrl) : undefined}
        >
          <Input
            id="mailtrail-prometheus-url"
            placeholder="http://prometheus:9090"
            width={48}
            value={discovery.prometheusUrl ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setDiscovery({ prometheusUrl: e.currentTarget.value })}
          />
        </Field>
        <Field label="Selector" description="Which targets are mailtrail exporters.">
          <Input
            id="mailtrail-selector"
            placeholder='{job="mailtrail"}'
            width={48}
            value={discovery.selector ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setDiscovery({ selector: e.currentTarget.value })}
          />
        </Field>
        <Field label="Refresh interval" invalid={Boolean(refreshError)} error={refreshError}>
          <Input
            id="mailtrail-refresh-interval"
            placeholder="1m"
            width={12}
            value={discovery.refreshInterval ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setDiscovery({ refreshInterval: e.currentTarget.value })}
          />
        </Field>
      </FieldSet>

      <FieldSet label="Fleet store (central mode)">
        <Field
          label="VictoriaLogs URL"
          description="The store the exporters ship their journals to. When set, trace, events, logins and stats are answered from it in one query each; offenders and instances still ask the exporters."
          invalid={Boolean(storeError)}
          error={storeError}
        >
          <Input
            id="mailtrail-victorialogs-url"
            placeholder="http://victorialogs:9428"
            width={48}
            value={storeUrl}
            onChange={(e: ChangeEvent<HTMLInputElement>) =>
              setJson({ victoriaLogsUrl: e.currentTarget.value || undefined })
            }
          />
        </Field>
        <Field label="User" description="Basic auth for the store, with the password below.">
          <Input
            id="mailtrail-victorialogs-user"
            width={24}
            value={jsonData.victoriaLogsUser ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) =>
              setJson({ victoriaLogsUser: e.currentTarget.value || undefined })
            }
          />
        </Field>
        <Field label="Password">
          <SecretInput
            id="mailtrail-victorialogs-password"
            width={24}
            {...secretProps('victoriaLogsPassword')}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setSecret('victoriaLogsPassword', e.currentTarget.value)}
          />
        </Field>
        <Field label="Bearer token" description="Sent to the store instead of basic auth when set.">
          <SecretInput
            id="mailtrail-victorialogs-token"
            width={48}
            {...secretProps('victoriaLogsToken')}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setSecret('victoriaLogsToken', e.currentTarget.value)}
          />
        </Field>
      </FieldSet>

      <FieldSet label="Connection">
        <Field
          label="Timeout"
          description="How long to wait for one exporter; the others still answer."
          invalid={Boolean(timeoutError)}
          error={timeoutError}
        >
          <Input
            id="mailtrail-timeout"
            placeholder={DEFAULT_TIMEOUT}
            width={12}
            value={jsonData.timeout ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setJson({ timeout: e.currentTarget.value || undefined })}
          />
        </Field>
        <Field
          label="Concurrency"
          description="How many exporters are asked at once."
          invalid={Boolean(concurrencyError)}
          error={concurrencyError}
        >
          <Input
            id="mailtrail-max-concurrency"
            type="number"
            min={1}
            max={MAX_CONCURRENCY}
            placeholder={String(DEFAULT_MAX_CONCURRENCY)}
            width={12}
            value={jsonData.maxConcurrency ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => {
              const v = e.currentTarget.value;
              setJson({ maxConcurrency: v === '' ? undefined : Number(v) });
            }}
          />
        </Field>
      </FieldSet>

      <FieldSet label="Authentication">
        <Field label="Token" description="Sent to every exporter as Authorization: Bearer <token>.">
          <SecretInput
            id="mailtrail-token"
            placeholder="API token"
            width={48}
            {...secretProps('token')}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setSecret('token', e.currentTarget.value)}
          />
        </Field>
      </FieldSet>

      <FieldSet label="TLS">
        <Field label="CA certificate" description="PEM; trust exporters whose certificates this CA signed.">
          <SecretTextArea
            id="mailtrail-tls-ca-cert"
            placeholder="-----BEGIN CERTIFICATE-----"
            rows={4}
            cols={60}
            {...secretProps('tlsCACert')}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecret('tlsCACert', e.currentTarget.value)}
          />
        </Field>
        <Field label="Client certificate" description="PEM; for exporters that require client certificates.">
          <SecretTextArea
            id="mailtrail-tls-client-cert"
            placeholder="-----BEGIN CERTIFICATE-----"
            rows={4}
            cols={60}
            {...secretProps('tlsClientCert')}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecret('tlsClientCert', e.currentTarget.value)}
          />
        </Field>
        <Field label="Client key" description="PEM, unencrypted.">
          <SecretTextArea
            id="mailtrail-tls-client-key"
            placeholder="-----BEGIN PRIVATE KEY-----"
            rows={4}
            cols={60}
            {...secretProps('tlsClientKey')}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecret('tlsClientKey', e.currentTarget.value)}
          />
        </Field>
      </FieldSet>
    </>
  );
}
