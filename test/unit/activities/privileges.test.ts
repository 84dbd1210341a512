import { missingActions, requiredActions } from '../../../src/activities/privileges';
import { syncOptions } from '../../helpers/syncOptions';

describe('privileges', () => {
  const options = syncOptions();

  it('names the missing actions', () => {
    const required = requiredActions({
      direction: { source: 'cluster0', destination: 'cluster1' },
      options,
      purpose: 'start',
    });
    const privileges = [
      {
        resource: { db: '', collection: '' },
        actions: ['find', 'listCollections', 'listIndexes', 'collStats'],
      },
      { resource: { cluster: true }, actions: ['listDatabases'] },
    ];
    expect(missingActions(privileges, required.source)).toEqual(['changeStream']);
    expect(missingActions(privileges, required.destination)).toContain('setUserWriteBlockMode (cluster)');
    expect(
      missingActions(
        [
          {
            resource: { anyResource: true },
            actions: [...required.destination.database, ...required.destination.cluster],
          },
        ],
        required.destination,
      ),
    ).toEqual([]);
  });

  it('asks write blocking of the source only when it takes part', () => {
    const direction = { source: 'cluster0', destination: 'cluster1' } as const;
    const oneWay = requiredActions({ direction, options, purpose: 'start' });
    expect(oneWay.source.cluster).toEqual(['listDatabases']);
    const reversible = requiredActions({
      direction,
      options: { ...options, reversible: true },
      purpose: 'start',
    });
    expect(reversible.source.cluster).toContain('setUserWriteBlockMode');
    expect(reversible.source.database).toContain('insert');
  });
});
