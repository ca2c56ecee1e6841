import React, { useState } from 'react';
import { DataSourceSettings } from '@grafana/data';
import { render, screen } from '@testing-library/react';

import { newUser } from '../test/helpers';
import { MailtrailOptions, MailtrailSecureJsonData } from '../types';
import { ConfigEditor, validateDuration, validateExporters, validateUrl } from './ConfigEditor';

type Settings = DataSourceSettings<MailtrailOptions, MailtrailSecureJsonData>;

function settings(jsonData: MailtrailOptions = {}, secureJsonFields: Record<string, boolean> = {}): Settings {
  return {
    id: 1,
    uid: 'mailtrail-uid',
    orgId: 1,
    name: 'mailtrail',
    type: 'mailtrail-postfix-datasource',
    typeName: 'mailtrail',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData,
    secureJsonFields,
  } as Settings;
}

function setup(initial: Settings) {
  const onOptionsChange = jest.fn();
  // Grafana keeps the settings; the harness plays that part so edits accumulate.
  function Harness() {
    const [options, setOptions] = useState(initial);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(o) => {
          setOptions(o);
          onOptionsChange(o);
        }}
      />
    );
  }
  render(<Harness />);
  const last = (): Settings => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];
  return { onOptionsChange, last, user: newUser() };
}

describe('ConfigEditor', () => {
  it('sets the fleet store for central mode and flags a bad URL', async () => {
    const { last, user } = setup(settings());
    const input = screen.getByLabelText(/^VictoriaLogs URL/);
    await user.type(input, 'ftp://vl');
    expect(screen.getByText('Use an http:// or https:// URL')).toBeInTheDocument();
    await user.clear(input);
    await user.type(input, 'http://victorialogs:9428');
    expect(last().jsonData.victoriaLogsUrl).toBe('http://victorialogs:9428');
    expect(screen.queryByText('Where are your exporters?')).not.toBeInTheDocument();
    await user.type(screen.getByLabelText(/^Bearer token/), 'vl-secret');
    expect(last().secureJsonData?.victoriaLogsToken).toBe('vl-secret');
  });

  it('asks where the exporters are when none is set', () => {
    setup(settings());
    expect(screen.getByText('Where are your exporters?')).toBeInTheDocument();
  });

  it('adds an exporter row and fills in its name and URL', async () => {
    const { user, last } = setup(settings());
    await user.click(screen.getByRole('button', { name: /Add exporter/ }));
    expect(last().jsonData.exporters).toEqual([{ name: '', url: '' }]);
    await user.type(screen.getByLabelText('Exporter 1 name'), 'mx1');
    // URLs are pasted: one change instead of a render per key
    await user.click(screen.getByLabelText('Exporter 1 URL'));
    await user.paste('https://mx1.example.org:9744');
    expect(last().jsonData.exporters).toEqual([{ name: 'mx1', url: 'https://mx1.example.org:9744' }]);
    expect(screen.queryByText('Where are your exporters?')).not.toBeInTheDocument();
  });

  it('removes the row asked for and keeps the others', async () => {
    const { user, last } = setup(
      settings({
        exporters: [
          { name: 'mx1', url: 'http://mx1:9744' },
          { name: 'mx2', url: 'http://mx2:9744' },
          { name: 'mx3', url: 'http://mx3:9744' },
        ],
      })
    );
    await user.click(screen.getByRole('button', { name: 'Remove exporter 2' }));
    expect(last().jsonData.exporters?.map((e) => e.name)).toEqual(['mx1', 'mx3']);
  });

  it('points at a bad URL and a duplicate name', () => {
    setup(
      settings({
        exporters: [
          { name: 'mx1', url: 'mx1.example.org:9744' },
          { name: 'mx1', url: 'http://mx1b:9744' },
        ],
      })
    );
    expect(screen.getAllByText('Names must be unique')).toHaveLength(2);
    expect(screen.getByText(/Use an http:\/\/ or https:\/\/ URL|Not a URL/)).toBeInTheDocument();
  });

  it('sets discovery, timeout and concurrency in jsonData', async () => {
    const { user, last } = setup(settings());
    await user.click(screen.getByLabelText(/^Prometheus URL/));
    await user.paste('http://prometheus:9090');
    await user.click(screen.getByLabelText(/^Selector/));
    await user.paste('{job="mailtrail"}');
    await user.type(screen.getByLabelText(/^Timeout/), '10s');
    await user.type(screen.getByLabelText(/^Concurrency/), '4');
    expect(last().jsonData).toEqual({
      discovery: { prometheusUrl: 'http://prometheus:9090', selector: '{job="mailtrail"}' },
      timeout: '10s',
      maxConcurrency: 4,
    });
  });

  it('shows a timeout Go cannot parse', async () => {
    const { user } = setup(settings());
    await user.type(screen.getByLabelText(/^Timeout/), '5 seconds');
    expect(screen.getByText('A duration such as 5s, 1m or 1m30s')).toBeInTheDocument();
  });

  it('keeps the token in secureJsonData, never in jsonData', async () => {
    const { user, last } = setup(settings());
    await user.type(screen.getByLabelText(/^Token/), 's3cret');
    expect(last().secureJsonData).toEqual({ token: 's3cret' });
    expect(JSON.stringify(last().jsonData)).not.toContain('s3cret');
  });

  it('resets a stored token so it can be replaced', async () => {
    const { user, last } = setup(settings({}, { token: true, tlsCACert: true }));
    // a stored secret is shown as configured, its value unknown to the browser
    expect(screen.getByLabelText(/^Token/)).toBeDisabled();
    await user.click(screen.getAllByRole('button', { name: 'Reset' })[0]);
    expect(last().secureJsonFields).toEqual({ token: false, tlsCACert: true });
    expect(last().secureJsonData).toEqual({ token: '' });
    await user.type(screen.getByLabelText(/^Token/), 'new');
    expect(last().secureJsonData).toEqual({ token: 'new' });
  });

  it('keeps TLS material in secureJsonData', async () => {
    const { user, last } = setup(settings());
    await user.type(screen.getByLabelText(/^Client key/), 'KEY');
    await user.type(screen.getByLabelText(/^Client certificate/), 'CERT');
    await user.type(screen.getByLabelText(/^CA certificate/), 'CA');
    expect(last().secureJsonData).toEqual({ tlsClientKey: 'KEY', tlsClientCert: 'CERT', tlsCACert: 'CA' });
  });
});

describe('validation', () => {
  it('accepts http and https URLs only', () => {
    expect(validateUrl('https://mx1.example.org:9744')).toBeUndefined();
    expect(validateUrl('http://[::1]:9744/')).toBeUndefined();
    expect(validateUrl('ftp://mx1')).toBe('Use an http:// or https:// URL');
    expect(validateUrl('')).toBe('A URL is needed');
    expect(validateUrl('not a url')).toMatch(/^Not a URL/);
  });

  it('accepts what Go time.ParseDuration accepts', () => {
    for (const ok of ['5s', '1m30s', '250ms', '1.5h', undefined, '']) {
      expect(validateDuration(ok)).toBeUndefined();
    }
    for (const bad of ['5', 's', '5 s', '-5s', '5d']) {
      expect(validateDuration(bad)).toBeDefined();
    }
  });

  it('leaves an untouched new row alone but needs a name once a URL is typed', () => {
    expect(validateExporters([{ name: '', url: '' }])).toEqual([{}]);
    expect(validateExporters([{ name: '', url: 'http://mx1:9744' }])).toEqual([
      { name: 'A name is needed', url: undefined },
    ]);
  });
});
