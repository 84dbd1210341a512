// Which bind addresses stay on this machine, and the warning for the others.
import { bindWarning, isLoopback } from '../../../src/api/bindAddress';

describe('bind address', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])(
    '%s is loopback: no warning',
    (host) => {
      expect(isLoopback(host)).toBe(true);
      expect(bindWarning(host)).toBeNull();
    },
  );

  it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'db-host.example', '128.0.0.1'])(
    '%s is reachable from elsewhere: warned that the API has no authentication',
    (host) => {
      expect(isLoopback(host)).toBe(false);
      expect(bindWarning(host)).toMatch(
        new RegExp(`listens on ${host.replace(/\./g, '\\.')}.*no authentication`),
      );
    },
  );
});
