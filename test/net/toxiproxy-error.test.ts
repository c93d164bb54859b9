import { describe, expect, it } from 'vitest';
import { describeToxiproxyError } from '../../src/net/toxiproxy-error.ts';

describe('describeToxiproxyError', () => {
  it("prefers Toxiproxy's own error body, then the error message, then the value itself", () => {
    expect(describeToxiproxyError({ response: { data: { error: 'toxic already exists' } }, message: 'Request failed with status code 409' })).toBe('toxic already exists');
    expect(describeToxiproxyError(new Error('Request failed with status code 400'))).toBe('Request failed with status code 400');
    expect(describeToxiproxyError('ECONNREFUSED')).toBe('ECONNREFUSED');
    expect(describeToxiproxyError(null)).toBe('null');
  });
});
