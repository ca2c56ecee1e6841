import { useEffect, useState } from 'react';
import { SelectableValue } from '@grafana/data';

import type { DataSource } from '../datasource';
import { VariableResource } from '../types';

export interface ResourceOptions {
  options: Array<SelectableValue<string>>;
  loading: boolean;
  error?: string;
}

/**
 * Loads one resource endpoint's values for a Select once `enabled` becomes
 * true, so an editor only asks for what the visible fields need. Template
 * variables are offered first: a dashboard author picks `$user` as easily as
 * a user.
 */
export function useResourceOptions(
  datasource: DataSource,
  resource: VariableResource,
  enabled: boolean,
  format: (value: string) => string = (v) => v
): ResourceOptions {
  const [state, setState] = useState<ResourceOptions>({ options: [], loading: false });

  useEffect(() => {
    if (!enabled) {
      return;
    }
    let cancelled = false;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    datasource
      .getResourceValues(resource)
      .then((values) => {
        if (!cancelled) {
          setState({ options: values.map((v) => toOption(format(v))), loading: false });
        }
      })
      .catch((err: unknown) => {
        if (!cancelled) {
          setState({ options: [], loading: false, error: describeError(err) });
        }
      });
    return () => {
      cancelled = true;
    };
    // format is a presentation detail; re-fetching when its identity changes
    // would ask the exporters again on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [datasource, resource, enabled]);

  return state;
}

export function toOption(value: string): SelectableValue<string> {
  return { label: value, value };
}

/** The message of a fetch error: Grafana's FetchError keeps it in data.message. */
export function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { data?: { message?: unknown }; message?: unknown; statusText?: unknown };
    for (const m of [e.data?.message, e.message, e.statusText]) {
      if (typeof m === 'string' && m !== '') {
        return m;
      }
    }
  }
  return String(err);
}
