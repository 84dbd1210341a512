// Every command the emulator serves, by name.
import type { CommandTable } from './context';
import { adminCommands } from './admin';
import { applyOps } from './apply-ops';
import { catalogCommands } from './catalog';
import { crudCommands } from './crud';
import { diagnosticCommands } from './diagnostics';
import { readCommands } from './read';
import { transactionCommands } from './transactions';
import { trackOperations } from '../operations';

export const builtinCommands: CommandTable = trackOperations({
  ...adminCommands,
  ...crudCommands,
  ...readCommands,
  ...catalogCommands,
  ...transactionCommands,
  applyOps,
  ...diagnosticCommands,
});
