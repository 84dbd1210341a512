import { OperationRegistry } from '../../../emulator/src/operations';
import type { ConnectionState } from '../../../emulator/src/commands/context';

const conn: ConnectionState = {
  id: 7,
  principals: [],
  authConversations: new Map(),
  remoteAddress: '1.2.3.4:5',
};

describe('OperationRegistry', () => {
  test('describes running operations as currentOp does and forgets ended ones', () => {
    const registry = new OperationRegistry();
    const find = registry.begin(conn, 'db', 'find', { find: 'c', filter: {}, $clusterTime: {} });
    const more = registry.begin(conn, 'db', 'getMore', { getMore: 1, collection: 'c' });
    const [first, second] = registry.describe('h:1');
    expect(first).toMatchObject({
      type: 'op',
      host: 'h:1',
      desc: 'conn7',
      op: 'query',
      ns: 'db.c',
      active: true,
    });
    expect(first.command).toEqual({ find: 'c', filter: {} });
    expect(second).toMatchObject({ op: 'getmore', ns: 'db.c' });
    registry.end(find);
    registry.end(more);
    expect(registry.describe('h:1')).toEqual([]);
  });

  test('kill rejects the operation with Interrupted', async () => {
    const registry = new OperationRegistry();
    const op = registry.begin(conn, 'admin', 'hello', { hello: 1 });
    expect(registry.kill(op.opid)).toBe(op);
    await expect(op.killed).rejects.toMatchObject({ code: 11601 });
    expect(registry.kill(12345)).toBeUndefined();
  });
});
