// The API has no authentication, as mongosync's has none: bound beyond the loopback interface,
// anyone who reaches the port can start, commit or reverse the sync.
import { isIP } from 'node:net';

/** Whether `host` only listens on this machine's loopback interface. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  // IPv4-mapped IPv6 loopback (::ffff:127.0.0.1).
  return /^::ffff:127\./.test(bare);
}

/** The warning a bind address deserves, or null for a loopback one. */
export function bindWarning(host: string): string | null {
  if (isLoopback(host)) return null;
  return (
    `the REST API listens on ${host}, beyond this machine: it has no authentication (as mongosync's ` +
    'has none), so anyone who can reach the port can start, pause, commit or reverse the sync. ' +
    'Bind it to 127.0.0.1 (the default) and reach it through SSH or a proxy that authenticates'
  );
}
