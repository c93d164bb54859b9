/**
 * What a Toxiproxy API failure says, in one line. The real Toxiproxy answers an error with a
 * JSON body `{"error": "..."}`; toxiproxy-node-client 4 (fetch) reports only the status
 * ("Request failed with status code 400"), older versions (axios) kept the body on `response`.
 */
export function describeToxiproxyError(err: unknown): string {
  const e = err as { response?: { data?: { error?: string } }; message?: string } | null | undefined;
  return e?.response?.data?.error ?? e?.message ?? String(err);
}
