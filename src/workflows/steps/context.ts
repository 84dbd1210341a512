// What a phase's step may use of the running sync: its state, who it is, and the workflow's
// publishing and cancellation hooks. Steps are plain functions of this context.
import type { CancellationScope } from '@temporalio/workflow';
import type { SyncRef } from '../../activities/contract';
import type { Direction, SyncOptions } from '../../domain';
import type { SyncWorkflowState } from '../state';
import type { SyncPhase } from '../stateTable';

/** A step either finished its phase's work (the table's next phase follows) or has more of it. */
export type StepOutcome = 'done' | 'again';

/** Phases with work for the main loop (IDLE and COMMITTED only wait for commands). */
export type RunningPhase = Exclude<SyncPhase, 'idle' | 'committed'>;

export interface StepContext {
  readonly state: SyncWorkflowState;
  readonly direction: Direction;
  readonly options: SyncOptions;
  /** This sync as activities that write check it: its record is on the current destination. */
  syncRef(): SyncRef;
  /** Publishes progress now (long steps report as they go). */
  publish(): void;
  /** Registers the scope a pause cancels. */
  setCancellableScope(scope: CancellationScope): void;
  /** Whether a fan-out should stop launching work (paused, or the history should continue as new). */
  shouldStopFanOut(): boolean;
}

export type Step = (context: StepContext) => Promise<StepOutcome>;
