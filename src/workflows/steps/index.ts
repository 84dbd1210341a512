// The step of every phase that has work, for the main loop.
import * as changeEventSteps from './changeEvents';
import * as commitSteps from './commit';
import type { RunningPhase, Step } from './context';
import * as copySteps from './copy';

export const STEPS: Record<RunningPhase, Step> = {
  blockDestination: copySteps.blockDestination,
  catalog: copySteps.catalog,
  planning: copySteps.planning,
  copy: copySteps.copy,
  indexes: copySteps.indexes,
  changeEvents: changeEventSteps.changeEvents,
  commitBlockSource: commitSteps.commitBlockSource,
  commitPoint: commitSteps.commitPoint,
  commitDrain: commitSteps.commitDrain,
  commitFinalize: commitSteps.commitFinalize,
  commitWritablePoint: commitSteps.commitWritablePoint,
  commitUnblock: commitSteps.commitUnblock,
  reverseBlockDestination: commitSteps.reverseBlockDestination,
  reverseRelaxIndexes: commitSteps.reverseRelaxIndexes,
  reset: commitSteps.reset,
};

export type { RunningPhase, StepContext, StepOutcome } from './context';
