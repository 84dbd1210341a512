import { progressResponse } from '../../../src/api/progressResponse';
import { idleProgress } from '../../../src/workflows/progress';
import type { WorkflowProgress } from '../../../src/workflows/messages';

const hosts = { cluster0: 'a.example:27017', cluster1: 'b.example:27018' };

describe('progress response', () => {
  it('answers IDLE with every field but state and canCommit null, and no warnings key', () => {
    const response = progressResponse({ ...idleProgress(), mongosyncID: 'sync1', syncUuid: 'u' }, hosts);
    expect(response).toEqual({
      state: 'IDLE',
      canCommit: false,
      canWrite: null,
      info: null,
      lagTimeSeconds: null,
      lag: null,
      totalEventsApplied: null,
      estimatedSecondsToCEACatchup: null,
      ceaStage: null,
      estimatedOplogTimeRemaining: null,
      collectionCopy: null,
      indexBuilding: null,
      directionMapping: null,
      source: null,
      destination: null,
      verification: null,
      mongosyncID: null,
      coordinatorID: null,
    });
  });

  it('shows an IDLE sync’s warnings, such as a rejected signal', () => {
    const response = progressResponse({ ...idleProgress(), warnings: ['signal commit ignored'] }, hosts);
    expect(response.warnings).toEqual(['signal commit ignored']);
  });

  it('maps the direction to the contract’s directionMapping with host lists, never internal fields', () => {
    const running: WorkflowProgress = {
      ...idleProgress(),
      state: 'RUNNING',
      info: 'collection copy',
      canWrite: false,
      direction: { source: 'cluster1', destination: 'cluster0' },
      mongosyncID: 'sync1',
      clusterFingerprint: 'f00',
      syncUuid: 'uuid-1',
    };
    const response = progressResponse(running, hosts);
    expect(response).toMatchObject({
      state: 'RUNNING',
      directionMapping: { Source: 'cluster1: b.example:27018', Destination: 'cluster0: a.example:27017' },
      mongosyncID: 'sync1',
      coordinatorID: 'sync1',
    });
    expect(response).not.toHaveProperty('direction');
    expect(response).not.toHaveProperty('clusterFingerprint');
    expect(response).not.toHaveProperty('syncUuid');
    expect(response).not.toHaveProperty('warnings');
  });
});
