// What serverStatus reports about the server's own activity: `opcounters` (as mongod counts
// them: one `insert` per document, one `update`/`delete` per statement, one `query` per find, one
// `getmore` per getMore, one `command` per other command) and `connections`.
import { type Document, Int32, Long } from 'bson';

/** The commands whose statements mongod counts under their own opcounter, not `command`. */
const WRITE_ARRAYS: Record<string, { counter: 'insert' | 'update' | 'delete'; field: string }> = {
  insert: { counter: 'insert', field: 'documents' },
  update: { counter: 'update', field: 'updates' },
  delete: { counter: 'delete', field: 'deletes' },
};

/** mongod's default `net.maxIncomingConnections` reported as `available` plus `current`. */
export const MAX_INCOMING_CONNECTIONS = 838_860;

export class ServerCounters {
  insert = 0;
  query = 0;
  update = 0;
  delete = 0;
  getmore = 0;
  command = 0;
  currentConnections = 0;
  totalConnections = 0;

  /** Counts one command as mongod's opcounters would. */
  countCommand(commandName: string, command: Document): void {
    const lower = commandName.toLowerCase();
    const write = WRITE_ARRAYS[lower];
    if (write) {
      const statements = command[write.field];
      this[write.counter] += Array.isArray(statements) ? statements.length : 0;
      return;
    }
    if (lower === 'find') this.query++;
    else if (lower === 'getmore') this.getmore++;
    else this.command++;
  }

  connectionOpened(): void {
    this.currentConnections++;
    this.totalConnections++;
  }

  connectionClosed(): void {
    if (this.currentConnections > 0) this.currentConnections--;
  }

  /** The `opcounters` section: Int64 counts, as mongod 5.0+ reports them. */
  opcounters(): Document {
    return {
      insert: Long.fromNumber(this.insert),
      query: Long.fromNumber(this.query),
      update: Long.fromNumber(this.update),
      delete: Long.fromNumber(this.delete),
      getmore: Long.fromNumber(this.getmore),
      command: Long.fromNumber(this.command),
    };
  }

  /** The `connections` section. */
  connections(): Document {
    return {
      current: new Int32(this.currentConnections),
      available: new Int32(MAX_INCOMING_CONNECTIONS - this.currentConnections),
      totalCreated: new Int32(this.totalConnections),
      rejected: new Int32(0),
      active: new Int32(Math.min(1, this.currentConnections)),
    };
  }
}
