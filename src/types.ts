import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

// The query model mirrors pkg/datasource's Go struct (contract B); the JSON
// names are shared with the backend, so they must not drift.

export type QueryType = 'trace' | 'events' | 'logins' | 'offenders' | 'instances' | 'stats';

export type LoginOutcome = '' | 'success' | 'failure';

export interface MailtrailQuery extends DataQuery {
  queryType?: QueryType;
  /** Only this exporter (a name from the settings or from discovery). */
  instance?: string;
  // trace
  queueId?: string;
  messageId?: string;
  // events + stats
  /** Comma list of event kinds. */
  kind?: string;
  saslUsername?: string;
  clientIp?: string;
  sender?: string;
  recipient?: string;
  status?: string;
  text?: string;
  // logins
  user?: string;
  ip?: string;
  outcome?: LoginOutcome;
  limit?: number;
}

export const DEFAULT_LIMIT = 100;
/** The exporter API refuses larger limits (contract A). */
export const MAX_LIMIT = 1000;

export const DEFAULT_QUERY: Partial<MailtrailQuery> = {
  queryType: 'events',
  limit: DEFAULT_LIMIT,
};

/**
 * Every free-text field of the query: template variables are applied to each
 * one, so a dashboard can drive any filter.
 */
export const STRING_FIELDS = [
  'instance',
  'queueId',
  'messageId',
  'kind',
  'saslUsername',
  'clientIp',
  'sender',
  'recipient',
  'status',
  'text',
  'user',
  'ip',
  'outcome',
] as const satisfies ReadonlyArray<keyof MailtrailQuery>;

export type StringField = (typeof STRING_FIELDS)[number];

export interface ExporterEntry {
  name: string;
  url: string;
}

export interface DiscoverySettings {
  /** Prometheus base URL; the exporters are the targets of `up{selector}`. */
  prometheusUrl?: string;
  /** A series selector such as `{job="mailtrail"}`. */
  selector?: string;
  /** How often the target list is read again, a Go duration such as `1m`. */
  refreshInterval?: string;
}

export interface MailtrailOptions extends DataSourceJsonData {
  exporters?: ExporterEntry[];
  discovery?: DiscoverySettings;
  /** Per-exporter request timeout, a Go duration. */
  timeout?: string;
  /** How many exporters are asked at once. */
  maxConcurrency?: number;
  /**
   * Central mode: the fleet store (VictoriaLogs) the exporters ship to; when set,
   * trace, events, logins and stats are answered from it (docs/fleet.md).
   */
  victoriaLogsUrl?: string;
  /** Basic-auth user for the fleet store (its password is secure). */
  victoriaLogsUser?: string;
}

export interface MailtrailSecureJsonData {
  token?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
  tlsCACert?: string;
  /** The fleet store's basic-auth password or bearer token. */
  victoriaLogsPassword?: string;
  victoriaLogsToken?: string;
}

export const DEFAULT_TIMEOUT = '5s';
export const DEFAULT_MAX_CONCURRENCY = 10;

/** What a template variable of this datasource lists (resource endpoints of contract B). */
export type VariableResource = 'instances' | 'users' | 'domains';

export interface MailtrailVariableQuery extends DataQuery {
  resource: VariableResource;
}

/** The event kinds of pkg/parser in contract order (the journal's own kinds excluded). */
export const EVENT_KINDS = [
  'connect',
  'disconnect',
  'lost_connection',
  'tls',
  'auth_failure',
  'client',
  'login',
  'message_id',
  'queued',
  'delivery',
  'removed',
  'expired',
  'bounce_notice',
  'reject',
  'pickup',
  'postscreen',
  'policy',
  'warning',
  'stats',
  'notice',
  // A back end's verdict on a credential check (Dovecot auth, saslauthd, PAM): never an attempt of its own.
  'auth_backend',
  'unknown',
] as const;

/** Delivery statuses Postfix writes in status=. */
export const DELIVERY_STATUSES = ['sent', 'deferred', 'bounced', 'expired', 'undeliverable', 'deliverable'] as const;
