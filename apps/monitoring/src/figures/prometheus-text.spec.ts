import { parsePrometheusText, parseSampleLine } from './prometheus-text';

describe('reading the Prometheus text format', () => {
  it('reads what prom-client serves: comments, labels, histograms, special values', () => {
    const text = [
      '# HELP http_request_duration_seconds Duration of HTTP requests',
      '# TYPE http_request_duration_seconds histogram',
      'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/chunks/:hash",status="200"} 3',
      'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/chunks/:hash",status="200"} 7',
      'http_request_duration_seconds_sum{method="GET",route="/chunks/:hash",status="200"} 0.042',
      'process_cpu_user_seconds_total 1.5e-2',
      'nodejs_heap_size_total_bytes 12345 1700000000000',
      'weird{a="quote \\" backslash \\\\ newline \\n end",b=""} NaN',
      'minus{x="1"} -Inf',
      '',
    ].join('\n');
    const { samples, skippedLines } = parsePrometheusText(text);
    expect(skippedLines).toBe(0);
    expect(samples[0]).toEqual({ name: 'http_request_duration_seconds_bucket', labels: { le: '0.005', method: 'GET', route: '/chunks/:hash', status: '200' }, value: 3 });
    expect(samples[1].labels['le']).toBe('+Inf');
    expect(samples[3]).toEqual({ name: 'process_cpu_user_seconds_total', labels: {}, value: 0.015 });
    expect(samples[4].value).toBe(12345);
    expect(samples[5].labels).toEqual({ a: 'quote " backslash \\ newline \n end', b: '' });
    expect(samples[5].value).toBeNaN();
    expect(samples[6].value).toBe(-Infinity);
  });

  it('skips and counts lines it cannot read, keeping the rest', () => {
    const { samples, skippedLines } = parsePrometheusText('good 1\n{no_name="x"} 1\nbad{a="unterminated} 1\nbad2 one\nbad3{a=b} 2\ngood2{} 2');
    expect(samples.map((s) => s.name)).toEqual(['good', 'good2']);
    expect(skippedLines).toBe(4);
  });

  it('tolerates a trailing comma in labels', () => {
    expect(parseSampleLine('m{a="1",} 2')).toEqual({ name: 'm', labels: { a: '1' }, value: 2 });
  });
});
