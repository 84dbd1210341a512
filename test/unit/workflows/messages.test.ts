import { startRuleViolations, type StartRequest } from '../../../src/workflows/messages';

describe('start rules', () => {
  const request = (options: Partial<StartRequest['options']> = {}, source = 'cluster0'): StartRequest => ({
    direction: { source: source as 'cluster0', destination: 'cluster1' },
    options: {
      reversible: false,
      writeBlocking: 'destinationOnly',
      buildIndexes: 'afterDataCopy',
      includeNamespaces: [],
      excludeNamespaces: [],
      verificationEnabled: true,
      preExistingDestinationData: false,
      ...options,
    },
  });

  it('accepts the defaults and a complete reversible request', () => {
    expect(startRuleViolations(request())).toEqual([]);
    expect(startRuleViolations(request({ reversible: true, writeBlocking: 'sourceAndDestination' }))).toEqual(
      [],
    );
  });

  it('names every broken rule', () => {
    expect(startRuleViolations(request({}, 'cluster1'))).toEqual([
      'source and destination must be different clusters',
    ]);
    const problems = startRuleViolations(
      request({
        reversible: true,
        writeBlocking: 'destinationOnly',
        includeNamespaces: [{ database: 'a' }],
        buildIndexes: 'never',
        preExistingDestinationData: true,
      }),
    );
    expect(problems).toHaveLength(4);
    expect(problems.join(' ')).toMatch(
      /enableUserWriteBlocking.*includeNamespaces.*never.*preExistingDestinationData/,
    );
    expect(startRuleViolations(request({ preExistingDestinationData: true }))).toEqual([
      'preExistingDestinationData requires includeNamespaces or excludeNamespaces',
    ]);
  });
});
