// Every command the emulator serves, by name.
import type { CommandTable } from './context';
import { adminCommands } from './admin';
import { applyOps } from './apply-ops';
import { catalogCommands } from './catalog';
import { crudCommands } from './crud';
import { readCommands } from './read';
import { transactionCommands } from './transactions';

export const builtinCommands: CommandTable = {
  ...adminCommands,
  ...crudCommands,
  ...readCommands,
  ...catalogCommands,
  ...transactionCommands,
  applyOps,
};
