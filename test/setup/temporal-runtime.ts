// Integration tests: the Temporal SDK's own logs at WARN and above only (its INFO lines about
// worker state changes would bury the test output).
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
} catch {
  // Already installed in this process by an earlier test file: keep that one.
}
