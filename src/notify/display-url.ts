/**
 * A webhook URL as logs and the CLI show it: scheme, host and path only. Credentials in the
 * user-info part or a token in the query string stay out of logs.
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
