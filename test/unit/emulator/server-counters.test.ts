import { MAX_INCOMING_CONNECTIONS, ServerCounters } from '../../../emulator/src/server-counters';

describe('ServerCounters', () => {
  test('counts statements of writes, finds, getMores and other commands as mongod does', () => {
    const counters = new ServerCounters();
    counters.countCommand('insert', { insert: 'c', documents: [{}, {}] });
    counters.countCommand('update', { update: 'c', updates: [{}] });
    counters.countCommand('delete', { delete: 'c', deletes: [{}, {}, {}] });
    counters.countCommand('find', { find: 'c' });
    counters.countCommand('getMore', { getMore: 1 });
    counters.countCommand('aggregate', { aggregate: 'c' });
    counters.countCommand('hello', { hello: 1 });
    const ops = counters.opcounters();
    expect(Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, Number(v)]))).toEqual({
      insert: 2,
      query: 1,
      update: 1,
      delete: 3,
      getmore: 1,
      command: 2,
    });
  });

  test('tracks open and created connections', () => {
    const counters = new ServerCounters();
    counters.connectionOpened();
    counters.connectionOpened();
    counters.connectionClosed();
    const connections = counters.connections();
    expect(connections.current.value).toBe(1);
    expect(connections.totalCreated.value).toBe(2);
    expect(connections.available.value).toBe(MAX_INCOMING_CONNECTIONS - 1);
  });
});
